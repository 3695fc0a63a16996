"""Committed notebooks: no outputs, kernel python3, and a parameters cell that matches the experiment."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from amdlib.experiments import BUILTIN, get
from amdlib.pipeline.runs import notebook_path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: The built-in experiments' notebooks (an installed plugin's notebook is its package's business).
BY_NOTEBOOK = {notebook_path(get(name)): get(name) for name in BUILTIN}


def parameters_cell(nb: nbformat.NotebookNode) -> dict[str, object]:
    """The names and literal values assigned in the (single) cell tagged ``parameters``."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell must be tagged 'parameters'"
    assert cells[0].cell_type == "code"
    found: dict[str, object] = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name), (
            f"parameters cell line {node.lineno}: only 'name = literal' assignments are allowed"
        )
        found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ is empty"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_declares_exactly_the_experiment_params(path):
    exp = BY_NOTEBOOK.get(path.resolve())
    assert exp is not None, f"{path.name} belongs to no experiment in amdlib.experiments"
    declared = {name: p.default for name, p in exp.params.items()}
    found = parameters_cell(nbformat.read(path, as_version=4))
    assert sorted(found) == sorted(declared), (
        f"missing {sorted(set(declared) - set(found))}, extra {sorted(set(found) - set(declared))}"
    )
    for name, default in declared.items():
        assert found[name] == default and type(found[name]) is type(default), f"{name}: {found[name]!r} != {default!r}"


@pytest.mark.parametrize("name, exp", sorted((name, get(name)) for name in BUILTIN))
def test_every_experiment_has_its_notebook_and_param_files(name, exp):
    assert notebook_path(exp).is_file()
    for kind in ("smoke", "default", "paper"):
        assert (REPO / "params" / name / f"{kind}.yaml").is_file(), f"params/{name}/{kind}.yaml is missing"


#: A notebook narrates and calls; orchestration lives in its experiment's package.
MAX_CODE_LINES = 120


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_is_thin(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    lines = sum(len(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")
    assert lines <= MAX_CODE_LINES, (f"{path.name} has {lines} code lines (parameters cell included), over "
                                     f"{MAX_CODE_LINES}: move orchestration into its experiment's package")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter_of_the_cell(path: Path) -> None:
    # A line papermill cannot parse (a second "=" in its help comment) is reported as an unknown parameter.
    from papermill.translators import PythonTranslator

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    assert sorted(p.name for p in PythonTranslator.inspect(cell)) == sorted(parameters_cell(nb))
