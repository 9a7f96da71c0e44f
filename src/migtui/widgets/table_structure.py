"""What the tables screen writes: list entries, the title line, the structure tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widgets import DataTable

from migtui.core.schema.model import SchemaChanges, TableInfo, TableRef
from migtui.widgets.safe_text import clean, middle_cut, safe_line

MARK_STYLES = {"new": "bold green", "changed": "bold yellow", "dropped": "bold red",
               "renamed": "bold cyan"}


def mark_text(mark: str) -> Text:
    """A change mark ("new", "changed", "dropped", "renamed") in its colour; empty when
    none."""
    return Text(mark, style=MARK_STYLES.get(mark, "")) if mark else Text("")


def _entry_name(table: TableInfo) -> str:
    return ("⚠ " if table.problem else "") + clean(table.ref.label, one_line=True)


def _count(table: TableInfo) -> str:
    if table.kind == "view":
        return "view"
    return "" if table.rows is None else str(table.rows)


@dataclass(frozen=True)
class ListColumns:
    """The cells of the table list's columns, sized to what they hold."""

    name: int  # the longest name
    count: int  # the longest row count, with the space before it
    mark: int  # the longest change mark with its space (0: no marks)

    @property
    def width(self) -> int:
        """The cells an entry needs to show every name whole."""
        return self.name + self.count + self.mark


def list_columns(tables: Sequence[TableInfo], marks: Sequence[str]) -> ListColumns:
    """Columns for these tables and their change marks."""
    return ListColumns(
        name=max((cell_len(_entry_name(t)) for t in tables), default=8),
        count=1 + max((len(_count(t)) for t in tables), default=0),
        mark=max((1 + len(m) for m in marks if m), default=0),
    )


def list_entry(table: TableInfo, mark: str, width: int, columns: ListColumns) -> Text:
    """One line of the table list, ``width`` cells: name (cut in the middle when it does
    not fit), row count (or kind), change mark."""
    name_width = max(width - columns.count - columns.mark, 8)
    name = middle_cut(_entry_name(table), name_width)
    text = Text(set_cell_size(name, name_width),
                style="strike dim" if mark == "dropped" else "")
    text.append(f" {_count(table):>{columns.count - 1}}", style="dim")
    if mark:
        text.append(" ")
        text.append_text(mark_text(mark))
    text.truncate(width)
    return text


def title_line(table: TableInfo, mark: str, renamed_from: TableRef | None = None) -> Text:
    """The heading of the selected table (``renamed_from``: its name before the last
    action)."""
    text = safe_line(table.ref.label, "bold")
    text.append(f"  {table.kind}", style="dim")
    if table.engine:  # MySQL/MariaDB
        text.append(f" ({clean(table.engine, one_line=True)})", style="dim")
    if table.rows is not None:
        count = table.rows
        text.append(f"  {count} row{'' if count.value == 1 and not count.estimate else 's'}")
        if count.estimate:
            text.append(" (estimate)", style="dim")
    if table.revisions is not None:
        text.append("  current: ")
        text.append(clean(", ".join(table.revisions), one_line=True) or "none (base)",
                    style="bold")
    if mark:
        text.append("  ")
        text.append_text(mark_text(mark))
        if mark == "dropped":
            text.append(" by the last action (shown as it was)", style="dim")
        elif renamed_from is not None:
            text.append(" from ", style="dim")
            text.append_text(safe_line(renamed_from.label, "bold"))
            text.append(" by the last action", style="dim")
    if table.comment:
        text.append(f"  — {clean(table.comment, one_line=True)}", style="italic")
    if table.problem:
        text.append(f"\n⚠ {clean(table.problem, one_line=True)}", style="bold yellow")
    return text


def _reset(table: DataTable[Text | str], *columns: str) -> None:
    table.clear(columns=True)
    table.add_columns(*columns)


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _cell(value: object, style: str = "") -> Text:
    """A structure cell from the database: literal text on one line (DataTable would read
    a plain str as markup)."""
    return safe_line("" if value is None else value, style)


def fill_columns(grid: DataTable[Text | str], table: TableInfo, changes: SchemaChanges) -> None:
    """Columns tab: name, type, nullable, default, primary key, comment, change mark."""
    _reset(grid, "", "name", "type", "nullable", "default", "primary key", "comment")
    ref = table.ref
    dropped = changes.dropped_columns.get(ref, ()) if changes.table_mark(ref) != "dropped" else ()
    for column in (*table.columns, *dropped):
        mark = changes.column_mark(ref, column.name)
        style = "strike dim" if mark == "dropped" else ""
        grid.add_row(
            mark_text(mark), _cell(column.name, style or "bold"),
            _cell(column.type, style), _yes(column.nullable), _cell(column.default),
            _yes(column.primary_key), _cell(column.comment),
        )


def fill_indexes(grid: DataTable[Text | str], table: TableInfo) -> None:
    """Indexes tab."""
    _reset(grid, "name", "columns", "unique")
    for index in table.indexes:
        grid.add_row(_cell(index.name or "(unnamed)"), _cell(", ".join(index.columns)),
                     _yes(index.unique))
    _empty(grid, table.indexes, "no indexes")


def fill_constraints(grid: DataTable[Text | str], table: TableInfo) -> None:
    """Constraints tab: primary key, unique and check constraints."""
    _reset(grid, "kind", "name", "columns / condition")
    for constraint in table.constraints:
        what = ", ".join(constraint.columns) if constraint.columns else constraint.definition
        grid.add_row(constraint.kind, _cell(constraint.name or "(unnamed)"), _cell(what))
    _empty(grid, table.constraints, "no constraints")


def fill_foreign_keys(grid: DataTable[Text | str], table: TableInfo) -> list[TableRef]:
    """Foreign keys tab; returns the referenced table of each row, in order."""
    _reset(grid, "name", "columns", "references", "on delete", "on update")
    targets = []
    for fk in table.foreign_keys:
        target = _cell(fk.target.label, "bold underline")
        target.append(clean(f"({', '.join(fk.target_columns)})", one_line=True), style="")
        grid.add_row(_cell(fk.name or "(unnamed)"), _cell(", ".join(fk.columns)), target,
                     _cell(fk.on_delete), _cell(fk.on_update))
        targets.append(fk.target)
    _empty(grid, table.foreign_keys, "no foreign keys")
    return targets


def _empty(grid: DataTable[Text | str], items: Iterable[object], words: str) -> None:
    if not tuple(items):
        grid.add_row(Text(words, style="dim"), *[""] * (len(grid.columns) - 1))


def rows_line(first: int, held: int, total: str, cursor: int, more_after: bool,
              loading: bool) -> Text:
    """The 'rows 1-200 of ~N' line of the rows tab."""
    if loading and not held:
        return Text("loading rows…", style="dim")
    if not held:
        return Text("no rows", style="dim")
    text = Text(f"rows {first + 1:,}\u2013{first + held:,}")
    if not more_after:
        text.append(f" of {first + held:,}")
    elif total:
        text.append(f" of {total}")
    text.append(f"  ·  row {cursor + 1:,}", style="dim")
    if loading:
        text.append("  ·  loading…", style="dim")
    text.append("  ·  enter: whole value", style="dim")
    return text
