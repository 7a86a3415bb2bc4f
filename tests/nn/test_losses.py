"""Losses, softmax and l2_penalty: values and gradients against torch.nn.functional, and stability."""

import math
import random

import pytest

import nn
from autograd_core import Value


def torch_or_skip():
    return pytest.importorskip("torch")


def close(a, b, rel=1e-12, abs_=1e-14):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def values(xs):
    return [Value(x) for x in xs]


rng = random.Random(4)
PREDS = [rng.uniform(-3, 3) for _ in range(7)]
TARGETS = [rng.uniform(-3, 3) for _ in range(7)]
SIGNS = [rng.choice([-1.0, 1.0]) for _ in range(7)]
PROBS = [rng.uniform(0.02, 0.98) for _ in range(7)]
BITS = [1.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.0]  # 0.3: a soft label
LOGITS = [rng.uniform(-5, 5) for _ in range(7)]


# --- against PyTorch, value and gradient -----------------------------------------------------------


def _compare(ours_fn, torch_fn, inputs, targets, reduction, torch):
    xs = values(inputs)
    loss = ours_fn(xs, targets, reduction=reduction)
    loss.backward()
    t_x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    t_loss = torch_fn(t_x, reduction=reduction)
    t_loss.backward()
    assert close(loss.data, t_loss.item()), (loss.data, t_loss.item())
    grads = t_x.grad.tolist()
    bad = [(i, x.grad, g) for i, (x, g) in enumerate(zip(xs, grads)) if not close(x.grad, g, 1e-10)]
    assert not bad, f"grads differ (index, ours, torch): {bad}"


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", ["mse", "l1", "hinge", "bce", "bce_logits"])
def test_loss_batch_matches_torch(name, reduction):
    torch = torch_or_skip()
    F = torch.nn.functional
    f64 = torch.float64
    cases = {
        "mse": (nn.mse_loss, lambda x, **k: F.mse_loss(x, torch.tensor(TARGETS, dtype=f64), **k),
                PREDS, TARGETS),
        "l1": (nn.l1_loss, lambda x, **k: F.l1_loss(x, torch.tensor(TARGETS, dtype=f64), **k),
               PREDS, TARGETS),
        "hinge": (nn.hinge_loss,
                  lambda x, reduction: getattr(F.relu(1 - torch.tensor(SIGNS, dtype=f64) * x), reduction)(),
                  PREDS, SIGNS),
        "bce": (nn.binary_cross_entropy,
                lambda x, **k: F.binary_cross_entropy(x, torch.tensor(BITS, dtype=f64), **k),
                PROBS, BITS),
        "bce_logits": (nn.binary_cross_entropy_with_logits,
                       lambda x, **k: F.binary_cross_entropy_with_logits(
                           x, torch.tensor(BITS, dtype=f64), **k),
                       LOGITS, BITS),
    }
    ours_fn, torch_fn, inputs, targets = cases[name]
    _compare(ours_fn, torch_fn, inputs, targets, reduction, torch)


@pytest.mark.parametrize("name", ["mse", "l1", "hinge", "bce", "bce_logits"])
def test_loss_single_sample_matches_torch(name):
    torch = torch_or_skip()
    F = torch.nn.functional
    cases = {
        "mse": (nn.mse_loss, F.mse_loss, 0.7, 2.5),
        "l1": (nn.l1_loss, F.l1_loss, -0.7, 2.5),
        "hinge": (nn.hinge_loss, lambda x, t: F.relu(1 - t * x), 0.4, -1.0),
        "bce": (nn.binary_cross_entropy, F.binary_cross_entropy, 0.3, 1.0),
        "bce_logits": (nn.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, -2.0, 0.3),
    }
    ours_fn, torch_fn, x, t = cases[name]
    v = Value(x)
    loss = ours_fn(v, t)
    loss.backward()
    t_x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t_loss = torch_fn(t_x, torch.tensor(t, dtype=torch.float64))
    t_loss.backward()
    assert close(loss.data, t_loss.item()) and close(v.grad, t_x.grad.item(), 1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_batch_matches_torch(reduction):
    torch = torch_or_skip()
    rows = [[rng.uniform(-4, 4) for _ in range(5)] for _ in range(6)]
    labels = [0, 4, 2, 2, 1, 3]
    xs = [values(r) for r in rows]
    loss = nn.cross_entropy(xs, labels, reduction=reduction)
    loss.backward()
    t_x = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor(labels), reduction=reduction)
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    assert all(close(v.grad, g, 1e-10) for row, t_row in zip(xs, t_x.grad.tolist())
               for v, g in zip(row, t_row))


