"""Dependencies point one way: core never imports Textual; tui, screens and widgets
never import alembic or sqlalchemy (they get frozen dataclasses from core).

Two checks of one rule: the import-linter contracts in pyproject.toml (`lint-imports`,
run by scripts/test.sh; the tests below prove that they bite) and, here, the modules
that importing all of core really loads."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "migtui"
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


# --- the import-linter contracts ---------------------------------------------------

CONTRACTS = {
    "ui-layers": "tui -> screens -> widgets -> core",
    "core-no-textual": "core never imports textual",
    "ui-no-database": "tui, screens and widgets never import alembic, sqlalchemy or sqlmodel",
    "core-layers": "core sub-packages are layered",
}


def lint_imports(src: Path, cwd: Path) -> tuple[int, str]:
    """lint-imports with this project's contracts, on the migtui package found in src.

    It reads the contracts from the pyproject.toml in cwd: a copy of ours."""
    shutil.copy(ROOT / "pyproject.toml", cwd / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command())", "--no-cache"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def verdicts(output: str) -> dict[str, str]:
    """Each contract's name mapped to KEPT or BROKEN, from lint-imports' summary."""
    found = {}
    for name in CONTRACTS.values():
        match = re.search(rf"^{re.escape(name)} (KEPT|BROKEN)$", output, re.MULTILINE)
        assert match, f"no verdict for {name!r} in:\n{output}"
        found[name] = match.group(1)
    return found


def test_the_contracts_are_the_ones_configured() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for contract_id, name in CONTRACTS.items():
        assert f'id = "{contract_id}"' in text
        assert f'name = "{name}"' in text


def inject(path: Path, line: str) -> None:
    """Put an import at the top of a module, after its docstring and __future__ import."""
    source = path.read_text()
    anchor = "from __future__ import annotations\n"
    assert anchor in source, path
    path.write_text(source.replace(anchor, anchor + line + "\n", 1))


def test_every_contract_bites(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "migtui", ignore=shutil.ignore_patterns("__pycache__"))
    copy = src / "migtui"
    inject(copy / "widgets" / "status_line.py", "import migtui.tui.app")
    inject(copy / "core" / "models.py", "import textual.widget")
    inject(copy / "screens" / "dialogs.py", "import sqlalchemy")
    inject(copy / "core" / "revisions" / "graph.py", "import migtui.core.actions.project")
    code, output = lint_imports(src, tmp_path)
    assert code != 0, output
    assert set(verdicts(output).values()) == {"BROKEN"}, output
    for violation in (
        "migtui.widgets.status_line -> migtui.tui.app",
        "migtui.core.models -> textual",
        "migtui.screens.dialogs -> sqlalchemy",
        "migtui.core.revisions.graph -> migtui.core.actions.project",
    ):
        assert violation in output, f"{violation!r} not reported in:\n{output}"


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    code, output = lint_imports(ROOT / "src", tmp_path)
    assert code == 0 and set(verdicts(output).values()) == {"KEPT"}, output
