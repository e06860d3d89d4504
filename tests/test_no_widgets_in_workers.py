"""Backends and controllers use QtCore only: no widget or GUI module imports."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
FORBIDDEN = ("PySide6.QtWidgets", "PySide6.QtGui")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_backends_and_controllers_import_no_widgets():
    offenders = {
        str(p.relative_to(APP)): sorted(n for n in _imports(p) if n.startswith(FORBIDDEN))
        for folder in ("backends", "controllers")
        for p in (APP / folder).rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}
