"""``amd new``: the skeleton of an experiment package, and generated parameters cells.

The end-to-end test does what the guide tells a new user to do: ``amd new experiment demo``
(which installs the package in editable mode), ``amd run demo -p smoke``, and the generated tests
under pytest; a finaliser uninstalls the package whatever happens.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from amdlib.core.experiment import Experiment, Param
from amdlib.errors import UserError
from amdlib.experiments import BUILTIN, get
from amdlib.pipeline import scaffold
from tests.conftest import amd_argv, amd_env, environment_lock
from tests.notebooks.test_committed import parameters_cell as read_parameters_cell


def amd(*args: str, cwd: Path, outputs: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(amd_argv(*args), cwd=cwd, env=amd_env(outputs), capture_output=True, text=True, timeout=600)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def record_of(project: Path, name: str) -> Experiment:
    with scaffold.imported(project / "src", name) as package:
        return package.EXPERIMENT


def assert_declares(nb: nbformat.NotebookNode, exp: Experiment) -> None:
    """The notebook's parameters cell assigns exactly the record's parameters, their defaults, their types."""
    found = read_parameters_cell(nb)
    assert list(found) == list(exp.params)
    for name, param in exp.params.items():
        assert found[name] == param.default and type(found[name]) is type(param.default), name


# --- generation (no install) -----------------------------------------------------------------


def test_the_skeleton_is_deterministic_complete_and_declares_its_entry_point(tmp_path):
    first, files = scaffold.write_skeleton("demo", tmp_path / "a")
    second, _ = scaffold.write_skeleton("demo", tmp_path / "b")
    assert tree(first) == tree(second)  # same name, same bytes
    assert sorted(tree(first)) == sorted(p.relative_to(first).as_posix() for p in files) == [
        "README.md", "pyproject.toml", "src/demo/__init__.py", "src/demo/demo.ipynb", "src/demo/harness.py",
        "src/demo/params/default.yaml", "src/demo/params/paper.yaml", "src/demo/params/smoke.yaml",
        "src/demo/params/sweep_default.yaml", "src/demo/problem.py", "src/demo/run.py", "tests/test_demo.py"]
    assert not list(tmp_path.glob(".*tmp*")), "the scratch folder was left behind"
    meta = tomllib.loads((first / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["amdlib.experiments"] == {"demo": "demo:EXPERIMENT"}
    assert set(meta["tool"]["setuptools"]["package-data"]["demo"]) == {"*.ipynb", "params/*.yaml"}
    for path in first.rglob("*.py"):
        ast.parse(path.read_text(), str(path))
        assert "{{" not in path.read_text(), f"{path}: a template placeholder is left"

    exp = record_of(first, "demo")
    assert exp.name == "demo" and Path(exp.notebook) == first / "src" / "demo" / "demo.ipynb"
    assert exp.params_dir == first / "src" / "demo" / "params"
    assert exp.make_problem is not None and exp.baselines is not None and exp.key_metrics
    nb = nbformat.read(first / "src" / "demo" / "demo.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert_declares(nb, exp)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'start("demo", globals())' in code and "ctx.save_figure(" in code and "ctx.write_results(" in code
    assert sum(c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in nb.cells) == 1


@pytest.mark.parametrize("name, why", [
    ("Demo", "lower-case Python identifier"), ("1st", "lower-case Python identifier"),
    ("my-auction", "lower-case Python identifier"), ("class", "lower-case Python identifier"),
    (BUILTIN[0], "exists already"), ("numpy", "importable already"),
])
def test_a_bad_name_is_a_one_line_error_and_writes_nothing(tmp_path, name, why):
    done = amd("new", "experiment", name, "--no-install", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert why in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine\n")
    done = amd("new", "experiment", "demo", "--no-install", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "exists already" in done.stderr
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()  # an empty folder holds nothing to overwrite
    done = amd("new", "experiment", "demo", "--dir", "empty", "--no-install", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "empty" / "src" / "demo" / "demo.ipynb").is_file()
    assert "python -m pip install -e empty" in done.stdout and "amd run demo -p smoke" in done.stdout


# --- the parameters cell -----------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN)
def test_the_generated_cell_declares_every_builtin_record_exactly(name):
    exp = get(name)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(scaffold.parameters_cell(exp),
                                                                   metadata={"tags": ["parameters"]})])
    assert_declares(nb, exp)


def test_floats_are_written_as_floats_and_a_bad_default_is_refused():
    exp = Experiment("x", "x.ipynb", "x", {"rate": Param(float, 1, "a rate"), "ks": Param(list, [1, 2], "", item_type=float)})
    cell = scaffold.parameters_cell(exp)
    assert "\nrate = 1.0  # a rate\n" in cell + "\n" and "\nks = [1.0, 2.0]" in cell
    bad = Experiment("x", "x.ipynb", "x", {"rate": Param(float, float("nan"), "")})
    with pytest.raises(UserError, match="rate"):  # a default its own validation refuses
        scaffold.parameters_cell(bad)


def test_write_replaces_only_the_parameters_cell(tmp_path):
    exp = get(BUILTIN[0])
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("seed = 1\nold = 2", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")]),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    scaffold.write_parameters_cell(path, exp)
    after = nbformat.read(path, as_version=4)
    assert after.cells[1].source == scaffold.parameters_cell(exp)
    assert [c.source for c in after.cells[::2]] == ["# title", "print(1)"] and after.cells[2].outputs == nb.cells[2].outputs
    nb.cells[1].metadata = {}
    nbformat.write(nb, path)
    with pytest.raises(UserError, match="tagged 'parameters'"):
        scaffold.write_parameters_cell(path, exp)


# --- the whole flow, installed -------------------------------------------------------------


@pytest.fixture
def demo_project(tmp_path):
    """``amd new experiment demo --dir <tmp>/demo`` (installed); uninstalled afterwards, whatever happens."""
    try:
        with environment_lock():  # `amd new experiment` runs pip install -e
            done = amd("new", "experiment", "demo", "--dir", "demo", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        yield tmp_path / "demo", done.stdout
    finally:
        with environment_lock():
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "--disable-pip-version-check", "amdlib-demo"],
                           capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_amd_new_then_amd_run_then_its_own_tests(demo_project, tmp_path):
    project, said = demo_project
    assert said.startswith("wrote demo (12 files):") and "installed: python -m pip install" in said
    assert "amd run demo -p smoke" in said

    listing = amd("list", cwd=tmp_path)
    assert "demo: demo: reserve prices" in listing.stdout and str(project / "src" / "demo" / "demo.ipynb") in listing.stdout

    ran = amd("run", "demo", "-p", "smoke", "-q", cwd=tmp_path, outputs=tmp_path / "outputs")
    assert ran.returncode == 0 and "\nok " in "\n" + ran.stdout, ran.stdout[-3000:] + ran.stderr[-3000:]
    (run,) = [p for p in (tmp_path / "outputs" / "demo").iterdir() if not p.name.startswith(".")]
    assert (run / "results.json").is_file() and (run / "figures" / "search.png").is_file()

    cell = amd("new", "params-cell", "demo", cwd=tmp_path)
    nb = nbformat.read(project / "src" / "demo" / "demo.ipynb", as_version=4)
    (tagged,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.returncode == 0 and cell.stdout == tagged.source + "\n"

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout[-3000:] + tests.stderr[-3000:]
