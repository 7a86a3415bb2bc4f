"""Record once, replay compiled: `compile(f, *example_args)` runs f once on Values, then generates
plain Python for its forward and backward passes (one line per node, each line from the op table) and
runs that instead: the same floats and gradients as `f(...).backward()`, several times faster.
Read this file, then codegen.py. Notebook 09 ("Why frameworks compile") reads the generated code.
"""

from __future__ import annotations

import builtins
import inspect
import os
import sys
import threading
from typing import Callable

from .codegen import (_NS, _RESERVED, _Batch, _batched_source, _Code, _Graph, _GuardFailed,
                      _NoBatch, _same, _whole_source, op_code)
from .grad_mode import enable_grad, is_grad_enabled
from .errors import as_float
from .value import Value

__all__ = ["Compiled", "DataDependentError", "LossCompiler", "compile", "compile_loss",
           "op_code"]

MAX_TRACES = 8  # traces kept per compiled function before a changing graph is refused


class DataDependentError(ValueError):
    """f's graph depends on its data in a way that compiled code cannot replay."""


# --- tracing: run f once on Values, and watch what it does with their numbers ---------------------

_DATA_SLOT = Value.__dict__["data"]  # the `data` slot's own descriptor
_LIBRARY = os.path.dirname(os.path.abspath(__file__))
_TRACE_LOCK = threading.RLock()  # one trace at a time: tracing patches class Value
_FILES: dict = {}  # a code object's file name -> is it in autograd_core?


def _in_library(filename: str) -> bool:
    """True for code in this package: its reads of `.data` are the ops' own, not f's."""
    inside = _FILES.get(filename)
    if inside is None:
        inside = _FILES[filename] = os.path.abspath(filename).startswith(_LIBRARY + os.sep)
    return inside


class _TracedFloat(float):
    """A Value's `.data` as f sees it while tracing: comparisons are recorded as guards; other
    arithmetic on it leaves the graph and is reported."""

    def __new__(cls, data: float, node: Value, recorder: "_Recorder"):
        self = super().__new__(cls, data)
        self.node, self.recorder = node, recorder
        return self

    def __float__(self) -> float:
        if _in_library(sys._getframe(1).f_code.co_filename):  # Value(x.data), x - x.data
            self.recorder.pending = (float.__float__(self), self.node)
        else:
            self.recorder.escape(self.node, "float(...)")
        return float.__float__(self)

    def __bool__(self) -> bool:
        return self.recorder.compare(self.node, "!=", 0.0)


def _traced_comparison(symbol: str):
    def compare(self, other):
        if isinstance(other, Value):
            return NotImplemented  # Value's reflected comparison records it
        right = other.node if isinstance(other, _TracedFloat) else other
        return self.recorder.compare(self.node, symbol, right)

    return compare


def _traced_arithmetic(name: str):
    method = getattr(float, name)

    def arithmetic(self, *args):
        if args and isinstance(args[0], Value):
            return NotImplemented  # Value's reflected operator makes a node of it
        self.recorder.escape(self.node, f"the number in arithmetic ({name})")
        return method(float.__float__(self), *args)

    return arithmetic


for _name, _symbol in (("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">="),
                       ("__eq__", "=="), ("__ne__", "!=")):
    setattr(_TracedFloat, _name, _traced_comparison(_symbol))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__abs__", "__int__", "__round__",
              "__floor__", "__ceil__", "__trunc__", "__mod__", "__floordiv__"):
    setattr(_TracedFloat, _name, _traced_arithmetic(_name))
_TracedFloat.__hash__ = float.__hash__

_OPERATORS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
              "==": float.__eq__, "!=": float.__ne__}


