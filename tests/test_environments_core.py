"""Environments in the core: configuration, reading a fleet, drift, bringing one to another.

Real databases: dev on a SQLite file, staging and prod as two PostgreSQL databases, 20
tenant schemas in a third; each read is checked against alembic_version itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from environments_helpers import (
    R1,
    R2,
    R3,
    SCHEMAS,
    build_fleet,
    pg_databases,
    psql_version,
    sqlite_version,
)
from projects import applied

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.bring import bring_all, plan_bring
from migtui.core.environments.config import load_environments
from migtui.core.environments.fleet import Drift, Fleet
from migtui.core.errors import MigtuiError


@pytest.fixture
def fleet_project(tmp_path: Path, pg_server_url: str, mariadb_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """dev on SQLite, staging and prod on PostgreSQL, qa on MariaDB (the fourth URL),
    20 tenant schemas in a third PostgreSQL database."""
    with pg_databases(pg_server_url, 3, password="Fleet-s3cret-pw") as urls:
        monkeypatch.setenv("MIGTUI_TEST_PROD_URL", urls[1])
        project = build_fleet(tmp_path / "fleet", urls, qa=mariadb_url)
        urls.append(mariadb_url)
        monkeypatch.chdir(project)
        yield project, urls


def open_fleet(project: Path) -> Fleet:
    return Fleet(Project.open(ProjectOptions(cwd=str(project))))


# -- configuration -------------------------------------------------------------


def test_bad_entries_are_reported_with_file_and_key_and_the_others_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGTUI_UNSET_URL", raising=False)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.migtui.environments.dev]
        url = "sqlite:///dev.db"

        [tool.migtui.environments.typo]
        ulr = "sqlite:///x.db"

        [tool.migtui.environments.both]
        url = "sqlite:///x.db"
        url_env = "X"

        [tool.migtui.environments.noenv]
        url_env = "MIGTUI_UNSET_URL"

        [tool.migtui.environments.prod]
        url = "postgresql://app:s3cr3t-pw@db.example/app"
        protected = "yes"
        """))
    (tmp_path / "migtui.toml").write_text(textwrap.dedent("""\
        [environments.tenants]
        url = "postgresql://app:s3cr3t-pw@db.example/app"
        schemas = ["acme", "globex"]
        x_each = "tenant={schema}"

        [environments.dev]
        url = "sqlite:///other.db"
        """))
    config = load_environments(tmp_path)
    names = [e.name for e in config.environments]
    assert names == ["dev", "noenv", "tenants:acme", "tenants:globex"]
    assert config.find("dev").url == "sqlite:///dev.db"  # type: ignore[union-attr]
    problems = "\n".join(config.problems)
    assert "pyproject.toml: tool.migtui.environments.typo.ulr: unknown key" in problems
    assert "pyproject.toml: tool.migtui.environments.both: give url or url_env" in problems
    assert "pyproject.toml: tool.migtui.environments.prod.protected: expected bool" in problems
    assert "migtui.toml: environments.dev: dev is already configured in pyproject.toml" \
        in problems
    noenv = config.find("noenv")
    assert noenv is not None and noenv.problem == (
        "pyproject.toml: tool.migtui.environments.noenv.url_env: the environment variable "
        "MIGTUI_UNSET_URL is not set")
    acme = config.find("tenants:acme")
    assert acme is not None and acme.x_args == ("tenant=acme",) and acme.group == "tenants"
    assert acme.display_url == "postgresql://app:***@db.example/app"
    with pytest.raises(ValueError, match="tenants stands for 2 tenants"):
        config.select("tenants")
    with pytest.raises(ValueError, match="No environment 'nope'"):
        config.select("nope")


def test_no_configuration_means_the_project_database_alone(sample_sqlite: Path) -> None:
    fleet = open_fleet(sample_sqlite)
    assert [e.name for e in fleet.environments] == ["(project)"]
    (read,) = fleet.read_all()
    assert read.status.reachable


# -- reading ---------------------------------------------------------------------


