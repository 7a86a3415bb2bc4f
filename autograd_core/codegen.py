"""Code generation for `compile` (compiler.py): each op's line from its row in the op table, run on
names instead of numbers; a trace turned into Python, straight-line or as a loop over a batch's samples.
Read compiler.py first; notebook 09 reads the code this file writes.
"""

from __future__ import annotations

import builtins
import keyword
import math
import random
import re
from typing import Callable

from .engine import topological_order
from .ops import NARY, OPS, Op
from .value import Value

MAX_VARIANTS = 16  # distinct per-sample graphs in one batch loop (else straight-line code)


class _GuardFailed(Exception):
    """A comparison recorded while tracing came out differently: this trace does not apply."""


# --- symbols: run an op's rule on names instead of floats, and read back the Python it computes ---


class _Unsymbolic(Exception):
    """The rule did something with a symbol that has no Python expression (math.exp(symbol), ...)."""


def _literal(x) -> str:
    """Python source for the number x, exact (repr round-trips every float)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _Unsymbolic(f"not a number: {x!r:.40}")
    x = float(x)  # int op float computes float(int) op float: the same bits
    if math.isnan(x):
        return "_nan"
    if math.isinf(x):
        return "_inf" if x > 0 else "(-_inf)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _code(x) -> str:
    return x.code if isinstance(x, _Sym) else _literal(x)


def _infix(symbol: str):
    def op(self, other):
        return _Sym(f"({self.code} {symbol} {_code(other)})", self.oracle)

    def reflected(self, other):  # other <symbol> self
        return _Sym(f"({_code(other)} {symbol} {self.code})", self.oracle)

    return op, reflected


def _comparison(symbol: str):
    def compare(self, other):
        return self.oracle.decide(f"{self.code} {symbol} {_code(other)}")

    return compare


class _Sym:
    """A float-to-be, named by the Python expression that will compute it."""

    __slots__ = ("code", "oracle")

    def __init__(self, code: str, oracle: "_Oracle") -> None:
        self.code = code
        self.oracle = oracle

    __add__, __radd__ = _infix("+")
    __sub__, __rsub__ = _infix("-")
    __mul__, __rmul__ = _infix("*")
    __truediv__, __rtruediv__ = _infix("/")
    __pow__, __rpow__ = _infix("**")
    __lt__, __le__ = _comparison("<"), _comparison("<=")
    __gt__, __ge__ = _comparison(">"), _comparison(">=")
    __eq__, __ne__ = _comparison("=="), _comparison("!=")
    __hash__ = None

    def __neg__(self) -> "_Sym":
        return _Sym(f"(-{self.code})", self.oracle)

    def __pos__(self) -> "_Sym":
        return self

    def __abs__(self) -> "_Sym":
        return _Sym(f"abs({self.code})", self.oracle)

    def _refuse(self, *args):
        raise _Unsymbolic("a symbol was converted to a plain number")

    __float__ = __int__ = __index__ = __bool__ = __round__ = _refuse

    def __getattr__(self, name: str):
        """`x.exp()` inside a rule (the ops.py helpers call it): a call of that op's forward."""
        if name == "data":  # `x.data` of a float-to-be is itself
            return self
        op = OPS.get(name)
        if op is None or op.arity != 1:
            raise _Unsymbolic(f"a rule called .{name}() on a symbol")

        def method(*args, **kwargs):
            kwargs.update(zip(op.params, args))
            bound = op.bind(**kwargs) if op.params else op
            return _Sym(_call("forward", bound, [self.code]), self.oracle)

        return method


class _Oracle:
    """Answers a rule's comparisons from a list of decisions, recording each one."""

    def __init__(self, prefix: tuple) -> None:
        self.prefix = prefix
        self.trail: list = []  # (condition source, outcome)

    def decide(self, condition: str) -> bool:
        k = len(self.trail)
        outcome = self.prefix[k] if k < len(self.prefix) else True
        self.trail.append((condition, outcome))
        return outcome


def _explore(fn: Callable, names: list, max_paths: int = 8):
    """[(trail, result codes)] for every path through fn's comparisons, or None if fn is not
    expressible (it converts a symbol to a float, raises on some path, or branches too much)."""
    paths, todo = [], [()]
    while todo:
        prefix = todo.pop()
        oracle = _Oracle(prefix)
        try:
            result = fn(*[_Sym(name, oracle) for name in names])
            items = result if isinstance(result, (tuple, list)) else [result]
            codes = [_code(item) for item in items]
        except Exception:  # noqa: BLE001 - any failure means: call the rule instead
            return None
        outcomes = tuple(outcome for _, outcome in oracle.trail)
        todo.extend(outcomes[:k] + (False,) for k in range(len(prefix), len(outcomes)))
        paths.append((oracle.trail, codes))
        if len(paths) > max_paths:
            return None
    return paths