def test_cross_entropy_single_sample_matches_torch():
    torch = torch_or_skip()
    logits = [0.5, -1.25, 2.0, 0.0]
    xs = values(logits)
    loss = nn.cross_entropy(xs, 2)
    loss.backward()
    t_x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor(2))
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    assert all(close(v.grad, g, 1e-10) for v, g in zip(xs, t_x.grad.tolist()))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_match_torch(fn):
    torch = torch_or_skip()
    logits = [0.5, -1.25, 2.0, 0.0, 3.5]
    weights = [1.0, -2.0, 0.5, 3.0, -1.0]
    xs = values(logits)
    out = getattr(nn, fn)(xs)
    sum((o * w for o, w in zip(out, weights)), Value(0.0)).backward()
    t_x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    t_out = getattr(torch.nn.functional, fn)(t_x, dim=0)
    (t_out * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert all(close(o.data, t) for o, t in zip(out, t_out.tolist()))
    assert all(close(v.grad, g, 1e-10) for v, g in zip(xs, t_x.grad.tolist()))


def test_losses_at_extreme_logits_match_torch():
    torch = torch_or_skip()
    F = torch.nn.functional
    for x, t in [(1000.0, 0.0), (1000.0, 1.0), (-1000.0, 0.0), (-1000.0, 1.0), (1000.0, 0.5)]:
        ours = nn.binary_cross_entropy_with_logits(Value(x), t).data
        theirs = F.binary_cross_entropy_with_logits(torch.tensor(x, dtype=torch.float64),
                                                    torch.tensor(t, dtype=torch.float64)).item()
        assert ours == theirs, (x, t, ours, theirs)
    logits = [1000.0, -1000.0, 0.0]
    for target in range(3):
        ours = nn.cross_entropy(values(logits), target).data
        theirs = F.cross_entropy(torch.tensor(logits, dtype=torch.float64), torch.tensor(target)).item()
        assert ours == theirs, (target, ours, theirs)


# --- stability and exact values --------------------------------------------------------------------


@pytest.mark.parametrize("x,t,expected,grad", [
    (1000.0, 1.0, 0.0, 0.0), (1000.0, 0.0, 1000.0, 1.0),
    (-1000.0, 0.0, 0.0, 0.0), (-1000.0, 1.0, 1000.0, -1.0),
    (0.0, 1.0, math.log(2.0), -0.5),
    # exact even where e^-40 vanishes next to 1: loss log1p(e^-40), grad sigmoid(40) - 1
    (40.0, 1.0, math.log1p(math.exp(-40.0)), -math.exp(-40.0) / (1 + math.exp(-40.0))),
])
def test_bce_with_logits_is_stable_and_exact(x, t, expected, grad):
    v = Value(x)
    loss = nn.binary_cross_entropy_with_logits(v, t)
    loss.backward()
    assert close(loss.data, expected, 1e-15, 0.0) or loss.data == expected, loss.data
    assert close(v.grad, grad, 1e-12, 1e-300), v.grad


def test_cross_entropy_is_stable_for_huge_logits():
    xs = values([1000.0, -1000.0, 999.0])
    loss = nn.cross_entropy(xs, 1)
    loss.backward()
    expected = 2000.0 + math.log1p(math.exp(-1.0))
    assert close(loss.data, expected)
    p0, p2 = 1 / (1 + math.exp(-1.0)), math.exp(-1.0) / (1 + math.exp(-1.0))
    assert close(xs[0].grad, p0) and close(xs[1].grad, -1.0) and close(xs[2].grad, p2)


def test_softmax_is_stable_and_sums_to_one():
    out = nn.softmax([1000.0, 1000.0, -1000.0])
    assert [v.data for v in out] == [0.5, 0.5, 0.0]
    log_out = nn.log_softmax([1000.0, -1000.0])
    assert log_out[0].data == 0.0 and log_out[1].data == -2000.0


def test_bce_clamps_log_at_minus_100_like_torch():
    assert nn.binary_cross_entropy(Value(0.0), 1.0).data == 100.0
    assert nn.binary_cross_entropy(Value(1.0), 0.0).data == 100.0
    assert nn.binary_cross_entropy(Value(1.0), 1.0).data == 0.0


def test_l2_penalty_is_one_dot_node_with_grad_2p():
    ps = values([0.5, -2.0, 3.0])
    penalty = nn.l2_penalty(ps)
    assert penalty.op == "dot" and penalty.data == 0.25 + 4.0 + 9.0
    penalty.backward()
    assert [p.grad for p in ps] == [1.0, -4.0, 6.0]
    assert nn.l2_penalty([]).data == 0.0


def test_losses_reexported_from_nn():
    assert nn.mse_loss is nn.losses.mse_loss and nn.cross_entropy is nn.losses.cross_entropy
    assert nn.softmax is nn.functional.softmax


# --- reductions and shapes -------------------------------------------------------------------------


def test_reduction_mean_sum_none_relate():
    preds, targets = values(PREDS), TARGETS
    each = nn.mse_loss(preds, targets, reduction="none")
    assert len(each) == len(preds)
    total = nn.mse_loss(preds, targets, reduction="sum").data
    assert close(total, sum(v.data for v in each))
    assert close(nn.mse_loss(preds, targets).data, total / len(preds))


def test_single_sample_loss_is_the_loss_itself_for_any_reduction():
    for reduction in ("mean", "sum", "none"):
        assert nn.mse_loss(Value(3.0), 1.0, reduction=reduction).data == 4.0


def test_nested_batches_average_over_all_elements():
    preds = [values([1.0, 2.0]), values([3.0, 4.0])]
    assert nn.mse_loss(preds, [[0.0, 0.0], [0.0, 0.0]]).data == (1 + 4 + 9 + 16) / 4


def test_cross_entropy_reduction_none_gives_one_loss_per_sample():
    out = nn.cross_entropy([[0.0, 0.0], [0.0, 10.0]], [0, 1], reduction="none")
    assert len(out) == 2 and close(out[0].data, math.log(2.0))


def test_hinge_loss_is_zero_beyond_the_margin_and_matches_micrograd_form():
    assert nn.hinge_loss(Value(2.0), 1.0).data == 0.0
    for s, y in zip(PREDS, SIGNS):
        assert nn.hinge_loss(Value(s), y).data == (1 + -y * Value(s)).relu().data


def test_losses_accept_numpy_targets():
    np = pytest.importorskip("numpy")
    preds = values([0.5, -0.5, 2.0])
    assert nn.hinge_loss(preds, np.array([1, -1, 1])).data == nn.hinge_loss(preds, [1, -1, 1]).data
    assert nn.mse_loss(preds, np.array([0.0, 1.0, 2.0])).data == nn.mse_loss(preds, [0, 1, 2]).data
    assert nn.cross_entropy([preds], np.array([2])).data == nn.cross_entropy(preds, 2).data


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.mse_loss(values([1.0, 2.0]), [1.0]), ValueError, "same shape"),
    (lambda: nn.mse_loss(values([1.0]), [1.0], reduction="avg"), ValueError, "reduction"),
    (lambda: nn.mse_loss([], []), ValueError, "empty batch"),
    (lambda: nn.mse_loss(Value(1.0), "1"), TypeError, "targets must be numbers"),
    (lambda: nn.hinge_loss(Value(1.0), 0.0), ValueError, "-1 or \\+1"),
    (lambda: nn.binary_cross_entropy(Value(1.5), 1.0), ValueError, "in \\[0, 1\\]"),
    (lambda: nn.binary_cross_entropy(Value(0.5), 2.0), ValueError, "targets must be in"),
    (lambda: nn.cross_entropy([1.0, 2.0], 2), ValueError, "the model has 2 outputs, .* 0..1"),
    (lambda: nn.cross_entropy([[1.0, 2.0]], [0, 1]), ValueError, "class indices"),
    (lambda: nn.cross_entropy(Value(1.0), 0), TypeError, "list of logits"),
    (lambda: nn.softmax([]), ValueError, "empty"),
])
def test_loss_errors_say_what_is_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- targets checked (issue 11, item 4) ------------------------------------------------------------


