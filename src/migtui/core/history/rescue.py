"""Rescue a database that is on a revision no file defines.

After switching git branches (or deleting a file) the database can be on a revision
the working tree does not have: Alembic then says "Can't locate revision identified by
…". :func:`find_rescue` searches the project's git history (every branch) for the file
that defined it, follows its chain down to a revision the working tree knows (the
common ancestor) and offers two ways out, each a frozen plan for the usual
confirmation:

* ``"restore"``: the missing files are copied from git into a temp folder that is
  added to ``version_locations`` for this run only (never into the user's tree); the
  database is downgraded to the common ancestor with them, then upgraded along the
  current branch;
* ``"stamp"``: the database is stamped to the common ancestor; nothing runs, so the
  schema keeps what the missing revisions did (their recorded operations are listed).

Without git, or without the file in history, the finding says so and only the stamp
(with ``--purge``) of any revision remains, as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from migtui.core.actions.config import open_config
from migtui.core.actions.plan import Plan, plan_downgrade, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.env.capture import LineSink
from migtui.core.errors import MigtuiError, PlanChanged
from migtui.core.history import git
from migtui.core.history.applied import record_applied
from migtui.core.models import ActionResult, Snapshot
from migtui.core.revisions.headers import NotPlain, read_header


@dataclass(frozen=True)
class MissingRevision:
    """A revision the database has applied whose file is only in git history."""

    revision: str
    message: str
    down_revisions: tuple[str, ...]
    path: str  # in the repository
    commit: git.Commit
    operations: tuple[str, ...] = ()  # what its upgrade() did, recorded offline


@dataclass(frozen=True)
class Rescue:
    """Where an unknown database revision came from, and the two ways back."""

    unknown: str  # the database revision no file defines
    found: bool
    why: str = ""  # when not found: git missing, or the file is in no commit
    chain: tuple[MissingRevision, ...] = ()  # from the unknown revision down
    ancestor: str = ""  # the first revision the working tree knows ("base": none)
    head: str = ""  # the working tree's head to upgrade to afterwards
    folder: str = ""  # the temp folder holding the restored files
    down: Plan | None = None  # downgrade to the ancestor with the restored files
    up: Plan | None = None  # then upgrade to ``head`` along the current branch
    stamp: Plan | None = None  # or stamp the ancestor (nothing runs)

    @property
    def commit(self) -> git.Commit | None:
        return self.chain[0].commit if self.chain else None

    def plan(self, choice: str) -> Plan:
        """What the confirmation shows for ``choice`` ("restore" or "stamp")."""
        if choice == "stamp" and self.stamp is not None:
            return self.stamp
        if choice == "restore" and self.down is not None:
            up = self.up.steps if self.up is not None else ()
            to = f", then upgrade to {self.head[:12]}" if up else ""
            return replace(self.down, steps=(*self.down.steps, *up), description=(
                f"Restore {len(self.chain)} file(s) from git for this run, downgrade to "
                f"{self.ancestor[:12]}{to}"))
        raise MigtuiError(f"No {choice} plan for {self.unknown[:12]}")

    def notice(self, choice: str) -> str:
        """The warning the confirmation shows for ``choice``."""
        if choice == "stamp":
            ops = "; ".join(f"{m.revision[:12]}: {', '.join(m.operations) or 'no operations'}"
                            for m in self.chain)
            return (f"Stamping {self.ancestor[:12]} runs nothing: the schema keeps what the "
                    f"missing revisions did and then differs from the files ({ops})")
        return (f"The files of {', '.join(m.revision[:12] for m in self.chain)} are copied "
                f"from git commit {self.chain[0].commit.short} into {self.folder} for this "
                "run only; your working tree is not touched")


def _script_folders(project: Project) -> list[str]:
    script = project.script()
    return [str(p) for p in script._version_locations if Path(p).is_dir()]


def _header(source: bytes, path: str) -> tuple[tuple[str, ...], str]:
    """(down revisions, message) of a revision file's source."""
    try:
        header = read_header(source, path)
    except (NotPlain, SyntaxError, ValueError):
        return (), ""
    down = header.down_revision
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    message = (header.doc or "").strip().splitlines()
    return downs, message[0] if message else ""


