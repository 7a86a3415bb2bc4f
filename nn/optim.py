"""Optimizers with torch.optim's names, defaults, update rules and `param_groups`, to float64 round-off.

Parameters come in groups (`param_groups`: dicts with "params", "lr" and the other settings), as in
PyTorch: set `group["lr"]` and the next step uses it. Each optimizer keeps its state (momentum
buffers, moment estimates) itself, per group, never on the Values. `step()` checks the gradients,
the settings and the results before it writes anything, so a bad step raises and changes nothing.
Notebook 05 compares SGD, momentum and Adam.
"""

from __future__ import annotations

import math
from typing import Iterable

from autograd_core import Value

from . import validation

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Optimizer", "clip_grad_norm_"]


# --- helpers ---------------------------------------------------------------------------------------


def _rate(name: str, value, *, high: float = math.inf) -> float:
    """A finite float in [0, high) (or [0, inf)): learning rates, momenta, betas, decays."""
    return validation.real(name, value, low=0.0, high=high, high_open=high != math.inf)


def _param_list(params, where: str, allow_groups: bool = False) -> list:
    """`params` as a list of Values (or, if `allow_groups`, of param-group dicts)."""
    if isinstance(params, Value):
        raise TypeError(f"{where} must be an iterable of Values, e.g. model.parameters(); "
                        f"got a single Value (wrap it in a list)")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{where} must be an iterable of Values, got {type(params).__name__}") from None
    kind = dict if allow_groups and params and isinstance(params[0], dict) else Value
    for i, p in enumerate(params):
        if not isinstance(p, kind):
            raise TypeError(f"{where}[{i}] is a {type(p).__name__}, not a "
                            f"{'param group (dict)' if kind is dict else 'Value'}")
    return params


def _grad(p: Value) -> float:
    g = p.grad
    if type(g) is float:
        return g
    return g.data if isinstance(g, Value) else float(g)  # a Value after backward(create_graph=True)


# --- the base class --------------------------------------------------------------------------------


