#!/usr/bin/env bash
# Renders the sample report (or a given report.html) in headless Chromium and saves a
# screenshot to look at. Not part of CI: it needs Debian's `chromium` package
# (apt-get install -y chromium).
#
#   scripts/check-report-render.sh                 # sample report -> /tmp/nstudent-report-check/
#   scripts/check-report-render.sh path/report.html [screenshot.png] [height]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v chromium >/dev/null || { echo "error: chromium is not installed (apt-get install -y chromium)" >&2; exit 2; }

out_dir=/tmp/nstudent-report-check
mkdir -p "$out_dir"
if [[ $# -ge 1 ]]; then
    html=$(realpath "$1")
else
    cargo run -q --release -p nstudent-report --example sample_report -- "$out_dir"
    html="$out_dir/report.html"
fi
png=${2:-$out_dir/report.png}
height=${3:-9000}

# The report must be self-contained: no URL other than its own anchors and the SVG namespace.
if grep -oE '(src|href)="(https?:)?//[^"]*"' "$html" | grep -v 'http://www.w3.org/2000/svg'; then
    echo "error: $html references external resources" >&2
    exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$png" \
    --window-size=1400,"$height" "file://$html" 2>"$out_dir/chromium.log" || {
    echo "error: chromium failed; see $out_dir/chromium.log" >&2
    exit 1
}
echo "screenshot: $png (1400x$height); open it and look at every section"
