"""The status bar's model line: loading (with elapsed time), ready, failed, generating.

Slots only; it has no signals.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from app.ui.elided_label import ElidedLabel


class ModelStatus(ElidedLabel):
    """Shows what the model is doing; ticks the elapsed time while loading (cut with "…"
    rather than widening the window when a model's name is long)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName("modelStatus")
        self._loading_since: float | None = None
        self._loading_label = ""
        self._tick = QTimer(self)
        self._tick.setInterval(100)
        self._tick.timeout.connect(self._show_loading)

    def loading(self, label: str) -> None:
        self._loading_label = label
        self._loading_since = time.monotonic()
        self._tick.start()
        self._show_loading()

    def ready(self, label: str, seconds: float) -> None:
        self._tick.stop()
        self._loading_since = None
        self.setText(f"{label} · ready (loaded in {seconds:.1f} s)")

    def failed(self, label: str, message: str) -> None:
        self._tick.stop()
        self._loading_since = None
        self.setText(f"{label} · could not load")
        self.setToolTip(message)

    def show_text(self, text: str) -> None:
        if self._loading_since is None:
            self.setText(text)

    @property
    def is_loading(self) -> bool:
        return self._loading_since is not None

    def _show_loading(self) -> None:
        if self._loading_since is not None:
            self.setText(f"Loading {self._loading_label}… {time.monotonic() - self._loading_since:.1f} s")
