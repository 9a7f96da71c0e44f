"""Read a revision file's upgrade() and downgrade() without importing it."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from migtui.core.revisions.reader import derived

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
    # What may go wrong whatever the database holds, or depending on it: for marks.
    risks: tuple[str, ...] = ()
    # The other calls it makes (helper modules, the bind...), in source order.
    calls: tuple[str, ...] = ()


def _literal(node: ast.expr) -> str | None:
    """A constant argument as source; op.f("name") counts as its name."""
    if isinstance(node, ast.Constant) and node.value is not None:
        return repr(node.value)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "f" and node.args):
        return _literal(node.args[0])
    return None


def _column_name(node: ast.expr) -> str | None:
    """``sa.Column("age", ...)`` as the name of the column it adds."""
    if isinstance(node, ast.Call) and _dotted(node.func) in (
            "sa.Column", "Column", "sqlalchemy.Column") and node.args:
        return _literal(node.args[0])
    return None


def _describe_call(call: ast.Call) -> str:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")
    read = (lambda a: _literal(a) or _column_name(a)) if name == "add_column" else _literal
    args = [text for text in map(read, call.args[:3]) if text is not None]
    if not args and call.args:
        # A name computed in the source (a variable, a call): say so, never "create_table()".
        first = call.args[0]
        shown = ast.unparse(first) if isinstance(first, (ast.Name, ast.Attribute)) else "…"
        args = [f"{shown} (name not known until it runs)"]
    return f"{name}({', '.join(args[:2])})"


def _dotted(node: ast.expr) -> str | None:
    """``helpers.add_users`` for a call's function, when it is a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


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


def _batch_names(node: ast.With) -> set[str]:
    """The names ``with op.batch_alter_table(...) as NAME`` binds (``batch_op`` by
    convention, but any name works)."""
    return {item.optional_vars.id for item in node.items
            if isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "batch_alter_table"
            and isinstance(item.optional_vars, ast.Name)}


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _not_null_column(call: ast.Call) -> bool:
    """op.add_column(table, sa.Column(..., nullable=False)) without a server_default."""
    for arg in call.args:
        if isinstance(arg, ast.Call) and getattr(arg.func, "attr", getattr(arg.func, "id", "")) \
                == "Column":
            return _is(_keyword(arg, "nullable"), False) and \
                _keyword(arg, "server_default") is None
    return False


# Where each op.* call names its table (batch_op.* calls name it in batch_alter_table).
_TABLE_ARG = {"add_column": 0, "alter_column": 0, "create_index": 1,
              "create_unique_constraint": 1, "create_foreign_key": 1}


def _risk_of(name: str, call: ast.Call) -> str | None:
    """What an op.* call may do to existing rows, read from its literal arguments."""
    if name == "add_column" and _not_null_column(call):
        return "NOT NULL column without default"
    if name == "alter_column":
        if _is(_keyword(call, "nullable"), False):
            return "sets NOT NULL"
        if _keyword(call, "type_") is not None:
            return "changes a type"
    if name == "create_index" and _is(_keyword(call, "unique"), True):
        return "unique index"
    if name == "create_unique_constraint":
        return "unique constraint"
    if name == "create_foreign_key":
        return "foreign key"
    return None


def _static_risks(fn: ast.FunctionDef, tables: dict[int, str]) -> list[str]:
    created = {
        str(node.args[0].value) for node in ast.walk(fn)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "create_table"
        and node.args and isinstance(node.args[0], ast.Constant)
    }
    risks: list[str] = []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name == "autocommit_block":
            risks.append("autocommit_block")
            continue
        risk = _risk_of(name, node)
        if risk is None:
            continue
        table = tables.get(id(node))  # inside batch_alter_table(table)
        if table is None and len(node.args) > _TABLE_ARG[name]:
            literal = _literal(node.args[_TABLE_ARG[name]])
            table = literal.strip("'\"") if literal else None
        if table not in created:
            risks.append(risk)
    return list(dict.fromkeys(risks))


def _inspect(fn: ast.FunctionDef, text: str) -> FunctionInfo:
    body = [
        s for s in fn.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    empty = all(isinstance(s, ast.Pass) for s in body)
    raises = bool(body) and isinstance(body[0], ast.Raise)
    operations: list[tuple[int, int, str]] = []  # (line, column, op): source order
    warnings: list[tuple[int, int, str]] = []
    tables: dict[int, str] = {}
    owners = {"op", "batch_op"}  # and whatever name a batch_alter_table is bound to
    for node in ast.walk(fn):
        if isinstance(node, ast.With):
            owners.update(_batch_names(node))
            table = _batch_table(node)
            if table:
                for inner in ast.walk(node):
                    tables[id(inner)] = table
    calls: list[tuple[int, int, str]] = []  # (line, column, call): source order
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        if not isinstance(node.func, ast.Attribute):
            dotted = _dotted(node.func)
            if dotted:
                calls.append((node.lineno, node.col_offset, f"{dotted}()"))
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id in owners):
            dotted = _dotted(node.func)
            if dotted:
                calls.append((node.lineno, node.col_offset, f"{dotted}()"))
            continue
        name = node.func.attr
        if name in ("batch_alter_table", "f", "get_bind", "get_context"):
            continue
        described = _describe_call(node)
        if owner.id != "op" and id(node) in tables:
            described = f"{tables[id(node)]!r}: {described}"
        at = (node.lineno, node.col_offset)
        operations.append((*at, described))
        if name in _DESTRUCTIVE:
            warnings.append((*at, f"{_DESTRUCTIVE[name]}: {described} (its data cannot come "
                                  "back)"))
        elif name == "execute":
            warnings.append((*at, f"runs raw SQL: {described} (review it)"))
    return FunctionInfo(
        source=ast.get_source_segment(text, fn) or "",
        operations=tuple(o for _, _, o in sorted(operations)),
        warnings=tuple(w for _, _, w in sorted(warnings)),
        empty=empty,
        raises=raises,
        risks=tuple(_static_risks(fn, tables)),
        calls=tuple(dict.fromkeys(
            c for _, _, c in sorted(calls) if not c.startswith(("sa.", "sqlalchemy.")))),
    )


def _functions(source: bytes) -> dict[str, FunctionInfo] | None:
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
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
        functions = derived(path, "functions", _functions)
    except OSError:
        return None
    return functions.get(name) if functions is not None else None


def parse_error(path: str | None) -> str | None:
    """Why a revision file cannot be read as Python ("SyntaxError: … (line 12)"), or
    None when it can (or cannot be opened at all)."""
    if not path:
        return None
    try:
        ast.parse(Path(path).read_bytes(), filename=path)
    except (SyntaxError, ValueError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        return f"{type(exc).__name__}: {message}{where}"
    except OSError:
        return None
    return None
