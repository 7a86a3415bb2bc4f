"""Optimizers with torch.optim's names, defaults and update rules, to float64 round-off.

Each optimizer keeps its own state (momentum buffers, moment estimates) in lists indexed like
`params`, never on the Values. `step()` checks the gradients, the hyperparameters and the results
before it writes anything, so a bad step raises and changes nothing. Notebook 05 compares SGD,
momentum and Adam.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable

from autograd_core import Value

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Optimizer", "clip_grad_norm_"]


# --- validation helpers ----------------------------------------------------------------------------


def _number(name: str, value, *, low: float = 0.0, high: float | None = None,
            high_open: bool = False) -> float:
    """`value` as a float if it is a finite real number in [low, high] (or [low, high)), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or isinstance(value, Value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r:.40}")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and (
            value >= high if high_open else value > high)):
        bracket = ")" if high_open else "]"
        span = f"[{low:g}, {high:g}{bracket}" if high is not None else f">= {low:g}"
        raise ValueError(f"Invalid {name}: {value!r}; it must be a finite number {span}")
    return value


def _params(params) -> list:
    if isinstance(params, Value):
        raise TypeError("params must be an iterable of Values, e.g. model.parameters(); "
                        "got a single Value (wrap it in a list)")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params must be an iterable of Values, got {type(params).__name__}") from None
    if not params:
        raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"params[{i}] is a {type(p).__name__}, not a Value")
        if id(p) in seen:
            raise ValueError(f"params[{i}] appears more than once; each parameter must be listed once")
        seen.add(id(p))
    return params


def _grad(p: Value) -> float:
    g = p.grad
    if type(g) is float:
        return g
    return g.data if isinstance(g, Value) else float(g)  # a Value after backward(create_graph=True)


def _finite_list(name: str, values, n: int) -> list:
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise ValueError(f"state {name!r} must be a list of {n} numbers (one per parameter)")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"state {name!r} holds {v!r:.40}, not a finite number")
        out.append(float(v))
    return out


# --- the base class --------------------------------------------------------------------------------


