"""The revision files listed and stated in a forked child while the app starts.

The first frame of a warm start is the graph the last start built from exactly these
files (core/revisions/graphcache.py), so before it the files must be listed and each one
stated for its (size, mtime): about 60 ms of the UI thread at 10,000 revisions, half of
it ``stat`` calls. ``migtui`` starts that work in a child forked once the project is open
(:func:`ListingAhead.start`), on another core, while the app imports Textual; the graph
cache's lookup takes the answer (:meth:`ListingAhead.take`). The listing is the one
``revision_files`` gives, made by the same function: only who runs it differs. Where
there is no fork, or the child gives no answer, the caller lists the files itself.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import warnings

from migtui.core.revisions.files import Locations, revision_files
from migtui.core.revisions.reader import FileKey

Listing = list[tuple[str, FileKey]]
_WAIT = 2.0  # seconds: past that, listing in this process is quicker than waiting


class ListingAhead:
    """The listing of one set of locations, coming from a child process."""

    def __init__(self, where: Locations, pid: int, fd: int) -> None:
        self.where = where
        self.pid = pid
        self._fd = fd
        self._status: int | None = None  # the child's exit status, once reaped

    @classmethod
    def start(cls, where: Locations) -> ListingAhead | None:
        """Fork the child that lists ``where``; None where it cannot be started."""
        if not hasattr(os, "fork"):
            return None
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return None
        try:
            with warnings.catch_warnings():  # (3.12+ warns of the threads it leaves out)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # pragma: no cover - the child; it only lists, writes and leaves
            status = 1
            try:
                os.close(read_end)
                data = memoryview(marshal.dumps(revision_files(where)))
                while data:
                    data = data[os.write(write_end, data):]
                status = 0
            finally:
                os._exit(status)  # no exit handlers, no buffers of the app flushed twice
        os.close(write_end)
        return cls(where, pid, read_end)

    def take(self, where: Locations) -> Listing | None:
        """The child's listing, if it is of ``where`` and came in time; None otherwise
        (the caller lists the files itself). Reaps the child either way."""
        chunks: list[bytes] = []
        complete = False
        try:
            while where == self.where:
                ready, _, _ = select.select([self._fd], [], [], _WAIT)
                if not ready:
                    break
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    complete = True
                    break
                chunks.append(chunk)
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._reap(complete)
        if not complete or self._status != 0:
            return None
        try:
            listing = marshal.loads(b"".join(chunks))
        except (ValueError, EOFError, TypeError):
            return None
        return listing if isinstance(listing, list) else None

    def _reap(self, finished: bool) -> None:
        if not finished:
            with contextlib.suppress(OSError):
                os.kill(self.pid, 9)
        try:
            _, status = os.waitpid(self.pid, 0)
        except OSError:  # (reaped by someone else)
            return
        self._status = os.waitstatus_to_exitcode(status)