def test_each_environment_is_read_exactly(fleet_project: tuple[Path, list[str]]) -> None:
    project, (staging, prod, tenants, qa) = fleet_project
    fleet = open_fleet(project)
    reads = {r.environment.name: r for r in fleet.read_all()}
    assert len(reads) == 4 + len(SCHEMAS)
    assert set(reads["qa"].status.current_heads) == applied(qa) == {R2}
    assert reads["qa"].status.dialect == "mariadb"
    assert set(reads["dev"].status.current_heads) == sqlite_version(project / "dev.db") == {R3}
    assert set(reads["staging"].status.current_heads) == psql_version(staging) == {R2}
    assert set(reads["prod"].status.current_heads) == psql_version(prod) == {R1}
    for schema in SCHEMAS:
        read = reads[f"tenants:{schema}"]
        assert set(read.status.current_heads) == psql_version(tenants, schema)
    assert reads["tenants:t01"].status.current_heads == (R2,)
    assert reads["tenants:t20"].status.current_heads == (R1,)
    assert [reads[n].pending for n in ("dev", "staging", "prod")] == [0, 1, 2]
    assert reads["dev"].status.dialect == "sqlite"
    assert reads["prod"].status.dialect == "postgresql"
    assert "***" in reads["staging"].status.url
    assert all("Fleet-s3cret-pw" not in r.status.url for r in reads.values())


