"""nn.train: fit learns, records a History, validates without a graph, stops early, calls back."""

import json
import math
import sys

import pytest

from autograd_core import Value, is_grad_enabled, sum_values
import nn
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


# --- inputs checked before the first step (issue 11, item 4) ---------------------------------------



def _untouched(model, call):
    """Run `call`, which must raise; return (exception, whether the weights stayed the same)."""
    before = model.state_dict()
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    return info.value, model.state_dict() == before


def test_fit_accepts_numpy_arrays_and_matches_lists():
    numpy = pytest.importorskip("numpy")
    X, y = _moons(12)
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    from_lists = _fit(a, X, y, steps=3)
    from_arrays = _fit(b, numpy.array(X), numpy.array(y), steps=3)
    assert from_arrays.loss == from_lists.loss, f"{from_arrays.loss} != {from_lists.loss}"


def test_fit_numpy_int_labels_keep_accuracy_tracking():
    numpy = pytest.importorskip("numpy")
    X = numpy.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    y = numpy.array([0, 1, 2])  # numpy.int64 labels
    model = MLP(2, [4, 3], seed=0)
    history = _fit(model, X, y, loss="ce", optimizer=optim.SGD(model.parameters(), lr=0.5), steps=2)
    assert len(history.accuracy) == 2, f"expected an accuracy per step, got {history.accuracy}"


def test_evaluate_and_predict_accept_numpy_arrays():
    numpy = pytest.importorskip("numpy")
    X, y = _moons(8)
    model = MLP(2, [3, 1], seed=0)
    assert evaluate(model, numpy.array(X), numpy.array(y), "hinge") == evaluate(model, X, y, "hinge")
    assert predict(model, numpy.array(X)) == predict(model, X)


@pytest.mark.parametrize("where, bad", [("X", float("nan")), ("X", float("inf")),
                                        ("y", float("nan")), ("y", float("-inf"))])
def test_fit_refuses_non_finite_data_naming_the_argument_and_changes_nothing(where, bad):
    X, y = _moons(6)
    X, y = [list(r) for r in X], list(y)
    if where == "X":
        X[3][1] = bad
    else:
        y[3] = bad
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, y, loss="mse"))
    at = "X[3][1]" if where == "X" else "y[3]"
    assert f"fit: {at} is {bad}" in str(error), f"expected the entry named, got: {error}"
    assert same, "the weights changed although fit refused the data"


@pytest.mark.parametrize("setting, value", [("l2", float("inf")), ("l2", float("nan")),
                                            ("l2", -1.0), ("steps", 2.5), ("eval_every", 0)])
def test_fit_refuses_bad_settings_naming_them(setting, value):
    X, y = _moons(6)
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, y, **{setting: value}))
    assert f"fit: {setting}" in str(error) and same, f"got: {error}"


def test_fit_refuses_ragged_rows_before_the_first_step():
    X, y = [[0.0, 1.0], [1.0, 0.0], [0.5]], [1.0, -1.0, 1.0]
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, y, batch_size=1, shuffle=False))
    assert "fit: X[2] has 1 numbers but the first row has 2" in str(error), f"got: {error}"
    assert same, "the weights changed before the ragged row was found"


def test_fit_bce_refuses_minus_one_targets_before_training():
    X, y = _moons(6)  # labels -1 / +1
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, y, loss="bce"))
    assert "not in [0, 1]" in str(error) and same, f"got: {error}"


def test_fit_hinge_refuses_zero_one_targets_before_training():
    X, _ = _moons(6)
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, [0, 1, 0, 1, 0, 1], loss="hinge"))
    assert "not -1 or +1" in str(error) and "to_pm1" in str(error) and same, f"got: {error}"


def test_fit_cross_entropy_refuses_a_class_the_model_cannot_output_in_one_short_line():
    X = [[float(i), 1.0] for i in range(20)]
    y = [i % 3 for i in range(20)]
    model = MLP(2, [4, 1], seed=0)  # one output, three classes
    error, same = _untouched(model, lambda: _fit(model, X, y, loss="ce"))
    message = str(error)
    assert "1 output" in message and "\n" not in message and len(message) < 200, message
    assert same, "the weights changed"


def test_fit_cross_entropy_refuses_non_integer_class_indices():
    model = MLP(2, [4, 3], seed=0)
    error, _ = _untouched(model, lambda: _fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1.5], loss="ce"))
    assert "y[1] = 1.5 is not a class index" in str(error), f"got: {error}"