def _merge(paths: list, depth: int = 0) -> list:
    """One expression per result: the paths joined by conditional expressions on their decisions."""
    if len(paths) == 1 and len(paths[0][0]) == depth:
        return paths[0][1]
    condition = paths[0][0][depth][0]
    taken = _merge([p for p in paths if p[0][depth][1]], depth + 1)
    other = _merge([p for p in paths if not p[0][depth][1]], depth + 1)
    if len(taken) != len(other):
        raise _Unsymbolic("paths return different numbers of results")
    return [a if a == b else f"({a} if {condition} else {b})" for a, b in zip(taken, other)]


# --- the op table as code templates: "{0}", "{1}", ... are the inputs, "{out}" the output ---------

_NS: dict = {"_nan": math.nan, "_inf": math.inf, "_GuardFailed": _GuardFailed}
_NS_IDS: dict = {}  # id(function) -> its name in _NS
_RESERVED = set(keyword.kwlist) | set(dir(builtins))
_TEMPLATES: dict = {}


def _global(obj, hint: str) -> str:
    """The name of `obj` in the generated code's globals (added the first time)."""
    name = _NS_IDS.get(id(obj))
    if name is None:
        base = re.sub(r"\W", "_", hint)
        name, k = base, 1
        while name in _NS or (name in _RESERVED and getattr(builtins, name, None) is not obj):
            name, k = f"{base}_{k}", k + 1
        _NS[name], _NS_IDS[id(obj)] = obj, name
    return name


def _unbound(op: Op, attr: str) -> tuple:
    """(the rule without settings, the settings' values): a bound op's rule is a wrapping lambda."""
    base = OPS.get(op.name)
    if op.params and base is not None and base is not op:
        return getattr(base, attr), tuple(op.params.values())
    return getattr(op, attr), ()


def _call(attr: str, op: Op, codes: list) -> str:
    """Source that calls the op's own forward (or derivative) function: `codes` are the inputs
    (and, for a derivative, the output last)."""
    fn, settings = _unbound(op, attr)
    name = _global(fn, op.name if attr == "forward" else f"d_{op.name}")
    extra = "".join(f", {_literal(v)}" for v in settings)
    if op.arity != NARY:
        return f"{name}({', '.join(codes)}{extra})"
    if attr == "forward":
        return f"{name}([{', '.join(codes)}]{extra})"
    return f"{name}([{', '.join(codes[:-1])}], {codes[-1]}{extra})"


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    if a != a:  # NaN
        return b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _probe(op: Op, n: int, fn: Callable, codes: list, with_out: bool, tries: int = 24) -> bool:
    """True if the expressions give the rule's exact floats (or its exceptions) at sample points."""
    args = [f"a{i}" for i in range(n)] + (["out"] if with_out else [])
    body = ", ".join(c.format(*args[:n], out="out") for c in codes)
    compiled = eval(f"lambda {', '.join(args)}: ({body},)", _NS)  # noqa: S307 - our own source
    rng = random.Random(12)
    for _ in range(tries):
        xs = [rng.uniform(*op.domain[min(i, len(op.domain) - 1)]) for i in range(n)]
        xs = [round(x, rng.choice((0, 1, 17))) for x in xs]  # whole numbers and halves, too
        try:
            extra = [op.forward(*xs) if op.arity else op.forward(xs)] if with_out else []
            expected = fn(*xs, *extra)
        except Exception:  # noqa: BLE001 - the rule fails here: so must the expression
            expected = None
        try:
            got = compiled(*xs, *extra)
        except Exception:  # noqa: BLE001
            got = None
        expected = expected if isinstance(expected, (tuple, list)) or expected is None else (expected,)
        if (expected is None) != (got is None) or (got is not None and not _same(list(expected), got)):
            return False
    return True


def _forward_template(op: Op, n: int) -> str:
    """The op's forward as an expression of "{0}".."{n-1}": its own code run on symbols (checked
    against the op at sample points), or a call of its forward function."""
    key = (op, n, "forward")
    if key not in _TEMPLATES:
        names = [f"{{{i}}}" for i in range(n)]
        fn = op.forward if op.arity else (lambda *xs: op.forward(list(xs)))
        paths = _explore(fn, names) if n <= 64 else None
        codes = _merge(paths) if paths else None
        if not codes or len(codes) != 1 or not _probe(op, n, fn, codes, with_out=False):
            codes = [_call("forward", op, names)]
        _TEMPLATES[key] = codes[0]
    return _TEMPLATES[key]


