"""The one function that runs a project's env.py.

Everything migtui does with the database goes through :func:`run_env`: reading the
status, the inspector's engine, the live risk probes, the rehearsal, the autogenerate
comparison, and upgrade / downgrade / stamp and their offline SQL. It is
``EnvironmentContext(config, script, fn=...)`` + ``script.run_env()``, as every
``alembic`` command does, plus what a long-lived process needs around it:

* output and logging captured and restored (:func:`migtui.core.env.capture.captured`),
  with the working folder, ``sys.path``, ``os.environ`` and signal handlers put back;
* while only looking (``looking=True``), connecting never creates a SQLite file;
* ``output_buffer`` for offline SQL, set on the shared Config only for this run;
* an error raised on a thread that env.py started (and joined) is raised to the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migtui.core.env.capture import ENV_LOCK, CapturedOutput, LineSink, captured
from migtui.core.env.imported import note_imported
from migtui.core.env.looking import looking_only

MigrationFn = Callable[[Any, MigrationContext], Any]


def run_env(
    config: Config,
    script: ScriptDirectory,
    fn: MigrationFn,
    *,
    looking: bool = True,
    on_line: LineSink | None = None,
    output_buffer: TextIO | None = None,
    before_run: Callable[[MigrationContext], None] | None = None,
    **context_args: Any,
) -> CapturedOutput:
    """Run env.py once with ``fn`` as its migration function; return what it wrote.

    ``context_args`` are EnvironmentContext's (``as_sql``, ``destination_rev``,
    ``starting_rev``, ``tag``, ``purge``, ``dont_mutate``, ``template_args``, ...).
    ``looking=False`` is for runs that may write (an upgrade may create the SQLite
    file). ``before_run`` is called with the migration context when env.py calls
    ``context.run_migrations()``, before Alembic reads or creates the version table.
    Whatever env.py raises is raised, with ``sys.exit()`` turned into an error.
    """
    with ENV_LOCK.held(writing=not looking), captured(on_line) as out, \
            _thread_errors() as errors:
        if output_buffer is not None:
            config.output_buffer = output_buffer
        try:
            with looking_only(looking), EnvironmentContext(
                    config, script, fn=fn, **context_args) as environment:
                if before_run is not None:
                    _check_first(environment, before_run)
                script.run_env()
        finally:
            if output_buffer is not None:
                config.output_buffer = None
            note_imported(script.dir)  # what env.py and the revisions imported, as it is now
        if errors:
            # env.py ran the migrations on a thread of its own, and that thread raised:
            # the run failed, as the caller must hear (the thread cannot tell it).
            raise errors[0]
    return out


def _check_first(environment: EnvironmentContext,
                 before_run: Callable[[MigrationContext], None]) -> None:
    """Have ``environment.run_migrations`` call ``before_run`` first. On the instance:
    env.py's ``context.run_migrations()`` reaches it through Alembic's ``context``
    proxy, which a subclass of EnvironmentContext would not be installed as."""
    run = environment.run_migrations

    def checked(**kw: Any) -> None:
        before_run(environment.get_context())
        run(**kw)

    setattr(environment, "run_migrations", checked)  # noqa: B010 (mypy: a method)


@contextmanager
def _thread_errors() -> Iterator[list[BaseException]]:
    """Collect what threads started by env.py raise, instead of printing it."""
    errors: list[BaseException] = []
    before = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not isinstance(args.exc_value, SystemExit):
            errors.append(args.exc_value)

    threading.excepthook = hook
    try:
        yield errors
    finally:
        threading.excepthook = before
