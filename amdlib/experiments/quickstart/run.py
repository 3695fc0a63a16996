"""What the quickstart notebook calls: its problem, the reference points, the search and its summary."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from amdlib.experiments.shared import curve_rows, run_once
from amdlib.problems.toy import ToyProblem


def make_problem(params: Mapping[str, Any]) -> ToyProblem:
    """The toy problem configured by the run's params."""
    return ToyProblem(target=params["target"], n_points=params["n_points"], seed=params["seed"])


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """Reference points without any search: the trivial seed, the best straight line, the optimum.

    Computed directly on the search grid with numpy (trusted code; no candidate runs here).
    """
    toy = make_problem(params)
    x = toy.payload("search")["x"]
    y = toy.target_values(x)
    slope, intercept = np.polyfit(x, y, 1)
    line_mse = float(np.mean((slope * x + intercept - y) ** 2))
    return {
        "seed_program": {"score": round(-float(np.mean(y**2)), 10) + 0.0, "program": "return np.zeros_like(x)"},
        "best_line": {"score": round(-line_mse, 10) + 0.0, "slope": round(float(slope), 6),
                      "intercept": round(float(intercept), 6)},
        "optimum": {"score": 0.0, "note": "the hidden curve itself"},
    }


def summary(result: Any, toy: ToyProblem) -> dict[str, Any]:
    """The numbers the quickstart reports, all computed from the search result."""
    best = result.best
    holdout = result.holdout
    return {
        "setting": dict(toy.describe()),
        "evaluations": len(result.history),
        "valid": sum(1 for p in result.history if p.valid),
        "best": {"score": float(best.score), "code": best.code, "id": best.id},
        "holdout": {
            "score": None if holdout is None else holdout.to_dict()["score"],
            "mse": None if holdout is None else holdout.metrics.get("mse"),
        },
        "curve": curve_rows(result),
    }


def predictions(toy: ToyProblem, code: str) -> np.ndarray:
    """What ``code`` predicts on the search grid (run in the sandbox: it is a candidate's code)."""
    x = toy.payload("search")["x"]
    return np.broadcast_to(np.asarray(run_once(toy, code)["y"], dtype=float), x.shape)
