"""A fleet of 50 tenant schemas read by migtui in one process vs 50 ``alembic current``.

A PostgreSQL database gets 50 schemas, one per tenant, and a project whose env.py picks
the tenant with ``-x tenant=NAME`` (search_path and alembic_version in that schema),
configured as one ``[tool.migtui.environments.tenants]`` entry with ``schemas`` and
``x_each``. Half the tenants are upgraded to the head, half to the revision before.

Measured, interleaved run by run so that machine noise hits both alike:

* migtui: a new Python process that opens the project and reads every tenant
  (``Fleet.read_all``: one process, imports shared, parallel connections), from its
  start to its exit;
* alembic: ``alembic -x tenant=NAME current`` for each of the 50 tenants, one process
  each, one after another, as a script would.

Each tenant's revision as migtui read it is checked against what ``alembic current``
printed. Usage::

    python -m benchmarks.bench_fleet --pg postgresql://postgres@127.0.0.1:5432/postgres
        [--tenants 50] [--runs 3]

(``--pg`` defaults to MIGTUI_TEST_PG_URL.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from projectkit.templates import ENV_TENANTS, alembic_ini, ini_escape

REPO = Path(__file__).resolve().parents[1]
REVISIONS = (("a1a1a1a1a1a1", None, "widget"), ("b2b2b2b2b2b2", "a1a1a1a1a1a1", "gadget"),
             ("c3c3c3c3c3c3", "b2b2b2b2b2b2", "gizmo"))

_REVISION = '''\
"""create {table}"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(50)))


def downgrade() -> None:
    op.drop_table("{table}")
'''


def write_fleet(dest: Path, url: str, schemas: list[str]) -> None:
    """The tenant project: alembic.ini, env.py, three revisions, the environments."""
    versions = dest / "migrations" / "versions"
    versions.mkdir(parents=True)
    (dest / "migrations" / "env.py").write_text(ENV_TENANTS)
    for revision, down, table in REVISIONS:
        (versions / f"{revision}_{table}.py").write_text(
            _REVISION.format(revision=revision, down=down, table=table))
    (dest / "alembic.ini").write_text(alembic_ini(ini_escape(url)))
    names = ", ".join(f'"{s}"' for s in schemas)
    (dest / "pyproject.toml").write_text(
        f'[tool.migtui.environments.tenants]\nschemas = [{names}]\n'
        f'x_each = "tenant={{schema}}"\n')


def _alembic() -> list[str]:
    script = Path(sys.executable).with_name("alembic")
    return [str(script)] if script.exists() else [sys.executable, "-m", "alembic"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def child(project: Path) -> None:
    """In the measured process: open the project, read every tenant, print the heads."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project
    from migtui.core.environments.fleet import Fleet

    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    reads = fleet.read_all()
    print("JSON " + json.dumps({r.environment.schema: list(r.status.current_heads)
                                for r in reads if r.status.reachable}))


def run_migtui(project: Path) -> tuple[float, dict[str, list[str]]]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_fleet", "--child",
                          str(project)], cwd=project, env=_env(), check=True,
                         capture_output=True, text=True).stdout
    seconds = time.perf_counter() - started
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    heads: dict[str, list[str]] = json.loads(line[5:])
    return seconds, heads


def run_alembic(project: Path, schemas: list[str]) -> tuple[float, dict[str, list[str]]]:
    heads: dict[str, list[str]] = {}
    started = time.perf_counter()
    for schema in schemas:
        out = subprocess.run([*_alembic(), "-x", f"tenant={schema}", "current"],
                             cwd=project, env=_env(), check=True, capture_output=True,
                             text=True).stdout
        heads[schema] = [line.split()[0] for line in out.splitlines() if line.strip()]
    return time.perf_counter() - started, heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("MIGTUI_TEST_PG_URL"))
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    if not args.pg:
        parser.error("give --pg URL (a PostgreSQL server) or set MIGTUI_TEST_PG_URL")
    name = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    schemas = [f"tenant{n:02d}" for n in range(1, args.tenants + 1)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "fleet"
            write_fleet(project, url, schemas)
            prepare(project, url, schemas)
            report(project, schemas, args.runs)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(project: Path, url: str, schemas: list[str]) -> None:
    """Every schema made; half the tenants at the head, half one revision behind."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    for index, schema in enumerate(schemas):
        target = REVISIONS[-1][0] if index % 2 == 0 else REVISIONS[-2][0]
        opened = Project.open(ProjectOptions(cwd=str(project), x_args=(f"tenant={schema}",)))
        result = opened.upgrade(target)
        if not result.ok:
            raise RuntimeError(result.error)


def report(project: Path, schemas: list[str], runs: int) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        seconds, heads = run_migtui(project)
        mine.append(seconds)
        cli_seconds, cli_heads = run_alembic(project, schemas)
        theirs.append(cli_seconds)
        if heads != cli_heads:
            raise RuntimeError(f"migtui read {heads}, alembic current printed {cli_heads}")
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    print(f"fleet of {len(schemas)} tenant schemas (PostgreSQL), {runs} runs, "
          f"every tenant's revision identical in both")
    print(f"  migtui, one process (Fleet.read_all)  {statistics.median(mine):7.2f} s "
          f"[{min(mine):.2f}-{max(mine):.2f}]")
    print(f"  {len(schemas)} x alembic current             "
          f"{statistics.median(theirs):7.2f} s [{min(theirs):.2f}-{max(theirs):.2f}]")
    print(f"  ratio                                 {statistics.median(ratios):7.3f}x "
          f"[{min(ratios):.3f}-{max(ratios):.3f}]  ({1 / statistics.median(ratios):.1f} "
          "times faster)")


if __name__ == "__main__":
    main()