def _derivative_template(op: Op, n: int) -> tuple:
    """(setup statement or None, one local-derivative expression per input) from the op's rule."""
    key = (op, n, "derivative")
    if key not in _TEMPLATES:
        names = [f"{{{i}}}" for i in range(n)] + ["{out}"]
        fn = op.derivative if op.arity else (lambda *xs: op.derivative(list(xs[:-1]), xs[-1]))
        paths = _explore(fn, names) if n <= 64 else None
        try:
            codes = _merge(paths) if paths else None
        except (_Unsymbolic, IndexError):
            codes = None
        if codes and len(codes) == n and _probe(op, n, fn, codes, with_out=True):
            _TEMPLATES[key] = (None, codes)
        elif op.arity == 1:
            _TEMPLATES[key] = (None, [_call("derivative", op, names)])
        elif op.arity == 2:
            _TEMPLATES[key] = (f"{{tmp}}0, {{tmp}}1 = {_call('derivative', op, names)}",
                               ["{tmp}0", "{tmp}1"])
        else:
            _TEMPLATES[key] = (f"{{tmp}} = {_call('derivative', op, names)}",
                               [f"{{tmp}}[{i}]" for i in range(n)])
    return _TEMPLATES[key]


def op_code(op: "Op | str", inputs: tuple = ("x", "y"), out: str = "out") -> tuple:
    """(forward, [local derivative per input]) of an op as the Python lines the compiler writes,
    e.g. op_code("tanh", ("x",)) -> ("tanh(x)", ["(1.0 - (out * out))"]): its rule run on names."""
    op = OPS[op] if isinstance(op, str) else op
    if op.params and OPS.get(op.name) is op:
        op = op.bind()  # its settings' defaults, as Value's methods use them
    n = op.arity or len(inputs)
    if len(inputs) < n:
        raise ValueError(f"op_code: {op.name} takes {n} inputs, got names {inputs!r}")
    names = list(inputs[:n])
    setup, locals_ = _derivative_template(op, n)
    fill = {"out": out, "tmp": "d"}
    derivatives = [local.format(*names, **fill) for local in locals_]
    if setup is not None:
        derivatives = [f"{setup.format(*names, **fill)}; then {d}" for d in derivatives]
    return _forward_template(op, n).format(*names), derivatives


class _GradSlot:
    """`parent.grad` as an op's `accumulate` sees it: `parent.grad += term` is recorded."""

    def __init__(self, index: int, log: list) -> None:
        self.index, self.log = index, log

    def __add__(self, term):
        self.log.append((self.index, _code(term)))
        return self


class _Parent:
    """A parent as an op's `accumulate` sees it: symbolic `.data`, recording `.grad`."""

    def __init__(self, index: int, data: _Sym, log: list) -> None:
        self.data, self._slot = data, _GradSlot(index, log)

    grad = property(lambda self: self._slot, lambda self, value: None)


def _edge_template(op: Op, n: int) -> tuple:
    """(setup or None, [(input index, term)]): what the engine's first-order sweep adds to each
    input's grad, in its order; "{g}" is the node's grad."""
    key = (op, n, "edges")
    if key not in _TEMPLATES:
        result = None
        if op.arity == NARY and op.accumulate is not None:  # the engine runs this fast path
            log: list = []
            oracle = _Oracle(())
            try:
                op.accumulate(tuple(_Parent(i, _Sym(f"{{{i}}}", oracle), log) for i in range(n)),
                              _Sym("{g}", oracle))
                if not oracle.trail:
                    result = (None, log)
            except Exception:  # noqa: BLE001 - fall back to the derivative rule's order
                result = None
        if result is None:
            setup, locals_ = _derivative_template(op, n)
            result = (setup, [(i, _times("{g}", local)) for i, local in enumerate(locals_)])
        _TEMPLATES[key] = result
    return _TEMPLATES[key]


def _times(grad: str, local: str) -> str:
    """grad * local, without the multiply where it is exact to leave it out (x*1 == x, x*-1 == -x)."""
    if local == "1.0":
        return grad
    if local == "(-1.0)":
        return f"(-{grad})"
    return f"({grad} * {local})"


# --- a trace, read: the nodes in order, and what every leaf is -------------------------------------


def _values_in(structure) -> list:
    """The Values in a nested list/tuple structure, in order."""
    if isinstance(structure, Value):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [v for item in structure for v in _values_in(item)]
    return []


