"""Experiment 1 figures: one candidate's evaluation, and evaluations to 99% of the optimum."""

from __future__ import annotations


import numpy as np

from amdlib.benchmarks import Figure, median_seconds
from amdlib.core.engine import SearchConfig, run_search
from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.experiments.virtual_valuation import EXPERIMENT
from amdlib.core.experiment import defaults
from amdlib.experiments.virtual_valuation import run as study
from amdlib.problems.virtual_valuation.problem import VirtualValuationProblem, harness

_CANDIDATE = "import numpy as np\n\ndef priority(bid, cdf, pdf):\n    return bid - (1 - cdf) / pdf\n"


def run(quick: bool) -> list[Figure]:
    problem = VirtualValuationProblem()
    payload = problem.payload("search")
    problem.samples("search")  # draw once, outside the timing

    def direct() -> None:
        problem.score(harness(lambda b, c, p: b - (1 - c) / p, payload), "search")

    figures = [Figure("vv: one candidate, 3000 samples incl. fix (harness + score, median)", 1e3 * median_seconds(direct, 50), "ms", "<= 10")]
    with Sandbox(workers=1) as sandbox:
        ev = Evaluator(problem, sandbox)

        def sandboxed() -> None:
            # Not evaluate_code: its search verdicts are cached by code hash.
            problem.score(ev.outputs(_CANDIDATE, payload, "vv-bench"), "search")

        sandboxed()  # warm the worker and its payload cache
        figures.append(Figure("vv: same, through the sandbox (median)", 1e3 * median_seconds(sandboxed, 30), "ms", "<= 10"))

    params = {**defaults(EXPERIMENT), "max_evaluations": 150 if quick else 400}
    truth = study.baselines(params)
    result = run_search(problem, SearchConfig.from_params(params), progress=False)
    needed = study.evaluations_to_reach(result.curve(), 0.99 * truth["optimum_revenue"])
    figures.append(
        Figure(
            f"vv: evaluations to 99% of the optimum (funsearch/offline, budget {params['max_evaluations']})",
            float(needed) if needed is not None else float("nan"),
            "evals",
            note="not reached" if needed is None else "",
        )
    )
    held = result.holdout.metrics if result.holdout else {}
    figures.append(Figure("vv: held-out revenue / optimum of that run", float(held.get("revenue", np.nan)) / truth["optimum_revenue"], "ratio"))
    return figures
