"""Pending changes on a model of 1,000 tables against a database at head (issue 15).

Generates a project (``projectkit.genmodels``: 1,000 SQLAlchemy declarative models over
ten modules, a key, four columns, an index each, foreign keys and unique constraints; one
revision written by autogenerate that creates them all), upgrades an SQLite database to
head with ``alembic upgrade head`` (and a PostgreSQL one when ``--pg-url`` or
``$MIGTUI_TEST_PG_URL`` names a server), then measures, interleaved, ``--runs`` rounds of:

* ``alembic check`` (the CLI, a new process) on the models as generated (no changes);
* migtui, headless (``App.run_test`` + Pilot, a new process: ``python -m
  benchmarks.bench_pending session``), opened and settled, then:

  - **first ``a``**: from pressing ``a`` until "Models and database match" is on screen
    (the comparison's process server starts here: the first diff of a session);
  - **live re-diff**: a column added to one model (the file saved while the screen is
    open) until its ``add column`` row is on screen (the watcher's debounce included);
  - **second ``a``**: ``g``, a column added to another model, then ``a`` until both
    ``add column`` rows are on screen;
* ``alembic check`` on the edited models (one column added: it reports the operation);
* with ``--terminal``: ``migtui`` in a real (pseudo-)terminal rendered by ``pyte``
  (benchmarks/terminal.py), ``a`` typed once the status line says the database is up to
  date, until "Models and database match" is on the rendered screen.

Each figure: median [min-max]; ratios are the median [min-max] of the per-round ratios
against ``alembic check`` of the same round (the first ``a`` against the unchanged
models, the others against the edited ones), then each round's ratio. Usage::

    python -m benchmarks.bench_pending [--tables 1000] [--runs 5] [--pg-url URL]
                                       [--only sqlite|postgresql] [--work DIR] [--terminal]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_tables import postgres_database  # noqa: E402
from benchmarks.run import _alembic, _env  # noqa: E402
from projectkit.genmodels import add_column, model_file, table_name  # noqa: E402

# Targets (issue 15), as ratios to `alembic check` in the same round.
TARGETS = {"first a": 1.0, "live re-diff": 0.3, "second a": 0.3}
# The two model edits: (table index, column).
EDITS = ((123, "bench_extra"), (777, "bench_other"))
TIMEOUT = 900.0


def _say(line: str) -> None:
    """Write a line to the real stdout (Textual redirects sys.stdout while it runs)."""
    os.write(1, (line + "\n").encode())


# -- in the migtui process ----------------------------------------------------------


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not show it in time")
        await asyncio.sleep(0.002)


async def session() -> None:
    """The headless app in this folder: first ``a``, the live re-diff, a second ``a``;
    prints one JSON line of seconds."""
    from textual.widgets import OptionList, Static

    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project
    from migtui.screens.pending import PendingScreen
    from migtui.tui.app import MigtuiApp

    project = Path.cwd()
    app = MigtuiApp(Project.open(ProjectOptions(cwd=str(project))))
    out: dict[str, float] = {}

    def shown(*needles: str) -> Callable[[], bool]:
        """The pending screen's comparison is on screen and shows every needle (the
        state line and the operation rows)."""
        def check() -> bool:
            screen = app.screen
            if not isinstance(screen, PendingScreen) or screen.diff is None \
                    or screen.query_one("#pending-body").loading:
                return False
            options = screen.query_one(OptionList)
            text = str(screen.query_one("#pending-state", Static).content) + "\n" + "\n".join(
                str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
            return all(n in text for n in needles)
        return check

    async with app.run_test(size=(140, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("a")
        await _until(shown("Models and database match"))
        await pilot.pause()  # drawn
        out["first a"] = time.perf_counter() - started
        await pilot.pause(0.5)  # the watcher is up

        (first_table, first_column), (second_table, second_column) = EDITS
        started = time.perf_counter()
        add_column(project, first_table, first_column)
        await _until(shown(first_column))
        await pilot.pause()
        out["live re-diff"] = time.perf_counter() - started

        await pilot.press("g")
        await pilot.pause()
        add_column(project, second_table, second_column)
        started = time.perf_counter()
        await pilot.press("a")
        await _until(shown(first_column, second_column))
        await pilot.pause()
        out["second a"] = time.perf_counter() - started
        _say("JSON " + json.dumps(out))
        os._exit(0)


# -- in the benchmark's process ------------------------------------------------------


def _run(cmd: Sequence[str], cwd: Path, env: dict[str, str], ok: Callable[[str], bool]
         ) -> tuple[float, str]:
    """(seconds, output) of a whole process; ``ok(output)`` must hold."""
    started = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=TIMEOUT)
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    if not ok(output):
        raise RuntimeError(f"{' '.join(cmd)} ({done.returncode}):\n{output[-3000:]}")
    return seconds, output


def _stats(values: Sequence[float]) -> str:
    return f"{statistics.median(values):7.2f} s [{min(values):.2f}-{max(values):.2f}]"


def _ratios(mine: Sequence[float], theirs: Sequence[float]) -> tuple[float, str]:
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    med = statistics.median(ratios)
    each = " ".join(f"{r:.2f}" for r in ratios)
    return med, f"{med:5.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]  ({each})"


def _in_terminal(project: Path, env: dict[str, str]) -> float:
    """Seconds from ``a`` typed (the database read) to the match on the rendered screen."""
    from benchmarks.terminal import _script, in_terminal

    sent: list[float] = []
    elapsed, _screen = in_terminal(
        _script("migtui"), project, env, until=lambda s: "Models and database match" in s,
        keys=b"a", keys_when=lambda s: "up to date" in s, sent=sent)
    return elapsed - sent[0]


def bench(label: str, project: Path, runs: int, cache: Path,
          terminal: bool = False) -> list[str]:
    """Every figure on one database, as printable lines."""
    env = _env(cache)
    alembic = _alembic()
    models = {i: model_file(project, i) for i, _ in EDITS}
    originals = {path: path.read_text(encoding="utf-8") for path in models.values()}

    def restore() -> None:
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")

    def matches(output: str) -> bool:
        return "No new upgrade operations detected" in output

    first_table, first_column = EDITS[0]

    def detects(output: str) -> bool:
        return "New upgrade operations detected" in output and first_column in output

    times: dict[str, list[float]] = {"check": [], "check, edited": [], "first a": [],
                                     "live re-diff": [], "second a": [], "terminal": []}
    started = time.perf_counter()
    _run([*alembic, "upgrade", "head"], project, env, lambda _out: True)
    print(f"  upgraded to head in {time.perf_counter() - started:.1f} s", flush=True)
    for i in range(-1, runs):  # round -1: unmeasured (file system and .pyc caches)
        restore()
        check = _run([*alembic, "check"], project, env, matches)[0]
        line = _run([sys.executable, "-m", "benchmarks.bench_pending", "session"], project,
                    env, lambda out: "JSON " in out)[1]
        app = json.loads(line.split("JSON ", 1)[1].splitlines()[0])
        restore()
        add_column(project, first_table, first_column)
        edited = _run([*alembic, "check"], project, env, detects)[0]
        restore()
        in_terminal = _in_terminal(project, env) if terminal else 0.0
        if i < 0:
            continue
        times["terminal"].append(in_terminal)
        times["check"].append(check)
        times["check, edited"].append(edited)
        for name in ("first a", "live re-diff", "second a"):
            times[name].append(float(app[name]))
        print(f"  round {i + 1}: check {check:.2f} s, first a {app['first a']:.2f} s, "
              f"live re-diff {app['live re-diff']:.2f} s, second a {app['second a']:.2f} s, "
              f"check (edited) {edited:.2f} s"
              + (f", real terminal first a {in_terminal:.2f} s" if terminal else ""), flush=True)
    lines = [f"== {label}: {runs} interleaved rounds",
             f"  {'figure':<44} {'median [min-max]':>24}   ratio median [min-max] (per round)"]
    lines.append(f"  {'alembic check (no changes)':<44} {_stats(times['check']):>24}")
    lines.append(f"  {'alembic check (one column added)':<44} "
                 f"{_stats(times['check, edited']):>24}")
    versus = {"first a": "check", "live re-diff": "check, edited", "second a": "check, edited"}
    if terminal:
        versus["terminal"] = "check"
    words = {"first a": "migtui: a until 'match' on screen (first)",
             "terminal": "migtui, real terminal: first a until 'match'",
             "live re-diff": "migtui: model saved until its diff shows",
             "second a": "migtui: g, edit, a until the diff shows"}
    for name, against in versus.items():
        med, text = _ratios(times[name], times[against])
        target = TARGETS.get(name, TARGETS["first a"])
        verdict = "met" if med <= target else "MISSED"
        lines.append(f"  {words[name]:<44} {_stats(times[name]):>24}   {text}   "
                     f"target <= {target}x {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``session``: the migtui process, run by the benchmark)."""
    if argv is None and sys.argv[1:2] == ["session"]:
        asyncio.run(session())
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("MIGTUI_TEST_PG_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--work", type=Path, default=None, help="folder for the projects")
    parser.add_argument("--terminal", action="store_true",
                        help="also the first a in a real terminal (pyte)")
    args = parser.parse_args(argv)
    assert max(i for i, _ in EDITS) < args.tables, "the edits need more tables"
    work = args.work or Path(tempfile.mkdtemp(prefix="migtui-bench-pending-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"pending changes, {args.tables:,} tables (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; work folder {work}); "
          f"edits: a column on {table_name(EDITS[0][0])}, then on {table_name(EDITS[1][0])}",
          flush=True)

    def generate(dest: Path, url: str | None) -> Path:
        shutil.rmtree(dest, ignore_errors=True)
        cmd = [sys.executable, "-m", "projectkit.genmodels", str(dest), "--tables",
               str(args.tables)] + (["--url", url] if url else [])
        _run(cmd, REPO, _env(work / "cache"), lambda _out: True)
        return dest

    if args.only in (None, "sqlite"):
        project = generate(work / "sqlite", None)
        for line in bench("SQLite", project, args.runs, work / "cache", args.terminal):
            print(line, flush=True)
    if args.only in (None, "postgresql"):
        if not args.pg_url:
            print("== PostgreSQL: skipped (no --pg-url or MIGTUI_TEST_PG_URL)")
        else:
            with postgres_database(args.pg_url) as url:
                project = generate(work / "pg", url)
                for line in bench("PostgreSQL", project, args.runs, work / "cache",
                                  args.terminal):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
