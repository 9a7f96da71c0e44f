"""Benchmark the tables inspector on a 1,000,000-row table, SQLite and PostgreSQL.

For each database it measures:

* **time to the first page**: in the real app (headless): from pressing ``t`` (WAIT
  seconds after the start, as a user who looks at the graph first) until the first frame
  with the table list is drawn, and from choosing the table's Rows tab until its first
  page is on screen; and the same through the core alone (``read_schema`` + first
  ``read_rows``);
* **paging to the end**: every page of the table fetched in order (keyset on the primary
  key), keeping a window of rows the size the grid keeps (``MAX_HELD``); wall time, pages,
  and the peak memory of Python objects allocated meanwhile (``tracemalloc``, a separate
  pass so it does not slow the timed one) plus the process's peak RSS.

With ``--tables N`` it measures a database of N small tables instead (issue 15: the
list on screen at most 0.3 s after ``t``): the core's read of them (every structure,
and the names alone, which is what the list waits for), and ``t`` to the list drawn in
the app, pressed WAIT seconds after the start and as soon as the app has settled.
Each app figure is the median [min-max] of ``--runs`` runs, a new app each.

Usage::

    python benchmarks/bench_tables.py [--rows N] [--runs 5] [--pg-url URL] [--only DATABASE]
    python benchmarks/bench_tables.py --tables 1000 [--runs 5] [--pg-url URL] [--only ...]

``--pg-url`` (default ``$MIGTUI_TEST_PG_URL``) names a server where a throwaway database
is created and dropped; without one only SQLite runs.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.gentable import generate_table  # noqa: E402
from migtui.core.actions.config import ProjectOptions  # noqa: E402
from migtui.core.actions.project import Project  # noqa: E402
from migtui.core.schema.inspector import DatabaseInspector  # noqa: E402
from migtui.core.schema.model import RowRequest, TableInfo, TableRef  # noqa: E402
from projectkit.gentables import make_tables  # noqa: E402
from projectkit.sample import copy_sample  # noqa: E402

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from migtui.screens.tables import TablesScreen

TABLE = "bench_rows"
# Seconds a user looks at the graph before pressing t (the tables screen is built and
# its list read meanwhile, in the background).
WAIT = 3.0
SAMPLE_HEAD = "c5d9e0f3b7a2"  # on the graph once it is drawn


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A throwaway database on the server; dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def request_for(table: TableInfo, **kw: object) -> RowRequest:
    return RowRequest(table.ref.schema, table.ref.name, tuple(c.name for c in table.columns),
                      table.key_columns, **kw)  # type: ignore[arg-type]


def page_to_end(insp: DatabaseInspector, table: TableInfo, window: int) -> tuple[int, int]:
    """Fetch every page in order, holding at most ``window`` rows; (pages, rows)."""
    held: deque[object] = deque(maxlen=window)
    page = insp.read_rows(request_for(table))
    pages, rows = 1, len(page.rows)
    held.extend(page.rows)
    while page.more_after:
        page = insp.read_rows(request_for(table, key=page.last_key, offset=rows))
        pages += 1
        rows += len(page.rows)
        held.extend(page.rows)
    return pages, rows


def core_first_page(project: Path) -> tuple[float, float, TableInfo, DatabaseInspector]:
    insp = DatabaseInspector(Project.open(ProjectOptions(cwd=str(project))))
    started = time.perf_counter()
    schema = insp.read_schema()
    listed = time.perf_counter() - started
    table = schema.get(TableRef(TABLE))
    assert table is not None, "the benchmark table is missing"
    started = time.perf_counter()
    first = insp.read_rows(request_for(table))
    assert len(first.rows) == 200
    return listed, time.perf_counter() - started, table, insp


@asynccontextmanager
async def tables_after_t(project: Path, wait: float = 0.0
                         ) -> AsyncIterator[tuple[Pilot[None], TablesScreen, float, float]]:
    """The headless app on the project, settled (then ``wait`` seconds more, as a user
    reads the graph), right after ``t``: the pilot, the tables screen, when ``t`` was
    pressed and when the first frame with the table list was drawn (the frame the
    terminal would get)."""
    from textual.widgets import OptionList

    from migtui.screens.tables import TablesScreen
    from migtui.tui.app import MigtuiApp

    app = MigtuiApp(Project.open(ProjectOptions(cwd=str(project))))
    shown: list[float] = []
    display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if (not shown and renderable is not None and isinstance(screen, TablesScreen)
                and screen.query_one("#table-list", OptionList).option_count):
            shown.append(time.perf_counter())

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if wait:
            await asyncio.sleep(wait)
            await app.workers.wait_for_complete()
            await pilot.pause()
        app._display = timed_display  # type: ignore[method-assign]
        started = time.perf_counter()
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TablesScreen)
        while not shown:
            await asyncio.sleep(0.001)
        yield pilot, screen, started, shown[0]


async def app_table_list(project: Path, wait: float) -> float:
    """In the headless app: seconds from ``t`` to the first frame with the list."""
    async with tables_after_t(project, wait) as (_pilot, _screen, started, shown):
        return shown - started


def _graph_shown_for(seconds: float) -> Callable[[str], bool]:
    """Whether the graph has been on the screen for so many seconds."""
    seen: list[float] = []

    def ready(text: str) -> bool:
        if SAMPLE_HEAD not in text:
            return False
        seen.append(time.perf_counter())
        return time.perf_counter() - seen[0] >= seconds

    return ready


def terminal_list(project: Path, shows: str, runs: int) -> list[float]:
    """In a real terminal (benchmarks/terminal.py: a pty rendered by pyte), ``runs``
    times: seconds from typing ``t`` (WAIT seconds after the graph is on screen) until
    ``shows`` (a table's name) is on the rendered screen. One run first, unmeasured."""
    from benchmarks.run import _env
    from benchmarks.terminal import _script, in_terminal

    env = _env(project / ".bench-cache")
    times = []
    for run in range(runs + 1):
        sent: list[float] = []
        elapsed, _ = in_terminal(_script("migtui"), project, env, until=lambda t: shows in t,
                                 keys=b"t", keys_when=_graph_shown_for(WAIT), sent=sent)
        if run:
            times.append(elapsed - sent[0])
    return times


def spread(values: list[float]) -> str:
    """'median ms [min-max]' of some seconds."""
    return (f"{statistics.median(values) * 1000:.0f} ms "
            f"[{min(values) * 1000:.0f}-{max(values) * 1000:.0f}]")


def run_tables(label: str, project: Path, url: str, count: int, runs: int,
               terminal: bool) -> None:
    os.chdir(project)
    print(f"\n== {label}: {count:,} tables", flush=True)
    started = time.perf_counter()
    make_tables(url, count)
    print(f"  created them in {time.perf_counter() - started:.1f} s", flush=True)
    insp = DatabaseInspector(Project.open(ProjectOptions(cwd=str(project))))
    started = time.perf_counter()
    schema = insp.read_schema()
    print(f"  core: {len(schema.tables):,} tables read in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    if "structure" in inspect.signature(insp.read_schema).parameters:  # (not before 15)
        started = time.perf_counter()
        insp.read_schema(structure=False)
        print(f"  core: their names alone in {(time.perf_counter() - started) * 1000:.0f} ms",
              flush=True)
    insp.close()
    for wait, when in ((WAIT, f"{WAIT:.0f} s after the start"), (0.0, "as soon as settled")):
        listed = [asyncio.run(app_table_list(project, wait)) for _ in range(runs)]
        print(f"  app:  't' {when} to the table list drawn: {spread(listed)} "
              f"(median [min-max] of {runs}; target <= 300 ms)", flush=True)
    if terminal:
        print(f"  real terminal: 't' {WAIT:.0f} s after the graph shows to the list on "
              f"screen: {spread(terminal_list(project, 't0001', runs))}", flush=True)


async def app_first_page(project: Path) -> tuple[float, float]:
    """In the headless app (``t`` pressed WAIT seconds after the start): seconds until
    the table list is drawn, then from choosing the table's Rows tab to its first page."""
    from migtui.widgets.row_grid import RowGrid

    async with tables_after_t(project, WAIT) as (pilot, screen, started, shown):
        listed = shown - started
        await pilot.pause()
        started = time.perf_counter()
        screen.jump_to(TableRef(TABLE))
        await pilot.press("5")
        grid = screen.query_one(RowGrid)
        while grid.held == 0:
            await asyncio.sleep(0.001)
        await pilot.pause()  # drawn
        return listed, time.perf_counter() - started


def run_one(label: str, project: Path, url: str, rows: int, runs: int,
            terminal: bool) -> None:
    from migtui.widgets.row_grid import MAX_HELD

    os.chdir(project)
    print(f"\n== {label}: {rows:,} rows", flush=True)
    started = time.perf_counter()
    generate_table(url, TABLE, rows)
    print(f"  generated the table in {time.perf_counter() - started:.1f} s", flush=True)

    listed, first, table, insp = core_first_page(project)
    print(f"  core: table list read {listed * 1000:.0f} ms (count shown: {table.rows}), "
          f"first page {first * 1000:.1f} ms")
    timed = [asyncio.run(app_first_page(project)) for _ in range(runs)]
    print(f"  app:  't' to the table list drawn {spread([t[0] for t in timed])}, Rows tab "
          f"to the first page on screen {spread([t[1] for t in timed])} "
          f"(median [min-max] of {runs})")
    if terminal:
        print(f"  real terminal: 't' {WAIT:.0f} s after the graph shows to the list on "
              f"screen: {spread(terminal_list(project, TABLE, runs))}", flush=True)

    started = time.perf_counter()
    pages, fetched = page_to_end(insp, table, MAX_HELD)
    seconds = time.perf_counter() - started
    assert fetched == rows, (fetched, rows)
    print(f"  paged to the end: {pages:,} pages in {seconds:.1f} s "
          f"({seconds / pages * 1000:.2f} ms a page, {fetched / seconds:,.0f} rows/s)")

    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    page_to_end(insp, table, MAX_HELD)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory while paging (window of {MAX_HELD:,} rows): "
          f"{(peak - base) / 1024 / 1024:.1f} MiB Python allocations; process peak RSS "
          f"{rss:.0f} MiB")
    insp.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("MIGTUI_TEST_PG_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--tables", type=int, default=0,
                        help="a database of this many small tables instead of a big one")
    parser.add_argument("--runs", type=int, default=5, help="app runs for each figure")
    parser.add_argument("--terminal", action="store_true",
                        help="also time t in a real terminal (pty + pyte)")
    args = parser.parse_args(argv)

    def run(label: str, project: Path, url: str, rows: int) -> None:
        if args.tables:
            run_tables(label, project, url, args.tables, args.runs, args.terminal)
        else:
            run_one(label, project, url, rows, args.runs, args.terminal)
    with tempfile.TemporaryDirectory(prefix="migtui-bench-tables-") as tmp:
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{Path(tmp) / 'sqlite' / 'bench.db'}"
            run("SQLite", copy_sample(Path(tmp) / "sqlite", url), url, args.rows)
        if args.only in (None, "postgresql"):
            if not args.pg_url:
                print("\n== PostgreSQL: skipped (no --pg-url or MIGTUI_TEST_PG_URL)")
            else:
                with postgres_database(args.pg_url) as url:
                    project = copy_sample(Path(tmp) / "pg", url)
                    run("PostgreSQL", project, url, args.rows)
        os.chdir(REPO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
