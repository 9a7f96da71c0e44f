"""Shared fixtures: the sample project copied into a temp folder, real databases."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from projects import sqlite_url

from projectkit.sample import copy_sample

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server: MIGTUI_TEST_PG_URL, or a throwaway one started here."""
    url = os.environ.get("MIGTUI_TEST_PG_URL")
    if url:
        yield url
        return
    out = subprocess.run(["bash", str(SCRIPTS / "pg-start.sh")], check=True,
                         capture_output=True, text=True).stdout
    env = dict(line.split("=", 1) for line in out.split())
    try:
        yield env["MIGTUI_TEST_PG_URL"]
    finally:
        subprocess.run(["bash", str(SCRIPTS / "pg-stop.sh"), env["MIGTUI_PG_DIR"]], check=False)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_server_url() -> Iterator[str]:
    """A MariaDB server: MIGTUI_TEST_MARIADB_URL, or a throwaway one started here."""
    url = os.environ.get("MIGTUI_TEST_MARIADB_URL")
    if url:
        yield url
        return
    out = subprocess.run(["bash", str(SCRIPTS / "mariadb-start.sh")], check=True,
                         capture_output=True, text=True).stdout
    env = dict(line.split("=", 1) for line in out.split())
    try:
        yield env["MIGTUI_TEST_MARIADB_URL"]
    finally:
        subprocess.run(["bash", str(SCRIPTS / "mariadb-stop.sh"), env["MIGTUI_MARIADB_DIR"]],
                       check=False)


@pytest.fixture
def mariadb_url(mariadb_server_url: str) -> Iterator[str]:
    """A new, empty MariaDB database for one test; dropped afterwards.

    Sessions still connected to it (a test that left one open) are killed first, so that
    DROP DATABASE never waits on their metadata locks.
    """
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(mariadb_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = sa.make_url(mariadb_server_url).set(database=name).render_as_string(
        hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            ids = conn.execute(sa.text(
                "SELECT id FROM information_schema.processlist WHERE db = :db"),
                {"db": name}).scalars().all()
            for pid in ids:
                with contextlib.suppress(sa.exc.DBAPIError):  # it may have ended by now
                    conn.execute(sa.text(f"KILL {int(pid)}"))
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def server_url(request: pytest.FixtureRequest, dialect: str, tmp_path: Path,
               sqlite_name: str = "db.sqlite") -> str:
    """An empty database of one of the three kinds: sqlite, postgresql or mariadb."""
    if dialect == "sqlite":
        return sqlite_url(tmp_path / sqlite_name)
    fixture = {"postgresql": "pg_url", "mariadb": "mariadb_url"}[dialect]
    return str(request.getfixturevalue(fixture))


#: The databases every test that touches one runs on.
DATABASES = ["sqlite", "postgresql", "mariadb"]


def stable_sqlite_url(name: str) -> str:
    """A SQLite file in the working folder, named the same in every run (for snapshots).

    Snapshots show the database URL, and the app shows a missing SQLite file by its
    absolute path. /proc/self/cwd is the working folder (a project under tmp_path) under
    one name in every run and every process. Linux only: elsewhere the test is skipped.
    """
    if not os.path.isdir("/proc/self/cwd"):
        pytest.skip("the snapshots name their database through /proc/self/cwd (Linux)")
    return f"sqlite:////proc/self/cwd/{name}"


def snapshot_sample(dest: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample in dest, the working folder, on stable_sqlite_url (for snapshots)."""
    project = copy_sample(dest, stable_sqlite_url("sample.db"))
    monkeypatch.chdir(project)
    return project


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file that does not exist yet, a new PostgreSQL or
    MariaDB database."""
    return server_url(request, request.param, tmp_path)


@pytest.fixture
def sample_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample project in a temp folder (the working folder), on its own SQLite file."""
    project = copy_sample(tmp_path / "sample")
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def sample_pg(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample project in a temp folder (the working folder), on a fresh PostgreSQL db."""
    project = copy_sample(tmp_path / "sample", pg_url)
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def sample_mariadb(tmp_path: Path, mariadb_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample project in a temp folder (the working folder), on a fresh MariaDB db."""
    project = copy_sample(tmp_path / "sample", mariadb_url)
    monkeypatch.chdir(project)
    return project


@pytest.fixture(params=DATABASES)
def sample_project(request: pytest.FixtureRequest) -> Path:
    """The sample project on SQLite, on PostgreSQL and on MariaDB."""
    fixture = {"sqlite": "sample_sqlite", "postgresql": "sample_pg",
               "mariadb": "sample_mariadb"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def database_url(project: Path) -> str:
    """The sqlalchemy.url of a copied sample project, with %(here)s resolved."""
    for line in (project / "alembic.ini").read_text().splitlines():
        if line.startswith("sqlalchemy.url"):
            return line.split("=", 1)[1].strip().replace("%(here)s", str(project)).replace(
                "%%", "%")
    raise AssertionError("no sqlalchemy.url")


def table_names(url: str) -> set[str]:
    """The tables the database holds right now (not counting alembic_version)."""
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def column_names(url: str, table: str) -> set[str]:
    """The columns of one table right now."""
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's migtui config, theme or header cache."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(home / "cache"))
    # Nor does it hear of modules that an earlier test imported and then changed.
    from migtui.core.env import imported

    imported.forget_all()
    return home
