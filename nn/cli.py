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
import sys
import time
import warnings

DATASETS = ("moons", "circles", "blobs", "spiral", "xor", "sine")
BINARY = ("moons", "circles", "xor")
DEFAULT_NOISE = {"moons": 0.1, "circles": 0.05, "blobs": 0.5, "spiral": 0.2, "xor": 0.1, "sine": 0.1}
DEFAULT_LR = {"sgd": 1.0, "adam": 0.01, "adamw": 0.01}


# --- argument types: each turns a string into a value or explains what it wants --------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0.0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


def _fraction(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), e.g. 0.2, got {text}")
    return value


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
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `autograd-core` / `python -m nn`."""
    parser = argparse.ArgumentParser(
        prog="autograd-core",
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
    data.add_argument("--samples", type=_positive_int, default=100,
                      help="number of points (default: %(default)s)")
    data.add_argument("--noise", type=_non_negative_float, default=None,
                      help="noise level (default per dataset: " + ", ".join(
                          f"{k} {v:g}" for k, v in DEFAULT_NOISE.items()) + ")")
    data.add_argument("--classes", type=_positive_int, default=3,
                      help="classes for blobs and spiral (default: %(default)s)")
    data.add_argument("--standardize", action="store_true",
                      help="standardize inputs with the training set's mean and std")
    data.add_argument("--val-split", type=_fraction, default=0.0,
                      help="fraction of points held out for validation (default: 0, train on all)")
    model = train.add_argument_group("model")
    model.add_argument("--hidden", type=_hidden, default=[16, 16], metavar="16,16",
                       help="hidden layer widths, comma-separated; 'none' for a linear model "
                            "(default: 16,16)")
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
    training.add_argument("--lr", type=_positive_float, default=None,
                          help="initial learning rate (default: sgd 1.0, or 0.05 with --loss mse; "
                               "adam/adamw 0.01)")
    training.add_argument("--schedule", choices=("constant", "linear", "cosine", "step"),
                          default="linear",
                          help="learning-rate schedule over the steps; linear and cosine end at "
                               "lr/10, step multiplies by 0.3 every third of the steps "
                               "(default: %(default)s)")
    training.add_argument("--weight-decay", type=_non_negative_float, default=1e-4,
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
                        help="output folder (default: runs/<dataset>-<timestamp>/)")
    output.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


# --- the steps of `train` ----------------------------------------------------------------------------


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill the per-dataset defaults and refuse settings that cannot work together."""
    n_classes = 2 if args.dataset in BINARY else args.classes
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
    if args.dataset in ("blobs", "spiral") and args.classes < 2:
        parser.error(f"--classes must be >= 2 for --dataset {args.dataset}, got {args.classes}")
    n_train = args.samples - round(args.val_split * args.samples)
    if args.val_split and (round(args.val_split * args.samples) < 1 or n_train < 1):
        parser.error(f"--val-split {args.val_split:g} of --samples {args.samples} leaves no "
                     f"validation or no training points; use more samples or another split")
    if args.samples < 2:
        parser.error("--samples must be at least 2")
    if args.patience is not None and not args.val_split:
        parser.error("--patience watches the validation loss: also give --val-split, e.g. 0.2")
    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"--out {args.out} is a file; give a folder (it is created if missing)")
    if args.batch_size is not None and args.batch_size > n_train:
        args.batch_size = None  # a batch larger than the data is the whole data
    args.classes = n_classes if args.dataset != "sine" else 0


def _make_data(args):
    from . import data

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
    from . import optim

    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr)
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr)
    return optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)


