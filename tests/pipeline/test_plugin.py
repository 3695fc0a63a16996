"""An experiment from outside amdlib plugs in through its entry point, and leaves with it.

``tests/plugin/amd_bilateral_trade`` is a small experiment package of its own (bilateral trade
through a broker's posted-price lottery): a pyproject.toml declaring the entry point
``bilateral_trade`` in the group ``amdlib.experiments``, its record, problem, harness, notebook and
parameter files. The test really installs it with pip (a wheel built from a scratch copy, so the
checkout gets no build folders), drives it through the ``amd`` command in subprocesses, uninstalls
it, and checks that it is gone. The uninstall is a fixture finaliser: it runs when the test fails.

While it is installed, tests in the other xdist worker see one more experiment in
``amdlib.experiments.available()``; tests about the built-in experiments use ``BUILTIN``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from amdlib.pipeline.scaffold import build_flags, imported, parameters_cell
from tests.conftest import REPO, amd_argv, amd_env, environment_lock
from tests.notebooks.test_committed import parameters_cell as read_parameters_cell

PLUGIN = REPO / "tests" / "plugin" / "amd_bilateral_trade"
DIST = "amd-bilateral-trade"
NAME = "bilateral_trade"


def pip(*args: str) -> subprocess.CompletedProcess:
    with environment_lock():
        return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                              capture_output=True, text=True, timeout=600)


def amd(*args: str, outputs: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(amd_argv(*args), cwd=REPO, env=amd_env(outputs), capture_output=True, text=True, timeout=600)


@pytest.fixture
def installed(tmp_path):
    """The plugin installed into the running environment (uninstalled afterwards, whatever happens)."""
    source = tmp_path / "amd_bilateral_trade"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    flags = build_flags()
    offline = ["--no-index"] if flags else []  # with this environment's setuptools nothing is downloaded
    try:
        done = pip("install", *flags, *offline, "--no-deps", str(source))
        assert done.returncode == 0, done.stdout + done.stderr
        yield source
    finally:
        pip("uninstall", "-y", DIST)


def _ok(done: subprocess.CompletedProcess, what: str) -> str:
    assert done.returncode == 0, f"{what}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_plugin_notebook_declares_its_record_and_has_no_outputs():
    with imported(PLUGIN / "src", "amd_bilateral_trade") as package:
        exp = package.EXPERIMENT
    nb = nbformat.read(Path(exp.notebook), as_version=4)
    found = read_parameters_cell(nb)
    assert list(found) == list(exp.params)
    assert all(found[k] == p.default and type(found[k]) is type(p.default) for k, p in exp.params.items())
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.source == parameters_cell(exp)
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert {p.stem for p in exp.params_dir.glob("*.yaml")} == {"smoke", "default", "paper", "sweep_smoke"}


@pytest.mark.slow
def test_an_installed_plugin_goes_through_every_command_and_is_gone_once_uninstalled(installed, tmp_path):
    out = tmp_path / "outputs"

    # amd list: the plugin's own notebook and parameter files (installed with the package)
    listing = _ok(amd("list"), "amd list")
    block = re.split(r"\n(?=\S)", listing.split(f"\n{NAME}: ", 1)[1])[0]
    assert block.startswith("Bilateral trade")
    paths = [Path(tok) for tok in block.split() if tok.startswith("/")]
    notebook = next(p for p in paths if p.suffix == ".ipynb")
    assert notebook.is_file() and notebook.parent.name == "amd_bilateral_trade" and PLUGIN not in notebook.parents
    assert f"amd run {NAME} -p default|paper|smoke" in block
    sweep_file = next(p for p in paths if p.name == "sweep_smoke.yaml")

    # amd run -p smoke (the params file is the plugin's, found through its params_dir)
    ran = _ok(amd("run", NAME, "-p", "smoke", "-q", outputs=out), "amd run")
    rid = re.search(rf"^ok\s+{NAME}/([0-9a-f]{{12}})", ran, re.M).group(1)
    run = out / NAME / rid
    assert (run / "results.json").is_file() and list((run / "figures").glob("*.png"))

    # amd sweep: seed 0 is the smoke run (skipped), seed 1 runs; the second sweep skips both
    first = _ok(amd("sweep", str(sweep_file), outputs=out), "amd sweep")
    assert f"{NAME}: 1 ran, 1 skipped (complete), 0 failed" in first
    again = _ok(amd("sweep", str(sweep_file), outputs=out), "amd sweep (again)")
    assert f"{NAME}: 0 ran, 2 skipped (complete), 0 failed" in again
    rids = sorted(p.name for p in (out / NAME).iterdir() if re.fullmatch(r"[0-9a-f]{12}", p.name))
    assert len(rids) == 2 and rid in rids

    # amd report: the plugin's section lists both runs, with the key metrics its record names
    index = Path(_ok(amd("report", outputs=out), "amd report").strip())
    page = index.read_text(encoding="utf-8")
    assert f'id="{NAME}"' in page and all(r in page for r in rids)
    assert "random_search.best_score" in (out / "tables" / f"{NAME}_runs.csv").read_text()

    # amd estimate: the record's own plan (two searches), priced from the price table, no endpoint
    est = _ok(amd("estimate", NAME, "-p", "smoke", "--set", "proposer=openai", "--set", "model=gpt-4o-mini"),
              "amd estimate")
    rows = {line.split("  ")[0].strip(): line for line in est.splitlines()}
    assert re.match(r"search\s+funsearch\s+10\s", rows["search"]) and re.match(r"random search\s+random\s+10\s",
                                                                               rows["random search"])
    assert f"LLM estimate for {NAME} on gpt-4o-mini: 20 calls in 2 search(es)" in est
    assert "$0.15 in / $0.6 out per million tokens" in est and "unpriced" not in est

    # amd validate: the executed notebook reproduces its checked outputs
    valid = _ok(amd("validate", str(run), outputs=out), "amd validate")
    assert valid.startswith("reproduced")

    # uninstalled: gone from the list, and naming it is the one-line unknown-experiment error
    done = pip("uninstall", "-y", DIST)
    assert done.returncode == 0, done.stderr
    assert f"\n{NAME}: " not in "\n" + _ok(amd("list"), "amd list (uninstalled)")
    gone = amd("run", NAME, "-p", "smoke", outputs=out)
    assert gone.returncode == 2 and gone.stdout == ""
    assert gone.stderr.count("\n") == 1 and gone.stderr.startswith(f"amd: error: unknown experiment '{NAME}'")
