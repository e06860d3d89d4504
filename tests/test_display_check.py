"""The pre-QApplication check of the X11 libraries: which platform, what is missing, what to install."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.display_check import DISTRIBUTIONS, XCB_LIBRARIES, check_display_libraries, missing_libraries, qt_platform
from app.errors import MissingLibraryError

ROOT = Path(__file__).resolve().parents[1]
# the C and C++ runtimes and the libraries every Linux system with apt or dnf has
RUNTIME = ("libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "ld-linux", "libstdc++.so",
           "libgcc_s.so", "libz.so", "libzstd.so")


def _loader(missing):
    def load(soname):
        if soname in missing:
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
        return soname

    return load


@pytest.mark.parametrize("argv, environ, expected", [
    ([], {}, "xcb"),
    ([], {"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
    ([], {"QT_QPA_PLATFORM": "xcb:nograb"}, "xcb"),
    ([], {"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
    ([], {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
    ([], {"XDG_SESSION_TYPE": "wayland"}, "xcb"),  # no compositor to talk to: Qt falls back to X11
    ([], {"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "xcb"),
    (["-platform", "offscreen"], {"QT_QPA_PLATFORM": "xcb"}, "offscreen"),
])
def test_the_platform_qt_will_try_first(argv, environ, expected):
    assert qt_platform(argv, environ) == expected


def test_missing_libraries_are_named_with_their_packages():
    load = _loader({"libxcb-icccm.so.4", "libxcb-keysyms.so.1"})
    with pytest.raises(MissingLibraryError) as caught:
        check_display_libraries([], {"QT_QPA_PLATFORM": "xcb"}, load=load)
    error = caught.value
    assert error.libraries == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    text = str(error)
    assert "\n" not in text
    assert "libxcb-icccm.so.4 and libxcb-keysyms.so.1 are missing" in text
    assert "libxcb-icccm4 libxcb-keysyms1 (Debian/Ubuntu)" in text
    assert "xcb-util-wm xcb-util-keysyms (Fedora)" in text
    assert "xcb-util-wm xcb-util-keysyms (Arch)" in text
    assert "xcb-cursor0" not in text  # what Qt would have said


def test_one_package_is_named_once_for_several_libraries():
    load = _loader({"libglib-2.0.so.0", "libgthread-2.0.so.0"})
    with pytest.raises(MissingLibraryError) as caught:
        check_display_libraries([], {}, load=load)
    assert caught.value.packages["Debian/Ubuntu"] == ["libglib2.0-0"]


def test_nothing_is_checked_off_xcb():
    load = _loader(set(XCB_LIBRARIES))
    check_display_libraries([], {"QT_QPA_PLATFORM": "offscreen"}, load=load)
    check_display_libraries([], {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "w"}, load=load)
    assert missing_libraries(load) == list(XCB_LIBRARIES)


def test_every_library_has_a_package_for_each_distribution():
    for soname, packages in XCB_LIBRARIES.items():
        assert len(packages) == len(DISTRIBUTIONS) and all(packages), soname


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF and xcb: Linux only")
def test_the_table_covers_what_the_installed_xcb_plugin_links_to():
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6", qt / "lib" / "libQt6Gui.so.6"]
    needed = set()
    for path in files:
        with path.open("rb") as f:
            for section in ELFFile(f).iter_sections():
                if isinstance(section, DynamicSection):
                    needed |= {tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"}
    system = {name for name in needed if not name.startswith(("libQt6", "libicu")) and not name.startswith(RUNTIME)}
    assert "libxcb-icccm.so.4" in system  # the file was read
    assert system - set(XCB_LIBRARIES) == set()


def test_the_window_is_not_attempted_when_a_library_is_missing(tmp_path):
    """`ponder` with a library missing: one line, exit 1, and Qt's widgets never imported."""
    script = (
        "import ctypes, sys\n"
        "real = ctypes.CDLL\n"
        "def fake(name, *a, **k):\n"
        "    if name == 'libxcb-keysyms.so.1':\n"
        "        raise OSError(name)\n"
        "    return real(name, *a, **k)\n"
        "ctypes.CDLL = fake\n"
        "from app.main import main\n"
        "code = main([])\n"
        "print('widgets imported' if 'PySide6.QtWidgets' in sys.modules else 'no widgets', code)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PONDER_HOME": str(tmp_path)}
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "no widgets 1"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "libxcb-keysyms.so.1 is missing" in lines[0] and "libxcb-keysyms1 (Debian/Ubuntu)" in lines[0]
