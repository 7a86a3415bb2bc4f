#!/usr/bin/env bash
# Render each executed notebook to HTML with nbconvert and screenshot it with headless Chromium, so a
# person can look at the curriculum as a learner sees it. Not run in CI (Chromium is a big install:
# sudo apt-get install chromium).
#
#   scripts/screenshot_notebooks.sh                      # every notebooks/*.ipynb
#   scripts/screenshot_notebooks.sh notebooks/02_*.ipynb # some of them
#   OUT=/tmp/shots scripts/screenshot_notebooks.sh       # where to write (default build/screenshots)
#   WIDTHS=800 scripts/screenshot_notebooks.sh           # window widths in px (default "800 1200")
#
# For each notebook it writes NAME.html and, for each width W, NAME-W.png (the whole page) and
# NAME-W-01.png, NAME-W-02.png, ... (the page cut into screen-sized tiles, easier to read in a viewer).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v .venv/bin/python || command -v /work/venv/bin/python || command -v python3)}"
JUPYTER="$(dirname "$PYTHON")/jupyter"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
OUT="${OUT:-build/screenshots}"
WIDTHS="${WIDTHS:-800 1200}"
TALL="${TALL:-24000}"      # the page is screenshotted this tall, then trimmed and cut into tiles
TILE="${TILE:-1500}"

if [[ -z "$CHROMIUM" ]]; then
    echo "Chromium not found: sudo apt-get install chromium (or set CHROMIUM=/path/to/chrome)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [[ $# -eq 0 ]]; then
    set -- notebooks/[0-9][0-9]*_*.ipynb
fi

for notebook in "$@"; do
    name="$(basename "$notebook" .ipynb)"
    "$JUPYTER" nbconvert --to html --output-dir "$OUT" --log-level WARN "$notebook"
    for width in $WIDTHS; do
        shot="$OUT/$name-$width.png"
        profile="$(mktemp -d)"
        "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
            --hide-scrollbars --user-data-dir="$profile" --window-size="$width,$TALL" \
            --virtual-time-budget=5000 --screenshot="$shot" "file://$OUT/$name.html" \
            >/dev/null 2>&1
        rm -rf "$profile"
        # trim the white space below the page, then cut it into tiles
        "$PYTHON" - "$shot" "$TILE" "$TALL" <<'EOF'
import sys
from PIL import Image, ImageChops

path, tile, tall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
page = Image.open(path).convert("RGB")
box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
if box:
    page = page.crop((0, 0, page.width, min(page.height, box[3] + 20)))
page.save(path)
for i, top in enumerate(range(0, page.height, tile), 1):
    tile_path = path.replace(".png", f"-{i:02d}.png")
    page.crop((0, top, page.width, min(page.height, top + tile))).save(tile_path)
cut = "  (the page may be cut: raise TALL)" if page.height >= tall - 20 else ""
print(f"{path}: {page.height} px tall, {-(-page.height // tile)} tiles{cut}")
EOF
    done
done
