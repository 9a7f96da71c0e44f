"""Rehearse a plan: run its steps for real inside one transaction, then roll back.

The steps run through Alembic and the project's own env.py, exactly as ``alembic
upgrade`` runs them (same connection, same ``context.configure`` options, same
batch mode), with three differences that keep everything in one transaction:

- the callback that hands Alembic its steps hands them one at a time, timing each,
  and raises after the last one, so env.py's transaction rolls back;
- Alembic's per-step transactions (``transaction_per_migration``, and the per-step
  commits it makes on databases without transactional DDL) are turned off for this
  run, and ``autocommit_block()`` refuses to run;
- on SQLite, whose Python driver does not open a transaction before DDL, a BEGIN is
  issued when SQLAlchemy begins, so CREATE/ALTER/DROP are inside it too (the
  SQLAlchemy recipe for transactional DDL on pysqlite); any COMMIT is refused.

Before and after, the schema (tables, columns, indexes, keys) and the alembic_version
rows are read and compared; the report says whether they are identical.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext

from migtui.core.actions.plan import Plan
from migtui.core.checks.probes import read_live
from migtui.core.checks.recorder import RecordedFunction, sql_of
from migtui.core.env.looking import SqliteFileMissing
from migtui.core.env.mysql import display_name
from migtui.core.env.runner import run_env
from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.revisions.source import read_function
from migtui.core.secrets import scrub_secrets

if TYPE_CHECKING:
    from migtui.core.actions.project import Project

_NOT_IN_TRANSACTION = {
    "postgresql": re.compile(
        r"\b(CONCURRENTLY|VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|"
        r"CREATE\s+TABLESPACE|DROP\s+TABLESPACE)\b", re.IGNORECASE),
    "sqlite": re.compile(r"\b(VACUUM|PRAGMA\s+(foreign_keys|journal_mode|legacy_alter_table))\b",
                         re.IGNORECASE),
}


@dataclass(frozen=True)
class StepRun:
    """How one step went in the rehearsal."""

    revision: str
    direction: str
    ok: bool
    seconds: float
    statements: int
    error: str = ""
    statement: str = ""  # the SQL statement that failed, if one did


@dataclass(frozen=True)
class Rehearsal:
    """The report of a rehearsal: each step that ran, and whether all was rolled back."""

    steps: tuple[StepRun, ...]
    not_reached: tuple[str, ...] = ()  # steps after the one that failed
    unchanged: bool = False  # schema and alembic_version verified as before
    differences: tuple[str, ...] = ()
    error: str = ""  # the rehearsal itself could not run, or failed outside the steps
    details: str = ""

    @property
    def ok(self) -> bool:
        """Every step ran and the database is as before."""
        return bool(self.steps) and all(s.ok for s in self.steps) and not self.error \
            and not self.not_reached and self.unchanged


def rehearsal_blocker(plan: Plan, recorded: list[RecordedFunction], dialect: str) -> str:
    """Why ``plan`` cannot run inside one rolled-back transaction, or "" when it can."""
    if plan.action not in ("upgrade", "downgrade") or not plan.steps:
        return "only upgrades and downgrades that run something can be rehearsed"
    if dialect not in _NOT_IN_TRANSACTION:
        name = display_name(dialect) if dialect else "this database"
        return (f"{name} commits DDL as it runs: a rehearsal could not be rolled back "
                "(rehearsals run on PostgreSQL and SQLite)")
    for fn in recorded:
        short = fn.revision[:12]
        source = read_function(fn.path, fn.name) if fn.static else None
        if fn.autocommit or (source is not None and "autocommit_block" in source.risks):
            return (f"{short} uses autocommit_block(), which commits mid-way: it cannot "
                    "run inside one transaction")
        for rec in fn.ops:
            if getattr(rec.op, "kw", {}).get("postgresql_concurrently"):
                return (f"{short} builds or drops an index CONCURRENTLY, which PostgreSQL "
                        "refuses inside a transaction")
            sql = sql_of(rec, fn.dialect)
            if sql and _NOT_IN_TRANSACTION[dialect].search(sql):
                return f"{short} runs SQL that cannot run inside a transaction: {one_line(sql, 80)}"
    return ""


# -- one transaction, whatever env.py says ------------------------------------------

_active = threading.local()


class _Rollback(BaseException):
    """Raised after the last step so that env.py rolls its transaction back."""


class _Refused(MigtuiError):
    """Something would have committed in the middle of a rehearsal (said as it is:
    no class name in front)."""


@dataclass
class _Progress:
    current: str = ""
    direction: str = ""
    started: float = 0.0
    statements: int = 0
    runs: list[StepRun] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    finished: bool = False
    # The first database error of the current step: later ones (say, a cleanup that
    # runs in the aborted transaction) would hide the statement that really failed.
    first_error: tuple[str, str] | None = None


def _progress() -> _Progress | None:
    return getattr(_active, "progress", None)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    """While rehearsing on SQLite, put DDL inside the transaction (pysqlite does not)."""
    if _progress() is not None and conn.dialect.name == "sqlite":
        dbapi = conn.connection.dbapi_connection
        if not getattr(dbapi, "in_transaction", False):
            conn.exec_driver_sql("BEGIN")


@event.listens_for(Engine, "commit")
def _refuse_commit(conn: Connection) -> None:
    """Nothing commits during a rehearsal."""
    if _progress() is not None:
        raise _Refused("a COMMIT was asked for (env.py's own connection.commit(), or a "
                       "step's), and a rehearsal keeps nothing: it stopped there, "
                       "before anything was committed")


@event.listens_for(Engine, "handle_error")
def _first_error(context: ExceptionContext) -> None:
    progress = _progress()
    if progress is not None and progress.current and progress.first_error is None:
        exc = context.sqlalchemy_exception or context.original_exception
        progress.first_error = (from_exception(exc).message, _statement(exc))


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
    progress = _progress()
    if progress is not None:
        progress.statements += 1


def fingerprint(conn: Connection, version_table: str = "alembic_version",
                version_schema: str | None = None) -> dict[str, Any]:
    """Tables, columns, indexes, keys and alembic_version rows, comparable with ==."""
    inspector = sa.inspect(conn)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        columns = [(c["name"], str(c["type"]), c["nullable"]) for c in
                   inspector.get_columns(table)]
        indexes = sorted((i["name"] or "", tuple(str(c) for c in i["column_names"]),
                          bool(i["unique"])) for i in inspector.get_indexes(table))
        keys = sorted((k["name"] or "", tuple(k["constrained_columns"]), k["referred_table"],
                       tuple(k["referred_columns"])) for k in inspector.get_foreign_keys(table))
        uniques = sorted((u["name"] or "", tuple(u["column_names"]))
                         for u in inspector.get_unique_constraints(table))
        pk = tuple(inspector.get_pk_constraint(table).get("constrained_columns") or ())
        found[f"table {table}"] = (columns, indexes, keys, uniques, pk)
    found["views"] = tuple(sorted(inspector.get_view_names()))
    if inspector.has_table(version_table, schema=version_schema):
        versions = sa.table(version_table, sa.column("version_num"), schema=version_schema)
        found["alembic_version"] = tuple(sorted(conn.execute(
            sa.select(versions.c.version_num)).scalars()))
    else:
        found["alembic_version"] = None
    return found


def _differences(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    keys = sorted(set(before) | set(after))
    return tuple(
        f"{key}: {'added' if key not in before else 'gone' if key not in after else 'changed'}"
        for key in keys if before.get(key) != after.get(key)
    )


def _version_opts(context: MigrationContext) -> tuple[str, str | None]:
    opts = context.opts
    return str(opts.get("version_table") or "alembic_version"), opts.get("version_table_schema")


def _refuse_autocommit() -> Iterator[None]:
    raise _Refused("autocommit_block() would commit mid-way: the rehearsal stopped there")


def _steps(progress: _Progress, steps: list[Any]) -> Iterator[Any]:
    """Hand Alembic one step at a time; time each; stop with a rollback after the last."""
    progress.remaining = [str(s.revision.revision) for s in steps if hasattr(s, "revision")]
    for step in steps:
        revision = str(getattr(getattr(step, "revision", None), "revision", "?"))
        progress.current, progress.statements, progress.first_error = revision, 0, None
        progress.direction = "upgrade" if step.is_upgrade else "downgrade"
        progress.started = time.perf_counter()
        yield step
        progress.runs.append(StepRun(revision, progress.direction, True,
                                     time.perf_counter() - progress.started,
                                     progress.statements))
        progress.remaining.remove(revision) if revision in progress.remaining else None
        progress.current = ""
    progress.finished = True
    raise _Rollback


def _statement(exc: BaseException) -> str:
    statement = getattr(exc, "statement", None)
    if not isinstance(statement, str):
        return ""
    return scrub_secrets(re.sub(r"\s+", " ", statement).strip())


def _read_fingerprint(project: Project) -> tuple[dict[str, Any] | None, str]:
    found: dict[str, Any] = {}

    def work(conn: Connection, context: MigrationContext) -> None:
        found.update(fingerprint(conn, *_version_opts(context)))

    note = read_live(project.config, project.script(), work)
    return (found if not note else None), note


def rehearse(project: Project, plan: Plan, expected_heads: tuple[str, ...]) -> Rehearsal:
    """Run ``plan`` inside one transaction through env.py, report each step, roll back."""
    script = project.script()
    before, note = _read_fingerprint(project)
    if before is None:
        return Rehearsal((), error=f"Cannot rehearse: {note}")
    progress = _Progress()
    called: list[bool] = []

    def run(rev: Any, context: MigrationContext) -> Iterator[Any]:
        called.append(True)
        heads: Any = tuple(rev)
        if set(heads) != set(expected_heads):
            now = ", ".join(h[:12] for h in heads) or "base"
            raise _Refused(f"the database moved to {now} since this was planned: plan again")
        # One transaction for every step, and nothing that commits half-way.
        context.begin_transaction = (  # type: ignore[method-assign]
            lambda _per_migration=False: nullcontext())
        context.autocommit_block = _refuse_autocommit  # type: ignore[method-assign,assignment]
        if plan.action == "upgrade":
            steps = script._upgrade_revs(plan.target, heads)
        else:
            steps = script._downgrade_revs(plan.target, heads)
        return _steps(progress, list(steps))

    error = details = ""
    failed: StepRun | None = None
    _active.progress = progress
    try:
        run_env(project.config, script, run, as_sql=False, destination_rev=plan.target)
    except _Rollback:
        pass
    except SqliteFileMissing:
        error = "Cannot rehearse: the database file does not exist yet"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a failing step, or env.py itself
        err = from_exception(exc)
        if progress.current:
            message, statement = progress.first_error or (err.message, _statement(exc))
            failed = StepRun(progress.current, progress.direction, False,
                             time.perf_counter() - progress.started, progress.statements,
                             message, statement)
            details = err.details
        else:
            error, details = f"The rehearsal could not run: {err.message}", err.details
    finally:
        _active.progress = None
    if not error and failed is None and not progress.finished:
        error = ("env.py did not run the steps (offline mode?)" if not called else
                 "env.py swallowed the rehearsal's stop signal: check what it committed")
    after, note = _read_fingerprint(project)
    runs = [*progress.runs, *([failed] if failed else [])]
    not_reached = tuple(r for r in progress.remaining if not failed or r != failed.revision)
    if after is None:
        return Rehearsal(tuple(runs), not_reached, False, (f"not verified: {note}",),
                         error, details)
    differences = _differences(before, after)
    return Rehearsal(tuple(runs), not_reached, not differences, differences, error, details)
