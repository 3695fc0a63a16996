"""Benchmark of the redistribution problem: one candidate's evaluation including the fix.

Measures harness (candidate on every query vector + the fix) and score on the
search split of 3000 profiles at n = 10 (460 query vectors per profile), in
process with a typical evolved rule, and the same through the sandbox.
"""

from __future__ import annotations


from amdlib.benchmarks import Figure, median_seconds

CANDIDATE = '''import numpy as np

def rebate(others, n, m):
    return others[:, m] + 0.76 * others[:, m - 1] + 0.1 * others[:, m] * others[:, -1]
'''


def run(quick: bool) -> list[Figure]:
    """Median evaluation times (ms) of one candidate on 3000 profiles at n = 10."""
    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox
    from amdlib.problems.redistribution.harness import harness
    from amdlib.problems.redistribution.problem import RedistributionProblem

    problem = RedistributionProblem(10, 5, n_search=3000)
    payload = problem.payload("search")
    namespace: dict = {}
    exec(CANDIDATE, namespace)  # trusted benchmark code, not a candidate
    fn = namespace["rebate"]
    repeats = 5 if quick else 21
    local = 1e3 * median_seconds(lambda: problem.score(harness(fn, payload), "search"), repeats)
    figures = [Figure("evaluate one candidate incl. fix, 3000 profiles, n=10 (in process)", local, "ms", "<= 50",
                      note="candidate on 1.38M others' vectors + worst-case scaling fix + score")]
    with Sandbox(workers=1, memory_mb=problem.memory_mb) as sandbox:
        evaluator = Evaluator(problem, sandbox)
        payload_s, key = evaluator.payload("search")
        evaluator.outputs(CANDIDATE, payload_s, key)  # warm-up: the worker caches the payload
        sandboxed = 1e3 * median_seconds(lambda: problem.score(evaluator.outputs(CANDIDATE, payload_s, key), "search"), repeats)
    figures.append(Figure("evaluate one candidate incl. fix, 3000 profiles, n=10 (sandbox, payload cached)", sandboxed,
                          "ms", note="adds the worker round trip"))
    return figures
