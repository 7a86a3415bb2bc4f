"""Optimizers: torch.optim parity over 50 steps for every option combination; checked, atomic steps;
state dicts; gradient clipping."""

import itertools
import json
import math

import pytest

import nn
from autograd_core import Value
from nn.optim import SGD, Adam, AdamW, RMSprop, clip_grad_norm_

START = [-0.5, 1.2, 0.3, -0.8]


def objective(p):
    """A small non-convex problem, written once for Values and torch tensors alike."""
    a, b, c, d = p
    return ((1 - a) ** 2 + 5 * (b - a * a) ** 2 + (c * a - 0.5) ** 2 + (d.tanh() - 0.3) ** 2
            + 0.1 * (a * b * c * d))


def run_ours(cls, kwargs, steps=50):
    params = [Value(v) for v in START]
    opt = cls(params, **kwargs)
    sign = -1 if kwargs.get("maximize") else 1  # maximizing -f minimizes f: stays bounded
    for _ in range(steps):
        opt.zero_grad()
        (sign * objective(params)).backward()
        opt.step()
    return [p.data for p in params]


def run_torch(torch, cls_name, kwargs, steps=50):
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    opt = getattr(torch.optim, cls_name)(params, **kwargs)
    sign = -1 if kwargs.get("maximize") else 1
    for _ in range(steps):
        opt.zero_grad()
        (sign * objective(params)).backward()
        opt.step()
    return [p.item() for p in params]


def combos(**options):
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*options.values())]


def _id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


SGD_CASES = [c for c in combos(lr=[0.01], momentum=[0.0, 0.9], dampening=[0.0, 0.3],
                               weight_decay=[0.0, 0.1], nesterov=[False, True], maximize=[False, True])
             if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))]
ADAM_CASES = combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.95)], weight_decay=[0.0, 0.1],
                    amsgrad=[False, True], maximize=[False, True])
ADAMW_CASES = combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.95)], weight_decay=[0.0, 0.01, 0.5],
                     amsgrad=[False, True], maximize=[False, True])
RMSPROP_CASES = combos(lr=[0.01], alpha=[0.99, 0.9], eps=[1e-8], weight_decay=[0.0, 0.1],
                       momentum=[0.0, 0.9], centered=[False, True], maximize=[False, True])
PARITY = ([(SGD, "SGD", c) for c in SGD_CASES] + [(Adam, "Adam", c) for c in ADAM_CASES]
          + [(AdamW, "AdamW", c) for c in ADAMW_CASES] + [(RMSprop, "RMSprop", c) for c in RMSPROP_CASES])


@pytest.mark.parametrize("cls,name,kwargs", PARITY, ids=[f"{n}({_id(k)})" for _, n, k in PARITY])
def test_optimizer_matches_torch_over_50_steps(cls, name, kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(cls, kwargs)
    theirs = run_torch(torch, name, kwargs)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs))
           if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)]
    assert not bad, f"{name}({kwargs}) after 50 steps (index, ours, torch): {bad}"


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop])
def test_optimizer_defaults_match_torch(cls):
    torch = pytest.importorskip("torch")
    lr = {"SGD": 0.01}.get(cls.__name__, None)
    kwargs = {"lr": lr} if lr else {}
    ours = run_ours(cls, kwargs)
    theirs = run_torch(torch, cls.__name__, kwargs)
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(ours, theirs))


def test_optimizer_defaults_are_torchs():
    p = [Value(1.0)]
    assert Adam(p).hyperparameters() == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                         "weight_decay": 0.0, "amsgrad": False, "maximize": False}
    assert AdamW(p).weight_decay == 1e-2
    r = RMSprop(p)
    assert (r.lr, r.alpha, r.eps, r.momentum, r.centered) == (1e-2, 0.99, 1e-8, 0.0, False)


def test_optimizer_learning_rate_attribute_is_read_write():
    params = [Value(1.0)]
    opt = SGD(params, lr=0.1)
    opt.lr = 0.5
    params[0].grad = 2.0
    opt.step()
    assert opt.lr == 0.5 and params[0].data == 0.0


@pytest.mark.parametrize("bad,error", [(-0.1, ValueError), (float("nan"), ValueError),
                                       (float("inf"), ValueError), ("0.1", TypeError),
                                       (None, TypeError), (True, TypeError)])
def test_optimizer_bad_learning_rate_raises(bad, error):
    with pytest.raises(error, match="learning rate"):
        SGD([Value(1.0)], lr=bad)
    opt = Adam([Value(1.0)])
    with pytest.raises(error, match="learning rate"):
        opt.lr = bad
    assert opt.lr == 1e-3


