"""The correlated-revenue problem on the engine's contract.

The proposer writes ``priority(bid, other_bid, p_same, p_above, step, bidder)``:
a bidder's score given its own bid and the other's bid, with the conditional
law of its value given the other's bid, and which bidder it scores (0 or 1, so
asymmetric rules are allowed). The higher score wins if it is >= 0.
The parent applies the fixing step (:func:`.mechanism.fix`) and scores the
fixed mechanism's exact expected revenue over all grid profiles; the revenue
the fix cost and an exhaustive SP/IR audit go into the metrics.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem
from amdlib.problems.correlated.audit import audit
from amdlib.problems.correlated.distribution import GridLaw, tail
from amdlib.problems.correlated.mechanism import FixReport, Thresholds, fix_scores

TEMPLATE = '''def priority(bid, other_bid, p_same, p_above, step, bidder):
    """Score of a bidder who bids ``bid`` while the other bidder bids ``other_bid``.

    Two bidders compete for one item; values lie on the grid {0, step, 2 step, ..., 1}
    and are correlated. The function is called once for each bidder; ``bidder`` says
    which one, so the two may be treated differently.

    Args:
        bid: numpy array of this bidder's bids (grid values in [0, 1]).
        other_bid: numpy array (same shape) of the other bidder's bids.
        p_same: numpy array, P(this bidder's value == bid | other's value == other_bid).
        p_above: numpy array, P(this bidder's value > bid | other's value == other_bid).
        step: float, the grid spacing.
        bidder: int, 0 when scoring bidder 1 and 1 when scoring bidder 2.

    Returns:
        numpy array of the same shape: the bidder's score. The higher score wins if it
        is >= 0 (equal scores: the higher bid, then bidder 1); a negative score never wins.
    """
'''

TASK = (
    "Design the allocation rule of a revenue-maximising auction of one item between two "
    "bidders whose values are correlated: with some probability both values are equal, "
    "otherwise they are independent and uniform on a grid of [0, 1]. Your function scores a "
    "bidder from its own bid, the other's bid and the conditional probabilities of its value "
    "given the other's bid, and which bidder it scores (0 or 1: the two bidders may be treated "
    "differently); the higher non-negative score wins. A fixing step then makes each "
    "bidder's winning set monotone in its own bid (it keeps only the wins above the highest "
    "losing bid, given the other's bid) and charges the winner its threshold bid, so the "
    "auction is strategy-proof and individually rational. Wins removed by the fix cost revenue. "
    "Maximise the exact expected revenue of the fixed auction. Myerson's auction on the "
    "marginals is not optimal here: the other's bid carries information about your value."
)

SEED_PROGRAM = "import numpy as np\n\n\n" + TEMPLATE + "    return np.zeros_like(bid)\n"

GRAMMAR = Grammar(
    expressions=(
        "bid", "other_bid", "bid - other_bid", "2 * bid - 1", "bid - step * p_above / p_same", "p_same",
        "np.minimum(bid, other_bid)", "(np.minimum(bid, other_bid) < 0.2)", "bid - 0.3",
        # asymmetric pieces (``bidder`` is 0 or 1): a reserve that only bidder 2 faces, alone and on
        # top of "the higher bid wins" (the step out of the best symmetric rules)
        "bidder * (bid < 0.5)", "bid - other_bid - bidder * (bid < 0.5)", "(bid < 0.5) * (other_bid < 0.2)",
        # the two pieces above in one: the higher bid wins; bidder 2 always faces a reserve, bidder 1 only
        # when the other's bid is low (searches that had to assemble it from the pieces often stopped at
        # the best symmetric rule)
        "bid - other_bid - (bid < 0.5) * (bidder + (other_bid < 0.2))",
    ),
    constants=(0.0, 0.2, 0.3, 0.5, 1.0, 2.0),
    # no "low = ..." statement: it made the best symmetric rule (about 99% of the optimum) a trap
    # that most searches never left; the expressions above still reach it
    statements=(),
)

#: Scores are rounded to this many decimals before comparison, so that float noise
#: (e.g. 2 * 0.5 - 1 computed two ways) does not decide ties or the sign at zero.
SCORE_DECIMALS = 9


def make_payload(law: GridLaw) -> Payload:
    """Bidder 1's view of every profile, flattened: profile (a, b) sits at a * G + b."""
    g = law.grid_size
    a, b = np.meshgrid(law.values, law.values, indexing="ij")
    cond = law.conditional
    return {
        "bid": a.ravel(), "other_bid": b.ravel(),
        "p_same": cond.ravel(), "p_above": (tail(cond) - cond).ravel(),
        "step": np.array(1.0 / (g - 1)),
    }


def _table(outputs: Outputs, key: str, grid_size: int) -> np.ndarray | str:
    """One bidder's scores on the payload's flat view as a (G, G) table (its own bid on axis 0)."""
    s = np.asarray(outputs[key], dtype=float)
    n = grid_size * grid_size
    try:
        s = np.broadcast_to(s, (n,))
    except ValueError:
        return f"output: shape {s.shape} does not match the input shape ({n},)"
    if not np.all(np.isfinite(s)):
        bad = int(np.sum(~np.isfinite(s)))
        return f"output: {bad} non-finite scores (e.g. a division by zero)"
    return np.round(s.reshape(grid_size, grid_size), SCORE_DECIMALS)


