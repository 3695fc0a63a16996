"""NNA: evolve code whose rebates match a trained network's (programming by example).

Fitness is minus the root-mean-square distance between the candidate's clipped
rebates and the network's on the others' vectors of the search profiles. The
candidate must also pass the convexity screen, so the distilled code can go
through the same fix as every other rule.
"""

from __future__ import annotations

import numpy as np

from amdlib.core.problem import Evaluation, Outputs, Payload, Problem
from amdlib.problems.redistribution import convexity
from amdlib.problems.redistribution.model import DISTRIBUTIONS, path_index
from amdlib.problems.redistribution.problem import RedistributionProblem


class DistillProblem(Problem):
    """Match ``target(others)`` (a trained rule) on the others' vectors of ``base``'s profiles."""

    name = "redistribution_nna"
    function = RedistributionProblem.function
    seed_program = RedistributionProblem.seed_program
    grammar = RedistributionProblem.grammar
    harness = RedistributionProblem.harness
    timeout_s = 60.0

    def __init__(self, base: RedistributionProblem, target) -> None:
        self.base = base
        self.n, self.m = base.n, base.m
        self.task = (
            "Write `rebate(others, n, m)` reproducing a trained neural rebate rule for VCG redistribution "
            f"({self.m} units, {self.n} bidders, values {DISTRIBUTIONS[base.distribution][0]}). `others` holds the "
            "other bidders' bids sorted from highest to lowest, one row per case; return one rebate per row. "
            "Fitness: minus the root-mean-square distance to the network's rebates (higher is better). "
            "max(rebate, 0) must be convex in each order statistic."
        )
        self._payloads: dict[str, Payload] = {}
        self._targets: dict[str, np.ndarray] = {}
        self._target_fn = target

    def payload(self, split: str) -> Payload:
        """The others' vectors of the split's profiles, then the convexity lines (no mechanism run)."""
        if split not in self._payloads:
            base = self.base.payload(split)
            profiles = base["profiles"]
            others = profiles[:, path_index(self.n).others - 1].reshape(-1, self.n - 1)
            self._targets[split] = np.maximum(np.asarray(self._target_fn(others, self.n, self.m), float), 0.0)
            self._payloads[split] = {
                "profiles": profiles, "n": base["n"], "m": base["m"], "paths": np.array(0),
                "lines_t": np.ascontiguousarray(np.concatenate([others.T, base["lines_t"]], axis=1)),
            }
        return self._payloads[split]

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        """Minus the RMS distance to the network; invalid if malformed or not convex."""
        self.payload(split)
        target = self._targets[split]
        values = np.asarray(outputs.get("lines", np.zeros(0)), float)
        if values.shape != (self._payloads[split]["lines_t"].shape[1],):
            return Evaluation.failed(f"output: 'lines' of shape {values.shape}")
        fit, lines = np.maximum(values[: target.size], 0.0), values[target.size :]
        curvature = convexity.worst_second_difference(lines)
        if curvature < -1e-9:
            return Evaluation.failed(f"not convex: max(rebate, 0) bends down along an order statistic ({curvature:.2e})")
        rmse = float(np.sqrt(np.mean((fit - target) ** 2)))
        scale = float(np.sqrt(np.mean(target**2))) or 1.0
        return Evaluation(valid=True, score=-rmse, metrics={"rmse": rmse, "relative_rmse": rmse / scale},
                          diagnostics=f"RMS distance to the network {rmse:.5f} ({100 * rmse / scale:.1f}% of its RMS rebate)")

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "n_bidders": self.n, "n_units": self.m}
