"""The command line: `python -m nn train` (or `autograd-core train`) trains a small MLP end to end.

Makes a toy dataset, trains with a progress bar, prints the result, and writes metrics.json, model.json,
loss.png, decision_boundary.png (regression.png for --dataset sine) and graph.svg into --out.
The defaults are micrograd's demo: moons, MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2, SGD lr 1.0 -> 0.1.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import signal
import sys
import tempfile
import threading
import time
import warnings

from . import data, optim, plots, schedulers
from .drawing import draw_loss_graph
from .layers import MLP
from .serialization import write_json_atomic
from .train import EarlyStopping, evaluate, fit, loss_function
from .validation import integer, non_negative, positive, positive_int, real

try:  # optional: without matplotlib the run skips its pictures
    import matplotlib
except ImportError:
    matplotlib = None

PROG = "autograd-core"
DATASETS = ("moons", "circles", "blobs", "spiral", "xor", "sine")
BINARY = ("moons", "circles", "xor")
MULTICLASS = ("blobs", "spiral")
DEFAULT_NOISE = {"moons": 0.1, "circles": 0.05, "blobs": 0.5, "spiral": 0.2, "xor": 0.1, "sine": 0.1}
DEFAULT_LR = {"sgd": 1.0, "adam": 0.01, "adamw": 0.01}
# Sizes past which a scalar engine needs minutes per step and gigabytes of memory: refused up front.
MAX_SAMPLES = 100_000
MAX_WIDTH = 1_000
MAX_PARAMETERS = 1_000_000
MAX_STEP_SIZE = 10_000_000  # rows per step x parameters: about the number of graph edges per step


# --- argument types: each turns a string into a value or explains what it wants --------------------


def _argument_type(convert, check, expected: str):
    """An argparse type: `convert` the text, then `check` it (a function of nn.validation)."""
    def parse(text: str):
        try:
            return check("the value", convert(text))
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    parse.__name__ = expected  # argparse names the type in some messages
    return parse


def _sample_count(name: str, value: int) -> int:
    value = integer(name, value, minimum=2)
    if value > MAX_SAMPLES:  # each point makes a graph of Python objects every step
        raise ValueError(f"{name} must be at most {MAX_SAMPLES}, got {value}")
    return value


_positive_int = _argument_type(int, positive_int, "a whole number >= 1")
_samples = _argument_type(int, _sample_count, f"a whole number of points from 2 to {MAX_SAMPLES:,}")
_non_negative = _argument_type(float, non_negative, "a finite number >= 0")
_positive = _argument_type(float, positive, "a finite number > 0")
_fraction = _argument_type(float, lambda name, v: real(name, v, low=0.0, high=1.0, high_open=True),
                           "a fraction in [0, 1), e.g. 0.2")


def _hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none"):
        return []  # no hidden layer: a linear model
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 16,16, "
                                         f"got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be >= 1, got {text!r}")
    if any(n > MAX_WIDTH for n in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be at most {MAX_WIDTH} (every weight "
                                         f"is a Python object here), got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `autograd-core` / `python -m nn`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train a small neural network with autograd-core, from scratch, on a toy dataset.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train", help="train an MLP on a toy dataset and write metrics, model and plots",
        description="Train an MLP on a toy 2-D dataset (or a 1-D sine) and write metrics.json, "
                    "model.json, loss.png, decision_boundary.png and graph.svg. The defaults reproduce "
                    "micrograd's demo and reach 100% training accuracy.")
    train.set_defaults(parser=train)  # so that later checks report errors as `... train: error:`
    data = train.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default="moons",
                      help="toy dataset (default: %(default)s)")
    data.add_argument("--samples", type=_samples, default=100,
                      help=f"number of points, at most {MAX_SAMPLES:,} (default: %(default)s)")
    data.add_argument("--noise", type=_non_negative, default=None,
                      help="noise level (default per dataset: " + ", ".join(
                          f"{k} {v:g}" for k, v in DEFAULT_NOISE.items()) + ")")
    data.add_argument("--classes", type=_positive_int, default=None,
                      help="classes for blobs and spiral (default: 3; the other datasets have "
                           "2, or none for sine)")
    data.add_argument("--standardize", action="store_true",
                      help="standardize inputs with the training set's mean and std")
    data.add_argument("--val-split", type=_fraction, default=0.0,
                      help="fraction of points held out for validation (default: 0, train on all)")
    model = train.add_argument_group("model")
    model.add_argument("--hidden", type=_hidden, default=[16, 16], metavar="16,16",
                       help=f"hidden layer widths, comma-separated, each at most {MAX_WIDTH}; "
                            f"'none' for a linear model (default: 16,16)")
    model.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu"),
                       default="relu", help="activation of the hidden layers (default: %(default)s)")
    model.add_argument("--init", choices=("uniform", "torch"), default="uniform",
                       help="weight init: micrograd's U(-1, 1) with zero bias, or PyTorch's "
                            "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (default: %(default)s)")
    training = train.add_argument_group("training")
    training.add_argument("--loss", choices=("auto", "hinge", "bce", "ce", "mse"), default="auto",
                          help="hinge (max-margin), bce, ce (cross-entropy) or mse; default auto: "
                               "hinge for two classes, ce for more, mse for sine")
    training.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd",
                          help="plain SGD, Adam or AdamW (default: %(default)s)")
    training.add_argument("--lr", type=_positive, default=None,
                          help="initial learning rate (default: sgd 1.0, or 0.05 with --loss mse; "
                               "adam/adamw 0.01)")
    training.add_argument("--schedule", choices=("constant", "linear", "cosine", "step"),
                          default="linear",
                          help="learning-rate schedule over the steps; linear and cosine end at "
                               "lr/10, step multiplies by 0.3 every third of the steps "
                               "(default: %(default)s)")
    training.add_argument("--weight-decay", type=_non_negative, default=1e-4,
                          help="L2 strength wd: adds wd * sum(p^2) to the loss; with adamw, its "
                               "decoupled weight decay (default: %(default)s)")
    training.add_argument("--steps", type=_positive_int, default=100,
                          help="optimizer steps (default: %(default)s)")
    training.add_argument("--batch-size", type=_positive_int, default=None,
                          help="mini-batch size (default: the whole training set)")
    training.add_argument("--patience", type=_positive_int, default=None,
                          help="early stopping: evaluations without val-loss improvement "
                               "(needs --val-split)")
    training.add_argument("--seed", type=int, default=1337,
                          help="seed for data, weights and batches (default: %(default)s, micrograd's)")
    output = train.add_argument_group("output")
    output.add_argument("--out", default=None, metavar="DIR",
                        help="output folder, created if missing; a folder that is not empty is "
                             "kept and DIR-2 (-3, ...) used instead, unless --overwrite "
                             "(default: runs/<dataset>-<timestamp>/)")
    output.add_argument("--overwrite", action="store_true",
                        help="write into --out even if it holds files (replacing ours)")
    output.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


# --- the steps of `train` ----------------------------------------------------------------------------


def _n_parameters(args) -> int:
    widths = [1 if args.dataset == "sine" else 2, *args.hidden,
              args.classes if args.loss == "ce" else 1]
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def _check_sizes(parser: argparse.ArgumentParser, args: argparse.Namespace, n_train: int) -> None:
    """Refuse a model or a step too big to train here, before anything is built."""
    n_params = _n_parameters(args)
    if n_params > MAX_PARAMETERS:
        parser.error(f"--hidden {','.join(map(str, args.hidden))} gives {n_params:,} parameters, "
                     f"more than {MAX_PARAMETERS:,}; use smaller layers")
    rows = args.batch_size or n_train
    if rows * n_params > MAX_STEP_SIZE:
        parser.error(f"one step on {rows:,} rows with {n_params:,} parameters would build a graph "
                     f"of about {rows * n_params:,} edges (at most {MAX_STEP_SIZE:,}); use "
                     f"--batch-size {max(1, MAX_STEP_SIZE // n_params)} or smaller, fewer "
                     f"--samples or a smaller --hidden")


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill the per-dataset defaults and refuse settings that cannot work together."""
    if args.classes is not None and args.dataset not in MULTICLASS:
        has = "no classes (it is regression)" if args.dataset == "sine" else "always 2 classes"
        parser.error(f"--classes is for --dataset blobs or spiral; --dataset {args.dataset} has "
                     f"{has}: leave --classes out")
    classes = 3 if args.classes is None else args.classes
    n_classes = 2 if args.dataset in BINARY else classes
    args.noise = DEFAULT_NOISE[args.dataset] if args.noise is None else args.noise
    if args.loss == "auto":
        args.loss = "mse" if args.dataset == "sine" else ("hinge" if n_classes == 2 else "ce")
    if args.lr is None:  # plain SGD at 1.0 blows up on squared error (mse): 0.05 there
        args.lr = 0.05 if (args.loss, args.optimizer) == ("mse", "sgd") else DEFAULT_LR[args.optimizer]
    if args.dataset == "sine" and args.loss != "mse":
        parser.error(f"--loss {args.loss} is for classification; --dataset sine is regression: "
                     f"use --loss mse")
    if args.dataset != "sine" and n_classes > 2 and args.loss != "ce":
        parser.error(f"--loss {args.loss} is for two classes; --dataset {args.dataset} has "
                     f"{n_classes}: use --loss ce")
    if args.dataset in MULTICLASS and n_classes < 2:
        parser.error(f"--classes must be >= 2 for --dataset {args.dataset}, got {n_classes}")
    n_val = round(args.val_split * args.samples)
    if args.val_split and (n_val < 1 or args.samples - n_val < 1):
        parser.error(f"--val-split {args.val_split:g} of --samples {args.samples} leaves no "
                     f"validation or no training points; use more samples or another split")
    if args.patience is not None and not args.val_split:
        parser.error("--patience watches the validation loss: also give --val-split, e.g. 0.2")
    if args.batch_size is not None and args.batch_size > args.samples - n_val:
        args.batch_size = None  # a batch larger than the data is the whole data
    args.classes = n_classes if args.dataset != "sine" else 0
    _check_sizes(parser, args, args.samples - n_val)


