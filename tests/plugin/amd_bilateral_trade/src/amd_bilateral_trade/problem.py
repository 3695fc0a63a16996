"""Bilateral trade through a broker's posted-price lottery.

A buyer (value ``v`` uniform on [0, buyer_high]) meets a seller (cost ``c`` uniform on [0, 1]).
Before they report anything, a public draw ``u`` (uniform on [0, 1]) picks the price ``price(u)``:
the candidate writes the lottery's quantile function. They trade at that price if ``c <= p <= v``.
Whatever the lottery, this is dominant-strategy incentive compatible, individually rational and
budget balanced (the price does not depend on the reports, nobody trades at a loss, the buyer's
payment is the seller's receipt); Hagerty and Rogerson (1987) show that such mechanisms are the
only ones with these properties. The fixing step clips prices to [0, max(1, buyer_high)]: outside
both supports nobody trades, so the clip changes no outcome and keeps the metrics readable.

Fitness: the gains from trade ``E[(v - c) 1{c <= p <= v}]``. A fixed price p earns
``p (h - p) / 2`` (h = buyer_high, p <= 1), so the best lottery is the single price
``min(h / 2, 1)``: 1/8 for h = 1, against first-best gains of 1/6 and Myerson and Satterthwaite's
second best 9/64 (Bayesian incentive compatible only).
"""

from __future__ import annotations

import math

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem

TEMPLATE = '''def price(u):
    """The broker's posted price for each meeting, drawn before anyone reports.

    Args:
        u: numpy array of public uniform draws on [0, 1], shape (k,); price(u) is the
           quantile function of the price lottery.

    Returns:
        numpy array of prices, shape (k,) (a scalar is one fixed price).
    """
'''

SEED = "import numpy as np\n\n\n" + TEMPLATE + "    return 0.2 + 0.0 * u\n"

GRAMMAR = Grammar(expressions=("u", "1 - u", "u * u", "0.5 * u"), constants=(0.0, 0.25, 0.5, 1.0))


def fixed_price_gains(p: float, buyer_high: float) -> float:
    """Exact gains from trade of the fixed price ``p`` (seller costs on [0, 1], buyer values on [0, h])."""
    p = min(max(float(p), 0.0), 1.0)
    return p * (buyer_high - p) / 2


class BilateralTradeProblem(Problem):
    """Posted-price lotteries between a buyer and a seller; fitness = Monte Carlo gains from trade."""

    name = "bilateral_trade"
    function = FunctionSpec("price", TEMPLATE, ("numpy", "math"))
    seed_program = SEED
    grammar = GRAMMAR
    harness = "amd_bilateral_trade.harness:harness"
    timeout_s = 10.0

    def __init__(self, buyer_high: float = 1.0, n_pairs: int = 2000, n_holdout: int = 20000, seed: int = 0) -> None:
        self.buyer_high = float(buyer_high)
        self.sizes = {"search": int(n_pairs), "holdout": int(n_holdout)}
        self.seed = int(seed)
        self._samples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.task = (f"A broker posts a price between a buyer whose value is uniform on [0, {self.buyer_high:g}] and a "
                     "seller whose cost is uniform on [0, 1]; they trade at that price if the cost is at most the price "
                     "and the price at most the value. Write `price(u)`, the price for a public uniform draw u (the "
                     "quantile function of a price lottery). Maximise the expected gains from trade (value minus cost "
                     "of the pairs that trade).")

    def sample(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(public draws, buyer values, seller costs) of a split, from its own seed stream."""
        if split not in self.sizes:
            raise ValueError(f"unknown split {split!r}")
        if split not in self._samples:
            rng = np.random.default_rng([self.seed, 0 if split == "search" else 1])
            k = self.sizes[split]
            self._samples[split] = (rng.uniform(0.0, 1.0, k), rng.uniform(0.0, self.buyer_high, k), rng.uniform(0.0, 1.0, k))
        return self._samples[split]

    def payload(self, split: str) -> Payload:
        return {"u": self.sample(split)[0]}

    def optimum(self) -> tuple[float, float]:
        """The best price and its exact gains from trade."""
        p = min(self.buyer_high / 2, 1.0)
        return p, fixed_price_gains(p, self.buyer_high)

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        u, v, c = self.sample(split)
        prices = np.asarray(outputs.get("price", np.empty(0)), dtype=float)
        if prices.shape != u.shape:
            return Evaluation.failed(f"output: expected prices of shape {u.shape}, got {prices.shape}")
        fixed = np.clip(prices, 0.0, max(1.0, self.buyer_high))  # the fixing step (changes no trade)
        trade = (c <= fixed) & (fixed <= v)
        gains = np.where(trade, v - c, 0.0)
        mean = float(gains.mean())
        se = float(gains.std(ddof=1) / math.sqrt(len(gains)))
        note = f"; the best fixed price earns {self.optimum()[1]:.4f}" if self.reveal_optimum else ""
        return Evaluation(valid=True, score=mean,
                          metrics={"gains": mean, "score_se": se, "trade_rate": float(trade.mean()),
                                   "price_mean": float(fixed.mean()), "price_sd": float(fixed.std())},
                          diagnostics=f"gains from trade {mean:.4f} (SE {se:.4f}); {100 * trade.mean():.0f}% of pairs "
                                      f"trade; prices {fixed.mean():.3f} on average (sd {fixed.std():.3f}){note}")

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "buyer_high": self.buyer_high}