class _Recorder:
    """What a trace saw besides the graph: guards, constants made inside f, numbers that escaped."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.created: dict = {}  # id -> Value made by Value(...) inside f: a constant
        self.links: dict = {}  # id(constant) -> the node whose number it copies (x - x.data)
        self.guards: list = []  # (left, symbol, right, outcome): left/right a Value or a float
        self.escapes: list = []
        self.pending = None  # (float, node): x.data just converted by the library

    def compare(self, left, symbol: str, right) -> bool:
        data = [v.data if isinstance(v, Value) else float(v) for v in (left, right)]
        outcome = _OPERATORS[symbol](*data)
        self.guards.append((left, symbol, right, outcome))
        return outcome

    def escape(self, node: Value, how: str) -> None:
        self.escapes.append((node, how))

    def traced(self, value: Value) -> bool:
        return threading.get_ident() == self.thread and id(value) not in self.created


def _patches(rec: _Recorder) -> dict:
    """Class attributes of Value to swap in while f is traced (restored afterwards)."""
    init = Value.__init__

    def __init__(self, data, label: str = "") -> None:
        init(self, data, label)
        if threading.get_ident() == rec.thread:
            rec.created[id(self)] = self
            pending, rec.pending = rec.pending, None
            if pending is not None and _same(pending[0], self.data):
                rec.links[id(self)] = pending[1]
            elif pending is not None:
                rec.escape(pending[1], "the number of a Value")

    def data(self):
        value = _DATA_SLOT.__get__(self, Value)
        if _in_library(sys._getframe(1).f_code.co_filename) or not rec.traced(self):
            return value
        return _TracedFloat(value, self, rec)

    def compare(symbol):
        def method(self, other):
            right = other.node if isinstance(other, _TracedFloat) else other
            if not isinstance(right, Value):
                right = as_float(right, f"Value {symbol} other")
            if threading.get_ident() != rec.thread:
                return _OPERATORS[symbol](self.data, right.data if isinstance(right, Value) else right)
            return rec.compare(self, symbol, right)
        return method

    def to_float(self) -> float:
        if rec.traced(self):
            rec.escape(self, "float(value)")
        return _DATA_SLOT.__get__(self, Value)

    def item(self) -> float:
        value = _DATA_SLOT.__get__(self, Value)
        return _TracedFloat(value, self, rec) if rec.traced(self) else value

    return {"__init__": __init__, "data": property(data, _DATA_SLOT.__set__),
            "__lt__": compare("<"), "__le__": compare("<="), "__gt__": compare(">"),
            "__ge__": compare(">="), "__float__": to_float, "item": item}


def _run_traced(f: Callable, args: list) -> tuple:
    """(f's result, the recorder) with Value patched to record what f does with numbers."""
    rec = _Recorder()
    with _TRACE_LOCK:
        patches = _patches(rec)
        saved = {name: Value.__dict__[name] for name in patches}
        for name, attr in patches.items():
            setattr(Value, name, attr)
        try:
            with enable_grad():  # a first call under no_grad() still needs the graph
                result = f(*args)
        finally:
            for name, attr in saved.items():
                setattr(Value, name, attr)
    if rec.pending is not None:
        rec.escape(rec.pending[1], "the number of a Value")
    return result, rec


# --- arguments: numbers, or nested lists of numbers, of the example's shape ------------------------


def _shape_of(x, where: str):
    """None for a number, else a tuple of the items' shapes (a TypeError for anything else)."""
    if callable(getattr(x, "tolist", None)) and getattr(x, "ndim", 0):
        x = x.tolist()  # a numpy array
    if isinstance(x, (list, tuple)):
        return tuple(_shape_of(item, f"{where}[{i}]") for i, item in enumerate(x))
    _floats(x, None, where)
    return None


def _floats(x, shape, where: str):
    """x as floats in nested lists, checked against `shape` (TypeError / ValueError naming `where`)."""
    if shape is None:
        if type(x) is float:
            return x
        if isinstance(x, Value):
            raise TypeError(f"{where}: got a Value; a compiled function takes plain numbers "
                            f"(use value.data), and finds the parameters itself")
        return as_float(x, where)
    if callable(getattr(x, "tolist", None)) and getattr(x, "ndim", 0):
        x = x.tolist()
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{where}: expected a list of {len(shape)} items (the example's shape), "
                        f"got {type(x).__name__} {x!r:.40}")
    if len(x) != len(shape):
        raise ValueError(f"{where}: expected {len(shape)} items, as in the example it was compiled "
                         f"for, got {len(x)}; compile again for another shape")
    if shape in _ROWS:  # a row of numbers: the common case, kept quick
        row = [v if type(v) is float else None for v in x]
        if None not in row:
            return row
        return [_floats(v, None, f"{where}[{i}]") for i, v in enumerate(x)]
    return [_floats(item, s, f"{where}[{i}]") for i, (item, s) in enumerate(zip(x, shape))]


class _Rows(dict):
    """Shapes that are rows of numbers: (None, None, ...) of any length."""

    def __missing__(self, shape) -> bool:
        self[shape] = all(s is None for s in shape)
        return self[shape]

    def __contains__(self, shape) -> bool:
        return self[shape]


_ROWS = _Rows()


def _lift(x, name: str, arg: int, path: tuple, leaves: dict):
    """Leaf Values for the numbers in x, labelled like `X[3][1]`; `leaves` maps id -> (arg, path)."""
    if isinstance(x, list):
        return [_lift(item, name, arg, path + (i,), leaves) for i, item in enumerate(x)]
    v = Value(x, name + "".join(f"[{i}]" for i in path))
    leaves[id(v)] = (arg, path)
    return v


def _argument_names(f: Callable, count: int) -> list:
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:count] if len(params) >= count else []
    names = [n if n.isidentifier() and n not in _RESERVED and not n.startswith("_") else f"arg{i}"
             for i, n in enumerate(names)]
    return names if len(set(names)) == count else [f"arg{i}" for i in range(count)]


