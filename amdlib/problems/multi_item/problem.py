"""The multi-item problem on the engine's contract: one bidder, two items, additive values.

The proposer writes ``mechanism(v1, v2) -> (x1, x2, p)``. The harness runs it on the
menu grid followed by the split's sample; the parent builds the menu the grid
outputs induce (:func:`.menu.induced_menu`, the fixing step), lets every sampled
type take its best entry, and scores the mean payment (common random numbers on
the search split, a fresh larger sample on the holdout split).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem
from amdlib.problems.multi_item import menu as menus
from amdlib.problems.multi_item.baselines import MV_BUNDLE, MV_ITEM, two_price_revenue
from amdlib.problems.multi_item.distributions import ValueLaw

TEMPLATE = '''def mechanism(v1, v2):
    """Allocation and payment of a one-bidder, two-item auction, given the bidder's values.

    The bidder values item 1 at v1 and item 2 at v2 (independent draws on [0, 1]) and
    both at v1 + v2. The function is called on many value pairs at once.

    Args:
        v1: numpy array of the bidder's values for item 1, shape (n,).
        v2: numpy array (same shape) of its values for item 2.

    Returns:
        (x1, x2, p): numpy arrays of shape (n,) (scalars are broadcast): the probability
        that the bidder gets item 1, the probability that it gets item 2 (each clipped to
        [0, 1]) and the payment.
    """
'''

SEED_PROGRAM = "import numpy as np\n\n\n" + TEMPLATE + """    item_price = 0.5
    bundle_price = 1.0
    x1 = 1 * (v1 >= 0.5)
    x2 = 1 * (v2 >= 0.5)
    p = np.where(x1 * x2 > 0, bundle_price, item_price * (x1 + x2))
    return x1, x2, p
