"""nn.plots: each plot returns a labelled Figure; decision boundaries match the model over the data."""

import builtins
import os
import importlib

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from autograd_core import Value  # noqa: E402
from nn import Module, plots  # noqa: E402
from nn.train import History  # noqa: E402
from tests.helpers import REPO


class Linear2D(Module):
    """A fixed model: one output w . x, or several (one row of w per class)."""

    def __init__(self, rows):
        self.rows = rows

    def forward(self, x):
        outs = [Value(sum(w * v for w, v in zip(row, x))) for row in self.rows]
        return outs[0] if len(outs) == 1 else outs


def _history(val=True):
    h = History(step=[1, 2, 3], epoch=[0, 0, 0], loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0],
                lr=[0.3, 0.2, 0.1], loss_name="hinge_loss")
    if val:
        h.val_step, h.val_loss, h.val_accuracy = [1, 2, 3], [1.1, 0.7, 0.6], [0.5, 0.5, 0.75]
    return h


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_history_returns_a_figure_with_labelled_axes():
    fig = plots.plot_history(_history())
    assert isinstance(fig, matplotlib.figure.Figure), f"expected a Figure, got {type(fig).__name__}"
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 3, f"expected loss, accuracy and lr panels, got {titles}"
    for ax in fig.axes:
        assert ax.get_xlabel() == "step" and ax.get_ylabel(), f"panel {ax.get_title()!r} lacks axis labels"
        assert ax.get_legend() is not None, f"panel {ax.get_title()!r} lacks a legend"


def test_plot_history_draws_train_and_validation_curves():
    fig = plots.plot_history(_history())
    assert _legend_texts(fig.axes[0]) == ["train (per step)", "validation"], _legend_texts(fig.axes[0])


def test_plot_history_without_accuracy_or_schedule_is_one_panel():
    h = History(step=[1, 2], loss=[2.0, 1.0], lr=[0.1, 0.1])
    fig = plots.plot_history(h)
    assert len(fig.axes) == 1, f"regression at a constant lr needs only the loss panel, got {len(fig.axes)}"


def test_plot_history_uses_a_log_axis_when_the_loss_falls_100x():
    h = History(step=[1, 2, 3], loss=[10.0, 1.0, 0.01], lr=[0.1] * 3)
    ax = plots.plot_history(h).axes[0]
    assert ax.get_yscale() == "log", f"expected a log y axis, got {ax.get_yscale()}"


def test_plot_history_of_an_empty_history_says_to_train_first():
    with pytest.raises(ValueError, match="train with fit"):
        plots.plot_history(History())


def test_plot_decision_boundary_binary_counts_misclassified_points():
    X = [[-1.0, 0.0], [-0.5, 1.0], [0.5, 0.0], [1.0, -1.0], [0.8, 0.5]]
    y = [-1, -1, 1, 1, -1]  # the model predicts sign(x0): only the last point is wrong
    fig = plots.plot_decision_boundary(Linear2D([[1.0, 0.0]]), X, y, resolution=20)
    ax = fig.axes[0]
    texts = _legend_texts(ax)
    assert "misclassified (1)" in texts, f"legend {texts}"
    assert "decision boundary (output = 0)" in texts, f"legend {texts}"
    assert "accuracy 80.0%" in ax.get_title(), f"title {ax.get_title()!r}"
    assert ax.get_xlabel() and ax.get_ylabel(), "axes must be labelled"


def test_plot_decision_boundary_covers_all_the_data():
    X = [[-3.0, 2.0], [5.0, -1.0], [0.0, 7.0]]
    ax = plots.plot_decision_boundary(Linear2D([[1.0, 0.0]]), X, [0, 1, 1], resolution=10).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < -3.0 and x1 > 5.0 and y0 < -1.0 and y1 > 7.0, f"limits {(x0, x1, y0, y1)} miss a point"


def test_plot_decision_boundary_multiclass_uses_the_argmax():
    rows = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]  # class k wins where row k . x is largest
    X = [[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0], [2.0, 0.1]]
    fig = plots.plot_decision_boundary(Linear2D(rows), X, [0, 1, 2, 1], resolution=20)
    texts = _legend_texts(fig.axes[0])
    assert "misclassified (1)" in texts and "predicted class 2" in texts, f"legend {texts}"


def test_plot_decision_boundary_rejects_3d_inputs():
    with pytest.raises(ValueError, match="needs 2-D inputs"):
        plots.plot_decision_boundary(Linear2D([[1.0, 0.0, 0.0]]), [[0.0, 0.0, 0.0]], [0])


