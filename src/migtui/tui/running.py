"""The app's side of a running write action: progress, cancel, and quitting.

The base class of MigtuiApp (app.py keeps the wiring): what the running action's Watch
reports becomes the progress line, `c` cancels the action (a second connection cancels
its statement; its transaction rolls back), and quitting while one runs cancels it first
and always ends the process, even when env.py hangs (exit_watchdog).
"""

from __future__ import annotations

import threading
from dataclasses import replace

from textual import work
from textual.app import App
from textual.reactive import reactive

from migtui.core.env.watch import Watch
from migtui.core.libraries import needs_libraries
from migtui.screens.dialogs import QuitQuestionScreen
from migtui.screens.state import AppState
from migtui.tui import exit_watchdog
from migtui.tui.messages import ActionProgress, LogLine, StepStarted


class RunningActions(App[None]):
    """Progress, cancel and quit of the one write action that may run at a time."""

    # The log panel keeps the newest lines; older ones are counted, not kept.
    LOG_LINES_KEPT = 5000

    # The session as the screens see it; each new one is handed down to every screen.
    state: reactive[AppState] = reactive(AppState, always_update=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self._action_label = ""
        self._watch: Watch | None = None  # of the running plan: its waits, its cancel
        self._quitting = False
        self._quit_question: QuitQuestionScreen | None = None  # "Cancel it and quit?", open
        self._log_dropped = 0
        self._log_lock = threading.Lock()
        self._log_waiting: list[str] = []  # lines written since the last LogLine was taken
        # Seconds a quit may take before the process is ended anyway (set by the CLI;
        # None under tests, where ending the process would end the test run).
        self.exit_watchdog: float | None = None

    def _post_line(self, line: str) -> None:  # from the action's worker
        # One message for many lines: an env.py that prints 40,000 lines must not make
        # 40,000 new states for the screens to draw.
        with self._log_lock:
            self._log_waiting.append(line)
            if len(self._log_waiting) > 1:
                return  # the LogLine on its way takes this one too
        self.post_message(LogLine())

    def log_output(self, line: str) -> None:
        """A line written to the process's descriptor 1 or 2 (tui/terminal_guard.py),
        from any thread: into the log, like env.py's own output."""
        self._post_line(line)

    def on_log_line(self, message: LogLine) -> None:
        with self._log_lock:
            waiting, self._log_waiting = self._log_waiting, []
        written = (*message.lines, *waiting)
        lines = (*self.state.log_lines, *written)
        if len(lines) > self.LOG_LINES_KEPT:
            cut = len(lines) - self.LOG_LINES_KEPT
            self._log_dropped += cut
            lines = (f"… {self._log_dropped:,} older lines dropped …",
                     *lines[cut + 1:])
        self.state = replace(self.state, log_lines=lines,
                             log_written=self.state.log_written + len(written))

    def _report_progress(self, text: str) -> None:  # from the action's watch thread
        self.post_message(ActionProgress(text))

    def _report_step(self, number: int, total: int, text: str) -> None:
        self.post_message(StepStarted(number, total, text))

    def on_step_started(self, message: StepStarted) -> None:
        if self.state.busy:
            self.state = replace(self.state, progress=(
                f"{self._action_label}: step {message.number} of {message.total} "
                f"({message.text.replace(' -> ', ' → ')})"))

    def on_action_progress(self, message: ActionProgress) -> None:
        if self.state.busy:
            self.state = replace(self.state, progress=f"c cancels · {message.text}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_action":
            return self._watch is not None  # shown (and working) only while one runs
        return True

    def action_cancel_action(self) -> None:
        """Cancel the running migration: its statement is cancelled, it rolls back."""
        if self._watch is None:
            self.notify("No migration is running")
            return
        self.state = replace(self.state, progress="Cancelling: rolling back…")
        self._cancel(self._watch)

    @work(description="_cancel", thread=True, group="cancel", exit_on_error=False)
    @needs_libraries
    def _cancel(self, watch: Watch) -> None:
        watch.cancel()  # a second connection asks the server to cancel the statement

    async def action_quit(self) -> None:
        """Quit; while a migration runs, ask, then cancel it before quitting."""
        if not self.state.busy:
            self._exit_now()
            return
        if self._quitting:  # asked twice: do not wait any longer
            self._exit_now()
            return
        if self._quit_question is not None:  # q or ctrl+c again while asking: yes
            if self.screen is self._quit_question:
                self._quit_question.dismiss(True)
            return

        def answered(yes: bool | None) -> None:
            self._quit_question = None
            if not yes:
                return
            self._quitting = True
            if self._watch is not None:
                self.state = replace(self.state, progress="Cancelling, then quitting…")
                self._cancel(self._watch)
            # If Alembic does not return (env.py stuck in its own code), quit anyway.
            self.set_timer(5, self._exit_now)

        self._quit_question = QuitQuestionScreen(
            "A migration is running. Cancel it and quit?",
            "migtui cancels the running step (its transaction rolls back; on SQLite and "
            "MySQL the DDL that already ran stays), waits for Alembic to return, then "
            "quits. Quitting again says yes; n keeps watching.")
        self.push_screen(self._quit_question, answered)

    def _exit_now(self) -> None:
        if self.exit_watchdog is not None:
            exit_watchdog.arm(self.exit_watchdog)
        self.exit()
