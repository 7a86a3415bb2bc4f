"""nn.lr_find: a growing learning rate on a copy; the model and optimizer stay exactly as they were."""

import math

import pytest

from nn import MLP, hinge_loss, l2_penalty, lr_find, optim
from nn.data import make_moons, to_pm1
from nn.train.diagnostics import Diagnostics
from nn.train.lr_finder import copy_for_search


def _moons(n=30, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, to_pm1(y)


def _trained(optimizer_type, **hyper):
    """A model and an optimizer with state: a few steps taken, gradients left in .grad."""
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    opt = optimizer_type(model.parameters(), **hyper)
    for _ in range(3):
        loss = hinge_loss([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("optimizer_type, hyper", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                                   (optim.Adam, {"lr": 0.01})])
def test_lr_find_leaves_model_and_optimizer_exactly_as_they_were(optimizer_type, hyper):
    X, y = _moons()
    model, opt = _trained(optimizer_type, **hyper)
    state, grads, opt_state = model.state_dict(), [p.grad for p in model.parameters()], opt.state_dict()
    lr_find(model, X, y, loss="hinge", optimizer=opt, steps=20)
    assert model.state_dict() == state, "the model's weights changed"
    assert [p.grad for p in model.parameters()] == grads, "the model's gradients changed"
    assert opt.state_dict() == opt_state, "the optimizer's state changed"
    assert opt.params == model.parameters() and opt.lr == hyper["lr"]


def test_lr_find_rates_grow_exponentially_from_start_to_end():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     start_lr=1e-4, end_lr=1e-1, steps=10, diverge=1e9)
    expected = [1e-4 * 1000 ** (i / 9) for i in range(10)]
    assert len(result.lrs) == 10 and all(math.isclose(a, b, rel_tol=1e-12)
                                         for a, b in zip(result.lrs, expected)), result.lrs


def test_lr_find_losses_are_those_of_training_a_copy_by_hand():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     start_lr=1e-3, end_lr=1.0, steps=8, l2=1e-4, diverge=1e9)
    twin = MLP(2, [6, 1], seed=0)
    opt = optim.SGD(twin.parameters(), lr=0.1)
    for lr, recorded in zip(result.lrs, result.losses):
        loss = hinge_loss([twin(x) for x in X], y) + 1e-4 * l2_penalty(twin.parameters())
        assert loss.data == recorded, f"at lr {lr:.3g}: by hand {loss.data!r}, lr_find {recorded!r}"
        opt.lr = lr
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_lr_find_stops_when_the_smoothed_loss_blows_up():
    X, y = _moons()
    model = MLP(2, [6, 6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     start_lr=1e-3, end_lr=1e4, steps=60)
    assert result.stopped_early and len(result.lrs) < 60, f"{len(result.lrs)} steps, no stop"
    assert result.smoothed[-1] > 4 * min(result.smoothed), (result.smoothed[-1], min(result.smoothed))


def test_lr_find_smoothed_curve_is_the_bias_corrected_moving_average():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     steps=10, smoothing=0.8, diverge=1e9)
    average = 0.0
    for i, (loss, smoothed) in enumerate(zip(result.losses, result.smoothed)):
        average = 0.8 * average + 0.2 * loss
        assert math.isclose(smoothed, average / (1 - 0.8 ** (i + 1)), rel_tol=1e-12), i


def test_lr_find_suggests_a_tenth_of_the_rate_at_the_smoothed_minimum():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1))
    best = result.lrs[result.smoothed.index(min(result.smoothed))]
    assert result.method == "min/10" and result.suggestion == best / 10, (result.suggestion, best)


def test_lr_find_steepest_suggestion_is_where_the_smoothed_loss_falls_fastest():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     suggest="steepest")
    logs, s = [math.log10(lr) for lr in result.lrs], result.smoothed
    low = s.index(min(s))
    slopes = {i: (s[i + 1] - s[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(1, low)}
    assert result.suggestion == result.lrs[min(slopes, key=slopes.get)]


def test_lr_find_copy_keeps_optimizer_type_and_hyperparameters():
    model, opt = _trained(optim.Adam, lr=0.02, betas=(0.8, 0.9), weight_decay=0.1)
    model_copy, opt_copy = copy_for_search(model, opt)
    assert type(opt_copy) is optim.Adam and opt_copy.hyperparameters() == opt.hyperparameters()
    assert opt_copy.params == model_copy.parameters()
    assert not set(map(id, opt_copy.params)) & set(map(id, model.parameters())), "shares Values"


def test_lr_find_does_not_record_into_diagnostics_attached_to_the_model():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    with Diagnostics(model) as diag:
        lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1), steps=5)
        assert all(outputs == [] for outputs in diag._captured.values()), "the copy ran the hooks"


def test_lr_find_rejects_an_optimizer_of_another_model():
    X, y = _moons()
    model, other = MLP(2, [6, 1], seed=0), MLP(2, [6, 1], seed=1)
    with pytest.raises(ValueError, match="not a parameter of the model"):
        lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(other.parameters(), lr=0.1))


def test_lr_find_rejects_an_end_rate_below_the_start():
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    with pytest.raises(ValueError, match="end_lr"):
        lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                start_lr=1.0, end_lr=0.1)


def test_lr_find_plot_marks_the_suggestion_on_a_log_axis():
    pytest.importorskip("matplotlib")
    X, y = _moons()
    model = MLP(2, [6, 1], seed=0)
    result = lr_find(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     steps=20)
    ax = result.plot().axes[0]
    marks = [line for line in ax.get_lines() if line.get_label().startswith("suggestion")]
    assert ax.get_xscale() == "log" and ax.get_xlabel() and ax.get_ylabel()
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [result.suggestion] * 2
