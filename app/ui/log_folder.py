"""Help → Open log folder: the folder of ponder.log in the system's file manager."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from app import logs, paths
from app.errors import FolderError


def open_log_folder() -> str | None:
    """Open the logs folder; None when done, else a sentence saying why it could not be."""
    try:
        folder = paths.logs_dir()
    except FolderError as exc:
        return str(exc)
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        logs.log.info("No file manager opened %s", folder)
        return f"No file manager could open the log folder; it is {folder}."
    return None