def _fresh(path: str) -> str:
    """`path` if nothing is there, else the first free path-2, path-3, ..."""
    candidate, n = path, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{path}-{n}"
    return candidate


def _output_folder(args: argparse.Namespace) -> str | None:
    """The folder to write into, created and checked writable now; None (after one line on
    stderr) when it cannot be used. A non-empty --out is kept: DIR-2 is used unless --overwrite."""
    if args.out is None:
        out = _fresh(os.path.join("runs", f"{args.dataset}-"
                                          f"{datetime.datetime.now():%Y%m%d-%H%M%S}"))
    else:
        out = os.path.normpath(args.out)
        if os.path.isdir(out) and os.listdir(out) and not args.overwrite:
            fresh = _fresh(out)
            print(f"note: {out} already holds files; writing to {fresh} instead "
                  f"(--overwrite writes into {out})", file=sys.stderr)
            out = fresh
    try:
        if os.path.exists(out) and not os.path.isdir(out):
            raise NotADirectoryError(f"{out} is a file, not a folder")
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"{PROG} train: error: --out {out}: cannot write there ({reason}); "
              f"give a folder you can write to", file=sys.stderr)
        return None
    return out


def _make_data(args):
    if args.dataset == "moons":
        X, y = data.make_moons(args.samples, noise=args.noise, seed=args.seed)
    elif args.dataset == "circles":
        X, y = data.make_circles(args.samples, noise=args.noise, seed=args.seed)
    elif args.dataset == "blobs":
        X, y = data.make_blobs(args.samples, centers=args.classes, cluster_std=args.noise, seed=args.seed)
    elif args.dataset == "spiral":
        X, y = data.make_spiral(args.samples, n_classes=args.classes, noise=args.noise, seed=args.seed)
    elif args.dataset == "xor":
        X, y = data.make_xor(args.samples, noise=args.noise, seed=args.seed)
    else:
        X, y = data.make_sine(args.samples, noise=args.noise, seed=args.seed)
    if args.loss in ("hinge", "mse") and args.dataset != "sine":
        y = data.to_pm1(y)  # hinge (and mse on two classes) want labels -1 / +1
    if args.val_split:
        X, X_val, y, y_val = data.train_test_split(X, y, test_size=args.val_split, seed=args.seed)
    else:
        X_val, y_val = None, None
    if args.standardize:
        X, *rest = data.standardize(X, *([X_val] if X_val else []))
        X_val = rest[0] if rest else None
    return X, y, X_val, y_val


