"""The environments screen (`w`): every configured database of the project side by side.

The app reads every environment after each read of its own database (``r``, an action
ending), all at once (env.py as ``alembic current`` runs it, with the looking-only
timeouts; see core/environments/fleet.py), and hands each result down as it arrives
(``AppState``), so an unreachable database never holds the others' rows back. Drift
is checked here once every environment of a round is read. ``b`` brings the selected
environment (or every tenant of the selected group) to another's revision: the screen
makes the plans and asks the app, which confirms and runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.environments.bring import FleetRun, Outcome, plan_bring, revision_label
from migtui.core.environments.fleet import Drift, EnvironmentRead, Fleet
from migtui.core.errors import MigtuiError
from migtui.core.libraries import needs_libraries
from migtui.screens.dialogs import ChooseScreen, TextScreen
from migtui.screens.environments_rows import COLUMNS, build_rows, fit_columns
from migtui.screens.state import AppState, SessionScreen
from migtui.widgets.footer import SteadyFooter
from migtui.widgets.row_table import RowTable
from migtui.widgets.safe_text import safe, safe_line
from migtui.widgets.status_line import StatusLine

HEAD = "(head)"


class EnvironmentsScreen(SessionScreen):
    """One row per environment: revision, pending count, reachable, drift, last read."""

    class DriftChecked(Message, bubble=False):
        """Drift of one environment, or of every tenant of a group."""

        def __init__(self, token: int, drifts: dict[str, Drift]) -> None:
            super().__init__()
            self.token, self.drifts = token, drifts

    class BringRequested(Message):
        """Bring these environments, each with its own plan, to ``revision``."""

        def __init__(self, fleet: Fleet, items: tuple[tuple[EnvironmentRead, Plan], ...],
                     source: str, revision: str) -> None:
            super().__init__()
            self.fleet, self.items, self.source, self.revision = fleet, items, source, revision

    class Applied(Message, bubble=False):
        """One environment of a bring ended (posted by the app's action worker)."""

        def __init__(self, outcome: Outcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Finished(Message, bubble=False):
        """A bring ended: the summary of which environment is where."""

        def __init__(self, run: FleetRun) -> None:
            super().__init__()
            self.run = run

    BINDINGS = [
        Binding("b", "bring", "Bring to…", id="environments.bring"),
        Binding("enter", "toggle_group", "Open/close group", id="environments.toggle"),
        Binding("space", "choose_tenant", "Choose tenant", id="environments.choose"),
        Binding("e", "details", "Details", id="environments.details"),
    ]

    def __init__(self, project: Project, state: AppState, fleet: Fleet | None = None) -> None:
        super().__init__(project, state)
        self.fleet = fleet if fleet is not None else Fleet(project)
        self.reads: dict[str, EnvironmentRead] = {}
        self.drifts: dict[str, Drift] = {}
        self.runs: dict[str, str] = {}
        self.collapsed: set[str] = set()
        self.chosen: frozenset[str] = frozenset()  # tenants chosen for the next bring
        self.last_run: FleetRun | None = None
        self._token = 0  # the app's round of reads shown (AppState.environments_round)
        self._drift_round = -1  # the round whose drift is checked

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading revisions…", id="status")
        yield Static("", id="environments-title")
        yield Static("", id="environments-problems")
        yield RowTable(id="environments", zebra_stripes=True)
        yield Static("", id="environments-summary")
        yield SteadyFooter()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#environments", DataTable)

    def on_mount(self) -> None:
        self._show_title()
        problems = self.fleet.config.problems
        box = self.query_one("#environments-problems", Static)
        box.update(safe("\n".join(f"⚠ {p}" for p in problems), "yellow"))
        box.display = bool(problems)
        self.query_one("#environments-summary", Static).display = False
        self.show_state(None, self.state)
        self.table.focus()

    def _show_title(self) -> None:
        files = ", ".join(self.fleet.config.files)
        text = Text("Environments", style="bold")
        text.append_text(safe_line(f" from {files}" if files else
                                   " (none configured: the project's own database)"))
        if self.state.read_only:
            text.append("  [read-only]", style="bold")
        text.append("   b: bring the selected one (or the tenants chosen with space) to "
                    "another's revision", style="dim")
        self.query_one("#environments-title", Static).update(text)

    def show_state(self, old: AppState | None, new: AppState) -> None:
        if self.snapshot_changed(old, new):
            self.show_status()
        if old is None or new.environment_reads is not old.environment_reads:
            self._show_reads(new)

    # -- reading -----------------------------------------------------------

    def _show_reads(self, state: AppState) -> None:
        """The app read the environments (each in a worker of its own, one post each):
        show what arrived; once every one is in, check their drift."""
        if state.environments_round != self._token:
            self._token = state.environments_round
            self.drifts.clear()
        self.reads = {r.environment.name: r for r in state.environment_reads}
        self._redraw()
        if (len(self.reads) < len(self.fleet.environments)
                or self._drift_round == self._token):
            return
        self._drift_round = self._token
        everyone = tuple(self.reads[e.name] for e in self.fleet.environments)
        for read in everyone:
            if not read.environment.group:
                self._drift_one(self._token, read, everyone)
        for members in self.fleet.config.groups().values():
            self._drift_group(self._token, tuple(self.reads[e.name] for e in members))

    @work(description="_drift_one", thread=True, group="environments-drift", exit_on_error=False)
    @needs_libraries
    def _drift_one(self, token: int, read: EnvironmentRead,
                   others: tuple[EnvironmentRead, ...]) -> None:
        try:
            drift = self.fleet.drift(read, others)
        except MigtuiError as exc:
            drift = Drift("error", exc.message)
        self.post_message(self.DriftChecked(token, {read.environment.name: drift}))

    @work(description="_drift_group", thread=True, group="environments-drift", exit_on_error=False)
    @needs_libraries
    def _drift_group(self, token: int, reads: tuple[EnvironmentRead, ...]) -> None:
        self.post_message(self.DriftChecked(token, self.fleet.group_drift(reads)))

    def on_environments_screen_drift_checked(
            self, message: EnvironmentsScreen.DriftChecked) -> None:
        if message.token == self._token:
            self.drifts.update(message.drifts)
            self._redraw()

    def _redraw(self) -> None:
        table = self.table
        keep = self.selected_key()
        rows = build_rows(self.fleet.environments, self.reads, self.drifts, self.collapsed,
                          self.runs, self.chosen)
        # As wide as the screen (less a scrollbar's room): narrow columns rather than a
        # URL pushed off the right edge; e shows each environment's whole text.
        width = (self.table.size.width or self.app.size.width) - 2
        shown = fit_columns(rows, width, table.cell_padding)
        table.clear(columns=True)
        for index, column_width in shown:
            table.add_column(COLUMNS[index], width=column_width, key=COLUMNS[index])
        for row in rows:
            table.add_row(*(row.cells[i] for i, _ in shown), key=row.key)
        keys = [row.key for row in rows]
        if keep in keys:
            table.move_cursor(row=keys.index(keep), animate=False)

    def on_resize(self) -> None:
        self._redraw()

    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    # -- keys --------------------------------------------------------------------

    def action_toggle_group(self) -> None:
        key = self.selected_key()
        if key is not None and key.startswith("group:"):
            self.collapsed ^= {key.removeprefix("group:")}
            self._redraw()

    def action_choose_tenant(self) -> None:
        """Choose (or leave out) the tenant under the cursor for the next ``b``; on a
        group's line, open or close it."""
        key = self.selected_key() or ""
        env = self.fleet.config.find(key)
        if env is None or not env.group:
            self.action_toggle_group()
            return
        self.chosen ^= {key}
        self._redraw()
        self.table.move_cursor(row=self.table.cursor_row + 1, animate=False)

    def _failure(self, name: str) -> Outcome | None:
        """The last run's failure, when it was this environment's (or its group's)."""
        failed = self.last_run.failed if self.last_run is not None else None
        if failed is None:
            return None
        env = self.fleet.config.find(failed.name)
        group = env.group if env is not None else ""
        return failed if name in (failed.name, f"group:{group}") else None

    def action_details(self) -> None:
        key = self.selected_key()
        failed = self._failure(key or "")
        if failed is not None:  # the failed tenant's own error, not its group's line
            read_back = " (read back from the database)" if failed.heads is not None else ""
            body = safe(f"{failed.error}\n\nnow at: {revision_label(failed.heads)}"
                        f"{read_back}\n\n"
                        f"{failed.result.error_details if failed.result else ''}")
            self.app.push_screen(TextScreen(f"{failed.name} failed", body))
            return
        env = self.fleet.config.find(key or "")
        read = self.reads.get(key or "")
        if env is None or read is None:
            self.notify("Select an environment (not a group) to see its details")
            return
        drift = self.drifts.get(env.name)
        body = Text()
        body.append_text(safe(f"URL: {read.status.url or env.display_url}\n"
                              f"-x: {env.display_x or '(none)'}\n"
                              f"configured in: {env.source}\n"
                              f"revision: {self._revision(read)}\n"
                              f"drift: {drift.text if drift else 'not checked'}\n"
                              f"read in {read.seconds:.2f} s\n"))
        if env.problem or read.status.error:
            body.append_text(safe(f"\n{env.problem or read.status.error}\n\n"
                                  f"{read.status.error_details}"))
        self.app.push_screen(TextScreen(env.name, body))

    @staticmethod
    def _revision(read: EnvironmentRead) -> str:
        """Where the database is; not known when it could not be read (not "base")."""
        if not read.status.reachable:
            return "not known (the database was not read)"
        return revision_label(read.status.current_heads)

    def targets(self) -> list[EnvironmentRead]:
        """The environment under the cursor, or every tenant of the group under it."""
        key = self.selected_key() or ""
        env = self.fleet.config.find(key)
        group = key.removeprefix("group:") if key.startswith("group:") else (
            env.group if env is not None and key in self.chosen else "")
        if group:
            names = [e.name for e in self.fleet.config.groups().get(group, ())]
            if self.chosen.intersection(names):  # only the tenants chosen with space
                names = [n for n in names if n in self.chosen]
        else:
            names = [key]
        return [self.reads[n] for n in names if n in self.reads]

    def action_bring(self) -> None:
        """Ask which environment's revision to bring the selection to."""
        if self.state.read_only:
            self.notify("This session is read-only (--read-only): write actions are disabled",
                        severity="warning")
            return
        targets = self.targets()
        if not targets:
            self.notify("Nothing read yet: a moment", severity="warning")
            return
        names = {t.environment.name for t in targets}
        sources = [(HEAD, "(head) the newest revision of the files")]
        reads = [self.reads[e.name] for e in self.fleet.environments
                 if e.name in self.reads and not e.group and e.name not in names]
        sources += [(r.environment.name,
                     f"{r.environment.name}  at {revision_label(r.status.current_heads)}")
                    for r in reads if r.status.reachable]
        label = (targets[0].environment.group or targets[0].environment.name
                 if len(targets) > 1 else targets[0].environment.name)

        def chosen(source: str | None) -> None:
            if source is not None:
                self._request_bring(targets, source)

        self.app.push_screen(ChooseScreen(f"Bring {label} to the revision of…", sources),
                             chosen)

    def _request_bring(self, targets: Sequence[EnvironmentRead], source: str) -> None:
        if source == HEAD:
            heads = targets[0].snapshot.graph.heads
        else:
            heads = self.reads[source].status.current_heads
        items: list[tuple[EnvironmentRead, Plan]] = []
        refused: list[str] = []
        for read in targets:
            try:
                items.append((read, plan_bring(read.snapshot, tuple(heads),
                                               read.environment.name, source)))
            except MigtuiError as exc:
                refused.append(exc.message)
        if not items:
            self.notify(refused[0] if refused else "Nothing to do", severity="warning")
            return
        if refused and len(targets) == 1:
            self.notify(refused[0], severity="warning")
            return
        self.runs.clear()
        self.last_run = None
        self.post_message(self.BringRequested(self.fleet, tuple(items), source,
                                              revision_label(heads)))

    # -- what the app's action worker posts -------------------------------------

    def on_environments_screen_applied(self, message: EnvironmentsScreen.Applied) -> None:
        outcome = message.outcome
        self.runs[outcome.name] = ("✓ done" if outcome.ok else
                                   "✗ failed" if outcome.ran else "· not run")
        self._redraw()

    def on_environments_screen_finished(self, message: EnvironmentsScreen.Finished) -> None:
        self.last_run = message.run
        summary = self.query_one("#environments-summary", Static)
        failed = message.run.failed is not None
        summary.update(safe_line(("✗ " if failed else "✓ ") + message.run.summary(),
                                 "bold red" if failed else "bold green"))
        summary.display = True
