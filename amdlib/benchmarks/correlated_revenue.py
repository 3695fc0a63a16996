"""Experiment 3 figures: one candidate's exact evaluation with the fix, and the MILP solve time."""

from __future__ import annotations

import time


from amdlib.benchmarks import Figure, median_seconds
from amdlib.problems.correlated.distribution import GridLaw
from amdlib.problems.correlated.harness import harness
from amdlib.problems.correlated.optimum import optimal_mechanism
from amdlib.problems.correlated.problem import CorrelatedRevenueProblem

# A non-monotone candidate (the conditional virtual value), so the fix has work to do.
_CANDIDATE = (
    "import numpy as np\n\n"
    "def priority(bid, other_bid, p_same, p_above, step):\n"
    "    return bid - step * p_above / p_same\n"
)


def run(quick: bool) -> list[Figure]:
    problem = CorrelatedRevenueProblem(21, 0.5)
    payload = problem.payload("search")
    _ = problem.optimum  # solved once, outside the timing

    def direct() -> None:
        problem.score(harness(lambda b, o, ps, pa, st: b - st * pa / ps, payload), "search")

    figures = [Figure("correlated: one candidate, exact over 441 profiles incl. fix + audit (median)",
                      1000.0 * median_seconds(direct, 20 if quick else 100), "ms", "<= 20")]

    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox

    with Sandbox(workers=1) as sandbox:
        ev = Evaluator(problem, sandbox)
        ev.evaluate_code(_CANDIDATE, "holdout")  # warm the worker; the holdout split is not cached
        figures.append(Figure("correlated: same, through the sandbox (median)",
                              1000.0 * median_seconds(lambda: ev.evaluate_code(_CANDIDATE, "holdout"), 5 if quick else 20),
                              "ms"))

    for rho in (0.5, 0.0):
        law = GridLaw(21, rho)
        figures.append(Figure(f"correlated: MILP optimum, G=21, rho={rho:g} (median solve)",
                              median_seconds(lambda: optimal_mechanism(law), 3 if quick else 7), "s", "<= 2",
                              note=f"revenue {optimal_mechanism(law).revenue:.6f}"))
    if not quick:
        law = GridLaw(41, 0.5)
        figures.append(Figure("correlated: MILP optimum, G=41, rho=0.5", median_seconds(lambda: optimal_mechanism(law), 1),
                              "s", note="scaling check"))
        from amdlib.problems.correlated.regretnet import RegretNetConfig, train

        t0 = time.perf_counter()
        net = train(GridLaw(21, 0.5), RegretNetConfig(steps=1000))
        figures.append(Figure("correlated: RegretNet training, 1000 steps on the CPU", time.perf_counter() - t0, "s",
                              note=f"revenue {net.revenue:.4f}, expected regret {net.audit['expected_regret']:.4f}"))
    return figures