def test_an_unreachable_environment_says_why_and_the_others_are_read(
        fleet_project: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = fleet_project
    from projects import closed_port
    monkeypatch.setenv("MIGTUI_TEST_PROD_URL",
                       f"postgresql://u:pw-secret@127.0.0.1:{closed_port()}/x")
    fleet = open_fleet(project)
    reads = {r.environment.name: r for r in fleet.read_all()}
    prod = reads["prod"].status
    assert not prod.reachable and prod.cause == "connection"
    assert "pw-secret" not in prod.error and "pw-secret" not in prod.url
    assert reads["staging"].status.current_heads == (R2,)


def test_a_refused_login_is_told_apart_from_a_server_that_does_not_answer(
        fleet_project: tuple[Path, list[str]], pg_server_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server answers and refuses the user (the read that asks it first, before
    env.py, says so too): "✗ login refused" in the Reachable column."""
    from migtui.screens.environments_rows import env_row

    project, _ = fleet_project
    nobody = sa.make_url(pg_server_url).set(username="no_such_role_x", password="pw-secret")
    monkeypatch.setenv("MIGTUI_TEST_PROD_URL", nobody.render_as_string(hide_password=False))
    fleet = open_fleet(project)
    reads = {r.environment.name: r for r in fleet.read_all()}
    prod = reads["prod"]
    assert not prod.status.reachable and prod.status.cause == "login"
    assert prod.status.error.startswith("The database refused the login: ")
    assert "pw-secret" not in prod.status.error + prod.status.error_details
    cells = env_row(prod.environment, prod, None).cells
    assert any(c.plain == "✗ login refused" for c in cells)


# -- drift ----------------------------------------------------------------------------


def test_drift_after_a_column_added_by_hand(fleet_project: tuple[Path, list[str]]) -> None:
    project, (staging, _prod, tenants, _qa) = fleet_project
    fleet = open_fleet(project)
    reads = {r.environment.name: r for r in fleet.read_all()}
    assert fleet.drift(reads["dev"], list(reads.values())).state == "matches"
    tenant_reads = [r for n, r in reads.items() if n.startswith("tenants:")]
    assert {d.state for d in fleet.group_drift(tenant_reads).values()} == {"matches"}
    # staging (PostgreSQL) and qa (MariaDB) on one revision: their tables compared.
    assert fleet.drift(reads["staging"], list(reads.values())) == Drift("matches",
                                                                         "same as qa")

    engine = sa.create_engine(staging)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE gadget ADD COLUMN by_hand integer"))
    with sa.create_engine(tenants).begin() as conn:
        conn.execute(sa.text("ALTER TABLE t03.gadget ADD COLUMN by_hand integer"))
    engine.dispose()
    # Not at head: compared with qa, on the same revision.
    assert fleet.drift(reads["staging"], list(reads.values())) == Drift(
        "differs", "differs from qa: extra column gadget.by_hand")
    plan = plan_bring(reads["staging"].snapshot, (R3,), "staging", "dev")
    assert fleet.project_for(reads["staging"].environment).run_plan(plan).ok
    staging_read = fleet.read(reads["staging"].environment)
    drift = fleet.drift(staging_read, list(reads.values()))
    assert drift.state == "differs" and "gadget.by_hand" in drift.text
    tenant_drift = fleet.group_drift(tenant_reads)
    assert tenant_drift["tenants:t03"].state == "differs"
    assert "extra column gadget.by_hand" in tenant_drift["tenants:t03"].text
    assert tenant_drift["tenants:t04"].state == "matches"


# -- bringing one to another ------------------------------------------------------------


def test_bring_staging_to_dev_changes_staging_only(
        fleet_project: tuple[Path, list[str]]) -> None:
    project, (staging, prod, tenants, qa) = fleet_project
    fleet = open_fleet(project)
    reads = {r.environment.name: r for r in fleet.read_all()}
    plan = plan_bring(reads["staging"].snapshot, reads["dev"].status.current_heads,
                      "staging", "dev")
    assert plan.action == "upgrade" and [s.revision for s in plan.steps] == [R3]
    assert plan.description.startswith("Bring staging to dev's revision c3c3c3c3c3c3")
    run = bring_all(fleet, [(reads["staging"].environment, plan)], "c3c3c3c3c3c3")
    assert run.failed is None and run.outcomes[0].heads == (R3,)
    assert psql_version(staging) == {R3}
    assert psql_version(prod) == {R1}
    assert sqlite_version(project / "dev.db") == {R3}
    assert psql_version(tenants, "t01") == {R2} and psql_version(tenants, "t20") == {R1}
    assert applied(qa) == {R2}
    with pytest.raises(MigtuiError, match="already at"):
        plan_bring(fleet.read(reads["staging"].environment).snapshot, (R3,), "staging", "dev")
    # and back down: prod's revision
    down = plan_bring(fleet.read(reads["staging"].environment).snapshot, (R1,), "staging",
                      "prod")
    assert down.action == "downgrade" and [s.revision for s in down.steps] == [R3, R2]


def test_tenants_in_order_stop_at_the_first_failure(
        fleet_project: tuple[Path, list[str]]) -> None:
    project, (_staging, _prod, tenants, _qa) = fleet_project
    engine = sa.create_engine(tenants)
    with engine.begin() as conn:  # gizmo already there: creating it fails in t05
        conn.execute(sa.text("CREATE TABLE t05.gizmo (id integer primary key)"))
    engine.dispose()
    fleet = open_fleet(project)
    reads = [r for r in fleet.read_all() if r.environment.group == "tenants"]
    items = [(r.environment, plan_bring(r.snapshot, (R3,), r.environment.name, "dev"))
             for r in reads]
    seen: list[str] = []
    run = bring_all(fleet, items, "c3c3c3c3c3c3", on_outcome=lambda o: seen.append(o.name))
    assert seen == [f"tenants:{s}" for s in SCHEMAS]
    assert run.failed is not None and run.failed.name == "tenants:t05"
    for schema in SCHEMAS[:4]:
        assert psql_version(tenants, schema) == {R3}
    assert psql_version(tenants, "t05") == {R2}
    for index, schema in enumerate(SCHEMAS[5:], 5):
        assert psql_version(tenants, schema) == ({R2} if index < 10 else {R1})
    summary = run.summary()
    assert summary.startswith("4 at c3c3c3c3c3c3 (t01, t02, t03, t04)")
    assert "tenants:t05 failed" in summary and "is at b2b2b2b2b2b2" in summary
    assert "15 not run, still at a1a1a1a1a1a1, b2b2b2b2b2b2 (t06 … t20)" in summary
