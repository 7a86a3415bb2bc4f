"""Loss functions, named and reduced as in torch.nn.functional.

Every loss takes one sample (`loss(Value, target)`) or a batch (lists, nested as deep as you like) and
`reduction="mean" | "sum" | "none"`; batch reductions are one `sum_values` node. Stable where it
matters: BCE-with-logits and cross-entropy never overflow, even for logits of +-1000.
Notebook 05 trains with the max-margin loss; notebook 06 uses cross-entropy, MSE and L2.
"""

from __future__ import annotations

import math
import numbers

from autograd_core import Value, dot, sum_values

from .functional import log_softmax, logsumexp, softmax
from .validation import one_of

__all__ = [
    "CLASSIFICATION",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "check_targets",
    "cross_entropy",
    "hinge_loss",
    "l1_loss",
    "l2_penalty",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "softmax",
]

REDUCTIONS = ("mean", "sum", "none")


# --- pairing predictions with targets, and reducing ----------------------------------------------


def _pairs(pred, target, where: str) -> list:
    """Flatten matching (prediction, target) structures into a list of pairs."""
    out: list = []

    def visit(p, t, at: str) -> None:
        p, t = _as_list(p), _as_list(t)
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                size = len(t) if isinstance(t, (list, tuple)) else "a single value"
                raise ValueError(f"{where}: predictions{at} has {len(p)} items but targets{at} has "
                                 f"{size}; they must have the same shape")
            for i, (pi, ti) in enumerate(zip(p, t)):
                visit(pi, ti, f"{at}[{i}]")
        else:
            if isinstance(t, (list, tuple)):
                raise ValueError(f"{where}: prediction{at} is a single value but its target is a list")
            out.append((p if isinstance(p, Value) else Value(p), _target(t, where)))

    visit(pred, target, "")
    if not out:
        raise ValueError(f"{where}: empty batch; the mean of no losses is undefined")
    return out


def _as_list(x):
    # a numpy array (of targets, usually) becomes nested lists; 0-d arrays and scalars stay
    if getattr(x, "ndim", 0) and callable(getattr(x, "tolist", None)) and not isinstance(x, Value):
        return x.tolist()
    return x


def _target(t, where: str):
    if isinstance(t, Value):
        return t
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{where}: targets must be numbers (or Values), got {type(t).__name__} {t!r:.40}")
    return float(t)


def _reduce(terms: list, reduction: str, where: str):
    if reduction == "none":
        return terms
    if len(terms) == 1:
        return terms[0]  # the mean and the sum of one loss are that loss: no extra nodes
    total = sum_values(terms)
    return total if reduction == "sum" else total / len(terms)


def _single_or_list(pred, terms, reduction):
    # reduction="none" on one sample gives that sample's loss, not a list of one
    if reduction == "none" and not isinstance(pred, (list, tuple)):
        return terms[0]
    return terms


# --- regression ----------------------------------------------------------------------------------


def mse_loss(pred, target, reduction: str = "mean"):
    """Mean squared error: (pred - target)^2, averaged (or summed) over all elements."""
    one_of("mse_loss: reduction", reduction, REDUCTIONS)
    terms = []
    for p, t in _pairs(pred, target, "mse_loss"):
        diff = p - t
        terms.append(diff * diff)  # d/dp = 2 (p - t)
    return _reduce(_single_or_list(pred, terms, reduction), reduction, "mse_loss")


def l1_loss(pred, target, reduction: str = "mean"):
    """Mean absolute error: |pred - target| (gradient sign(pred - target), 0 at equality, as PyTorch)."""
    one_of("l1_loss: reduction", reduction, REDUCTIONS)
    terms = [abs(p - t) for p, t in _pairs(pred, target, "l1_loss")]
    return _reduce(_single_or_list(pred, terms, reduction), reduction, "l1_loss")


# --- classification ------------------------------------------------------------------------------


def hinge_loss(scores, labels, reduction: str = "mean", margin: float = 1.0):
    """The max-margin (SVM) loss: relu(margin - y * score), with labels y of -1 or +1."""
    one_of("hinge_loss: reduction", reduction, REDUCTIONS)
    terms = []
    for s, y in _pairs(scores, labels, "hinge_loss"):
        y_val = y.data if isinstance(y, Value) else y
        if y_val != 1.0 and y_val != -1.0:
            raise ValueError(f"hinge_loss: labels must be -1 or +1, got {y_val!r}; "
                             f"for 0/1 labels use 2 * y - 1")
        # 1. how far inside the margin: margin - y*s, written without the multiply for y = +-1
        #    (bit-identical: y*s is exact for y = +-1, and m - (-s) == m + s), one node fewer
        if isinstance(y, Value):
            inside = margin - y * s
        else:
            inside = margin - s if y == 1.0 else margin + s
        terms.append(inside.relu())  # 2. zero once the sample is beyond the margin
    return _reduce(_single_or_list(scores, terms, reduction), reduction, "hinge_loss")


_LOG_FLOOR = -100.0  # PyTorch's binary_cross_entropy clamps log(p) and log(1 - p) at -100


def _clamped_log(v: Value) -> Value:
    # log(v), or the constant -100 where log(v) < -100 (then, unlike PyTorch, the gradient is 0)
    if v.data > 0.0 and math.log(v.data) >= _LOG_FLOOR:
        return v.log()
    return Value(_LOG_FLOOR)