def _make_optimizer(args, params):
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr)
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr)
    return optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)


def _make_scheduler(args, optimizer):
    if args.schedule == "linear":
        return schedulers.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.steps)
    if args.schedule == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=args.steps, eta_min=args.lr / 10)
    if args.schedule == "step":
        return schedulers.StepLR(optimizer, step_size=max(1, args.steps // 3), gamma=0.3)
    return None


def _write_plots(args, model, history, X, y, out: str) -> list[str]:
    """loss.png and decision_boundary.png (regression.png for sine); the names written."""
    if matplotlib is None:
        print("skipping the plots: matplotlib is not installed; "
              "pip install 'autograd-core[notebooks]'", file=sys.stderr)
        return []
    matplotlib.use("Agg")  # files only, no window: works without a display, also in CI
    figures = {"loss.png": plots.plot_history(history, title=f"Training on {args.dataset}")}
    if args.dataset == "sine":
        figures["regression.png"] = plots.plot_regression(
            model, X, y, title="Regression fit on the training data")
    else:
        figures["decision_boundary.png"] = plots.plot_decision_boundary(
            model, X, y, title=f"{args.dataset}: decision boundary on the training points")
    for name, fig in figures.items():
        fig.savefig(os.path.join(out, name), dpi=110, bbox_inches="tight")
        plots.close(fig)
    return list(figures)


def _write_graph(args, model, X, y, out: str, before) -> list[str]:
    """graph.svg: the loss on one training point with its gradients; see nn.drawing."""
    try:
        graph = draw_loss_graph(model, X, y, loss_function(args.loss)[1], args.loss,
                                   before=before)
        svg = graph.pipe(format="svg")
    except Exception as exc:  # graphviz's `dot` missing, or a graph the drawing refuses
        print(f"skipping graph.svg: {exc}", file=sys.stderr)
        return []
    with open(os.path.join(out, "graph.svg"), "wb") as f:
        f.write(svg if isinstance(svg, bytes) else svg.encode("utf-8"))
    return ["graph.svg"]


def _describe(args, n_train: int) -> str:
    layers = [2 if args.dataset != "sine" else 1, *args.hidden,
              args.classes if args.loss == "ce" else 1]
    decay = (f" + {args.weight_decay:g} L2" if args.optimizer != "adamw"
             else f", weight decay {args.weight_decay:g}") if args.weight_decay else ""
    schedule = {"constant": "constant", "linear": f"linear -> {args.lr / 10:g}",
                "cosine": f"cosine -> {args.lr / 10:g}", "step": "step x0.3"}[args.schedule]
    batch = "full batch" if args.batch_size is None else f"batches of {args.batch_size}"
    return (f"{args.dataset}: {n_train} training points, MLP({layers[0]}, {layers[1:]}) "
            f"{args.activation}, {args.loss} loss{decay}, {args.optimizer} lr {args.lr:g} "
            f"({schedule}), {args.steps} steps, {batch}, seed {args.seed}")


class Run:
    """Everything `train` builds from its arguments, ready for `fit` (tests build one too)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.X, self.y, self.X_val, self.y_val = _make_data(args)
        n_out = args.classes if args.loss == "ce" else 1
        self.model = MLP(len(self.X[0]), [*args.hidden, n_out], activation=args.activation,
                         seed=args.seed, init=args.init)
        self.optimizer = _make_optimizer(args, self.model.parameters())
        self.scheduler = _make_scheduler(args, self.optimizer)
        self.l2 = args.weight_decay if args.optimizer != "adamw" else 0.0
        self.callbacks = [EarlyStopping(patience=args.patience)] if args.patience else []
        self.classification = args.dataset != "sine"  # accuracy also for mse on two classes

    def fit(self, progress: bool = False, callbacks=()):
        """Train with these settings (plus `callbacks`); returns the History."""
        validation = (self.X_val, self.y_val) if self.X_val else None
        return fit(self.model, self.X, self.y, loss=self.args.loss, optimizer=self.optimizer,
                   steps=self.args.steps, batch_size=self.args.batch_size, scheduler=self.scheduler,
                   l2=self.l2, validation_data=validation, callbacks=[*self.callbacks, *callbacks],
                   progress=progress, accuracy=self.classification, seed=self.args.seed)

    def evaluate(self, X, y) -> dict:
        """Loss and accuracy of the model on (X, y), with the training loss and L2."""
        return evaluate(self.model, X, y, self.args.loss, l2=self.l2, accuracy=self.classification)


class StopOnInterrupt:
    """While active, Ctrl-C (SIGINT) asks `fit` to stop after the current step (a fit callback)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "StopOnInterrupt":
        if threading.current_thread() is threading.main_thread():  # signals reach only it
            self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def __call__(self, step: int, logs: dict) -> bool:
        return self.requested


def parse_train_args(argv: list[str]) -> argparse.Namespace:
    """Parse `train` arguments (without the word "train") and fill the per-dataset defaults."""
    args = build_parser().parse_args(["train", *argv])
    _check_combination(args.parser, args)
    return args


def _train(run: Run, args: argparse.Namespace):
    """(history, seconds, interrupted), or an exit code when training failed."""
    started = time.perf_counter()
    with warnings.catch_warnings(), StopOnInterrupt() as interrupt:
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is reported below, once
        try:
            history = run.fit(progress=not args.no_progress, callbacks=[interrupt])
        except (ArithmeticError, ValueError) as exc:
            print(f"error: training failed: {str(exc).rstrip('.')}. Try a smaller --lr than "
                  f"{args.lr:g}.", file=sys.stderr)
            return 1
    return history, time.perf_counter() - started, interrupt.requested


def _final(run: Run, history, seconds: float, diverged: bool) -> dict:
    """The numbers metrics.json calls "final": steps, time, and loss/accuracy on each set."""
    final: dict = {"steps": len(history.step), "train_seconds": round(seconds, 3)}
    if history.best_step is not None:
        final["best_step"] = history.best_step  # early stopping restored the weights of this step
    if not diverged:
        final.update({f"train_{k}": v for k, v in run.evaluate(run.X, run.y).items()})
        if run.X_val:
            final.update({f"val_{k}": v for k, v in run.evaluate(run.X_val, run.y_val).items()})
    return final


def _summary(final: dict) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value:.1%}" if key.endswith("accuracy") else
                     f"{key.replace('_', ' ')} {value:.4g}" for key, value in final.items()
                     if key.endswith(("loss", "accuracy")) and value is not None)