def _make_scheduler(args, optimizer):
    from . import schedulers

    if args.schedule == "linear":
        return schedulers.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.steps)
    if args.schedule == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=args.steps, eta_min=args.lr / 10)
    if args.schedule == "step":
        return schedulers.StepLR(optimizer, step_size=max(1, args.steps // 3), gamma=0.3)
    return None


def _default_out(dataset: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.join("runs", f"{dataset}-{stamp}")
    candidate, n = out, 1
    while os.path.exists(candidate):
        n += 1
        candidate = f"{out}-{n}"
    return candidate


def _write_plots(args, model, history, X, y, out: str) -> list[str]:
    """loss.png and decision_boundary.png (regression.png for sine); the names written."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no window: works without a display, also in CI
        from . import plots
    except ImportError:
        print("skipping the plots: matplotlib is not installed; "
              "pip install 'autograd-core[notebooks]'", file=sys.stderr)
        return []
    written = []
    fig = plots.plot_history(history, title=f"Training on {args.dataset}")
    fig.savefig(os.path.join(out, "loss.png"), dpi=110, bbox_inches="tight")
    written.append("loss.png")
    if args.dataset == "sine":
        fig = plots.plot_regression(model, X, y, title="Regression fit on the training data")
        fig.savefig(os.path.join(out, "regression.png"), dpi=110, bbox_inches="tight")
        written.append("regression.png")
    else:
        fig = plots.plot_decision_boundary(model, X, y, title=f"{args.dataset}: decision boundary "
                                                              f"on the training points")
        fig.savefig(os.path.join(out, "decision_boundary.png"), dpi=110, bbox_inches="tight")
        written.append("decision_boundary.png")
    return written


def _write_graph(args, model, X, y, out: str) -> list[str]:
    """graph.svg: the graph of the loss on ONE training point, with its gradients filled in."""
    from autograd_core import Value, draw_graph

    from .train import _loss_function

    _, loss_fn = _loss_function(args.loss)
    model.zero_grad()
    x = [Value(v, label=f"x[{i}]") for i, v in enumerate(X[0])]  # labelled: drawn as inputs
    loss = loss_fn([model(x)], [y[0]])
    loss.backward()
    point = ", ".join(f"{v:.3g}" for v in X[0])
    title = f"{args.loss} loss on one training point: x = ({point}), y = {y[0]:.3g}"
    try:
        graph = draw_graph(loss, params=model.parameters(), collapse="neuron", model=model,
                           legend=True, title=title)
        svg = graph.pipe(format="svg")
    except Exception as exc:  # graphviz's `dot` missing, or a graph the drawing refuses
        print(f"skipping graph.svg: {exc}", file=sys.stderr)
        return []
    finally:
        model.zero_grad()
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
        from . import layers
        from .train import EarlyStopping

        self.args = args
        self.X, self.y, self.X_val, self.y_val = _make_data(args)
        n_out = args.classes if args.loss == "ce" else 1
        self.model = layers.MLP(len(self.X[0]), [*args.hidden, n_out], activation=args.activation,
                                seed=args.seed, init=args.init)
        self.optimizer = _make_optimizer(args, self.model.parameters())
        self.scheduler = _make_scheduler(args, self.optimizer)
        self.l2 = args.weight_decay if args.optimizer != "adamw" else 0.0
        self.callbacks = [EarlyStopping(patience=args.patience)] if args.patience else []

    def fit(self, progress: bool = False):
        """Train with these settings; returns the History."""
        from .train import fit

        validation = (self.X_val, self.y_val) if self.X_val else None
        return fit(self.model, self.X, self.y, loss=self.args.loss, optimizer=self.optimizer,
                   steps=self.args.steps, batch_size=self.args.batch_size, scheduler=self.scheduler,
                   l2=self.l2, validation_data=validation, callbacks=self.callbacks,
                   progress=progress, seed=self.args.seed)


def parse_train_args(argv: list[str]) -> argparse.Namespace:
    """Parse `train` arguments (without the word "train") and fill the per-dataset defaults."""
    args = build_parser().parse_args(["train", *argv])
    _check_combination(args.parser, args)
    return args


def train_command(args: argparse.Namespace) -> int:
    """Run `train`: data, model, fit, report, files. Returns the exit code."""
    from .serialization import write_json_atomic
    from .train import evaluate

    _check_combination(args.parser, args)
    run = Run(args)
    model, X, y, X_val, y_val, l2 = run.model, run.X, run.y, run.X_val, run.y_val, run.l2
    print(_describe(args, len(X)))

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # divergence is reported below, once
        try:
            history = run.fit(progress=not args.no_progress)
        except (ArithmeticError, ValueError) as exc:
            print(f"error: training failed: {str(exc).rstrip('.')}. Try a smaller --lr than "
                  f"{args.lr:g}.", file=sys.stderr)
            return 1
    seconds = time.perf_counter() - started
    diverged = (not math.isfinite(history.loss[-1])
                or not all(math.isfinite(p.data) for p in model.parameters()))

    final: dict = {"steps": len(history.step), "train_seconds": round(seconds, 3)}
    if history.best_step is not None:
        final["best_step"] = history.best_step  # early stopping restored the weights of this step
    if not diverged:
        final.update({f"train_{k}": v for k, v in evaluate(model, X, y, args.loss, l2=l2).items()})
        if X_val:
            final.update({f"val_{k}": v
                          for k, v in evaluate(model, X_val, y_val, args.loss, l2=l2).items()})
    out = args.out or _default_out(args.dataset)
    os.makedirs(out, exist_ok=True)
    config = {k: v for k, v in vars(args).items() if k != "parser"}
    write_json_atomic(os.path.join(out, "metrics.json"),
                      {"config": config, "final": final, "history": history.to_dict()})
    written = ["metrics.json"]
    if diverged:
        print(f"error: training diverged at step {len(history.step)} (loss {history.loss[-1]}); "
              f"not writing the model or plots. Try a smaller --lr than {args.lr:g}.", file=sys.stderr)
        print(f"wrote {out}{os.sep}: {' '.join(written)}")
        return 1

    summary = [f"{key.replace('_', ' ')} {value:.1%}" if key.endswith("accuracy") else
               f"{key.replace('_', ' ')} {value:.4g}" for key, value in final.items()
               if key.endswith(("loss", "accuracy")) and value is not None]
    print(f"after {final['steps']} steps ({seconds:.1f} s): " + ", ".join(summary))
    if history.loss[-1] > history.loss[0]:
        print(f"warning: the loss grew from {history.loss[0]:.4g} to {history.loss[-1]:.4g}; the "
              f"learning rate ({args.lr:g}) is probably too large", file=sys.stderr)
    model.save(os.path.join(out, "model.json"))
    written.append("model.json")
    written += _write_plots(args, model, history, X, y, out)
    written += _write_graph(args, model, X, y, out)
    print(f"wrote {out}{os.sep}: {' '.join(written)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `autograd-core` and `python -m nn`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        return train_command(args)
    parser.error(f"unknown command {args.command!r}")  # unreachable: argparse checks the choices
    return 2


if __name__ == "__main__":
    sys.exit(main())
