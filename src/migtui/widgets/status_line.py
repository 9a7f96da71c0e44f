"""The one-line status bar: config, database, current revision(s), pending count."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from migtui.core.models import DatabaseState, DatabaseStatus, Snapshot
from migtui.core.revisions.branches import labelled_heads
from migtui.core.revisions.problems import problems_summary
from migtui.widgets.safe_text import clean, scrub


def _short_path(path: str) -> str:
    """The path relative to the working folder when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


_CONNECTION = "The database cannot be reached: "


def not_read(db: DatabaseStatus) -> tuple[str, str]:
    """(the headline, the rest) of why the database was not read: env.py (or the config
    it reads) failed, with its file and line, or the database did not answer."""
    if db.cause == "env.py":
        head, _, rest = db.error.partition(": ")
        return (head, rest) if rest else ("env.py failed", db.error)
    return "database unreachable", db.error.removeprefix(_CONNECTION)


def describe(snapshot: Snapshot, environment: str = "") -> Text:
    """The status text for a snapshot (also used by tests and the help screen);
    ``environment`` names the configured environment the database is."""
    db = snapshot.database
    text = Text()
    text.append(_short_path(snapshot.project.config_file) or "?", style="bold")
    text.append("  ")
    if environment:
        text.append(f"env {clean(environment, one_line=True)}", style="bold reverse")
        text.append(" ")
    if db.state is DatabaseState.NOT_CHECKED:
        text.append("reading the database through env.py…", style="dim")
    elif db.reachable:
        text.append(db.url or "?", style="")
        if db.dialect:
            text.append(f" ({db.dialect})", style="dim")
        text.append("  current: ")
        heads = snapshot.current  # as `alembic current`: effective heads too
        text.append(", ".join(h[:12] for h in heads) if heads else "base", style="bold")
        pending = len(snapshot.pending)
        text.append(f"  {pending} pending" if pending else "  up to date",
                    style="bold" if pending else "")
        if snapshot.partial is not None:  # a failed step left part of itself behind
            stayed = len(snapshot.partial.statements)
            text.append(f"  ⚠ partially applied {snapshot.partial.revision[:12]}",
                        style="bold red")
            text.append(f" ({stayed} statement{'s' * (stayed != 1)} of its step stayed;"
                        " e: which)", style="dim")
    else:
        text.append(db.url or "database", style="")
        headline, rest = not_read(db)
        text.append(f"  ✗ {headline}: ", style="bold")
        text.append(rest)
    unknown = [h for h in db.current_heads if h not in snapshot.graph]
    if unknown:
        text.append(
            f"  ⚠ database is on {', '.join(u[:12] for u in unknown)}, which no file defines"
            " (stamp a known revision with s)", style="bold")
    if snapshot.graph.problems:
        text.append(f"  ⚠ {problems_summary(snapshot.graph.problems)} (e: details)",
                    style="bold")
    if not snapshot.graph.revisions and not snapshot.graph.problems:
        # (A fresh `alembic init` has none: said plainly, not as a warning.)
        text.append(f"  no revisions found (searched {snapshot.project.script_location}"
                    " and its version locations)", style="dim")
    if len(snapshot.graph.heads) > 1 and not snapshot.graph.problems:
        # (With a broken history "heads" are an artefact: a missing parent makes a head.)
        labelled = labelled_heads(snapshot.graph)
        if labelled is not None:  # branches kept apart on purpose (expand/contract)
            text.append(f"  {len(labelled)} heads ({', '.join(labelled)})")
        else:
            text.append(f"  ⚠ {len(snapshot.graph.heads)} heads: merge them with m",
                        style="bold")
    if db.reachable and db.error:
        text.append(f"  ({db.error})", style="dim")
    if snapshot.project.read_only:
        text.append("  [read-only]", style="bold")
    return text


class StatusLine(Static):
    """Shows describe(snapshot); the app hands it each new snapshot."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    """

    def show(self, snapshot: Snapshot | None, message: str = "", environment: str = "") -> None:
        """Display a snapshot, or a plain message when there is none."""
        self.update(scrub(describe(snapshot, environment)) if snapshot is not None
                    else Text(clean(message, one_line=True)))
