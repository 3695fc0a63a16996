"""`amd validate` leaves the outputs tree as it was, and says which cell failed and how.

Runs the real experiments that train models (correlated revenue, facility location) at
smoke size: their validation must neither write model files beside the run nor reuse them.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with a hash of its bytes (folders map to "")."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import subprocess

    from tests.conftest import amd_argv, amd_env

    root = tmp_path_factory.mktemp("outputs")
    for exp in ("quickstart", "correlated_revenue", "facility_location"):
        done = subprocess.run(amd_argv("run", exp, "-p", f"params/{exp}/smoke.yaml"), cwd=REPO, env=amd_env(root),
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_validate_writes_nothing_under_outputs(amd, outputs):
    before = snapshot(outputs)
    done = amd("validate", timeout=1800, outputs=outputs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("reproduced ") == 3
    assert snapshot(outputs) == before


def _copy_run(outputs: Path, exp: str, dest: Path) -> Path:
    run = next(p for p in (outputs / exp).iterdir() if not p.name.startswith(".") and p.is_dir())
    shutil.copytree(run, dest)
    return dest


def test_validate_names_a_tampered_cell_with_a_diff(amd, outputs, tmp_path):
    copy = _copy_run(outputs, "quickstart", tmp_path / "tampered")
    nb = nbformat.read(str(copy / "notebook.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source
                and any(o.get("output_type") == "stream" for o in c.outputs))
    stream = next(o for o in cell.outputs if o.get("output_type") == "stream")
    original = stream["text"].splitlines()[0]
    stream["text"] = stream["text"].replace(original, original + " (tampered)", 1)
    nbformat.write(nb, str(copy / "notebook.ipynb"))
    done = amd("validate", str(copy), timeout=600)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("DIFFERS ")
    number = [c for c in nb.cells if c.cell_type == "code"].index(cell) + 1
    assert any(ln.strip().startswith(f"code cell {number} [") and "output differs" in ln for ln in lines), done.stdout
    assert "(- now, + recorded)" in done.stdout
    assert any(ln.strip() == f"+ {original} (tampered)" for ln in lines) and any(ln.strip() == f"- {original}" for ln in lines)


def test_validate_tells_a_crash_from_a_difference(amd, outputs, tmp_path):
    copy = _copy_run(outputs, "quickstart", tmp_path / "crashing")
    nb = nbformat.read(str(copy / "notebook.ipynb"), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    injected.source += "\nseed = 'not a number'\n"
    nbformat.write(nb, str(copy / "notebook.ipynb"))
    done = amd("validate", str(copy), timeout=600)
    assert done.returncode == 1 and done.stdout.startswith("CRASHED "), done.stdout
    assert "raised an error" in done.stdout and "seed" in done.stdout
