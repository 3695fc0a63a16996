"""The package's layers run one way, with no import cycles, and the lower layers name no experiment.

Layers, lowest first: ``amdlib.errors``; ``amdlib.core`` and ``amdlib.llm``; ``amdlib.problems``;
``amdlib.experiments``; ``amdlib.pipeline``; ``amdlib.benchmarks`` (measures every layer);
``amdlib.cli``. A module may import its own layer or lower ones. Every import counts, also one
inside a function (it is a dependency all the same), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import amdlib
from amdlib.experiments import BUILTIN

ROOT = Path(amdlib.__file__).resolve().parent

#: Top-level part of the package -> layer (higher may import lower).
LAYERS = {"errors": 0, "__init__": 0, "core": 1, "llm": 1, "problems": 2, "experiments": 3, "pipeline": 4,
          "benchmarks": 5, "cli": 6, "__main__": 6}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS["__init__"] if len(parts) == 1 else LAYERS[parts[1]]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skip.update(id(n) for n in ast.walk(stmt))
    return skip


def imports(module: str) -> set[str]:
    """The amdlib modules ``module`` imports (resolved to modules that exist in the package)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import sub`` depends on the submodule; ``from pkg import name`` on pkg itself.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("amdlib") and name != module:
                found.add(name)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def test_the_graph_sees_the_package():
    assert len(MODULES) > 100
    assert {"amdlib.errors", "amdlib.experiments"} <= GRAPH["amdlib.cli"]  # lazy imports inside functions count
    assert "amdlib.core.sandbox" in GRAPH["amdlib.core.engine"]


def test_no_module_imports_a_higher_layer():
    upward = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps if layer(d) > layer(m))
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_detectors_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert layer("amdlib.pipeline.report") > layer("amdlib.experiments.quickstart") > layer("amdlib.core.engine")


#: Experiment names, as words in code (docstrings and comments aside).
_NAMES = re.compile(r"\b(" + "|".join(BUILTIN) + r")\b")


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String constants and names in a module's code, without docstrings (line, text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            out.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            out.append((node.lineno, node.attr))
    return out


@pytest.mark.parametrize("part", ["core", "pipeline"])
def test_core_and_pipeline_name_no_experiment(part):
    named = sorted({f"{MODULES[m].relative_to(ROOT.parent)}:{line}: {text[:60]!r}"
                    for m in MODULES if m.startswith(f"amdlib.{part}")
                    for line, text in _code_strings(MODULES[m]) if _NAMES.search(text)})
    assert not named, f"amdlib/{part} names experiments:\n" + "\n".join(named)