def test_fit_refuses_bad_validation_data_before_training():
    X, y = _moons(6)
    model = MLP(2, [3, 1], seed=0)
    error, same = _untouched(model, lambda: _fit(model, X, y, validation_data=([[0.0, 1.0]], [0.5])))
    assert "validation_data y[0] = 0.5" in str(error) and same, f"got: {error}"


def test_early_stopping_refuses_an_unknown_monitor():
    with pytest.raises(ValueError, match=r"monitor must be one of 'val_loss', .*got 'bogus'"):
        EarlyStopping(monitor="bogus")


def test_early_stopping_on_accuracy_needs_a_task_with_accuracy():
    X, y = [[0.0], [1.0]], [1.0, 2.0]
    with pytest.raises(ValueError, match="records no accuracy"):
        _fit(MLP(1, [1], seed=0), X, y, loss="mse", validation_data=(X, y),
             callbacks=[EarlyStopping(monitor="val_accuracy")])


def test_fit_mse_on_whole_number_targets_records_no_accuracy():
    X, y = [[0.0], [1.0]], [1.0, 2.0]
    history = _fit(MLP(1, [1], seed=0), X, y, loss="mse", steps=2, validation_data=(X, y))
    assert history.accuracy == [] and history.val_accuracy == [], \
        f"regression must record no accuracy, got {history.accuracy}, {history.val_accuracy}"


@pytest.mark.parametrize("name, targets, outputs", [
    ("hinge", [1.0, -1.0], 1), ("hinge_loss", [1.0, -1.0], 1),
    ("bce", [1, 0], 1), ("binary_cross_entropy_with_logits", [1, 0], 1),
    ("ce", [1, 0], 2), ("cross_entropy", [1, 0], 2),
    ("mse", [0.5, 1.5], 1), ("mse_loss", [0.5, 1.5], 1),
    ("l1", [0.5, 1.5], 1), ("l1_loss", [0.5, 1.5], 1),
])
def test_fit_accepts_every_documented_loss_name(name, targets, outputs):
    model = MLP(2, [3, outputs], seed=0)
    history = _fit(model, [[0.0, 1.0], [1.0, 0.0]], targets, loss=name, steps=2)
    assert len(history.loss) == 2 and all(math.isfinite(v) for v in history.loss), history.loss


def test_fit_binary_cross_entropy_on_probabilities_by_its_full_name():
    from nn import Sequential, Sigmoid

    model = Sequential(MLP(2, [3, 1], seed=0), Sigmoid())
    history = _fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], loss="binary_cross_entropy", steps=2)
    assert len(history.accuracy) == 2, "binary_cross_entropy is classification: accuracy expected"


def test_loss_function_is_public_and_names_the_choices_when_unknown():
    from nn.train import loss_function

    assert loss_function("l1")[0] == "l1_loss"
    with pytest.raises(ValueError, match=r"unknown; use one of 'hinge', .*'l1_loss'"):
        loss_function("huber")


def test_fit_splits_into_functions_a_reader_can_follow():
    import ast
    import inspect

    import nn.train

    tree = ast.parse(inspect.getsource(nn.train))
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > 40]
    assert not long, f"functions over 40 lines in nn/train.py: {long}"


@pytest.mark.parametrize("loss,labels", [("hinge", "pm1"), ("bce", "01"), ("ce", "01"), ("mse", "pm1")])
def test_fit_compiled_gives_the_eager_history_and_weights(loss, labels):
    from nn.data import make_moons
    X, y = make_moons(40, noise=0.1, seed=3)
    if labels == "pm1":
        y = [2.0 * t - 1.0 for t in y]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [6, 2 if loss == "ce" else 1], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        history = fit(model, X, y, loss=loss, optimizer=opt, steps=6, batch_size=16, l2=1e-3,
                      seed=1, progress=False, compile=compiled)
        runs.append((history.loss, history.accuracy, model.state_dict()))
    assert runs[0] == runs[1], f"compiled {runs[1][0]} vs eager {runs[0][0]}"


def test_fit_live_adds_the_live_view_and_refuses_a_non_bool():
    from nn.data import make_moons
    X, y = make_moons(20, noise=0.1, seed=3)
    y = [2.0 * t - 1.0 for t in y]
    model = nn.MLP(2, [4, 1], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="fit: live"):
        fit(model, X, y, loss="hinge", optimizer=opt, steps=2, live="yes", progress=False)
    history = fit(model, X, y, loss="hinge", optimizer=opt, steps=2, live=True, progress=False)
    assert len(history.loss) == 2
