"""Small modal dialogs: a text prompt, a choice between revisions, error details."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from migtui.widgets.safe_text import safe, safe_line, scrub


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; dismissed with it, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self._title, self._placeholder, self._value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(safe(self._title, "bold"))
            yield Input(value=self._value, placeholder=self._placeholder, id="prompt-input")
            yield Static("", id="prompt-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.query_one("#prompt-error", Static).update("Please type something (escape cancels)")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChooseScreen(ModalScreen[str | None]):
    """Asks which of several options (e.g. which head); dismissed with the option id.

    Labels are data (revision messages): shown literally, one line each, in a dialog as
    wide as a wide one; an option's detail (``details``, by id) goes on a dimmed line of
    its own (not wrapped after the label mid-phrase, at 80 columns)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choose.cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]],
                 highlighted: str | None = None, details: Mapping[str, str] | None = None,
                 ) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._highlighted = highlighted  # the option the cursor starts on (else the first)
        self._details = details or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="choice"):
            yield Static(safe(self._title, "bold"))
            yield OptionList(*[Option(self._prompt(key, label), id=key)
                               for key, label in self._options], id="choose-list")

    def _prompt(self, key: str, label: str) -> Text:
        prompt = safe_line(label)
        if self._details.get(key):
            prompt.append("\n").append_text(safe_line(self._details[key], "dim"))
        return prompt

    def on_mount(self) -> None:
        keys = [key for key, _ in self._options]
        if self._highlighted in keys:
            self.query_one("#choose-list", OptionList).highlighted = keys.index(
                self._highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A scrollable text (error details, a traceback, help); escape or q closes it."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="text.close")]

    def __init__(self, title: str, body: Text | str, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self._title = title
        # A str body is data (an error, a traceback): shown as it is, never as markup.
        self._body = safe(body) if isinstance(body, str) else scrub(body)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(safe(self._title, "bold"), id="text-title")
            with VerticalScroll(id="text-body"):
                yield Static(self._body, id="text-content")
            yield Static(Text("escape closes", style="dim"))

    def on_mount(self) -> None:
        # A toast (the error this dialog details, most often) would cover its right side.
        self.app.clear_notifications()

    def action_close(self) -> None:
        self.dismiss(None)


class QuestionScreen(ModalScreen[bool]):
    """A yes/no question; dismissed with True for yes. Starts on No."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="question.yes"),
        Binding("n,escape", "answer(False)", "No", id="question.no"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(safe(self._title, "bold"))
            yield Static(safe(self._body))
            yield Static(Text("y: yes   n / escape: no", style="dim"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class QuitQuestionScreen(QuestionScreen):
    """"Cancel it and quit?": quitting again (q) says yes. A modal screen keeps the app's
    own q from being seen (ctrl+c, a priority binding, is)."""

    BINDINGS = [Binding("q", "answer(True)", "Yes", show=False, id="question.quit")]
