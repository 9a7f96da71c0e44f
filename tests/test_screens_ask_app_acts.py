"""Screens ask, the app acts: screens and widgets never import migtui.tui, they post
Messages nested in their own classes, and every write action runs through the app's one
write path, which always clears busy (also when the core raises)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.message import Message
from ui_helpers import make_app, settle, widget_text

import migtui
from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.pending import PendingScreen
from migtui.screens.state import SessionScreen

PACKAGE = Path(migtui.__file__).resolve().parent
POST = "c5d9e0f3b7a2"
MAX_LINES = 400


def module_name(path: Path) -> str:
    """The dotted name of a module file under src/migtui."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module some source imports (relative imports resolved against ``module``),
    anywhere in it: under TYPE_CHECKING and inside functions too."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{node.module}" if node.module else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path) -> set[str]:
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py")


def ui_modules(*packages: str) -> list[Path]:
    return sorted(p for name in packages for p in (PACKAGE / name).rglob("*.py"))


@pytest.mark.parametrize("package", ["screens", "widgets"])
def test_screens_and_widgets_never_import_tui(package: str) -> None:
    bad = [f"{path.relative_to(PACKAGE.parent)} imports {name}"
           for path in ui_modules(package) for name in sorted(imports_of(path))
           if name == "migtui.tui" or name.startswith("migtui.tui.")]
    assert not bad, "\n".join(bad)


def test_the_import_check_sees_every_form() -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from migtui.tui.app import MigtuiApp\nfrom ..tui import messages\n"
              "def f():\n    import migtui.tui.help\n")
    found = imports_in(source, "migtui.screens.graph")
    assert {"migtui.tui.app", "migtui.tui", "migtui.tui.messages", "migtui.tui.help"} <= found


def test_messages_of_screens_and_widgets_are_nested_in_their_class() -> None:
    loose = []
    for package in ("migtui.screens", "migtui.widgets"):
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            module = importlib.import_module(f"{package}.{info.name}")
            for name, value in inspect.getmembers(module, inspect.isclass):
                if (issubclass(value, Message) and value.__module__ == module.__name__
                        and "." not in value.__qualname__):
                    loose.append(f"{module.__name__}.{name}")
    assert not loose, loose


def test_ui_modules_stay_small() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in ui_modules("tui", "screens", "widgets")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


# --- the write path --------------------------------------------------------------


async def test_the_state_is_handed_down_to_every_screen(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for key in ("a", "t", "g"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, SessionScreen)
            assert app.screen.state is app.state
        assert app.state.snapshot is not None and len(app.state.snapshot.graph) == 3


async def test_an_upgrade_that_raises_leaves_the_app_ready(
        sample_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: Project, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the core fell over")

    monkeypatch.setattr(Project, "run_plan", explode)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert not app.state.busy and app.state.progress == ""
        assert not app.screen.query_one("#progress").display
        assert app.state.last_error is not None
        assert "the core fell over" in app.state.last_error[0]
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert "RuntimeError" in widget_text(app.screen.query_one("#text-content"))


async def test_a_new_revision_that_raises_leaves_the_app_ready(
        sample_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(project: Project, message: str, **_choices: object) -> None:
        raise MigtuiError("cannot write the revision file: disk full")

    monkeypatch.setattr("migtui.core.autogen.diff.write_revision", refuse)  # (app: on use)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PendingScreen)
        app.screen.post_message(PendingScreen.NewRevisionRequested("add tags"))
        await settle(pilot)
        assert not app.state.busy and app.state.progress == ""
        assert app.state.last_error is not None and "disk full" in app.state.last_error[0]
        assert isinstance(app.screen, PendingScreen), "stays where the user asked"
        await pilot.press("g")
        await settle(pilot)
        assert not app.screen.query_one("#progress").display


async def test_the_palette_reaches_a_revision_hidden_by_the_filter(sample_sqlite: Path
                                                                   ) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nothing matches this")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen) and not app.screen.graph_view.rows
        await pilot.press("enter", "t")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"upgrade to post")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.plan.target == POST
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
        assert len(app.screen.graph_view.rows) == 3, "the filter was cleared"