def _parameter_names(names) -> dict:
    """id(Value) -> name, from a dict name -> Value, (name, Value) pairs, or a model."""
    if names is None:
        return {}
    if callable(getattr(names, "named_parameters", None)):
        names = names.named_parameters()
    items = names.items() if isinstance(names, dict) else names
    out = {}
    for name, value in items:
        if not isinstance(value, Value):
            raise TypeError(f"compile(names=...): {name!r} names a {type(value).__name__}, not a Value")
        out[id(value)] = str(name)
    return out


# --- the compiled function ------------------------------------------------------------------------


class _Unverified(Exception):
    """A batch loop picked, for some sample, a variant that no trace has shown for it."""

    def __init__(self, kinds: tuple) -> None:
        super().__init__(kinds)
        self.kinds = kinds


class _Program:
    """One trace as running code: `forward` and `forward_backward`, the parameters they read."""

    def __init__(self, source: str, params: list, guards: int, batch) -> None:
        self.source, self.params, self.guards = source, params, guards
        self.batched = batch is not None
        self.signatures = batch.variant_signatures if batch is not None else []
        self.verified = set(enumerate(batch.kinds)) if batch is not None else set()
        traced = tuple(batch.kinds) if batch is not None else ()
        verified = self.verified

        def check_kinds(kinds: list) -> None:
            kinds = tuple(kinds)
            if kinds != traced and not verified.issuperset(enumerate(kinds)):
                raise _Unverified(kinds)

        namespace = dict(_NS)
        namespace["_P"] = tuple(params)
        namespace["_check_kinds"] = check_kinds
        count = len(self.signatures)
        namespace["_ORDERS"] = [(k, *(j for j in range(count) if j != k)) for k in traced]
        code = builtins.compile(source, "<autograd_core.compile>", "exec")
        exec(code, namespace)  # noqa: S102 - source we generated
        self.forward, self.forward_backward = namespace["forward"], namespace["forward_backward"]


