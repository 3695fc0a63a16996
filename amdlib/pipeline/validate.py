"""`amd validate`: re-execute executed notebooks with nbval and compare their recorded outputs.

Each notebook is copied into a temporary directory and run with
``pytest --nbval-lax`` (only cells marked ``# NBVAL_CHECK_OUTPUT`` are
compared) and ``AMDLIB_NO_WRITE=1`` so the re-execution writes nothing into
the run it checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from amdlib.errors import UserError
from amdlib.pipeline import runs


@dataclass
class Validation:
    """Whether one notebook reproduced its recorded outputs, and pytest's summary line."""

    path: Path
    ok: bool
    summary: str
    output: str = ""


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
    if cassette.is_file() and injected and re.search(r"^proposer = ['\"]openai['\"]", injected[-1].source, re.M):
        injected[-1].source += f'\nproposer = "replay"\ncassette = {str(cassette.resolve())!r}\n'
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
        cmd = [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
               "--nbval-kernel-name", "python3", "--nbval-cell-timeout", "600", str(copy)]
        try:
            done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return Validation(notebook, False, f"timed out after {timeout_s:.0f}s")
    out = done.stdout + done.stderr
    tail = [ln for ln in out.splitlines() if re.search(r"\b(passed|failed|error|no tests ran)\b", ln)]
    summary = tail[-1].strip("= ") if tail else f"pytest exit {done.returncode}"
    return Validation(notebook, done.returncode == 0, summary, out)


def validate_paths(paths: list[Path], root: Path) -> list[Validation]:
    """Validate every notebook found from ``paths`` (see :func:`find_notebooks`)."""
    return [nbval(nb) for nb in find_notebooks(paths, root)]
