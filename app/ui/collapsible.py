"""What the thinking panel and the tool-call card share: a body that opens and folds where the
user's choice sticks, and a plain-text box as tall as its lines."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit


class StickyExpansion:
    """Mixin for a widget with a ``toggled(bool)`` signal and an ``_apply_expanded()`` method:
    the expanded state, where a user's choice beats automatic changes from then on."""

    _expanded = False
    user_touched = False

    @property
    def expanded(self) -> bool:
        return self._expanded

    def _must_stay_open(self) -> bool:
        """True while the body must be seen whatever was chosen (e.g. a call awaiting approval)."""
        return False

    def set_expanded(self, expanded: bool, *, by_user: bool = False) -> None:
        """Expand or collapse; once the user chose, automatic changes do nothing."""
        if self._must_stay_open():
            expanded = True
        elif by_user:
            self.user_touched = True
        elif self.user_touched:
            return
        if expanded != self._expanded:
            self._expanded = expanded
            self._apply_expanded()
            if by_user:
                self.toggled.emit(expanded)

    def _on_header(self) -> None:
        self.set_expanded(not self._expanded, by_user=True)


def fit_to_lines(box: QPlainTextEdit, max_px: int, slack_lines: float) -> None:
    """Make ``box`` as tall as its text (plain-text layouts count lines), up to ``max_px``."""
    document = box.document()
    lines = max(1.0, document.documentLayout().documentSize().height())
    margin = 2 * document.documentMargin() + 2 * box.frameWidth()
    box.setFixedHeight(min(max_px, int((lines + slack_lines) * box.fontMetrics().lineSpacing() + margin)))
