"""nn.train: fit learns, records a History, validates without a graph, stops early, calls back."""

import json
import math
import sys

import pytest

from autograd_core import Value, is_grad_enabled, sum_values
from nn import MLP, cli, optim
from nn.data import make_moons, to_pm1
from nn.train import EarlyStopping, History, evaluate, fit, predict, predict_classes


def _moons(n=40, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return X, to_pm1(y)


def _fit(model, X, y, **kwargs):
    kwargs.setdefault("loss", "hinge")
    kwargs.setdefault("optimizer", optim.SGD(model.parameters(), lr=0.5))
    kwargs.setdefault("steps", 5)
    kwargs.setdefault("progress", False)
    return fit(model, X, y, **kwargs)


# --- learning ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", cli.DATASETS)
def test_fit_decreases_loss_on_every_dataset_with_cli_defaults(dataset):
    # the demo command's defaults for this dataset, on fewer points and steps to stay quick
    run = cli.Run(cli.parse_train_args(["--dataset", dataset, "--samples", "60", "--steps", "40"]))
    history = run.fit()
    first, last = history.loss[0], sum(history.loss[-5:]) / 5
    assert last < 0.6 * first, f"{dataset}: loss went {first:.4f} -> {last:.4f}, expected < 60% of the start"


def test_fit_reaches_full_accuracy_on_the_default_demo_subset():
    run = cli.Run(cli.parse_train_args(["--samples", "40", "--steps", "60"]))
    run.fit()
    acc = evaluate(run.model, run.X, run.y, "hinge")["accuracy"]
    assert acc == 1.0, f"expected 100% training accuracy on 40 moons, got {acc:.1%}"


# --- History -------------------------------------------------------------------------------------


def test_fit_records_one_entry_per_step():
    X, y = _moons()
    history = _fit(MLP(2, [4, 1], seed=0), X, y, steps=7)
    lengths = {k: len(getattr(history, k)) for k in ("step", "loss", "accuracy", "lr")}
    assert set(lengths.values()) == {7}, f"expected 7 entries each, got {lengths}"
    assert history.step == list(range(1, 8)), f"steps should count 1..7, got {history.step}"


def test_fit_records_the_scheduled_learning_rate_of_each_step():
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = cli._make_scheduler(cli.parse_train_args(["--steps", "4"]), opt)  # linear 1.0 -> 0.1
    history = _fit(model, X, y, optimizer=opt, scheduler=sched, steps=4)
    expected = [1.0, 0.775, 0.55, 0.325]
    assert all(math.isclose(a, b) for a, b in zip(history.lr, expected)), \
        f"expected {expected}, got {history.lr}"


def test_history_to_dict_is_json_serialisable_with_nan_as_null():
    history = History(step=[1], loss=[float("nan")], lr=[0.1])
    text = json.dumps(history.to_dict(), allow_nan=False)
    assert json.loads(text)["loss"] == [None], f"NaN should become null, got {text}"


def test_history_per_epoch_averages_each_epoch():
    history = History(step=[1, 2, 3, 4], epoch=[0, 0, 1, 1], loss=[4.0, 2.0, 1.0, 0.0])
    assert history.per_epoch("loss") == [3.0, 0.5], f"got {history.per_epoch('loss')}"


def test_fit_epochs_runs_len_loader_steps_per_epoch():
    X, y = _moons(10)
    history = _fit(MLP(2, [3, 1], seed=0), X, y, steps=None, epochs=2, batch_size=3)
    assert history.step[-1] == 8, f"10 rows, batches of 3: 4 steps per epoch; got {history.step[-1]}"
    assert history.epoch == [0] * 4 + [1] * 4, f"got epochs {history.epoch}"


def test_fit_needs_exactly_one_of_steps_and_epochs():
    X, y = _moons(10)
    with pytest.raises(ValueError, match="exactly one of steps="):
        _fit(MLP(2, [1], seed=0), X, y, steps=3, epochs=1)


# --- losses, L2, labels --------------------------------------------------------------------------


def test_fit_hinge_with_01_labels_points_to_to_pm1():
    X, y = make_moons(10, seed=0)
    with pytest.raises(ValueError, match="to_pm1"):
        _fit(MLP(2, [1], seed=0), X, y)


def test_fit_l2_adds_the_squared_parameters_to_the_loss():
    X, y = _moons(10)
    a, b = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=1)
    plain = _fit(a, X, y, steps=1).loss[0]
    with_l2 = _fit(b, X, y, steps=1, l2=0.5).loss[0]
    penalty = 0.5 * sum(p.data ** 2 for p in MLP(2, [3, 1], seed=1).parameters())
    assert math.isclose(with_l2 - plain, penalty), f"expected the L2 term {penalty}, got {with_l2 - plain}"


