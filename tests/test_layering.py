"""Dependencies point one way: core never imports Textual; tui, screens and widgets
never import alembic or sqlalchemy (they get frozen dataclasses from core)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "migtui"
UI_PACKAGES = ("tui", "screens", "widgets")
# What each layer must not import (top-level module names).
FORBIDDEN = {
    "core": {"textual"},
    **{name: {"alembic", "sqlalchemy", "sqlmodel"} for name in UI_PACKAGES},
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, anywhere in it (also inside functions)."""
    return imported_modules_of(path.read_text(), str(path))


def imported_modules_of(source: str, filename: str = "<source>") -> set[str]:
    """Every absolute module some source imports, anywhere in it."""
    tree = ast.parse(source, filename=filename)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_does_not_import_the_wrong_side(package: str) -> None:
    files = modules_of(package)
    assert files, f"no modules under {package}/"
    bad = []
    for path in files:
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_imports() -> None:
    source = "import textual.app\nfrom sqlalchemy import text\ndef f():\n    import alembic\n"
    assert imported_modules_of(source) == {"textual.app", "sqlalchemy", "alembic"}


def test_importing_every_core_module_loads_no_textual() -> None:
    names = [
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        for p in modules_of("core") if p.stem != "__init__"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
