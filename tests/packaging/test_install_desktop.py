"""`make install-desktop` puts the menu entry and the icons where desktops look for them."""

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZES = (16, 32, 48, 64, 128, 256)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def fake_app(tmp_path: Path) -> Path:
    exe = tmp_path / "built app" / "ponder"  # a space in the path, as in real home folders
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def make_install_desktop(tmp_path: Path, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "MAKEFLAGS", "MAKELEVEL")}
    env.update(HOME=str(tmp_path / "home"), **env_vars)
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "install-desktop"],
                          capture_output=True, text=True, env=env, timeout=60)


def desktop_entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


def test_installs_desktop_file_and_icons_under_xdg_data_home(tmp_path):
    data_home = tmp_path / "xdg data"
    exe = fake_app(tmp_path)
    result = make_install_desktop(tmp_path, XDG_DATA_HOME=str(data_home), APP_EXE=str(exe))
    assert result.returncode == 0, result.stderr

    entry = desktop_entry(data_home / "applications" / "ponder.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "Ponder"
    assert entry["Exec"] == f'"{exe}"'  # quoted: the path has a space
    assert entry["TryExec"] == str(exe)
    assert entry["Icon"] == "ponder"
    assert entry["Terminal"] == "false"
    for size in SIZES:
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "ponder.png"
        assert png_size(icon) == (size, size)
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "ponder.svg").is_file()
    assert not (tmp_path / "home").exists(), "wrote to HOME although XDG_DATA_HOME was set"


def test_without_xdg_data_home_installs_under_home_local_share(tmp_path):
    exe = fake_app(tmp_path)
    result = make_install_desktop(tmp_path, APP_EXE=str(exe))
    assert result.returncode == 0, result.stderr
    share = tmp_path / "home" / ".local" / "share"
    assert desktop_entry(share / "applications" / "ponder.desktop")["Icon"] == "ponder"
    assert png_size(share / "icons" / "hicolor" / "48x48" / "apps" / "ponder.png") == (48, 48)


def test_refuses_when_the_app_is_not_built(tmp_path):
    data_home = tmp_path / "xdg"
    result = make_install_desktop(tmp_path, XDG_DATA_HOME=str(data_home), APP_EXE=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "make package" in result.stderr
    assert not data_home.exists()


def test_committed_icons_have_the_sizes_desktops_expect():
    icons = ROOT / "resources" / "icons"
    for size in SIZES:
        png = icons / f"ponder-{size}.png"
        assert png_size(png) == (size, size)
        assert png.stat().st_size < 16_000, f"{png.name} is larger than an icon needs to be"
