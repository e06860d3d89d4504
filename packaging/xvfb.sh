#!/usr/bin/env bash
# Runs a command on a fresh virtual X server (Xvfb) with DISPLAY set, then stops the server.
#
#     packaging/xvfb.sh COMMAND [ARGS...]        # e.g. QT_QPA_PLATFORM=xcb packaging/xvfb.sh dist/ponder/ponder
#
# The server takes the first free display number (-displayfd) and a 1280x1024 24-bit
# screen (XVFB_SCREEN overrides), so several can run side by side. No window manager runs:
# windows open at the top left, undecorated. Exits with the command's status.
set -euo pipefail
if ! command -v Xvfb >/dev/null; then
    echo "Xvfb is not installed (Debian/Ubuntu: apt-get install xvfb)" >&2
    exit 2
fi
dir="$(mktemp -d)"
Xvfb -displayfd 3 -screen 0 "${XVFB_SCREEN:-1280x1024x24}" -nolisten tcp 3>"$dir/display" 2>"$dir/log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 300); do  # up to 30 s on a loaded machine
    [ -s "$dir/display" ] && break
    kill -0 "$server" 2>/dev/null || { echo "Xvfb did not start:" >&2; cat "$dir/log" >&2; exit 2; }
    sleep 0.1
done
if [ ! -s "$dir/display" ]; then
    echo "Xvfb did not report its display within 30 s" >&2
    exit 2
fi
DISPLAY=":$(head -n 1 "$dir/display")"
export DISPLAY
status=0
"$@" || status=$?
exit "$status"