class _Graph:
    """One trace of f: its output (and extra outputs), guards, and each leaf's role."""

    def __init__(self, root: Value, aux, rec, arg_leaves: dict) -> None:
        self.root, self.aux, self.rec, self.arg_leaves = root, aux, rec, arg_leaves
        self.guards = rec.guards
        self.backward_order = [n for n in topological_order(root) if n._op is not None]
        roots = [root, *_values_in(aux)]
        roots += [v for g in self.guards for v in (g[0], g[2]) if isinstance(v, Value)]
        self.forward_order = self._forward_order(roots)
        self.params: list = []
        seen: set = set()
        for node in self.forward_order + [root]:
            for p in (node.parents if node._op is not None else (node,)):
                if id(p) not in seen and self.kind(p) == "param":
                    seen.add(id(p))
                    self.params.append(p)

    def kind(self, v: Value) -> str:
        """"node", "arg" (an argument's number), "const" (made inside f), or "param" (found)."""
        if v._op is not None:
            return "node"
        if id(v) in self.arg_leaves:
            return "arg"
        return "const" if id(v) in self.rec.created else "param"

    def _deps(self, node: Value):
        if not self.rec.links:
            return node.parents
        deps = []
        for p in node.parents:
            source = self.rec.links.get(id(p))  # a constant that copies a node's number
            deps.extend((p,) if source is None else (source, p))
        return deps

    def _forward_order(self, roots: list) -> list:
        """Interior nodes, each after its inputs and after the nodes whose numbers it copies."""
        order, state = [], {}
        for start in roots:
            stack = [(start, False)]
            while stack:
                node, ready = stack.pop()
                if ready:
                    state[id(node)] = 2
                    order.append(node)
                    continue
                if state.get(id(node)):
                    continue
                if node._op is None:
                    source = self.rec.links.get(id(node))
                    state[id(node)] = 2
                    if source is not None:
                        stack.append((source, False))
                    continue
                state[id(node)] = 1
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(self._deps(node)) if not state.get(id(p)))
        return order


class _Names:
    """Unique Python identifiers for the generated code's variables."""

    def __init__(self) -> None:
        self.used = set(_RESERVED) | set(_NS)

    def new(self, text: str) -> str:
        base = re.sub(r"\W+", "_", text).strip("_") or "v"
        if base[0].isdigit():
            base = f"p_{base}"
        if not base.isidentifier():
            base = "v"
        name, k = base, 1
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name


def _comment(v: Value) -> str:
    label = " ".join(str(v.label).split())  # a label with a newline must not end the comment
    return f"  # {label}" if label else ""


def _guard_line(guard, ref: Callable, fail: str = "raise _GuardFailed") -> str:
    left, symbol, right, outcome = guard
    condition = f"{ref(left) if isinstance(left, Value) else _literal(left)} {symbol} " \
                f"{ref(right) if isinstance(right, Value) else _literal(right)}"
    return f"if {'not ' if outcome else ''}({condition}): {fail}"


def _structure_code(structure, ref: Callable) -> str:
    if isinstance(structure, Value):
        return ref(structure)
    if isinstance(structure, (list, tuple)):
        inner = ", ".join(_structure_code(item, ref) for item in structure)
        if isinstance(structure, list):
            return f"[{inner}]"
        return f"({inner}{',' if len(structure) == 1 else ''})"
    return _literal(structure)


def _forward_lines(nodes: list, ref: Callable, guards: list, fail: str, done: set) -> list:
    """One line per node, `v = <the op's forward>`, each guard right after what it compares."""
    lines = []
    waiting = list(guards)

    def flush():
        nonlocal waiting
        ready = [g for g in waiting if all(not isinstance(v, Value) or v._op is None or id(v) in done
                                           for v in (g[0], g[2]))]
        lines.extend(_guard_line(g, ref, fail) for g in ready)
        waiting = [g for g in waiting if g not in ready]

    flush()
    for node in nodes:
        parents = node.parents
        code = _forward_template(node._op, len(parents)).format(*[ref(p) for p in parents])
        lines.append(f"{ref(node)} = {code}{_comment(node)}")
        done.add(id(node))
        flush()
    return lines + [_guard_line(g, ref, fail) for g in waiting]


def _backward_lines(nodes: list, ref: Callable, gref: Callable, assigned: set) -> list:
    """The chain rule, node by node in reverse: each input's grad += grad * local derivative."""
    lines = []
    for node in reversed(nodes):
        grad = gref(node)
        if grad is None or grad not in assigned:
            continue
        parents = node.parents
        setup, terms = _edge_template(node._op, len(parents))
        codes = [ref(p) for p in parents]
        fill = {"g": grad, "out": ref(node), "tmp": f"{ref(node)}_d"}
        wanted = [(i, term) for i, term in terms if gref(parents[i]) is not None]
        if wanted and setup is not None:
            lines.append(setup.format(*codes, **fill))
        for i, term in wanted:
            target = gref(parents[i])
            op = "+=" if target in assigned else "="
            assigned.add(target)
            lines.append(f"{target} {op} {term.format(*codes, **fill)}")
    return lines


# --- code generation: the whole function, straight-line -------------------------------------------


