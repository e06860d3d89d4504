"""The layering contracts of pyproject.toml hold (import-linter), and can fail."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_domain_is_free_of_qt_and_layers_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


def test_contract_fails_when_domain_imports_qt(tmp_path):
    """A copy of the project whose domain imports PySide6 breaks the contract."""
    import shutil

    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "app" / "domain" / "leak.py").write_text("from PySide6 import QtCore\n")
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def test_contracts_fail_when_tools_import_qt_or_the_domain_imports_tools(tmp_path):
    """app.tools must not import PySide6 or app.ui; app.domain must not import app.tools."""
    import shutil

    for number, (leak, text, contract) in enumerate((
        ("tools/leak.py", "from PySide6 import QtCore\n", "Tool executors use no Qt and no UI BROKEN"),
        ("tools/leak.py", "import app.ui.format\n", "Tool executors use no Qt and no UI BROKEN"),
        ("domain/leak.py", "import app.tools.python_sandbox\n", "The domain does not import the tool executors BROKEN"),
    )):
        copy = tmp_path / str(number)
        shutil.copytree(ROOT / "app", copy / "app", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
        (copy / "app" / leak).write_text(text)
        result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=copy,
                                capture_output=True, text=True, timeout=120,
                                env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
        assert result.returncode != 0, leak
        assert contract in result.stdout, result.stdout
