"""Textual's Footer, composed again only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # (Textual is pinned)

_BATCHED_POLL_S = 0.01


class SteadyFooter(Footer):
    """A Footer for a screen that is kept and shown again and again.

    Textual's Footer builds its key widgets anew whenever its screen's bindings are
    announced as updated, which happens every time the screen comes back: a few dozen
    widgets mounted and styled before the screen's first frame (a tenth of a second and
    more on a loaded machine), though the keys are the same. This one does so only when
    the keys, their descriptions or whether they are enabled changed.

    ``held``: no keys until :meth:`release` (the screen's first content is drawn first:
    mounting the keys takes the UI thread for a frame or two at launch).
    """

    def __init__(self, *, held: bool = False) -> None:
        super().__init__()
        self._composed: tuple[object, ...] | None = None
        self._held = held
        self._asked = False  # the bindings were announced while held

    def release(self) -> None:
        """Show the keys (of a footer made ``held``) in the frame after the one being
        drawn, or once they are known."""
        if not self._held:
            return
        if self.app._batch_count:  # (Textual is pinned)
            # Textual shows no frame while it batches updates (as the app starts): what
            # was drawn is not on screen yet, and the keys would be in its first frame.
            self.set_timer(_BATCHED_POLL_S, self.release)
            return
        self._held = False
        if self._asked:  # (from the footer's own queue: its keys bind to it)
            self.call_after_refresh(self.call_next, self._announced)

    def _announced(self) -> None:
        if self.is_attached:
            self.bindings_changed(self.screen)

    def _keys(self) -> tuple[object, ...]:
        return tuple((binding.key, self.app.get_key_display(binding), binding.action,
                      binding.description, enabled, tooltip)
                     for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
                     if binding.show)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._composed = self._keys()
        for widget in super().compose():
            yield _styled_once(widget, self.compact)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._held:
            self._asked = True
            return
        if (self._composed is not None and self.is_attached and screen is self.screen
                and self._keys() == self._composed):
            return  # the same keys: what is shown stays
        super().bindings_changed(screen)


def _styled_once(widget: Widget, compact: bool) -> Widget:
    """A key widget made with the footer's ``compact`` already set: Textual's own key
    starts compact and is told the footer's value once mounted, and each change of its
    class restyles it (a few milliseconds a key, every key, on the first paint)."""
    if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
        widget.set_reactive(FooterKey.compact, compact)  # (bound: told it once mounted)
        widget.set_class(compact, "-compact", update=False)
    return widget