class _Code:
    """Variable names of one generated program: each Value's value and grad, by role."""

    def __init__(self, g: _Graph, leaves: list, arg_names: list, names: dict, argnums: tuple) -> None:
        self.g, self.vars, self.refs, self.grads = g, _Names(), {}, {}
        self.leaf_structures = leaves
        self.arg_names = arg_names
        self.row_vars: dict = {}  # (argument, path in a sample) -> variable, in batch loops
        self.local_names: dict = {}  # position in a sample's graph -> variable, in batch loops
        for name in arg_names:
            self.vars.used.add(name)
        self.arg_vars = []  # per argument: its structure of leaf names
        for a, (structure, name) in enumerate(zip(leaves, arg_names)):
            self.arg_vars.append(self._name_leaves(structure, name, a in argnums))
        for p in g.params:
            var = self.vars.new(names.get(id(p)) or p.label or "p")
            self.refs[id(p)], self.grads[id(p)] = var, self.vars.new(f"d_{var}")

    def _name_leaves(self, structure, path: str, want_grad: bool):
        if isinstance(structure, Value):
            var = path if path.isidentifier() and "[" not in path else self.vars.new(path)
            self.refs[id(structure)] = var
            if want_grad:
                self.grads[id(structure)] = self.vars.new(f"d_{var}")
            return var
        return [self._name_leaves(item, f"{path}_{i}", want_grad) for i, item in enumerate(structure)]

    def name_nodes(self, nodes: list, prefix: str = "v") -> None:
        for node in nodes:
            if id(node) not in self.refs:
                self.refs[id(node)] = self.vars.new(f"{prefix}{len(self.refs)}")

    def ref(self, v: Value) -> str:
        code = self.refs.get(id(v))
        if code is not None:
            return code
        source = self.g.rec.links.get(id(v))  # a constant that copies a node's number
        return self.ref(source) if source is not None else _literal(v.data)

    def want_grads(self, order: list) -> None:
        """Give a grad variable to every node that leads to a parameter (or a wanted argument)."""
        for node in order:
            if any(id(p) in self.grads for p in node.parents):
                self.grads[id(node)] = "g" + self.refs[id(node)][1:]

    def gref(self, v: Value):
        return self.grads.get(id(v))


def _unpack_lines(code: _Code, arg_names: list, skip=()) -> list:
    """`[[X_0_0, X_0_1], ...] = X`: each argument's numbers into variables."""
    lines = []
    for a, (name, structure) in enumerate(zip(arg_names, code.arg_vars)):
        if structure != name and a not in skip:
            lines.append(f"{_structure_code_names(structure)} = {name}")
    return lines


def _structure_code_names(structure) -> str:
    if isinstance(structure, str):
        return structure
    inner = ", ".join(_structure_code_names(s) for s in structure)
    return f"[{inner}{',' if len(structure) == 1 else ''}]"


def _whole_source(g: _Graph, code: _Code, arg_names: list, argnums: tuple) -> str:
    """Python source of `forward` and `forward_backward` for the traced graph, one line per node."""
    code.name_nodes(g.forward_order)
    code.want_grads(g.backward_order)
    signature = ", ".join(arg_names)
    head = _unpack_lines(code, arg_names)
    head += [f"{code.refs[id(p)]} = _P[{k}].data" for k, p in enumerate(g.params)]
    forward = _forward_lines(g.forward_order, code.ref, g.guards, "raise _GuardFailed", set())
    result = code.ref(g.root)
    if g.aux is not None:
        result = f"{result}, {_structure_code(g.aux, code.ref)}"
    root_grad = code.gref(g.root)
    assigned = set()
    backward = []
    if root_grad is not None:
        backward.append(f"{root_grad} = 1.0")
        assigned.add(root_grad)
    backward += _backward_lines(g.backward_order, code.ref, code.gref, assigned)
    writes = [f"_P[{k}].grad += {code.grads[id(p)]}" for k, p in enumerate(g.params)
              if code.grads[id(p)] in assigned]
    arg_grads = _arg_grads_code(code, arg_names, argnums, assigned)
    return "\n".join([
        f"def forward({signature}):",
        *_indent(head + ["# forward: one line per node"] + forward + [f"return {result}"]),
        "",
        f"def forward_backward({signature}):",
        *_indent(head + ["# forward: one line per node"] + forward
                 + ["# backward: each node passes grad * local derivative to its inputs"] + backward
                 + ["# add this call's total to each parameter's .grad (leaves accumulate)"] + writes
                 + [f"return {result}{arg_grads}"]),
    ]) + "\n"


def _arg_grads_code(code: _Code, arg_names: list, argnums: tuple, assigned: set) -> str:
    if not argnums:
        return ""
    parts = [_structure_code(code.leaf_structures[a], lambda v: code.grads[id(v)]
                             if code.grads.get(id(v)) in assigned else "0.0") for a in argnums]
    return f", ({', '.join(parts)}{',' if len(parts) == 1 else ''})"


def _indent(lines: list) -> list:
    return ["    " + line for line in lines]


# --- code generation: a batch, as one loop over a per-sample body ----------------------------------
# f(X, y) over n samples usually builds n copies of one per-sample subgraph, and straight-line code
# for all of them is large and slow to compile. When the trace splits into nodes before the samples
# (parameters only), n disjoint per-sample blocks in the engine's order, and nodes after them, the
# code loops over the samples with one body per distinct per-sample graph (a "variant").

_SHARED, _MIXED = -1, -2