@pytest.mark.parametrize("make,match", [
    (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: Adam(p, betas=(1.0, 0.9)), "beta parameter at index 0"),
    (lambda p: Adam(p, betas=(0.9,)), "pair"),
    (lambda p: Adam(p, eps=-1), "epsilon"),
    (lambda p: AdamW(p, weight_decay=-1), "weight_decay"),
    (lambda p: RMSprop(p, alpha=-0.5), "alpha"),
])
def test_optimizer_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([Value(1.0)])


@pytest.mark.parametrize("params,error,match", [
    ([], ValueError, "empty"),
    (Value(1.0), TypeError, "single Value"),
    ([1.0], TypeError, "not a Value"),
    (None, TypeError, "iterable"),
])
def test_optimizer_bad_params_raise(params, error, match):
    with pytest.raises(error, match=match):
        SGD(params, lr=0.1)


def test_optimizer_duplicate_params_raise():
    p = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)


def _trained(cls, **kwargs):
    params = [Value(v) for v in START]
    opt = cls(params, **kwargs)
    for _ in range(3):
        opt.zero_grad()
        objective(params).backward()
        opt.step()
    return params, opt


OPTIMIZERS = [(SGD, {"lr": 0.01, "momentum": 0.9}), (Adam, {"amsgrad": True}),
              (AdamW, {}), (RMSprop, {"centered": True, "momentum": 0.5})]


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_optimizer_nonfinite_grad_raises_and_changes_nothing(cls, kwargs, bad):
    params, opt = _trained(cls, **kwargs)
    before = ([p.data for p in params], json.dumps(opt.state_dict()))
    params[2].grad = bad
    with pytest.raises(ValueError, match=r"non-finite gradient.*params\[2\].*No parameter was changed"):
        opt.step()
    assert ([p.data for p in params], json.dumps(opt.state_dict())) == before


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
def test_optimizer_lr_made_invalid_behind_its_back_fails_the_step(cls, kwargs):
    params, opt = _trained(cls, **kwargs)
    before = ([p.data for p in params], json.dumps(opt.state_dict()))
    opt.param_groups[0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="learning rate"):
        opt.step()
    assert [p.data for p in params] == before[0]


def test_optimizer_update_that_overflows_raises_and_changes_nothing():
    params = [Value(1.0), Value(2.0)]
    opt = SGD(params, lr=1e300)
    params[0].grad, params[1].grad = 1.0, 1e300
    with pytest.raises(ValueError, match=r"params\[1\]"):
        opt.step()
    assert [p.data for p in params] == [1.0, 2.0]


def test_optimizer_steps_with_value_grads_from_create_graph():
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    opt = SGD([x], lr=0.1)
    opt.step()
    assert math.isclose(x.data, 3.0 - 0.1 * 6.0)


def test_optimizer_zero_grad():
    params, opt = _trained(SGD, lr=0.1)
    objective(params).backward()
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in params)


def test_optimizer_state_lives_in_the_optimizer():
    params, opt = _trained(Adam)
    state = opt.state_dict()
    assert state["steps"] == 3 and len(state["state"]) == len(params)
    assert state["state"]["0"]["step"] == 3 and set(state["state"]["0"]) == {"step", "exp_avg",
                                                                               "exp_avg_sq"}
    assert not any(hasattr(p, "__dict__") for p in params)


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
def test_optimizer_state_dict_round_trip_through_json_resumes_exactly(cls, kwargs):
    straight, opt = _trained(cls, **kwargs)
    for _ in range(4):
        opt.zero_grad()
        objective(straight).backward()
        opt.step()
    resumed, first = _trained(cls, **kwargs)
    text = json.dumps(first.state_dict())
    second = cls(resumed, **{**kwargs, "lr": 0.777})  # the saved lr wins, as in PyTorch
    second.load_state_dict(json.loads(text))
    assert second.lr == first.lr
    for _ in range(4):
        second.zero_grad()
        objective(resumed).backward()
        second.step()
    assert [p.data for p in resumed] == [p.data for p in straight]


@pytest.mark.parametrize("damage,error,match", [
    (lambda s: s.update(type="SGD"), ValueError, "belongs to"),
    (lambda s: s["state"].pop("2"), ValueError, "same keys, or none"),
    (lambda s: s["state"]["1"].__setitem__("exp_avg_sq", float("nan")), ValueError, "finite"),
    (lambda s: s["state"]["1"].__setitem__("exp_avg", "0.1"), TypeError, "exp_avg"),
    (lambda s: s["state"]["1"].__setitem__("step", 2), ValueError, "same step"),
    (lambda s: s["param_groups"][0].update(lr=-1.0), ValueError, "learning rate"),
    (lambda s: s["param_groups"][0].pop("eps"), ValueError, "eps"),
    (lambda s: s["param_groups"][0]["params"].pop(), ValueError, "4 parameter indices"),
    (lambda s: s["param_groups"].append(s["param_groups"][0]), ValueError, "1 group"),
    (lambda s: s.update(steps=-2), ValueError, "steps"),
    (lambda s: s.pop("state"), ValueError, "keys"),
])
def test_optimizer_bad_state_dict_raises_and_changes_nothing(damage, error, match):
    params, opt = _trained(Adam, amsgrad=True)
    before = json.dumps(opt.state_dict())
    state = json.loads(before)
    damage(state)
    with pytest.raises(error, match=match):
        opt.load_state_dict(state)
    assert json.dumps(opt.state_dict()) == before


