"""The revision graph: one row per revision, drawn with lanes; renders only visible rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import overload

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from migtui.core.actions.plan import upgrade_marks
from migtui.core.models import DatabaseState, Revision, Snapshot
from migtui.core.revisions.layout import graph_lanes
from migtui.widgets.safe_text import clean

APPLIED_NODE, PENDING_NODE, UNKNOWN_NODE = "●", "○", "·"
LEGEND = "● applied  ○ pending  · not known  (current) the database  (head) newest"


@dataclass(frozen=True)
class GraphRow:
    """What one line of the graph shows."""

    revision: Revision
    glyphs: str
    applied: bool
    current: bool
    note: str = ""  # e.g. "✎ edited since applied to this database on 2026-11-30"
    environments: str = ""  # the environments standing on it: "@dev @staging"
    partial: str = ""  # "⚠ partially applied (…)" on the revision a failed step left half done
    known: bool = True  # False while the database is not read, or its state is not known
    problem: str = ""  # "⚠ broken file (e: why)" when its file cannot be read or imported

    @cached_property
    def risks(self) -> tuple[str, ...]:
        """Why this pending revision's upgrade deserves a look (read from its source when
        the row is first drawn); nothing for applied revisions, nor before the database
        has been read (the first paint reads no revision's source)."""
        return () if self.applied or not self.known else upgrade_marks(self.revision)

    @property
    def markers(self) -> str:
        rev = self.revision
        marks = [
            label for label, on in (
                ("(head)", rev.is_head), ("(current)", self.current),
                ("(branchpoint)", rev.is_branch_point), ("(mergepoint)", rev.is_merge_point),
            ) if on
        ]
        marks.extend(f"[{label}]" for label in rev.branch_labels)
        if self.environments:
            marks.append(self.environments)
        if rev.dependencies:
            marks.append("depends on " + ", ".join(d[:12] for d in rev.dependencies))
        if self.partial:
            marks.append(self.partial)
        if self.problem:
            marks.append(self.problem)
        if self.risks:
            marks.append("⚠ " + ", ".join(self.risks))
        if self.note:
            marks.append(self.note)
        return clean(" ".join(marks), one_line=True)


class GraphRows(Sequence[GraphRow]):
    """The graph rows of a snapshot, newest first, each made when it is first asked for
    (drawn, selected): making 10,000 rows took 40 ms for every snapshot drawn, before
    the first paint too. ``notes`` and ``environments`` (``"@dev @staging"``) by
    revision id; pending nodes are drawn hollow.

    While the database is not read (or cannot be), nothing is known to be applied or
    pending: the nodes say so instead of pretending everything is pending.
    """

    def __init__(self, snapshot: Snapshot | None = None,
                 notes: Mapping[str, str] | None = None,
                 environments: Mapping[str, str] | None = None,
                 order: Sequence[int] | None = None) -> None:
        self._snapshot = snapshot  # (None: no rows)
        self._revisions: Sequence[Revision] = () if snapshot is None else (
            snapshot.graph.revisions)
        self._lanes = [] if snapshot is None else graph_lanes(snapshot.graph)
        self._notes = notes or {}
        self._environments = environments or {}
        self._order: Sequence[int] = range(len(self._revisions)) if order is None else order
        self._made: dict[int, GraphRow] = {}
        if snapshot is None:
            return
        self._applied = snapshot.applied
        self._unknown = snapshot.unknown  # (below a revision no readable file defines)
        self._current = set(snapshot.current)  # every revision `alembic current` lists
        self._other_node = PENDING_NODE if snapshot.database.reachable else UNKNOWN_NODE
        self._known = snapshot.database.state is not DatabaseState.NOT_CHECKED
        # A revision's path is already real (files.revision_files): only the few broken
        # paths are resolved, not every row's (that took a third of a second at 10,000).
        self._broken = {path for p in snapshot.graph.problems if p.kind == "file" and p.path
                        for path in (p.path, os.path.realpath(p.path))}

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> GraphRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[GraphRow]: ...

    def __getitem__(self, index: int | slice) -> GraphRow | list[GraphRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        at = self._order[index]  # (raises IndexError past the end, as a list does)
        row = self._made.get(at)
        if row is None:
            row = self._made[at] = self._make(at)
        return row

    def _make(self, at: int) -> GraphRow:
        rev, lane = self._revisions[at], self._lanes[at]
        is_applied = rev.revision in self._applied
        glyphs = lane.glyphs if is_applied else lane.glyphs.replace(
            APPLIED_NODE, UNKNOWN_NODE if rev.revision in self._unknown else self._other_node)
        assert self._snapshot is not None  # (no rows to make without one)
        return GraphRow(rev, glyphs, is_applied, rev.revision in self._current,
                        self._notes.get(rev.revision, ""),
                        self._environments.get(rev.revision, ""),
                        partial_mark(self._snapshot, rev),
                        self._known and rev.revision not in self._unknown,
                        "⚠ broken file (e: why)" if rev.path in self._broken else "")

    def revision_at(self, index: int) -> Revision:
        """The revision of row ``index`` (without making the row)."""
        return self._revisions[self._order[index]]

    def index_of(self, revision: str) -> int | None:
        """The row of the revision with exactly this id, or None."""
        return next((i for i, at in enumerate(self._order)
                     if self._revisions[at].revision == revision), None)

    @cached_property
    def glyph_width(self) -> int:
        """The widest row's lanes (a row's node glyph has the width of the one it
        replaces)."""
        return max((len(self._lanes[at].glyphs) for at in self._order), default=0)

    def only(self, keep: Callable[[Revision], bool]) -> GraphRows:
        """The rows whose revision ``keep`` accepts (the filter), in the same order."""
        return GraphRows(self._snapshot, self._notes, self._environments,
                         [at for at in self._order if keep(self._revisions[at])])


def partial_mark(snapshot: Snapshot, rev: Revision) -> str:
    """"⚠ partially applied (1 statement stayed; e: which)" on the revision
    whose step failed halfway and left part of itself in the database; else ""."""
    partial = snapshot.partial
    if partial is None or rev.revision[:12] != partial.revision[:12]:
        return ""
    stayed = len(partial.statements)
    what = f"{stayed} statement{'s' * (stayed != 1)} stayed" if stayed else "part stayed"
    return f"⚠ partially applied ({what}; e: which)"


def lanes_cut(glyphs: str, glyph_width: int, width: int) -> tuple[int, str]:
    """The lanes of one row within a third of the width: with many heads the lanes past
    that are summed up as "+N" so that the message stays readable."""
    cap = max(width // 3, 6)
    if glyph_width <= cap:
        return glyph_width, glyphs
    keep = glyphs[: cap - 6]
    hidden = sum(1 for ch in glyphs[len(keep):] if not ch.isspace())
    return cap, f"{keep}+{hidden}" if hidden else keep


class RevisionGraphView(ScrollView, can_focus=True):
    """A scrollable list of graph rows with a cursor."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="graph.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="graph.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="graph.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="graph.pagedown"),
        Binding("home", "jump(0)", "First", show=False, id="graph.home"),
        Binding("end", "jump(-1)", "Last", show=False, id="graph.end"),
        Binding("enter", "activate", "Details", id="graph.details"),
    ]

    DEFAULT_CSS = """
    RevisionGraphView { height: 1fr; }
    RevisionGraphView > .graph--cursor { background: $accent 40%; }
    RevisionGraphView > .graph--pending { color: $text-muted; }
    RevisionGraphView > .graph--lanes { color: $secondary; }
    RevisionGraphView > .graph--current { color: $success; text-style: bold; }
    RevisionGraphView > .graph--marker { color: $warning; }
    RevisionGraphView > .graph--id { color: $primary; }
    """
    COMPONENT_CLASSES = {
        "graph--cursor", "graph--pending", "graph--lanes", "graph--current",
        "graph--marker", "graph--id",
    }

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to another revision."""

        def __init__(self, revision: Revision | None) -> None:
            super().__init__()
            self.revision = revision

    class Activated(Message):
        """Enter (or a double click) on a revision."""

        def __init__(self, revision: Revision) -> None:
            super().__init__()
            self.revision = revision

    class FirstDrawn(Message):
        """Revision rows were drawn for the first time (what comes next may follow)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = GraphRows()
        self._glyph_width = 2
        self._drawn = False
        self.moved = False  # the user has moved the cursor (else it stays on the newest)

    def set_rows(self, rows: GraphRows, keep: str | None = None) -> None:
        """Show new rows, keeping the cursor on revision ``keep`` when it is still there."""
        self.rows = rows
        self._glyph_width = rows.glyph_width + 1
        self.virtual_size = Size(self.size.width, len(rows))
        index = None if keep is None else rows.index_of(keep)
        self.cursor = min(index if index is not None else self.cursor, max(len(rows) - 1, 0))
        # Once the new height is laid out: scrolling now is cut to the old one (a filter
        # cleared, the cursor far below what the filtered rows filled).
        self.call_after_refresh(self.scroll_to_region_y, self.cursor)
        self.refresh()
        self.post_message(self.Highlighted(self.selected))

    @property
    def selected(self) -> Revision | None:
        """The revision under the cursor."""
        if not 0 <= self.cursor < len(self.rows):
            return None
        return self.rows.revision_at(self.cursor)

    def select(self, revision: str) -> bool:
        """Move the cursor to a revision by exact id; False when it is not shown."""
        index = self.rows.index_of(revision)
        if index is None:
            return False
        self.moved = True
        self.cursor = index
        return True

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region_y(new)
        self.refresh()
        if old != new:
            self.post_message(self.Highlighted(self.selected))

    def scroll_to_region_y(self, y: int) -> None:
        top, height = int(self.scroll_offset.y), self.scrollable_content_region.height
        if height <= 0:
            return
        if y < top:
            self.scroll_to(y=y, animate=False)
        elif y >= top + height:
            self.scroll_to(y=y - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.moved = True
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        self.moved = True
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1

    def action_activate(self) -> None:
        if self.selected is not None:
            self.post_message(self.Activated(self.selected))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.rows):
            self.moved = True
            if index == self.cursor and event.chain >= 2:
                self.action_activate()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, self.rich_style)
        if not self._drawn:
            self._drawn = True
            self.post_message(self.FirstDrawn())
        row = self.rows[index]
        base = self.rich_style

        def style(name: str) -> Style:
            return self.get_component_rich_style(name, partial=True)

        text_style = base + style("graph--pending") if not row.applied else base
        if row.current:
            text_style += style("graph--current")
        rev = row.revision
        glyph_width, glyphs = lanes_cut(row.glyphs, self._glyph_width, width)
        date = clean((rev.date or "")[:16], one_line=True)
        room = max(width - glyph_width - 13 - 18, 10)
        message = clean(rev.message.splitlines()[0], one_line=True) if rev.message else ""
        markers = row.markers
        if markers:
            # Markers matter more than the end of a long message.
            keep = max(room - len(markers) - 1, 4)
            if len(message) > keep:
                message = message[: keep - 1] + "…"
        text = f"{message} {markers}".strip() if markers else message
        if len(text) > room:
            text = text[: room - 1] + "…"
        cut = min(len(message), len(text))
        segments = [
            Segment(glyphs.ljust(glyph_width), base + style("graph--lanes")),
            Segment(f"{clean(rev.short, one_line=True):<12} ", text_style + style("graph--id")),
            Segment(text[:cut], text_style),
            Segment(text[cut:].ljust(room - cut) + " ", text_style + style("graph--marker")),
            Segment(f"{date:>16} ", text_style + Style(dim=True)),
        ]
        strip = Strip(segments).crop_extend(0, width, base)
        if index == self.cursor:  # its background over the segments' own
            cursor = self.get_component_rich_style("graph--cursor", partial=False)
            strip = Strip(Segment.apply_style(strip, post_style=Style(bgcolor=cursor.bgcolor)),
                          strip.cell_length)
        return strip
