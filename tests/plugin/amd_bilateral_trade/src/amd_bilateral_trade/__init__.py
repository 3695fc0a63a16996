"""Bilateral trade with posted-price lotteries: an amdlib experiment that lives outside amdlib.

The entry point ``bilateral_trade = "amd_bilateral_trade:EXPERIMENT"`` (group
``amdlib.experiments``) is all amdlib needs: the record below names the notebook and parameter
files of this package, and its hooks (``make_problem``, ``plan``, ``baselines``, ``check``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from amdlib.core.experiment import Experiment, Param, SearchPlan, search_params

from .problem import BilateralTradeProblem, fixed_price_gains

HERE = Path(__file__).resolve().parent


def make_problem(params: Mapping[str, Any]) -> BilateralTradeProblem:
    return BilateralTradeProblem(buyer_high=params["buyer_high"], n_pairs=params["n_pairs"],
                                 n_holdout=params["n_holdout"], seed=params["seed"])


def plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """The notebook's two searches: the run's method, then a random search of the same budget."""
    problem = make_problem(params)
    return [SearchPlan("search", problem), SearchPlan("random search", problem, {"method": "random"})]


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """Exact reference points: the seed's price, the best fixed price, and (for buyer_high = 1)
    the first-best gains and Myerson and Satterthwaite's second best, which no posted price reaches."""
    h = float(params["buyer_high"])
    best_p, best = make_problem(params).optimum()
    out: dict[str, Any] = {
        "seed_price": {"price": 0.2, "score": round(fixed_price_gains(0.2, h), 6)},
        "optimum": {"price": best_p, "score": round(best, 6),
                    "program": f"import numpy as np\n\n\ndef price(u):\n    return {best_p!r} + 0.0 * u\n"},
    }
    if h == 1.0:
        out["first_best"] = {"score": round(1 / 6, 6), "note": "trade whenever v >= c (not budget balanced and SP)"}
        out["second_best"] = {"score": round(9 / 64, 6), "note": "Myerson-Satterthwaite: Bayesian IC, IR, BB"}
    return out


def check(params: Mapping[str, Any]) -> str | None:
    if params["n_holdout"] < params["n_pairs"]:
        return "n_holdout must be at least n_pairs (the winner is re-scored on a larger fresh sample)"
    return None


EXPERIMENT = Experiment(
    name="bilateral_trade",
    notebook=str(HERE / "bilateral_trade.ipynb"),
    title="Bilateral trade: a broker's posted-price lottery (plugin)",
    params={
        **search_params(max_evaluations=16, pop_size=4, islands=2, workers=1),
        "buyer_high": Param(float, 1.0, "buyer values are uniform on [0, buyer_high]; seller costs on [0, 1]",
                            min=1.0, max=2.0),
        "n_pairs": Param(int, 2000, "buyer-seller meetings scoring each candidate", min=100, max=1_000_000),
        "n_holdout": Param(int, 20000, "fresh meetings re-scoring the winner", min=100, max=10_000_000),
    },
    make_problem=make_problem,
    plan=plan,
    baselines=baselines,
    key_metrics=("search.best_score", "search.holdout_score", "random_search.best_score", "baselines.optimum.score"),
    check=check,
    params_dir=HERE / "params",
    description="Posted prices are the only strategy-proof, individually rational, budget-balanced bilateral-trade "
                "mechanisms; the search writes the price lottery, the best single price is the known optimum.",
)
