"""Plain frozen dataclasses that the core hands to the UI.

Nothing here refers to Alembic or SQLAlchemy objects: screens and widgets only ever
see these.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property


@dataclass(frozen=True)
class Revision:
    """One revision file, in Alembic's own terms."""

    revision: str
    down_revisions: tuple[str, ...]
    children: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    message: str = ""
    date: str | None = None
    path: str | None = None
    is_head: bool = False
    is_base: bool = False

    @property
    def short(self) -> str:
        """The first twelve characters of the revision id."""
        return self.revision[:12]

    @property
    def is_branch_point(self) -> bool:
        return len(self.children) > 1

    @property
    def is_merge_point(self) -> bool:
        return len(self.down_revisions) > 1


@dataclass(frozen=True)
class ScriptProblem:
    """A revision file that could not be read, or a graph inconsistency."""

    message: str
    path: str | None = None
    line: int | None = None
    details: str = ""
    kind: str = "file"  # "file": the file cannot be read or imported; "graph": the history


@dataclass(frozen=True)
class RevisionGraph:
    """Every revision, newest first (a topological order: children before parents)."""

    revisions: tuple[Revision, ...]
    heads: tuple[str, ...]
    bases: tuple[str, ...]
    problems: tuple[ScriptProblem, ...] = ()
    _index: Mapping[str, Revision] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self._index:
            object.__setattr__(self, "_index", {r.revision: r for r in self.revisions})

    def __len__(self) -> int:
        return len(self.revisions)

    def __iter__(self) -> Iterator[Revision]:
        return iter(self.revisions)

    def get(self, revision: str) -> Revision | None:
        """The revision with exactly this id, or None."""
        return self._index.get(revision)

    def __contains__(self, revision: object) -> bool:
        return revision in self._index

    def ancestors(self, revisions: tuple[str, ...]) -> frozenset[str]:
        """The given revisions and everything below them (what the database has applied)."""
        seen: set[str] = set()
        stack = [r for r in revisions if r in self._index]
        while stack:
            rev = stack.pop()
            if rev in seen:
                continue
            seen.add(rev)
            node = self._index[rev]
            stack.extend(p for p in (*node.down_revisions, *node.dependencies) if p in self._index)
        return frozenset(seen)

    def descendants(self, revisions: tuple[str, ...]) -> frozenset[str]:
        """Everything above the given revisions: their children, theirs, and so on."""
        seen: set[str] = set()
        stack = list(revisions)
        while stack:
            node = self._index.get(stack.pop())
            if node is None:
                continue
            for child in node.children:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return frozenset(seen)


class DatabaseState(str, Enum):
    """How far the core got in reading the database."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class DatabaseStatus:
    """What the database the project's env.py connects to holds."""

    state: DatabaseState
    url: str = ""  # password masked
    dialect: str = ""
    current_heads: tuple[str, ...] = ()
    error: str = ""
    error_details: str = ""
    unknown_heads: tuple[str, ...] = ()  # applied revisions that no file defines
    # Why it was not read: "connection" (the database did not answer), "login" (it
    # answered and refused the user or password), "env.py" (env.py
    # or the config it reads failed before connecting), "lock" (its alembic_version stayed
    # locked by another session), "version table" (connected, but reading alembic_version
    # failed: a permission, a lock), "" when it was read.
    cause: str = ""
    # Which database and version table env.py connected to (``context_database``): a
    # plan made from this read runs only where env.py connects to the same.
    identity: str = ""
    # The URL migtui gave env.py (``--url``, an environment's ``url``), masked, when
    # env.py connected to another database with it (it picks its own URL): "" if not.
    unused_url: str = ""
    # The read's own process ended without an answer (env.py may end any process that
    # runs it: os._exit, a crash): the next read runs apart again, not in the app's.
    process_ended: bool = False

    @property
    def reachable(self) -> bool:
        return self.state is DatabaseState.OK

    @property
    def write_refusal(self) -> str:
        """Why nothing may be written to this database ("" when writes may run): env.py
        ignores the URL migtui was asked to use, so a write would go elsewhere."""
        if not self.unused_url:
            return ""
        return (f"env.py does not use the URL it was given ({self.unused_url}): it "
                f"connects to {self.url}, so nothing is written. Make env.py use "
                "sqlalchemy.url, or give this database as -x arguments env.py reads")


@dataclass(frozen=True)
class ProjectInfo:
    """Where the project lives and how it was configured."""

    config_file: str
    section: str
    script_location: str
    read_only: bool = False


