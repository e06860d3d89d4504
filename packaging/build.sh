#!/usr/bin/env bash
# Builds the one-folder app for this platform with PyInstaller (packaging/ponder.spec).
#
#     packaging/build.sh                 # uses .venv/bin/python (make package creates it)
#     PYTHON=/path/to/python packaging/build.sh
#
# Output: dist/ponder/ponder (+ dist/Ponder.app on macOS). Prints the build time and size and,
# on Linux, checks that the Qt plugins' libraries all resolve (packaging/check_libraries.py).
# Work files go to build/pyinstaller/; both folders are replaced on every build.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "PyInstaller is missing: run 'make package' or '$PYTHON -m pip install -e .[package]'" >&2
    exit 2
fi

# Linux: Qt's xcb platform plugin links to X11 libraries that PyInstaller can bundle only if
# they are installed here (packaging/linux/apt-packages.txt); on Debian/Ubuntu, as root,
# they are installed now. Elsewhere the library check after the build says what is missing.
if [ "$(uname -s)" = Linux ] && command -v dpkg-query >/dev/null; then
    missing=()
    for package in $(sed -e 's/#.*//' packaging/linux/apt-packages.txt); do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing the libraries to bundle: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
                || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
        else
            echo "warning: not installed, so not bundled: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        fi
    fi
fi

start=$(date +%s)
# PyInstaller's isolated subprocesses import Qt; give them a platform that needs no display.
QT_QPA_PLATFORM=offscreen "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/ponder.spec
seconds=$(( $(date +%s) - start ))

app_dir=dist/ponder
if [ ! -x "$app_dir/ponder" ] && [ ! -x "$app_dir/ponder.exe" ]; then
    echo "build failed: no executable in $app_dir" >&2
    exit 1
fi
# Linux: Python builds such as pyenv's ship libpython and its extension modules with debug
# symbols (~25 MB); drop them. Only these files: wheels' libraries (Qt, numpy) are left as
# they are, since stripping libraries patched by auditwheel can break them.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null; then
    find "$app_dir/_internal" -maxdepth 1 -type f -name 'libpython*.so*' -exec strip --strip-debug {} +
    find "$app_dir/_internal" -path '*/lib-dynload/*.so' -type f -exec strip --strip-debug {} +
fi

size=$(du -sh "$app_dir" | cut -f1)
echo "built $app_dir in ${seconds} s, size ${size}"
# Linux: every dependency of the Qt plugins shipped must resolve from the folder (or be one
# PyInstaller leaves to the system: glibc, GL drivers, libxcb, Wayland client libraries).
if [ "$(uname -s)" = Linux ]; then
    "$PYTHON" packaging/check_libraries.py "$app_dir"
fi
