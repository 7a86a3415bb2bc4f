"""nn.live.LiveView: one Jupyter display updated in place (checked by running a notebook with
nbclient), a text fallback elsewhere, and a final picture that depends only on the final state."""

import base64
import os
from pathlib import Path

import pytest

from nn import MLP, Linear, ReLU, Sequential, fit, optim, predict
from nn.data import make_moons, to_pm1
from nn.train.live import LiveView, _outputs
from tests.helpers import REPO

ROOT = REPO

TRAIN = """\
import nn
from nn.train.live import LiveView
X, y = nn.data.make_moons(40, noise=0.1, seed=0)
y = nn.data.to_pm1(y)
model = nn.MLP(2, [8, 1], seed=0)
view = LiveView(X, y, every=5, steps=20)
opt = nn.optim.SGD(model.parameters(), lr=0.3)
h = nn.fit(model, X, y, loss="hinge", optimizer=opt, steps=20, callbacks=[view], progress=False)
print("frames", view.frames)
"""


def _moons(n=40, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, to_pm1(y)


def _train(view, steps=20):
    X, y = _moons()
    model = MLP(2, [8, 1], seed=0)
    return fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.3),
               steps=steps, callbacks=[view], progress=False)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The TRAIN cell run in a real kernel: (the executed notebook, every iopub message seen)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")

    class Recording(nbclient.NotebookClient):
        def process_message(self, msg, cell, cell_index):
            self.messages.append(msg)
            return super().process_message(msg, cell, cell_index)

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(TRAIN))
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env_path]))
    try:
        client = Recording(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path_factory.mktemp("live"))}})
        client.messages = []
        client.execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    return nb, client.messages


@pytest.mark.slow
def test_live_view_in_jupyter_is_one_display_updated_in_place(executed):
    nb, messages = executed
    outputs = nb.cells[0].outputs
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 1, f"{len(images)} pictures saved, expected one updated in place"
    kinds = [m["msg_type"] for m in messages]
    assert kinds.count("display_data") == 1, kinds
    assert kinds.count("update_display_data") == 5, f"expected 4 redraws + the final one: {kinds}"
    assert "clear_output" not in kinds, "the view cleared the cell's outputs"


@pytest.mark.slow
def test_live_view_in_jupyter_saves_the_final_frame(executed):
    nb, messages = executed
    frames = [m["content"]["data"]["image/png"] for m in messages
              if m["msg_type"] in ("display_data", "update_display_data")]
    saved = next(out for out in nb.cells[0].outputs if "image/png" in out.get("data", {}))
    assert saved.data["image/png"] == frames[-1], "the saved picture is not the last update"
    assert frames[0] != frames[-1], "the picture never changed during training"
    assert saved.data["text/plain"].startswith("Live training view: step 20 of 20, loss "), (
        saved.data["text/plain"])


@pytest.mark.slow
def test_live_view_saved_picture_has_alt_text_describing_it(executed):
    nb, _ = executed
    saved = next(out for out in nb.cells[0].outputs if "image/png" in out.get("data", {}))
    page = saved.data.get("text/html", "")
    assert f'src="data:image/png;base64,{saved.data["image/png"]}"' in page, page[:120]
    alt = page.split('alt="', 1)[1].split('"', 1)[0] if 'alt="' in page else ""
    assert alt.startswith("Live training view: step"), f"alt text: {alt!r}"


@pytest.mark.slow
def test_live_view_final_frame_depends_only_on_the_final_state(executed):
    nb, _ = executed
    saved = next(out for out in nb.cells[0].outputs if "image/png" in out.get("data", {}))
    view = LiveView(*_moons(), steps=20, mode="text", file=open(os.devnull, "w"))
    _train(view)  # same run in this process: no display, one redraw at the end
    assert base64.b64decode(saved.data["image/png"]) == view.render_png(), (
        "the kernel's final picture differs from the same run's picture drawn here")


def test_live_view_text_fallback_prints_every_k_steps_and_the_end(capsys):
    _train(LiveView(*_moons(), every=5, steps=20, mode="text"))
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "live: step 5 of 20", "live: step 10 of 20", "live: step 15 of 20", "live: step 20 of 20",
        "live (final): step 20 of 20"], lines


def test_live_view_outside_jupyter_defaults_to_text(capsys):
    history = _train(LiveView(interval=1e9))  # no redraw is due before the end
    err = capsys.readouterr().err
    assert err == f"live (final): step 20, loss {history.loss[-1]:.4f}, accuracy " \
                  f"{history.accuracy[-1]:.1%}\n", err


def test_live_view_picture_is_deterministic():
    views = [LiveView(*_moons(), steps=20, mode="text", file=open(os.devnull, "w")) for _ in "ab"]
    for view in views:
        _train(view)
    assert views[0].render_png() == views[1].render_png()


def test_live_view_draws_mlp_outputs_equal_to_predict():
    X, _ = _moons()
    model = MLP(2, [5, 4, 1], activation="tanh", seed=3)
    assert _outputs(model, X) == pytest.approx(predict(model, X), rel=1e-12, abs=1e-15)


def test_live_view_draws_other_models_through_predict():
    X, _ = _moons()
    model = Sequential(Linear(2, 3, seed=0), ReLU(), Linear(3, 2, seed=1))
    assert _outputs(model, X) == predict(model, X)


def test_live_view_boundary_needs_2d_inputs():
    with pytest.raises(ValueError, match="2-D inputs"):
        LiveView([[1.0], [2.0]], [0, 1], boundary=True)
