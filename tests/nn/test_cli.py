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
from tests.helpers import REPO as _REPO

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


@pytest.mark.slow
def test_python_m_nn_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "--dataset" in result.stdout, result.stderr


# --- failing fast and stopping cleanly (issue 11, item 5), with real processes -----------------------

REPO = str(_REPO)
QUICK = ["--samples", "20", "--steps", "2", "--no-progress"]


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONUNBUFFERED="1")
    env.pop("MPLBACKEND", None)
    return env


def _cli(*argv, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nn", "train", *argv], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _refused_in_one_line(run: subprocess.CompletedProcess, *needles: str) -> None:
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, f"expected exit 2, got {run.returncode}: {run.stderr}"
    assert len(lines) == 1 and "Traceback" not in run.stderr, f"expected one line: {run.stderr!r}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from {lines[0]!r}"
    assert run.stdout == "", f"nothing should have been trained: {run.stdout!r}"


@pytest.mark.slow
def test_cli_out_under_a_regular_file_is_refused_before_training(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    _refused_in_one_line(_cli("--out", "file/run", *QUICK, cwd=tmp_path), "--out file/run")


@pytest.mark.slow
def test_cli_out_that_is_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    _refused_in_one_line(_cli("--out", "file", *QUICK, cwd=tmp_path), "--out file", "is a file")


@pytest.mark.slow
def test_cli_out_in_proc_is_refused_before_training(tmp_path):
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc on this system")
    _refused_in_one_line(_cli("--out", "/proc/autograd-core-run", *QUICK, cwd=tmp_path),
                         "--out /proc/autograd-core-run", "cannot write there")


@pytest.mark.parametrize("argv, needle", [
    (["--hidden", "100000,100000"], "layer widths must be at most 1000"),
    (["--samples", "100000000"], "from 2 to 100,000"),
    (["--hidden", "1000,1000"], "more than 1,000,000"),
    (["--samples", "100000", "--hidden", "64,64"], "--batch-size"),
    (["--classes", "5", "--dataset", "moons"], "--classes is for --dataset blobs or spiral"),
    (["--classes", "5", "--dataset", "sine"], "--classes is for --dataset blobs or spiral"),
])
@pytest.mark.slow
def test_cli_refuses_too_big_or_ignored_options_at_once(tmp_path, argv, needle):
    run = _cli(*argv, "--out", "run", cwd=tmp_path, timeout=60)
    assert run.returncode == 2 and needle in run.stderr, f"exit {run.returncode}: {run.stderr}"
    assert "Traceback" not in run.stderr and not (tmp_path / "run").exists(), run.stderr


@pytest.mark.slow
def test_cli_does_not_overwrite_a_folder_that_holds_files(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    run = _cli("--out", "demo", *QUICK, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "writing to demo-2 instead" in run.stderr, f"say where the run went: {run.stderr!r}"
    assert os.listdir(tmp_path / "demo") == ["notes.txt"], "the existing folder was written into"
    assert (tmp_path / "demo-2" / "metrics.json").exists(), os.listdir(tmp_path)


@pytest.mark.slow
def test_cli_overwrite_writes_into_the_existing_folder(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    run = _cli("--out", "demo", "--overwrite", *QUICK, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert {"notes.txt", "metrics.json", "model.json"} <= set(os.listdir(tmp_path / "demo"))
    assert not (tmp_path / "demo-2").exists()


@pytest.mark.slow
def test_cli_ctrl_c_stops_after_the_step_saves_and_exits_130(tmp_path):
    import signal
    import time

    process = subprocess.Popen([sys.executable, "-m", "nn", "train", "--out", "run", "--steps",
                                "100000", "--samples", "40", "--no-progress"], cwd=tmp_path,
                               env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()  # the description: training starts right after it
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, f"exit {process.returncode}: {stderr}"
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted") and "Traceback" not in stderr, stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    steps = len(metrics["history"]["loss"])
    assert metrics["interrupted"] is True and 0 < steps < 100000, (metrics["interrupted"], steps)
    assert metrics["final"]["steps"] == steps, metrics["final"]
    model = nn.load(tmp_path / "run" / "model.json")
    assert model.nouts == [16, 16, 1], f"the saved model did not load: {model!r}"


def test_cli_metrics_json_says_a_full_run_was_not_interrupted(default_run):
    metrics = json.loads((default_run[3] / "metrics.json").read_text())
    assert metrics["interrupted"] is False, metrics.get("interrupted")


def test_cli_uses_only_public_names_and_imports_at_the_top():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cli))
    nested = [node.lineno for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.ClassDef))
              for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))]
    private = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names if alias.name.startswith("_")]
    assert not nested, f"imports inside functions at lines {nested}"
    assert not private, f"private names imported: {private}"