class Compiled:
    """f, traced once and turned into Python: call it with numbers shaped like the example.

    Returns f's output as a float (and f's extra outputs as floats, when f returns (loss, extra)),
    and adds d(output)/d(parameter) to each parameter's `.grad` as `f(...).backward()` would;
    under `no_grad()` it runs the forward block only. `.source` is the generated Python.
    """

    def __init__(self, f: Callable, example_args: tuple, names=None, argnums=(), retrace=True,
                 batched=None) -> None:
        if not callable(f):
            raise TypeError(f"compile: f must be a function of Values, got {type(f).__name__}")
        self.f = f
        self.__name__ = getattr(f, "__name__", "f")
        self.arg_names = _argument_names(f, len(example_args))
        self._shapes = [_shape_of(a, f"compile({self.__name__}): {n}")
                        for a, n in zip(example_args, self.arg_names)]
        self.argnums = _check_argnums(argnums, len(example_args))
        self.names = _parameter_names(names)
        self._names_keep = names  # keeps the Values whose ids self.names holds alive
        self.retrace, self.batched = bool(retrace), batched
        self._programs: list = []
        self._add_program(self._check(example_args))

    @property
    def source(self) -> str:
        """The generated Python of the latest trace: `forward`, and `forward_backward`."""
        return self._programs[-1].source

    @property
    def parameters(self) -> list:
        """The Values f reached that existed before the call: read and differentiated each call."""
        return list(self._programs[-1].params)

    @property
    def traces(self) -> int:
        """How many traces this function holds (more than one if its graph depended on the data)."""
        return len(self._programs)

    def __call__(self, *args):
        """f's output for these numbers (see the class); traces again if a guard fails."""
        values = self._check(args)
        grad = is_grad_enabled()
        for program in reversed(self._programs):
            try:
                return self._run(program, values, grad)
            except _GuardFailed:
                continue
            except _Unverified as unverified:
                trace = _verify_kinds(self, program, values, unverified.kinds)
                if trace is True:
                    return self._run(program, values, grad)
                return self._run(self._add_program(values, trace), values, grad)
        return self._run(self._add_program(values), values, grad)

    def _run(self, program: _Program, values: list, grad: bool):
        fn = program.forward_backward if grad else program.forward
        try:
            result = fn(*values)
        except (ValueError, ArithmeticError) as exc:
            raise type(exc)(f"compiled {self.__name__}: {exc}. Run {self.__name__} on Values "
                            f"(uncompiled) to see which op and inputs") from None
        if self.argnums and not grad:
            return result, None
        return result

    def _check(self, args: tuple) -> list:
        if len(args) != len(self._shapes):
            raise TypeError(f"compiled {self.__name__}() takes {len(self._shapes)} argument(s) "
                            f"({', '.join(self.arg_names)}), as in the example, got {len(args)}")
        return [_floats(a, s, f"compiled {self.__name__}: {n}")
                for a, s, n in zip(args, self._shapes, self.arg_names)]

    def _add_program(self, values: list, trace: tuple | None = None) -> _Program:
        if self._programs and not self.retrace:
            raise DataDependentError(
                f"compiled {self.__name__}: a comparison of Values came out differently from the "
                f"trace, so this call would run a different graph. The rule: compiled code "
                f"replays one graph; a Python `if` on a Value's number picks the graph. Use an op "
                f"(relu, abs, max-style) instead of the `if`, or compile with retrace=True.")
        if len(self._programs) >= MAX_TRACES:
            raise DataDependentError(
                f"compiled {self.__name__}: its graph changed with the data {MAX_TRACES} times "
                f"(Python `if`s or loops on Values' numbers); that is no longer worth compiling. "
                f"Replace the branches with ops (relu, abs, max-style), or run it uncompiled.")
        program = _build_program(self, *(trace or _trace(self, values)))
        self._programs.append(program)
        return program

    def __repr__(self) -> str:
        return (f"Compiled({self.__name__}, {len(self.parameters)} parameters, "
                f"{self.traces} trace(s))")


def _check_argnums(argnums, count: int) -> tuple:
    if isinstance(argnums, int):
        argnums = (argnums,)
    argnums = tuple(argnums)
    for a in argnums:
        if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < count:
            raise ValueError(f"compile: argnums must be argument positions 0..{count - 1}, got {a!r}")
    return argnums


def _trace(c: Compiled, values: list) -> tuple:
    """(graph, lifted arguments): c.f run once on Values made from `values`, checked."""
    leaves: dict = {}
    lifted = [_lift(v, n, a, (), leaves) for a, (v, n) in enumerate(zip(values, c.arg_names))]
    result, rec = _run_traced(c.f, lifted)
    root, aux = result if isinstance(result, tuple) and len(result) == 2 else (result, None)
    if not isinstance(root, Value):
        raise TypeError(f"compile: {c.__name__} must return a Value (or (Value, extra outputs)), "
                        f"got {type(result).__name__}")
    if rec.escapes:
        node, how = rec.escapes[0]
        raise DataDependentError(
            f"compile: {c.__name__} took the number of a Value ({node!r:.60}) out of the graph "
            f"via {how}. Compiled code replays only the graph, so that number would stay what it "
            f"was in the example. Compute with Values (ops) instead; comparisons are fine (they "
            f"are checked on every call).")
    return _Graph(root, aux, rec, leaves), lifted


