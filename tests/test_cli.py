"""The demo command: `python -m nn train` end to end, --help, and argparse errors for bad arguments."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

import nn
from nn import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _can_draw() -> bool:
    try:
        import autograd_core.viz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default demo, run once (it takes a few seconds): (exit code, stdout, out folder)."""
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("demo")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["train", "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_cli_default_demo_exits_0_and_reaches_full_training_accuracy(default_run):
    code, stdout, stderr, out = default_run
    assert code == 0, f"exit code {code}; stderr: {stderr}"
    final = json.loads((out / "metrics.json").read_text())["final"]
    assert final["train_accuracy"] == 1.0, f"the reference demo must reach 100%, got {final}"
    assert "train accuracy 100.0%" in stdout, f"stdout: {stdout}"


def test_cli_default_demo_writes_every_file(default_run):
    out = default_run[3]
    expected = {"metrics.json", "model.json", "loss.png", "decision_boundary.png"}
    if _can_draw():
        expected.add("graph.svg")
    missing = expected - set(os.listdir(out))
    assert not missing, f"missing {sorted(missing)} in {sorted(os.listdir(out))}"


def test_cli_default_demo_pngs_are_valid_images(default_run):
    out = default_run[3]
    image = pytest.importorskip("matplotlib.image")
    for name in ("loss.png", "decision_boundary.png"):
        path = out / name
        assert path.read_bytes()[:8] == PNG_MAGIC, f"{name} is not a PNG"
        height, width = image.imread(path).shape[:2]
        assert width > 300 and height > 200, f"{name} is only {width}x{height} pixels"
        assert path.stat().st_size < 150_000, f"{name} is {path.stat().st_size} bytes; keep it < 150 KB"


def test_cli_default_demo_graph_is_svg(default_run):
    if not _can_draw():
        pytest.skip("graph.svg needs autograd_core.viz and Graphviz's `dot` program")
    text = (default_run[3] / "graph.svg").read_text()
    assert "<svg" in text and "x[0]" in text, "graph.svg should be an SVG showing the input x[0]"


def test_cli_model_json_loads_with_nn_load(default_run):
    out = default_run[3]
    model = nn.load(out / "model.json")
    assert type(model).__name__ == "MLP" and model.nouts == [16, 16, 1], f"got {model!r}"


def test_cli_metrics_json_holds_config_history_and_final(default_run):
    metrics = json.loads((default_run[3] / "metrics.json").read_text())
    assert metrics["config"]["loss"] == "hinge" and metrics["config"]["lr"] == 1.0, metrics["config"]
    assert len(metrics["history"]["loss"]) == 100, "one loss per step"
    lr = metrics["history"]["lr"]
    assert lr[0] == 1.0 and abs(lr[-1] - 0.109) < 1e-9, f"linear 1.0 -> 0.1: first {lr[0]}, last {lr[-1]}"


def test_cli_spiral_with_validation_and_early_stopping(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code = cli.main(["train", "--dataset", "spiral", "--samples", "30", "--steps", "4",
                     "--val-split", "0.3", "--patience", "2", "--batch-size", "8",
                     "--no-progress", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert {"val_loss", "val_accuracy"} <= set(final), f"final figures: {final}"


def test_cli_sine_writes_a_regression_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code = cli.main(["train", "--dataset", "sine", "--samples", "20", "--steps", "3",
                     "--no-progress", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "regression.png").read_bytes()[:8] == PNG_MAGIC


def test_cli_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--samples", "--noise", "--hidden", "--activation", "--loss",
                   "--optimizer", "--lr", "--schedule", "--weight-decay", "--steps", "--batch-size",
                   "--val-split", "--seed", "--out"):
        assert option in out, f"{option} missing from --help"


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["--lr", "-1"], "expected a finite number > 0"),
    (["--hidden", "16,x"], "comma-separated layer widths"),
    (["--steps", "0"], "expected a whole number >= 1"),
    (["--val-split", "1.5"], "fraction in [0, 1)"),
    (["--dataset", "spiral", "--loss", "hinge"], "use --loss ce"),
    (["--patience", "3"], "also give --val-split"),
])
def test_cli_bad_argument_is_an_argparse_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, f"expected exit code 2, got {exit_info.value.code}"
    assert message in err and "Traceback" not in err, f"expected {message!r} in {err!r}"


def test_cli_without_a_command_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2 and "COMMAND" in capsys.readouterr().err


def test_python_m_nn_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "--dataset" in result.stdout, result.stderr
