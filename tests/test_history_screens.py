"""History that helps, driven through the real app (issue 19): the rescue of an unknown
database revision, edit marks, a table's history."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from actions_helpers import open_project
from conftest import database_url, table_names
from history_helpers import ON_A, ON_B, git, two_branches
from textual.widgets import OptionList
from ui_helpers import graph_lines, make_app, row_of, settle, status_text, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.history import RescueScreen, TableHistoryScreen
from migtui.screens.tables import TablesScreen

SIZE = (160, 40)
USER, EVOLVE, POST = "3f1a2c9d0b11", "8c2e47d1a5f0", "c5d9e0f3b7a2"
MARK = f"✎ edited since applied to this database on {dt.date.today().isoformat()}"


async def test_rescue_restores_branch_a_files_and_moves_to_branch_b(tmp_path: Path) -> None:
    folder, url = two_branches(tmp_path)
    assert open_project(folder).upgrade("heads").ok  # the database follows branch-a
    git(folder, "checkout", "-q", "branch-b")
    commit = git(folder, "rev-parse", "branch-a").strip()
    app = make_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "which no file defines" in status_text(app)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, RescueScreen)
        said = widget_text(app.screen.query_one("#rescue-body"))
        assert f"The database is on {ON_A.revision}" in said
        assert f"commit {commit[:10]}" in said and "add a table on branch-a" in said
        assert "on branch(es): branch-a" in said
        assert f"{ON_A.revision}  {ON_A.message}" in said
        assert "create_table('a_table'" in said
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert [(s.revision, s.direction) for s in app.screen.plan.steps] == [
            (ON_A.revision, "downgrade"), (ON_B.revision, "upgrade")]
        # Checked on the live data and rendered as SQL, as every step is (review).
        checks = widget_text(app.screen.query_one("#confirm-checks"))
        assert "Checked on the live data" in checks, checks
        sql = widget_text(app.screen.query_one("#confirm-sql"))
        assert "DROP TABLE a_table" in sql and "CREATE TABLE b_table" in sql, sql
        assert sql.index("DROP TABLE a_table") < sql.index("CREATE TABLE b_table")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
        assert "(current)" in row_of(app, ON_B.revision)
        assert "no file defines" not in status_text(app)
    assert table_names(url) == {"widget", "b_table"}
    assert git(folder, "status", "--porcelain", "--ignored") == ""


async def test_rescue_without_git_says_so(tmp_path: Path) -> None:
    folder, _url = two_branches(tmp_path)
    assert open_project(folder).upgrade("heads").ok
    git(folder, "checkout", "-q", "branch-b")
    subprocess.run(["rm", "-rf", str(folder / ".git")], check=True)
    app = make_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        said = widget_text(app.screen.query_one("#rescue-body"))
        assert "✗ git cannot help: " in said
        assert "s on the graph stamps any revision" in said
        await pilot.press("a")  # nothing to restore: it stays
        await settle(pilot)
        assert isinstance(app.screen, RescueScreen)


async def test_editing_a_revision_migtui_applied_marks_it(tmp_path: Path) -> None:
    from projectkit.sample import copy_sample
    project = copy_sample(tmp_path / "sample")
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "the sample")
    app = make_app(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")  # migtui applies USER
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, USER)
        assert "✎" not in row_of(app, USER)
        user_file = next((project / "migrations" / "versions").glob(f"{USER}_*.py"))
        user_file.write_text(user_file.read_text() + "\n# changed after it was applied\n")
        await pilot.press("r")
        await settle(pilot)
        assert MARK in row_of(app, USER)
        assert all("✎" not in line for line in graph_lines(app) if USER not in line)
        await pilot.press("end", "v")  # USER is the last row
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        diff = widget_text(app.screen.query_one("#text-content"))
        assert "+# changed after it was applied" in diff


async def test_a_revision_the_alembic_cli_applied_has_no_mark(tmp_path: Path) -> None:
    from projectkit.sample import copy_sample
    project = copy_sample(tmp_path / "sample")
    alembic = Path(sys.executable).with_name("alembic")
    subprocess.run([str(alembic), "upgrade", USER], cwd=project, check=True,
                   capture_output=True)
    user_file = next((project / "migrations" / "versions").glob(f"{USER}_*.py"))
    user_file.write_text(user_file.read_text() + "\n# changed after it was applied\n")
    app = make_app(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "(current)" in row_of(app, USER)
        assert all("✎" not in line for line in graph_lines(app))


async def test_table_history_of_the_sample_user_table(tmp_path: Path) -> None:
    from projectkit.sample import copy_sample
    project = copy_sample(tmp_path / "sample")
    assert open_project(project).upgrade(EVOLVE).ok
    app = make_app(project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        tables = app.screen
        assert isinstance(tables, TablesScreen)
        user = next(r for r in tables._refs if r.name == "user")
        tables.jump_to(user)
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, TableHistoryScreen)
        listing = app.screen.query_one("#history-list", OptionList)
        lines = [str(listing.get_option_at_index(i).prompt)
                 for i in range(listing.option_count)]
        assert [line.split()[:2] for line in lines] == [
            ["●", USER], ["●", EVOLVE], ["○", POST]]
        assert "create_table('user'" in lines[0]
        assert "add_column('user', 'ssn'" in lines[1]
        assert "create_table('post'" in lines[2]  # its foreign key points at user
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
        assert app.screen.graph_view.selected is not None
        assert app.screen.graph_view.selected.revision == POST
    assert table_names(database_url(project)) == {"user"}


async def test_table_history_shows_escape_sequences_as_text(tmp_path: Path) -> None:
    """A message and an operation holding a raw ESC never reach the terminal as one."""
    from projects import Rev, sqlite_url, write_project

    url = sqlite_url(tmp_path / "esc.db")
    rev = Rev("e5c0e5c0e5c0", None, "marker", upgrade=(
        'op.create_table("weird", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("v", sa.String(40)))\n'
        "op.execute(\"INSERT INTO weird (v) VALUES ('\\x1b[31mz\\x1b[0m')\")"),
        downgrade='op.drop_table("weird")')
    folder = write_project(tmp_path / "proj", url=url, revisions=())
    path = folder / "migrations" / "versions" / "e5c0_escape.py"
    path.write_text(rev.source().replace("marker", "red \x1b[31mRED\x1b[0m [bold]x[/]", 1))
    assert open_project(folder).upgrade("head").ok
    app = make_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        tables = app.screen
        assert isinstance(tables, TablesScreen)
        tables.jump_to(next(r for r in tables._refs if r.name == "weird"))
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, TableHistoryScreen)
        listing = app.screen.query_one("#history-list", OptionList)
        text = "\n".join(str(listing.get_option_at_index(i).prompt)
                         for i in range(listing.option_count))
        assert "red \\x1b[31mRED\\x1b[0m [bold]x[/]" in text, text
        assert "\\x1b[31mz" in text and "\x1b" not in text
