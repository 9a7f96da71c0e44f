"""The revision graph screen, driven with Pilot on real databases."""

from __future__ import annotations

from pathlib import Path

from conftest import column_names, database_url, table_names
from textual.widgets import Static
from ui_helpers import graph_lines, make_app, row_of, settle, status_text, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import ChooseScreen, PromptScreen
from migtui.widgets.revision_graph import RevisionGraphView

USER, EVOLVE, POST = "3f1a2c9d0b11", "8c2e47d1a5f0", "c5d9e0f3b7a2"


async def test_sample_shows_three_pending_revisions(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        lines = graph_lines(app)
        assert [line.split()[1] for line in lines] == [POST, EVOLVE, USER]
        assert all(line.startswith("○") for line in lines)
        assert "(head)" in row_of(app, POST)
        assert "create the user table" in row_of(app, USER)
        assert "3 pending" in status_text(app)
        assert "***" not in status_text(app)
    assert not (sample_sqlite / "sample.db").exists(), "looking must not create the database"


async def test_step_up_and_down(sample_project: Path) -> None:
    url = database_url(sample_project)
    app = make_app(sample_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.plan.steps[0].revision == USER
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, USER)
        assert row_of(app, USER).startswith("●")
        assert row_of(app, EVOLVE).startswith("○")
        assert table_names(url) == {"user"}

        await pilot.press("u")

        await settle(pilot)  # y applies once the checks are shown

        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, EVOLVE)
        assert {"ssn", "created_at"} <= column_names(url, "user")

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.plan.destructive, "dropping columns must warn"
        assert app.screen.focused is not None and app.screen.focused.id == "no"
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, USER)
        assert "ssn" not in column_names(url, "user")


async def test_cancel_changes_nothing(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert all(line.startswith("○") for line in graph_lines(app))
    assert not (sample_sqlite / "sample.db").exists()


async def test_upgrade_and_downgrade_to_selected(sample_project: Path) -> None:
    url = database_url(sample_project)
    app = make_app(sample_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(RevisionGraphView)
        assert view.selected is not None and view.selected.revision == POST
        await pilot.press("U")
        await settle(pilot)
        assert [s.revision for s in app.screen.plan.steps] == [USER, EVOLVE, POST]
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, POST)
        assert table_names(url) == {"user", "post"}

        await pilot.press("end", "D")
        await settle(pilot)
        assert [s.revision for s in app.screen.plan.steps] == [POST, EVOLVE]
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, USER)
        assert table_names(url) == {"user"}


async def test_stamp_records_without_running(sample_sqlite: Path) -> None:
    url = database_url(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, EVOLVE)
        assert table_names(url) == set()


