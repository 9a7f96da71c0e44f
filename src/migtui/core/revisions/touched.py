"""The tables a revision's upgrade() or downgrade() touches, read from its source.

Before each step, where DDL is not rolled back, the schema is read so that a failure
can be compared with it (core/env/catalog.py). Reading every table's columns before
every step costs time on a big schema; these are the tables whose columns and indexes
are worth reading. Only literal ``op.*`` calls count: raw SQL, a name in a variable,
or a call into other code makes the answer "not known" (None), and then the whole
schema is read.
"""

from __future__ import annotations

import ast

from migtui.core.revisions.reader import derived

# op.* calls: the positions (and keyword) of the table names they take.
_TABLE_ARGS: dict[str, tuple[tuple[int, str], ...]] = {
    "create_table": ((0, "table_name"),),
    "drop_table": ((0, "table_name"),),
    "rename_table": ((0, "old_table_name"), (1, "new_table_name")),
    "add_column": ((0, "table_name"),),
    "drop_column": ((0, "table_name"),),
    "alter_column": ((0, "table_name"),),
    "create_index": ((1, "table_name"),),
    "drop_index": ((1, "table_name"),),
    "create_unique_constraint": ((1, "table_name"),),
    "create_primary_key": ((1, "table_name"),),
    "create_check_constraint": ((1, "table_name"),),
    "create_foreign_key": ((1, "source_table"), (2, "referent_table")),
    "drop_constraint": ((1, "table_name"),),
    "create_table_comment": ((0, "table_name"),),
    "drop_table_comment": ((0, "table_name"),),
    "bulk_insert": (),  # its table is an object: the table() call names it below
    "batch_alter_table": ((0, "table_name"),),
}
_HARMLESS = {"f", "get_context", "inline_literal"}


def _literal(call: ast.Call, position: int, keyword: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            node: ast.expr | None = kw.value
            break
    else:
        node = call.args[position] if len(call.args) > position else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _tables(fn: ast.FunctionDef) -> frozenset[str] | None:
    found: set[str] = set()
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("table", "Table"):
            name = _literal(node, 0, "name")
            if name is None:
                return None
            found.add(name)
            continue
        if not isinstance(func, ast.Attribute):
            return None  # a call into other code: it may touch anything
        owner = func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else ""
        if owner_name in ("sa", "sqlalchemy", "mysql", "postgresql", "sqlite"):
            continue  # building columns and types
        if owner_name not in ("op", "batch_op"):
            return None
        if func.attr in _HARMLESS:
            continue
        if func.attr not in _TABLE_ARGS:
            return None  # execute(), get_bind() and the like: not known
        if owner_name == "batch_op":
            continue  # its table is the batch_alter_table's
        for position, keyword in _TABLE_ARGS[func.attr]:
            name = _literal(node, position, keyword)
            if name is None:
                return None
            found.add(name)
            if func.attr == "batch_alter_table":  # its copy, while it moves the rows
                found.add(f"_alembic_tmp_{name}")
    return frozenset(found)


def _all(source: bytes) -> dict[str, frozenset[str] | None]:
    try:
        tree = ast.parse(source.decode("utf-8"))
    except (SyntaxError, ValueError):
        return {}
    return {node.name: _tables(node) for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name in ("upgrade", "downgrade")}


def touched_tables(path: str | None, name: str) -> frozenset[str] | None:
    """The tables upgrade() or downgrade() (``name``) of a revision file touches, or
    None when that cannot be told from its source."""
    if not path:
        return None
    try:
        return derived(path, "touched tables", _all).get(name)
    except OSError:
        return None
