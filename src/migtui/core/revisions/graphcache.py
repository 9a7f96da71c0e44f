"""The graph the last start built, kept on disk for the next start's first paint.

At 10,000 revisions, decoding every cached header, building the graph and laying out its
lanes takes about a quarter of a second before the first frame; loading what the last
start built takes a twentieth. It is kept with :mod:`marshal` (the format of Python's own
``.pyc`` files, and as trusted: the user's own cache folder), which gives back the tuples
and dictionaries the revisions are made of without a Python loop to convert them (50 ms
against JSON's 70, the listing's digest included). The file is valid only for the exact
list of revision files it was built from, each with its (size, mtime), and for the same
Alembic, migtui and migtui's graph code: any file added, removed, renamed or touched, or
a new version, is a miss.

What it gives is a preview for the first paint, nothing more: the loader still builds the
graph from the files' headers before anything else uses it, and draws that one instead
where it differs (a header that Alembic's import corrected since, say). That is the trust
the header cache already asks (core/revisions/diskcache.py), and no more.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import marshal
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import migtui
from migtui.core.models import Revision, RevisionGraph, ScriptProblem
from migtui.core.revisions import diskcache
from migtui.core.revisions.graph import new_revision
from migtui.core.revisions.layout import LaneRow
from migtui.core.revisions.reader import FileKey

_FORMAT = 3
Listing = Sequence[tuple[str, FileKey]]  # every revision file, in Alembic's order


def listing_digest(listing: Listing) -> str:
    """A digest of the revision files and their (size, mtime), in order."""
    text = "\n".join([f"{path}\0{key[0]}\0{key[1]}" for path, key in listing])
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


@functools.cache
def _code_stamp() -> str:
    """migtui's version and the (size, mtime) of the modules the graph is made by, so
    that a changed builder (an upgrade, or a developer's edit) never reuses old graphs."""
    here = Path(__file__).parent
    parts = [migtui.__version__, diskcache.alembic_version(), str(sys.version_info[:2])]
    for name in ("graph.py", "order.py", "layout.py", "headers.py", "files.py",
                 "graphcache.py", "../models.py"):
        try:
            st = os.stat(here / name)
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return "|".join(parts)


# What this process last read from or wrote to each cache file (listing digest, graph):
# the projects of several environments share one script directory, and write it once.
_HELD: dict[Path, tuple[str, RevisionGraph]] = {}


class GraphCache:
    """The last built graph (and its lanes) of one script directory."""

    def __init__(self, key: str) -> None:
        self.key = key
        folder = diskcache.cache_dir()
        digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        self._file = folder / f"graph-{digest}.bin" if folder is not None else None

    def load(self, listing: Listing) -> tuple[RevisionGraph, list[LaneRow]] | None:
        """The graph built last from exactly these files, with its lanes; None if there is
        none (or it cannot be read)."""
        if self._file is None:
            return None
        digest = listing_digest(listing)
        _HELD.pop(self._file, None)  # (whatever it holds, if not this)
        try:
            form, code, files, seal, body = marshal.loads(self._file.read_bytes())
            if (form != _FORMAT or code != _code_stamp() or files != digest
                    or seal != _seal(body)):
                return None
            revisions, lanes, heads, bases, problems = marshal.loads(body)
            found = _decode(revisions, lanes, heads, bases, problems,
                            [path for path, _key in listing])
        except (OSError, ValueError, TypeError, EOFError, KeyError, IndexError,
                AttributeError):
            return None
        _HELD[self._file] = (digest, found[0])
        return found

    def save(self, listing: Listing, graph: RevisionGraph,
             lanes: Callable[[], Sequence[LaneRow]]) -> None:
        """Keep this graph (``lanes()``: its lanes) for the next start, unless the file
        holds it already as far as this process knows; never raises."""
        if self._file is None:
            return
        digest = listing_digest(listing)
        held = _HELD.get(self._file)
        if held is not None and held[0] == digest and (held[1] is graph or held[1] == graph):
            return
        index = {path: i for i, (path, _key) in enumerate(listing)}
        try:
            body = marshal.dumps((
                # Each revision's fields, its path as its place in the listing.
                [{**vars(r), "path": index[r.path] if r.path else -1}
                 for r in graph.revisions],
                [(lane.lane, lane.glyphs) for lane in lanes()],
                graph.heads, graph.bases,
                [(p.message, p.path, p.line, p.details, p.kind) for p in graph.problems],
            ))
            data = (_FORMAT, _code_stamp(), digest, _seal(body), body)
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(data))
            os.replace(tmp, self._file)
            diskcache.prune(self._file.parent, "graph", ".bin")
            diskcache.prune(self._file.parent, "graph", ".json", keep=0)  # (format 1's)
        except (OSError, KeyError, ValueError):
            return
        _HELD[self._file] = (digest, graph)


def _seal(body: bytes) -> str:
    """The checksum of a cache file's graph: a byte of it changed (a bad disk, a file cut
    short and padded) is a miss, not a preview with a wrong lane or a glyph of the wrong
    type (2 ms at 10,000 revisions)."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _decode(revisions: list[dict[str, Any]], lanes: list[tuple[int, str]],
            heads: tuple[str, ...], bases: tuple[str, ...], problems: list[tuple[Any, ...]],
            paths: list[str]) -> tuple[RevisionGraph, list[LaneRow]]:
    """The graph and lanes of a cache file's parts (raises on anything malformed)."""
    if len(lanes) != len(revisions) or set(revisions[0] if revisions else _FIELDS) != _FIELDS:
        raise ValueError("not a graph of this migtui")
    for values in revisions:
        at = values["path"]
        values["path"] = paths[at] if at >= 0 else None
    graph = RevisionGraph(
        tuple([new_revision(values) for values in revisions]), tuple(heads), tuple(bases),
        tuple([ScriptProblem(str(m), path=p, line=line, details=str(d), kind=str(k))
               for m, p, line, d, k in problems]))
    return graph, [LaneRow(lane, glyphs) for lane, glyphs in lanes]


_FIELDS = {f.name for f in dataclasses.fields(Revision)}
