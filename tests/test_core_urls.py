"""Where env.py finds its database: the environment, -x arguments, async drivers,
pyproject.toml only, and the --url option (also with a percent-encoded password).

Real Alembic through migtui.core.actions.project.Project against a real SQLite file and
the real PostgreSQL server; nothing may reach the terminal (see projects.untouched).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from actions_helpers import assert_ran, one_line, open_project
from conftest import copy_sample, table_names
from projects import async_sqlite_url, sqlite_url, untouched, write_project

from migtui.core.env.urls import mask_url
from projectkit.templates import ENV_ASYNC, ENV_FROM_VARIABLE, ENV_FROM_X, URL_VARIABLE

# -- where env.py finds its database ------------------------------------------------


def test_env_py_reads_its_url_from_an_environment_variable(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    folder = write_project(tmp_path / "envvar", ENV_FROM_VARIABLE, url="")
    assert "sqlalchemy.url = \n" in (folder / "alembic.ini").read_text()
    monkeypatch.setenv(URL_VARIABLE, db_url)
    project = open_project(folder)
    with untouched(capfd):
        status = project.status()
        assert status.reachable, status.error
        backend = sa.make_url(db_url).get_backend_name()
        # A MariaDB server is named so, even through a mysql:// URL.
        assert status.dialect == ("mariadb" if backend == "mysql" else backend)
        if status.dialect == "postgresql":
            assert status.url == mask_url(db_url)
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert result.heads_after == ("b2b2b2b2b2b2",)
        assert table_names(db_url) == {"widget", "gadget"}
        assert project.status().url == mask_url(db_url)
        assert project.downgrade("base").ok
        assert table_names(db_url) == set()

        monkeypatch.delenv(URL_VARIABLE)
        status = project.status()
        assert not status.reachable and one_line(status.error)
        assert URL_VARIABLE in status.error
        assert len(project.graph()) == 2


def test_x_arguments_reach_env_py(
    tmp_path: Path, db_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "xargs", ENV_FROM_X, url="")
    project = open_project(folder, x_args=(f"db={db_url}", "tag=blue"))
    with untouched(capfd):  # this env.py prints, writes to stderr and logs
        status = project.status()
        assert status.reachable, status.error
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert "env.py sees tag=blue" in result.log
        assert "env.py writes to stderr" in result.log
        assert any("env.py logs a warning" in line for line in result.log)
        assert table_names(db_url) == {"widget", "gadget"}
        assert project.status().current_heads == ("b2b2b2b2b2b2",)

        without = open_project(folder, x_args=("tag=red",))
        status = without.status()
        assert not status.reachable and one_line(status.error)
        assert "db" in status.error


def test_async_env_py_with_aiosqlite(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "async" / "async.db"
    folder = write_project(tmp_path / "async", ENV_ASYNC, url=async_sqlite_url(database))
    project = open_project(folder)
    with untouched(capfd):
        status = project.status()
        assert status.reachable and status.current_heads == ()
        assert not database.exists()  # reading the status created nothing
        result = project.upgrade("+1")
        assert result.ok, result.error
        assert_ran(result, "upgrade", "a1a1a1a1a1a1")
        assert table_names(sqlite_url(database)) == {"widget"}
        status = project.status()
        assert status.current_heads == ("a1a1a1a1a1a1",)
        assert status.dialect == "sqlite" and status.url.startswith("sqlite+aiosqlite://")
        assert project.upgrade("+1").ok
        assert table_names(sqlite_url(database)) == {"widget", "gadget"}
        result = project.downgrade("base")
        assert result.ok and result.heads_after == ()
        assert table_names(sqlite_url(database)) == set()


def test_async_env_py_on_postgresql(
    tmp_path: Path, pg_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    async_url = sa.make_url(pg_url).set(drivername="postgresql+psycopg_async")
    text = async_url.render_as_string(hide_password=False)
    project = open_project(write_project(tmp_path / "async", ENV_ASYNC, url=text))
    with untouched(capfd):
        status = project.status()
        assert status.reachable, status.error
        assert status.dialect == "postgresql" and status.current_heads == ()
        result = project.upgrade("+1")
        assert result.ok, result.error
        assert table_names(pg_url) == {"widget"}
        assert project.upgrade("+1").ok
        assert table_names(pg_url) == {"widget", "gadget"}
        assert project.status().current_heads == ("b2b2b2b2b2b2",)
        assert project.downgrade("base").ok
        assert table_names(pg_url) == set()


def test_project_configured_only_in_pyproject(
    tmp_path: Path, db_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "toml", ini=False, pyproject=True)
    project = open_project(folder, url=db_url)
    assert project.info.config_file == str(folder / "pyproject.toml")
    with untouched(capfd):
        assert len(project.graph()) == 2
        status = project.status()
        assert status.reachable, status.error
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert table_names(db_url) == {"widget", "gadget"}
        assert project.status().current_heads == ("b2b2b2b2b2b2",)


def test_url_option_overrides_the_ini(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sample = copy_sample(tmp_path / "sample")  # its ini names sample.db
    monkeypatch.chdir(sample)
    project = open_project(sample, url=db_url)
    with untouched(capfd):
        assert project.status().url == mask_url(db_url)
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert table_names(db_url) == {"user", "post"}
    assert not (sample / "sample.db").exists()


def test_url_option_with_a_percent_encoded_password(
    tmp_path: Path, pg_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    # The dev/CI server trusts loopback logins, so any password gets in.
    url = sa.make_url(pg_url).set(password="p@ss%word:Ibis-9087")
    text = url.render_as_string(hide_password=False)
    assert "%25" in text and "%40" in text
    project = open_project(write_project(tmp_path / "p", url=""), url=text)
    with untouched(capfd):
        status = project.status()
        assert status.reachable, status.error
        assert status.url == url.render_as_string(hide_password=True)
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert not any("Ibis-9087" in line for line in result.log)
    assert "Ibis-9087" not in status.url
    assert table_names(pg_url) == {"widget", "gadget"}
