"""Benchmark the tables inspector on a 1,000,000-row table, SQLite and PostgreSQL.

For each database it measures:

* **time to the first page**: in the real app (headless): from pressing ``t`` until the
  table list is shown, and from choosing the table's Rows tab until its first page is on
  screen; and the same through the core alone (``read_schema`` + first ``read_rows``);
* **paging to the end**: every page of the table fetched in order (keyset on the primary
  key), keeping a window of rows the size the grid keeps (``MAX_HELD``); wall time, pages,
  and the peak memory of Python objects allocated meanwhile (``tracemalloc``, a separate
  pass so it does not slow the timed one) plus the process's peak RSS.

With ``--tables N`` it measures a database of N small tables instead (issue 15: the
list on screen at most 0.3 s after ``t``): the core's read of them, and ``t`` to the
list shown in the app.

Usage::

    python benchmarks/bench_tables.py [--rows N] [--pg-url URL] [--only sqlite|postgresql]
    python benchmarks/bench_tables.py --tables 1000 [--pg-url URL] [--only ...]

``--pg-url`` (default ``$MIGTUI_TEST_PG_URL``) names a server where a throwaway database
is created and dropped; without one only SQLite runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
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
from projectkit.sample import copy_sample  # noqa: E402

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from migtui.screens.tables import TablesScreen

TABLE = "bench_rows"


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


def make_tables(url: str, count: int) -> None:
    """``count`` small tables (a key, two columns, an index, a foreign key to the
    previous one), as a large schema has them."""
    metadata = sa.MetaData()
    for i in range(count):
        columns: list[sa.Column[Any]] = [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, index=True),
            sa.Column("note", sa.Text)]
        if i:
            columns.append(sa.Column("prev_id", sa.Integer, sa.ForeignKey(f"t{i - 1:04}.id")))
        sa.Table(f"t{i:04}", metadata, *columns)
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


@asynccontextmanager
async def tables_after_t(project: Path) -> AsyncIterator[tuple[Pilot[None], TablesScreen, float]]:
    """The headless app on the project, settled, right after ``t``: the pilot, the tables
    screen and when ``t`` was pressed."""
    from migtui.screens.tables import TablesScreen
    from migtui.tui.app import MigtuiApp

    app = MigtuiApp(Project.open(ProjectOptions(cwd=str(project))))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TablesScreen)
        yield pilot, screen, started


async def app_table_list(project: Path) -> float:
    """In the headless app, the database read: seconds from ``t`` to the list shown."""
    from textual.widgets import OptionList

    async with tables_after_t(project) as (pilot, screen, started):
        listing = screen.query_one("#table-list", OptionList)
        while listing.option_count == 0:
            await asyncio.sleep(0.001)
        await pilot.pause()  # drawn
        return time.perf_counter() - started


def run_tables(label: str, project: Path, url: str, count: int) -> None:
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
    insp.close()
    listed = asyncio.run(app_table_list(project))
    print(f"  app:  't' to table list shown {listed * 1000:.0f} ms (target <= 300 ms)",
          flush=True)


async def app_first_page(project: Path) -> tuple[float, float]:
    """In the headless app: seconds until the table list shows, then until the first page."""
    from migtui.widgets.row_grid import RowGrid

    async with tables_after_t(project) as (pilot, screen, started):
        while screen.schema is None:
            await asyncio.sleep(0.001)
        listed = time.perf_counter() - started
        await pilot.pause()
        started = time.perf_counter()
        screen.jump_to(TableRef(TABLE))
        await pilot.press("5")
        grid = screen.query_one(RowGrid)
        while grid.held == 0:
            await asyncio.sleep(0.001)
        await pilot.pause()  # drawn
        return listed, time.perf_counter() - started


def run_one(label: str, project: Path, url: str, rows: int) -> None:
    from migtui.widgets.row_grid import MAX_HELD

    os.chdir(project)
    print(f"\n== {label}: {rows:,} rows", flush=True)
    started = time.perf_counter()
    generate_table(url, TABLE, rows)
    print(f"  generated the table in {time.perf_counter() - started:.1f} s", flush=True)

    listed, first, table, insp = core_first_page(project)
    print(f"  core: table list read {listed * 1000:.0f} ms (count shown: {table.rows}), "
          f"first page {first * 1000:.1f} ms")
    app_listed, app_first = asyncio.run(app_first_page(project))
    print(f"  app:  't' to table list shown {app_listed * 1000:.0f} ms, Rows tab to first "
          f"page on screen {app_first * 1000:.0f} ms")

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
    args = parser.parse_args(argv)
    run = (lambda label, project, url, _rows: run_tables(label, project, url, args.tables)
           ) if args.tables else run_one
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
