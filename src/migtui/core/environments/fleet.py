"""Several databases of one project side by side: read each, tell drift.

A :class:`Fleet` holds one :class:`Project` per environment, all sharing the base
project's revision files (one reader, one cache, one script directory); only the
Alembic config differs (the URL and ``-x`` arguments of the environment). Reading an
environment is ``project.status()``, env.py run as ``alembic current`` does, with the
looking-only connect, lock and statement timeouts. Those runs take the process-wide
ENV_LOCK one after another (env.py mutates process state), so only an environment whose
server ``reach`` has asked first is read in this process; one whose URL only env.py
knows is read in a process of its own (core/environments/reading.py), so that a server
that does not answer, or a lock another session holds, keeps no other read waiting.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from migtui.core.actions.config import open_config
from migtui.core.actions.project import Project
from migtui.core.environments.config import (
    Environment,
    EnvironmentsConfig,
    config_folder,
    load_environments,
)
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import DatabaseState, DatabaseStatus, RevisionGraph, Snapshot

if TYPE_CHECKING:
    from migtui.core.schema.model import SchemaInfo

# The name of the single environment of a project that configures none.
PROJECT_DATABASE = "(project)"

# A schema's shape: table name -> (column name, type) pairs; what drift compares.
Shape = dict[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class EnvironmentRead:
    """What one environment's database holds, as last read."""

    environment: Environment
    snapshot: Snapshot
    read_at: float  # time.time() when it was read
    seconds: float  # how long reading it took

    @property
    def status(self) -> DatabaseStatus:
        return self.snapshot.database

    @property
    def pending(self) -> int:
        return len(self.snapshot.pending) if self.status.reachable else 0

    @property
    def at_head(self) -> bool:
        db = self.status
        return db.reachable and set(db.current_heads) == set(self.snapshot.graph.heads)


@dataclass(frozen=True)
class Drift:
    """Whether the live schema matches what its revision implies."""

    state: str  # "matches", "differs", "unknown" (nothing to compare with) or "error"
    text: str


