#!/usr/bin/env bash
# Checks report.html end to end: trains a small conditional run (2 epochs on 2,000 digits),
# evaluates it, runs a small sweep, then
#   1. the link check (always): every local file each report.html refers to exists, and the
#      page is not empty and shows images;
#   2. the browser check (only when headless Chromium is installed): renders the run page and
#      the sweep page to PNG screenshots and fails on a blank page.
# It installs nothing. To get Chromium on Debian/Ubuntu:  sudo apt-get install chromium
#
# usage: scripts/report-check.sh [--links-only] [--out DIR]
#   --links-only  skip the browser even when it is installed (what CI runs)
#   --out DIR     keep the runs and screenshots in DIR (default: a temporary folder, removed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

links_only=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --links-only) links_only=1 ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "== building gan"
cargo build -q -p gan-cli
gan="${CARGO_TARGET_DIR:-$root/target}/debug/gan"

echo "== a run, evaluated, and a sweep in $out"
"$gan" train --runs "$out" --name run --force --epochs 2 --limit 2000 --conditional \
  --data "$root/data/mnist" >/dev/null
"$gan" eval "$out/run" --n 500 --data "$root/data/mnist" >/dev/null
"$gan" sweep --runs "$out" --name sweep --force --lr 2e-4,2e-3 --epochs 2 --limit 512 \
  --latent 16 --no-eval --data "$root/data/mnist" >/dev/null
run_page=$("$gan" report "$out/run")
sweep_page=$("$gan" report "$out/sweep")

# Prints every local reference of an HTML page (src/href values that are not anchors or URLs),
# percent-decoded.
references() {
  grep -o -E '(src|href)="[^"]*"' "$1" | sed -E 's/^(src|href)="//; s/"$//' |
    grep -v -E '^(#|[a-z]+:)' | sed -E 's/[#?].*$//' | sort -u |
    while IFS= read -r ref; do printf '%b\n' "${ref//%/\\x}"; done
}

failed=0
for page in "$run_page" "$sweep_page"; do
  dir=$(dirname "$page")
  count=0
  while IFS= read -r ref; do
    count=$((count + 1))
    if [ ! -e "$dir/$ref" ]; then
      echo "MISSING: $page refers to $ref" >&2
      failed=1
    fi
  done < <(references "$page")
  images=$(grep -o '<img ' "$page" | wc -l)
  if [ ! -s "$page" ] || [ "$images" -lt 2 ]; then
    echo "EMPTY: $page shows $images images" >&2
    failed=1
  fi
  echo "links: $page: $count local references, $images images"
done
[ "$failed" = 0 ] || { echo "link check failed" >&2; exit 1; }
echo "link check passed"

[ "$links_only" = 1 ] && exit 0
browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null; then browser="$candidate"; break; fi
done
if [ -z "$browser" ]; then
  echo "browser check skipped: no headless Chromium found."
  echo "install it with:  sudo apt-get install chromium   (then run this script again)"
  exit 0
fi

echo "== screenshots with $browser"
for name in run sweep; do
  page="$out/$name/report.html"
  png="$out/$name-page.png"
  profile=$(mktemp -d)
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --hide-scrollbars --window-size=1280,2000 --screenshot="$png" "file://$page" \
    >/dev/null 2>&1 || true
  rm -rf "$profile"
  # A blank 1280x2000 page compresses to a few kilobytes; one with grids and charts does not.
  size=$(stat -c %s "$png" 2>/dev/null || echo 0)
  if [ "$size" -lt 40000 ]; then
    echo "BLANK: $png is $size bytes (no screenshot, or an empty page)" >&2
    failed=1
  else
    echo "screenshot: $png ($size bytes)"
  fi
done
[ "$failed" = 0 ] || { echo "browser check failed" >&2; exit 1; }
echo "browser check passed"