def test_plot_regression_draws_data_and_model():
    class Double(Module):
        def forward(self, x):
            return Value(2 * x[0])

    fig = plots.plot_regression(Double(), [[0.0], [1.0], [2.0]], [0.1, 2.0, 3.9], resolution=5)
    ax = fig.axes[0]
    assert _legend_texts(ax) == ["data", "model prediction"], _legend_texts(ax)
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == [2 * x for x in line.get_xdata()], "the curve is not the model"


def test_plot_saves_a_valid_png(tmp_path):
    path = tmp_path / "loss.png"
    plots.plot_history(_history()).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"


def test_plots_without_matplotlib_raise_the_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    fresh = importlib.reload(plots)  # nn.plots itself must import without matplotlib
    with pytest.raises(ImportError, match=r"pip install 'autograd-core\[notebooks\]'"):
        fresh.plot_history(_history())


# --- in Jupyter: each figure of a cell shown exactly once (issue 11, item 6) ------------------------

NOTEBOOK_CELLS = {
    "setup": ("%matplotlib inline\n"
              "from nn import MLP, optim\n"
              "from nn.data import make_moons, to_pm1\n"
              "import matplotlib.pyplot as plt\n"
              "from nn.plots import plot_decision_boundary, plot_history, plot_regression\n"
              "from nn.train import fit\n"
              "X, y = make_moons(20, noise=0.1, seed=0)\n"
              "y = to_pm1(y)\n"
              "m = MLP(2, [4, 1], seed=0)\n"
              "h = fit(m, X, y, loss='hinge', optimizer=optim.SGD(m.parameters(), lr=0.1),\n"
              "        steps=3, progress=False)"),
    "two plots": "plot_history(h); plot_decision_boundary(m, X, y)",
    "assigned": "fig = plot_history(h)",
    "last expression": "plot_decision_boundary(m, X, y)",
    "closed, shown again": "plt.close(fig)\nfig",
    "saved": "fig2 = plot_regression(MLP(1, [1], seed=0), [[0.0], [1.0]], [0.0, 1.0])\n"
             "fig2.savefig(PATH)",
}
EXPECTED_IMAGES = {"setup": 0, "two plots": 2, "assigned": 1, "last expression": 1,
                   "closed, shown again": 1, "saved": 1}


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory):
    """The cells above run in a real Jupyter kernel: {cell name: (outputs, saved file)}."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    folder = tmp_path_factory.mktemp("notebook")
    path = folder / "regression.png"
    cells = [nbformat.v4.new_code_cell(code.replace("PATH", repr(str(path))))
             for code in NOTEBOOK_CELLS.values()]
    notebook = nbformat.v4.new_notebook(cells=cells)
    repo = str(REPO)
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = repo + (os.pathsep + env_path if env_path else "")
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": repo}}).execute()
    finally:
        if env_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = env_path
    return dict(zip(NOTEBOOK_CELLS, (cell.outputs for cell in notebook.cells))), path


def _images(outputs) -> int:
    return sum("image/png" in output.get("data", {}) for output in outputs)


@pytest.mark.slow
@pytest.mark.parametrize("cell", list(NOTEBOOK_CELLS))
def test_plots_in_jupyter_show_each_figure_of_a_cell_once(executed_notebook, cell):
    outputs = executed_notebook[0][cell]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"cell {cell!r} failed: {errors}"
    assert _images(outputs) == EXPECTED_IMAGES[cell], \
        f"cell {cell!r}: expected {EXPECTED_IMAGES[cell]} images, got {_images(outputs)}: " \
        f"{[(o.output_type, sorted(o.get('data', {}))) for o in outputs]}"


@pytest.mark.slow
def test_plots_savefig_from_a_notebook_writes_the_file(executed_notebook):
    path = executed_notebook[1]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def test_plots_leave_the_figure_open_for_pyplot():
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plots.plot_history(_history())
    assert fig.number in plt.get_fignums(), "an open figure is what Jupyter shows at the cell's end"
    plots.close(fig)
    assert fig.number not in plt.get_fignums(), "close(fig) must close it"


@pytest.mark.slow
def test_plots_in_jupyter_keep_the_order_of_a_cell(executed_notebook):
    import base64
    import struct

    images = [base64.b64decode(o["data"]["image/png"]) for o in executed_notebook[0]["two plots"]
              if "image/png" in o.get("data", {})]
    sizes = [struct.unpack(">II", png[16:24]) for png in images]  # PNG header: width, height
    assert len(sizes) == 2 and sizes[0][0] > sizes[0][1] and sizes[1][0] < 1.3 * sizes[1][1], \
        f"expected the wide history first, then the squarer boundary, got sizes {sizes}"
