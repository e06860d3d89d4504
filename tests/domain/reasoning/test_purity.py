"""The reasoning domain imports neither Qt nor llama_cpp (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_reasoning_modules_import_no_qt_or_llama():
    code = (
        "import sys\n"
        "import app.domain.reasoning, app.domain.reasoning.benchmark, app.domain.chat_template\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'llama_cpp', 'qasync'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