class _Batch:
    """How a trace splits into shared nodes, per-sample blocks and the rest (or why it does not)."""

    def __init__(self, g: _Graph, shapes: list) -> None:
        self.g = g
        sizes = [len(s) for s in shapes if isinstance(s, tuple)]
        self.n = sizes[0] if sizes else 0
        self.batched = [isinstance(s, tuple) and len(s) == self.n for s in shapes]
        self.row_shapes = [s[0] if b and len(set(s)) == 1 else None
                           for s, b in zip(shapes, self.batched)]
        self.owner: dict = {}
        self.ok = self.n >= 2 and all(not b or len(set(s)) == 1 for s, b in zip(shapes, self.batched))
        if self.ok:
            self.ok = self._split()

    def owner_of(self, v) -> int:
        if not isinstance(v, Value):
            return _SHARED
        if v._op is not None:
            return self.owner[id(v)]
        source = self.g.rec.links.get(id(v))
        if source is not None:
            return self.owner_of(source)
        leaf = self.g.arg_leaves.get(id(v))
        return leaf[1][0] if leaf is not None and self.batched[leaf[0]] else _SHARED

    def _split(self) -> bool:
        g, owner = self.g, self.owner
        for node in g.forward_order:
            mine = _SHARED
            for p in g._deps(node):
                theirs = owner.get(id(p))
                if theirs is None:
                    theirs = owner[id(p)] = self.owner_of(p)
                if theirs != _SHARED and theirs != mine:
                    mine = theirs if mine == _SHARED else _MIXED
            owner[id(node)] = mine
        blocks = [self.owner[id(n)] for n in g.backward_order]
        first = next((k for k, o in enumerate(blocks) if o >= 0), None)
        if first is None or g.root._op is None or self.owner[id(g.root)] >= 0:
            return False
        expected = [i for i in range(self.n) for _ in range(blocks.count(i))]
        if blocks[first:first + len(expected)] != expected or blocks[:first].count(_MIXED):
            return False
        self.before = g.backward_order[:first]  # shared nodes whose grads come after the loop
        self.after = g.backward_order[first + len(expected):]
        if any(o >= 0 for o in (self.owner[id(n)] for n in self.after)):
            return False
        self.samples = [[] for _ in range(self.n)]
        for node in g.forward_order:
            if owner[id(node)] >= 0:
                self.samples[owner[id(node)]].append(node)
        self.samples_backward = [[] for _ in range(self.n)]
        for node in g.backward_order:
            if owner[id(node)] >= 0:
                self.samples_backward[owner[id(node)]].append(node)
        return all(self.samples)

    def plan(self) -> bool:
        """Group the samples into variants (same per-sample graph and guards) and find what the
        nodes after the loop read from each sample (its exports). False if it does not fit."""
        g = self.g
        self.guards = {}
        for guard in g.guards:
            owners = {self.owner_of(v) for v in (guard[0], guard[2])} - {_SHARED}
            key = owners.pop() if len(owners) == 1 else (_SHARED if not owners else _MIXED)
            self.guards.setdefault(key, []).append(guard)
        self.kinds, self.variants, signatures, self.keys = [], [], {}, {}
        self.variant_signatures: list = []
        for i in range(self.n):
            signature = self._signature(i)
            kind = signatures.setdefault(signature, len(signatures))
            if kind == len(self.variants):
                self.variants.append(i)  # the variant's representative sample
                self.variant_signatures.append(signature)
            self.kinds.append(kind)
        if len(self.variants) > MAX_VARIANTS:
            return False
        self.rest = [n for n in g.forward_order if self.owner[id(n)] == _MIXED]
        self.exports = [[] for _ in range(self.n)]
        reads = [p for n in self.rest for p in g._deps(n)]
        reads += [v for guard in self.guards.get(_MIXED, []) for v in (guard[0], guard[2])]
        for v in reads + _values_in(g.aux):
            v = g.rec.links.get(id(v), v) if isinstance(v, Value) else v
            if isinstance(v, Value) and v._op is not None and self.owner[id(v)] >= 0:
                exports = self.exports[self.owner[id(v)]]
                if v not in exports:
                    exports.append(v)
        self.local = [{id(n): k for k, n in enumerate(nodes)} for nodes in self.samples]
        layout = [tuple(self.local[i][id(v)] for v in self.exports[i]) for i in range(self.n)]
        return all(layout[i] == layout[self.variants[self.kinds[i]]] for i in range(self.n)) and \
            len({len(e) for e in self.exports}) == 1

    def _key(self, v) -> tuple:
        """What a value is, the same for every sample: a shared Value, a constant, an argument."""
        if not isinstance(v, Value):
            return ("c", _literal(v))
        leaf = self.g.arg_leaves.get(id(v))
        if leaf is not None and self.batched[leaf[0]]:
            return ("a", leaf[0], leaf[1][1:])
        return ("c", _literal(v.data)) if id(v) in self.g.rec.created else ("s", id(v))

    def _signature(self, i: int) -> tuple:
        local = {id(n): ("l", k) for k, n in enumerate(self.samples[i])}
        keys, links = self.keys, self.g.rec.links

        def ref(v):
            key = local.get(id(v)) or keys.get(id(v))
            if key is None:
                source = links.get(id(v)) if isinstance(v, Value) else None
                if source is not None:  # a constant that copies a node's number
                    return ("copy", ref(source))
                key = keys[id(v)] = self._key(v)
            return key

        nodes = tuple((n._op, tuple(map(ref, n.parents))) for n in self.samples[i])
        order = tuple(local[id(n)][1] for n in self.samples_backward[i])
        guards = tuple((ref(a), s, ref(b), o) for a, s, b, o in self.guards.get(i, []))
        return nodes, order, guards


