"""One migtui process for benchmarks/run.py: launch the real app headless and measure.

Run in the project folder (as `migtui` would be)::

    python -m benchmarks.session cold            # print "HEAD <seconds>" when the head row shows
    python -m benchmarks.session session STEPS REFRESHES   # then steps and refreshes; JSON out

``cold`` exits as soon as the graph shows the head row, so the parent can time the
whole process from its start. ``session`` also waits for the background authoritative
load, then times STEPS pairs of one step up + one step down (the calls the app's action
worker makes: re-read the database, upgrade/downgrade, re-read the snapshot) and
REFRESHES refreshes after one revision file changed (press ``r`` until the changed row
shows), and prints a JSON line with the figures and the process's peak RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # as early as possible: the parent times the process too

from textual.worker import WorkerCancelled  # noqa: E402

from migtui.core.actions.config import ProjectOptions  # noqa: E402
from migtui.core.actions.project import Project  # noqa: E402
from migtui.tui.app import MigtuiApp  # noqa: E402
from migtui.widgets.revision_graph import RevisionGraphView  # noqa: E402


def _head_row_shown(app: MigtuiApp) -> bool:
    try:
        view = app.screen.query_one(RevisionGraphView)
    except Exception:
        return False
    return bool(view.rows) and "(head)" in view.render_line(0).text


async def _wait(condition, timeout: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not show it in time")
        await asyncio.sleep(0.002)


def _say(line: str) -> None:
    """Write a line to the real stdout (Textual redirects sys.stdout while it runs)."""
    os.write(1, (line + "\n").encode())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def cold() -> None:
    """Launch, wait for the head row, report and leave at once."""
    app = MigtuiApp(Project.open(ProjectOptions(cwd=os.getcwd())))
    async with app.run_test(size=(120, 40)):
        await _wait(lambda: _head_row_shown(app))
        _say(f"HEAD {time.perf_counter() - STARTED:.4f} {_peak_mb():.1f}")
        os._exit(0)


def _step_pair(project: Project) -> float:
    """One step up and one step down, as the app's worker does them."""
    started = time.perf_counter()
    for action in (project.upgrade, project.downgrade):
        project.status()  # the worker re-reads the heads before acting
        result = action("+1" if action == project.upgrade else "-1")
        if not result.ok:
            raise RuntimeError(result.error)
        project.snapshot()  # the app reloads after the action
    return time.perf_counter() - started


async def _workers_done(app: MigtuiApp) -> None:
    """Every worker finished; one replaced by a newer one (exclusive groups: a refresh
    while the last read still ran) ends cancelled, which is not a failure."""
    while any(not w.is_finished for w in app.workers):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()


async def session(steps: int, refreshes: int) -> None:
    """Open, wait for everything, then time steps and refreshes."""
    app = MigtuiApp(Project.open(ProjectOptions(cwd=os.getcwd())))
    out: dict[str, object] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait(lambda: _head_row_shown(app))
        out["head"] = time.perf_counter() - STARTED
        await _workers_done(app)  # the background authoritative load
        await pilot.pause()
        out["loaded"] = time.perf_counter() - STARTED
        project = app.project
        out["steps"] = [await asyncio.to_thread(_step_pair, project) for _ in range(steps)]
        await _workers_done(app)
        graph = project.graph()
        times = []
        for i in range(refreshes):
            rev = graph.revisions[len(graph) // 2 + i]
            assert rev.path is not None
            path = Path(rev.path)
            marker = f"edited {i} for the benchmark"
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(rev.message, marker, 1), encoding="utf-8")
            view = app.screen.query_one(RevisionGraphView)

            def shown(revision: str = rev.revision, marker: str = marker,
                      view: RevisionGraphView = view) -> bool:
                # (The revisions of the rows, not the rows: those are made as drawn.)
                rows = view.rows
                at = rows.index_of(revision)
                return at is not None and rows.revision_at(at).message == marker

            started = time.perf_counter()
            await pilot.press("r")
            await _wait(shown)
            times.append(time.perf_counter() - started)
            await _workers_done(app)
            path.write_text(text, encoding="utf-8")
        out["refresh"] = times
        out["peak_mb"] = _peak_mb()
        _say("JSON " + json.dumps(out))
        os._exit(0)


def main() -> None:
    """Entry point: ``cold`` or ``session STEPS REFRESHES``."""
    if sys.argv[1] == "cold":
        asyncio.run(cold())
    else:
        asyncio.run(session(int(sys.argv[2]), int(sys.argv[3])))


if __name__ == "__main__":
    main()
