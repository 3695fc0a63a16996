"""The VCG redistribution problem: evolve the rebate function ``h(others' sorted bids, n, m)``.

Fitness is the expected fraction of VCG revenue redistributed *after* the
fix (:mod:`.fix`), estimated on the run's common random profiles. A candidate
is rejected when its clipped rebate is neither convex along the order
statistics nor a nondecreasing star-shaped function of the m-th other bid
alone (the fix would not be exact, see :mod:`.convexity`), or when, even so,
a sample profile runs a deficit.
"""

from __future__ import annotations

import math

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem
from amdlib.problems.redistribution import convexity
from amdlib.problems.redistribution.fix import TOL
from amdlib.problems.redistribution.model import DISTRIBUTIONS, check_setting, queries, sample_profiles, vcg_revenue
from amdlib.problems.redistribution.stats import ratio_se

TEMPLATE = '''def rebate(others: np.ndarray, n: int, m: int) -> np.ndarray:
    """Rebate paid to one bidder, computed from the OTHER bidders' bids only.

    Args:
        others: read-only array of shape (B, n - 1); each row holds the other
            bidders' bids in [0, 1], sorted from highest to lowest, so
            others[:, j] is the (j+1)-th highest bid among the others.
        n: number of bidders; m: number of identical units (1 <= m <= n - 2).

    Returns:
        array of shape (B,): the raw rebate for each row.
    """
    return np.zeros(others.shape[0])
'''

#: The search starts from the Bailey-Cavallo rule (the classic manual rule, a single order
#: statistic): one grammar replacement away from the other order statistics, such as
#: ``others[:, m - 1]``, which the fix scales into stronger rules than BC.
SEED_PROGRAM = '''def rebate(others: np.ndarray, n: int, m: int) -> np.ndarray:
    """Rebate paid to one bidder from the other bidders' sorted bids (seed: Bailey-Cavallo)."""
    return m / n * others[:, m]
'''

TASK = (
    "Design a VCG redistribution mechanism. {m} identical units are sold to {n} unit-demand bidders by VCG: "
    "the {m} highest bids win and each pays the ({m}+1)-th highest bid, so the revenue is {m} times that bid. "
    "To give money back without breaking truthfulness, each bidder receives a rebate computed only from the "
    "other bidders' bids. Write `rebate(others, n, m)`: `others` is a 2-D numpy array, one row per case, "
    "holding the other n-1 bids sorted from highest to lowest; return one rebate per row. "
    "A fixing step then scales each bidder's rebate by the worst case over its own possible bids, so that "
    "rebates are never negative and never exceed the revenue in total; the scale may also go up when there "
    "is slack, so only the shape of your rule matters. The fix is exact only if max(rebate, 0) is convex in "
    "each order statistic (sums, products of different order statistics, squares with positive weight and "
    "maxima are fine), or if max(rebate, 0) depends on others[:, m - 1] alone, never decreases in it and its "
    "ratio to it never increases (any concave function that is >= 0 at 0, such as a minimum with a constant); "
    "anything else is rejected. "
    "Fitness: the expected fraction of VCG revenue redistributed after the fix (higher is better; values "
    "are {dist}). The Bailey-Cavallo rule (m/n) * others[:, m] redistributes {bc:.4f} in expectation."
)