def find_rescue(project: Project, snapshot: Snapshot) -> Rescue:
    """Search git for the database's unknown revision; the plans to get back (blocks)."""
    unknown = next((h for h in snapshot.database.current_heads if h not in snapshot.graph),
                   "")
    if not unknown:
        raise MigtuiError("The database is on no unknown revision: nothing to rescue")
    folders = _script_folders(project)
    try:
        root = git.repo_root(folders[0] if folders else project.options.cwd)
        first = git.find_definition(root, folders, unknown)
    except git.GitUnavailable as exc:
        return Rescue(unknown, False, f"git cannot help: {exc}")
    if first is None:
        return Rescue(unknown, False,
                      f"no commit on any branch has a file defining {unknown[:12]}")
    chain: list[tuple[str, str, str, bytes]] = []  # revision, commit, path, source
    ancestors: list[str] = []
    todo, seen = [(unknown, first)], set()
    try:
        while todo:
            revision, (commit, path) = todo.pop()
            if revision in seen:
                continue
            seen.add(revision)
            source = git.show(root, commit, path)
            chain.append((revision, commit, path, source))
            for down in _header(source, path)[0] or ("base",):
                if down == "base" or down in snapshot.graph:
                    ancestors.append(down)
                    continue
                where = git.grep_definition(root, commit, folders, down)
                found = (commit, where) if where else git.find_definition(root, folders, down)
                if found is None:
                    return Rescue(unknown, False, f"{down[:12]}, below {revision[:12]}, is "
                                  "in no commit either")
                todo.append((down, found))
        commits = {c: git.commit_info(root, c) for c in {item[1] for item in chain}}
    except git.GitUnavailable as exc:
        return Rescue(unknown, False, f"git cannot help: {exc}")
    folder = tempfile.mkdtemp(prefix="migtui-rescue-")
    for _revision, _commit, path, source in chain:
        Path(folder, os.path.basename(path)).write_bytes(source)
    missing = tuple(
        MissingRevision(r, _header(s, p)[1], _header(s, p)[0], p, commits[c])
        for r, c, p, s in chain)
    return _plans(project, snapshot, Rescue(unknown, True, chain=missing,
                                           ancestor=ancestors[0], folder=folder))


def temp_project(project: Project, folder: str) -> Project:
    """The project with ``folder`` added to its version locations, for one run."""
    config = open_config(project.options)
    locations = [str(p) for p in project.script()._version_locations]
    config.get_version_locations_list = (  # type: ignore[method-assign]
        lambda: [*locations, folder])
    return Project(config, project.options)


def _plans(project: Project, snapshot: Snapshot, rescue: Rescue) -> Rescue:
    restored = temp_project(project, rescue.folder)
    there = restored.snapshot()
    dialect = snapshot.database.dialect
    chain = tuple(replace(m, operations=_upgrade_ops(restored, m.revision, dialect))
                  for m in rescue.chain)
    target = rescue.ancestor
    down = plan_downgrade(there, target)
    heads = snapshot.graph.heads
    head = heads[0] if heads else ""
    at_ancestor = Snapshot(snapshot.project, snapshot.graph, replace(
        snapshot.database, current_heads=() if target == "base" else (target,)))
    up = plan_upgrade(at_ancestor, head) if head else None
    stamp = Plan("stamp", target, (), f"Stamp {target[:12]} (no migration runs; the "
                 f"missing revisions stay in the schema)", snapshot.database.current_heads,
                 "", snapshot.database.identity)
    return replace(rescue, chain=chain, head=head, down=down, up=up, stamp=stamp)


def _upgrade_ops(project: Project, revision: str, dialect: str) -> tuple[str, ...]:
    from migtui.core.checks.preflight import revision_operations  # SQLAlchemy: when asked

    try:
        found = revision_operations(project, revision, dialect)
    except Exception:
        return ()
    return next((f.operations for f in found if f.name == "upgrade"), ())


def discard(rescue: Rescue) -> None:
    """Remove the temp folder of restored files."""
    if rescue.folder and os.path.basename(rescue.folder).startswith("migtui-rescue-"):
        shutil.rmtree(rescue.folder, ignore_errors=True)


def run_rescue(project: Project, rescue: Rescue, choice: str,
               on_line: LineSink | None = None) -> ActionResult:
    """Run the confirmed rescue ("restore" or "stamp"); the temp folder is removed after."""
    try:
        if choice == "stamp" and rescue.stamp is not None:
            stamp = rescue.stamp
            # Alembic purges the version table first (its heads are unknown), so the
            # heads are compared here, just before, and not inside the run.
            now = project.status()
            if set(now.current_heads) != set(stamp.heads):
                raise PlanChanged("The database moved since you confirmed: nothing ran")
            return project.stamp(stamp.target, on_line)
        if rescue.down is None:
            raise MigtuiError(f"Nothing to restore for {rescue.unknown[:12]}")
        down = temp_project(project, rescue.folder).run_plan(rescue.down, on_line)
        if not down.ok or rescue.up is None or not rescue.up.steps:
            return down
        project.reload()
        up = project.run_plan(rescue.up, on_line)
        record_applied(project, up, rescue.up)
        return replace(up, action="upgrade", log=(*down.log, *up.log),
                       heads_before=down.heads_before, seconds=down.seconds + up.seconds,
                       steps=(*down.steps, *up.steps))
    finally:
        discard(rescue)
