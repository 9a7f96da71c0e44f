"""Read a revision file's upgrade() and downgrade() without importing it."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import lru_cache

# op.* calls that lose data when they run.
_DESTRUCTIVE = {"drop_table": "drops table", "drop_column": "drops column"}


@dataclass(frozen=True)
class FunctionInfo:
    """One of upgrade()/downgrade(): its source, its op.* calls and what they risk."""

    source: str
    operations: tuple[str, ...]
    warnings: tuple[str, ...]
    empty: bool
    raises: bool


def _literal(node: ast.expr) -> str | None:
    """A constant argument as source; op.f("name") counts as its name."""
    if isinstance(node, ast.Constant) and node.value is not None:
        return repr(node.value)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "f" and node.args):
        return _literal(node.args[0])
    return None


def _describe_call(call: ast.Call) -> str:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")
    args = [text for text in map(_literal, call.args[:3]) if text is not None]
    return f"{name}({', '.join(args[:2])})"


def _batch_table(node: ast.With) -> str | None:
    for item in node.items:
        call = item.context_expr
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "batch_alter_table"
            and call.args
            and isinstance(call.args[0], ast.Constant)
        ):
            return str(call.args[0].value)
    return None


def _inspect(fn: ast.FunctionDef, text: str) -> FunctionInfo:
    body = [
        s for s in fn.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    empty = all(isinstance(s, ast.Pass) for s in body)
    raises = bool(body) and isinstance(body[0], ast.Raise)
    operations: list[str] = []
    warnings: list[str] = []
    tables: dict[int, str] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.With):
            table = _batch_table(node)
            if table:
                for inner in ast.walk(node):
                    tables[id(inner)] = table
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id in ("op", "batch_op")):
            continue
        name = node.func.attr
        if name in ("batch_alter_table", "f", "get_bind", "get_context"):
            continue
        described = _describe_call(node)
        if owner.id == "batch_op" and id(node) in tables:
            described = f"{tables[id(node)]!r}: {described}"
        operations.append(described)
        if name in _DESTRUCTIVE:
            warnings.append(f"{_DESTRUCTIVE[name]}: {described} (its data cannot come back)")
        elif name == "execute":
            warnings.append(f"runs raw SQL: {described} (review it)")
    return FunctionInfo(
        source=ast.get_source_segment(text, fn) or "",
        operations=tuple(operations),
        warnings=tuple(warnings),
        empty=empty,
        raises=raises,
    )


@lru_cache(maxsize=4096)
def _read(path: str, mtime: float) -> dict[str, FunctionInfo]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tree = ast.parse(text, filename=path)
    found: dict[str, FunctionInfo] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("upgrade", "downgrade"):
            found[node.name] = _inspect(node, text)
    return found


def read_function(path: str | None, name: str) -> FunctionInfo | None:
    """upgrade() or downgrade() of a revision file, or None if it cannot be read."""

    if not path:
        return None
    try:
        return _read(path, os.path.getmtime(path)).get(name)
    except (OSError, SyntaxError, ValueError):
        return None
