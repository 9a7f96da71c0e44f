"""Which migtui modules pull alembic, sqlalchemy or sqlmodel in at import time (issue 15).

Reads the source (no imports): follows the top-level ``import`` statements of migtui's
modules (those under ``if TYPE_CHECKING:`` and inside functions do not count) from the
entry points, and prints, for every module that imports one of the three at its top,
the chain that reaches it. Empty output: nothing heavy is imported before the app runs
its first line (what tests/test_first_paint_imports.py checks at run time). Usage::

    python -m benchmarks.first_paint_imports [migtui.tui.cli migtui.tui.app ...]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("alembic", "sqlalchemy", "sqlmodel")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in (SRC / "migtui").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _top_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        inner = ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]
        for n in inner:
            if isinstance(n, ast.Import):
                names |= {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                names.add(n.module)
                names |= {f"{n.module}.{a.name}" for a in n.names
                          if f"{n.module}.{a.name}" in modules}
    return names


def chains(start: list[str]) -> list[str]:
    """'heavy importer <- ... <- entry point' for every module reached that imports one."""
    modules = _modules()
    graph = {name: _top_imports(path, modules) for name, path in modules.items()}
    parent: dict[str, str] = {}
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in sorted(graph.get(name, ())):
            if imported in modules and imported not in seen:
                parent.setdefault(imported, name)
                todo.append(imported)
    lines = []
    for name in sorted(seen):
        if any(i.split(".")[0] in HEAVY for i in graph.get(name, ())):
            chain = [name]
            while chain[-1] in parent:
                chain.append(parent[chain[-1]])
            lines.append(" <- ".join(chain))
    return lines


if __name__ == "__main__":
    for line in chains(sys.argv[1:] or ["migtui.tui.cli", "migtui.tui.app"]):
        print(line)
