"""Pipeline figures: the fixed cost of one papermill run, and the speed-up of a parallel sweep.

Both use the quickstart at smoke size in a scratch outputs root, so they measure
the pipeline (kernel start, execution, rendering, publication) rather than a search.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from amdlib.benchmarks import Figure
from amdlib.experiments.quickstart import EXPERIMENT
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run
from amdlib.pipeline.runs import params_dir
from amdlib.pipeline.sweep import Sweep, run_sweep

#: Runs in the sweep whose -j 2 and -j 1 timings are compared.
SWEEP_RUNS = 4


def _smoke() -> dict:
    return load_params(EXPERIMENT, params_dir("quickstart") / "smoke.yaml")


def run_overhead(root: Path) -> float:
    """Seconds for one complete quickstart smoke run (kernel start to published results)."""
    outcome = execute_run("quickstart", _smoke(), root, force=True)
    if outcome.status != "ok":
        raise RuntimeError(f"benchmark run failed: {outcome.error}")
    return outcome.duration_s


def sweep_seconds(root: Path, n_runs: int, jobs: int) -> float:
    """Wall-clock seconds of an ``n_runs`` smoke sweep (distinct seeds) at ``-j jobs``."""
    base = _smoke()
    sweep = Sweep("quickstart", [dict(base, seed=1000 + i) for i in range(n_runs)], "bench")
    t0 = time.perf_counter()
    outcomes = run_sweep(sweep, root, jobs=jobs, force=True, progress=False)
    elapsed = time.perf_counter() - t0
    failed = [o.error for o in outcomes if o.status != "ok"]
    if failed:
        raise RuntimeError(f"benchmark sweep failed: {failed[0]}")
    return elapsed


def run(quick: bool) -> list[Figure]:
    """Overhead of one run (after a warm-up run unless ``quick``); a 4-run sweep at -j 2 against -j 1."""
    n_runs = SWEEP_RUNS
    with tempfile.TemporaryDirectory(prefix="amd-bench-") as tmp:
        root = Path(tmp)
        if not quick:
            run_overhead(root)  # warm the page cache and imports once; the next one is measured
        overhead = run_overhead(root)
        serial = sweep_seconds(root / "j1", n_runs, jobs=1)
        parallel = sweep_seconds(root / "j2", n_runs, jobs=2)
    return [
        Figure("one run, kernel start to results (quickstart smoke)", overhead, "s", "<= 20",
               note="includes the smoke search itself, HTML rendering and publication"),
        Figure(f"{n_runs}-run sweep, -j 1", serial, "s"),
        Figure(f"{n_runs}-run sweep, -j 2", parallel, "s"),
        Figure(f"sweep speed-up -j 2 over -j 1 ({n_runs} runs)", serial / parallel, "x", ">= 1.3"),
    ]