def _save(run: Run, args, out: str, history, seconds: float, interrupted: bool, before) -> int:
    """Write metrics.json (and, unless training diverged, the model and pictures); exit code."""
    model, lr = run.model, args.lr
    diverged = (not math.isfinite(history.loss[-1])
                or not all(math.isfinite(p.data) for p in model.parameters()))
    final = _final(run, history, seconds, diverged)
    config = {k: v for k, v in vars(args).items() if k != "parser"}
    write_json_atomic(os.path.join(out, "metrics.json"), {
        "config": config, "final": final, "interrupted": interrupted, "history": history.to_dict()})
    if diverged:
        print(f"error: training diverged at step {len(history.step)} (loss {history.loss[-1]}); "
              f"not writing the model or plots. Try a smaller --lr than {lr:g}.", file=sys.stderr)
        print(f"wrote {out}{os.sep}: metrics.json")
        return 1
    model.save(os.path.join(out, "model.json"))
    if interrupted:
        print(f"interrupted: stopped after step {final['steps']} of {args.steps}; saved "
              f"{out}{os.sep}model.json and metrics.json ({_summary(final)})", file=sys.stderr)
        return 130
    print(f"after {final['steps']} steps ({seconds:.1f} s): {_summary(final)}")
    if history.loss[-1] > history.loss[0]:
        print(f"warning: the loss grew from {history.loss[0]:.4g} to {history.loss[-1]:.4g}; the "
              f"learning rate ({lr:g}) is probably too large", file=sys.stderr)
    written = ["metrics.json", "model.json", *_write_plots(args, model, history, run.X, run.y, out)]
    written += _write_graph(args, model, run.X, run.y, out, before)
    print(f"wrote {out}{os.sep}: {' '.join(written)}")
    return 0


def train_command(args: argparse.Namespace) -> int:
    """Run `train`: check, data, model, fit, report, files. Returns the exit code."""
    _check_combination(args.parser, args)
    out = _output_folder(args)
    if out is None:
        return 2
    args.out = out
    run = Run(args)
    before = run.model.state_dict()  # the weights before training, for graph.svg
    print(_describe(args, len(run.X)))
    trained = _train(run, args)
    if isinstance(trained, int):
        return trained
    return _save(run, args, out, *trained, before)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `autograd-core` and `python -m nn`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return train_command(args)
    except KeyboardInterrupt:  # Ctrl-C outside training (during training it stops fit cleanly)
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
