"""Renders Ponder's app icon (resources/icons/ponder.svg) to the PNG sizes desktops expect.

    .venv/bin/python packaging/make_icons.py            # writes resources/icons/ponder-<size>.png

Run it after editing the SVG and commit the PNGs. It uses QtSvg, so it needs no display
(the offscreen platform is used when none is set).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, size: int):
    """The SVG drawn into a transparent ``size`` x ``size`` QImage, antialiased."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG file")
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main(folder: Path = ICONS) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage needs it for fonts)
    svg = folder / "ponder.svg"
    written = []
    for size in SIZES:
        out = folder / f"ponder-{size}.png"
        if not render(svg, size).save(str(out), "PNG", 0):  # quality 0 = strongest compression
            raise SystemExit(f"could not write {out}")
        written.append(out)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else ICONS):
        print(f"{path}  {path.stat().st_size} bytes")
