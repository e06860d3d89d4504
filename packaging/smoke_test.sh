#!/usr/bin/env bash
# Smoke test of the BUILT app (not the source tree): `make package-test` and CI run it.
#
#     packaging/smoke_test.sh [dist/ponder/ponder]
#
# On a real display server: a fresh Xvfb with Qt's xcb platform, as a desktop session uses
# it (when Xvfb is installed, as in CI; otherwise on the offscreen platform, and it says so;
# QT_QPA_PLATFORM set by the caller wins). With PONDER_HOME in a fresh temporary folder it runs
#   1. `ponder --self-test`: window, bundled model, one answer through the full pipeline;
#      must exit 0 and print the "(packaged) self-test OK" line;
#   2. `ponder --startup-probe`: prints the start-to-window time;
#   3. on xcb, as root where mount namespaces are allowed: the start-up probe again with the
#      system's copies of the X11 libraries the app bundles hidden (bind-mounted over with
#      /dev/null in a private namespace), so the bundled copies must be the ones that load;
# and checks that the app wrote its config under PONDER_HOME. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${QT_QPA_PLATFORM:-}" ]; then
    if command -v Xvfb >/dev/null; then
        QT_QPA_PLATFORM=xcb exec packaging/xvfb.sh packaging/smoke_test.sh "$@"
    fi
    echo "smoke test: Xvfb is not installed, so on the offscreen platform (apt-get install xvfb for a real display)"
    export QT_QPA_PLATFORM=offscreen
fi

app="${1:-dist/ponder/ponder}"
if [ ! -x "$app" ]; then
    echo "smoke test: no built app at $app; run 'make package' first" >&2
    exit 2
fi
app="$(cd "$(dirname "$app")" && pwd)/$(basename "$app")"

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export PONDER_HOME="$home/ponder-home"
unset PYTHONPATH PYTHONHOME || true
cd "$home"  # nothing of the source tree is importable from here

status=0
timeout 300 "$app" --self-test >"$home/out" 2>"$home/err" || status=$?
if [ "$status" -ne 0 ] || ! grep -q "(packaged) self-test OK" "$home/out"; then
    echo "smoke test FAILED: $app --self-test exited $status" >&2
    cat "$home/out" >&2
    tail -n 40 "$home/err" >&2
    exit 1
fi
cat "$home/out"
echo "  on Qt platform $QT_QPA_PLATFORM${DISPLAY:+ (display $DISPLAY)}"

if [ ! -f "$PONDER_HOME/config/models.toml" ]; then
    echo "smoke test FAILED: the app did not create models.toml under PONDER_HOME ($PONDER_HOME)" >&2
    exit 1
fi

probe="$(timeout 60 "$app" --startup-probe 2>>"$home/err" | head -n 1)" || true
case "$probe" in
    "window ready after"*) echo "startup probe: $probe" ;;
    *) echo "smoke test FAILED: $app --startup-probe printed '$probe'" >&2; tail -n 40 "$home/err" >&2; exit 1 ;;
esac

if [ "$QT_QPA_PLATFORM" = xcb ] && [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
    mapfile -t hidden < <(
        for lib in "$(dirname "$app")"/_internal/lib{xcb,xkbcommon,X11,Xau,Xdmcp}*.so*; do
            for dir in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
                [ -e "$dir/$(basename "$lib")" ] && readlink -f "$dir/$(basename "$lib")"
            done
        done | sort -u)
    # shellcheck disable=SC2016
    probe="$(unshare -m --propagation private sh -c 'for f in "$@"; do [ "$f" = -- ] && break; mount --bind /dev/null "$f"; shift; done; shift; exec "$@"' \
        hide "${hidden[@]}" -- timeout 60 "$app" --startup-probe 2>>"$home/err" | head -n 1)" || true
    case "$probe" in
        "window ready after"*) echo "startup probe with the system's ${#hidden[@]} X11 libraries hidden: $probe" ;;
        *) echo "smoke test FAILED: with the system's X11 libraries hidden, $app --startup-probe printed '$probe'" >&2
           tail -n 40 "$home/err" >&2; exit 1 ;;
    esac
else
    echo "(not run: the start with the system's X11 libraries hidden needs xcb, root and mount namespaces)"
fi
echo "smoke test passed: $app"
