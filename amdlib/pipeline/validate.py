"""`amd validate`: re-execute executed notebooks with nbval and compare their recorded outputs.

Each notebook is copied into a temporary directory and run with
``pytest --nbval-lax`` (only cells marked ``# NBVAL_CHECK_OUTPUT`` are
compared). The copy's ``output_dir`` is emptied and ``AMDLIB_NO_WRITE=1`` is set,
so the re-execution writes nothing into the run it checks and reuses nothing cached
there (trained models are trained again, in memory). Each failing cell is reported
either as a crash (the cell raised) or as a difference (with a short diff).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from amdlib.errors import UserError
from amdlib.pipeline import runs


@dataclass
class CellProblem:
    """One cell that did not reproduce: ``kind`` is ``crash`` or ``differs``."""

    cell: str
    kind: str
    detail: str


@dataclass
class Validation:
    """Whether one notebook reproduced its recorded outputs, pytest's summary, the bad cells."""

    path: Path
    ok: bool
    summary: str
    output: str = ""
    problems: list[CellProblem] = field(default_factory=list)


def find_notebooks(paths: list[Path], root: Path) -> list[Path]:
    """Notebooks named by ``paths`` (run dirs or .ipynb files); every complete run when empty."""
    if not paths:
        return [info.parent / "notebook.ipynb" for info in sorted(root.glob("*/*/run.json"))
                if not info.parent.name.startswith(".") and runs.is_complete(info.parent)]
    found = []
    for path in paths:
        if path.is_dir() and (path / "notebook.ipynb").is_file():
            found.append(path / "notebook.ipynb")
        elif path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        else:
            raise UserError(f"{path}: not a run directory or a notebook")
    return found


def _copy_for_replay(notebook: Path, copy: Path) -> None:
    """Copy ``notebook``; a run that used an LLM is switched to replay its recorded cassette.

    Re-executing an ``openai`` run would ask the endpoint again (cost, and different
    answers); its ``cassette.jsonl`` beside the notebook holds every exchange instead.
    """
    cassette = notebook.parent / "cassette.jsonl"
    nb = nbformat.read(str(notebook), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    if injected:
        # Older runs named their (long gone) working dir here: never let the copy write there.
        injected[-1].source += '\noutput_dir = ""\n'
        if cassette.is_file() and re.search(r"^proposer = ['\"]openai['\"]", injected[-1].source, re.M):
            injected[-1].source += f'proposer = "replay"\ncassette = {str(cassette.resolve())!r}\n'
        nbformat.write(nb, str(copy))
    else:
        shutil.copyfile(notebook, copy)


def nbval(notebook: Path, timeout_s: float = 900) -> Validation:
    """Run nbval (lax) on a temporary copy of ``notebook``."""
    with tempfile.TemporaryDirectory(prefix="amd-nbval-") as tmp:
        copy = Path(tmp) / notebook.name
        _copy_for_replay(notebook, copy)
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")  # keep the repo's pytest options out
        env = dict(os.environ, AMDLIB_NO_WRITE="1")
        env.pop("MPLBACKEND", None)
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
               "--nbval-kernel-name", "python3", "--nbval-cell-timeout", "600", f"--junitxml={junit}", str(copy)]
        try:
            done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return Validation(notebook, False, f"timed out after {timeout_s:.0f}s")
        problems = cell_problems(junit.read_text() if junit.is_file() else "")
        _name_cells(problems, nbformat.read(str(copy), as_version=4))
    out = done.stdout + done.stderr
    tail = [ln for ln in out.splitlines() if re.search(r"\b(passed|failed|error|no tests ran)\b", ln)]
    summary = tail[-1].strip("= ") if tail else f"pytest exit {done.returncode}"
    return Validation(notebook, done.returncode == 0, summary, out, problems)


def cell_problems(junit_xml: str, max_lines: int = 6) -> list[CellProblem]:
    """The failing cells of an nbval run, from pytest's JUnit XML report."""
    import xml.etree.ElementTree as ET

    if not junit_xml.strip():
        return []
    problems = []
    for case in ET.fromstring(junit_xml).iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is None:
            continue
        text = (failure.get("message") or "") + "\n" + (failure.text or "")
        kind = "differs" if "outputs differ" in text or "mismatch" in text else "crash"
        problems.append(CellProblem(case.get("name", "?"), kind, _short_detail(text, kind, max_lines)))
    return problems


def _name_cells(problems: list[CellProblem], nb: nbformat.NotebookNode) -> None:
    """Rename nbval's ``Cell N`` (N-th code cell, from 0) to the notebook's cell and its first line."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for problem in problems:
        found = re.search(r"Cell (\d+)", problem.cell)
        if found and int(found.group(1)) < len(code):
            cell = code[int(found.group(1))]
            lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            first = (lines[0][:60] + ("..." if len(lines[0]) > 60 else "")) if lines else "(empty)"
            problem.cell = f"code cell {int(found.group(1)) + 1} [{first}]"


def _short_detail(text: str, kind: str, max_lines: int) -> str:
    """A few telling lines: the diff of a difference, the exception of a crash."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if kind == "differs":
        # nbval's diff: "-" is the re-executed output, "+" the recorded one.
        picked = list(dict.fromkeys(ln.strip() for ln in lines if ln.lstrip().startswith(("- ", "+ "))))
        if picked:
            return "\n".join(["(- now, + recorded)", *picked[: max_lines - 1]])
    else:
        picked = [ln for ln in lines if re.search(r"(Error|Exception|Interrupt)\b", ln)][-2:]
    return "\n".join((picked or lines[-max_lines:])[:max_lines])


def validate_paths(paths: list[Path], root: Path) -> list[Validation]:
    """Validate every notebook found from ``paths`` (see :func:`find_notebooks`)."""
    return [nbval(nb) for nb in find_notebooks(paths, root)]