class Optimizer:
    """Shared machinery: `param_groups`, `zero_grad()`, a checked `step()`, state dicts.

    A subclass lists its settings in `_hyper_names` (lr first), its per-parameter buffers in
    `_buffer_names`, validates settings in `_check_hyper`, and computes one update of one group in
    `_update`. `opt.lr` (and `opt.momentum`, ...) read the first group and write every group.
    """

    _hyper_names: tuple = ("lr",)
    _buffer_names: tuple = ()

    def __init__(self, params, **defaults) -> None:
        object.__setattr__(self, "defaults", self._check_hyper(defaults))
        object.__setattr__(self, "param_groups", [])
        self._state: list[dict] = []  # per group: {"step": n, buffer name: list of floats or None}
        self.steps = 0
        groups = _param_list(params, "params", allow_groups=True)
        if not groups:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own settings (missing ones from `defaults`)."""
        validation.mapping("param_group", param_group)
        if "params" not in param_group:
            raise ValueError("param_group must have a \"params\" entry (a list of Values)")
        params = _param_list(param_group["params"], "params")
        if not params:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(f"params[{i}] appears more than once; each parameter must be "
                                 f"listed once, in one group")
            seen.add(id(p))
        settings = {k: param_group.get(k, v) for k, v in self.defaults.items()}
        extras = {k: v for k, v in param_group.items() if k not in settings and k != "params"}
        self.param_groups.append({"params": params, **self._check_hyper(settings), **extras})
        self._state.append({"step": 0, **{name: None for name in self._buffer_names}})

    # --- settings: opt.lr and friends -------------------------------------------------------------

    def __getattr__(self, name: str):
        # only called for names not found normally: a setting reads the first group
        if name in type(self)._hyper_names and self.__dict__.get("param_groups"):
            return self.param_groups[0][name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in self._hyper_names:  # opt.lr = x sets every group, as a scheduler would
            for group in self.param_groups:
                checked = self._check_hyper({**self._settings(group), name: value})[name]
            for group in self.param_groups:
                group[name] = checked
        else:
            object.__setattr__(self, name, value)

    def _settings(self, group: dict) -> dict:
        return {k: group[k] for k in self._hyper_names}

    def _check_hyper(self, hyper: dict) -> dict:
        return {"lr": _rate("learning rate", hyper["lr"])}

    def hyperparameters(self) -> dict:
        """{name: value} of every setting of the first group, lr included."""
        return self._settings(self.param_groups[0])

    @property
    def params(self) -> list:
        """Every parameter, group after group."""
        return [p for group in self.param_groups for p in group["params"]]

    # --- stepping ---------------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0 (gradients of leaves accumulate across backward)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its `.grad`; raise and change nothing if anything is off."""
        # settings are checked every step: a bad lr written into a group fails here, changing nothing
        hypers = [self._check_hyper(self._settings(g)) for g in self.param_groups]
        updates, offset = [], 0
        for group, hyper, state in zip(self.param_groups, hypers, self._state):
            updates.append(self._group_update(group["params"], hyper, state, offset))
            offset += len(group["params"])
        for group, state, (new_datas, buffers) in zip(self.param_groups, self._state, updates):
            for p, value in zip(group["params"], new_datas):
                p.data = value
            state.update(buffers)
            state["step"] += 1
        self.steps += 1

    def _group_update(self, params: list, hyper: dict, state: dict, offset: int) -> tuple:
        """(new values, new buffers) of one group, checked; `offset` numbers its params in messages."""
        name = type(self).__name__
        datas = [p.data for p in params]
        grads = [_grad(p) for p in params]
        if not all(map(math.isfinite, grads)):
            bad = [f"params[{offset + i}]{_label(p)} grad={g!r}" for i, (p, g) in
                   enumerate(zip(params, grads)) if not math.isfinite(g)]
            raise ValueError(f"{name}.step(): non-finite gradient(s): {', '.join(bad[:5])}"
                             f"{' ...' if len(bad) > 5 else ''}. No parameter was changed. The loss "
                             f"probably diverged: lower the learning rate, clip gradients "
                             f"(nn.optim.clip_grad_norm_), or look for log(0) or a division by zero.")
        try:
            new_datas, buffers = self._update(datas, grads, hyper, state)
        except (ArithmeticError, ValueError) as exc:  # x/0, sqrt(<0)
            raise ValueError(f"{name}.step(): the update is undefined ({exc}); no parameter was "
                             f"changed. Is eps 0 with a zero gradient?") from None
        if not all(map(math.isfinite, new_datas)):
            i = next(i for i, v in enumerate(new_datas) if not math.isfinite(v))
            raise ValueError(f"{name}.step(): the update would make params[{offset + i}]"
                             f"{_label(params[i])} {new_datas[i]!r}; no parameter was changed. "
                             f"Lower the learning rate.")
        return new_datas, buffers

    def _update(self, datas: list, grads: list, hyper: dict, state: dict) -> tuple[list, dict]:
        """(new parameter values, new buffers) of one group from its current ones; must not modify
        anything. `state` holds the group's buffers and "step", the number of steps taken so far."""
        raise NotImplementedError

    # --- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """A JSON-ready dict shaped like PyTorch's: "state" per parameter index, and "param_groups"
        (settings, with "params" as indices), plus the optimizer's type and step count."""
        groups, state, index = [], {}, 0
        for group, group_state in zip(self.param_groups, self._state):
            ids = list(range(index, index + len(group["params"])))
            index += len(ids)
            settings = {k: list(v) if isinstance(v, tuple) else v for k, v in group.items()
                        if k != "params"}
            groups.append({**settings, "params": ids})
            if group_state["step"] == 0:
                continue  # PyTorch, too, has no state for a parameter before its first step
            buffers = {k: v for k, v in group_state.items() if k != "step" and v is not None}
            for j, i in enumerate(ids):
                state[str(i)] = {"step": group_state["step"], **{k: v[j] for k, v in buffers.items()}}
        return {"type": type(self).__name__, "steps": self.steps, "state": state,
                "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict()` returned, for the same parameter groups; validated first."""
        where = f"{type(self).__name__}.load_state_dict"
        try:
            groups, states, steps = self._parse_state_dict(state_dict)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{where}: {exc}; nothing was changed") from None
        for group, settings in zip(self.param_groups, groups):
            group.update(settings)
        self._state = states
        self.steps = steps

    def _parse_state_dict(self, state_dict) -> tuple[list, list, int]:
        validation.mapping("state_dict", state_dict, keys=("type", "steps", "state", "param_groups"))
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"this state belongs to a {state_dict['type']!r:.40} optimizer")
        steps = validation.integer("steps", state_dict["steps"], minimum=0)
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list) or len(saved_groups) != len(self.param_groups):
            raise ValueError(f"param_groups must be a list of {len(self.param_groups)} group(s), "
                             f"one per group of this optimizer")
        per_param = validation.mapping("state", state_dict["state"])
        groups, states = [], []
        for k, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            groups.append(self._parse_group(k, saved, len(group["params"])))
            states.append(self._parse_group_state(k, saved["params"], per_param))
        return groups, states, steps

    def _parse_group(self, k: int, saved, size: int) -> dict:
        validation.mapping(f"param_groups[{k}]", saved)
        missing = [n for n in ("params", *self._hyper_names) if n not in saved]
        if missing:
            raise ValueError(f"param_groups[{k}] lacks the hyperparameters {missing}")
        params = saved["params"]
        if not isinstance(params, list) or len(params) != size:
            raise ValueError(f"param_groups[{k}][\"params\"] must list {size} parameter indices "
                             f"(the size of this optimizer's group {k})")
        settings = {n: v for n, v in saved.items() if n != "params"}
        if "initial_lr" in settings:
            settings["initial_lr"] = _rate("initial_lr", settings["initial_lr"])
        return {**settings, **self._check_hyper(self._settings(saved))}

    def _parse_group_state(self, k: int, ids: list, per_param: dict) -> dict:
        entries = [per_param.get(str(i)) for i in ids]
        state = {"step": 0, **{name: None for name in self._buffer_names}}
        if all(e is None for e in entries):
            return state
        if any(not isinstance(e, dict) or set(e) != set(entries[0]) for e in entries):
            raise ValueError(f"state: the parameters of group {k} must all have state with the "
                             f"same keys, or none")
        unknown = set(entries[0]) - {"step", *self._buffer_names}
        if unknown or "step" not in entries[0]:
            raise ValueError(f"state of group {k}: keys must be \"step\" and some of "
                             f"{list(self._buffer_names)}, got {sorted(entries[0])}")
        state["step"] = validation.integer("state step", entries[0]["step"], minimum=0)
        if any(e["step"] != state["step"] for e in entries):
            raise ValueError(f"state of group {k}: every parameter must have the same step")
        for name in set(entries[0]) - {"step"}:
            state[name] = validation.finite_floats(f"state {name}", [e[name] for e in entries])
        return state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        groups = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({len(self.params)} parameters{groups}, {hyper})"


