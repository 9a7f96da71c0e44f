"""What the pending screen shows: the state line, an operation's details, and the user's
choices (marks, renames, the count).

Names and types come from the user's models and database: always plain ``Text``.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from migtui.core.autogen.choices import Choices, RenameCandidate, covered_by_renames
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation

WARNING_MARK = "⚠"
HINT_MARK = "\N{INFORMATION SOURCE}"
ACCEPTED, REJECTED, IN_RENAME = "[x]", "[ ]", "[↔]"
RENAME_MARK = "↔"


def mark(op: PendingOperation, choices: Choices, covered: set[str]) -> str:
    if op.key in covered:
        return IN_RENAME
    return REJECTED if op.key in choices.rejected else ACCEPTED


def written_count(diff: AutogenDiff, choices: Choices) -> int:
    """Operations that the revision will hold (a drop and an add renamed count as two)."""
    return sum(1 for op in diff.operations if op.key not in choices.rejected
               or op.key in covered_by_renames(diff.renames, choices))


def count_line(diff: AutogenDiff, choices: Choices) -> Text:
    """'12 of 14 operations will be written', with the renames and casts chosen."""
    total = len(diff.operations)
    text = Text()
    if not total:
        return text
    written = written_count(diff, choices)
    text.append(f"{written} of {total} operation{'' if total == 1 else 's'} will be written",
                style="bold")
    renames = [r for r in diff.renames if r.key in choices.renames]
    if renames:
        names = ", ".join(f"{r.table}.{r.label}" if r.what == "column" else f"table {r.label}"
                          for r in renames)
        pairs = "a drop and an add" if len(renames) == 1 else "drops and adds"
        text.append(f" — {pairs} written as one: renamed {names}")
    offered = [r for r in diff.renames if r.key not in choices.renames]
    if offered:
        text.append(f"  ({RENAME_MARK} {len(offered)} possible rename"
                    f"{'' if len(offered) == 1 else 's'} offered: space accepts)", style="dim")
    cast = " · c: add/remove a USING cast" if diff.dialect == "postgresql" else ""
    text.append(f"\nspace: accept/reject the highlighted row{cast} · f: the file as it "
                "will be written", style="dim")
    return text


def rename_label(rename: RenameCandidate, accepted: bool) -> Text:
    text = Text("  ", no_wrap=True, overflow="ellipsis")
    text.append(f"{ACCEPTED if accepted else REJECTED} ", style="bold" if accepted else "dim")
    text.append(f"{RENAME_MARK} rename {rename.what:<9} ", style="bold cyan")
    text.append(rename.label)
    values = rename.values
    if values is not None:
        what = "row" if rename.what == "table" else "value"
        text.append(f"  keeps {values:,} {what}{'' if values == 1 else 's'}", style="dim")
    return text


def _nullable(value: bool | None) -> str:
    return "?" if value is None else ("NULL" if value else "NOT NULL")


def rename_details(rename: RenameCandidate, accepted: bool) -> Group:
    """The evidence for a rename, and what accepting it writes."""
    parts: list[RenderableType] = []
    title = Text(f"{RENAME_MARK} rename {rename.what} ", style="bold")
    title.append(rename.label)
    if rename.what == "column":
        title.append(f" on {rename.table}")
    parts.append(title)
    parts.append(Text("Accepted: one rename replaces the drop and the add, and the data "
                      "stays." if accepted else
                      "Not accepted: the drop and the add are written, and the values in "
                      f"{rename.old} are lost. space accepts the rename.",
                      style="green" if accepted else "yellow"))
    evidence = Text("\nEvidence\n", style="bold underline")
    if rename.what == "column":
        evidence.append(f"  type      {rename.old_type} → {rename.new_type}\n")
        evidence.append(f"  nullable  {_nullable(rename.old_nullable)} → "
                        f"{_nullable(rename.new_nullable)}\n")
        evidence.append(f"  position  {rename.old_position or '?'} → "
                        f"{rename.new_position or '?'}\n")
        rows = "?" if rename.rows is None else f"{rename.rows:,}"
        values = "?" if rename.values is None else f"{rename.values:,}"
        evidence.append(f"  values    {values} non-NULL in {rename.old} (of {rows} rows)\n")
    else:
        rows = "?" if rename.rows is None else f"{rename.rows:,}"
        evidence.append(f"  same columns in both tables; {rows} rows in {rename.old}\n")
    if rename.carried:
        kept = len(rename.carried) // 2
        what = "key or index" if kept == 1 else "keys or indexes"
        evidence.append(f"  kept      {kept} {what}: the rename keeps "
                        f"{'it' if kept == 1 else 'them'}, not dropped and re-added\n")
    parts.append(evidence)
    if rename.warning:
        parts.append(Text(f"⚠ {rename.warning} ({rename.old_type} → {rename.new_type})",
                          style="bold red"))
    parts.append(Text("\nAlembic (written in upgrade; the reverse in downgrade)",
                      style="bold underline"))
    parts.append(Syntax(rename.python or "# (nothing rendered)", "python", theme="ansi_dark",
                        word_wrap=True))
    return Group(*parts)


def type_notes(op: PendingOperation, choices: Choices) -> list[Text]:
    """The type-fit result of a type change, and the USING cast offered on PostgreSQL."""
    notes: list[Text] = []
    if op.fit:
        notes.append(Text(f"⚠ {op.fit}", style="bold red"))
    elif op.kind in ("type change", "alter column") and "type " in op.detail:
        notes.append(Text("The live data fits the new type.", style="dim"))
    if op.cast:
        if op.key in choices.casts:
            notes.append(Text(f"✓ postgresql_using='{op.cast}' will be written (c removes it)",
                              style="green"))
        else:
            # (said once: the fit line above may already say that a USING is needed)
            why = ("" if "USING" in op.fit
                   else "PostgreSQL refuses this change without a USING cast: ")
            notes.append(Text(f"{why}c adds postgresql_using='{op.cast}'", style="yellow"))
    return notes


def _revisions(count: int) -> str:
    return f"{count} revision" if count == 1 else f"{count} revisions"


def summary(diff: AutogenDiff | None, choices: Choices | None = None) -> Text:
    """The state line above the list: what the comparison found, in plain words (an
    accepted rename keeps the data its drop would have lost: not counted as a risk)."""
    text = Text()
    if diff is None:
        text.append("Comparing the models with the database through env.py…")
        return text
    state = diff.state
    if state is DiffState.ERROR:
        text.append(f"✗ {diff.error}", style="bold red")
        text.append("  (e: details, r: retry)", style="dim")
        return text
    if state is DiffState.NO_METADATA:
        text.append("Autogenerate needs target_metadata, and env.py sets none. ", style="bold")
        text.append(f"In {diff.env_file or 'env.py'}, set target_metadata to your models' "
                    "MetaData (e.g. target_metadata = Base.metadata, or SQLModel.metadata) "
                    "and pass it to context.configure(target_metadata=target_metadata).")
        return text
    if state is DiffState.NO_DATABASE:
        text.append("The database does not exist yet", style="bold")
        text.append(f" ({diff.error}): autogenerate compares against what is applied. "
                    "U upgrades it to head first.")
        return text
    if state is DiffState.MATCHES:
        text.append("✓ Models and database match", style="bold green")
        text.append(": autogenerate detects no changes (what alembic check reports).")
    else:
        count = len(diff.operations)
        kept = covered_by_renames(diff.renames, choices) if choices else set()
        rejected = choices.rejected if choices else frozenset()
        # (a rejected operation is not written: its risk is not the revision's)
        warned = sum(1 for op in diff.operations
                     if op.loses_data and op.key not in kept and op.key not in rejected)
        text.append(f"Models and database differ: {count} operation"
                    f"{'' if count == 1 else 's'}", style="bold")
        if warned:
            text.append(f", {warned} {WARNING_MARK} may lose data or fail", style="bold red")
        if diff.at_head and choices is not None and not written_count(diff, choices):
            text.append(". Every one is rejected: n would write an empty revision.")
        elif diff.at_head:
            text.append(". n writes them as a new revision.")
    if not diff.at_head:
        text.append(f"\n{WARNING_MARK} The database is {_revisions(diff.behind)} behind head; "
                    "autogenerate compares against what is applied. U upgrades to head first "
                    "(Alembic writes no new revision until then).", style="bold yellow")
    return text

def why_not_write(diff: AutogenDiff | None, choices: Choices) -> str:
    """Why ``n`` cannot write this comparison now ("" if it can; None: still comparing)."""
    if diff is None:
        return "Still comparing the models with the database…"
    if diff.state is DiffState.ERROR:
        return "The comparison failed (e shows why): fix it and press r"
    if diff.state is DiffState.NO_METADATA:
        return "Autogenerate needs target_metadata in env.py"
    if diff.state is DiffState.NO_DATABASE or not diff.at_head:
        return (f"The database is {_revisions(diff.behind)} behind head: Alembic only "
                "autogenerates against an up-to-date database (U upgrades it)")
    if diff.state is DiffState.MATCHES:
        return "Models and database match: nothing to write"
    if choices != diff.choices:  # (the file with the newest choices is not shown yet)
        return "Still rendering the file with your choices…"
    return ""


def operation_details(op: PendingOperation, dialect: str) -> Group:
    """The selected operation: what it does, its op.* Python and its SQL."""
    parts: list[RenderableType] = []
    title = Text(f"{op.kind} {op.name}".strip(), style="bold")
    if op.table and op.name != op.table:
        title.append(f" on {op.table}", style="")
    parts.append(title)
    if op.detail:
        parts.append(Text(op.detail))
    if op.warning:
        parts.append(Text(f"{WARNING_MARK} {op.warning}", style="bold red"))
    if op.null_count is not None and not op.warning:
        parts.append(Text(f"No rows have NULL in {op.name}.", style="dim"))
    parts.append(Text("\nAlembic (as the revision file will hold it)", style="bold underline"))
    parts.append(Syntax(op.python or "# (nothing rendered)", "python", theme="ansi_dark",
                        word_wrap=True))
    parts.append(Text(f"\nSQL ({dialect or 'database'} dialect, rendered offline)",
                      style="bold underline"))
    if op.sql:
        parts.append(Syntax(op.sql, "sql", theme="ansi_dark", word_wrap=True))
    else:
        parts.append(Text(f"SQL preview unavailable: {op.sql_error or 'nothing emitted'}",
                          style="dim"))
    return Group(*parts)