def test_fit_cross_entropy_counts_argmax_accuracy():
    X = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    y = [0, 1, 2]
    model = MLP(2, [8, 3], seed=0)
    history = _fit(model, X, y, loss="ce", optimizer=optim.SGD(model.parameters(), lr=0.5), steps=40)
    assert history.accuracy[-1] == 1.0, f"3 separable points: expected 100%, got {history.accuracy[-1]:.0%}"


def test_fit_custom_loss_function_is_called_with_outputs_and_targets():
    X, y = [[0.0], [1.0]], [0.5, 1.5]
    seen = []

    def loss(outputs, targets):
        seen.append((len(outputs), targets))
        return sum_values([(o - t) ** 2 for o, t in zip(outputs, targets)])

    history = _fit(MLP(1, [1], seed=0), X, y, loss=loss, steps=2)
    assert seen == [(2, [0.5, 1.5])] * 2, f"got calls {seen}"
    assert history.accuracy == [], "regression targets (non-integers) must not get an accuracy"


def test_fit_stops_with_a_warning_when_the_loss_is_nan():
    X, y = [[0.0], [1.0]], [0.0, 1.0]
    with pytest.warns(RuntimeWarning, match="diverged"):
        history = _fit(MLP(1, [1], seed=0), X, y, loss=lambda o, t: sum_values(o) * float("nan"),
                       steps=10, accuracy=False)
    assert history.stopped_step == 1, f"expected a stop at step 1, got {history.stopped_step}"


# --- validation, early stopping, callbacks -------------------------------------------------------


def test_fit_validates_under_no_grad():
    X, y = _moons(10)
    modes = []

    def loss(outputs, targets):
        modes.append(is_grad_enabled())
        return sum_values([(1 - t * o).relu() for o, t in zip(outputs, targets)])

    _fit(MLP(2, [2, 1], seed=0), X, y, loss=loss, steps=2, validation_data=(X, y))
    assert modes == [True, False, True, False], f"train/validate grad modes: {modes}"


def test_fit_records_validation_every_eval_every_steps():
    X, y = _moons(10)
    history = _fit(MLP(2, [2, 1], seed=0), X, y, steps=5, eval_every=2, validation_data=(X, y))
    assert history.val_step == [2, 4, 5], f"expected steps 2, 4, 5 (last), got {history.val_step}"
    assert len(history.val_loss) == len(history.val_accuracy) == 3


def test_early_stopping_restores_the_best_weights():
    # training pushes outputs towards +1 while the validation targets are -1: val loss only grows
    X, y = [[1.0], [2.0]], [1.0, 1.0]
    model = MLP(1, [1], seed=0)
    snapshots = {}

    def snapshot(step, logs):
        snapshots[step] = model.state_dict()

    history = _fit(model, X, y, loss="mse", steps=50, validation_data=(X, [-1.0, -1.0]),
                   callbacks=[snapshot, EarlyStopping(patience=3)])
    assert history.best_step == 1, f"the first evaluation is the best, got best_step={history.best_step}"
    assert history.stopped_step == 4, f"patience 3 stops at step 4, got {history.stopped_step}"
    assert model.state_dict() == snapshots[1], "the weights of step 1 were not restored"


