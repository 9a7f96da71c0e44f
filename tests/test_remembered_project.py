"""A warm start draws the graph from what the last start found (issue 15), and whatever
Alembic says differently, once it has been asked, wins.

Each test opens the project as `migtui` does, once to fill the caches, then again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import base as alembic_script_base
from loading_helpers import CHAIN, alembic_graph, make_project, open_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.remembered import (
    Remembered,
    config_stamps,
    first_look,
    recall,
    remember,
)
from migtui.core.revisions.diskcache import alembic_version
from migtui.core.revisions.files import (
    ONLY_SOURCE_REV_FILE,
    SOURCELESS_REV_FILE,
    Locations,
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own on-disk caches."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(folder))
    yield folder


def _first_start(folder: Path) -> None:
    project = open_project(folder)
    project.snapshot()  # builds the script directory: where the files are is remembered


def test_the_second_start_knows_the_project_without_alembic_and_draws_the_same_graph(
        tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    _first_start(folder)
    options = ProjectOptions(cwd=str(folder))
    found = recall(options, config_stamps(options))
    assert found is not None
    assert found.locations.version_locations == (str(folder / "migrations" / "versions"),)
    project = open_project(folder)
    assert project.info.config_file == str(folder / "alembic.ini")
    assert project.graph() == alembic_graph(folder)
    assert project.snapshot().graph == alembic_graph(folder)


def test_an_edited_config_is_read_again(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    _first_start(folder)
    more = folder / "more"
    more.mkdir()
    (more / "c3.py").write_text(CHAIN[2].source())
    ini = folder / "alembic.ini"
    anchor = "script_location = %(here)s/migrations\n"
    ini.write_text(ini.read_text().replace(
        anchor, anchor + "version_locations = %(here)s/migrations/versions:%(here)s/more\n"))
    options = ProjectOptions(cwd=str(folder))
    assert recall(options, config_stamps(options)) is None, "the stamps changed"
    project = open_project(folder)
    assert project.graph().heads == ("c3c3c3c3c3c3",)
    assert project.graph() == alembic_graph(folder)


def test_remembered_locations_that_are_wrong_are_corrected_once_alembic_is_asked(
        tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    elsewhere = make_project(tmp_path / "other", CHAIN[:1])
    _first_start(folder)
    options = ProjectOptions(cwd=str(folder))
    stamps = config_stamps(options)
    wrong = Locations(str(elsewhere / "migrations"),
                      (str(elsewhere / "migrations" / "versions"),))
    remember(options, stamps, Remembered(str(folder / "alembic.ini"), "migrations", wrong))
    project = open_project(folder)
    assert project.graph().heads == ("a1a1a1a1a1a1",), "drawn from what was remembered"
    assert project.snapshot().graph == alembic_graph(folder), "then Alembic's own answer"
    found = recall(options, stamps)
    assert found is not None and found.locations.dir == str(folder / "migrations")


def test_another_alembic_version_is_not_trusted(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    _first_start(folder)
    options = ProjectOptions(cwd=str(folder))
    stamps = config_stamps(options)
    assert recall(options, stamps) is not None
    file = next((tmp_path / "cache").glob("project-*.json"))
    file.write_text(file.read_text().replace(f'"{alembic_version()}"', '"0.0.1"'))
    assert recall(options, stamps) is None


def test_the_version_is_alembics_and_the_file_patterns_are_alembics() -> None:
    import alembic

    assert alembic_version() == alembic.__version__
    assert ONLY_SOURCE_REV_FILE.pattern == alembic_script_base._only_source_rev_file.pattern
    assert SOURCELESS_REV_FILE.pattern == alembic_script_base._sourceless_rev_file.pattern


# -- a first start, nothing remembered: the .ini read without Alembic ------------------

def _alembic_locations(folder: Path) -> Locations:
    """Where Alembic's own ScriptDirectory looks, for the project in ``folder``."""
    from alembic.script import ScriptDirectory

    from migtui.core.actions.config import open_config

    return Locations.of(ScriptDirectory.from_config(open_config(ProjectOptions(cwd=str(folder)))))


@pytest.mark.parametrize("location", ["%(here)s/migrations", "migrations", "./migrations/",
                                      "%(here)s/./migrations"])
def test_a_first_start_reads_a_plain_ini_as_alembic_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text().replace("script_location = %(here)s/migrations",
                                           f"script_location = {location}"))
    monkeypatch.chdir(folder)
    looked = first_look(ProjectOptions(cwd=str(folder)))
    assert looked is not None
    assert looked.locations == _alembic_locations(folder)
    assert looked.config_file == str(ini)
    project = open_project(folder)
    assert project.graph() == alembic_graph(folder)
    options = ProjectOptions(cwd=str(folder))
    assert recall(options, config_stamps(options)) is None, "nothing remembered before Alembic"
    project.snapshot()  # Alembic's script directory: now it is remembered for the next start
    found = recall(options, config_stamps(options))
    assert found is not None and found.locations == _alembic_locations(folder)


@pytest.mark.parametrize("extra", [
    "version_locations = %(here)s/migrations/versions",
    "recursive_version_locations = true",
    "sourceless = true",
])
def test_a_first_start_leaves_any_other_layout_to_alembic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    ini = folder / "alembic.ini"
    anchor = "script_location = %(here)s/migrations\n"
    ini.write_text(ini.read_text().replace(anchor, anchor + extra + "\n"))
    monkeypatch.chdir(folder)
    assert first_look(ProjectOptions(cwd=str(folder))) is None
    assert open_project(folder).graph() == alembic_graph(folder)


def test_a_first_start_leaves_odd_configs_to_alembic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    monkeypatch.chdir(folder)
    assert first_look(ProjectOptions(cwd=str(folder), name="other")) is None  # no section
    assert first_look(ProjectOptions(cwd=str(folder), x_args=("novalue",))) is None
    assert first_look(ProjectOptions(cwd=str(tmp_path))) is None  # not the process's folder
    (folder / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "migrations"\n')
    assert first_look(ProjectOptions(cwd=str(folder))) is None
    (folder / "pyproject.toml").write_text("[tool.alembic\n")  # broken: Alembic's error
    assert first_look(ProjectOptions(cwd=str(folder))) is None
    ini = folder / "alembic.ini"
    (folder / "pyproject.toml").unlink()
    ini.write_text(ini.read_text().replace("%(here)s/migrations", "mypackage:migrations"))
    assert first_look(ProjectOptions(cwd=str(folder))) is None