def _batched_source(g: _Graph, code: _Code, b: _Batch, arg_names: list) -> str:
    """Python source of `forward` and `forward_backward` that loop over the samples."""
    shared = [n for n in g.forward_order if b.owner[id(n)] == _SHARED]
    code.name_nodes(shared + b.rest)
    for a, name in enumerate(arg_names):  # the rest reads a sample's numbers as X[i][j]
        if b.batched[a]:
            for v in _values_in(code.leaf_structures[a]):
                code.refs[id(v)] = name + "".join(f"[{k}]" for k in g.arg_leaves[id(v)][1])
    bodies = [_Body(g, code, b, r, k, arg_names) for k, r in enumerate(b.variants)]
    code.want_grads(shared)
    for i, exports in enumerate(b.exports):
        for m, v in enumerate(exports):
            code.refs[id(v)] = f"_saved[{i}][{m + 1}]"
            if bodies[b.kinds[i]].grad_of(v, i) is not None:
                code.grads[id(v)] = code.vars.new(f"sd{i}_{m}")
    code.want_grads(b.rest)
    head = _unpack_lines(code, arg_names, skip={a for a, batched in enumerate(b.batched) if batched})
    head += [f"{code.refs[id(p)]} = _P[{k}].data" for k, p in enumerate(g.params)]
    forward = ["# forward: the nodes that read only parameters"]
    forward += _forward_lines(shared, code.ref, b.guards.get(_SHARED, []), "raise _GuardFailed", set())
    forward += ["# forward: each sample, one body per per-sample graph", "_saved = []",
                f"for i in range({b.n}):", *_indent(_rows(code, b, arg_names))]
    forward += _indent(_variant_loop([body.forward() for body in bodies]))
    if len(bodies) > 1:  # a variant differs by guards, or by constants no guard sees: check
        forward += ["_check_kinds([s[0] for s in _saved])"]
    forward += ["# forward: the nodes that combine the samples"]
    forward += _forward_lines(b.rest, code.ref, b.guards.get(_MIXED, []), "raise _GuardFailed", set())
    result = code.ref(g.root) + (f", {_structure_code(g.aux, code.ref)}" if g.aux is not None else "")
    backward, assigned = _batched_backward(g, code, b, bodies, arg_names)
    writes = [f"_P[{k}].grad += {code.grads[id(p)]}" for k, p in enumerate(g.params)
              if code.grads[id(p)] in assigned]
    return "\n".join([
        f"def forward({', '.join(arg_names)}):",
        *_indent(head + forward + [f"return {result}"]), "",
        f"def forward_backward({', '.join(arg_names)}):",
        *_indent(head + forward + backward
                 + ["# add this call's total to each parameter's .grad (leaves accumulate)"]
                 + writes + [f"return {result}"]),
    ]) + "\n"


def _rows(code: _Code, b: _Batch, arg_names: list) -> list:
    """Lines that unpack sample i's numbers of each batched argument."""
    lines = []
    for a, name in enumerate(arg_names):
        if b.batched[a]:
            target = _structure_code_names(_row_names(code, name, b.row_shapes[a]))
            lines.append(f"{target} = {name}[i]")
    return lines


def _row_names(code: _Code, name: str, shape, path: tuple = ()):
    if shape is None:
        return code.row_vars.setdefault((name, path), code.vars.new(
            f"{name}_i" + "".join(f"_{k}" for k in path)))
    return [_row_names(code, name, s, path + (k,)) for k, s in enumerate(shape)]


def _variant_loop(bodies: list) -> list:
    """One body as it is; several tried in turn (a failed guard `continue`s to the next one)."""
    if len(bodies) == 1:
        return [line.replace("{fail}", "raise _GuardFailed") for line in bodies[0]]
    lines = ["for _k in _ORDERS[i]:  # this sample's variant in the trace first, then the others"]
    for k, body in enumerate(bodies):
        lines.append(f"    if _k == {k}:")
        lines += _indent(_indent([line.replace("{fail}", "continue") for line in body] + ["break"]))
    return lines + ["else:", "    raise _GuardFailed"]


class _NoBatch(Exception):
    """The trace does not fit the loop form: generate straight-line code instead."""