def _label(p: Value) -> str:
    return f" ({p.label})" if getattr(p, "label", "") else ""


def _lerp(start: float, end: float, weight: float) -> float:
    # torch.lerp, exactly as ATen computes it on CPU
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


# --- SGD -------------------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (heavy-ball or Nesterov) and weight decay.

    g = grad + weight_decay * p;  buf = g (first step), else momentum * buf + (1 - dampening) * g;
    g = g + momentum * buf (nesterov) or buf;  p = p - lr * g.   (torch.optim.SGD)
    """

    _hyper_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    _buffer_names = ("momentum_buffer",)

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

    def _check_hyper(self, h: dict) -> dict:
        out = {
            "lr": _rate("learning rate", h["lr"]),
            "momentum": _rate("momentum", h["momentum"]),
            "dampening": validation.real("dampening", h["dampening"]),
            "weight_decay": _rate("weight_decay", h["weight_decay"]),
            "nesterov": bool(h["nesterov"]),
            "maximize": bool(h["maximize"]),
        }
        if out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        return out

    def _update(self, datas, grads, h, state):
        lr, momentum, dampening, wd = h["lr"], h["momentum"], h["dampening"], h["weight_decay"]
        if h["maximize"]:
            grads = [-g for g in grads]
        if wd != 0:
            grads = [g + wd * d for g, d in zip(grads, datas)]
        buffers = {}
        if momentum != 0:
            buf = state["momentum_buffer"]
            if buf is None:
                buf = list(grads)
            else:
                keep = 1.0 - dampening
                buf = [b * momentum + keep * g for b, g in zip(buf, grads)]
            buffers["momentum_buffer"] = buf
            grads = [g + momentum * b for g, b in zip(grads, buf)] if h["nesterov"] else buf
        return [d - lr * g for d, g in zip(datas, grads)], buffers


# --- Adam and AdamW --------------------------------------------------------------------------------


class Adam(Optimizer):
    """Adam: running means of the gradient (m) and of its square (v), bias-corrected.

    m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2;  (amsgrad: v_max = max(v_max, v))
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).   (torch.optim.Adam)
    `weight_decay` adds weight_decay * p to the gradient (L2); AdamW decays p directly instead.
    """

    _hyper_names = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    _buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _check_hyper(self, h: dict) -> dict:
        betas = h["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r:.40}")
        return {
            "lr": _rate("learning rate", h["lr"]),
            "betas": (_rate("beta parameter at index 0", betas[0], high=1.0),
                      _rate("beta parameter at index 1", betas[1], high=1.0)),
            "eps": _rate("epsilon value", h["eps"]),
            "weight_decay": _rate("weight_decay value", h["weight_decay"]),
            "amsgrad": bool(h["amsgrad"]),
            "maximize": bool(h["maximize"]),
        }

    def _update(self, datas, grads, h, state):
        lr, eps, wd = h["lr"], h["eps"], h["weight_decay"]
        beta1, beta2 = h["betas"]
        n = len(datas)
        if h["maximize"]:
            grads = [-g for g in grads]
        if wd != 0:
            if self._decoupled:
                decay = 1 - lr * wd
                datas = [d * decay for d in datas]
            else:
                grads = [g + wd * d for g, d in zip(grads, datas)]
        m = state["exp_avg"] or [0.0] * n
        v = state["exp_avg_sq"] or [0.0] * n
        w1, w2 = 1 - beta1, 1 - beta2
        m = [_lerp(mi, g, w1) for mi, g in zip(m, grads)]
        v = [vi * beta2 + w2 * g * g for vi, g in zip(v, grads)]
        step = state["step"] + 1
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        buffers = {"exp_avg": m, "exp_avg_sq": v}
        if h["amsgrad"]:
            v_max = state["max_exp_avg_sq"] or [0.0] * n
            v_max = [a if a >= b else b for a, b in zip(v_max, v)]
            buffers["max_exp_avg_sq"] = v_max
            v = v_max
        neg_step = -step_size
        new = [d + neg_step * mi / (math.sqrt(vi) / bias_correction2_sqrt + eps)
               for d, mi, vi in zip(datas, m, v)]
        return new, buffers


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step."""

    _decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