def test_optimizer_repr():
    assert repr(SGD([Value(1.0)], lr=0.1)).startswith("SGD(1 parameters, lr=0.1, momentum=0.0")


# --- param_groups (PyTorch's shape) ---------------------------------------------------------------


def test_optimizer_param_groups_hold_params_and_settings():
    params = [Value(1.0), Value(2.0)]
    opt = SGD(params, lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["params"] == params and group["lr"] == 0.1 and group["momentum"] == 0.9
    assert set(group) == {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                          "maximize"}, sorted(group)


def test_optimizer_setting_group_lr_changes_the_next_step():
    params = [Value(1.0)]
    opt = SGD(params, lr=0.1)
    for group in opt.param_groups:
        group["lr"] = 0.5
    params[0].grad = 2.0
    opt.step()
    assert params[0].data == 1.0 - 0.5 * 2.0, f"expected 0.0, got {params[0].data}"
    assert opt.lr == 0.5


def test_optimizer_groups_with_their_own_settings_match_torch():
    torch = pytest.importorskip("torch")
    groups = lambda p: [{"params": p[:2]}, {"params": p[2:], "lr": 0.01, "betas": (0.8, 0.9)}]
    ours = [Value(v) for v in START]
    opt = Adam(groups(ours), lr=0.05)
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    t_opt = torch.optim.Adam(groups(theirs), lr=0.05)
    for _ in range(20):
        opt.zero_grad(), t_opt.zero_grad()
        objective(ours).backward(), objective(theirs).backward()
        opt.step(), t_opt.step()
    got, want = [p.data for p in ours], [p.item() for p in theirs]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, want)), (got, want)


def test_optimizer_add_param_group_matches_torch():
    torch = pytest.importorskip("torch")
    ours = [Value(v) for v in START]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    opt, t_opt = Adam(ours[:2], lr=0.05), torch.optim.Adam(theirs[:2], lr=0.05)
    for step in range(12):
        if step == 5:  # a group added later starts its own step count (bias correction)
            opt.add_param_group({"params": ours[2:], "lr": 0.02})
            t_opt.add_param_group({"params": theirs[2:], "lr": 0.02})
        opt.zero_grad(), t_opt.zero_grad()
        objective(ours).backward(), objective(theirs).backward()
        opt.step(), t_opt.step()
    got, want = [p.data for p in ours], [p.item() for p in theirs]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, want)), (got, want)


def test_optimizer_add_param_group_refuses_a_parameter_already_there():
    params = [Value(1.0), Value(2.0)]
    opt = SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [params[1]]})
    assert len(opt.param_groups) == 1


def test_optimizer_state_dict_has_torchs_shape():
    params, opt = _trained(SGD, lr=0.01, momentum=0.9)
    state = opt.state_dict()
    assert set(state) == {"type", "steps", "state", "param_groups"}
    assert state["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert set(state["state"]["0"]) == {"step", "momentum_buffer"}


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
def test_optimizer_5_steps_saved_and_5_resumed_equal_10_straight(cls, kwargs):
    def run(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            objective(params).backward()
            opt.step()

    def groups(params):
        return [{"params": params[:1]}, {"params": params[1:], "lr": 0.003}]

    straight = [Value(v) for v in START]
    run(straight, cls(groups(straight), **kwargs), 10)
    first_params = [Value(v) for v in START]
    first = cls(groups(first_params), **kwargs)
    run(first_params, first, 5)
    text = json.dumps(first.state_dict())
    resumed = [Value(p.data) for p in first_params]
    fresh = cls(groups(resumed), **kwargs)
    fresh.load_state_dict(json.loads(text))
    run(resumed, fresh, 5)
    assert [p.data for p in resumed] == [p.data for p in straight]


# --- clip_grad_norm_ -------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = [0.3, -1.7, 2.2, 0.0, -0.4]
    params = [Value(1.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    total = clip_grad_norm_(params, max_norm, norm_type)
    t_params = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in grads]
    for p, g in zip(t_params, grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type)
    assert math.isclose(total, t_total.item(), rel_tol=1e-12)
    assert all(math.isclose(p.grad, t.grad.item(), rel_tol=1e-12, abs_tol=1e-15)
               for p, t in zip(params, t_params))


def test_clip_grad_norm_error_if_nonfinite():
    p = Value(1.0)
    p.grad = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_optim_reachable_from_nn():
    assert nn.optim.SGD is SGD and nn.optim.clip_grad_norm_ is clip_grad_norm_
