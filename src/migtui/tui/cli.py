"""The `migtui` command line."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import NoReturn

from migtui import __version__
from migtui.core.actions.config import ProjectOptions
from migtui.core.environments.reading import FirstRead
from migtui.core.errors import MigtuiError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: the contract for bad input is one clear line.
        self.exit(2, f"migtui: error: {message} (see migtui --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with alembic's own -c/-n/-x flags."""
    parser = _Parser(
        prog="migtui",
        description="A terminal UI for browsing and applying Alembic migrations.",
    )
    parser.add_argument("-c", "--config", action="append", default=[], metavar="FILE",
                        help="alembic.ini or pyproject.toml (default: ALEMBIC_CONFIG, "
                             "then alembic.ini / pyproject.toml here); may be given twice")
    parser.add_argument("-n", "--name", default="alembic", metavar="NAME",
                        help="the config section to use (default: alembic)")
    parser.add_argument("-x", action="append", default=[], metavar="KEY=VALUE",
                        help="an argument for env.py (context.get_x_argument); repeatable")
    parser.add_argument("--url", metavar="URL", help="use this sqlalchemy.url for this run")
    parser.add_argument("--env", metavar="NAME",
                        help="open one environment of [tool.migtui.environments]")
    parser.add_argument("--read-only", action="store_true",
                        help="browse only: every write action is disabled")
    parser.add_argument("--version", action="version", version=f"migtui {__version__}")
    return parser


def parse_options(argv: Sequence[str] | None = None) -> ProjectOptions:
    """Parse the command line into ProjectOptions (exits 2 on bad flags)."""
    args = build_parser().parse_args(argv)
    return ProjectOptions(
        config_files=tuple(args.config), name=args.name, x_args=tuple(args.x),
        url=args.url, read_only=args.read_only,
    )


def main(argv: Sequence[str] | None = None, *, collector_paused: bool = False,
         fork_read: bool = False) -> int:
    """Entry point of the `migtui` script (``collector_paused``: Python's cyclic garbage
    collector was disabled for the start, and the app turns it back on; ``fork_read``:
    this process has just started, so the first read may be a fork of it)."""
    first_read = None
    try:
        options = parse_options(argv)
        env_name = build_parser().parse_args(argv).env or ""
        # The database is read beside the app's start, on another core: begun first of
        # all (an environment's options are known once the project is open).
        first_read = None if env_name else FirstRead(options, fork=fork_read)
        from migtui.core.actions.project import Project
        from migtui.core.environments.fleet import Fleet

        project = Project.open(options)
        fleet = Fleet(project)  # the environments configured beside the project
        if env_name:
            project = fleet.project_for(fleet.select(env_name))
            first_read = FirstRead(project.options, fork=fork_read)
    except MigtuiError as exc:
        if first_read is not None:
            first_read.stop()
        print(f"migtui: error: {exc.message}", file=sys.stderr)
        return 2
    if not sys.stdin.isatty():  # (Textual reads the keys there: a pipe would hold none)
        if first_read is not None:
            first_read.stop()
        print("migtui: error: its input is not a terminal (migtui reads its keys from "
              "it): run it in a terminal, without a pipe or a redirection to its input",
              file=sys.stderr)
        return 2
    project.list_ahead()  # (by a child, on another core, while Textual is imported)
    from migtui.tui import exit_watchdog
    from migtui.tui.app import MigtuiApp  # Textual loads only once the project opened
    from migtui.tui.terminal_guard import GUARD

    exit_watchdog.remember_terminal()
    GUARD.start()  # what env.py writes to descriptors 1 and 2 goes to the log, not the UI
    try:
        # A protected environment: writes need its name typed.
        app = MigtuiApp(project, fleet, env_name, first_read)
        GUARD.attach(app.log_output)
        app.exit_watchdog = 3.0  # a quit ends the process within seconds, whatever hangs
        app.collector_paused = collector_paused
        app.run()
    finally:
        GUARD.stop()
    return 0


def run() -> None:
    """Console-script wrapper: exit with main()'s status.

    The cyclic garbage collector is off until the first frame is on screen: starting
    makes about 90,000 container objects that all live on (modules, styles, the graph),
    and collecting while they pile up cost about a tenth of the time to the first paint
    (a full collection of 40 ms just before it, at 1,000 revisions). The app runs in
    a child process that tui/supervisor.py watches, to hand the terminal back if
    env.py (or anything) ends it abruptly."""
    gc.disable()
    from migtui.tui import supervisor

    supervisor.split()  # (returns in the app's process; the other one waits for it)
    try:
        status = main(collector_paused=True, fork_read=True)
    except KeyboardInterrupt:  # Ctrl+C before the app reads the keys itself
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    run()
