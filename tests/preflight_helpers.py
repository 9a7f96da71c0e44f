"""Small Alembic projects with hand-written revisions, for the pre-flight tests.

``write_project(folder, url, revisions)`` writes alembic.ini, env.py (ENV_PREFLIGHT of
projectkit.templates: online/offline, batch mode on SQLite) and one file per ``Rev``.
Tests then fill the database with SQLAlchemy and ask the core what a plan would do.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from projects import data_engine

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import Plan, plan_downgrade, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import Preflight, check_plan
from migtui.core.checks.risks import IRREVERSIBLE, Risk
from projectkit.templates import ENV_PREFLIGHT, alembic_ini, ini_escape


@dataclass(frozen=True)
class Rev:
    """One revision file: its id, parent, and the bodies of upgrade()/downgrade()."""

    revision: str
    down: str | None
    upgrade: str
    downgrade: str = "pass"
    message: str = ""

    def source(self) -> str:
        """The Python of the revision file."""
        up = textwrap.indent(textwrap.dedent(self.upgrade).strip(), "    ")
        down = textwrap.indent(textwrap.dedent(self.downgrade).strip(), "    ")
        return (
            f'"""{self.message or self.revision}\n\nRevision ID: {self.revision}\n'
            f'Revises: {self.down or ""}\nCreate Date: 2026-01-01 10:00:00\n"""\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {self.revision!r}\ndown_revision = {self.down!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{up}\n\n\ndef downgrade():\n{down}\n"
        )


def chain(*bodies: str | tuple[str, str]) -> list[Rev]:
    """Revisions r1, r2, ... each on the previous one; a body or (upgrade, downgrade)."""
    revs = []
    for number, body in enumerate(bodies, 1):
        up, down = body if isinstance(body, tuple) else (body, "pass")
        parent = f"r{number - 1:011d}" if number > 1 else None
        revs.append(Rev(f"r{number:011d}", parent, up, down, f"step {number}"))
    return revs


def write_project(dest: Path, url: str, revisions: Iterable[Rev], *,
                  url_from_env: str | None = None, per_migration: bool = False) -> Path:
    """Write an Alembic project; ``url_from_env`` names a variable env.py reads the URL
    from (then sqlalchemy.url is left empty)."""
    versions = dest / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    url_expr = (f"__import__('os').environ[{url_from_env!r}]" if url_from_env
                else 'config.get_main_option("sqlalchemy.url")')
    (dest / "migrations" / "env.py").write_text(
        ENV_PREFLIGHT.format(url_expr=url_expr, per_migration=per_migration))
    for rev in revisions:
        (versions / f"{rev.revision}.py").write_text(rev.source())
    ini_url = "" if url_from_env else ini_escape(url)
    (dest / "alembic.ini").write_text(alembic_ini(ini_url, logging=False))
    return dest


def open_project(folder: Path) -> Project:
    """The core Project of a folder, as `migtui` run there would open it."""
    return Project.open(ProjectOptions(cwd=str(folder)))


def upgrade_plan(project: Project, target: str | None = None) -> Plan:
    """The plan to upgrade to ``target`` (default: the newest revision)."""
    snapshot = project.snapshot()
    return plan_upgrade(snapshot, target or snapshot.graph.heads[0])


def downgrade_plan(project: Project, target: str) -> Plan:
    """The plan to downgrade to ``target``."""
    return plan_downgrade(project.snapshot(), target)


def run_sql(url: str, *statements: str, params: Sequence[dict[str, Any]] = ()) -> None:
    """Execute statements and commit (test data)."""
    engine = data_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), list(params) or None)
    finally:
        engine.dispose()


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    """Rows of a query."""
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(statement))]
    finally:
        engine.dispose()


def schema_of(url: str) -> dict[str, Any]:
    """Tables with their columns and indexes, and alembic_version: for before/after checks."""
    engine = data_engine(url)
    try:
        inspector = sa.inspect(engine)
        found: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            found[table] = (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                sorted((i["name"], tuple(i["column_names"]), i["unique"])
                       for i in inspector.get_indexes(table)),
            )
        with engine.connect() as conn:
            if "alembic_version" in found:
                found["versions"] = sorted(
                    r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version")))
        return found
    finally:
        engine.dispose()


# -- pre-flight checks ---------------------------------------------------------


def dialect(url: str) -> str:
    """The dialect name of a test URL."""
    if url.startswith("sqlite"):
        return "sqlite"
    return "mysql" if url.startswith("mysql") else "postgresql"


def check(folder: Path, url: str, bodies: list[str | tuple[str, str]], seed: tuple[str, ...],
          *, applied: int = 1, big_table: int = 100_000, **kw: object) -> Preflight:
    """Write a project, upgrade ``applied`` steps, run ``seed``, check the upgrade to head."""
    revs = chain(*bodies)
    write_project(folder, url, revs, **kw)  # type: ignore[arg-type]
    project = open_project(folder)
    if applied:
        assert project.upgrade(revs[applied - 1].revision).ok
    if seed:
        run_sql(url, *seed)
    before = schema_of(url)
    preflight = check_plan(project, upgrade_plan(project), dialect(url), big_table=big_table)
    assert schema_of(url) == before, "checking must not change the database"
    return preflight


def data_risks(preflight: Preflight) -> list[Risk]:
    """Every risk but "cannot be undone" (these test revisions have empty downgrades)."""
    return [r for r in preflight.risks if r.kind != IRREVERSIBLE]


def only(preflight: Preflight, kind: str) -> list[Risk]:
    """The risks of one kind."""
    return [r for r in preflight.risks if r.kind == kind]
