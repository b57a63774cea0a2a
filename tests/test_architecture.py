"""The package's shape, read from its source with ``ast`` (nothing is imported):

- every import inside the package (module level or inside a function) names a module that
  exists (no internal use of the deprecated old paths of :mod:`collective_qc.core.moved`);
- imports go only downward through the layers core -> physics -> solvers -> planning ->
  analysis -> outer ring, and there is no circle between modules;
- no function is longer than 80 lines (its docstring aside); no function takes more than 8 parameters, except the
  public entry points ``charge``, ``compare`` and ``Study`` and the Numba kernels (at most 12,
  the rest packed as named tuples).

The model catalog (``collective_qc.models``) is a plug-in: it registers its models through the
public registry like a third-party plug-in, and the registry loads it by name, so it stands
outside the graph (as entry points do).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "collective_qc"
LAYERS = ("core", "physics", "solvers", "planning", "analysis")  # bottom to top; the rest is the outer ring
PLUGINS = ("collective_qc.models",)
PUBLIC_ENTRY_POINTS = {"charge", "compare", "check_compare", "Study.__init__"}
KERNEL_DECORATORS = {"njit", "jit", "overload", "intrinsic", "register_jitable", "generated_jit"}
MAX_PARAMS, MAX_KERNEL_PARAMS, MAX_LINES = 8, 12, 80


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _target(node: ast.ImportFrom, name: str, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import of the package in the module, anywhere in it."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("collective_qc")]
        elif isinstance(node, ast.ImportFrom):
            target = _target(node, name, path)
            if not target.startswith("collective_qc"):
                continue
            for a in node.names:  # `from pkg import module` imports the module
                sub = f"{target}.{a.name}"
                out.append((sub if sub in MODULES else target, node.lineno))
    return [(t, line) for t, line in out if not t.startswith(PLUGINS)]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def rank(name: str) -> int:
    """Layer of a module: 0 core ... 4 analysis, 5 the outer ring, 6 the package root."""
    if name == "collective_qc":
        return len(LAYERS) + 1
    sub = name.split(".")[1]
    return LAYERS.index(sub) if sub in LAYERS else len(LAYERS)


def test_every_internal_import_names_a_module():
    missing = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} imports {t}"
               for m, deps in GRAPH.items() for t, line in deps if t not in MODULES]
    assert not missing, "imports of modules that do not exist (old paths?):\n" + "\n".join(missing)


def test_imports_go_only_downward():
    upward = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} ({LAYERS[rank(m)] if rank(m) < 5 else 'outer'}) "
              f"imports {t}" for m, deps in GRAPH.items() for t, line in deps
              if t in MODULES and rank(t) > rank(m)]
    assert not upward, "upward imports between layers:\n" + "\n".join(upward)


def _cycle(graph: dict[str, set]) -> list[str] | None:
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_circle():
    graph = {m: {t for t, _ in deps if t in MODULES and t != m and not m.startswith(t + ".")}
             for m, deps in GRAPH.items()}  # a module importing its own package's __init__ is not a circle
    found = _cycle(graph)
    assert found is None, "import circle: " + " -> ".join(found)


def test_the_checks_can_fail():
    """The graph checks see what they must: a circle and an upward import."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert rank("collective_qc.core.errors") < rank("collective_qc.physics.graph") < rank("collective_qc.solvers.x")
    assert rank("collective_qc.planning.guard") < rank("collective_qc.analysis.results") < rank("collective_qc.api")
    assert ("collective_qc.analysis.results", 0) not in GRAPH["collective_qc.core.errors"]
    assert any(t == "collective_qc.solvers.contract" for t, _ in GRAPH["collective_qc.planning.guard"])


def _functions():
    """(qualified name, node, is_kernel, file) for every function of the package."""
    out = []

    def walk(node, prefix, kernel, path):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorated = {getattr(d, "attr", None) or getattr(d, "id", None) or
                             getattr(getattr(d, "func", None), "attr", None) or
                             getattr(getattr(d, "func", None), "id", None) for d in child.decorator_list}
                k = kernel or bool(decorated & KERNEL_DECORATORS) or "kernels" in path.parts
                out.append((prefix + child.name, child, k, path))
                walk(child, prefix + child.name + ".", k, path)
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".", kernel, path)

    for path in MODULES.values():
        walk(ast.parse(path.read_text()), "", False, path)
    return out


FUNCTIONS = _functions()


def _count(fn: ast.FunctionDef) -> int:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    return len([n for n in names if n not in ("self", "cls", "typingctx")])


@pytest.mark.parametrize("limit_kind", ["python", "kernel"])
def test_short_signatures(limit_kind):
    kernel = limit_kind == "kernel"
    limit = MAX_KERNEL_PARAMS if kernel else MAX_PARAMS
    long = [f"{path.relative_to(PACKAGE.parent)}:{fn.lineno} {name} takes {_count(fn)}"
            for name, fn, k, path in FUNCTIONS if k == kernel and _count(fn) > limit
            and name not in PUBLIC_ENTRY_POINTS]
    assert not long, f"functions over {limit} parameters (pack them in a plan/problem object):\n" + "\n".join(long)


def _lines(fn: ast.FunctionDef) -> int:
    """Lines of a function without its docstring."""
    n = fn.end_lineno - fn.lineno + 1
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1
    return n


def test_short_functions():
    long = [f"{path.relative_to(PACKAGE.parent)}:{fn.lineno} {name} has {_lines(fn)} lines"
            for name, fn, _, path in FUNCTIONS if _lines(fn) > MAX_LINES]
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


ADDED_AFTER_MOVE = ("collective_qc.physics.permutation", "collective_qc.physics.disorder",
                    "collective_qc.analysis.ensemble")  # new modules: no old path to alias


def test_old_module_paths_are_deprecation_aliases():
    """Every moved module keeps its old path for now: the same module object, with a
    DeprecationWarning naming the new place (fresh interpreter: nothing imported before)."""
    import subprocess
    import sys

    code = (
        "import warnings, importlib\n"
        "import collective_qc\n"
        "from collective_qc.core.moved import MOVED\n"
        "for old, new in sorted(MOVED.items()):\n"
        "    with warnings.catch_warnings(record=True) as w:\n"
        "        warnings.simplefilter('always')\n"
        "        mod = importlib.import_module(old)\n"
        "    assert mod is importlib.import_module(new), old\n"
        "    assert any(issubclass(x.category, DeprecationWarning) and new in str(x.message) for x in w), old\n"
        "from collective_qc.guard import plan_run\n"
        "from collective_qc.quantities.ergotropy import ergotropy\n"
        "print(len(MOVED))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == sum(1 for m in MODULES if m.count(".") == 2 and rank(m) in (0, 1, 3, 4)
                                  and not m.endswith(("moved", "version")) and m not in ADDED_AFTER_MOVE)