def _build_program(c: Compiled, g: _Graph, lifted: list) -> _Program:
    """Generate the code of a trace: a loop over the samples when it fits, else straight-line."""
    if c.batched is not False and not c.argnums:
        b = _Batch(g, c._shapes)
        if b.ok and b.plan():
            code = _Code(g, lifted, c.arg_names, c.names, c.argnums)
            try:
                source = _batched_source(g, code, b, c.arg_names)
            except _NoBatch:
                pass
            else:
                return _Program(source, g.params, len(g.guards), batch=b)
    code = _Code(g, lifted, c.arg_names, c.names, c.argnums)
    source = _whole_source(g, code, c.arg_names, c.argnums)
    return _Program(source, g.params, len(g.guards), batch=None)


def _verify_kinds(c: Compiled, program: _Program, values: list, kinds: tuple):
    """A batch loop chose variant kinds[i] for sample i by its guards; a variant may also differ
    by constants (a class index), which guards cannot see. So trace once: True if every sample's
    graph is the chosen variant's (then the loop is trusted for those pairs), else the new trace."""
    g, lifted = _trace(c, values)
    b = _Batch(g, c._shapes)
    if b.ok and b.plan() and len(b.kinds) == len(kinds) and all(
            b.variant_signatures[b.kinds[i]] == program.signatures[k] for i, k in enumerate(kinds)):
        program.verified.update(enumerate(kinds))
        return True
    return g, lifted


def compile(f: Callable, *example_args, names=None, argnums=(), retrace: bool = True,
            batched: bool | None = None) -> Compiled:  # noqa: A001 - torch.compile's name
    """Trace f once on example numbers and return it compiled (see `Compiled`; notebook 09).

    `names`: parameter names for the generated code (a model, or name -> Value). `argnums`: also
    return d(output)/d(those arguments), as `(output, grads)`. `retrace`: when a comparison of
    Values comes out differently, trace again (else raise DataDependentError).
    """
    return Compiled(f, example_args, names=names, argnums=argnums, retrace=retrace, batched=batched)


# --- training: the loss of a model on a batch, compiled per batch shape (fit(..., compile=True)) ---


class LossCompiler:
    """`objective([model(x) for x in X], y)` compiled once per batch shape; what `fit` runs.

    Calling it on a batch returns (objective, the model's outputs), as floats, and adds the
    objective's gradients to the parameters' `.grad` (under `no_grad()`: the forward only), with
    the same floats as the uncompiled forward and `backward()`. Targets are arguments of the compiled
    code (one compile serves every batch of that shape) unless `static_targets`: then they are
    constants of it (needed when the objective reads them as Python numbers, e.g. class indices),
    and each distinct set of targets is compiled once.
    """

    def __init__(self, model: Callable, objective: Callable, *, static_targets: bool = False) -> None:
        if not callable(model) or not callable(objective):
            raise TypeError("LossCompiler(model, objective): both must be callable: the model maps "
                            "one input row to its output, objective(outputs, targets) -> Value")
        self.model, self.objective, self.static_targets = model, objective, bool(static_targets)
        self.compiled: dict = {}  # batch shape (and targets, if static) -> Compiled

    def __call__(self, X, y) -> tuple:
        """(objective, outputs) on the batch (X, y), as floats; the gradients go to `.grad`."""
        X = X.tolist() if callable(getattr(X, "tolist", None)) else list(X)
        y = y.tolist() if callable(getattr(y, "tolist", None)) else list(y)
        key = (_shape_of(X, "LossCompiler: X"), _shape_of(y, "LossCompiler: y"))
        if self.static_targets:
            key += (repr(y),)
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.compiled[key] = self._compile(X, y)
        return compiled(X) if self.static_targets else compiled(X, y)

    def _compile(self, X: list, y: list) -> Compiled:
        model, objective = self.model, self.objective
        names = model if callable(getattr(model, "named_parameters", None)) else None
        if self.static_targets:
            def loss(X):
                outputs = [model(x) for x in X]
                return objective(outputs, y), outputs
            return compile(loss, X, names=names)

        def loss(X, y):
            outputs = [model(x) for x in X]
            return objective(outputs, y), outputs
        return compile(loss, X, y, names=names)


def compile_loss(model: Callable, objective: Callable, *, static_targets: bool = False) -> LossCompiler:
    """`LossCompiler(model, objective)`: the batch loss of a model, compiled per batch shape."""
    return LossCompiler(model, objective, static_targets=static_targets)
