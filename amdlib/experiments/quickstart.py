"""Quickstart: evolve a function that fits a hidden 1-D curve (the toy problem).

A miniature of the real experiments: same parameters, same search engine, same
outputs, but it runs in seconds. ``notebooks/00_quickstart.ipynb`` narrates it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amdlib.pipeline.schema import Experiment, Param, search_params

EXPERIMENT = Experiment(
    name="quickstart",
    notebook="notebooks/00_quickstart.ipynb",
    title="Quickstart: rediscover a hidden curve",
    params={
        **search_params(max_evaluations=24, pop_size=4, islands=2, workers=1),
        "target": Param(str, "linear", "hidden curve the program must fit", choices=("linear", "smooth")),
        "n_points": Param(int, 64, "grid points the search scores on", min=8, max=100_000),
    },
    baselines="amdlib.experiments.quickstart:baselines",
    key_metrics=("best.score", "holdout.mse", "evaluations"),
    description="The toy problem: fit x - (1 - x) / 2 on [0, 1] from a program that predicts zero.",
)


def problem(params: dict[str, Any]):
    """The toy problem configured by the run's params."""
    from amdlib.problems.toy import ToyProblem

    return ToyProblem(target=params["target"], n_points=params["n_points"], seed=params["seed"])


def baselines(params: dict[str, Any]) -> dict[str, Any]:
    """Reference points without any search: the trivial seed, the best straight line, the optimum.

    Computed directly on the search grid with numpy (trusted code; no candidate runs here).
    """
    toy = problem(params)
    x = toy.payload("search")["x"]
    y = toy.target_values(x)
    slope, intercept = np.polyfit(x, y, 1)
    line_mse = float(np.mean((slope * x + intercept - y) ** 2))
    return {
        "seed_program": {"score": round(-float(np.mean(y**2)), 10) + 0.0, "program": "return np.zeros_like(x)"},
        "best_line": {"score": round(-line_mse, 10) + 0.0, "slope": round(float(slope), 6), "intercept": round(float(intercept), 6)},
        "optimum": {"score": 0.0, "note": "the hidden curve itself"},
    }


def summary(result: Any, toy: Any) -> dict[str, Any]:
    """The numbers the quickstart reports, all computed from the search result."""
    best = result.best
    holdout = result.holdout
    curve = result.curve()
    return {
        "setting": dict(toy.describe()),
        "evaluations": len(result.history),
        "valid": sum(1 for p in result.history if p.valid),
        "best": {"score": float(best.score), "code": best.code, "id": best.id},
        "holdout": {
            "score": None if holdout is None else holdout.to_dict()["score"],
            "mse": None if holdout is None else holdout.metrics.get("mse"),
        },
        "curve": [[int(n), float(s)] for n, s in curve],
    }


def without_docstring(code: str) -> str:
    """A program's source without its (template) docstring, for printing."""
    import ast

    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(getattr(node.body[0], "value", None), ast.Constant) and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)
