"""A toy problem for tests, benchmarks and the quickstart: fit a known 1-D curve.

The candidate ``fit(x)`` maps points of [0, 1] to predictions; the fitness is
minus the mean squared error against a hidden target on a grid. The default
target ``x - (1 - x) / 2`` has the shape of a virtual valuation (a value minus
an information rent), so a search that rediscovers it mimics the real task in
miniature. The trivial seed predicts zero everywhere (score -0.25 on the
default target).

The harness runs inside the sandbox worker and imports numpy only.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem

#: Hidden targets by name: numpy expressions of ``x``.
TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x - (1.0 - x) / 2.0,
    "smooth": lambda x: np.sin(3.0 * x) * x,
}

TEMPLATE = '''def fit(x: np.ndarray) -> np.ndarray:
    """Predict the hidden target curve at the points ``x``.

    Args:
        x: numpy array of points in [0, 1], shape (n,).

    Returns:
        numpy array of predictions, shape (n,) (a scalar is broadcast).
    """
    return np.zeros_like(x)
'''

SEED_PROGRAM = '''def fit(x: np.ndarray) -> np.ndarray:
    """Predict the hidden target curve at the points ``x``."""
    return np.zeros_like(x)
'''


def harness(fn: Callable[[np.ndarray], object], payload: Payload) -> Outputs:
    """Run the candidate on the grid (inside the sandbox); a copy protects the payload."""
    x = np.array(payload["x"], dtype=float, copy=True)
    return {"y": np.asarray(fn(x), dtype=float)}


class ToyProblem(Problem):
    """Fit a hidden 1-D target on [0, 1]; score = minus the mean squared error.

    ``target`` names an entry of :data:`TARGETS`; the search split is a
    regular grid of ``n_points`` points, the holdout split a fresh uniform
    sample of ``n_holdout`` points drawn from ``seed``.
    """

    name = "toy"
    function = FunctionSpec(name="fit", template=TEMPLATE, allowed_modules=("numpy", "math"))
    seed_program = SEED_PROGRAM
    grammar = Grammar(
        expressions=("x", "1 - x", "(1 - x) / 2", "x * x", "np.sqrt(x)", "np.sin(3 * x)"),
        constants=(0.0, 0.5, 1.0, 2.0),
        statements=("x = np.clip(x, 0.0, 1.0)",),
    )
    harness = "amdlib.problems.toy:harness"
    timeout_s = 10.0

    def __init__(self, target: str = "linear", n_points: int = 64, n_holdout: int = 1000, seed: int = 0) -> None:
        if target not in TARGETS:
            raise ValueError(f"unknown toy target {target!r}; choose one of {sorted(TARGETS)}")
        self.target = target
        self.n_points = int(n_points)
        self.n_holdout = int(n_holdout)
        self.seed = int(seed)
        self.task = (
            "Write a Python function `fit(x)` that predicts a hidden smooth curve on [0, 1]. "
            "`x` is a numpy array of points; return a numpy array of the same shape. "
            "The fitness is minus the mean squared error against the hidden curve, so higher is better; "
            "the feedback says where the error is largest."
        )
        self._payloads: dict[str, Payload] = {}

    def payload(self, split: str) -> Payload:
        """The grid for ``"search"``, a seeded uniform sample for ``"holdout"`` (cached)."""
        if split not in self._payloads:
            if split == "search":
                x = np.linspace(0.0, 1.0, self.n_points)
            elif split == "holdout":
                x = np.sort(np.random.default_rng(self.seed).uniform(0.0, 1.0, self.n_holdout))
            else:
                raise ValueError(f"unknown split {split!r}")
            self._payloads[split] = {"x": x}
        return self._payloads[split]

    def target_values(self, x: np.ndarray) -> np.ndarray:
        """The hidden curve at ``x`` (for plots and tests)."""
        return np.asarray(TARGETS[self.target](np.asarray(x, dtype=float)), dtype=float)

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        """Minus the mean squared error; invalid if the output is missing, misshapen or not finite."""
        x = self.payload(split)["x"]
        if "y" not in outputs:
            return Evaluation.failed("output: missing 'y'")
        y = np.asarray(outputs["y"], dtype=float)
        try:
            y = np.broadcast_to(y, x.shape)
        except ValueError:
            return Evaluation.failed(f"output: shape {y.shape} does not match the input shape {x.shape}")
        if not np.all(np.isfinite(y)):
            return Evaluation.failed("output: non-finite predictions")
        err = y - self.target_values(x)
        mse = float(np.mean(err**2))
        worst = int(np.argmax(np.abs(err)))
        direction = "too high" if err[worst] > 0 else "too low"
        diagnostics = (
            f"mean squared error {mse:.5f}; largest error {abs(err[worst]):.4f} "
            f"at x={x[worst]:.3f} (prediction {direction})"
        )
        return Evaluation(
            valid=True,
            score=-mse,
            metrics={"mse": mse, "max_abs_error": float(np.max(np.abs(err)))},
            diagnostics=diagnostics,
        )

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "target": self.target, "n_points": self.n_points}
