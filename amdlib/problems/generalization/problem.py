"""Experiment 4's facility problem at any n: no brute-force reference.

Everything else (profiles, payloads, scorer, fitness, template) is Experiment 4's
:class:`~amdlib.problems.facility.problem.FacilityProblem`, so a learned mechanism is
judged by exactly the same code in and out of its training setting.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from amdlib.core.problem import Evaluation, Outputs
from amdlib.problems.facility.evaluation import score_outputs
from amdlib.problems.facility.problem import FacilityProblem
from amdlib.problems.generalization.optimum import fit_percentile_dp


class ScaledFacilityProblem(FacilityProblem):
    """A facility problem whose percentile rule (diagnostic reference and seed) comes from the
    exact DP, since brute force over C(n, K) is infeasible at large n. Experiment 4's harness
    builds deviation profiles in blocks, so it serves any n as is."""

    name = "facility_generalization"

    @cached_property
    def _percentile_fit(self) -> Any:
        # The exact DP gives the same rule as the base class's brute force, at any n; the
        # diagnostics' reference and the percentile seed program both come from it.
        return fit_percentile_dp(self.profiles("search").peaks, self.weights, self.k)

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        return score_outputs(outputs, self.payload(split), self.epsilon, self.percentile_reference)


def output_mb(n: int, m: int, b: int, k: int) -> int:
    """Sandbox output allowance (MiB) for one evaluation: loc_dev is n*m*b x K floats."""
    return int(8 * (n * m * b + 2 * b) * k / 2**20) + 16
