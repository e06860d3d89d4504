"""Ponder's identity for the desktop: application name, version, organisation, icon.

``apply_identity(app)`` is called once, right after the QApplication exists. The desktop
file name ("ponder") matches ``packaging/linux/ponder.desktop``, so Wayland compositors and
task bars group the window under the installed menu entry and show its icon.

No signals.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import paths
from app.version import __version__

APP_NAME = "Ponder"
ORGANIZATION = "Ponder"
DESKTOP_FILE = "ponder"  # ponder.desktop; also the icon name in the hicolor theme
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def icons_dir():
    """``resources/icons`` (inside the bundle when frozen)."""
    return paths.resources_dir() / "icons"


def app_icon() -> QIcon:
    """The app icon from the PNGs in resources/icons (null if they are missing)."""
    icon = QIcon()
    folder = icons_dir()
    for size in ICON_SIZES:
        png = folder / f"ponder-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    return icon


def apply_identity(app: QApplication) -> QIcon:
    """Set name, version, organisation, desktop file name and window icon; returns the icon."""
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    app.setDesktopFileName(DESKTOP_FILE)
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    return icon
