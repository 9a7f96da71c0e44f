"""The confirmation of a write to a protected environment: its name must be typed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, Static

from migtui.screens.confirm import ConfirmScreen
from migtui.widgets.safe_text import safe_line


class ProtectedConfirmScreen(ConfirmScreen):
    """A ConfirmScreen that applies only once the environment's name is typed."""

    def __init__(self, name: str, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.protected_name = name

    def on_mount(self) -> None:
        prompt = Text("⚠ ", style="bold red")
        prompt.append_text(safe_line(self.protected_name, "bold"))
        prompt.append(" is protected: type its name and press enter to apply "
                      "(escape cancels).", style="bold red")
        dialog = self.query_one("#dialog")
        dialog.mount(Static(prompt, id="protected-prompt"), before="#confirm-buttons")
        typed = Input(placeholder=self.protected_name, id="protected-name")
        dialog.mount(typed, before="#confirm-buttons")
        self.call_after_refresh(typed.focus)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer(True)

    def action_answer(self, yes: bool) -> None:
        if yes:
            typed = self.query_one("#protected-name", Input).value.strip()
            if typed != self.protected_name:
                self.notify(f"Type {self.protected_name} to apply: nothing ran",
                            severity="warning")
                return
        super().action_answer(yes)
