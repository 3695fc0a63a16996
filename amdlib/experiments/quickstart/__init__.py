"""Quickstart: evolve a function that fits a hidden 1-D curve (the toy problem).

A miniature of the real experiments: same parameters, same search engine, same outputs, but it
runs in seconds. ``notebooks/00_quickstart.ipynb`` narrates it; :mod:`.run` holds what it calls.
"""

from __future__ import annotations

from amdlib.core.experiment import Experiment, Param, lazy_module, search_params


#: :mod:`.run`, imported when a hook first needs it.
_run = lazy_module(f"{__name__}.run")


EXPERIMENT = Experiment(
    name="quickstart",
    notebook="notebooks/00_quickstart.ipynb",
    title="Quickstart: rediscover a hidden curve",
    params={
        **search_params(max_evaluations=24, pop_size=4, islands=2, workers=1),
        "target": Param(str, "linear", "hidden curve the program must fit", choices=("linear", "smooth")),
        "n_points": Param(int, 64, "grid points the search scores on", min=8, max=100_000),
    },
    make_problem=lambda params: _run().make_problem(params),
    baselines=lambda params: _run().baselines(params),
    key_metrics=("best.score", "holdout.mse", "evaluations"),
    description="The toy problem: fit x - (1 - x) / 2 on [0, 1] from a program that predicts zero.",
)