@dataclass(frozen=True)
class PartialStep:
    """A step that failed halfway and was not rolled back (MySQL/MariaDB, SQLite commit
    DDL as it runs): part of it is in the database, and alembic_version does not say so."""

    step: str  # "upgrade r1 -> r2", as Alembic ran it
    revision: str  # the revision of that step (short id): "partially applied r2"
    heads: tuple[str, ...]  # what alembic_version still says
    statements: tuple[str, ...]  # the statements of the step that ran and stayed
    # The schema now against the schema just before the step: "+ table half_done (id)",
    # "- column t.c", "~ column t.c: INT -> BIGINT" (empty when not compared or none).
    schema_changes: tuple[str, ...] = ()
    error: str = ""  # the one-line error of the failure
    date: str = ""  # when it failed (ISO, local time, to the minute)


@dataclass(frozen=True)
class Snapshot:
    """The graph and the database status read together: what the screens show."""

    project: ProjectInfo
    graph: RevisionGraph
    database: DatabaseStatus
    # The last action of this session left a step half done, and the database's heads
    # are still those it left: the database is "partially applied" that revision.
    partial: PartialStep | None = None

    @cached_property
    def applied(self) -> frozenset[str]:
        """Revisions the database has applied (its heads and their ancestors)."""
        return self.graph.ancestors(self.database.current_heads)

    @cached_property
    def lineage_broken(self) -> bool:
        """Whether the database's lineage passes through a revision no readable file
        defines: a head of the database that no file has, or an applied revision whose
        parent's file is missing or cannot be read. Below such a revision, which of the
        other revisions are applied is not known."""
        index = self.graph._index
        if any(h not in index for h in self.database.current_heads):
            return True
        return any(p not in index for r in self.applied
                   for p in (*index[r].down_revisions, *index[r].dependencies))

    @cached_property
    def unknown(self) -> frozenset[str]:
        """Revisions that may or may not be applied (while :attr:`lineage_broken`): not
        applied through the readable files, and not above the database's heads."""
        if not self.lineage_broken:
            return frozenset()
        applied = self.applied
        above = self.graph.descendants(self.database.current_heads)
        return frozenset(r.revision for r in self.graph
                         if r.revision not in applied and r.revision not in above)

    @property
    def current(self) -> tuple[str, ...]:
        """Every revision `alembic current` lists, newest first: the database's heads
        and the heads they reach through depends_on (Alembic's "effective heads": the
        applied revisions no applied revision revises), then heads no file defines."""
        applied = self.applied
        index = self.graph._index
        shown = tuple(
            r.revision for r in self.graph
            if r.revision in applied and not any(c in applied for c in r.children))
        if not all(h in index for h in self.database.current_heads):
            shown += tuple(h for h in self.database.current_heads if h not in index)
        return shown

    @property
    def pending_unknown(self) -> bool:
        """Whether how many revisions are pending cannot be told: the database is on a
        revision no file defines, or some revisions' state is :attr:`unknown`."""
        return bool(self.unknown) or any(h not in self.graph._index
                                         for h in self.database.current_heads)

    @property
    def pending(self) -> tuple[str, ...]:
        """Revisions not yet applied, newest first (not those whose state is
        :attr:`unknown`)."""
        applied, unknown = self.applied, self.unknown
        return tuple(r.revision for r in self.graph
                     if r.revision not in applied and r.revision not in unknown)


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one Alembic command run through the core."""

    action: str
    target: str
    ok: bool
    log: tuple[str, ...]
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...] | None  # None: they could not be read after the run
    seconds: float
    error: str = ""
    error_details: str = ""
    output: str = ""  # what Alembic printed (e.g. "Generating ... done") or offline SQL
    new_revision: str | None = None
    # The write was refused before anything ran because the database or a revision file
    # differs from what the confirmation showed: plan again.
    plan_changed: bool = False
    steps: tuple[str, ...] = ()  # the steps that ran to the end: "upgrade a, b -> c"
    partial: PartialStep | None = None  # the failing step, when what it ran stayed


def heads_label(heads: Sequence[str] | None) -> str:
    """Revisions for a sentence after a run: "a1b2c3, d4e5f6"; "base" when the database
    holds none; and, when they could not be read (None), that they are not known."""
    if heads is None:
        return "unknown (the database's revision could not be read)"
    return ", ".join(h[:12] for h in heads) or "base"
