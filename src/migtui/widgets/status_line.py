"""The one-line status bar: config, database, current revision(s), pending count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widgets import Static

from migtui.core.models import DatabaseState, DatabaseStatus, Snapshot
from migtui.core.revisions.branches import labelled_heads
from migtui.core.revisions.problems import problems_summary
from migtui.widgets.safe_text import clean, middle_cut, scrub


def _short_path(path: str) -> str:
    """The path relative to the working folder when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


_CONNECTION = "The database cannot be reached: "


def not_read(db: DatabaseStatus) -> tuple[str, str]:
    """(the headline, the rest) of why the database was not read: env.py (or the config
    it reads) failed, with its file and line, or the database did not answer."""
    if db.cause == "env.py":
        head, _, rest = db.error.partition(": ")
        if rest or db.error.startswith("env.py "):  # ("env.py ended its process (…)")
            return head, rest
        return "env.py failed", db.error
    if db.cause == "version table":
        return "cannot read alembic_version", db.error.partition(": ")[2] or db.error
    if db.cause == "login":
        return "login refused", db.error.partition(": ")[2] or db.error
    return "database unreachable", db.error.removeprefix(_CONNECTION)


def describe(snapshot: Snapshot, environment: str = "") -> Text:
    """The status text for a snapshot (also used by tests and the help screen);
    ``environment`` names the configured environment the database is."""
    db = snapshot.database
    text = Text()
    text.append(_short_path(snapshot.project.config_file) or "?", style="bold")
    text.append("  ")
    if environment:
        text.append(f"env {clean(environment, one_line=True)}", style="bold reverse")
        text.append(" ")
    if db.state is DatabaseState.NOT_CHECKED:
        text.append("reading the database through env.py…", style="dim")
    elif db.reachable:
        text.append(db.url or "?", style="")
        if db.dialect:
            text.append(f" ({db.dialect})", style="dim")
        text.append("  current: ")
        heads = snapshot.current  # as `alembic current`: effective heads too
        text.append(", ".join(h[:12] for h in heads) if heads else "base", style="bold")
        pending = len(snapshot.pending)
        if snapshot.pending_unknown:  # (below a revision no readable file defines)
            text.append("  ? pending", style="bold")
        else:
            text.append(f"  {pending} pending" if pending else "  up to date",
                        style="bold" if pending else "")
        if snapshot.partial is not None:  # a failed step left part of itself behind
            stayed = len(snapshot.partial.statements)
            text.append(f"  ⚠ partially applied {snapshot.partial.revision[:12]}",
                        style="bold red")
            text.append(f" ({stayed} statement{'s' * (stayed != 1)} of its step stayed;"
                        " e: which)", style="dim")
    else:
        text.append(db.url)  # (none when env.py failed before it built one)
        headline, rest = not_read(db)
        text.append(("  " if db.url else "") + f"✗ {headline}" + (": " if rest else ""),
                    style="bold")
        text.append(rest)
    if db.unused_url:
        text.append("  ⚠ env.py does not use the URL given: no writes", style="bold red")
    unknown = [h for h in db.current_heads if h not in snapshot.graph]
    if unknown:
        text.append(
            f"  ⚠ database is on {', '.join(u[:12] for u in unknown)}, which no file defines"
            " (stamp a known revision with s)", style="bold")
    if snapshot.graph.problems:
        text.append(f"  ⚠ {problems_summary(snapshot.graph.problems)} (e: details)",
                    style="bold")
    if not snapshot.graph.revisions and not snapshot.graph.problems:
        # (A fresh `alembic init` has none: said plainly, not as a warning.)
        text.append(f"  no revisions found (searched {snapshot.project.script_location}"
                    " and its version locations)", style="dim")
    if len(snapshot.graph.heads) > 1 and not snapshot.graph.problems:
        # (With a broken history "heads" are an artefact: a missing parent makes a head.)
        labelled = labelled_heads(snapshot.graph)
        if labelled is not None:  # branches kept apart on purpose (expand/contract)
            text.append(f"  {len(labelled)} heads ({', '.join(labelled)})")
        else:
            text.append(f"  ⚠ {len(snapshot.graph.heads)} heads: merge them with m",
                        style="bold")
    if db.reachable and db.error:
        text.append(f"  ({db.error})", style="dim")
    if snapshot.project.read_only:
        text.append("  [read-only]", style="bold")
    return text


# From this width on the status line keeps to one line; narrower, to two.
ONE_LINE_WIDTH = 120


_PENDING = re.compile(r"current: .*?((?:\d+|\?) pending|up to date)")


def _essential_end(plain: str) -> int | None:
    """Where what must stay in view ends: the pending count and the warnings after it."""
    pending = _PENDING.search(plain)
    if pending is None:
        return None
    end = pending.end()
    for segment in plain[end:].split("  ")[1:]:
        if not segment.startswith("⚠"):
            break
        end = plain.index(segment, end) + len(segment)
    return end


# A path or URL cut in the middle keeps at least this much of itself (a URL more: its
# host and database name say which database it is).
SHORTEST_PART = 24
SHORTEST_URL = 40


