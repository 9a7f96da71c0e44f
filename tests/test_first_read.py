"""The session's first database read, begun at launch in a process of its own (issue 15).

`migtui` starts reading the database (env.py, through ``Project.status()``) in a
process of its own before Textual starts (a fork of itself; here, where tests make it, a
new interpreter), so that the read runs beside the first paint. What the app then shows
must be exactly what reading in its own process shows: the same heads, the same error
for a missing file or a broken config; a read begun for other options than the app's is
not used. A read whose process ends without an answer (env.py ended it) is an error, not
a read in the app's own process.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from projects import ENV_STOCK, LINEAR, Rev, applied, sqlite_url, write_project
from ui_helpers import row_of, settle, status_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.reading import FirstRead
from migtui.core.errors import MigtuiError
from migtui.core.models import DatabaseState
from migtui.tui.app import MigtuiApp


def _app_with_first_read(folder: Path, options: ProjectOptions | None = None) -> MigtuiApp:
    """The app as `migtui` opens it: its first read begun apart, before the app."""
    project = Project.open(ProjectOptions(cwd=str(folder)))
    return MigtuiApp(project, first_read=FirstRead(options or project.options))


def _upgraded_once(tmp_path: Path) -> tuple[Path, str]:
    url = sqlite_url(tmp_path / "first.db")
    folder = write_project(tmp_path / "proj", url=url, revisions=LINEAR)
    Project.open(ProjectOptions(cwd=str(folder))).upgrade(LINEAR[0].revision)
    assert applied(url) == {LINEAR[0].revision}
    return folder, url


def test_the_first_read_apart_is_the_status_read_here(tmp_path: Path) -> None:
    folder, _ = _upgraded_once(tmp_path)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    apart = FirstRead(project.options).status()
    assert apart is not None
    here = project.status()
    assert apart == here
    assert apart.current_heads == (LINEAR[0].revision,)


async def test_the_app_shows_the_database_as_read_apart(tmp_path: Path) -> None:
    folder, url = _upgraded_once(tmp_path)
    app = _app_with_first_read(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        snapshot = app.state.snapshot
        assert snapshot is not None and snapshot.database.state is DatabaseState.OK
        assert snapshot.database.current_heads == (LINEAR[0].revision,)
        assert "(current)" in row_of(app, LINEAR[0].revision)
        await pilot.press("u")  # the next step, confirmed, runs against that database
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert applied(url) == {LINEAR[1].revision}


async def test_a_missing_database_file_reads_as_it_does_here(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    folder = write_project(tmp_path / "proj", url=sqlite_url(db), revisions=LINEAR)
    here = Project.open(ProjectOptions(cwd=str(folder))).status()
    app = _app_with_first_read(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        snapshot = app.state.snapshot
        assert snapshot is not None
        assert snapshot.database == here
        assert "does not exist yet" in status_text(app)
    assert not db.exists(), "looking created no file"


# env.py that ends a process apart at once, without a word (os._exit, or a crash); in
# this test's process it notes each run in RAN_HERE and reads the database as usual.
def _env_dies_apart(ran_here: Path) -> str:
    return ENV_STOCK.replace(
        "def run_migrations_online() -> None:\n",
        "def run_migrations_online() -> None:\n"
        "    import os\n"
        f"    if os.getpid() != {os.getpid()}:  # (not this test's process)\n"
        "        os._exit(3)\n"
        f"    with open({str(ran_here)!r}, 'a') as noted:\n"
        "        noted.write('ran\\n')\n",
    )


async def test_a_read_apart_that_ends_its_process_is_an_error_not_read_here(
        tmp_path: Path) -> None:
    """The process apart ends without an answer: env.py (or what it imports) ended it,
    so running env.py in the app's own process would end the app. The status line says
    what happened, and nothing runs env.py here for it: not the read, not the tables
    screen built in the background, not `t`, not `r` (which reads apart again)."""
    ran_here = tmp_path / "ran-here.txt"
    url = sqlite_url(tmp_path / "x.db")
    folder = write_project(tmp_path / "proj", env_py=_env_dies_apart(ran_here), url=url,
                           revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    project.upgrade(LINEAR[0].revision)
    ran_here.unlink()
    status = FirstRead(project.options).status()
    assert status is not None and status.state is DatabaseState.UNREACHABLE
    assert status.cause == "env.py" and "ended its process (exit status 3)" in status.error
    app = _app_with_first_read(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.pause(0.8)  # (the tables screen is built in the background by then)
        await settle(pilot)
        assert "env.py ended its process (exit status 3)" in status_text(app)
        await pilot.press("t")
        await settle(pilot)
        assert "could not be read" in str(app.screen.query_one("#table-title").content)
        await pilot.press("g", "r")  # read again: apart again, and said again
        await settle(pilot)
        assert app.state.snapshot is not None and app.state.snapshot.database.process_ended
        assert "env.py ended its process (exit status 3)" in status_text(app)
    assert not ran_here.exists(), "env.py ran in the app's own process"
    assert applied(url) == {LINEAR[0].revision}


async def test_a_read_begun_for_other_options_is_not_used(tmp_path: Path) -> None:
    folder, _ = _upgraded_once(tmp_path)
    elsewhere = tmp_path / "elsewhere.db"
    sqlite3.connect(elsewhere).executescript(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        f"INSERT INTO alembic_version VALUES ('{LINEAR[-1].revision}');")
    options = ProjectOptions(cwd=str(folder), url=sqlite_url(elsewhere))
    app = _app_with_first_read(folder, options)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        snapshot = app.state.snapshot
        assert snapshot is not None
        assert snapshot.database.current_heads == (LINEAR[0].revision,), (
            "the app's own database, not the one the read apart was begun for")


async def test_a_config_error_read_apart_is_said_as_the_app_says_it(tmp_path: Path) -> None:
    """The script folder of a remembered project is gone: the process apart cannot open
    the config; the app shows what it shows without the read apart."""
    folder, _ = _upgraded_once(tmp_path)
    Project.open(ProjectOptions(cwd=str(folder))).graph()  # remembered from now on
    (folder / "migrations").rename(folder / "moved")
    options = ProjectOptions(cwd=str(folder))
    shown = []
    for first_read in (None, FirstRead(options)):
        app = MigtuiApp(Project.open(options), first_read=first_read)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            db = app.state.snapshot.database if app.state.snapshot else None
            shown.append((app.state.load_error, db))
    assert shown[0][0] or shown[0][1], shown
    assert shown[1] == shown[0]


def test_a_bad_x_argument_is_refused_even_when_the_project_is_remembered(
        tmp_path: Path) -> None:
    folder, _ = _upgraded_once(tmp_path)
    Project.open(ProjectOptions(cwd=str(folder))).graph()  # remembered from now on
    try:
        Project.open(ProjectOptions(cwd=str(folder), x_args=("bad",)))
    except MigtuiError as exc:
        assert "Bad -x argument 'bad'" in exc.message
    else:
        raise AssertionError("a bad -x argument was accepted")


async def test_a_step_left_half_done_is_shown_when_the_status_is_read_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mark of a step that failed halfway (kept between runs) is found for the
    status read apart at launch, whose URL came masked from that process: a relative
    SQLite URL, the database named by the project's folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    base = Rev("a1a1a1a1a1a1", None, "create widget", "widget")
    failing = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "half", upgrade="\n".join([
        'op.create_table("early", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
    ]))
    folder = write_project(tmp_path / "proj", url="sqlite:///half.db", revisions=(base, failing))
    monkeypatch.chdir(folder)  # (env.py opens the relative path from here)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    assert project.upgrade("heads").partial is not None
    app = _app_with_first_read(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "⚠ partially applied" in row_of(app, "b2b2b2b2b2b2")
        assert "partially applied b2b2b2b2b2b2" in " ".join(status_text(app).split())
