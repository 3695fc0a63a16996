"""The virtual-valuation problem on the engine's contract.

The proposer writes ``priority(bid, cdf, pdf)``, vectorised over numpy arrays.
The sandbox harness tabulates it on an interior bid grid; the parent applies
the monotonicity fix and scores the fixed auction's revenue by Monte Carlo on
common random numbers (``n_samples`` profiles: a scrambled Sobol' design by
default, i.i.d. draws with ``sampling="mc"``), or on a fresh, larger i.i.d.
held-out sample for the final re-score (an honest standard error).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem
from amdlib.problems.virtual_valuation.auction import PriorityAuction, monotone_fix, naive_revenue
from amdlib.problems.virtual_valuation.distributions import parse_distribution

TEMPLATE = '''def priority(bid, cdf, pdf):
    """Priority of a bid in a single-item auction with i.i.d. bidders.

    Args:
        bid: numpy array of bids in (0, 1).
        cdf: numpy array, the value distribution's CDF F evaluated at each bid.
        pdf: numpy array, its density f evaluated at each bid.

    Returns:
        numpy array of the same shape as ``bid``: the priority of each bid.
        The bidder with the highest priority wins if that priority is >= 0,
        and pays the smallest bid at which it would still have won.
    """
'''

TASK = (
    "Design the priority function of a revenue-maximising single-item auction. "
    "Bidders' values are i.i.d. on [0, 1] with a known CDF and density. Every bidder's bid "
    "is mapped to a priority; the highest priority wins if it is at least 0 and pays its "
    "critical bid (the lowest bid with which it would still win), so a negative priority acts "
    "as a reserve. A fixing step makes the priority non-decreasing in the bid (running "
    "minimum from the right), which keeps the auction strategy-proof; non-monotone parts "
    "of your function are flattened and may cost revenue. Maximise expected revenue."
)


# The sandbox side lives in a numpy-only module (see there why); re-exported here.
from amdlib.problems.virtual_valuation.harness import harness  # noqa: E402,F401


class VirtualValuationProblem(Problem):
    """Single item, ``n_bidders`` i.i.d. bidders, revenue of the fixed priority auction."""

    name = "virtual_valuation"
    function = FunctionSpec("priority", TEMPLATE, ("numpy", "math"))
    task = TASK
    seed_program = "import numpy as np\n\n\n" + TEMPLATE + "    return np.zeros_like(bid)\n"
    grammar = Grammar(
        expressions=(
            "bid", "cdf", "pdf", "1 - cdf", "(1 - cdf) / pdf", "cdf / pdf", "bid * pdf",
            "bid ** 2", "np.sqrt(bid)", "np.log(pdf)", "np.exp(-bid)", "np.maximum(bid, 0.5)",
            # a floor on the virtual value above a threshold bid: with the fix (running minimum
            # from the right) this irons a non-monotone virtual value into a flat stretch
            "np.maximum(bid - (1 - cdf) / pdf, 0.2 - 10.0 * (bid < 0.35))",
        ),
        constants=(0.0, 0.25, 0.5, 1.0, 2.0),
    )
    harness = "amdlib.problems.virtual_valuation.harness:harness"
    timeout_s = 10.0

    def __init__(
        self,
        distribution: str = "beta(2,5)",
        n_bidders: int = 2,
        n_samples: int = 3000,
        holdout_samples: int = 200_000,
        grid_size: int = 2001,
        seed: int = 0,
        sampling: str = "qmc",
    ) -> None:
        self.dist = parse_distribution(distribution)
        self.n_bidders = n_bidders
        self.task = (f"{TASK} Setting: {n_bidders} bidders, values i.i.d. {distribution} on [0, 1]; "
                     f"revenue is estimated on {n_samples} sampled value profiles.")
        self.n_samples = n_samples
        self.holdout_samples = holdout_samples
        self.seed = seed
        self.sampling = sampling
        self.grid = (np.arange(grid_size) + 0.5) / grid_size  # interior: f > 0 for every law here

    @cached_property
    def _grid_payload(self) -> Payload:
        return {"grid": self.grid, "cdf": self.dist.cdf(self.grid), "pdf": self.dist.pdf(self.grid)}

    def payload(self, split: str) -> Payload:
        # The candidate only sees the bid grid; the samples stay in the parent.
        return self._grid_payload

    def samples(self, split: str) -> np.ndarray:
        """Value profiles (P, n): common random numbers for a split."""
        return self._samples_search if split == "search" else self._samples_holdout

    @cached_property
    def _samples_search(self) -> np.ndarray:
        if self.sampling == "qmc":
            return self.dist.quasi_sample(self.seed, self.n_samples, self.n_bidders)
        return self.dist.sample(np.random.default_rng([self.seed, 1]), (self.n_samples, self.n_bidders))

    @cached_property
    def _samples_holdout(self) -> np.ndarray:
        return self.dist.sample(np.random.default_rng([self.seed, 2]), (self.holdout_samples, self.n_bidders))

    def auction(self, outputs: Outputs) -> PriorityAuction:
        """The fixed auction defined by harness outputs (raises ValueError if unusable)."""
        return PriorityAuction.from_scores(self.grid, self._checked(outputs))

    def _checked(self, outputs: Outputs) -> np.ndarray:
        scores = np.asarray(outputs.get("scores"), dtype=float)
        if scores.shape != self.grid.shape:
            raise ValueError(f"priority returned shape {scores.shape}, expected {self.grid.shape}")
        bad = np.isnan(scores)
        if bad.any():
            raise ValueError(f"priority is NaN at bid={self.grid[np.argmax(bad)]:.4f}")
        return np.clip(scores, -1e6, 1e6)  # +-inf are meaningful (never/always); keep arithmetic finite

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        try:
            raw = self._checked(outputs)
        except ValueError as err:
            return Evaluation.failed(str(err))
        auction = PriorityAuction(self.grid, monotone_fix(raw))
        values = self.samples(split)
        _, pay = auction.run(values)
        revenue = float(pay.mean())
        changed = float(np.mean(np.abs(auction.priority - raw) > 1e-12))
        # An already monotone priority is its own fix: the unfixed rule is the same auction.
        naive = float(naive_revenue(self.grid, raw, values).mean()) if changed > 0 else revenue
        reserve = auction.reserve
        metrics = {
            "revenue": revenue,
            "revenue_se": float(pay.std(ddof=1) / np.sqrt(len(pay))),
            "reserve": reserve if np.isfinite(reserve) else 1.0,
            "fix_cost": naive - revenue,
            "fix_changed_fraction": changed,
        }
        diagnostics = (
            f"revenue {revenue:.4f}; priority crosses zero at bid {metrics['reserve']:.3f}; "
            f"the monotonicity fix changed {changed:.0%} of the grid"
            + (f" and cost {naive - revenue:.4f} revenue" if changed > 0 else "")
        )
        return Evaluation(True, revenue, metrics, diagnostics)

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        return (round(evaluation.score, 4),)

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "distribution": self.dist.name, "n_bidders": self.n_bidders}
