"""Opening projects the way the alembic CLI does, the revision graph as data, and the
database status, including every kind of bad input the core must report in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import database_url
from projects import LINEAR, RICH, closed_port, sqlite_url, untouched, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError
from migtui.core.models import DatabaseState
from projectkit.templates import ENV_FROM_VARIABLE, ENV_RAISES, URL_VARIABLE

# Distinctive passwords: if one of them shows up anywhere, a secret leaked.
SECRET = "Zebra-Secret-7731"
OTHER_SECRET = "Quokka-Pass-5150"


def open_project(folder: Path, **options: object) -> Project:
    return Project.open(ProjectOptions(cwd=str(folder), **options))  # type: ignore[arg-type]


def open_error(folder: Path, **options: object) -> str:
    """The one-line message Project.open fails with."""
    with pytest.raises(MigtuiError) as caught:
        open_project(folder, **options)
    message = caught.value.message
    assert message and "\n" not in message and str(caught.value) == message
    return message


@pytest.fixture(autouse=True)
def _no_alembic_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALEMBIC_CONFIG", raising=False)


# -- finding the config ---------------------------------------------------------------


def test_alembic_ini_in_the_working_folder(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    project = open_project(folder)
    assert project.info.config_file == str(folder / "alembic.ini")
    assert project.info.section == "alembic"
    assert project.info.script_location == str(folder / "migrations")
    assert [r.revision for r in project.graph()] == ["b2b2b2b2b2b2", "a1a1a1a1a1a1"]


def test_c_names_the_config_file(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = open_project(elsewhere, config_files=(str(folder / "alembic.ini"),))
    assert project.info.config_file == str(folder / "alembic.ini")
    assert len(project.graph()) == 2
    # relative to the working folder, as alembic resolves it
    project = open_project(tmp_path, config_files=("p/alembic.ini",))
    assert len(project.graph()) == 2


def test_alembic_config_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    monkeypatch.setenv("ALEMBIC_CONFIG", str(folder / "alembic.ini"))
    empty = tmp_path / "empty"
    empty.mkdir()
    project = open_project(empty)
    assert project.info.config_file == str(folder / "alembic.ini")
    assert len(project.graph()) == 2


def test_name_picks_the_section(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           section="reporting")
    project = open_project(folder, name="reporting")
    assert project.info.section == "reporting"
    assert len(project.graph()) == 2


def test_pyproject_named_with_c(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", ini=False, pyproject=True)
    project = open_project(tmp_path, config_files=(str(folder / "pyproject.toml"),))
    assert project.info.config_file == str(folder / "pyproject.toml")
    assert len(project.graph()) == 2


# -- bad config ---------------------------------------------------------------------


def test_no_config_in_the_folder(tmp_path: Path) -> None:
    message = open_error(tmp_path)
    assert str(tmp_path / "alembic.ini") in message
    assert "pyproject.toml" in message


@pytest.mark.parametrize("content", [b"[tool.alembic\n", b"\xff\xfe[tool]\n"])
def test_a_pyproject_that_is_not_toml_is_said_in_one_line(tmp_path: Path,
                                                          content: bytes) -> None:
    """Bad TOML, or bytes that are not UTF-8: which file, and why (alembic itself fails
    on both with a traceback); the environments' reader says the same and goes on."""
    from migtui.core.environments.config import load_environments

    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "p.db"))
    (folder / "pyproject.toml").write_bytes(content)
    message = open_error(folder)
    why = "Expected ']'" if content.startswith(b"[") else "can't decode byte 0xff"
    assert message.startswith(f"Cannot read {folder / 'pyproject.toml'}: ")
    assert why in message and "\n" not in message
    problems = load_environments(folder).problems
    assert len(problems) == 1 and problems[0].startswith("pyproject.toml: cannot be read: ")
    assert why in problems[0]


def test_config_file_given_with_c_does_not_exist(tmp_path: Path) -> None:
    message = open_error(tmp_path, config_files=("nowhere.ini",))
    assert str(tmp_path / "nowhere.ini") in message


