"""``amd new``: the skeleton of an experiment package that lives outside amdlib, and the
``parameters`` cell of any experiment's notebook, generated from its record.

``amd new experiment NAME`` writes a project folder (a Python package declaring the entry point
``NAME`` in the group ``amdlib.experiments``, its notebook, parameter files, tests and a README)
from the templates in ``templates/experiment/``, then installs it in editable mode with the
running interpreter, so that every ``amd`` command knows it at once. The placeholder problem has
a known optimum, so the skeleton's tests mean something before it is made into another problem.

Generation is deterministic (same name and title, same bytes) and all or nothing: the files are
written into a scratch folder beside the target, which is renamed into place at the end.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import keyword
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, Callable, Iterator

import nbformat

from amdlib.core.experiment import Experiment
from amdlib.errors import UserError
from amdlib.pipeline.jsonio import write_text_atomic
from amdlib.pipeline.params import check_value

#: The skeleton's templates (package data); ``{{name}}``, ``{{title}}`` and ``{{dist}}`` are filled in.
TEMPLATES = Path(__file__).resolve().with_name("templates") / "experiment"

#: Template -> file of the project (``{name}``: the experiment's name). The notebook comes last:
#: its parameters cell is generated from the record the other files define.
FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("__init__.py.tmpl", "src/{name}/__init__.py"),
    ("problem.py.tmpl", "src/{name}/problem.py"),
    ("harness.py.tmpl", "src/{name}/harness.py"),
    ("run.py.tmpl", "src/{name}/run.py"),
    ("smoke.yaml.tmpl", "src/{name}/params/smoke.yaml"),
    ("default.yaml.tmpl", "src/{name}/params/default.yaml"),
    ("paper.yaml.tmpl", "src/{name}/params/paper.yaml"),
    ("sweep_default.yaml.tmpl", "src/{name}/params/sweep_default.yaml"),
    ("test.py.tmpl", "tests/test_{name}.py"),
)
NOTEBOOK = ("notebook.py.tmpl", "src/{name}/{name}.ipynb")

_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Cell markers of the notebook template (the "percent" format): ``# %%``, ``# %% [markdown]``,
#: and ``# %% parameters`` where the generated parameters cell goes.
_MARKER = re.compile(r"^# %%(?: (?P<kind>\[markdown\]|parameters))?\s*$")
#: The first setuptools that builds editable installs without the ``wheel`` package (PEP 660).
_SETUPTOOLS_MIN = (70, 1)


# --- the parameters cell --------------------------------------------------------------------


def parameters_cell(experiment: Experiment) -> str:
    """The source of the notebook's ``parameters`` cell: every declared parameter, in declaration
    order, as ``name = literal  # help``, each default coerced exactly as validation coerces it
    (a float parameter's default is written as a float, ``1.0`` not ``1``)."""
    lines = [f"# Parameters: generated from the record by `amd new params-cell {experiment.name}`; "
             "`amd run` and papermill override them"]
    for name, param in experiment.params.items():
        value = check_value(name, param, param.default, f"experiment '{experiment.name}' declared default")
        literal = repr(value)
        back = ast.literal_eval(literal) if _is_literal(literal) else None
        if back != value or type(back) is not type(value):
            raise UserError(f"experiment '{experiment.name}': the default of '{name}' ({value!r}) cannot be "
                            "written as a Python literal")
        lines.append(f"{name} = {literal}  # {_help_comment(param.help)}" if param.help else f"{name} = {literal}")
    return "\n".join(lines)


#: papermill reads a parameters line with a second "=" as no parameter at all ("Unable to parse"),
#: so a help comment writes its comparisons and equalities with other signs.
_NO_EQUALS = ((">=", "\u2265"), ("<=", "\u2264"), ("!=", "\u2260"), ("==", "\u2261"), ("=", "\uff1d"))


def _help_comment(help_text: str) -> str:
    text = " ".join(help_text.split())
    for sign, instead in _NO_EQUALS:
        text = text.replace(sign, instead)
    return text


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


def write_parameters_cell(path: Path, experiment: Experiment) -> Path:
    """Replace the source of the cell tagged ``parameters`` in the notebook ``path`` (atomically,
    every other cell and its outputs untouched)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: cannot read the notebook ({err})") from None
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1 or cells[0].cell_type != "code":
        raise UserError(f"{path}: expected exactly one code cell tagged 'parameters', found {len(cells)}; "
                        "tag the notebook's parameters cell 'parameters' and run again")
    cells[0].source = parameters_cell(experiment)
    write_text_atomic(path, _notebook_text(nb))
    return path


def _notebook_text(nb: nbformat.NotebookNode) -> str:
    """A notebook's file contents, as ``nbformat.write`` writes them (a final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


# --- the skeleton ---------------------------------------------------------------------------


def check_name(name: str) -> None:
    """Refuse a name that is not a lower-case identifier, an experiment already, or an importable
    module (the package would shadow it, or be shadowed)."""
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise UserError(f"experiment name '{name}': expected a lower-case Python identifier (letters, digits and _, "
                        "starting with a letter), e.g. my_auction")
    from amdlib.experiments import BUILTIN, GROUP

    if name in BUILTIN or name in {point.name for point in entry_points(group=GROUP)}:
        raise UserError(f"experiment '{name}' exists already (see `amd list`); choose another name")
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin is not None:  # a namespace portion (a plain folder) shadows nothing
        raise UserError(f"experiment name '{name}': a module of that name is importable already ({spec.origin}); "
                        "choose another name")


def title_of(name: str) -> str:
    """The skeleton's title (the report's section heading; edit it in the record)."""
    return f"{name}: reserve prices by number of bidders (the skeleton's placeholder problem)"


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.search(r"\{\{\w+\}\}", text)
    if left:
        raise RuntimeError(f"template placeholder {left.group(0)} has no value")
    return text


def notebook_from_template(text: str, experiment: Experiment) -> nbformat.NotebookNode:
    """The notebook of a percent-format template, with its parameters cell generated from the record.
    Cell ids are derived from the content, so the same template gives the same bytes."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _MARKER.match(line)
        if m:
            cells.append((m["kind"] or "code", []))
        elif cells:
            cells[-1][1].append(line)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, (kind, lines) in enumerate(cells):
        source = "\n".join(lines).strip("\n")
        if kind == "[markdown]":
            cell = nbformat.v4.new_markdown_cell(source)
        elif kind == "parameters":
            cell = nbformat.v4.new_code_cell(parameters_cell(experiment), metadata={"tags": ["parameters"]})
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = hashlib.sha256(f"{i}\n{cell.source}".encode()).hexdigest()[:8]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


@contextmanager
def imported(folder: Path, name: str) -> Iterator[Any]:
    """The package ``name`` under ``folder``, imported without leaving a trace (no bytecode written,
    sys.path and sys.modules as they were)."""
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(folder))
    try:
        importlib.invalidate_caches()
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
        for mod in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[mod]
        sys.dont_write_bytecode = saved


def _target(name: str, directory: str | Path | None) -> Path:
    target = Path(directory if directory is not None else name).expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists already; `amd new` never overwrites: choose another --dir")
    if not target.parent.is_dir():
        raise UserError(f"{target.parent} is not a folder; create it first or choose another --dir")
    return target


def write_skeleton(name: str, directory: str | Path | None = None) -> tuple[Path, list[Path]]:
    """Write the project of experiment ``name`` into ``directory`` (default ``./NAME``); returns the
    folder and the files written, in order. Nothing is left behind on failure."""
    check_name(name)
    target = _target(name, directory)
    values = {"name": name, "title": title_of(name), "dist": f"amdlib-{name.replace('_', '-')}"}
    scratch = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    written: list[Path] = []
    try:
        for template, dest in FILES:
            path = scratch / dest.format(name=name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill((TEMPLATES / template).read_text(encoding="utf-8"), values), encoding="utf-8")
            written.append(target / dest.format(name=name))
        with imported(scratch / "src", name) as package:  # the record just written
            nb = notebook_from_template(_fill((TEMPLATES / NOTEBOOK[0]).read_text(encoding="utf-8"), values),
                                        package.EXPERIMENT)
        (scratch / NOTEBOOK[1].format(name=name)).write_text(_notebook_text(nb), encoding="utf-8")
        written.append(target / NOTEBOOK[1].format(name=name))
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target, sorted(written)


def build_flags() -> list[str]:
    """pip's flags to build a local project here without the network: no build isolation when this
    environment's setuptools builds (editable) wheels by itself, else none (pip then fetches
    setuptools into an isolated build environment, which needs the package index)."""
    try:
        have = tuple(int(p) for p in re.findall(r"\d+", version("setuptools"))[:2])
    except PackageNotFoundError:
        have = ()
    return ["--no-build-isolation"] if have >= _SETUPTOOLS_MIN else []


def install_command(folder: Path) -> list[str]:
    """``pip install -e folder`` with the running interpreter (offline where :func:`build_flags` allows)."""
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", *build_flags(),
            "-e", str(folder)]


def install(folder: Path) -> list[str]:
    """Install the project in editable mode (the entry point is live at once); returns the command."""
    cmd = install_command(folder)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = next((ln for ln in reversed((done.stderr or done.stdout).splitlines()) if ln.strip()), "no output")
        raise UserError(f"the skeleton is written to {folder}, but `{' '.join(cmd[2:])}` failed "
                        f"(exit {done.returncode}): {last.strip()}", exit_code=1)
    return cmd


def new_experiment(name: str, directory: str | Path | None = None, install_it: bool = True,
                   echo: Callable[[str], None] = print) -> Path:
    """``amd new experiment``: write the skeleton, install it unless told not to, say what is next."""
    folder, files = write_skeleton(name, directory)
    here = Path.cwd()
    shown = os.path.relpath(folder, here) if folder.is_relative_to(here) else str(folder)
    echo(f"wrote {shown} ({len(files)} files):")
    for path in files:
        echo(f"  {path.relative_to(folder)}")
    if install_it:
        cmd = install(folder)
        flags = " ".join(f for f in cmd[5:-2] if f != "--quiet")
        echo(f"installed: python -m pip install {flags + ' ' if flags else ''}-e {shown} (editable: `amd` finds "
             f"'{name}' now, and edits take effect without reinstalling)")
    else:
        echo(f"not installed (--no-install): run `python -m pip install -e {shown}` so that `amd` finds '{name}'")
    steps = ((f"amd run {name} -p smoke", "seconds, offline; then `amd report`"),
             (f"python -m pytest {Path(shown) / 'tests'}", "the known optimum scores as it should; a search beats the seed"),
             (f"edit {Path(shown) / 'src' / name / 'problem.py'}", "your own problem: amdlib's docs/adding-a-problem.md"))
    width = max(len(cmd) for cmd, _ in steps)
    echo("next:")
    for cmd, why in steps:
        echo(f"  {cmd.ljust(width)}   # {why}")
    return folder


__all__ = ["parameters_cell", "write_parameters_cell", "imported", "check_name", "write_skeleton", "build_flags",
           "install_command", "new_experiment", "notebook_from_template"]
