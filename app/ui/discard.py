"""Taking a widget out of a live window for good.

``deleteLater`` alone leaves the widget in its layout, among its parent's children and in the
window's focus chain until the event loop gets to delete it; code that walks them meanwhile
(the chat's Tab order, a relayout) reaches a widget that is about to go, and Qt has crashed
on such widgets (a segfault in the event loop right after "New chat", seen in the speed
benchmark). :func:`discard` takes it out of the layout and hides it at once, and marks it so
that walks over a parent's children can skip it (:func:`is_discarded`). The widget is still
deleted later, never at once: a widget may be discarded from inside one of its own signals.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLayout, QWidget

_DISCARDED = "ponderDiscarded"


def discard(widget: QWidget, layout: QLayout | None = None) -> None:
    if layout is not None:
        layout.removeWidget(widget)
    widget.setProperty(_DISCARDED, True)
    widget.hide()
    widget.deleteLater()


def is_discarded(widget: QWidget, within: QWidget) -> bool:
    """True when ``widget`` or one of its parents up to ``within`` was discarded."""
    while widget is not None and widget is not within:
        if widget.property(_DISCARDED):
            return True
        widget = widget.parentWidget()
    return False
