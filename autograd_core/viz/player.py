"""Playing backward's pictures: `play_frames` (an ipywidgets slider in a live kernel, else a
`StepsPlayer`: HTML with step buttons, a slider and arrow keys, and a still for untrusted
notebooks) and `save_gif`. The frames come from steps.py's `backward_steps`. Notebook 02 plays them.
"""

from __future__ import annotations

import base64
import io
from typing import Iterable

from .style import check_choice

def _svg(frame) -> str:
    """The frame as an <svg> element that shrinks to fit its output area (never wider than 100%)."""
    svg = frame.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and doctype so it can sit inside HTML
    return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


# The player's look; the classes are shared by every player on a page, so it needs no ids.
_PLAYER_CSS = (
    ".agc-player{outline:none}"
    ".agc-player:focus-visible{outline:1px dotted #999}"
    ".agc-player .agc-bar{font:12px sans-serif;margin:2px 0 4px}"
    ".agc-player .agc-slider{width:16em;vertical-align:middle}"
    ".agc-player button{min-width:2.2em;margin:1px;padding:1px 3px;border:1px solid #bbb;"
    "border-radius:3px;background:white;cursor:pointer;font:12px sans-serif}"
    ".agc-player button.agc-on{background:#d01c8b;border-color:#d01c8b;color:white}"
)

# Runs only where the notebook is trusted (or on a standalone page): it swaps the still for the
# player. Buttons, slider and arrow keys all go through show(k), so they can never disagree; keys
# are kept from Jupyter, where arrows would otherwise move the cell selection.
_PLAYER_JS = """(function (root) {
  var frames = root.querySelectorAll('.agc-frame'), buttons = root.querySelectorAll('.agc-step'),
      slider = root.querySelector('.agc-slider'), readout = root.querySelector('.agc-readout');
  function show(k) {  /* k: the step number, 1..n */
    k = Math.max(1, Math.min(frames.length, k));
    frames.forEach(function (f, i) { f.style.display = i === k - 1 ? 'block' : 'none'; });
    buttons.forEach(function (b, i) { b.classList.toggle('agc-on', i === k - 1); });
    slider.value = k;
    readout.textContent = 'step ' + k + ' of ' + frames.length;
  }
  buttons.forEach(function (b, i) { b.addEventListener('click', function () { show(i + 1); }); });
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  root.addEventListener('keydown', function (e) {
    var k = Number(slider.value),
        to = {ArrowRight: k + 1, ArrowDown: k + 1, ArrowLeft: k - 1, ArrowUp: k - 1,
              Home: 1, End: frames.length}[e.key];
    if (to === undefined) return;
    show(to);
    e.preventDefault();
    e.stopPropagation();
  });
  root.querySelector('.agc-still').style.display = 'none';
  root.querySelector('.agc-live').style.display = 'block';
  show(1);
})(document.currentScript.parentNode);"""


class StepsPlayer:
    """Frames rendered to SVG once; shows in Jupyter as HTML with step buttons and a slider.

    Where scripts run (a trusted notebook, a saved page) it is a player: buttons, slider and the
    arrow keys (click the player first) step through the frames. An untrusted notebook (one just
    opened, as it comes) runs no scripts: it shows the first frame as a still picture instead.
    """

    def __init__(self, frames: Iterable) -> None:
        self.svgs = [_svg(f) for f in frames]
        if not self.svgs:
            raise ValueError("play_frames: no frames to play; pass backward_steps(root) for some root "
                             "that was computed from other Values")

    def __len__(self) -> int:
        return len(self.svgs)

    def html(self) -> str:
        """A self-contained HTML fragment: a still of step 1, and the player that replaces it."""
        n = len(self.svgs)
        still = base64.b64encode(self.svgs[0].encode("utf-8")).decode("ascii")
        buttons = "".join(f'<button class="agc-step" title="step {i}">{i}</button>'
                          for i in range(1, n + 1))
        frames = "".join(f'<div class="agc-frame" style="display:none">{svg}</div>' for svg in self.svgs)
        return (f'<div class="agc-player" tabindex="0" data-lm-suppress-shortcuts="true">'
                f'<style>{_PLAYER_CSS}</style>'
                f'<div class="agc-still"><img src="data:image/svg+xml;base64,{still}" '
                f'alt="backward, step 1 of {n}" style="max-width:100%">'
                f'<p><i>Step 1 of {n}. Run this cell to step through all {n} (Jupyter runs no '
                f'scripts in a notebook it does not trust yet).</i></p></div>'
                f'<div class="agc-live" style="display:none"><div class="agc-bar">'
                f'<input class="agc-slider" type="range" min="1" max="{n}" value="1" '
                f'aria-label="step"> <span class="agc-readout">step 1 of {n}</span> {buttons}</div>'
                f'{frames}</div><script>{_PLAYER_JS}</script></div>')

    def _repr_html_(self) -> str:
        return self.html()

    def save_html(self, path: str) -> None:
        """Write a standalone page that plays the frames in any browser."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>backward, step by step'
                    f'</title></head><body>{self.html()}</body></html>')


def save_gif(frames: Iterable, path: str, seconds_per_frame: float = 1.5) -> None:
    """Write the frames as an animated GIF (needs Pillow: pip install pillow)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_gif needs Pillow: pip install pillow (or use play_frames(frames, "
                          "mode='html').save_html(path), which needs nothing)") from None
    images = [Image.open(io.BytesIO(f.pipe(format="png"))).convert("RGB") for f in frames]
    if not images:
        raise ValueError("save_gif: no frames to save")
    width, height = max(i.width for i in images), max(i.height for i in images)
    canvases = []
    for image in images:  # frames differ a little in size: pad them onto one white canvas
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(image, (0, 0))
        canvases.append(canvas)
    canvases[0].save(path, save_all=True, append_images=canvases[1:], loop=0,
                     duration=int(seconds_per_frame * 1000))


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def play_frames(frames: Iterable, *, mode: str = "auto", seconds_per_frame: float = 1.5):
    """Play frames (e.g. backward_steps(loss)): an ipywidgets slider with a Play button in a running
    Jupyter kernel when ipywidgets is installed, else a StepsPlayer (HTML with a slider).

    `mode="html"` always gives the StepsPlayer, which needs no kernel: a saved notebook keeps it
    (an untrusted one shows its first frame as a picture until the cell is run again);
    `mode="widget"` insists on ipywidgets. Frames shrink to fit the output area.
    """
    check_choice("play_frames", "mode", mode, ("auto", "widget", "html"))
    player = StepsPlayer(frames)
    if mode == "html" or (mode == "auto" and not _in_kernel()):
        return player
    try:
        import ipywidgets as widgets
    except ImportError:
        if mode == "widget":
            raise ImportError("play_frames(mode='widget') needs ipywidgets: pip install ipywidgets "
                              "(or use mode='html')") from None
        return player
    n, svgs = len(player), player.svgs
    view = widgets.HTML(svgs[0])
    slider = widgets.IntSlider(value=1, min=1, max=n, description="step")
    play = widgets.Play(value=1, min=1, max=n, interval=int(seconds_per_frame * 1000))
    widgets.jslink((play, "value"), (slider, "value"))
    slider.observe(lambda change: setattr(view, "value", svgs[change["new"] - 1]), names="value")
    return widgets.VBox([widgets.HBox([play, slider]), view])
