"""The README's key table must match the bindings, both ways."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import QuestionScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.pending import PendingScreen
from migtui.screens.tables import TablesScreen
from migtui.tui.app import MigtuiApp
from migtui.widgets.revision_graph import RevisionGraphView
from migtui.widgets.row_grid import RowGrid

README = Path(__file__).resolve().parents[1] / "README.md"
SCOPES: dict[str, tuple[type, ...]] = {
    "everywhere": (MigtuiApp,),
    "graph": (GraphScreen, RevisionGraphView),
    "pending changes": (PendingScreen,),
    "tables": (TablesScreen, RowGrid),
    "dialogs": (QuestionScreen,),
    "confirmation": (ConfirmScreen,),
}
SPOKEN = {"?": "question_mark", "/": "slash", "F1": "f1"}
BUILT_IN = {"ctrl+p"}  # Textual's command palette


def _keys(classes: tuple[type, ...]) -> dict[str, Binding]:
    keys: dict[str, Binding] = {}
    for cls in classes:
        for binding in cls.BINDINGS:
            assert isinstance(binding, Binding)
            for key in binding.key.split(","):
                keys[key.strip()] = binding
    return keys


def _table() -> list[tuple[str, list[str]]]:
    rows = []
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in SCOPES:
            rows.append((cells[0], [SPOKEN.get(k, k) for k in re.findall(r"`([^`]+)`", cells[1])]))
    return rows


def test_every_documented_key_is_bound() -> None:
    rows = _table()
    assert rows, "the README has a key table"
    for scope, keys in rows:
        bound = _keys(SCOPES[scope])
        for key in keys:
            assert key in bound or key in BUILT_IN, f"README says {key!r} works on {scope}"


def test_every_shown_binding_is_documented() -> None:
    documented: dict[str, set[str]] = {}
    for scope, keys in _table():
        documented.setdefault(scope, set()).update(keys)
    for scope, classes in SCOPES.items():
        allowed = documented.get(scope, set()) | documented["everywhere"]
        if scope == "confirmation":  # a dialog: y / n / escape are documented there
            allowed |= documented["dialogs"]
        for key, binding in _keys(classes).items():
            if binding.show or binding.description:
                assert key in allowed, (
                    f"{scope}: {key} ({binding.description}) is missing from the README")
