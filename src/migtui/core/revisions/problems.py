"""Words for the problems found in a project's revision files (no Alembic needed)."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence

from migtui.core.models import ScriptProblem


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def problems_summary(problems: Sequence[ScriptProblem]) -> str:
    """A few words: "2 broken revision files, 1 problem in the revision history"."""
    files = sum(1 for p in problems if p.kind == "file")
    graph = len(problems) - files
    parts = []
    if files:
        parts.append(_plural(files, "broken revision file", "broken revision files"))
    if graph:
        parts.append(_plural(graph, "problem in the revision history",
                             "problems in the revision history"))
    return ", ".join(parts)


def same_file(one: str, other: str) -> bool:
    """Whether two paths name one file (a problem's path and a revision's)."""
    return one == other or os.path.realpath(one) == os.path.realpath(other)


def problems_text(problems: Sequence[ScriptProblem], note: str = "") -> str:
    """Every problem on its own line, then ``note`` (what they mean for the graph), then
    the details (file, traceback) of each."""
    parts = ["\n".join(f"• {p.message}" for p in problems), *filter(None, [note])]
    parts.extend(p.details for p in problems if p.details and p.details != p.path)
    return "\n\n".join(parts)


def lineage_text(unknown: Collection[str]) -> str:
    """Why the graph marks these revisions "·" ("" when there are none): nothing readable
    links them to what the database holds."""
    if not unknown:
        return ""
    ids = ", ".join(sorted(r[:12] for r in unknown)[:8]) + (", …" if len(unknown) > 8 else "")
    return (f"Shown · (not known): {ids}. The database's revision descends from a file "
            "that is missing or cannot be read, so nothing readable says whether the "
            "database holds these: they are not counted as pending, and nothing is "
            "planned from them until the file is fixed.")


def history_refusal(problems: Sequence[ScriptProblem]) -> str:
    """Why Alembic would refuse every write while these problems stand ("" when none).

    Alembic builds the whole revision map before any upgrade, downgrade, stamp or merge,
    and that fails on a broken file, a missing parent, a cycle or a duplicate id."""
    if not problems:
        return ""
    more = len(problems) - 1
    rest = f" (and {_plural(more, 'more problem', 'more problems')})" if more else ""
    return (f"Alembic refuses to run anything while the revision history is broken: "
            f"{problems[0].message}{rest}. Fix the revision files, then r re-reads them")
