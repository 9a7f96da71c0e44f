"""Pre-flight checks and rehearsal reports as text, for the confirmation and details."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from migtui.widgets.safe_text import clean

if TYPE_CHECKING:  # the checks import SQLAlchemy: not before the first paint
    from migtui.core.checks.preflight import FunctionOperations, Preflight
    from migtui.core.checks.rehearsal import Rehearsal
    from migtui.core.checks.risks import Risk

KIND_STYLE = {
    "will fail": "bold red",
    "loses data": "bold red",
    "keeps bad data": "bold yellow",
    "locks table": "yellow",
    "cannot be undone": "yellow",
    "raw SQL": "cyan",
}


class Lines:
    """Lines of text, each indented as a whole (wrapped lines keep their indent)."""

    def __init__(self) -> None:
        self.lines: list[RenderableType] = []

    def add(self, indent: int, *parts: str | tuple[str, str]) -> None:
        """One line made of plain or (text, style) parts (data: control characters shown)."""
        text = Text.assemble(*[
            clean(part) if isinstance(part, str) else (clean(part[0]), part[1])
            for part in parts])
        self.lines.append(Padding(text, (0, 0, 0, indent)) if indent else text)

    def group(self) -> Group:
        """All the lines as one renderable."""
        return Group(*self.lines)


def _risk(out: Lines, risk: Risk, indent: int = 5) -> None:
    out.add(indent, (f"⚠ {risk.kind}: ", KIND_STYLE.get(risk.kind, "bold")), risk.reason)
    if risk.operation and risk.operation.endswith(")") and not risk.operation.endswith("()"):
        out.add(indent + 4, (f"in {risk.operation}", "dim"))
    if risk.safer:
        out.add(indent + 4, (f"safer: {risk.safer}", "italic"))


def describe_preflight(preflight: Preflight) -> Group:
    """Each step with its recorded operations and the risks found on this database."""
    out = Lines()
    for number, step in enumerate(preflight.steps, 1):
        first = step.message.splitlines()[0] if step.message else ""
        out.add(0, (f"{number}. {step.direction} {step.revision[:12]}", "bold"), f"  {first}")
        for op in step.operations or ("(no operations)",):
            out.add(5, (op, "dim"))
        if step.note:
            out.add(5, (f"({step.note})", "dim italic"))
        for risk in step.risks:
            _risk(out, risk)
    out.add(0, "")
    return out.group()


def risk_summary(preflight: Preflight) -> Text:
    """How many risks of each kind the plan has here, and (MySQL/MariaDB) that a step
    failing halfway stays half applied: a line each ("" when neither)."""
    kinds = Counter(r.kind for r in preflight.risks)
    text = Text("")
    if kinds:
        from migtui.core.checks.preflight import ORDER

        parts = [f"{k} ({kinds[k]})" for k in ORDER if kinds.get(k)]
        style = "bold red" if preflight.blocking else "bold yellow"
        where = "On this database" if preflight.checked_live else "In the source"
        text.append(f"⚠ {where}: " + ", ".join(parts), style=style)
    if preflight.stays_halfway and preflight.steps:
        text.append("\n" if kinds else "")
        text.append("⚠ No rollback here: a step that fails halfway stays half applied "
                    "(below: what that leaves)", style="bold yellow")
    return text


def describe_rehearsal(rehearsal: Rehearsal) -> Group:
    """How each step went, the failing statement, and whether all was rolled back."""
    from migtui.core.checks.risks import counted

    out = Lines()
    out.add(0, ("Rehearsal", "bold"), (" (ran in one transaction, then rolled back)", "dim"))
    for run in rehearsal.steps:
        mark = ("✓ ", "green") if run.ok else ("✗ ", "bold red")
        out.add(2, mark, (f"{run.direction} {run.revision[:12]}", "bold"),
                (f"  {run.seconds:.2f} s, {counted(run.statements, 'statement')}", "dim"))
        if not run.ok:
            out.add(6, (run.error, "red"))
            if run.statement:
                out.add(6, ("failing statement: ", "dim"), run.statement)
    for revision in rehearsal.not_reached:
        out.add(2, (f"· {revision[:12]} not reached", "dim"))
    if rehearsal.error:
        out.add(2, (f"✗ {rehearsal.error}", "bold red"))
    if rehearsal.unchanged:
        out.add(2, ("✓ Rolled back: the schema and alembic_version are exactly as before.",
                    "green"))
    else:
        out.add(2, ("⚠ After the rollback the database is not as before: "
                    + "; ".join(rehearsal.differences), "bold red"))
    if rehearsal.ok:
        out.add(2, ("Every step ran without an error.", "bold"))
    return out.group()


def describe_functions(functions: tuple[FunctionOperations, ...]) -> Group:
    """The recorded operations of a revision's upgrade() and downgrade()."""
    out = Lines()
    for fn in functions:
        out.add(0, (f"{fn.name}()", "bold"))
        for op in fn.operations or ("(no operations)",):
            out.add(3, (op, "dim") if not fn.operations else op)
        if fn.note:
            out.add(3, (f"({fn.note})", "dim italic"))
        for risk in fn.risks:
            _risk(out, risk, indent=3)
        out.add(0, "")
    out.add(0, ("Operations recorded by running each function offline, as alembic --sql "
                "would; the confirmation also checks them against the data.", "dim"))
    return out.group()
