"""The tools domain imports no Qt, no llama_cpp and nothing that does I/O (fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("PySide6", "llama_cpp", "qasync", "httpx", "sqlite3", "subprocess", "socket", "mcp")


def test_tools_modules_import_nothing_of_the_ui_the_backends_or_io():
    code = (
        "import sys\n"
        "import app.domain.tools\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