class RedistributionProblem(Problem):
    """Evolve a redistribution rebate for ``n_bidders`` bidders and ``n_units`` units.

    ``n_search`` profiles form the search split (common random numbers);
    ``n_holdout`` fresh profiles the holdout split; ``n_lines`` random
    others' vectors give the convexity-check lines. All drawn from ``seed``.
    """

    name = "redistribution"
    function = FunctionSpec(name="rebate", template=TEMPLATE, allowed_modules=("numpy", "math"))
    seed_program = SEED_PROGRAM
    grammar = Grammar(
        expressions=(
            "others[:, m]",
            "others[:, m - 1]",
            "others[:, 0]",
            "others[:, -1]",
            "others[:, m - 1] - 0.2 * others[:, 0]",
            "others[:, m] + 0.5 * others[:, m - 1]",
            "others[:, m] * others[:, m - 1]",
            "others[:, m] ** 2",
            "others[:, m:].sum(axis=1)",
            "others[:, :m].mean(axis=1)",
            "np.maximum(others[:, m - 1] - others[:, 0] / n, 0.0)",
            "m / n * others[:, m]",
            # star-shaped in the m-th other bid alone (the fix's second exact family, see .convexity)
            "np.minimum(others[:, m - 1], 1.0)",  # a cap to lower: 1.0 is no cap at all
            "others[:, m - 1] - 0.2 * others[:, m - 1] ** 2",
        ),
        constants=(0.0, 0.1, 0.2, 0.5, 1.0, 2.0),
        statements=(),
    )
    harness = "amdlib.problems.redistribution.harness:harness"
    timeout_s = 120.0
    memory_mb = 3072

    def __init__(self, n_bidders: int = 4, n_units: int = 2, distribution: str = "uniform",
                 n_search: int = 3000, n_holdout: int = 20000, n_lines: int = 200, seed: int = 0) -> None:
        check_setting(n_bidders, n_units)
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {distribution!r}; choose one of {sorted(DISTRIBUTIONS)}")
        self.n, self.m, self.distribution = int(n_bidders), int(n_units), distribution
        self.n_search, self.n_holdout, self.n_lines, self.seed = int(n_search), int(n_holdout), int(n_lines), int(seed)
        self._payloads: dict[str, Payload] = {}
        self._profiles: dict[str, np.ndarray] = {}
        bc = self._bc_fraction(self.profiles("search"))
        self.task = TASK.format(n=self.n, m=self.m, dist=DISTRIBUTIONS[distribution][0], bc=bc)

    # ------------------------------------------------------------ payloads
    def profiles(self, split: str) -> np.ndarray:
        """The split's sorted profiles (search: ``n_search``; holdout: ``n_holdout``), cached."""
        if split not in self._profiles:
            count = {"search": self.n_search, "holdout": self.n_holdout}.get(split)
            if count is None:
                raise ValueError(f"unknown split {split!r}")
            rng = np.random.default_rng([self.seed, self.n, self.m, 0 if split == "search" else 1])
            self._profiles[split] = sample_profiles(rng, count, self.n, self.distribution)
        return self._profiles[split]

    def payload(self, split: str) -> Payload:
        """Profiles, n, m, convexity lines; the search split also carries its query vectors."""
        if split not in self._payloads:
            profiles = self.profiles(split)
            rng = np.random.default_rng([self.seed, self.n, self.m, 2])
            sampler = DISTRIBUTIONS[self.distribution][1]
            payload: Payload = {
                "profiles": profiles,
                "n": np.array(self.n),
                "m": np.array(self.m),
                "lines_t": np.ascontiguousarray(convexity.lines(rng, self.n_lines, self.n, sampler).T),
            }
            if split == "search":
                payload["queries_t"] = np.ascontiguousarray(queries(profiles).T)
            self._payloads[split] = payload
        return self._payloads[split]

    # ------------------------------------------------------------- scoring
    def _bc_fraction(self, profiles: np.ndarray) -> float:
        bc_total = (self.m / self.n) * ((self.m + 1) * profiles[:, self.m + 1] + (self.n - self.m - 1) * profiles[:, self.m])
        return float(bc_total.mean() / vcg_revenue(profiles, self.m).mean())

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        """Fraction redistributed after the fix; invalid if malformed, non-convex or in deficit."""
        profiles = self.profiles(split)
        shape = profiles.shape
        for key in ("raw", "rebates", "scale", "lines"):
            if key not in outputs:
                return Evaluation.failed(f"output: missing '{key}'")
        rebates, raw = np.asarray(outputs["rebates"], float), np.asarray(outputs["raw"], float)
        if rebates.shape != shape or raw.shape != shape:
            return Evaluation.failed(f"output: rebates of shape {rebates.shape}, expected {shape}")
        if not (np.all(np.isfinite(rebates)) and np.all(np.isfinite(raw))):
            return Evaluation.failed("output: non-finite rebates")
        curvature = convexity.worst_second_difference(outputs["lines"])
        if curvature < -1e-9:
            points = self.payload(split)["lines_t"].T
            star = convexity.star_violation(outputs["lines"], points, self.m)
            if star > 1e-9:
                return Evaluation.failed(
                    f"not convex: max(rebate, 0) bends down along an order statistic (second difference {curvature:.2e}) "
                    f"and is not a nondecreasing star-shaped function of others[:, m - 1] alone (violation {star:.2e}); "
                    "the fix is exact only for those two families")
        revenue = vcg_revenue(profiles, self.m)
        total = rebates.sum(axis=1)
        deficits = int(np.count_nonzero(total - revenue > TOL * np.maximum(1.0, revenue)))
        negative = int(np.count_nonzero(rebates < -TOL))
        if deficits or negative:
            return Evaluation.failed(f"after the fix: {deficits} profiles in deficit, {negative} negative rebates")
        mean_rev = float(revenue.mean())
        fraction = float(total.mean() / mean_rev)
        clipped = np.maximum(raw, 0.0)
        metrics = {
            "expected_fraction": fraction,
            "expected_fraction_se": ratio_se(total, revenue),
            "expected_redistribution": float(total.mean()),
            "expected_revenue": mean_rev,
            "raw_fraction": float(raw.sum(axis=1).mean() / mean_rev),
            "fix_loss": float(np.maximum(clipped - rebates, 0.0).sum(axis=1).mean() / mean_rev),
            "fix_gain": float(np.maximum(rebates - clipped, 0.0).sum(axis=1).mean() / mean_rev),
            "mean_scale": float(np.asarray(outputs["scale"], float).mean()),
            "zero_rebate_share": float(np.mean(rebates <= 0.0)),
        }
        bc = self._bc_fraction(profiles)
        diagnostics = (
            f"fraction redistributed after the fix {fraction:.4f} (Bailey-Cavallo {bc:.4f} on the same profiles, "
            f"{fraction - bc:+.4f}); the fix removed {metrics['fix_loss']:.4f} and added {metrics['fix_gain']:.4f} "
            f"of revenue; mean scale {metrics['mean_scale']:.3f}; {100 * metrics['zero_rebate_share']:.1f}% of rebates are 0"
        )
        return Evaluation(valid=True, score=fraction, metrics=metrics, diagnostics=diagnostics)

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        """Cluster by fraction and by how much the fix had to scale."""
        if not evaluation.valid:
            return (-math.inf,)
        return (round(evaluation.score, 4), round(evaluation.metrics.get("mean_scale", 0.0), 2))

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "n_bidders": self.n, "n_units": self.m, "distribution": self.distribution,
                "n_search": self.n_search, "n_holdout": self.n_holdout}
