"""Learning-rate schedulers: the same 100-step lr sequences as torch.optim.lr_scheduler, state dicts."""

import json
import math
import warnings

import pytest

import nn
from autograd_core import Value
from nn import schedulers as S
from nn.optim import SGD, Adam, RMSprop

CASES = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 1, "gamma": 0.9}),
    ("MultiStepLR", {"milestones": [10, 30, 30, 75]}),
    ("MultiStepLR", {"milestones": [50, 5], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("CosineAnnealingLR", {"T_max": 100}),
    ("CosineAnnealingLR", {"T_max": 30, "eta_min": 0.001}),  # goes past T_max, back up and down
    ("CosineAnnealingLR", {"T_max": 7}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.05, "end_factor": 0.5, "total_iters": 60}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 100}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 100}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 101, "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 100, "three_phase": True, "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 2.0, "total_steps": 150, "div_factor": 10.0, "final_div_factor": 100.0,
                    "pct_start": 0.4}),
    ("LambdaLR", {"lr_lambda": lambda k: 0.97 ** k + 0.01 * (k % 3)}),
]


def _id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr_lambda") + ")"


def ours_sequence(name, kwargs, steps=100, lr=0.1):
    opt = SGD([Value(1.0)], lr=lr, momentum=0.9)
    sched = getattr(S, name)(opt, **kwargs)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        assert lrs[-1] == opt.lr
    return lrs


def torch_sequence(torch, name, kwargs, steps=100, lr=0.1):
    p = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    lrs = [sched.get_last_lr()[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
    return lrs


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_scheduler_matches_torch_for_100_steps(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    ours, theirs = ours_sequence(name, kwargs), torch_sequence(torch, name, kwargs)
    bad = [(k, a, b) for k, (a, b) in enumerate(zip(ours, theirs))
           if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)]
    assert not bad, f"{name}: lr differs at (step, ours, torch): {bad[:5]}"


def test_onecycle_cycles_momentum_and_beta1_like_torch():
    torch = pytest.importorskip("torch")
    for ours_cls, torch_cls, read in [(SGD, torch.optim.SGD, lambda o: o.momentum),
                                      (RMSprop, torch.optim.RMSprop, lambda o: o.momentum),
                                      (Adam, torch.optim.Adam, lambda o: o.betas[0])]:
        opt = ours_cls([Value(1.0)], lr=0.1)
        sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=50)
        t_opt = torch_cls([torch.zeros((), requires_grad=True)], lr=0.1)
        t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=1.0, total_steps=50)
        key = "betas" if ours_cls is Adam else "momentum"
        t_read = (lambda g: g["betas"][0]) if key == "betas" else (lambda g: g["momentum"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(50):
                assert math.isclose(read(opt), t_read(t_opt.param_groups[0]), rel_tol=1e-12)
                opt.step()
                t_opt.step()
                sched.step()
                t_sched.step()


def test_onecycle_without_cycle_momentum_leaves_momentum_alone():
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
    sched.step()
    assert opt.momentum == 0.0


def test_two_schedulers_on_one_optimizer_chain_like_torch():
    torch = pytest.importorskip("torch")
    opt = SGD([Value(1.0)], lr=0.1)
    a, b = S.LinearLR(opt, start_factor=0.2, total_iters=10), S.ExponentialLR(opt, gamma=0.9)
    p = torch.zeros((), requires_grad=True)
    t_opt = torch.optim.SGD([p], lr=0.1)
    ta = torch.optim.lr_scheduler.LinearLR(t_opt, start_factor=0.2, total_iters=10)
    tb = torch.optim.lr_scheduler.ExponentialLR(t_opt, gamma=0.9)
    for _ in range(30):
        opt.step()
        t_opt.step()
        for s in (a, b, ta, tb):
            s.step()
        assert math.isclose(opt.lr, t_opt.param_groups[0]["lr"], rel_tol=1e-12)


# --- behaviour -------------------------------------------------------------------------------------


def test_scheduler_construction_sets_the_initial_lr_like_torch():
    opt = SGD([Value(1.0)], lr=0.3)
    S.LinearLR(opt, start_factor=0.5)
    assert opt.lr == 0.15
    opt = SGD([Value(1.0)], lr=0.3)
    S.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert math.isclose(opt.lr, 1.0 / 25.0, rel_tol=1e-12)


def test_scheduler_get_last_lr_is_a_list():
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.StepLR(opt, step_size=2)
    assert sched.get_last_lr() == [0.1] and sched.base_lrs == [0.1]


def test_onecycle_past_total_steps_raises_and_changes_nothing():
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)
    for _ in range(5):
        sched.step()
    lr, epoch = opt.lr, sched.last_epoch
    with pytest.raises(ValueError, match="total steps is 5"):
        sched.step()
    assert (opt.lr, sched.last_epoch) == (lr, epoch)


def test_onecycle_linear_overshoot_at_total_steps_raises_instead_of_a_negative_lr():
    # PyTorch allows step number == total_steps, where linear annealing overshoots below zero and
    # sets a negative lr (gradient ascent); our optimizers refuse it with a clear error
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.OneCycleLR(opt, max_lr=0.5, total_steps=100, anneal_strategy="linear")
    for _ in range(99):
        sched.step()
    momentum = opt.momentum
    with pytest.raises(ValueError, match="OneCycleLR step 100.*learning rate"):
        sched.step()
    assert opt.lr > 0 and sched.last_epoch == 99 and opt.momentum == momentum


def test_lambda_producing_a_bad_lr_raises_and_changes_nothing():
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.LambdaLR(opt, lambda k: 1.0 if k < 3 else -1.0)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="learning rate"):
        sched.step()
    assert opt.lr == 0.1 and sched.last_epoch == 2 and sched.get_last_lr() == [0.1]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "LambdaLR"], ids=_id)