"""

TASK = (
    "Design a revenue-maximising mechanism for selling two items to one buyer with additive values "
    "v1, v2 drawn independently. Your function maps the buyer's values to the probability of getting "
    "each item and a payment. A fixing step turns it into a menu: the outcomes (x1, x2, p) your function "
    "produces on a grid of values, plus the option to buy nothing for free. The buyer then picks the "
    "entry with the highest utility v1 * x1 + v2 * x2 - p, so the mechanism is strategy-proof and "
    "individually rational by construction; what matters is which entries you offer and at what prices. "
    "Maximise the expected payment. Selling each item separately at its monopoly price is a good start; "
    "menus that also offer the bundle, or lotteries, can do better."
)

GRAMMAR = Grammar(
    expressions=("x1 * x2", "v1 + v2", "np.maximum(v1, v2)", "np.minimum(v1, v2)",
                 "np.where(v1 + v2 >= 1.0, 1.0, 0.0)", "x1 + x2"),
    constants=(0.0, 0.25, 0.5, 1.0, 2.0),
)


def grid(points: int) -> tuple[np.ndarray, np.ndarray]:
    """The menu grid: ``points x points`` types on [0, 1]^2, flattened (row-major in v1)."""
    axis = np.linspace(0.0, 1.0, points)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return a.ravel(), b.ravel()


class MultiItemProblem(Problem):
    """One bidder, two items: fitness = Monte Carlo revenue of the induced menu mechanism."""

    name = "multi_item"
    function = FunctionSpec("mechanism", TEMPLATE, ("numpy", "math"))
    task = TASK
    seed_program = SEED_PROGRAM
    grammar = GRAMMAR
    harness = "amdlib.problems.multi_item.harness:harness"
    timeout_s = 20.0

    def __init__(self, law: ValueLaw = ValueLaw(), menu_grid: int = 51, n_samples: int = 20_000,
                 n_holdout: int = 200_000, seed: int = 0) -> None:
        self.law = law
        self.menu_grid = int(menu_grid)
        self.n_samples = int(n_samples)
        self.n_holdout = int(n_holdout)
        self.seed = int(seed)

    @property
    def n_grid(self) -> int:
        return self.menu_grid * self.menu_grid

    def sample(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The split's value pairs, from distinct seed streams: the search sample is stratified
        (about ``n_samples`` pairs, rounded to a square), the holdout sample i.i.d."""
        if split not in ("search", "holdout"):
            raise ValueError(f"unknown split {split!r}")
        stream = int(np.random.SeedSequence([self.seed, 0 if split == "search" else 1]).generate_state(1)[0])
        if split == "search":
            return self.law.stratified(stream, max(2, round(math.sqrt(self.n_samples))))
        return self.law.sample(stream, self.n_holdout)

    @cached_property
    def _payloads(self) -> dict[str, Payload]:
        g1, g2 = grid(self.menu_grid)
        out = {}
        for split in ("search", "holdout"):
            s1, s2 = self.sample(split)
            out[split] = {"v1": np.concatenate([g1, s1]), "v2": np.concatenate([g2, s2])}
        return out

    def payload(self, split: str) -> Payload:
        """The menu grid followed by the split's sample (same grid in both splits: one mechanism)."""
        if split not in ("search", "holdout"):
            raise ValueError(f"unknown split {split!r}")
        return self._payloads[split]

    @cached_property
    def optimum(self) -> float | None:
        """Manelli-Vincent's optimal revenue for U[0, 1] items (closed form); None otherwise."""
        return two_price_revenue(self.law, MV_ITEM, MV_BUNDLE) if self.law.is_uniform else None

    def split_outputs(self, outputs: Outputs, split: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | str:
        """(grid outputs, sample outputs), or why the outputs are unusable."""
        n = len(self.payload(split)["v1"])
        arrays = {}
        for name in ("x1", "x2", "p"):
            if name not in outputs:
                return f"output: missing {name!r}"
            a = np.asarray(outputs[name], dtype=float)
            if a.shape != (n,):
                return f"output: {name} has shape {a.shape}, expected ({n},)"
            if not np.all(np.isfinite(a)):
                return f"output: {int(np.sum(~np.isfinite(a)))} non-finite values in {name} (e.g. a division by zero)"
            arrays[name] = a
        g = self.n_grid
        return {k: v[:g] for k, v in arrays.items()}, {k: v[g:] for k, v in arrays.items()}

    def fixed(self, outputs: Outputs, split: str = "search") -> menus.Menu | str:
        """Harness outputs -> the induced menu (or a failure reason)."""
        parts = self.split_outputs(outputs, split)
        if isinstance(parts, str):
            return parts
        on_grid = parts[0]
        return menus.induced_menu(on_grid["x1"], on_grid["x2"], on_grid["p"])

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        parts = self.split_outputs(outputs, split)
        if isinstance(parts, str):
            return Evaluation.failed(parts)
        on_grid, raw = parts
        menu = menus.induced_menu(on_grid["x1"], on_grid["x2"], on_grid["p"])
        v1, v2 = self.sample(split)
        k = menu.choose(v1, v2)
        pay = menu.p[k]
        revenue = float(pay.mean())
        rx1, rx2 = np.clip(raw["x1"], 0.0, 1.0), np.clip(raw["x2"], 0.0, 1.0)
        raw_util = v1 * rx1 + v2 * rx2 - raw["p"]
        changed = (np.abs(menu.x1[k] - rx1) > 1e-9) | (np.abs(menu.x2[k] - rx2) > 1e-9) \
            | (np.abs(pay - raw["p"]) > 1e-9)
        used = menus.usage(menu, k)
        metrics = {
            "revenue": revenue, "revenue_se": float(pay.std(ddof=1) / math.sqrt(len(pay))),
            "raw_revenue": float(np.mean(raw["p"])), "raw_ir_violations": float(np.mean(raw_util < -1e-12)),
            "changed": float(np.mean(changed)), "menu_size": float(len(menu)), "entries_used": float(len(used)),
        }
        gap = ""
        if self.optimum is not None:
            metrics["optimum_ratio"] = revenue / self.optimum
            if self.reveal_optimum:  # set by the engine from the run's parameters
                gap = f" ({100 * revenue / self.optimum:.2f}% of the optimum {self.optimum:.4f})"
        diagnostics = (
            f"revenue {revenue:.5f}{gap}; the fix changed the outcome of {100 * metrics['changed']:.1f}% of "
            f"the types (your function's own payments average {metrics['raw_revenue']:.4f}, with "
            f"{100 * metrics['raw_ir_violations']:.1f}% of types paying more than their value); "
            + menus.describe(used)
        )
        return Evaluation(valid=True, score=revenue, metrics=metrics, diagnostics=diagnostics)

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        return (round(evaluation.score, 6), evaluation.metrics.get("entries_used", 0.0))

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, **self.law.describe(), "menu_grid": self.menu_grid,
                "n_samples": self.n_samples, "n_holdout": self.n_holdout}
