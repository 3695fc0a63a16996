"""Importing an experiment's record is cheap: the pipeline lists experiments without loading torch,
scipy, the engine or the sandbox (its hooks import them when called)."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy", "matplotlib", "amdlib.core.engine", "amdlib.core.sandbox")


@pytest.mark.parametrize("name", ["quickstart", "virtual_valuation", "redistribution", "correlated_revenue",
                                  "multi_item"])
def test_record_imports_nothing_heavy(name):
    code = (f"import sys, amdlib.experiments.{name} as e; assert e.EXPERIMENT.name == {name!r}; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