def test_cross_entropy_on_single_outputs_says_so_in_one_short_line():
    outputs = values([0.1 * i for i in range(20)])  # a batch from a 1-output model
    with pytest.raises(ValueError) as info:
        nn.cross_entropy(outputs, [i % 2 for i in range(20)])
    message = str(info.value)
    assert "1 output" in message and "\n" not in message and len(message) < 200, message
    assert "[0, 1, 0" not in message, f"the targets must not be printed: {message}"


def test_binary_cross_entropy_with_logits_refuses_targets_outside_0_1():
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\], got -1.0"):
        nn.binary_cross_entropy_with_logits(Value(0.5), -1.0)


@pytest.mark.parametrize("loss, targets, n_outputs, match", [
    ("hinge_loss", [1, 0], None, r"y\[1\] = 0 is not -1 or \+1"),
    ("binary_cross_entropy", [1, 2], None, r"y\[1\] = 2 is not in \[0, 1\]"),
    ("binary_cross_entropy_with_logits", [-1.0], None, r"y\[0\] = -1.0 is not in \[0, 1\]"),
    ("cross_entropy", [0, 3], 3, r"y\[1\] = 3 is not a class index: the model has 3 outputs"),
    ("cross_entropy", [0, -1], 3, r"y\[1\] = -1 is not a class index"),
])
def test_check_targets_names_the_first_bad_target(loss, targets, n_outputs, match):
    with pytest.raises(ValueError, match=match):
        nn.losses.check_targets(loss, targets, n_outputs)


def test_check_targets_accepts_any_real_target_for_regression():
    nn.losses.check_targets("mse_loss", [-1e9, 0.5, 3])
    nn.losses.check_targets("l1_loss", [[1.0, 2.0]])