def binary_cross_entropy(probs, targets, reduction: str = "mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] and targets t in [0, 1].

    As PyTorch, each log is clamped at -100, so p = 0 or 1 gives a finite loss. Prefer
    `binary_cross_entropy_with_logits` on raw scores: it is exact where sigmoid saturates.
    """
    one_of("binary_cross_entropy: reduction", reduction, REDUCTIONS)
    terms = []
    for p, t in _pairs(probs, targets, "binary_cross_entropy"):
        t_val = t.data if isinstance(t, Value) else t
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: probabilities must be in [0, 1], got {p.data!r}; "
                             f"apply .sigmoid() first, or use binary_cross_entropy_with_logits")
        if not 0.0 <= t_val <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets must be in [0, 1], got {t_val!r}")
        if isinstance(t, float) and t == 1.0:
            terms.append(-_clamped_log(p))
        elif isinstance(t, float) and t == 0.0:
            terms.append(-_clamped_log(1.0 - p))
        else:
            terms.append(-(t * _clamped_log(p) + (1.0 - t) * _clamped_log(1.0 - p)))
    return _reduce(_single_or_list(probs, terms, reduction), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits, targets, reduction: str = "mean"):
    """BCE of sigmoid(x) against t, computed from the logit x without ever forming sigmoid(x).

    Written as a sum of two non-negative parts, so nothing overflows or cancels:
    x >= 0: (1 - t) x + softplus(-x);   x < 0: softplus(x) - t x.   d/dx = sigmoid(x) - t.
    """
    one_of("binary_cross_entropy_with_logits: reduction", reduction, REDUCTIONS)
    terms = []
    for x, t in _pairs(logits, targets, "binary_cross_entropy_with_logits"):
        t_val = t.data if isinstance(t, Value) else t
        if not 0.0 <= t_val <= 1.0:
            raise ValueError(f"binary_cross_entropy_with_logits: targets must be in [0, 1], got "
                             f"{t_val!r}; for -1/+1 labels use (y + 1) / 2 or hinge_loss")
        if x.data >= 0.0:
            terms.append((1.0 - t) * x + (-x).softplus())
        else:
            terms.append(x.softplus() - t * x)
    return _reduce(_single_or_list(logits, terms, reduction), reduction,
                   "binary_cross_entropy_with_logits")


def cross_entropy(logits, target, reduction: str = "mean"):
    """-log softmax(logits)[target] = logsumexp(logits) - logits[target], stable for any logits.

    One sample: a list of logits and a class index. A batch: a list of such lists and a list of
    indices, reduced over the samples.
    """
    one_of("cross_entropy: reduction", reduction, REDUCTIONS)
    logits, target = _as_list(logits), _as_list(target)
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError("cross_entropy expects a list of logits (one sample) or a list of lists "
                        "(a batch), with class index / indices as target")
    batched = isinstance(logits[0], (list, tuple))
    if not batched and isinstance(target, (list, tuple)):
        raise ValueError(f"cross_entropy: each sample has 1 output but needs one logit per class; "
                         f"got {len(logits)} outputs and {len(target)} targets. Give the model "
                         f"one output per class, e.g. MLP(nin, [16, n_classes])")
    if batched:
        if not isinstance(target, (list, tuple)) or len(target) != len(logits):
            size = len(target) if isinstance(target, (list, tuple)) else "one"
            raise ValueError(f"cross_entropy: {len(logits)} samples of logits need {len(logits)} "
                             f"class indices, got {size}")
        samples = list(zip(logits, target))
    else:
        samples = [(logits, target)]
    terms = []
    for row, t in samples:
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 0 <= t < len(row):
            raise ValueError(_class_index_message("cross_entropy: the target", t, len(row)))
        row = [v if isinstance(v, Value) else Value(v) for v in row]
        terms.append(logsumexp(row) - row[int(t)])
    if reduction == "none":
        return terms if batched else terms[0]
    return _reduce(terms, reduction, "cross_entropy")


def _class_index_message(what: str, t, n_outputs: int) -> str:
    return (f"{what} {t!r:.20} is not a class index: the model has {n_outputs} output"
            f"{'s' if n_outputs != 1 else ''}, so targets must be whole numbers 0..{n_outputs - 1}")


# --- checking a whole set of targets before training ---------------------------------------------

# The losses for classes; the others (mse_loss, l1_loss) fit any real targets.
CLASSIFICATION = ("hinge_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                  "cross_entropy")


def _bad_target(loss: str, t, n_outputs: int | None) -> str | None:
    """Why `t` is not a target of `loss` (None if it is one): the rule each loss applies per call."""
    if loss == "cross_entropy":
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            return f"{t!r:.20} is not a class index (a whole number 0, 1, 2, ...)"
        if n_outputs is not None and t >= n_outputs:
            return _class_index_message("", t, n_outputs).strip()
        return None
    if isinstance(t, (list, tuple)):
        return None if loss not in CLASSIFICATION else f"{t!r:.30} is a list, not one label"
    if loss == "hinge_loss" and t not in (-1, 1):
        return f"{t!r} is not -1 or +1; convert 0/1 labels with nn.data.to_pm1(y)"
    if loss.startswith("binary_cross_entropy") and not 0 <= t <= 1:
        return f"{t!r} is not in [0, 1]; for -1/+1 labels use (y + 1) / 2, or loss='hinge'"
    return None


def check_targets(loss: str, targets, n_outputs: int | None = None, name: str = "y") -> None:
    """Raise a one-line ValueError naming the first target that `loss` (a full loss name) refuses:
    hinge needs -1/+1, BCE [0, 1], cross-entropy class indices below `n_outputs`."""
    for i, t in enumerate(targets):
        reason = _bad_target(loss, t, n_outputs)
        if reason is not None:
            raise ValueError(f"{name}[{i}] = {reason} ({loss} targets)")


# --- regularization ------------------------------------------------------------------------------


def l2_penalty(params) -> Value:
    """sum of p^2 over `params`, as ONE dot node (multiply by your weight-decay coefficient)."""
    params = list(params)
    if not params:
        return Value(0.0)
    return dot(params, params)
