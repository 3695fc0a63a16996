"""docs/adding-a-problem.md works as written: its commands and its worked example.

The guide marks what it expects to run with ``<!-- example: NAME -->`` before a code block:

- ``PACKAGE/FILE.py`` blocks are concatenated, in page order, into that file of the worked
  example's package (``src/PACKAGE/FILE.py`` of the project ``amd new`` writes);
- ``run`` blocks are executed, in order, in one namespace, with the package importable;
- ``shell`` blocks hold ``$ command`` lines, run in a scratch folder as a user would type them.

The end-to-end test follows the page: the first shell block (``amd new experiment``, which
installs the skeleton, and ``amd run``), the files of the worked example written over the
skeleton's, then the last shell block (regenerate the parameters cell, run, the package's own
tests). A finaliser uninstalls the package whatever happens. Nothing is copied into this test.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import amd_env, environment_lock

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adding-a-problem.md"
_BLOCK = re.compile(r"<!-- example: (?P<name>[\w./]+) -->\s*```(?:python|console)\n(?P<code>.*?)```", re.S)
PACKAGE = "posted_price"


def examples() -> dict[str, list[str]]:
    """Example blocks of the guide by name, in page order."""
    found: dict[str, list[str]] = {}
    for m in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        found.setdefault(m["name"], []).append(m["code"])
    return found


def package_files() -> dict[str, str]:
    """The worked example's files (path under ``src/``) and their text."""
    return {name: "\n\n".join(blocks) for name, blocks in examples().items() if name.endswith(".py")}


def commands(block: str) -> list[str]:
    return [line[2:].strip() for line in block.splitlines() if line.startswith("$ ")]


def test_the_guide_has_its_package_runnable_blocks_and_commands():
    blocks = examples()
    assert sorted(package_files()) == [f"{PACKAGE}/__init__.py", f"{PACKAGE}/harness.py", f"{PACKAGE}/problem.py"]
    assert len(blocks[f"{PACKAGE}/problem.py"]) >= 2 and len(blocks.get("run", [])) >= 2
    first, last = blocks["shell"][0], blocks["shell"][-1]
    assert commands(first) == [f"amd new experiment {PACKAGE}", f"amd run {PACKAGE} -p smoke"]
    assert f"amd new params-cell {PACKAGE} --write" in commands(last)


@pytest.fixture
def example_package(tmp_path, monkeypatch):
    """The worked example's package, importable (from a scratch ``src/``, not installed)."""
    for name, text in package_files().items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))  # before any sandbox starts: workers inherit sys.path
    yield importlib.import_module(PACKAGE)
    for mod in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[mod]


def test_the_example_problem_scores_known_rules(example_package):
    import numpy as np

    problem_module = importlib.import_module(f"{PACKAGE}.problem")
    harness = importlib.import_module(f"{PACKAGE}.harness").harness
    prob = problem_module.PostedPriceProblem(seed=0)
    payload = prob.payload("holdout")
    best = prob.score(harness(lambda x: (1 + x) / 2, payload), "holdout")
    assert best.valid and abs(best.score - 0.375) < 4 * best.metrics["score_se"]
    flat = prob.score(harness(lambda x: 0.5, payload), "holdout")
    assert flat.score < best.score
    assert abs(flat.score - example_package.baselines({})["flat_price"]["score"]) < 4 * flat.metrics["score_se"]
    # the fixing step: a negative price is raised to 0 (revenue 0), not a subsidy
    neg = prob.score(harness(lambda x: -1.0 + 0 * x, payload), "holdout")
    assert neg.valid and neg.score == 0.0 and neg.metrics["fixed_share"] == 1.0
    assert not prob.score({"price": np.ones(3)}, "search").valid
    assert example_package.EXPERIMENT.name == PACKAGE


def test_the_guide_search_runs_and_improves_on_the_seed(example_package, capsys):
    ns: dict = {}
    for code in examples()["run"]:
        exec(compile(code, str(GUIDE), "exec"), ns)  # the guide's own (trusted) code
    result, verdict = ns["result"], ns["verdict"]
    seed = result.history[0]
    assert result.best.valid and result.holdout.valid
    assert result.best.score >= seed.score
    assert result.holdout.score > 0.36  # the optimum earns 0.375, the seed's flat 0.5 about 0.327
    assert abs(verdict.score - 0.375) < 4 * verdict.metrics["score_se"]
    assert "best search revenue" in capsys.readouterr().out


def _shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(line), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def workdir(tmp_path):
    """A scratch folder for the guide's commands; the package they install is uninstalled afterwards."""
    try:
        yield tmp_path
    finally:
        with environment_lock():
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "--disable-pip-version-check",
                            f"amdlib-{PACKAGE.replace('_', '-')}"], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_guide_from_amd_new_to_the_worked_example_runs_as_written(workdir):
    env = {k: v for k, v in amd_env(workdir / "outputs").items() if not k.startswith("PYTEST_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # amd and python of this venv
    blocks = examples()["shell"]

    def run(block: str) -> None:
        for line in commands(block):
            installs = "amd new experiment" in line or "pip" in line.split()[:3]  # these change the environment
            with environment_lock() if installs else contextlib.nullcontext():
                done = _shell(line, workdir, env)
            assert done.returncode == 0, f"$ {line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    run(blocks[0])  # the skeleton: written, installed, run
    project = workdir / PACKAGE
    for name, text in package_files().items():
        (project / "src" / name).write_text(text, encoding="utf-8")
    run(blocks[-1])  # the worked example: its parameters cell, a run, the generated tests

    runs = sorted((workdir / "outputs" / PACKAGE).glob("*/results.json"))
    assert len(runs) == 2  # the skeleton's run and the worked example's
    mine = [json.loads(p.read_text()) for p in runs if "flat_price" in p.read_text()]
    assert len(mine) == 1 and mine[0]["baselines"]["optimum"]["score"] == 0.375
    assert mine[0]["holdout"]["score"] > mine[0]["baselines"]["flat_price"]["score"]  # the search beat the seed