async def test_read_only_refuses_writes(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite, read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for key in ("u", "U", "s", "m"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen | PromptScreen)
        assert "read-only" in status_text(app)
    assert not (sample_sqlite / "sample.db").exists()


async def test_filter_selects_match(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ssn", "enter")
        await settle(pilot)
        lines = graph_lines(app)
        assert len(lines) == 1 and EVOLVE in lines[0]
        view = app.screen.query_one(RevisionGraphView)
        assert view.selected is not None and view.selected.revision == EVOLVE
        await pilot.press("escape")
        await settle(pilot)
        assert len(graph_lines(app)) == 3


async def test_details_show_source_and_sql(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        source = widget_text(app.screen.query_one("#details-source", Static))
        assert "op.create_table" in source and "def downgrade" in source
        sql = widget_text(app.screen.query_one("#sql-up", Static))
        assert "CREATE TABLE" in sql
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query(RevisionGraphView)


async def test_two_heads_ask_which_and_merge(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from projectkit.genproject import generate_project

    generate_project(tmp_path, 12, branch_every=4, heads=2)
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "2 heads" in status_text(app)
        lines = graph_lines(app)
        assert sum(line.count("(head)") for line in lines) == 2
        await pilot.press("U")  # the newest head
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, (ChooseScreen, ConfirmScreen))
        await pilot.press("escape")
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("escape")
            await settle(pilot)
        files_before = set((tmp_path / "migrations" / "versions").glob("*.py"))
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")
        await settle(pilot)
        new = set((tmp_path / "migrations" / "versions").glob("*.py")) - files_before
        assert len(new) == 1
        top = graph_lines(app)[0]
        assert "(mergepoint)" in top and "(head)" in top
        assert "heads: merge" not in status_text(app)
        said = [n.message for n in app._notifications if "merge" in n.message]
        assert said and "u applies it" in said[-1]
        assert "now at" not in said[-1]  # the database is where it was: the merge is pending


async def test_branched_project_draws_lanes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from projectkit.genproject import generate_project

    generate_project(tmp_path, 30, branch_every=10)
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        text = "\n".join(graph_lines(app))
        assert "(mergepoint)" in text and "(branchpoint)" in text
        assert "╮" in text and "╯" in text


async def test_mouse_selects_and_notifies_what_ran(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(RevisionGraphView)
        await pilot.click(RevisionGraphView, offset=(5, 2))
        await settle(pilot)
        assert view.selected is not None and view.selected.revision == USER
        await pilot.press("U")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("Upgraded 1 revision" in m and USER in m for m in messages)
        await pilot.click(RevisionGraphView, offset=(5, 0), times=2)
        await settle(pilot)
        assert not app.screen.query(RevisionGraphView), "a double click opens the details"


async def test_branch_point_and_several_heads_ask_which(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.project import Project
    from projectkit.genproject import generate_project

    generate_project(tmp_path, 12, branch_every=4, heads=2)
    monkeypatch.chdir(tmp_path)
    project = Project.open(ProjectOptions(cwd=str(tmp_path)))
    graph = project.graph()
    fork = next(r for r in graph if r.is_branch_point and len(r.children) == 2
                and all(graph.get(c) and not graph.get(c).is_merge_point for c in r.children))
    assert project.upgrade(fork.revision).ok
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ChooseScreen), "a branch point makes +1 ambiguous"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        chosen = app.screen.plan.steps[0].revision
        assert chosen in fork.children
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, chosen)

        await pilot.press("home", "U")  # the newest head: the other line too

        await settle(pilot)  # y applies once the checks are shown

        await pilot.press("y")
        await settle(pilot)
        heads = app.state.snapshot.database.current_heads if app.state.snapshot else ()
        if len(heads) < 2:  # the newest head is on the line already applied: apply the other
            other = next(h for h in graph.heads if h not in heads)
            assert project.upgrade(other).ok
            await pilot.press("r")
            await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ChooseScreen), "several current heads: step down from which?"
        await pilot.press("escape")
        await settle(pilot)


async def test_rows_are_made_as_they_are_drawn(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """At 600 revisions only the rows on screen (and the one selected) are made; End,
    the filter and a selection by id still reach every revision (issue 15)."""
    from projectkit.genproject import generate_project

    ids = generate_project(tmp_path, 600, branch_every=50)
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(RevisionGraphView)
        rows = view.rows
        assert len(rows) == len(ids)
        made = len(rows._made)
        assert 0 < made <= view.size.height + 1, f"{made} rows made for {view.size.height}"
        await pilot.press("end")
        await settle(pilot)
        assert view.selected is not None and view.selected.revision == ids[0]
        assert "\n".join(graph_lines(app)).count(ids[0][:12]) == 1, "the base is on screen"
        await pilot.press("slash")
        await pilot.press(*ids[300][:8])
        await settle(pilot)
        assert [row.revision.revision for row in view.rows] == [ids[300]]
        legend = widget_text(app.screen.query_one("#legend", Static))
        assert f"1 of {len(ids):,} revisions match “{ids[300][:8]}”" in legend
        await pilot.press("escape")
        await settle(pilot)
        assert len(view.rows) == len(ids)
        # What the filter found stays selected, and on screen, once it is cleared.
        assert view.selected is not None and view.selected.revision == ids[300]
        assert ids[300][:12] in "\n".join(graph_lines(app))
        assert view.select(ids[123]) and view.selected is not None
        assert view.selected.revision == ids[123]
        assert view.rows[view.cursor].revision.revision == ids[123]