class Fleet:
    """Every environment of a project; every method but ``environments`` blocks."""

    def __init__(self, project: Project, config: EnvironmentsConfig | None = None) -> None:
        self.project = project
        if config is None:
            folder = config_folder(project.info.config_file, project.options.cwd)
            config = load_environments(folder)
        self.config = config
        self._projects: dict[str, Project] = {}
        self._lock = threading.Lock()
        # (URL, schema) -> whether its server answered and its alembic_version could be
        # read, this round (a second asker waits for the first one's answer).
        self._reach: dict[tuple[str, str], Future[DatabaseStatus | None]] = {}

    def forget_reach(self) -> None:
        """Start a new round of reads: every server is asked again whether it answers."""
        with self._lock:
            self._reach.clear()

    def reach(self, env: Environment) -> DatabaseStatus | None:
        """The status of an environment whose server does not answer (or whose version
        table stays locked), found without env.py (and without waiting on another read);
        None when it answered or when env.py picks the URL (no ``url``)."""
        if not env.url:
            return None
        key = (env.url, env.schema)
        with self._lock:
            future = self._reach.get(key)
            mine = future is None
            if future is None:
                future = self._reach[key] = Future()
        if mine:
            from migtui.core.env.reach import unreachable  # SQLAlchemy: not before the paint

            try:
                future.set_result(unreachable(env.url, env.schema))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    @staticmethod
    def _read_here(env: Environment) -> bool:
        """Whether env.py may read ``env`` in this process, under ENV_LOCK: its URL is
        known, and either a SQLite file or a server that ``reach`` asks first."""
        if not env.url:
            return False
        from migtui.core.env.reach import asked_first

        return asked_first(env.url)

    @property
    def environments(self) -> tuple[Environment, ...]:
        """The configured environments, or the project's own database alone."""
        if self.config.environments:
            return self.config.environments
        return (Environment(PROJECT_DATABASE, "", protected=False),)

    def select(self, name: str) -> Environment:
        """The environment ``--env NAME`` names; MigtuiError saying which file and key
        when it is not configured or cannot be used."""
        try:
            return self.config.select(name)
        except ValueError as exc:
            raise MigtuiError(str(exc)) from exc

    def project_for(self, env: Environment) -> Project:
        """The project opened on this environment (made once; revision files shared)."""
        if env.problem:
            raise MigtuiError(env.problem)
        if env.name == PROJECT_DATABASE:
            return self.project
        with self._lock:
            made = self._projects.get(env.name)
            if made is None:
                options = env.options(self.project.options)
                made = Project(open_config(options), options)
                made.revisions = self.project.revisions  # one reader and cache of the files
                self._projects[env.name] = made
            return made

    def read(self, env: Environment) -> EnvironmentRead:
        """Read one environment's current revision(s); never raises."""
        got: list[EnvironmentRead] = []
        self.read_each((env,), got.append)
        return got[0]

    def read_each(self, envs: Sequence[Environment], on_read: Callable[[EnvironmentRead], None],
                  workers: int = 16) -> None:
        """Read every one of ``envs``, handing each read to ``on_read`` (from another
        thread) as it arrives; blocks until all are read, never raises.

        Those whose URL is known are read here by ``workers`` threads at once (env.py
        under ENV_LOCK, after ``reach`` asked the server); those whose URL only env.py
        knows in a few processes of their own (core/environments/reading.py). Every one
        is told: whatever goes wrong in its work (even ``on_read`` raising) becomes its
        error status, told once more at the end."""
        from migtui.core.environments.reading import read_apart, start_reading

        started = time.perf_counter()
        graph = self.project.graph()
        here = [env for env in envs if self._read_here(env) and not env.problem]
        apart = [env for env in envs if env not in here and not env.problem]
        if apart:
            start_reading()  # while the rest is set up
        told: set[int] = set()  # ids of the environments on_read has taken a read of
        failed: dict[int, MigtuiError] = {}  # why telling one its read failed

        def tell(env: Environment, status: DatabaseStatus, at: float) -> None:
            try:
                on_read(self._made(env, status, graph, at))
            except Exception as exc:
                with self._lock:
                    failed[id(env)] = from_exception(exc, "Its read could not be shown")
                return
            with self._lock:
                told.add(id(env))

        for env in envs:
            if env.problem:
                tell(env, _failed_status(env, MigtuiError(env.problem)), started)

        def read_here(env: Environment) -> None:
            at = time.perf_counter()
            try:
                status = self.reach(env) or self.project_for(env).status()
            except BaseException as exc:  # anything: this environment must still report
                status = _failed_status(env, exc)
            tell(env, status, at)

        try:
            with ThreadPoolExecutor(max(1, min(workers, len(here)))) as pool:
                for env in here:
                    pool.submit(read_here, env)
                read_apart([e.options(self.project.options) for e in apart],
                           lambda i, status: tell(apart[i], status, started))
        finally:
            for env in envs:  # those never told: their error (once; on_read may fail again)
                if id(env) not in told:
                    why = failed.get(id(env)) or MigtuiError("This environment was not read")
                    with contextlib.suppress(Exception):
                        on_read(self._made(env, _failed_status(env, why), graph, started))

    def _made(self, env: Environment, status: DatabaseStatus, graph: RevisionGraph,
              started: float) -> EnvironmentRead:
        if status.reachable and not status.url and env.display_url:
            status = replace(status, url=env.display_url)
        return EnvironmentRead(env, Snapshot(self.project.info, graph, status), time.time(),
                               time.perf_counter() - started)

    def read_all(self, workers: int = 16) -> tuple[EnvironmentRead, ...]:
        """Every environment, read at once (``read_each``), in configuration order (the
        benchmark's fleet read)."""
        self.forget_reach()
        reads: dict[str, EnvironmentRead] = {}
        self.read_each(self.environments, lambda r: reads.update({r.environment.name: r}),
                       workers)
        return tuple(reads[e.name] for e in self.environments)

    # -- drift -------------------------------------------------------------

    def drift(self, read: EnvironmentRead, others: Sequence[EnvironmentRead]) -> Drift:
        """At head: autogenerate of the models against it. Elsewhere: its schema compared
        with the other (ungrouped) environments on the same revision."""
        if not read.status.reachable:
            return Drift("unknown", "not read")
        if read.status.error:  # e.g. a SQLite file that does not exist yet
            return Drift("unknown", "no database yet")
        project = self.project_for(read.environment)
        if read.at_head:
            from migtui.core.autogen.diff import DiffState, compute_diff  # multiprocessing

            diff = compute_diff(project)
            if diff.state is DiffState.MATCHES:
                return Drift("matches", "matches the models")
            if diff.state is DiffState.DIFFERS:
                ops = ", ".join(f"{op.kind} {op.table}.{op.name}".rstrip(".")
                                for op in diff.operations[:3])
                more = f" (+{len(diff.operations) - 3})" if len(diff.operations) > 3 else ""
                return Drift("differs", f"differs from the models: {ops}{more}")
            if diff.state is DiffState.NO_METADATA:
                return Drift("unknown", "env.py sets no target_metadata")
            return Drift("error", diff.error or "the comparison failed")
        peers = [o for o in others if o.environment.name != read.environment.name
                 and not o.environment.group and o.status.reachable and not o.status.error
                 and set(o.status.current_heads) == set(read.status.current_heads)]
        if not peers:
            return Drift("unknown", "no peer on this revision")
        try:
            mine = _shape(_read_schema(project), None)
            theirs = _shape(_read_schema(self.project_for(peers[0].environment)), None)
        except MigtuiError as exc:
            return Drift("error", exc.message)
        return _compare(mine, theirs, peers[0].environment.name)

    def group_drift(self, reads: Sequence[EnvironmentRead]) -> dict[str, Drift]:
        """Drift of the tenants of one group (one database): each tenant's schema compared
        with the most common shape among the tenants on the same revision."""
        usable = [r for r in reads if r.status.reachable and not r.status.error]
        out = {r.environment.name: Drift("unknown", "not read") for r in reads}
        if not usable:
            return out
        try:
            schema = _read_schema(self.project_for(usable[0].environment))
        except MigtuiError as exc:
            return {name: Drift("error", exc.message) for name in out}
        by_heads: dict[frozenset[str], list[EnvironmentRead]] = {}
        for r in usable:
            by_heads.setdefault(frozenset(r.status.current_heads), []).append(r)
        for peers in by_heads.values():
            shapes = {r.environment.name: _shape(schema, r.environment.schema) for r in peers}
            if len(peers) < 2:
                name = peers[0].environment.name
                out[name] = Drift("unknown", "no peer on this revision")
                continue
            counts = Counter(_frozen(s) for s in shapes.values())
            common_key, _ = counts.most_common(1)[0]
            common = next(s for s in shapes.values() if _frozen(s) == common_key)
            for name, shape in shapes.items():
                out[name] = _compare(shape, common, "the others")
        return out


