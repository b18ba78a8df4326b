#!/bin/sh
# make screenshot: the demo store (samples/demo.sh, in a temporary
# directory), its HTML report for October 2026, and doc/report.png, the
# top of that page as headless Chromium draws it at 1000 pixels wide.
cd "$(dirname "$0")/.." || exit 1
top=$PWD
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nudge-shot.XXXXXX") || exit 73
trap 'rm -rf "$tmp"' EXIT
NUDGE_DEMO_DIR="$tmp/demo" sh samples/demo.sh >/dev/null || exit $?
NUDGE_CONFIG="$top/samples/config.yaml" NUDGE_DB="$tmp/demo/nudge.db" \
    ./nudge report --format html --since 2026-10-01 --until 2026-11-02 \
    >"$tmp/report.html" || exit $?
chromium=$(command -v chromium || command -v chromium-browser) || {
	echo "screenshot: chromium is not installed (make deps)" >&2; exit 69; }
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/chr" --window-size=1000,1500 \
    --screenshot="$top/doc/report.png" "file://$tmp/report.html" \
    >/dev/null 2>&1 || exit 70
echo "doc/report.png: $(wc -c <"$top/doc/report.png") bytes"