def test_scheduler_state_dict_round_trips_through_json_and_resumes(case):
    name, kwargs = case
    full = ours_sequence(name, kwargs, steps=40)
    opt = SGD([Value(1.0)], lr=0.1, momentum=0.9)
    sched = getattr(S, name)(opt, **kwargs)
    for _ in range(15):
        sched.step()
    saved_sched, saved_opt = json.dumps(sched.state_dict()), json.dumps(opt.state_dict())
    opt2 = SGD([Value(1.0)], lr=0.1, momentum=0.9)
    sched2 = getattr(S, name)(opt2, **kwargs)
    opt2.load_state_dict(json.loads(saved_opt))
    sched2.load_state_dict(json.loads(saved_sched))
    rest = []
    for _ in range(25):
        sched2.step()
        rest.append(opt2.lr)
    assert rest == full[16:41]


def test_lambda_scheduler_state_dict_round_trip():
    opt = SGD([Value(1.0)], lr=0.1)
    sched = S.LambdaLR(opt, lambda k: 1 / (k + 1))
    for _ in range(4):
        sched.step()
    other = S.LambdaLR(SGD([Value(1.0)], lr=0.1), lambda k: 1 / (k + 1))
    other.load_state_dict(json.loads(json.dumps(sched.state_dict())))
    other.step()
    sched.step()
    assert other.get_last_lr() == sched.get_last_lr()


@pytest.mark.parametrize("damage,match", [
    (lambda s: s.update(type="StepLR"), "belongs to"),
    (lambda s: s.update(T_max=0), "T_max"),
    (lambda s: s.update(last_epoch="3"), "last_epoch"),
    (lambda s: s.update(base_lrs=[float("nan")]), "base_lrs"),
    (lambda s: s.update(base_lrs=[0.1, 0.1]), "base_lrs must hold 1"),
    (lambda s: s.pop("eta_min"), "expected keys"),
])
def test_scheduler_bad_state_dict_raises_and_changes_nothing(damage, match):
    sched = S.CosineAnnealingLR(SGD([Value(1.0)], lr=0.1), T_max=10)
    sched.step()
    before = sched.state_dict()
    state = json.loads(json.dumps(before))
    damage(state)
    with pytest.raises(ValueError, match=match):
        sched.load_state_dict(state)
    assert sched.state_dict() == before


@pytest.mark.parametrize("make,error,match", [
    (lambda o: S.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: S.MultiStepLR(o, milestones=[1.5]), TypeError, "milestones"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: S.LinearLR(o, start_factor=0.0), ValueError, "Starting multiplicative factor"),
    (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "Ending multiplicative factor"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "total_steps"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: S.LambdaLR(o, 0.5), TypeError, "lr_lambda"),
    (lambda o: S.StepLR(object(), step_size=1), TypeError, "no `param_groups`"),
])
def test_scheduler_bad_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make(SGD([Value(1.0)], lr=0.1))


def test_schedulers_reachable_from_nn():
    assert nn.schedulers.StepLR is S.StepLR


# --- through param_groups ---------------------------------------------------------------------------


def test_scheduler_writes_the_lr_of_every_param_group():
    opt = SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": 0.5}], lr=0.1)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    got = [g["lr"] for g in opt.param_groups]
    assert got == [0.05, 0.25], f"expected [0.05, 0.25], got {got}"
    assert sched.base_lrs == [0.1, 0.5] and sched.get_last_lr() == got


def test_scheduler_follows_an_lr_set_in_the_group_like_torch():
    torch = pytest.importorskip("torch")
    opt = SGD([Value(1.0)], lr=0.1)
    t_opt = torch.optim.SGD([torch.zeros((), dtype=torch.float64, requires_grad=True)], lr=0.1)
    sched, t_sched = S.ExponentialLR(opt, gamma=0.9), torch.optim.lr_scheduler.ExponentialLR(t_opt, 0.9)
    for k in range(6):
        if k == 3:
            opt.param_groups[0]["lr"] = t_opt.param_groups[0]["lr"] = 0.7
        opt.step(), t_opt.step(), sched.step(), t_sched.step()
        assert opt.param_groups[0]["lr"] == t_opt.param_groups[0]["lr"], k


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("CosineAnnealingLR", "OneCycleLR")],
                         ids=_id)
def test_scheduler_two_groups_match_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    opt = Adam([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": 0.03}], lr=0.1)
    t_params = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in range(2)]
    t_opt = torch.optim.Adam([{"params": t_params[:1]}, {"params": t_params[1:], "lr": 0.03}], lr=0.1)
    sched = getattr(S, name)(opt, **kwargs)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    for k in range(40):
        opt.step(), t_opt.step(), sched.step(), t_sched.step()
        for g, t in zip(opt.param_groups, t_opt.param_groups):
            assert math.isclose(g["lr"], t["lr"], rel_tol=1e-12), (k, g["lr"], t["lr"])
            assert math.isclose(g["betas"][0], t["betas"][0], rel_tol=1e-12), (k, g["betas"], t["betas"])