def _failed_status(env: Environment, exc: BaseException) -> DatabaseStatus:
    err = from_exception(exc, "Cannot open this environment")
    return DatabaseStatus(DatabaseState.UNREACHABLE, url=env.display_url, error=err.message,
                          error_details=err.details, cause="config")


def _read_schema(project: Project) -> SchemaInfo:
    from migtui.core.schema.inspector import DatabaseInspector  # SQLAlchemy: when asked

    inspector = DatabaseInspector(project)
    try:
        return inspector.read_schema()
    finally:
        inspector.close()


def _shape(schema: SchemaInfo, name: str | None) -> Shape:
    """The tables of one schema (None: the default one), without Alembic's version table."""
    version = schema.version_table.name
    return {t.ref.name: frozenset((c.name, _type(c.type)) for c in t.columns)
            for t in schema.tables
            if t.ref.schema == name and t.kind == "table" and t.ref.name != version}


def _type(text: str) -> str:
    """A column type as the schemas of two dialects can agree on: MySQL's display width
    of an integer (``INTEGER(11)``) is no part of its type."""
    text = text.upper()
    match = _INTEGER_WIDTH.fullmatch(text)
    if match is None:
        return text
    return {"INT": "INTEGER"}.get(match.group(1), match.group(1)) + match.group(2)


_INTEGER_WIDTH = re.compile(r"(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT)(?:\(\d+\))?"
                            r"((?: UNSIGNED)?)")


def _frozen(shape: Shape) -> frozenset[tuple[str, frozenset[tuple[str, str]]]]:
    return frozenset(shape.items())


def _compare(mine: Shape, theirs: Shape, other: str) -> Drift:
    differences: list[str] = []
    for table in sorted(set(mine) | set(theirs)):
        if table not in theirs:
            differences.append(f"extra table {table}")
        elif table not in mine:
            differences.append(f"missing table {table}")
        else:
            extra = sorted(n for n, _ in mine[table] - theirs[table])
            missing = sorted(n for n, _ in theirs[table] - mine[table])
            differences += [f"column {table}.{n} differs" if n in missing else
                            f"extra column {table}.{n}" for n in extra]
            differences += [f"missing column {table}.{n}" for n in missing if n not in extra]
    if not differences:
        return Drift("matches", f"same as {other}")
    more = f" (+{len(differences) - 3})" if len(differences) > 3 else ""
    return Drift("differs", f"differs from {other}: {', '.join(differences[:3])}{more}")
