"""Benchmarks of the search machinery on the toy problem.

* evaluation throughput: distinct toy candidates through the evaluator
  (extract, policy, sandbox harness, score) with 2 sandbox workers;
* a short FunSearch run with the offline proposer, end to end (sandbox start excluded).
"""

from __future__ import annotations

import time

from amdlib.benchmarks import Figure


def _candidates(n: int) -> list[str]:
    """``n`` distinct, valid toy programs."""
    return [f"def fit(x):\n    return {1 + i / n:.6f} * x - {0.5 + i / (7 * n):.6f}\n" for i in range(n)]


def evaluation_throughput(n: int, batch: int = 16) -> float:
    """Toy candidates evaluated per second with 2 workers (warm sandbox)."""
    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox
    from amdlib.problems.toy import ToyProblem

    toy = ToyProblem()
    with Sandbox(workers=2) as sb:
        ev = Evaluator(toy, sb)
        ev.evaluate_many(_candidates(4 * batch)[-2:] + ["def fit(x):\n    return x\n"])  # warm up workers
        texts = _candidates(n)
        start = time.perf_counter()
        for i in range(0, n, batch):
            ev.evaluate_many(texts[i:i + batch])
        seconds = time.perf_counter() - start
    return n / seconds


def funsearch_seconds(max_evaluations: int) -> tuple[float, float]:
    """(seconds, best score) of a FunSearch run on the toy problem, offline proposer, 2 workers."""
    from amdlib.core.engine import SearchConfig, run_search
    from amdlib.core.sandbox import Sandbox
    from amdlib.problems.toy import ToyProblem

    config = SearchConfig.from_params({"method": "funsearch", "max_evaluations": max_evaluations,
                                       "islands": 4, "seed": 0, "workers": 2})
    with Sandbox(workers=2) as sb:
        run_search(ToyProblem(), SearchConfig.from_params({"method": "random", "max_evaluations": 2}),
                   progress=False, sandbox=sb)  # warm up workers
        start = time.perf_counter()
        result = run_search(ToyProblem(), config, progress=False, sandbox=sb)
        seconds = time.perf_counter() - start
    return seconds, result.best.score


def run(quick: bool) -> list:
    """The figures: constant fitting's cost, evaluation throughput and a short FunSearch run's wall time."""
    n = 128 if quick else 1024
    rate = evaluation_throughput(n)
    budget = 100 if quick else 400
    seconds, best = funsearch_seconds(budget)
    from amdlib.benchmarks.constants import fitting_figures

    return fitting_figures(quick) + [
        Figure("toy candidates evaluated per second (2 workers)", round(rate, 1), "1/s", ">= 100",
               note=f"{n} distinct candidates in batches of 16"),
        Figure(f"funsearch run, toy, {budget} candidates (offline, 2 workers)", round(seconds, 2), "s",
               f"<= {budget / 20:g}", note=f"best score {best:.5f} (seed -0.25595)"),
    ]
