"""Before the window opens: are the system libraries Qt's X11 (xcb) platform plugin needs there?

When Qt's xcb plugin cannot be loaded, Qt always says that ``xcb-cursor0`` is needed,
whatever is really missing, and aborts. On minimal installs, WSL and many containers the
missing ones are usually ``libxcb-icccm4`` and ``libxcb-keysyms1``. So before it creates
the QApplication, Ponder checks the libraries itself when Qt will use xcb, and says in one
line which are missing and which packages provide them (Debian/Ubuntu, Fedora, Arch).

:data:`XCB_LIBRARIES` is every library outside Qt that the xcb plugin, ``libQt6XcbQpa``
and ``libQt6Gui`` link to, apart from the C and C++ runtimes (tests/test_display_check.py
reads the installed plugin's ELF headers to keep the table complete). Each one is looked
up with ``dlopen`` (:mod:`ctypes`), as the dynamic linker will look it up a moment later;
the packaged app finds the copies it bundles the same way. The check takes about
10 ms and does nothing on other platforms or when Qt will use Wayland or offscreen.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from app.errors import MissingLibraryError

# soname -> package that provides it on (Debian/Ubuntu, Fedora, Arch)
XCB_LIBRARIES: dict[str, tuple[str, str, str]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
}
DISTRIBUTIONS = ("Debian/Ubuntu", "Fedora", "Arch")


def qt_platform(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """The platform plugin Qt will try first: ``-platform``, ``QT_QPA_PLATFORM``, else the session's."""
    environ = os.environ if environ is None else environ
    args = list(argv)
    for i, arg in enumerate(args[:-1]):
        if arg in ("-platform", "--platform"):
            return args[i + 1].split(";")[0].split(":")[0].strip()
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip()
    if environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def missing_libraries(load: Callable[[str], object] | None = None) -> list[str]:
    """The sonames of :data:`XCB_LIBRARIES` that ``load`` (default: dlopen) cannot find."""
    load = load or ctypes.CDLL
    missing = []
    for soname in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def check_display_libraries(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                            load: Callable[[str], object] | None = None) -> None:
    """Raise :class:`MissingLibraryError` if Qt will use xcb and a library it needs is missing."""
    if not sys.platform.startswith("linux") or qt_platform(argv, environ) != "xcb":
        return
    missing = missing_libraries(load)
    if missing:
        raise MissingLibraryError(missing, _packages(missing))


def _packages(missing: Sequence[str]) -> dict[str, list[str]]:
    """Distribution name -> the packages to install, in table order, without repeats."""
    return {distribution: list(dict.fromkeys(XCB_LIBRARIES[soname][i] for soname in missing))
            for i, distribution in enumerate(DISTRIBUTIONS)}
