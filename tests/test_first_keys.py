"""A key pressed right after launch is not lost (issue 15).

The graph is drawn from the revision files before env.py has read the database; `u`
pressed then opens the confirmation as soon as the database has been read, instead of
saying "a moment" and forgetting the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import ENV_STOCK, LINEAR, sqlite_url, write_project
from textual.pilot import Pilot
from ui_helpers import graph_lines, make_app, screen_lines, settle, wait_for

from migtui.core.models import DatabaseState
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.graph import GraphScreen
from migtui.tui import loading

# env.py reads the database only once the test opens the gate (a file beside alembic.ini).
ENV_GATED = ENV_STOCK.replace(
    "def run_migrations_online() -> None:\n",
    "def run_migrations_online() -> None:\n"
    "    import os, time\n"
    "    gate = os.path.join(os.path.dirname(config.config_file_name), 'gate')\n"
    "    while not os.path.exists(gate):\n"
    "        time.sleep(0.01)\n",
)
assert ENV_GATED != ENV_STOCK


async def _until_graph_drawn(pilot: Pilot[None]) -> None:
    for _ in range(5000):  # rounds, not seconds: the early graph comes from the files
        if isinstance(pilot.app.screen, GraphScreen) and graph_lines(pilot.app):  # type: ignore[arg-type]
            return
        await pilot.pause()
    raise AssertionError("the graph was never drawn")


async def test_u_pressed_before_the_database_is_read_opens_the_confirmation(
        tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_GATED,
                           url=sqlite_url(tmp_path / "gated.db"), revisions=LINEAR)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await _until_graph_drawn(pilot)
        await pilot.press("u", "u")  # (pressed again: said once)
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen), "the database was not read yet"
        messages = [n.message for n in app._notifications]
        assert messages == ["Still reading the database: the upgrade's confirmation opens "
                            "as soon as it has been read"], messages

        (folder / "gate").touch()  # env.py may read the database now
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.plan.steps[0].revision == LINEAR[0].revision
        assert not [n.message for n in app._notifications], "answered: not left over it"
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in next(line for line in graph_lines(app)
                                   if LINEAR[0].revision in line)


async def test_u_pressed_then_help_opened_is_not_replayed_under_the_help(
        tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_GATED,
                           url=sqlite_url(tmp_path / "gated.db"), revisions=LINEAR)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await _until_graph_drawn(pilot)
        await pilot.press("u")
        await pilot.press("question_mark")  # help over the graph: the key is not replayed
        await pilot.pause()
        (folder / "gate").touch()
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)


async def test_a_first_read_that_takes_long_says_so_until_it_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """env.py at launch does not answer (it waits for a server, a lock, input): after a
    few seconds the graph says so, and what to do; once it answers, it says so no more."""
    monkeypatch.setattr(loading, "SLOW_FIRST_READ_AFTER", 0.3)  # (5 s in the app)
    folder = write_project(tmp_path / "proj", env_py=ENV_GATED,
                           url=sqlite_url(tmp_path / "gated.db"), revisions=LINEAR)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await _until_graph_drawn(pilot)
        await wait_for(pilot, lambda: "Still waiting for env.py" in "\n".join(
            screen_lines(app)))
        assert "q quits" in "\n".join(screen_lines(app))
        (folder / "gate").touch()
        await settle(pilot)
        assert app.state.snapshot is not None
        assert app.state.snapshot.database.state is DatabaseState.OK
        assert "Still waiting for env.py" not in "\n".join(screen_lines(app))
