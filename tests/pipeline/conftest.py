"""Fixtures of the report and shell-inspection tests: one real outputs tree, made once per session."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from amdlib.experiments.quickstart import EXPERIMENT
from amdlib.pipeline import runs
from amdlib.pipeline.params import load_params
from tests.conftest import REPO, amd_argv, amd_env


@pytest.fixture(scope="session")
def quickstart_outputs(tmp_path_factory) -> Path:
    """An outputs root holding a real two-run quickstart sweep (smoke params, method varies)
    made by the `amd sweep` command, plus one failed attempt's record as the runner writes it."""
    root = tmp_path_factory.mktemp("report-outputs")
    sweep = root.parent / "sweep_methods.yaml"
    sweep.write_text(yaml.safe_dump({"experiment": "quickstart", "base": str(REPO / "params" / "quickstart" / "smoke.yaml"),
                                     "grid": {"method": ["funsearch", "eoh"]}}))
    done = subprocess.run(amd_argv("sweep", str(sweep), "-j", "2"), cwd=REPO, env=amd_env(root), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    params = runs.identity(load_params(EXPERIMENT, REPO / "params" / "quickstart" / "smoke.yaml", ["method=random", "seed=7"]))
    failed = root / "quickstart" / "0badc0ffee00.failed.json"
    failed.write_text(json.dumps({"experiment": "quickstart", "run_id": "0badc0ffee00", "status": "failed",
                                  "error": "ZeroDivisionError: division by zero", "end": "2026-01-01T00:00:00+00:00",
                                  "params": params, "params_source": "by hand"}))
    return root
