"""End to end in a real browser: JupyterLab in headless Chromium (Playwright), as a student sees it.

Opens a shipped notebook as it comes (untrusted: its saved pictures must show), then runs
tests/e2e/jupyterlab_check.ipynb and reads the page: graph labels, the step player, the live
training view and diagnostics plots. Screenshots of each check go to runs/e2e-screenshots/.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
CHECK_NOTEBOOK = Path(__file__).with_name("jupyterlab_check.ipynb")
SHIPPED_NOTEBOOK = ROOT / "notebooks" / "02_chain_rule_and_backward.ipynb"
SCREENSHOTS = ROOT / "runs" / "e2e-screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "autograd-core-e2e"
RUN_TIMEOUT_S = 120   # a guard against a hung kernel, not a speed requirement


def _missing() -> str | None:
    """Why this machine cannot run the browser test, or None (CI installs all three)."""
    if not os.access(CHROMIUM, os.X_OK):
        return "Chromium is not installed (Debian: apt-get install chromium)"
    for module, package in (("jupyterlab", "jupyterlab"), ("playwright", "playwright")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install -e '.[e2e]')"
    return None


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


# --- the server, the browser and the two notebooks ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer within 60 s:\n{log.read_text()[-2000:]}")


def _write_check_notebook(folder: Path) -> None:
    """The check notebook without the cells whose `requires:<module>` is not there yet."""
    nb = nbformat.read(CHECK_NOTEBOOK, as_version=4)
    nb.cells = [cell for cell in nb.cells
                if all(_have(tag.split(":", 1)[1]) for tag in cell.metadata.get("tags", [])
                       if tag.startswith("requires:"))]
    nbformat.write(nb, folder / CHECK_NOTEBOOK.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, in a temp folder; stopped at the end, whatever happens."""
    home = tmp_path_factory.mktemp("jupyterlab")
    work = home / "notebooks"
    work.mkdir()
    shutil.copy(SHIPPED_NOTEBOOK, work)
    _write_check_notebook(work)
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)  # render every cell (no windowing): the checks read the whole page
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "get notified about news?" pop-up over the screenshots
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, log = _free_port(), home / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "JUPYTER_RUNTIME_DIR": str(home / "run")}
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend draws the plots
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}",
               "--LabApp.expose_app_in_browser=True"]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # its own process group, kernels included
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_server(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    print(f"\nbrowser test screenshots: {SCREENSHOTS}")


def _open(browser, server: str, name: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    workspace = re.sub(r"\W", "-", name)  # its own fresh workspace: this notebook alone on the page
    page.goto(f"{server}/lab/workspaces/{workspace}/tree/{urllib.parse.quote(name)}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && jupyterapp.shell.currentWidget"
                           " && jupyterapp.shell.currentWidget.sessionContext"
                           " && jupyterapp.shell.currentWidget.sessionContext.isReady", timeout=60_000)
    page.wait_for_timeout(500)  # let the saved outputs finish rendering
    return page


def _shoot(locator, name: str) -> str:
    path = SCREENSHOTS / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return str(path)


@pytest.fixture(scope="module")
def shipped(browser, server):
    """The shipped notebook opened as it comes: untrusted, nothing run."""
    page = _open(browser, server, SHIPPED_NOTEBOOK.name)
    yield page
    page.close()


# Records every picture the live view shows while its cell runs (the page keeps only the last).
_WATCH_LIVE = """cell => {
  window.__liveFrames = [];
  const note = () => cell.querySelectorAll('.jp-OutputArea-output img').forEach(img => {
    const frames = window.__liveFrames;
    if (img.src && frames[frames.length - 1] !== img.src) frames.push(img.src);
  });
  new MutationObserver(note).observe(cell, {subtree: true, childList: true, attributes: true});
}"""


def _code_cell(page, title: str):
    return page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=title).first


@pytest.fixture(scope="module")
def checked(browser, server):
    """The check notebook after Run All, with the pictures its live view showed on the way."""
    page = _open(browser, server, CHECK_NOTEBOOK.name)
    live = _code_cell(page, "# The live training view")
    if live.count():
        live.evaluate(_WATCH_LIVE)
    page.evaluate("() => { jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(
        """() => { const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                   return prompts.length && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)); }""",
        timeout=RUN_TIMEOUT_S * 1000, polling=200)
    page.wait_for_timeout(1000)  # widgets and images render after the kernel has answered
    page.live_frames = page.evaluate("() => window.__liveFrames || []")
    yield page
    page.close()


# --- a notebook as it comes ------------------------------------------------------------------------


def _saved_graph_count(path: Path) -> int:
    """Graphs saved as SVG outputs, or as <img alt=...> SVGs in HTML (notebooks/course.show)."""
    nb = nbformat.read(path, as_version=4)
    outs = [out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", [])]
    return sum("image/svg+xml" in data or '<img src="data:image/svg+xml' in
               data.get("text/html", "") for data in outs)


# a graph shows as the PNG beside a raw SVG output, or as course.show's <img> in an HTML output
_GRAPH_IMGS = ('.jp-OutputArea-output[data-mime-type="image/png"] img, '
               '.jp-OutputArea-output[data-mime-type="text/html"] img[alt]')


def test_jupyterlab_shipped_notebook_shows_its_graphs_before_running(shipped):
    expected = _saved_graph_count(SHIPPED_NOTEBOOK)
    shown = shipped.evaluate("""(selector) => [...document.querySelectorAll(selector)].filter(
        img => img.complete && img.naturalWidth > 0).length""", _GRAPH_IMGS)
    as_text = shipped.locator(".jp-OutputArea-output", has_text="<Graph:").count()
    shot = _shoot(shipped.locator(_GRAPH_IMGS).first, "1-untrusted-graph")
    assert shown >= expected and as_text == 0, (
        f"untrusted {SHIPPED_NOTEBOOK.name}: expected {expected} graph pictures, {shown} showed, "
        f"{as_text} shown as text instead (screenshot {shot})")


def test_jupyterlab_shipped_player_shows_a_still_before_running(shipped):
    player = shipped.locator(".agc-player").first
    still = player.locator(".agc-still img")
    loaded = still.evaluate("img => img.complete && img.naturalWidth > 0")
    live_hidden = player.locator(".agc-live").evaluate("el => getComputedStyle(el).display") == "none"
    shot = _shoot(player, "2-untrusted-player")
    assert loaded and live_hidden, (
        f"untrusted player: still picture loaded {loaded} (expected True), controls hidden "
        f"{live_hidden} (expected True); screenshot {shot}")


# --- the check notebook, run -------------------------------------------------------------------------


def _svg_texts(data_url: str) -> set:
    head, _, body = data_url.partition(",")
    svg = base64.b64decode(body).decode() if head.endswith(";base64") else urllib.parse.unquote(body)
    return {re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}


def test_jupyterlab_graph_svg_shows_the_node_labels(checked):
    output = _code_cell(checked, "# A small graph").locator(
        '.jp-OutputArea-output[data-mime-type="image/svg+xml"] img')
    shot = _shoot(output, "3-graph-svg")
    labels = _svg_texts(output.get_attribute("src")) & {"x1", "w1", "x2", "w2", "b", "o"}
    assert labels == {"x1", "w1", "x2", "w2", "b", "o"}, (
        f"the trusted graph should be an SVG with labels x1 w1 x2 w2 b o, found {sorted(labels)} "
        f"(screenshot {shot})")


def _player_state(player) -> dict:
    return player.evaluate("""root => ({
        slider: root.querySelector('.agc-slider').value,
        on: [...root.querySelectorAll('.agc-step')].findIndex(b => b.classList.contains('agc-on')) + 1,
        frame: [...root.querySelectorAll('.agc-frame')].findIndex(f => f.style.display !== 'none') + 1,
        active: [...document.querySelectorAll('.jp-Notebook .jp-Cell')].findIndex(
            c => c.classList.contains('jp-mod-active'))})""")


def test_jupyterlab_player_click_on_step_3_moves_the_slider(checked):
    player = _code_cell(checked, "# The HTML step player").locator(".agc-player")
    player.locator(".agc-step", has_text="3").click()
    state = _player_state(player)
    shot = _shoot(player, "4-player-step-3")
    assert (state["slider"], state["on"], state["frame"]) == ("3", 3, 3), (
        f"after clicking step 3: slider {state['slider']}, button {state['on']}, frame "
        f"{state['frame']} (expected 3, 3, 3; screenshot {shot})")


def test_jupyterlab_player_right_arrow_steps_and_keeps_the_cell(checked):
    player = _code_cell(checked, "# The HTML step player").locator(".agc-player")
    player.locator(".agc-step", has_text="3").click()
    before = _player_state(player)
    checked.keyboard.press("ArrowRight")
    after = _player_state(player)
    shot = _shoot(player, "5-player-arrow-step-4")
    assert (after["slider"], after["frame"], after["active"]) == ("4", 4, before["active"]), (
        f"ArrowRight from step 3: slider {after['slider']}, frame {after['frame']}, active cell "
        f"{before['active']} -> {after['active']} (expected 4, 4 and the same cell; screenshot {shot})")


def test_jupyterlab_player_slider_selects_the_button(checked):
    player = _code_cell(checked, "# The HTML step player").locator(".agc-player")
    player.locator(".agc-slider").evaluate(
        "s => { s.value = 2; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    state = _player_state(player)
    assert (state["on"], state["frame"]) == (2, 2), (
        f"slider moved to 2: button {state['on']}, frame {state['frame']} (expected 2, 2)")


def _fits(cell) -> list:
    """(picture width, output area width) for each SVG shown in the cell's output area."""
    return cell.evaluate("""cell => {
        const area = cell.querySelector('.jp-OutputArea-output');
        return [...cell.querySelectorAll('.jp-OutputArea-output svg')]
            .filter(svg => svg.getBoundingClientRect().width > 0)
            .map(svg => [svg.getBoundingClientRect().width, area.getBoundingClientRect().width]); }""")


@pytest.mark.parametrize("title", ["# The HTML step player", "# The widget step player"])
def test_jupyterlab_player_frame_fits_the_output_area(checked, title):
    cell = _code_cell(checked, title)
    sizes = _fits(cell)
    shot = _shoot(cell.locator(".jp-OutputArea"), "6-" + title.split()[2].lower() + "-player-fit")
    assert sizes and all(width <= area + 0.5 for width, area in sizes), (
        f"{title}: frame width vs output area width {sizes}; expected one frame, no wider "
        f"(screenshot {shot})")


def test_jupyterlab_widget_player_right_arrow_steps_and_keeps_the_cell(checked):
    cell = _code_cell(checked, "# The widget step player")
    handle = cell.locator("[role=slider]").first
    handle.click()
    active = "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].findIndex(" \
             "c => c.classList.contains('jp-mod-active'))"
    before = (cell.locator(".widget-readout").inner_text(), checked.evaluate(active))
    checked.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 5  # the readout follows the slider's model, a moment later
    while cell.locator(".widget-readout").inner_text() == before[0] and time.monotonic() < deadline:
        checked.wait_for_timeout(100)
    after = (cell.locator(".widget-readout").inner_text(), checked.evaluate(active))
    shot = _shoot(cell.locator(".jp-OutputArea"), "6-widget-player-arrow")
    assert after == (str(int(before[0]) + 1), before[1]), (
        f"ArrowRight on the widget slider: (step, active cell) {before} -> {after}; expected the "
        f"next step in the same cell (screenshot {shot})")


@pytest.mark.skipif(not _have("nn.train.live"), reason="nn.live (the live training view) is not in this "
                                                  "branch yet; its cell is left out of the run")
def test_jupyterlab_live_view_ends_on_a_new_picture(checked):
    frames = checked.live_frames
    shot = _shoot(_code_cell(checked, "# The live training view"), "7-live-view")
    assert len(frames) >= 2 and frames[-1] != frames[0], (
        f"the live view showed {len(set(frames))} distinct pictures; expected the last to differ "
        f"from the first (screenshot {shot})")


@pytest.mark.skipif(not _have("nn.train.diagnostics"), reason="nn.diagnostics is not in this branch yet; "
                                                         "its cell is left out of the run")
def test_jupyterlab_diagnostics_plots_appear(checked):
    cell = _code_cell(checked, "# Per-layer diagnostics")
    images = cell.locator('.jp-OutputArea-output[data-mime-type="image/png"] img').count()
    shot = _shoot(cell, "8-diagnostics")
    assert images >= 2, f"the diagnostics cell shows {images} plot images, expected 2 (screenshot {shot})"


def test_jupyterlab_no_cell_shows_an_error(checked):
    errors = checked.locator(".jp-OutputArea-output.jp-RenderedText").filter(
        has_text=re.compile(r"Traceback|Error\b")).all_inner_texts()
    _shoot(checked.locator(".jp-Notebook"), "9-whole-notebook")
    assert not errors, f"cells show errors: {[e[:300] for e in errors]}"