def test_a_section_that_does_not_exist(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    message = open_error(folder, name="nosuchsection")
    assert "[nosuchsection]" in message and "alembic.ini" in message


def test_a_script_location_that_does_not_exist(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text().replace("%(here)s/migrations", "%(here)s/gone"))
    message = open_error(folder)
    assert "script_location" in message and str(folder / "gone") in message


def test_an_ini_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text("this is not\n[an ini\n")
    message = open_error(tmp_path)
    assert "alembic.ini" in message


def test_a_bad_x_argument(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    message = open_error(folder, x_args=("novalue",))
    assert "novalue" in message and "KEY=VALUE" in message


# -- the revision graph as data -------------------------------------------------------


def test_graph_data(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "rich", revisions=RICH,
                           url=sqlite_url(tmp_path / "db.sqlite"))
    graph = open_project(folder).graph()
    ids = [r.revision for r in graph]
    assert sorted(ids) == sorted(r.revision for r in RICH) and len(graph) == 6
    for rev in graph:  # newest first: every child before its parents
        for parent in (*rev.down_revisions, *rev.dependencies):
            assert ids.index(rev.revision) < ids.index(parent)

    assert set(graph.heads) == {"d4d4d4d4d4d4", "f6f6f6f6f6f6"}
    assert set(graph.bases) == {"a1a1a1a1a1a1", "e5e5e5e5e5e5"}

    def get(revision: str):  # type: ignore[no-untyped-def]
        found = graph.get(revision)
        assert found is not None, revision
        return found

    base, left, right, merge = (get("a1a1a1a1a1a1"), get("b2b2b2b2b2b2"),
                                get("c3c3c3c3c3c3"), get("d4d4d4d4d4d4"))
    other, needs = get("e5e5e5e5e5e5"), get("f6f6f6f6f6f6")
    assert base.down_revisions == () and base.is_base and not base.is_head
    assert base.children == ("b2b2b2b2b2b2", "c3c3c3c3c3c3") and base.is_branch_point
    assert merge.is_merge_point and merge.is_head and not merge.is_branch_point
    assert set(merge.down_revisions) == {"b2b2b2b2b2b2", "c3c3c3c3c3c3"}
    assert left.children == right.children == ("d4d4d4d4d4d4",)
    assert not left.is_merge_point and not left.is_branch_point
    assert [r.revision for r in graph if r.is_branch_point] == ["a1a1a1a1a1a1"]
    assert [r.revision for r in graph if r.is_merge_point] == ["d4d4d4d4d4d4"]
    # branch labels where they are declared (Alembic also lends them to descendants)
    assert "left" in left.branch_labels and right.branch_labels == ()
    assert base.branch_labels == () and "other" in other.branch_labels
    assert other.is_base and other.children == ("f6f6f6f6f6f6",)
    assert needs.dependencies == ("b2b2b2b2b2b2",) and needs.down_revisions == ("e5e5e5e5e5e5",)
    assert left.dependencies == ()
    assert base.message == "create widget" and merge.message == "merge left and right"
    assert base.date == "2026-02-01 09:00:00.000000"
    assert base.path == str(folder / "migrations" / "versions" / "a1a1a1a1a1a1_create_widget.py")
    assert base.short == "a1a1a1a1a1a1"
    assert graph.ancestors(("f6f6f6f6f6f6",)) == {
        "f6f6f6f6f6f6", "e5e5e5e5e5e5", "b2b2b2b2b2b2", "a1a1a1a1a1a1"}
    assert not graph.problems


def test_graph_is_cached_until_reload(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=LINEAR[:1])
    project = open_project(folder)
    assert len(project.graph()) == 1
    versions = folder / "migrations" / "versions"
    (versions / "b2b2b2b2b2b2_create_gadget.py").write_text(LINEAR[1].source())
    assert len(project.graph()) == 1
    project.reload()
    assert project.graph().heads == ("b2b2b2b2b2b2",)


# -- the database status ----------------------------------------------------------------


def test_status_of_the_sample(sample_project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    with untouched(capfd):
        status = project.status()
        assert status.state is DatabaseState.OK and status.reachable
        assert status.current_heads == ()
        backend = sa.make_url(url).get_backend_name()
        # A MariaDB server is named so, even through a mysql:// URL.
        assert status.dialect == ("mariadb" if backend == "mysql" else backend)
        assert status.url == sa.make_url(url).render_as_string(hide_password=True)
        snapshot = project.snapshot()
        assert snapshot.pending == ("c5d9e0f3b7a2", "8c2e47d1a5f0", "3f1a2c9d0b11")
        assert snapshot.applied == frozenset()
        assert snapshot.project.config_file == str(sample_project / "alembic.ini")


def test_reading_status_does_not_create_a_sqlite_file(
    sample_sqlite: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = open_project(sample_sqlite)
    with untouched(capfd):
        status = project.status()
        snapshot = project.snapshot()
        project.sql("upgrade", "base", "heads")
    assert status.reachable and status.current_heads == ()
    assert "sample.db" in status.error  # says the first upgrade creates it
    assert snapshot.pending == ("c5d9e0f3b7a2", "8c2e47d1a5f0", "3f1a2c9d0b11")
    assert not (sample_sqlite / "sample.db").exists()


def test_reading_status_does_not_create_a_sqlite_file_named_in_env_py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "from_env.db"
    monkeypatch.setenv(URL_VARIABLE, sqlite_url(database))
    project = open_project(write_project(tmp_path / "p", ENV_FROM_VARIABLE))
    assert project.status().current_heads == ()
    assert not database.exists()


def test_env_py_that_raises_on_import(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "p", ENV_RAISES, url=sqlite_url(tmp_path / "db.sqlite"))
    project = open_project(folder)
    with untouched(capfd):
        assert len(project.graph()) == 2  # the revisions still load
        status = project.status()
        assert status.state is DatabaseState.UNREACHABLE and not status.reachable
        assert "\n" not in status.error
        assert "settings not configured: DATABASE_URL is missing" in status.error
        assert "RuntimeError" in status.error_details and "env.py" in status.error_details
        snapshot = project.snapshot()
        assert len(snapshot.pending) == 2
        result = project.upgrade("+1")
        assert not result.ok and "settings not configured" in result.error
    assert not (tmp_path / "db.sqlite").exists()


def _assert_unreachable_without_secret(project: Project, secret: str) -> None:
    assert len(project.graph()) == 2  # the revisions still load
    status = project.status()
    assert not status.reachable and status.state is DatabaseState.UNREACHABLE
    assert status.error and "\n" not in status.error
    for text in (status.error, status.error_details, status.url):
        assert secret not in text
    result = project.upgrade("+1")
    assert not result.ok and result.error and "\n" not in result.error
    for text in (result.error, result.error_details, *result.log):
        assert secret not in text


def test_postgresql_on_a_closed_port(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://migtui:{SECRET}@127.0.0.1:{closed_port()}/nowhere"
    project = open_project(write_project(tmp_path / "p", url=url))
    with untouched(capfd):
        _assert_unreachable_without_secret(project, SECRET)
        status = project.status()
    assert status.url == f"postgresql://migtui:***@127.0.0.1:{sa.make_url(url).port}/nowhere"
    assert "127.0.0.1" in status.error or "connect" in status.error.lower()


def test_postgresql_refuses_the_login(
    tmp_path: Path, pg_server_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    url = sa.make_url(pg_server_url).set(
        username="no_such_role_here", password=OTHER_SECRET, database="postgres"
    ).render_as_string(hide_password=False)
    project = open_project(write_project(tmp_path / "p", url=url))
    with untouched(capfd):
        _assert_unreachable_without_secret(project, OTHER_SECRET)
        status = project.status()
    assert "no_such_role_here" in status.error
    assert "***" in status.url


def test_unreachable_url_computed_in_env_py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(URL_VARIABLE, f"postgresql://app:{SECRET}@127.0.0.1:{closed_port()}/db")
    project = open_project(write_project(tmp_path / "p", ENV_FROM_VARIABLE))
    with untouched(capfd):
        _assert_unreachable_without_secret(project, SECRET)
