#!/usr/bin/env bash
# Render each executed notebook to HTML with nbconvert and screenshot it with headless Chromium, so a
# person can look at the curriculum as a learner sees it. Not run in CI (Chromium is a big install:
# sudo apt-get install chromium).
#
#   scripts/screenshot_notebooks.sh                      # every notebooks/*.ipynb
#   scripts/screenshot_notebooks.sh notebooks/02_*.ipynb # some of them
#   OUT=/tmp/shots scripts/screenshot_notebooks.sh       # where to write (default build/screenshots)
#
# For each notebook it writes NAME.html, NAME.png (the whole page) and NAME-01.png, NAME-02.png, ...
# (the page cut into screen-sized tiles, easier to read in an image viewer).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v .venv/bin/python || command -v /work/venv/bin/python || command -v python3)}"
JUPYTER="$(dirname "$PYTHON")/jupyter"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
OUT="${OUT:-build/screenshots}"
WIDTH=1200
TALL="${TALL:-24000}"      # the page is screenshotted this tall, then trimmed and cut into tiles
TILE="${TILE:-1500}"

if [[ -z "$CHROMIUM" ]]; then
    echo "Chromium not found: sudo apt-get install chromium (or set CHROMIUM=/path/to/chrome)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [[ $# -eq 0 ]]; then
    set -- notebooks/[0-9][0-9]_*.ipynb
fi

for notebook in "$@"; do
    name="$(basename "$notebook" .ipynb)"
    # solution cells are collapsed in Jupyter (source_hidden): hide their source here too
    "$JUPYTER" nbconvert --to html --output-dir "$OUT" --log-level WARN \
        --TagRemovePreprocessor.enabled=True --TagRemovePreprocessor.remove_input_tags solution "$notebook"
    profile="$(mktemp -d)"
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --hide-scrollbars --user-data-dir="$profile" --window-size="$WIDTH,$TALL" \
        --virtual-time-budget=5000 --screenshot="$OUT/$name.png" "file://$OUT/$name.html" \
        >/dev/null 2>&1
    rm -rf "$profile"
    # trim the white space below the page, then cut it into tiles
    "$PYTHON" - "$OUT/$name.png" "$TILE" "$TALL" <<'EOF'
import sys
from PIL import Image, ImageChops

path, tile = sys.argv[1], int(sys.argv[2])
page = Image.open(path).convert("RGB")
box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
if box:
    page = page.crop((0, 0, page.width, min(page.height, box[3] + 20)))
page.save(path)
for i, top in enumerate(range(0, page.height, tile), 1):
    page.crop((0, top, page.width, min(page.height, top + tile))).save(path.replace(".png", f"-{i:02d}.png"))
height = page.height
print(f"{path}: {height} px tall, {-(-height // tile)} tiles" + ("  (the page may be cut: raise TALL)" if height >= int(sys.argv[3]) - 20 else ""))
EOF
done
