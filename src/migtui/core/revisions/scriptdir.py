"""An Alembic ScriptDirectory built from already-read revision headers.

``alembic.command.upgrade`` and friends build a new ``ScriptDirectory`` on every call,
which imports every revision file again. Here the script directory is built once per
set of files: its revisions come from the headers migtui already read
(:mod:`migtui.core.revisions.files`), and each revision's module is imported only when Alembic
first needs it (to run its ``upgrade()``/``downgrade()``). The ``run_*`` functions are
line-for-line mirrors of ``alembic.command.upgrade``/``downgrade``/``stamp`` that take
this script directory instead of building a new one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from alembic import util
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import Revision, RevisionMap

from migtui.core.env.capture import CapturedOutput, keep_on_sys_path
from migtui.core.env.runner import run_env
from migtui.core.env.status import context_database
from migtui.core.env.watch import Watch
from migtui.core.errors import MigtuiError, PlanChanged
from migtui.core.models import ScriptProblem
from migtui.core.revisions.files import problem_from
from migtui.core.revisions.headers import Header
from migtui.core.revisions.reader import SOURCE_HASH, FileKey, hash_on_disk, load_module
from migtui.core.revisions.touched import touched_tables

ProblemSink = Callable[[ScriptProblem], None]


class LazyScript(Script):
    """A Script made from a header; its module is imported on first use."""

    def __init__(
        self, path: str, key: FileKey, header: Header, on_problem: ProblemSink | None = None,
    ) -> None:
        self.path = path
        self._key = key
        self._header = header
        self._on_problem = on_problem
        self._module: ModuleType | None = None
        # What Script.__init__ does, with the header's values instead of the module's.
        Revision.__init__(
            self, header.revision, header.down_revision,
            branch_labels=util.to_tuple(header.branch_labels, default=()),
            dependencies=util.to_tuple(header.depends_on, default=()),
        )

    @property  # type: ignore[override]
    def module(self) -> ModuleType:
        """The revision module, imported (once per file version) the first time it is used."""
        if self._module is None:
            try:
                self._module = load_module(self.path, self._key)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                problem = problem_from(exc, self.path, "cannot be imported: ")
                if self._on_problem is not None:
                    self._on_problem(problem)
                raise MigtuiError(f"Revision file {problem.message}", problem.details) from exc
        return self._module

    @module.setter
    def module(self, value: ModuleType) -> None:
        self._module = value

    @property
    def longdoc(self) -> str:
        """The module docstring, from the header (no import needed)."""
        return (self._header.doc or "").strip()


@dataclass(frozen=True)
class Pinned:
    """What a confirmed plan expects when it runs: the database heads it was made from,
    and the revisions it runs with the hash of each file (``""``: not pinned)."""

    heads: frozenset[str] | None  # None: checked by the caller (a stamp with --purge)
    revisions: Mapping[str, str]  # revision id -> SHA-256 of its file
    database: str = ""  # where env.py connected (``context_database``); "": not pinned
    # Project modules known to have changed since imported (``Plan.stale_modules``).
    stale_modules: frozenset[str] | None = None

    def check(self, heads: Iterable[str], steps: Sequence[Any], database: str = "") -> None:
        """Raise PlanChanged unless ``database``, ``heads`` and ``steps`` are exactly what
        was pinned.

        Called inside the migration function, on the connection the steps will run on,
        after Alembic read the heads and before the first step runs.
        """
        self.check_database(database)
        self.check_imports()
        now = frozenset(heads)
        if self.heads is not None and now != self.heads:
            raise PlanChanged(
                f"The database moved from {heads_text(self.heads)} to {heads_text(now)} "
                "since you confirmed: nothing ran")
        ids = [step.revision.revision for step in steps]
        if set(ids) != set(self.revisions):
            added = sorted(set(ids) - set(self.revisions))
            missing = sorted(set(self.revisions) - set(ids))
            what = "; ".join(
                [f"it would also run {', '.join(r[:12] for r in added)}"] * bool(added)
                + [f"it would not run {', '.join(r[:12] for r in missing)}"] * bool(missing))
            raise PlanChanged(f"Alembic's plan differs from the one you confirmed ({what}): "
                              "nothing ran")
        for step in steps:
            rev = step.revision.revision
            pinned = self.revisions[rev]
            if not pinned:
                continue
            # The module that will run, compiled from the bytes that were hashed, and
            # the file as it is now (rewritten keeping its size and mtime, the module
            # would still be the one imported before).
            found = getattr(step.revision.module, SOURCE_HASH, "")
            path = getattr(step.revision, "path", None)
            path = os.path.realpath(path) if isinstance(path, str) else None
            try:
                on_disk = pinned if path is None else hash_on_disk(path)
            except OSError:
                on_disk = ""  # (removed since: changed as well)
            if found != pinned:
                raise PlanChanged(f"{rev[:12]}'s file changed since you confirmed: nothing ran")
            if on_disk != pinned:  # (maybe before the dialog: its size and mtime stayed)
                raise PlanChanged(
                    f"{rev[:12]}'s file on disk is not what migtui read and showed (it was "
                    "rewritten keeping its size and mtime): nothing ran",
                    rewritten=(path,) if path else ())

    def check_imports(self) -> None:
        """Raise PlanChanged if a module of the project changed on disk after the
        confirmation was shown: this process would run the copy it imported first, which
        the confirmation did not say."""
        if self.stale_modules is None:
            return
        from migtui.core.env.imported import changed_since_imported, short_names

        new = [p for p in changed_since_imported() if p not in self.stale_modules]
        if new:
            raise PlanChanged(
                f"{short_names(new, os.getcwd())} changed since you confirmed, and migtui "
                "runs the copy it imported first: nothing ran")

    def check_database(self, database: str) -> None:
        """Raise PlanChanged if env.py now connects to another database than the one the
        plan was made for (an env.py that picks its URL or schema as it runs)."""
        if not (self.database and database) or database == self.database:
            return
        pinned_url, _, pinned_table = self.database.partition(" (")
        # Pinned by its URL alone (a SQLite file that did not exist yet): the URL decides.
        if pinned_table or database.partition(" (")[0] != pinned_url:
            raise PlanChanged(f"env.py now connects to {database}, not to {self.database} "
                              "as when you confirmed: nothing ran")


def _attached(watch: Watch | None, context: Any, heads: Any) -> Any:
    """Start watching; if that waited for a lock, the heads are read again."""
    if watch is None or context.connection is None:
        return heads
    if watch.attach(context.connection):
        return tuple(context.get_current_heads())
    return heads


def heads_text(heads: frozenset[str]) -> str:
    """Revisions for a sentence: "a1b2c3, d4e5f6" or "base"."""
    return ", ".join(sorted(h[:12] for h in heads)) or "base"


def loaded_script_directory(
    config: Config, scripts: Callable[[], Iterable[Script]]
) -> ScriptDirectory:
    """``ScriptDirectory.from_config(config)`` whose revision map is built from ``scripts()``
    (called once, when Alembic first needs the map) instead of importing every file."""
    before = list(sys.path)
    # Kept before Alembic puts them first: an env.py run in another thread that puts
    # sys.path back meanwhile then keeps them too.
    keep_on_sys_path(list(getattr(config, "get_prepend_sys_paths_list", lambda: None)() or ()))
    script = ScriptDirectory.from_config(config)  # prepends prepend_sys_path, every time
    keep_on_sys_path([p for p in sys.path if p not in before])
    if len(set(sys.path)) != len(sys.path):
        sys.path[:] = list(dict.fromkeys(sys.path))
    script.revision_map = RevisionMap(scripts)
    return script


# -- mirrors of alembic.command, taking a script directory -------------------------


def run_upgrade(
    config: Config, script: ScriptDirectory, revision: str, sql: bool = False,
    tag: str | None = None, pinned: Pinned | None = None, watch: Watch | None = None,
    **run: Any,
) -> CapturedOutput:
    """``alembic.command.upgrade`` with the given script directory."""
    return _run_steps("upgrade", config, script, revision, sql, tag, pinned, watch, **run)


def run_downgrade(
    config: Config, script: ScriptDirectory, revision: str, sql: bool = False,
    tag: str | None = None, pinned: Pinned | None = None, watch: Watch | None = None,
    **run: Any,
) -> CapturedOutput:
    """``alembic.command.downgrade`` with the given script directory."""
    return _run_steps("downgrade", config, script, revision, sql, tag, pinned, watch, **run)


def _run_steps(
    direction: str, config: Config, script: ScriptDirectory, revision: str, sql: bool,
    tag: str | None, pinned: Pinned | None, watch: Watch | None, **run: Any,
) -> CapturedOutput:
    """What ``command.upgrade`` and ``command.downgrade`` share: the range rules, then
    env.py with a migration function that checks the pinned plan and notes each step."""
    starting_rev = None
    if ":" in revision:
        if not sql:
            raise util.CommandError("Range revision not allowed")
        starting_rev, revision = revision.split(":", 2)
    elif sql and direction == "downgrade":
        raise util.CommandError("downgrade with --sql requires <fromrev>:<torev>")
    walk = script._upgrade_revs if direction == "upgrade" else script._downgrade_revs

    def migrate(rev: Any, context: Any) -> Any:
        rev = _attached(watch, context, rev)
        steps = walk(revision, rev)
        if pinned is not None:
            pinned.check(rev, steps, context_database(context))
        return watch.each_step(steps, step_tables) if watch is not None else steps

    return run_env(
        config, script, migrate, looking=sql, as_sql=sql, starting_rev=starting_rev,
        destination_rev=revision, tag=tag, before_run=_before_run(pinned, watch), **run,
    )


def _before_run(pinned: Pinned | None, watch: Watch | None) -> Callable[[Any], None] | None:
    """What runs before Alembic reads the version table (and creates it where there is
    none): the pinned database is checked, so another database is left exactly as it
    was; the watch is attached, so a SQLite file another process holds is waited for
    visibly and cancellably (not in SQLite's silent busy wait on that first read)."""
    if (pinned is None or not pinned.database) and watch is None:
        return None

    def before(context: Any) -> None:
        if pinned is not None and pinned.database:
            pinned.check_database(context_database(context))
        if watch is not None and context.connection is not None:
            watch.attach(context.connection)

    return before


def step_tables(step: Any) -> frozenset[str] | None:
    """The tables one of Alembic's migration steps touches, from its file's source."""
    revision = getattr(step, "revision", None)
    function = "upgrade" if getattr(step, "is_upgrade", True) else "downgrade"
    return touched_tables(getattr(revision, "path", None), function)


def run_stamp(
    config: Config, script: ScriptDirectory, revision: str | list[str] | tuple[str, ...],
    sql: bool = False, tag: str | None = None, purge: bool = False,
    pinned: Pinned | None = None, watch: Watch | None = None, **run: Any,
) -> CapturedOutput:
    """``alembic.command.stamp`` with the given script directory."""
    starting_rev = None
    destination_revs: list[str]
    if sql:
        destination_revs = []
        for _revision in util.to_list(revision):
            if ":" in _revision:
                srev, _revision = _revision.split(":", 2)
                if starting_rev != srev:
                    if starting_rev is None:
                        starting_rev = srev
                    else:
                        raise util.CommandError(
                            "Stamp operation with --sql only supports a "
                            "single starting revision at a time"
                        )
            destination_revs.append(_revision)
    else:
        destination_revs = util.to_list(revision)

    def do_stamp(rev: Any, context: Any) -> Any:
        rev = _attached(watch, context, rev)
        if pinned is not None:
            pinned.check(rev, [], context_database(context))
        return script._stamp_revs(util.to_tuple(destination_revs), rev)

    return run_env(
        config, script, do_stamp, looking=sql, as_sql=sql,
        starting_rev=starting_rev if sql else None,
        destination_rev=util.to_tuple(destination_revs), tag=tag, purge=purge,
        before_run=_before_run(pinned, watch), **run,
    )