def test_early_stopping_without_validation_data_says_what_to_pass():
    X, y = _moons(10)
    with pytest.raises(ValueError, match="validation_data"):
        _fit(MLP(2, [1], seed=0), X, y, callbacks=[EarlyStopping(patience=2)])


def test_callback_returning_true_stops_training():
    X, y = _moons(10)
    history = _fit(MLP(2, [1], seed=0), X, y, steps=10, callbacks=[lambda step, logs: step == 3])
    assert history.step[-1] == 3 and history.stopped_step == 3, f"got steps {history.step}"


def test_callback_receives_step_loss_accuracy_and_lr():
    X, y = _moons(10)
    logs_seen = []
    _fit(MLP(2, [1], seed=0), X, y, steps=1, callbacks=[lambda step, logs: logs_seen.append(logs)])
    assert {"step", "loss", "accuracy", "lr"} <= set(logs_seen[0]), f"got keys {sorted(logs_seen[0])}"


# --- progress bar --------------------------------------------------------------------------------


def test_fit_text_progress_bar_shows_step_loss_accuracy_and_lr(capsys):
    X, y = _moons(10)
    _fit(MLP(2, [1], seed=0), X, y, steps=3, progress="text")
    err = capsys.readouterr().err
    for part in ("3/3", "loss=", "acc=", "lr=0.5"):
        assert part in err, f"{part!r} missing from the progress line {err!r}"


def test_fit_falls_back_to_the_text_bar_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # `from tqdm.auto import tqdm` now fails
    X, y = _moons(10)
    _fit(MLP(2, [1], seed=0), X, y, steps=2, progress=True)
    err = capsys.readouterr().err
    assert "\rtrain 2/2 [" in err, f"expected the one-line text bar, got {err!r}"


def test_fit_progress_false_prints_nothing(capsys):
    X, y = _moons(10)
    _fit(MLP(2, [1], seed=0), X, y, steps=3, progress=False)
    captured = capsys.readouterr()
    assert captured.out == captured.err == "", f"expected silence, got {captured}"


# --- evaluate and predict ------------------------------------------------------------------------


def test_evaluate_returns_loss_and_accuracy_without_changing_mode():
    X, y = _moons(10)
    model = MLP(2, [3, 1], seed=0).train()
    result = evaluate(model, X, y, "hinge")
    assert set(result) == {"loss", "accuracy"} and 0.0 <= result["accuracy"] <= 1.0, f"got {result}"
    assert model.training, "evaluate must restore training mode"


def test_predict_returns_floats_for_one_output_and_lists_for_several():
    one = predict(MLP(2, [1], seed=0), [[0.0, 1.0]])
    many = predict(MLP(2, [3], seed=0), [[0.0, 1.0]])
    assert isinstance(one[0], float), f"expected a float, got {one[0]!r}"
    assert isinstance(many[0], list) and len(many[0]) == 3, f"expected 3 floats, got {many[0]!r}"


def test_predict_runs_under_no_grad_in_eval_mode():
    model = MLP(2, [2, 1], seed=0)
    seen = []
    forward = model.forward
    model.forward = lambda x: (seen.append((is_grad_enabled(), model.training)), forward(x))[1]
    predict(model, [[0.5, 0.5]])
    assert seen == [(False, False)], f"(grad enabled, training) during predict: {seen}"
    assert model.training, "predict must restore training mode"


def test_predict_classes_thresholds_one_output_and_argmaxes_several():
    class Fixed:
        training = False

        def __init__(self, out):
            self.out = out

        def __call__(self, x):
            return self.out

        def train(self, mode=True):
            return self

        def eval(self):
            return self

    assert predict_classes(Fixed(Value(0.3)), [[0.0], [0.0]]) == [1, 1]
    assert predict_classes(Fixed(Value(-0.3)), [[0.0]]) == [0]
    assert predict_classes(Fixed([Value(0.1), Value(2.0), Value(-1.0)]), [[0.0]]) == [1]