def fit(text: Text, width: int, console: Console, long_parts: Sequence[str] = (),
        essential: int | None = None) -> Text:
    """``text`` in as many lines of ``width`` as the width allows (one from
    ONE_LINE_WIDTH on, else two); what does not fit ends in "…".

    The first ``essential`` characters (up to the pending count) must stay in view: when
    they do not fit, the ``long_parts`` (the URL, the config path) are cut in the middle
    first, down to SHORTEST_PART.
    """
    most = 1 if width >= ONE_LINE_WIDTH else 2
    end = len(text.plain) if essential is None else essential

    def fits(candidate: Text) -> bool:
        if most == 1:
            return cell_len(candidate.plain) <= width - 1  # (room for the "…")
        return len(candidate.wrap(console, width - 1)) <= most

    if fits(text) and cell_len(text.plain) <= width:
        return text
    for part in long_parts:
        start = text.plain.find(part)
        if start < 0 or start >= end or fits(text[:end]):
            continue
        over = cell_len(text.plain[:end]) - (width - 1) * most  # (wrapping wastes more)
        url = "://" in part
        least = min(SHORTEST_URL if url else SHORTEST_PART, cell_len(part))
        keep = max(cell_len(part) - max(over, 1), least)
        while len(part) > keep:
            piece = text[start:start + len(part)]
            piece.plain = url_cut(part, keep) if url else middle_cut(part, keep)
            shorter = text[:start] + piece + text[start + len(part):]
            if fits(shorter[:end - len(part) + len(piece)]) or keep == least:
                text, end = shorter, end - len(part) + len(piece)
                break
            keep = max(keep - 8, least)
    if most == 1:
        return text if cell_len(text.plain) <= width else _ellipsis(text, width)
    lines = text.wrap(console, width)
    if len(lines) <= most:
        return _together(text, lines[0].plain, width, "current: ")
    # The first line as wrapped, then the rest on the second, ending in "…".
    start = len(lines[0].plain)
    while start < len(text.plain) and text.plain[start].isspace():
        start += 1
    first, rest = text[:start], text[start:]
    first.rstrip()
    return Text("\n").join([first, _ellipsis(rest, width)])


def _together(text: Text, first_line: str, width: int, label: str) -> Text:
    """Two lines with the break before ``label`` where the wrap would split ``label``
    from what it introduces ("current:" alone at the end of the first line), if the
    second line still holds the rest."""
    at = text.plain.find(label)
    group_end = text.plain.find("  ", at + len(label))
    group_end = len(text.plain) if group_end < 0 else group_end
    if at <= 0 or not at < len(first_line.rstrip()) < group_end:
        return text
    rest = text[at:]
    if cell_len(rest.plain) > width:
        return text
    first = text[:at]
    first.rstrip()
    return Text("\n").join([first, rest])


def url_cut(url: str, width: int) -> str:
    """A URL in at most ``width`` cells, keeping what says which database it is: the
    query string goes first, then the user, then the driver, then the middle."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return middle_cut(url, width)
    where, query, _ = rest.partition("?")
    _login, at, place = where.rpartition("@")
    candidates = [f"{scheme}://{where}" + ("?…" if query else "")]
    if at:
        candidates.append(f"{scheme}://…@{place}" + ("?…" if query else ""))
    if not where.startswith("/"):  # a server: its host and database say more than the driver
        dialect = scheme.split("+", 1)[0]
        candidates.append(f"{dialect}://{place}" + ("?…" if query else ""))
    for candidate in [url, *candidates]:
        if cell_len(candidate) <= width:
            return candidate
    return middle_cut(candidates[-1], width)


def _ellipsis(text: Text, width: int) -> Text:
    cut = text.copy()
    cut.truncate(width - 1)
    cut.rstrip()
    cut.append("…")
    return cut


class StatusLine(Static):
    """Shows describe(snapshot); the app hands it each new snapshot. A long status is cut
    with "…" (one line at wide sizes, two at narrow ones), never wrapped further."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    """

    # What may be cut in the middle when the line is too long: the URL, then the config.
    _long_parts: tuple[str, ...] = ()
    _essential: int | None = None  # the status up to its pending count must stay in view

    def show(self, snapshot: Snapshot | None, message: str = "", environment: str = "") -> None:
        """Display a snapshot, or a plain message when there is none."""
        self.update(scrub(describe(snapshot, environment)) if snapshot is not None
                    else Text(clean(message, one_line=True)))
        self._long_parts = (() if snapshot is None else tuple(part for part in (
            clean(snapshot.database.url, one_line=True),
            clean(_short_path(snapshot.project.config_file), one_line=True)) if part))
        self._essential = _essential_end(self.content.plain) \
            if isinstance(self.content, Text) else None

    def _fitted(self, width: int) -> Text | None:
        content = self.content
        if not isinstance(content, Text) or width <= 1:
            return None
        return fit(content, width, self.app.console, self._long_parts, self._essential)

    def render(self) -> RenderResult:
        fitted = self._fitted(self.content_region.width)
        return fitted if fitted is not None else super().render()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        fitted = self._fitted(width)
        if fitted is None:
            return super().get_content_height(container, viewport, width)
        return len(fitted.wrap(self.app.console, width))
