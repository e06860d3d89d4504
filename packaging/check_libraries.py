"""After the build (Linux): every library the shipped Qt plugins link to resolves, from the bundle.

    python packaging/check_libraries.py dist/ponder

For every Qt plugin in the folder (the platform plugins xcb, wayland and offscreen, the xcb
GL integrations, input methods, the portal theme, the Wayland shell and decorations) it runs
``ldd`` the way the app's launcher sets up the process (``LD_LIBRARY_PATH`` = ``_internal``)
and fails when a library

- is not found at all, or
- is found outside the folder although PyInstaller bundles libraries like it: then a user
  without that library installed gets Qt's "could not load the Qt platform plugin" instead
  of a window (libxcb-icccm and libxcb-keysyms were such libraries until the build
  installed them; see packaging/linux/apt-packages.txt).

Libraries that PyInstaller deliberately leaves to the system (glibc, the GL/EGL drivers,
libxcb itself, the Wayland client libraries a compositor's session always has) may come
from the build machine; they are listed in the summary line. Exits 1 with the offending
libraries on stderr, 0 otherwise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def resolved(path: Path, internal: Path) -> dict[str, str | None]:
    """soname -> the file ``ldd`` resolves it to (None: not found), with the launcher's search path."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=True).stdout
    found: dict[str, str | None] = {}
    for line in out.splitlines():
        match = _LINE.match(line)
        if match:
            found[match.group(1)] = None if match.group(2) == "not found" else match.group(2)
    return found


def left_to_the_system(soname: str) -> bool:
    """True for the libraries PyInstaller never bundles (glibc, GL drivers, libxcb, Wayland)."""
    from PyInstaller.depend import dylib

    return not dylib.include_library(soname)


def check(app_dir: Path) -> tuple[list[str], dict[str, str], int]:
    """(problems, system libraries used -> path, number of plugins checked)."""
    internal = (app_dir / "_internal").resolve()
    plugins = sorted((internal / "PySide6" / "Qt" / "plugins").rglob("*.so"))
    problems: list[str] = []
    system: dict[str, str] = {}
    for plugin in plugins:
        name = plugin.relative_to(internal / "PySide6" / "Qt" / "plugins")
        for soname, where in resolved(plugin, internal).items():
            if where is None:
                problems.append(f"{name}: {soname} not found")
            elif not Path(where).resolve().is_relative_to(internal):
                if left_to_the_system(soname):
                    system[soname] = where
                else:
                    problems.append(f"{name}: {soname} comes from {where}, not from the app folder")
    return sorted(set(problems)), system, len(plugins)


def main(argv: list[str]) -> int:
    app_dir = Path(argv[1] if len(argv) > 1 else "dist/ponder")
    if not (app_dir / "_internal").is_dir():
        print(f"library check: no {app_dir}/_internal; build first", file=sys.stderr)
        return 2
    problems, system, n_plugins = check(app_dir)
    if problems:
        print(f"library check FAILED: {len(problems)} dependencies of the Qt plugins in {app_dir} would be "
              "missing on a machine without them (install their packages on the build machine, see "
              "packaging/linux/apt-packages.txt, and build again):", file=sys.stderr)
        print("\n".join("  " + p for p in problems), file=sys.stderr)
        return 1
    print(f"library check: the {n_plugins} Qt plugins' dependencies all resolve from {app_dir}, "
          f"except {len(system)} left to the system: {', '.join(sorted(system))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
