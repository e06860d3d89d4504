"""A test-only status channel: one JSON line on stderr per state change a user could see.

Off unless the environment variable ``PONDER_STATUS_CHANNEL`` is ``1`` (never set in normal
runs). The walkthrough (packaging/walkthrough.py) drives the app with real X input and
reads these lines to know when to act, where to click and what to assert. Each line is
``ponder-status {"event": "...", ...}``; rectangles are ``[x, y, width, height]`` in global
screen pixels, which is what xdotool takes. Events whose rectangles depend on a layout
being finished (``ready``, ``turn_finished``, ``panel_toggled``, ``window_shown``) are sent
once the rectangles stop moving.

Events:
    ready           {size, window_id, rect, composer, switcher, send, stop, chat, model_row}
    window_resized  {size}                            the main window changed size
    window_shown    {class, title, rect[, items]}     a window or popup appeared; for the
                                                      model list: items [{id, label, rect}]
    window_hidden   {class, title}
    model_loading   {model}       model_ready {model, seconds}      model_failed {model, message}
    model_chosen    {model}                           picked in the switcher
    busy            {busy}
    message_added   {role, text | model}
    message_state   {state: waiting | thinking | answering}   on each change while it streams
    turn_finished   {finish_reason, answer, error, panels, trace_button, origin}
    panel_toggled   {panels}      panels: [{expanded, header, header_rect, body_visible, visible}]
    task_hint       {visible, text, button}
    error           {text}                            the error banner appeared
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "PONDER_STATUS_CHANNEL"
PREFIX = "ponder-status "
STABLE_MS = 60  # a layout is settled when rectangles are the same two polls in a row
STABLE_MAX_POLLS = 40


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


def attach_if_enabled(window) -> StatusChannel | None:
    """Attach a channel to the main window when ``PONDER_STATUS_CHANNEL=1``; else do nothing."""
    return StatusChannel(window) if enabled() else None


def rect(widget: QWidget) -> list[int]:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


class StatusChannel(QObject):
    """Writes the window's and the chat session's state changes to stderr as JSON lines."""

    def __init__(self, window, stream=None):
        super().__init__(window)
        self.window = window
        # A duplicate of stderr's descriptor: llama-cpp-python points fd 2 at /dev/null while
        # it loads a model (on the worker thread), which would swallow lines written meanwhile.
        self.stream = stream or os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8")
        self._states: dict[int, str] = {}
        self._shown_once = False
        self._size = None
        s = window.session
        s.model_loading.connect(lambda mid: self.emit("model_loading", model=mid))
        s.model_ready.connect(lambda mid, secs: self.emit("model_ready", model=mid, seconds=round(secs, 3)))
        s.model_failed.connect(lambda mid, msg: self.emit("model_failed", model=mid, message=msg))
        s.busy_changed.connect(lambda busy: self.emit("busy", busy=busy))
        s.message_added.connect(self._on_added)
        s.message_changed.connect(self._on_changed)
        s.turn_finished.connect(self._on_finished)
        window.switcher.model_chosen.connect(lambda mid: self.emit("model_chosen", model=mid))
        window.chat.panel_toggled.connect(lambda m: self._when_stable("panel_toggled", lambda: self._panels(m)))
        QApplication.instance().installEventFilter(self)  # sees every widget's show, hide and resize

    # -- output ----------------------------------------------------------------------------
    def emit(self, event: str, **fields) -> None:
        self.stream.write(PREFIX + json.dumps({"event": event, **fields}, ensure_ascii=False) + "\n")
        self.stream.flush()

    def _when_stable(self, event: str, payload, polls: int = 0, last=None) -> None:
        """Emit ``event`` with ``payload()`` once two polls STABLE_MS apart give the same result."""
        current = payload()
        if current == last or polls >= STABLE_MAX_POLLS:
            self.emit(event, **current)
            return
        QTimer.singleShot(STABLE_MS, lambda: self._when_stable(event, payload, polls + 1, current))

    # -- session ---------------------------------------------------------------------------
    def _on_added(self, message) -> None:
        if message.role == "user":
            self.emit("message_added", role="user", text=message.text)
        else:
            self.emit("message_added", role=message.role, model=message.model_id)

    def _on_changed(self, message) -> None:
        if message.finished:
            return
        state = "thinking" if message.open_block is not None else ("answering" if message.answer else "waiting")
        if self._states.get(id(message)) != state:
            self._states[id(message)] = state
            self.emit("message_state", state=state, model=message.model_id)

    def _on_finished(self, message) -> None:
        self._states.pop(id(message), None)

        def payload():
            widget = self.window.chat.widget_for(message)
            shown = widget is not None
            return {
                "finish_reason": message.finish_reason, "error": message.error, "model": message.model_id,
                "answer": widget.answer_text() if shown else "",
                "origin": rect(widget.origin) if shown else None,
                "trace_button": rect(widget.trace_button) if shown and widget.trace_button.isVisible() else None,
                **self._panels(message),
            }

        self._when_stable("turn_finished", payload)

    def _panels(self, message) -> dict:
        widget = self.window.chat.widget_for(message)
        viewport = self.window.chat.viewport()
        top, bottom = viewport.mapToGlobal(QPoint(0, 0)).y(), viewport.mapToGlobal(QPoint(0, viewport.height())).y()
        panels = []
        for panel in widget.panels if widget is not None else []:
            r = rect(panel.header)
            panels.append({"expanded": panel.expanded, "header": panel.header.shown_text(), "header_rect": r,
                           "body_visible": panel.body.isVisible(), "visible": top <= r[1] and r[1] + r[3] <= bottom})
        return {"panels": panels}

    # -- widgets ---------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind not in (QEvent.Show, QEvent.Hide, QEvent.Resize):
            return False
        w = self.window
        if obj is w:
            self._on_main_window(kind)
        elif obj is w.task_hint and kind in (QEvent.Show, QEvent.Hide):
            shown = kind == QEvent.Show
            self._when_stable("task_hint", lambda: {"visible": shown, "text": w.task_hint.label.text(),
                                                    "button": rect(w.task_hint.button) if shown else None})
        elif obj is w.errors and kind == QEvent.Show:
            self.emit("error", text=w.errors.text())
        elif isinstance(obj, QWidget) and obj.isWindow() and kind != QEvent.Resize \
                and not obj.windowType() == Qt.ToolTip:
            self._on_other_window(obj, kind)
        return False

    def _on_main_window(self, kind) -> None:
        w = self.window
        if kind == QEvent.Show and not self._shown_once:
            self._shown_once = True
            self._size = (w.width(), w.height())

            def payload():
                row = w.switcher.parentWidget()
                return {"size": [w.width(), w.height()], "window_id": int(w.winId()), "rect": rect(w),
                        "composer": rect(w.composer.edit), "switcher": rect(w.switcher),
                        "send": rect(w.composer.send_button), "stop": rect(w.composer.stop_button),
                        "chat": rect(w.chat.viewport()), "model_row": rect(row) if row is not w else None}

            self._when_stable("ready", payload)
        elif kind == QEvent.Resize and self._shown_once and (w.width(), w.height()) != self._size:
            self._size = (w.width(), w.height())
            self.emit("window_resized", size=list(self._size))

    def _on_other_window(self, obj: QWidget, kind) -> None:
        if obj is self.window:
            return
        name = "model_list" if obj.isAncestorOf(self.window.switcher.view()) else type(obj).__name__
        if kind == QEvent.Hide:
            self.emit("window_hidden", **{"class": name, "title": obj.windowTitle()})
            return

        def payload():
            fields = {"class": name, "title": obj.windowTitle(), "rect": rect(obj)}
            if name == "model_list":
                fields["items"] = self._switcher_items()
            return fields

        self._when_stable("window_shown", payload)

    def _switcher_items(self) -> list[dict]:
        switcher = self.window.switcher
        view = switcher.view()
        items = []
        for row in range(switcher.count()):
            model_id = switcher.itemData(row, switcher.ID_ROLE)
            if not model_id:
                continue
            r = view.visualRect(view.model().index(row, 0))
            top_left = view.viewport().mapToGlobal(r.topLeft())
            items.append({"id": model_id, "label": switcher.itemText(row),
                          "rect": [top_left.x(), top_left.y(), r.width(), r.height()]})
        return items