def score_tables(outputs: Outputs, grid_size: int) -> tuple[np.ndarray, np.ndarray] | str:
    """The two bidders' score tables ``(s1, s2)`` indexed [a, b], or why the outputs are unusable.

    ``score`` is bidder 1's score on the flat view (own bid a, other's b); ``score_2``
    bidder 2's on the same view, i.e. at profile (b, a), hence the transpose. Outputs
    without ``score_2`` (older harness results) score both bidders alike.
    """
    if "score" not in outputs:
        return "output: missing 'score'"
    s1 = _table(outputs, "score", grid_size)
    if isinstance(s1, str):
        return s1
    if "score_2" not in outputs:
        return s1, s1.T
    own2 = _table(outputs, "score_2", grid_size)
    if isinstance(own2, str):
        return own2.replace("output:", "output (bidder 2):", 1)
    return s1, own2.T  # bidder 2 at (a, b) is the view (own b, other a)


def describe_thresholds(mech: Thresholds, values: np.ndarray, samples: int = 5) -> str:
    """A short text of bidder 1's winning bid given a few of the other's bids."""
    g = len(values)
    cols = np.unique(np.linspace(0, g - 1, samples).round().astype(int))
    price = np.append(values, np.inf)
    parts = [f"{values[c]:.2f}->{price[mech.t1[c]]:.2f}" for c in cols]
    return "bidder 1 needs (given the other's bid): " + ", ".join(parts) + " (inf: never wins)"


class CorrelatedRevenueProblem(Problem):
    """Two correlated bidders on a grid; fitness = exact revenue of the fixed mechanism."""

    name = "correlated_revenue"
    function = FunctionSpec("priority", TEMPLATE, ("numpy", "math"))
    task = TASK
    seed_program = SEED_PROGRAM
    grammar = GRAMMAR
    harness = "amdlib.problems.correlated.harness:harness"
    timeout_s = 10.0

    def __init__(self, grid_size: int = 21, rho: float = 0.5) -> None:
        self.law = GridLaw(int(grid_size), float(rho))
        g = int(grid_size)
        self.task = (f"{TASK} Setting: values on the grid {{0, 1/{g - 1}, ..., 1}} ({g} levels); with probability "
                     f"rho = {float(rho):g} both values are equal (uniform on the grid), otherwise they are "
                     "independent and uniform on the grid.")

    @cached_property
    def optimum(self) -> float:
        """The MILP optimum's revenue (the yardstick in the diagnostics)."""
        from amdlib.problems.correlated.optimum import optimal_mechanism

        return optimal_mechanism(self.law).revenue

    @cached_property
    def _payload(self) -> Payload:
        return make_payload(self.law)

    def payload(self, split: str) -> Payload:
        """Everything is exact, so every split is the full grid."""
        if split not in ("search", "holdout"):
            raise ValueError(f"unknown split {split!r}")
        return self._payload

    def fixed(self, outputs: Outputs) -> FixReport | str:
        """Harness outputs -> fixed mechanism (or a failure reason)."""
        tables = score_tables(outputs, self.law.grid_size)
        if isinstance(tables, str):
            return tables
        return fix_scores(tables[0], tables[1], self.law.values, self.law.pmf)

    def audit(self, mech: Thresholds) -> dict[str, float]:
        """Exhaustive regret and IR figures of a threshold mechanism."""
        x1, x2 = mech.allocation()
        p1, p2 = mech.payments(self.law.values)
        return audit(x1, p1, x2, p2, self.law.values, self.law.pmf)

    def metrics(self, report: FixReport) -> dict[str, float]:
        """Revenue, fix figures and audit of a fixed mechanism."""
        checks = self.audit(report.mechanism)
        return {
            "revenue": report.revenue, "raw_revenue": report.raw_revenue, "fix_cost": report.fix_cost,
            "changed_mass": report.changed, "optimum_ratio": report.revenue / self.optimum,
            "max_regret": checks["max_regret"], "min_utility": checks["min_utility"],
        }

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        report = self.fixed(outputs)
        if isinstance(report, str):
            return Evaluation.failed(report)
        m = self.metrics(report)
        # The papers' models never saw the optimum: quote it only when the run asks for it.
        optimum = (f" ({100 * m['optimum_ratio']:.1f}% of the optimum {self.optimum:.5f})"
                   if self.reveal_optimum else "")
        diagnostics = (
            f"revenue {m['revenue']:.5f}{optimum}; "
            f"the fix changed the winner on {100 * m['changed_mass']:.1f}% of the probability mass "
            f"(revenue before the fix {m['raw_revenue']:.5f}); "
            + describe_thresholds(report.mechanism, self.law.values)
        )
        return Evaluation(valid=True, score=m["revenue"], metrics=m, diagnostics=diagnostics)

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        return (round(evaluation.score, 6), round(evaluation.metrics.get("changed_mass", 0.0), 4))

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, **self.law.describe()}