# --- RMSprop ---------------------------------------------------------------------------------------


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    s = alpha s + (1 - alpha) g^2;  (centered: a = lerp(a, g, 1 - alpha), s - a^2 under the root)
    d = sqrt(s) + eps;  momentum: buf = momentum buf + g / d, p = p - lr buf;  else p = p - lr g / d.
    (torch.optim.RMSprop)
    """

    _hyper_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")
    _buffer_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params: Iterable[Value], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered, maximize=maximize)

    def _check_hyper(self, h: dict) -> dict:
        return {
            "lr": _rate("learning rate", h["lr"]),
            "alpha": _rate("alpha value", h["alpha"]),
            "eps": _rate("epsilon value", h["eps"]),
            "weight_decay": _rate("weight_decay value", h["weight_decay"]),
            "momentum": _rate("momentum value", h["momentum"]),
            "centered": bool(h["centered"]),
            "maximize": bool(h["maximize"]),
        }

    def _update(self, datas, grads, h, state):
        lr, alpha, eps, wd, momentum = h["lr"], h["alpha"], h["eps"], h["weight_decay"], h["momentum"]
        n = len(datas)
        if h["maximize"]:
            grads = [-g for g in grads]
        if wd != 0:
            grads = [g + wd * d for g, d in zip(grads, datas)]
        w = 1 - alpha
        s = state["square_avg"] or [0.0] * n
        s = [si * alpha + w * g * g for si, g in zip(s, grads)]
        buffers = {"square_avg": s}
        if h["centered"]:
            a = state["grad_avg"] or [0.0] * n
            a = [_lerp(ai, g, w) for ai, g in zip(a, grads)]
            buffers["grad_avg"] = a
            avg = [math.sqrt(si + -1.0 * ai * ai) + eps for si, ai in zip(s, a)]
        else:
            avg = [math.sqrt(si) + eps for si in s]
        if momentum > 0:
            buf = state["momentum_buffer"] or [0.0] * n
            buf = [b * momentum + g / d for b, g, d in zip(buf, grads, avg)]
            buffers["momentum_buffer"] = buf
            return [p - lr * b for p, b in zip(datas, buf)], buffers
        neg_lr = -lr
        return [p + neg_lr * g / d for p, g, d in zip(datas, grads, avg)], buffers


# --- gradient clipping -----------------------------------------------------------------------------


def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all grads by min(1, max_norm / (total_norm + 1e-6)); return the total norm (as PyTorch)."""
    params = [params] if isinstance(params, Value) else list(params)
    max_norm = validation.non_negative("max_norm", max_norm)
    norm_type = float(norm_type)
    if not params:
        return 0.0
    grads = [_grad(p) for p in params]
    if norm_type == math.inf:
        total = max(abs(g) for g in grads)
    elif norm_type == 2.0:
        total = math.hypot(*grads)
    elif norm_type > 0:
        total = sum(abs(g) ** norm_type for g in grads) ** (1.0 / norm_type)
    else:
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type!r}")
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite, so it "
                           f"cannot be clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    coef = 1.0 if coef > 1.0 else coef  # NaN stays NaN, as torch.clamp
    for p in params:
        p.grad = p.grad * coef
    return total