class _Body:
    """The generated code of one variant: a representative sample's nodes, named by position."""

    def __init__(self, g: _Graph, code: _Code, b: _Batch, r: int, k: int, arg_names: list) -> None:
        self.g, self.code, self.b, self.r, self.k = g, code, b, r, k
        self.nodes = b.samples[r]
        self.names = {}
        for idx, node in enumerate(self.nodes):
            if idx not in code.local_names:
                code.local_names[idx] = code.vars.new(f"s{idx}")
            self.names[id(node)] = code.local_names[idx]
        for a, name in enumerate(arg_names):
            if b.batched[a]:
                row = code.leaf_structures[a][r]
                for v, var in zip(_values_in(row), _flat(_row_names(code, name, b.row_shapes[a]))):
                    self.names[id(v)] = var
        self.grads = {}
        for idx, node in enumerate(self.nodes):
            if any(self.gref(p) is not None for p in node.parents):
                self.grads[id(node)] = "g" + self.names[id(node)]

    def ref(self, v: Value) -> str:
        name = self.names.get(id(v))
        if name is not None:
            return name
        source = self.g.rec.links.get(id(v))
        return self.ref(source) if source is not None else self.code.ref(v)

    def gref(self, v: Value):
        return self.grads.get(id(v)) if id(v) in self.names else self.code.gref(v)

    def grad_of(self, v: Value, i: int):
        """The grad variable of sample i's node v in this body (None if it needs none)."""
        return self.grads.get(id(self.nodes[self.b.local[i][id(v)]]))

    def _layout(self) -> list:
        exports = [self.nodes[self.b.local[self.r][id(v)]] for v in self.b.exports[self.r]]
        return exports + [n for n in self.nodes if n not in exports]

    def forward(self) -> list:
        lines = _forward_lines(self.nodes, self.ref, self.b.guards.get(self.r, []), "{fail}", set())
        saved = ", ".join([str(self.k)] + [self.ref(n) for n in self._layout()])
        return lines + [f"_saved.append(({saved}))"]

    def backward(self, seeded: list, assigned: set) -> list:
        names = ", ".join(["_"] + [self.ref(n) for n in self._layout()])
        lines = [f"{names} = _s"] + _rows(self.code, self.b, self.code.arg_names)
        assigned = set(assigned)
        exports = self._layout()
        for j, m in enumerate(seeded):
            grad = self.grads.get(id(exports[m]))
            if grad is not None:
                lines.append(f"{grad} = _seeds[i][{j}]")
                assigned.add(grad)
        return lines + _backward_lines(self.nodes_backward(), self.ref, self.gref, assigned)

    def nodes_backward(self) -> list:
        return self.b.samples_backward[self.r]


def _flat(structure) -> list:
    return [structure] if isinstance(structure, str) else [v for s in structure for v in _flat(s)]


def _batched_backward(g: _Graph, code: _Code, b: _Batch, bodies: list, arg_names: list) -> tuple:
    """(lines, assigned grads): the nodes after the samples, each sample last to first, then the
    shared nodes before them: the engine's reverse order, so every total sums in the same order."""
    lines = ["# backward: the nodes that combine the samples (last in the graph, so first here)"]
    assigned = set()
    lines.append(f"{code.gref(g.root)} = 1.0")
    assigned.add(code.gref(g.root))
    lines += _backward_lines(b.after, code.ref, code.gref, assigned)
    roles = range(len(b.exports[0]))
    seeded = [m for m in roles if all(code.grads.get(id(b.exports[i][m])) in assigned
                                      for i in range(b.n))]
    if any(code.grads.get(id(b.exports[i][m])) in assigned for m in roles if m not in seeded
           for i in range(b.n)):
        raise _NoBatch("some samples get a gradient from the rest of the graph and others not")
    seeds = ", ".join("(" + "".join(f"{code.grads[id(b.exports[i][m])]}, " for m in seeded) + ")"
                      for i in range(b.n))
    lines.append(f"_seeds = [{seeds}]")
    for v in [*g.params, *(n for n in g.forward_order if b.owner[id(n)] == _SHARED)]:
        grad = code.gref(v)
        if grad is not None and grad not in assigned:
            lines.append(f"{grad} = 0.0")
            assigned.add(grad)
    lines += ["# backward: each sample, last to first", f"for i in range({b.n - 1}, -1, -1):",
              "    _s = _saved[i]"]
    if len(bodies) == 1:
        lines += _indent(bodies[0].backward(seeded, assigned))
    else:
        for k, body in enumerate(bodies):
            lines += [f"    {'if' if k == 0 else 'elif'} _s[0] == {k}:"]
            lines += _indent(_indent(body.backward(seeded, assigned)))
    lines += ["# backward: the shared nodes before the samples"]
    lines += _backward_lines(b.before, code.ref, code.gref, assigned)
    return lines, assigned
