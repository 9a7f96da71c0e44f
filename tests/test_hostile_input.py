"""Text from files and databases is data (issue 14): markup stays literal, control
characters never reach the terminal, odd objects and big values do not break a screen.

Every surface is fed markup (``[/]``, ``[/bold]``, ``[link=x]``, ``[WIP]``) and escape
sequences (``ESC ] 0 ; pwned BEL`` retitles a terminal, ``ESC [ 31 m`` colours it) in the
real app, and the test reads what the screen shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from projects import Rev, sqlite_url, write_project
from rich.text import Text
from textual.command import CommandList
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Log, OptionList, Static
from ui_helpers import graph_lines, make_app, settle, status_text, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.details import RevisionDetailsScreen
from migtui.screens.dialogs import ChooseScreen, TextScreen
from migtui.screens.value import ValueScreen
from migtui.tui.app import MigtuiApp
from migtui.tui.messages import LogLine
from migtui.widgets.revision_graph import RevisionGraphView
from migtui.widgets.row_grid import RowGrid
from migtui.widgets.safe_text import clean, safe

TITLE = "\x1b]0;pwned\x07"
RED = "\x1b[31m"
SHOWN_TITLE = "\\x1b]0;pwned\\x07"
HOSTILE = (
    Rev("a1a1a1a1a1a1", None, "base [WIP] fine"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "revert [/] hotfix [/bold]"),
    Rev("c3c3c3c3c3c3", "a1a1a1a1a1a1", f"[link=x]click{TITLE}{RED}red", table="t_c3",
        branch_labels=("[WIP]",)),
)


def hostile_project(tmp_path: Path) -> Path:
    db = tmp_path / "h.db"
    folder = write_project(tmp_path / "p", url=sqlite_url(db), revisions=())
    versions = folder / "migrations" / "versions"
    for rev in HOSTILE:  # file names with markup and an escape sequence too
        (versions / f"{rev.revision[:2]}_[bold]{RED}.py").write_text(rev.source())
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    return folder


def no_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, repr(text)


def shown_toasts(app: MigtuiApp) -> str:
    """The words of every notification; none is read as markup (a toast then shows its
    message as it is)."""
    notes = list(app._notifications)
    assert all(not n.markup for n in notes)
    return " ".join(f"{n.title} {n.message}" for n in notes)


def screen_text(app: MigtuiApp) -> str:
    """Every Static of the current screen, rendered."""
    return "\n".join(widget_text(w) for w in app.screen.query(Static))


async def test_revision_surfaces_show_text_literally(tmp_path: Path) -> None:
    app = make_app(hostile_project(tmp_path))
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        rows = "\n".join(graph_lines(app))
        no_controls(rows)
        assert "revert [/] hotfix [/bold]" in rows and "base [WIP] fine" in rows
        assert f"[link=x]click{SHOWN_TITLE}\\x1b[31mred" in rows
        assert "[[WIP]]" in rows  # the branch label, in Alembic's brackets
        no_controls(status_text(app))

        # Two revisions can run next: the "which branch?" list shows both messages.
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ChooseScreen)
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)]
        assert any("revert [/] hotfix [/bold]" in p for p in prompts), prompts
        assert any(SHOWN_TITLE in p for p in prompts), prompts
        for p in prompts:
            no_controls(p)
        await pilot.press("escape")
        await settle(pilot)

        # Details of the revision with the escape sequences: header, file, source.
        view = app.screen.query_one(RevisionGraphView)
        assert view.select("c3c3c3c3c3c3")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RevisionDetailsScreen)
        shown = screen_text(app)
        no_controls(shown)
        assert f"[link=x]click{SHOWN_TITLE}" in shown
        assert "c3_[bold]\\x1b[31m.py" in shown  # the file path
        assert "Branch labels  [WIP]" in shown
        await pilot.press("escape")
        await settle(pilot)

        # The palette lists revisions by message: brackets kept, nothing crashes.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to revert")
        await settle(pilot)
        commands = app.screen.query_one(CommandList)
        hits = [str(commands.get_option_at_index(i).prompt)
                for i in range(commands.option_count)]
        assert any("revert [/] hotfix [/bold]" in h for h in hits), hits
        await pilot.press("escape")
        await settle(pilot)

        # The log panel and notifications (which Textual reads as markup by default).
        log = app.screen.query_one(Log)
        for _ in range(200):  # rounds: the palette may still be closing and take the key
            if log.display and log.size.width:
                break
            if not log.display and not isinstance(app.screen, ModalScreen):
                await pilot.press("l")
            await pilot.pause()
        app.post_message(LogLine(f"{TITLE} [/] printed by env.py"))
        app.notify(f"{RED}[/bold] revert [/] {TITLE}", title=f"[b]{RED}")
        await settle(pilot)
        logged = "\n".join(log.lines)
        no_controls(logged)
        assert f"{SHOWN_TITLE} [/] printed by env.py" in logged
        drawn = "\n".join(log.render_line(y).text for y in range(log.size.height))
        assert f"{SHOWN_TITLE} [/] printed by env.py" in drawn, drawn
        toasts = shown_toasts(app)
        no_controls(toasts)
        assert "[/bold] revert [/]" in toasts and SHOWN_TITLE in toasts, toasts


async def test_error_text_from_a_broken_file_is_shown_literally(tmp_path: Path) -> None:
    folder = hostile_project(tmp_path)
    (folder / "migrations" / "versions" / "d4_raises.py").write_text(
        'revision = "d4d4d4d4d4d4"\ndown_revision = "b2b2b2b2b2b2"\n'
        'raise RuntimeError("[/] \\x1b]0;pwned\\x07 [link=x]")\n')
    app = make_app(folder)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        shown = screen_text(app)
        no_controls(shown)
        assert f"[/] {SHOWN_TITLE} [link=x]" in shown


def odd_tables(tmp_path: Path) -> Path:
    folder = hostile_project(tmp_path)
    conn = sqlite3.connect(tmp_path / "h.db")
    conn.executescript(f"""
        CREATE TABLE "t[/]{RED}" ("a
b" INTEGER PRIMARY KEY, "[WIP]" TEXT);
        INSERT INTO "t[/]{RED}" VALUES (1, '[/bold]{TITLE}');
        CREATE TABLE gone (a INTEGER);
        CREATE VIEW v_broken AS SELECT * FROM gone;
        DROP TABLE gone;
        CREATE TABLE bytes_t (id INTEGER PRIMARY KEY, x TEXT);
        INSERT INTO bytes_t VALUES (1, CAST(x'fffe41c328' AS TEXT));
        CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
    """)
    conn.execute("INSERT INTO big VALUES (1, ?)", ("x" * (10 * 1024 * 1024),))
    conn.commit()
    conn.close()
    return folder


async def pick(pilot: Pilot[None], name: str, tab: str) -> None:
    app = pilot.app
    listing = app.screen.query_one("#table-list", OptionList)
    refs = app.screen._refs  # type: ignore[attr-defined]
    listing.highlighted = next(i for i, r in enumerate(refs) if r.name == name)
    await settle(pilot)
    app.screen.query_one("#table-tabs").active = tab  # type: ignore[attr-defined]
    await settle(pilot)


async def test_tables_show_odd_names_values_and_problems(tmp_path: Path) -> None:
    app = make_app(odd_tables(tmp_path))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        listing = app.screen.query_one("#table-list", OptionList)
        entries = [str(listing.get_option_at_index(i).prompt)
                   for i in range(listing.option_count)]
        no_controls("\n".join(entries))
        assert any("t[/]\\x1b[31m" in e for e in entries), entries
        assert any("⚠ v_broken" in e for e in entries), entries

        await pick(pilot, "v_broken", "columns")
        title = widget_text(app.screen.query_one("#table-title", Static))
        assert "⚠ view v_broken: no such table: main.gone" in title

        await pick(pilot, f"t[/]{RED}", "columns")
        columns = app.screen.query_one("#columns-table")
        names = [str(columns.get_row_at(i)[1]) for i in range(columns.row_count)]  # type: ignore[attr-defined]
        assert names == ["a\\nb", "[WIP]"]
        await pick(pilot, f"t[/]{RED}", "rows")
        grid = app.screen.query_one(RowGrid)
        lines = [grid.render_line(y).text for y in range(2)]
        no_controls("\n".join(lines))
        assert "a\\nb" in lines[0] and "[WIP]" in lines[0] and "[/bold]" in lines[1]

        # Invalid UTF-8: replacement characters in the grid, the bytes on enter.
        await pick(pilot, "bytes_t", "rows")
        grid.focus()
        await pilot.press("right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        shown = screen_text(app)
        assert "\ufffd\ufffdA\ufffd" in shown and "ff fe 41 c3 28" in shown
        await pilot.press("escape")
        await settle(pilot)

        # 10 MiB: cut in the grid, paged in the dialog.
        await pick(pilot, "big", "rows")
        grid.focus()
        assert grid.render_line(1).text.rstrip().endswith("…")
        await pilot.press("right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        line = widget_text(app.screen.query_one("#value-range", Static))
        assert "showing 64 KiB of 10 MiB" in line and "page 1 of 160" in line
        content = app.screen.query_one("#text-content", Static)
        assert len(widget_text(content).replace("\n", "")) == 64 * 1024
        await pilot.press("n")
        await settle(pilot)
        assert "page 2 of 160" in widget_text(app.screen.query_one("#value-range", Static))
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ValueScreen)


def test_safe_text_shows_every_control_character() -> None:
    assert clean("a\x1b[31mb\x07\r\x7f\x9b\u2028\u202e") == (
        "a\\x1b[31mb\\x07\\r\\x7f\\x9b\\u2028\\u202e")
    assert clean("two\nlines\tkept") == "two\nlines\tkept"
    assert clean("one\nline", one_line=True) == "one\\nline"
    assert isinstance(safe("[bold]x[/]"), Text) and safe("[bold]x[/]").plain == "[bold]x[/]"


def broken_history(tmp_path: Path, revisions: tuple[Rev, ...]) -> MigtuiApp:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "b.db"),
                           revisions=revisions)
    return make_app(folder)


async def test_a_missing_parent_is_named_and_refused(tmp_path: Path) -> None:
    app = broken_history(tmp_path, (
        Rev("a1a1a1a1a1a1", None, "base"), Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "two"),
        Rev("c3c3c3c3c3c3", "ghost1234567", "orphan")))
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        status = " ".join(status_text(app).split())
        assert "merge them with m" not in status
        assert "1 problem in the revision history" in status
        await pilot.press("e")
        await settle(pilot)
        assert ("c3c3c3c3c3c3 names a parent ghost1234567 that no readable file defines "
                "(file c3c3c3c3c3c3_orphan.py)") in screen_text(app)
        await pilot.press("escape", "m")
        await settle(pilot)
        toasts = shown_toasts(app)
        assert "Alembic refuses to run anything" in toasts and "ghost1234567" in toasts
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("U")  # the selected revision (the newest): only Cancel
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "ghost1234567" in widget_text(app.screen.query_one("#confirm-refusal", Static))
        assert not app.screen.query("#yes")


async def test_a_cycle_makes_no_claim_about_head(tmp_path: Path) -> None:
    app = broken_history(tmp_path, (
        Rev("a1a1a1a1a1a1", None, "base"),
        Rev("b2b2b2b2b2b2", "d4d4d4d4d4d4", "loop one"),
        Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "loop two"),
        Rev("d4d4d4d4d4d4", "c3c3c3c3c3c3", "loop three")))
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        toasts = shown_toasts(app)
        assert "nothing to upgrade" not in toasts
        assert "Revisions form a cycle" in toasts or isinstance(app.screen, ConfirmScreen)


async def test_fifty_heads_keep_the_message_readable(tmp_path: Path) -> None:
    revs = [Rev("a0a0a0a0a0a0", None, "base")]
    revs += [Rev(f"h{i:011d}", "a0a0a0a0a0a0", f"head number {i} with a readable message")
             for i in range(50)]
    app = broken_history(tmp_path, tuple(revs))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        lines = graph_lines(app)
        deepest = lines[-1]  # the row with the most lanes on screen
        assert len(lines) > 17 and "+" in deepest[:34], lines
        lanes, message = deepest.split(" h0000", 1)
        assert len(lanes) <= 34 and "head number" in message and "with a" in message, deepest


async def test_read_only_does_not_advertise_write_keys(tmp_path: Path) -> None:
    folder = hostile_project(tmp_path)
    app = make_app(folder, read_only=True)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "upgrade_step" not in keys and "merge" not in keys and "filter" in keys
        await pilot.press("u")
        await settle(pilot)
        toasts = shown_toasts(app)
        assert "read-only" in toasts
        await pilot.press("a")
        await settle(pilot)
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "new_revision" not in keys and "upgrade_head" not in keys


async def test_log_panel_goes_on_past_the_lines_kept(tmp_path: Path) -> None:
    """env.py that prints more lines than the session keeps: the panel still shows the
    newest line after each one (it once stopped once the kept lines were full)."""
    app = make_app(hostile_project(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        log = app.screen.query_one(Log)
        kept = app.LOG_LINES_KEPT
        for n in range(kept + 5):
            app.post_message(LogLine(f"line {n}"))
        await settle(pilot)
        assert log.lines[-1] == f"line {kept + 4}"
        app.post_message(LogLine("one more [/]"))
        await settle(pilot)
        assert log.lines[-1] == "one more [/]"
        assert len(app.state.log_lines) == kept
        assert app.state.log_lines[0].startswith("… 6 older lines dropped")


async def test_a_migration_that_prints_thousands_of_lines_is_drawn_in_batches(
        tmp_path: Path) -> None:
    """Every line reaches the log panel, but not as one new state per line (40,000 lines
    once took a minute to draw; the CLI prints them in a second)."""
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "noisy.db"),
                           revisions=(Rev("a1a1a1a1a1a1", None, "noisy", upgrade=(
                               'for n in range(5000): print("line", n)')),))
    app = make_app(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        states: list[object] = []

        def seen(state: object) -> None:
            states.append(state)

        app.watch(app, "state", seen, init=False)
        await pilot.press("y")
        await settle(pilot)
        assert app.state.last_result is not None and app.state.last_result.ok
        assert app.state.log_written >= 5000
        assert "line 4999" in app.state.log_lines
        await pilot.press("l")
        await settle(pilot)
        assert "line 4999" in app.screen.query_one(Log).lines
    assert len(states) < 1000  # lines taken many at a time
