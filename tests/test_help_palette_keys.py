"""Help from the bindings, the command palette, remapped keys, remembered themes."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.command import CommandPalette
from textual.message import Message
from textual.widgets import Static
from ui_helpers import make_app, settle, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen
from migtui.screens.graph import GraphScreen
from migtui.tui.commands import binding_commands
from migtui.tui.help import key_label
from migtui.tui.settings import config_path, state_path

POST = "c5d9e0f3b7a2"


async def test_help_lists_exactly_the_screen_bindings(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        expected = {
            (key_label(key), active.binding.description)
            for key, active in app.active_bindings.items() if active.binding.description
        }
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        text = widget_text(app.screen.query_one("#text-content", Static))
        lines = [line.strip() for line in text.splitlines() if "  " in line.strip()]
        shown = set()
        for line in lines:
            keys, _, description = line.partition("  ")
            for key in keys.split(" / "):
                shown.add((key.strip(), description.strip()))
        assert expected <= shown
        assert {d for _, d in shown} <= {d for _, d in expected}, "nothing extra"
        assert "revision graph" in text
        for _, description in expected:
            assert description in text


async def test_every_palette_binding_command_has_an_action(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = list(binding_commands(app, app.screen))
        titles = " ".join(c.title for c in commands)
        for words in ("Upgrade +1 (u)", "Downgrade -1 (d)", "Stamp (s)", "Merge heads (m)",
                      "Pending (a)", "Tables (t)", "Refresh (r)"):
            assert words in titles
        for key, active in app.screen.active_bindings.items():
            name = active.binding.action
            target = {"app": app, "screen": app.screen}.get(name.split(".")[0], active.node)
            action = name.split("(")[0].split(".")[-1]
            assert hasattr(target, f"action_{action}"), (key, action)


async def test_palette_runs_a_binding_and_a_revision_command(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Upgrade +1")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)

        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"upgrade to post")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.plan.target == POST


async def test_remapped_key(sample_sqlite: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text('[keys]\n"graph.upgrade_step" = "ctrl+u"\n')
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen), "the default key no longer works"
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)


async def test_project_pyproject_keys(sample_sqlite: Path) -> None:
    (sample_sqlite / "pyproject.toml").write_text(
        '[tool.migtui.keys]\n"graph.downgrade_step" = "x"\n"graph.nope" = "z"\n')
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("graph.nope" in m for m in messages)
        assert "graph.downgrade_step" in app._keymap


async def test_bad_config_reported_and_defaults_apply(sample_sqlite: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[keys\nthis is not toml")
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any(str(path) in m and "default" in m for m in messages)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)


async def test_theme_is_remembered(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.theme = "textual-light"
        await pilot.pause()
    assert "textual-light" in state_path().read_text()
    again = make_app(sample_sqlite)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"


async def test_a_configured_theme_styles_the_first_graph_screen(sample_sqlite: Path) -> None:
    """The theme is set before the graph screen is made (set after, it restyles the whole
    screen again before the first frame): the graph screen is in it from its mount on."""
    (sample_sqlite / "pyproject.toml").write_text('[tool.migtui]\ntheme = "textual-light"\n')
    app = make_app(sample_sqlite)
    at_mounts: set[str] = set()  # the theme as each widget of the first screen mounts

    def hook(message: Message) -> None:
        if isinstance(message, events.Mount):
            at_mounts.add(app.theme)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        await settle(pilot)
        light = app.available_themes["textual-light"]
        assert screen.styles.background.hex.lower() == str(light.background).lower()
    assert at_mounts == {"textual-light"}


async def test_an_unknown_theme_is_reported_and_the_default_kept(sample_sqlite: Path) -> None:
    (sample_sqlite / "pyproject.toml").write_text('[tool.migtui]\ntheme = "no-such-theme"\n')
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        messages = [n.message for n in app._notifications]
        assert any("unknown theme 'no-such-theme'" in m for m in messages), messages
