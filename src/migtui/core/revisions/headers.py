"""Read a revision file's identifiers without importing it.

Alembic imports every revision file to learn four module attributes (``revision``,
``down_revision``, ``branch_labels``, ``depends_on``) and the module docstring. For a
*plain* file, where each of them is bound exactly once, at module level, to a literal,
the same values can be read from the syntax tree. Anything else (a computed value, a
star import, rebinding, ``globals()``/``exec``/``setattr`` tricks, a missing name) is
reported as not plain, and the caller imports the file the way Alembic does.

For speed only the part of the file before its first top-level ``def``/``class``/
decorator is parsed; the rest is accepted unparsed only if it cannot possibly rebind a
header name (it does not even contain the name's text, nor any dynamic-binding word).
If the cut is not at a real statement boundary, the prefix does not parse and the
whole file is parsed instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")
_HEADER_SET = frozenset(HEADER_NAMES) | {"__doc__"}

# Names whose use could bind module globals without naming them.
_DYNAMIC_NAMES = frozenset(
    {"globals", "vars", "locals", "exec", "eval", "setattr", "__import__", "__builtins__",
     "__dict__", "modules", "importlib", "delattr", "compile"}
)
# Text that must not occur in the unparsed rest of a file (conservative: any hit means
# "parse the whole file").
_REST_GUARDS = (
    b"revision", b"branch_labels", b"depends_on", b"__doc__", b"import", b"global",
    b"vars", b"locals", b"exec", b"eval", b"setattr", b"__dict__", b"modules",
    b"delattr", b"compile", b"__builtins__",
)
_TOP_LEVEL_STARTS = (b"\ndef ", b"\nasync def ", b"\nclass ", b"\n@")


@dataclass(frozen=True)
class Header:
    """The values Alembic would read from an imported revision module."""

    revision: str
    down_revision: str | tuple[str, ...] | None
    branch_labels: str | tuple[str, ...] | None
    depends_on: str | tuple[str, ...] | None
    doc: str | None  # the module docstring, exactly as ``module.__doc__``

    def to_json(self) -> list[Any]:
        """A compact JSON-able form (tuples become lists)."""
        return [self.revision, _jsonable(self.down_revision), _jsonable(self.branch_labels),
                _jsonable(self.depends_on), self.doc]

    @classmethod
    def from_json(cls, data: object) -> Header:
        """The inverse of :meth:`to_json`; raises ValueError on malformed data."""
        if not isinstance(data, list) or len(data) != 5:
            raise ValueError("malformed header")
        revision, down, labels, deps, doc = data
        if not isinstance(revision, str) or not (doc is None or isinstance(doc, str)):
            raise ValueError("malformed header")
        return cls(revision, _from_jsonable(down), _from_jsonable(labels),
                   _from_jsonable(deps), doc)


def _jsonable(value: str | tuple[str, ...] | None) -> str | list[str] | None:
    return list(value) if isinstance(value, tuple) else value


def _from_jsonable(value: object) -> str | tuple[str, ...] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("malformed header value")


class NotPlain(Exception):
    """The file's header cannot be read safely without importing it."""


def read_header(source: bytes, filename: str = "<unknown>") -> Header:
    """The header of a revision file's source.

    Raises :class:`SyntaxError` when the file does not parse (as importing it would),
    and :class:`NotPlain` when the values are not plain literals bound once.
    """
    cut = _first_definition(source)
    if 0 < cut < len(source) and not any(g in source[cut:] for g in _REST_GUARDS):
        try:
            return _header_of(ast.parse(source[:cut], filename))
        except SyntaxError:
            pass  # the cut was not a statement boundary: parse everything
    return _header_of(ast.parse(source, filename))


def _first_definition(source: bytes) -> int:
    """The offset of the first line that starts a top-level def, class or decorator."""
    found = [i for i in (source.find(start) for start in _TOP_LEVEL_STARTS) if i >= 0]
    return min(found) + 1 if found else len(source)


def _header_of(tree: ast.Module) -> Header:
    values: dict[str, object] = {}
    for index, stmt in enumerate(tree.body):
        if index == 0 and _docstring(tree) is not None:
            continue
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            _check_imports(stmt)
            continue
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
            if not _simple_annotation(stmt.annotation):
                _check_no_binding(stmt.annotation)
        if isinstance(target, ast.Name) and target.id in HEADER_NAMES and value is not None:
            if target.id in values:
                raise NotPlain(f"{target.id} is assigned more than once")
            values[target.id] = _literal(target.id, value)  # a literal binds nothing else
        else:
            _check_no_binding(stmt)
    if "revision" not in values or "down_revision" not in values:
        raise NotPlain("revision or down_revision is not assigned")
    revision = values["revision"]
    assert isinstance(revision, str)
    return Header(
        revision=revision,
        down_revision=values["down_revision"],  # type: ignore[arg-type]
        branch_labels=values.get("branch_labels"),  # type: ignore[arg-type]
        depends_on=values.get("depends_on"),  # type: ignore[arg-type]
        doc=_docstring(tree),
    )


def _literal(name: str, node: ast.expr) -> str | tuple[str, ...] | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise NotPlain(f"{name} is not a literal") from exc
    if name == "revision":
        if isinstance(value, str):
            return value
        raise NotPlain("revision is not a string")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise NotPlain(f"{name} is not a string, a sequence of strings or None")


def _simple_annotation(node: ast.expr) -> bool:
    """True for annotations like ``Union[str, Sequence[str], None]`` (no generic walk)."""
    if isinstance(node, ast.Name):
        return node.id not in _DYNAMIC_NAMES
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Attribute):
        return node.attr not in _DYNAMIC_NAMES and _simple_annotation(node.value)
    if isinstance(node, ast.Subscript):
        return _simple_annotation(node.value) and _simple_annotation(node.slice)
    if isinstance(node, ast.Tuple):
        return all(_simple_annotation(e) for e in node.elts)
    if isinstance(node, ast.BinOp):
        return _simple_annotation(node.left) and _simple_annotation(node.right)
    return False


def _check_imports(node: ast.Import | ast.ImportFrom) -> None:
    for alias in node.names:
        bound = alias.asname or alias.name.split(".")[0]
        if alias.name == "*" or bound in _HEADER_SET:
            raise NotPlain(f"import binds {bound}")


def _check_no_binding(tree: ast.AST) -> None:
    """Raise NotPlain if anything in ``tree`` could bind a header name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in _DYNAMIC_NAMES:
                raise NotPlain(f"uses {node.id}")
            if node.id in _HEADER_SET and not isinstance(node.ctx, ast.Load):
                raise NotPlain(f"{node.id} is bound in a way that is not plain")
        elif isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_NAMES:
            raise NotPlain(f"uses .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            _check_imports(node)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            if _HEADER_SET.intersection(node.names):
                raise NotPlain("global statement names a header")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name in _HEADER_SET:
                raise NotPlain(f"defines {node.name}")
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            if node.name in _HEADER_SET:
                raise NotPlain(f"binds {node.name}")
        elif isinstance(node, ast.MatchMapping) and node.rest in _HEADER_SET:
            raise NotPlain(f"binds {node.rest}")


def _docstring(tree: ast.Module) -> str | None:
    """``module.__doc__``: the first statement if it is a plain string literal."""
    if tree.body:
        first = tree.body[0]
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            return first.value.value
    return None
