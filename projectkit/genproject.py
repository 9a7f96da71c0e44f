"""Generate synthetic Alembic projects of arbitrary size for benchmarking migtui.

The generated project is a normal Alembic project (``alembic.ini`` from
``projectkit.templates``, Alembic's own generic sync ``env.py`` and ``script.py.mako``,
and ``versions/*.py``).  Every revision performs real, exactly reversible DDL, so
``alembic upgrade heads`` followed by ``alembic downgrade base`` works on SQLite and
PostgreSQL.  Output is deterministic: the same arguments always produce
the same revision ids and file contents.

Usage::

    python -m projectkit.genproject DEST --revisions N [--branch-every K] [--url URL] [--heads 2]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from projectkit.templates import ALEMBIC_GENERIC, alembic_ini, ini_escape

__all__ = ["generate_project"]

#: Number of revisions on each side of a branch (before the merge revision).
BRANCH_WIDTH = 3
_SEED = 20240101
_BASE_DATE = datetime(2024, 1, 1)

_REVISION = '''\
"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: {date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
{upgrade}


def downgrade() -> None:
    """Downgrade schema."""
{downgrade}
'''

_CREATE_TABLE = """\
    op.create_table(
        {table!r},
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )"""

# (column type source, extra Column() arguments) for added columns.
_ADD_TYPES: tuple[tuple[str, str], ...] = (
    ("sa.String(length=40)", "nullable=True"),
    ("sa.Integer()", 'server_default="0", nullable=False'),
    ("sa.Boolean()", "nullable=True"),
    ("sa.Text()", "nullable=True"),
)


def revision_id(index: int) -> str:
    """Return the deterministic 12-hex-char revision id for revision number ``index``."""
    return hashlib.sha1(f"migtui-bench:{index}".encode()).hexdigest()[:12]


class _Builder:
    """Accumulates revisions (parents + DDL) while the history graph is laid out."""

    def __init__(self) -> None:
        self.parents: list[tuple[int, ...]] = []
        self.ops: list[tuple[str, str, str]] = []  # (message, upgrade, downgrade)
        self.columns: dict[str, list[str]] = {}  # table -> indexable columns
        self.rng = random.Random(_SEED)

    def __len__(self) -> int:
        return len(self.parents)

    def add(self, parents: tuple[int, ...], lane: list[str], *, merge: bool = False) -> int:
        """Append a revision whose DDL only touches tables of ``lane``; return its index."""
        n = len(self.parents)
        roll = self.rng.random()
        if merge or not lane or roll < 0.4:
            table = f"t_{n}"
            lane.append(table)
            self.columns[table] = ["name", "amount", "created_at"]
            msg = f"create table {table}"
            if merge:
                msg = "merge " + ", ".join(revision_id(p) for p in parents) + f"; {msg}"
            op = (msg, _CREATE_TABLE.format(table=table), f"    op.drop_table({table!r})")
        elif roll < 0.75:
            table = self.rng.choice(lane)
            column = f"c_{n}"
            type_src, extra = _ADD_TYPES[n % len(_ADD_TYPES)]
            self.columns[table].append(column)
            op = (
                f"add column {column} to {table}",
                f"    op.add_column({table!r}, sa.Column({column!r}, {type_src}, {extra}))",
                f"    op.drop_column({table!r}, {column!r})",
            )
        else:
            table = self.rng.choice(lane)
            column = self.rng.choice(self.columns[table])
            index = f"ix_{n}"
            op = (
                f"create index {index} on {table}.{column}",
                f"    op.create_index({index!r}, {table!r}, [{column!r}], unique=False)",
                f"    op.drop_index({index!r}, table_name={table!r})",
            )
        self.parents.append(parents)
        self.ops.append(op)
        return n

    def chain(self, start: int | None, count: int, lane: list[str]) -> int:
        """Append ``count`` linear revisions after ``start``; return the last index."""
        head = start
        for _ in range(count):
            head = self.add(() if head is None else (head,), lane)
        assert head is not None
        return head


def _layout(revisions: int, branch_every: int, heads: int) -> _Builder:
    """Lay out the history graph and assign DDL to every revision."""
    if heads not in (1, 2):
        raise ValueError("heads must be 1 or 2")
    if revisions < (3 if heads == 2 else 1):
        raise ValueError(f"need at least {3 if heads == 2 else 1} revisions for heads={heads}")
    b = _Builder()
    main: list[str] = []
    tail = min(2 * BRANCH_WIDTH, revisions - 1) if heads == 2 else 0
    body = revisions - tail
    next_branch = branch_every if branch_every > 0 else body
    head: int | None = None
    while len(b) < body:
        left = body - len(b)
        if head is not None and len(b) >= next_branch and left >= 3:
            start = len(b)
            width = min(BRANCH_WIDTH, (left - 1) // 2)
            a_lane: list[str] = []
            b_lane: list[str] = []
            a_head = b.chain(head, width, a_lane)
            b_head = b.chain(head, width, b_lane)
            main.extend(a_lane + b_lane)
            head = b.add((a_head, b_head), main, merge=True)
            next_branch = start + branch_every
        else:
            head = b.add(() if head is None else (head,), main)
    if tail:
        b.chain(head, (tail + 1) // 2, [])
        b.chain(head, tail // 2, [])
    return b


def _slug(message: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in message.lower()).split()
    return "_".join(words)[:40].rstrip("_")


def generate_project(
    dest: Path,
    revisions: int,
    *,
    branch_every: int = 50,
    url: str | None = None,
    heads: int = 1,
) -> list[str]:
    """Write an Alembic project with ``revisions`` revisions under ``dest``.

    Writes ``alembic.ini``, ``migrations/env.py``, ``migrations/script.py.mako`` and
    ``migrations/versions/*.py`` (stale ``*.py`` files in ``versions/`` are removed).
    Every ``branch_every`` revisions (0 disables branching) the history forks into two
    parallel lines of a few revisions that are joined by a merge revision; with
    ``heads=2`` the final fork is left unmerged. ``url`` defaults to an SQLite file
    ``bench.db`` next to ``alembic.ini``. Returns all revision ids (in creation order).
    """
    dest = Path(dest)
    plan = _layout(revisions, branch_every, heads)
    ids = [revision_id(i) for i in range(len(plan))]
    if len(set(ids)) != len(ids):  # pragma: no cover - 48-bit ids, practically impossible
        raise RuntimeError("revision id collision")

    versions = dest / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for stale in versions.glob("*.py"):
        stale.unlink()
    ini_url = ini_escape(url) if url else "sqlite:///%(here)s/bench.db"
    (dest / "alembic.ini").write_text(alembic_ini(ini_url), encoding="utf-8")
    for name in ("env.py", "script.py.mako"):
        shutil.copyfile(ALEMBIC_GENERIC / name, dest / "migrations" / name)

    for n, (rev, parents, (message, upgrade, downgrade)) in enumerate(
        zip(ids, plan.parents, plan.ops, strict=True)
    ):
        parent_ids = tuple(ids[p] for p in parents)
        down: str | tuple[str, ...] | None
        down = parent_ids if len(parent_ids) > 1 else (parent_ids[0] if parent_ids else None)
        date = (_BASE_DATE + timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S.%f")
        text = _REVISION.format(
            message=message,
            rev=rev,
            revises=", ".join(parent_ids),
            date=date,
            down=down,
            upgrade=upgrade,
            downgrade=downgrade,
        )
        (versions / f"{rev}_{_slug(message)}.py").write_text(text, encoding="utf-8")
    return ids


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="directory to write the project into")
    parser.add_argument("--revisions", type=int, required=True, help="number of revisions")
    parser.add_argument(
        "--branch-every", type=int, default=50, help="fork+merge every K revisions (0: never)"
    )
    parser.add_argument("--url", default=None, help="sqlalchemy.url (default: SQLite file)")
    parser.add_argument("--heads", type=int, choices=(1, 2), default=1, help="heads at the end")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    ids = generate_project(
        args.dest, args.revisions, branch_every=args.branch_every, url=args.url, heads=args.heads
    )
    elapsed = time.perf_counter() - started
    print(f"wrote {len(ids)} revisions to {args.dest} in {elapsed:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
