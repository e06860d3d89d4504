#!/usr/bin/env bash
# Smoke test of the BUILT app (not the source tree): `make package-test` and CI run it.
#
#     packaging/smoke_test.sh [dist/ponder/ponder]
#
# With PONDER_HOME in a fresh temporary folder and the offscreen Qt platform, it runs
#   1. `ponder --self-test`: window, bundled model, one answer through the full pipeline;
#      must exit 0 and print the "(packaged) self-test OK" line;
#   2. `ponder --startup-probe`: prints the start-to-window time;
# and checks that the app wrote its config under PONDER_HOME. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

app="${1:-dist/ponder/ponder}"
if [ ! -x "$app" ]; then
    echo "smoke test: no built app at $app; run 'make package' first" >&2
    exit 2
fi
app="$(cd "$(dirname "$app")" && pwd)/$(basename "$app")"

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export PONDER_HOME="$home/ponder-home"
export QT_QPA_PLATFORM=offscreen
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

if [ ! -f "$PONDER_HOME/config/models.toml" ]; then
    echo "smoke test FAILED: the app did not create models.toml under PONDER_HOME ($PONDER_HOME)" >&2
    exit 1
fi

probe="$(timeout 60 "$app" --startup-probe 2>>"$home/err" | head -n 1)" || true
case "$probe" in
    "window ready after"*) echo "startup probe: $probe" ;;
    *) echo "smoke test FAILED: $app --startup-probe printed '$probe'" >&2; tail -n 40 "$home/err" >&2; exit 1 ;;
esac
echo "smoke test passed: $app"