class Optimizer:
    """Shared machinery: `params`, validated `lr`, `zero_grad()`, checked `step()`, state dicts.

    A subclass lists its hyperparameters in `_hyper_names`, its per-parameter buffers in
    `_buffer_names`, validates in `_check_hyper`, and computes one update in `_update`.
    """

    _hyper_names: tuple = ("lr",)
    _buffer_names: tuple = ()

    def __init__(self, params: Iterable[Value], **hyper) -> None:
        self.params = _params(params)
        for name, value in self._check_hyper(hyper).items():
            setattr(self, "_lr" if name == "lr" else name, value)
        self.initial_lr: float | None = None  # set by the first scheduler (PyTorch: group["initial_lr"])
        self.steps = 0
        self._buffers: dict[str, list | None] = {name: None for name in self._buffer_names}

    # --- the learning rate ------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        """The learning rate; schedulers write it. Must be a finite number >= 0."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _number("learning rate", value)

    # --- hyperparameters --------------------------------------------------------------------------

    def _check_hyper(self, hyper: dict) -> dict:
        return {"lr": _number("learning rate", hyper["lr"])}

    def hyperparameters(self) -> dict:
        """{name: value} of every hyperparameter, lr included."""
        return {name: getattr(self, name) for name in self._hyper_names}

    # --- stepping ---------------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0 (gradients of leaves accumulate across backward)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its `.grad`; raise and change nothing if anything is off."""
        hyper = self._check_hyper(self.hyperparameters())  # a bad lr set behind our back fails here
        datas = [p.data for p in self.params]
        grads = [_grad(p) for p in self.params]
        if not all(map(math.isfinite, grads)):
            bad = [f"params[{i}]{_label(p)} grad={g!r}" for i, (p, g) in enumerate(zip(self.params, grads))
                   if not math.isfinite(g)]
            raise ValueError(f"{type(self).__name__}.step(): non-finite gradient(s): {', '.join(bad[:5])}"
                             f"{' ...' if len(bad) > 5 else ''}. No parameter was changed. The loss "
                             f"probably diverged: lower the learning rate, clip gradients "
                             f"(nn.optim.clip_grad_norm_), or look for log(0) or a division by zero.")
        try:
            new_datas, buffers = self._update(datas, grads, hyper)
        except (ArithmeticError, ValueError) as exc:  # x/0, sqrt(<0)
            raise ValueError(f"{type(self).__name__}.step(): the update is undefined ({exc}); no "
                             f"parameter was changed. Is eps 0 with a zero gradient?") from None
        if not all(map(math.isfinite, new_datas)):
            i = next(i for i, v in enumerate(new_datas) if not math.isfinite(v))
            raise ValueError(f"{type(self).__name__}.step(): the update would make params[{i}]"
                             f"{_label(self.params[i])} {new_datas[i]!r}; no parameter was changed. "
                             f"Lower the learning rate.")
        for p, value in zip(self.params, new_datas):
            p.data = value
        self._buffers.update(buffers)
        self.steps += 1

    def _update(self, datas: list, grads: list, hyper: dict) -> tuple[list, dict]:
        """(new parameter values, new buffers) from the current ones; must not modify anything."""
        raise NotImplementedError

    # --- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """A JSON-ready dict: the optimizer's type, hyperparameters, step count and buffers."""
        hyper = self.hyperparameters()
        hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in hyper.items()}
        return {
            "type": type(self).__name__,
            "hyperparameters": hyper,
            "initial_lr": self.initial_lr,
            "steps": self.steps,
            "buffers": {k: (list(v) if v is not None else None) for k, v in self._buffers.items()},
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict()` returned, for the same parameters; validated before any change."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        expected = {"type", "hyperparameters", "initial_lr", "steps", "buffers"}
        if set(state_dict) != expected:
            raise ValueError(f"{where}: keys {sorted(state_dict)} do not match {sorted(expected)}; "
                             f"nothing was changed")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{where}: this state belongs to a {state_dict['type']!r} optimizer; "
                             f"nothing was changed")
        hyper_in = state_dict["hyperparameters"]
        if not isinstance(hyper_in, dict) or set(hyper_in) != set(self._hyper_names):
            raise ValueError(f"{where}: hyperparameters must have exactly the keys "
                             f"{sorted(self._hyper_names)}; nothing was changed")
        try:
            hyper = self._check_hyper(dict(hyper_in))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}; nothing was changed") from None
        initial_lr = state_dict["initial_lr"]
        if initial_lr is not None:
            initial_lr = _number("initial_lr", initial_lr)
        steps = state_dict["steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"{where}: steps must be a whole number >= 0, got {steps!r}")
        buffers_in = state_dict["buffers"]
        if not isinstance(buffers_in, dict) or set(buffers_in) != set(self._buffer_names):
            raise ValueError(f"{where}: buffers must have exactly the keys {sorted(self._buffer_names)}; "
                             f"nothing was changed")
        buffers = {}
        for name, values in buffers_in.items():
            try:
                buffers[name] = None if values is None else _finite_list(name, values, len(self.params))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc} (this optimizer has {len(self.params)} parameters); "
                                 f"nothing was changed") from None
        for name, value in hyper.items():
            setattr(self, "_lr" if name == "lr" else name, value)
        self.initial_lr = initial_lr
        self.steps = steps
        self._buffers = buffers

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


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
            "lr": _number("learning rate", h["lr"]),
            "momentum": _number("momentum", h["momentum"]),
            "dampening": _number("dampening", h["dampening"], low=-math.inf),
            "weight_decay": _number("weight_decay", h["weight_decay"]),
            "nesterov": bool(h["nesterov"]),
            "maximize": bool(h["maximize"]),
        }
        if out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        return out

    def _update(self, datas, grads, h):
        lr, momentum, dampening, wd = h["lr"], h["momentum"], h["dampening"], h["weight_decay"]
        if h["maximize"]:
            grads = [-g for g in grads]
        if wd != 0:
            grads = [g + wd * d for g, d in zip(grads, datas)]
        buffers = {}
        if momentum != 0:
            buf = self._buffers["momentum_buffer"]
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
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        return {
            "lr": _number("learning rate", h["lr"]),
            "betas": (_number("beta parameter at index 0", betas[0], high=1.0, high_open=True),
                      _number("beta parameter at index 1", betas[1], high=1.0, high_open=True)),
            "eps": _number("epsilon value", h["eps"]),
            "weight_decay": _number("weight_decay value", h["weight_decay"]),
            "amsgrad": bool(h["amsgrad"]),
            "maximize": bool(h["maximize"]),
        }

    def _update(self, datas, grads, h):
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
        m = self._buffers["exp_avg"] or [0.0] * n
        v = self._buffers["exp_avg_sq"] or [0.0] * n
        w1, w2 = 1 - beta1, 1 - beta2
        m = [_lerp(mi, g, w1) for mi, g in zip(m, grads)]
        v = [vi * beta2 + w2 * g * g for vi, g in zip(v, grads)]
        step = self.steps + 1
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        buffers = {"exp_avg": m, "exp_avg_sq": v}
        if h["amsgrad"]:
            v_max = self._buffers["max_exp_avg_sq"] or [0.0] * n
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
            "lr": _number("learning rate", h["lr"]),
            "alpha": _number("alpha value", h["alpha"]),
            "eps": _number("epsilon value", h["eps"]),
            "weight_decay": _number("weight_decay value", h["weight_decay"]),
            "momentum": _number("momentum value", h["momentum"]),
            "centered": bool(h["centered"]),
            "maximize": bool(h["maximize"]),
        }

    def _update(self, datas, grads, h):
        lr, alpha, eps, wd, momentum = h["lr"], h["alpha"], h["eps"], h["weight_decay"], h["momentum"]
        n = len(datas)
        if h["maximize"]:
            grads = [-g for g in grads]
        if wd != 0:
            grads = [g + wd * d for g, d in zip(grads, datas)]
        w = 1 - alpha
        s = self._buffers["square_avg"] or [0.0] * n
        s = [si * alpha + w * g * g for si, g in zip(s, grads)]
        buffers = {"square_avg": s}
        if h["centered"]:
            a = self._buffers["grad_avg"] or [0.0] * n
            a = [_lerp(ai, g, w) for ai, g in zip(a, grads)]
            buffers["grad_avg"] = a
            avg = [math.sqrt(si + -1.0 * ai * ai) + eps for si, ai in zip(s, a)]
        else:
            avg = [math.sqrt(si) + eps for si in s]
        if momentum > 0:
            buf = self._buffers["momentum_buffer"] or [0.0] * n
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
    max_norm = _number("max_norm", max_norm)
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
    for p in params:  # as PyTorch's, which runs under no_grad: a Value grad gets no graph node
        p.grad = Value(p.grad.data * coef) if isinstance(p.grad, Value) else p.grad * coef
    return total
