"""The shape of nn's imports: no circle (function-level imports included), serialization imports no
layer, and one home for argument checks."""

import ast
import pathlib
from tests.helpers import REPO

NN = REPO / "nn"


def _imports(path: pathlib.Path) -> set:
    """The nn modules that `path` imports anywhere in it (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nn."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("nn."))
    return found


def _graph() -> dict:
    modules = {p.stem: p for p in NN.glob("*.py")}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


def _cycle(graph: dict):
    """One import circle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_nn_has_no_import_circle_even_through_function_level_imports():
    cycle = _cycle({k: v - {"__init__"} for k, v in _graph().items() if k != "__init__"})
    assert cycle is None, f"import circle: {' -> '.join(cycle)}"


def test_serialization_imports_no_layer_or_module():
    imported = _graph()["serialization"]
    assert imported <= {"validation"}, f"serialization imports {sorted(imported)}"


def test_core_modules_have_no_private_validators():
    for name in ("module", "layers", "optim", "schedulers"):
        tree = ast.parse((NN / f"{name}.py").read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        duplicates = defined & {"_positive_int", "_finite", "_number", "_check_size", "_finite_list"}
        assert not duplicates, f"nn/{name}.py defines {sorted(duplicates)}; use nn.validation"
