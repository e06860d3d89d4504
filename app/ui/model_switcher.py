"""The model dropdown, grouped by role (Instruct · Reasoning · Cloud).

Each entry shows the model's label and a hint (what it needs before it can be used).
Group headings are not selectable.

Signals:
    model_chosen(str model_id)
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from app.domain.profiles import ModelProfile, ModelsConfig
from app.ui.plain import plain_tooltip

ROLE_TITLES = (("instruct", "Instruct"), ("reasoning", "Reasoning"), ("cloud", "Cloud"))
ID_ROLE = Qt.UserRole + 1


ROLE_GLYPHS = {"instruct": ("I", "#5b8def"), "reasoning": ("R", "#7e57c2"), "cloud": ("C", "#8c96a3")}


def role_icon(role: str) -> QIcon:
    """A small round badge with the role's letter and colour."""
    letter, colour = ROLE_GLYPHS.get(role, ("?", "#999999"))
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(QRectF(2, 2, 28, 28))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(17)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, 32, 32), Qt.AlignCenter, letter)
    painter.end()
    return QIcon(pixmap)


def hint_for(profile: ModelProfile) -> str:
    if profile.is_cloud:
        if not profile.enabled:
            local = (profile.base_url or "").startswith(("http://127.0.0.1", "http://localhost"))
            return "confirm the server first" if local else "needs API key"
        from app.backends.cloud.keys import find_key, key_optional  # keyring: imported only if needed

        if not key_optional(profile) and not find_key(profile):
            return "needs API key"
        return profile.host if profile.base_url else ""
    if profile.path and profile.path.startswith("bundled:"):
        return "bundled"
    return ""


def _without_repeat(hint: str, label: str) -> str:
    """The hint less a first part the label already says ("… (bundled)  —  bundled · fits")."""
    first, _, rest = hint.partition(" · ")
    return rest if rest and first.lower() in label.lower() else hint


class ModelSwitcher(QComboBox):
    """A combo box of the configured models; disabled entries cannot be chosen."""

    model_chosen = Signal(str)
    ID_ROLE = ID_ROLE

    def __init__(self, config: ModelsConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelSwitcher")
        self.setMinimumContentsLength(28)
        self._items = QStandardItemModel(self)
        self.setModel(self._items)
        self._hints: dict[str, str] = {}
        self._icons = {role: role_icon(role) for role, _ in ROLE_TITLES}
        self.set_config(config)
        self.activated.connect(self._on_activated)

    def set_config(self, config: ModelsConfig) -> None:
        self._config = config
        self._items.clear()
        for role, title in ROLE_TITLES:
            members = [m for m in config.models if m.role == role]
            if not members:
                continue
            heading = QStandardItem(title)
            heading.setFlags(Qt.NoItemFlags)
            self._items.appendRow(heading)
            for profile in members:
                hint = _without_repeat(self._hints.get(profile.id) or hint_for(profile), profile.label)
                item = QStandardItem(self._icons[role], f"{profile.label}" + (f"  —  {hint}" if hint else ""))
                item.setData(profile.id, ID_ROLE)
                item.setToolTip(plain_tooltip(f"{profile.id} · {profile.backend}"))
                usable = profile.enabled
                item.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled if usable else Qt.NoItemFlags)
                self._items.appendRow(item)
        self.select(config.default)

    def set_hint(self, model_id: str, hint: str) -> None:
        """Show ``hint`` (size, fit verdict…) next to the model's label."""
        self._hints[model_id] = hint
        current = self.current_id()
        self.set_config(self._config)
        if current:
            self.select(current)

    def ids(self) -> list[str]:
        return [self._items.item(r).data(ID_ROLE) for r in range(self._items.rowCount())
                if self._items.item(r).data(ID_ROLE)]

    def current_id(self) -> str | None:
        return self.currentData(ID_ROLE)

    def select(self, model_id: str) -> None:
        for row in range(self._items.rowCount()):
            if self._items.item(row).data(ID_ROLE) == model_id:
                self.setCurrentIndex(row)
                return

    def _on_activated(self, row: int) -> None:
        model_id = self._items.item(row).data(ID_ROLE)
        if model_id:
            self.model_chosen.emit(model_id)
