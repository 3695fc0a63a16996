"""Constant fitting: tune a candidate's numeric literals on the training split.

Evolved programs are skeletons with numbers in them (quantile levels, phantom peaks,
reserves, coefficients). The proposer, LLM or offline, writes the structure; a
derivative-free optimiser (scipy's Nelder-Mead or Powell) sets the numbers. Every
trial program is scored through the run's own :class:`~amdlib.core.evaluator.Evaluator`
on the ``search`` split, so the untrusted code only ever runs in the sandbox, and
every trial counts as one evaluation of the run's budget.

Only *float* literals are tuned: integers are structure (axes, indices, shapes),
and a float inside an ``axis=`` keyword or a subscript stays as written.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from amdlib.core.problem import Evaluation
from amdlib.core.parsing import parse as parse_source, unparse, walk

METHODS = ("nelder-mead", "powell")
#: Fitted values are written with this many significant digits (readable code, stable hashes).
DIGITS = 6
#: Objective of a trial that failed (invalid code or output): worse than any valid score.
FAILED = 1e9


@dataclass(frozen=True)
class FitConfig:
    """How candidates are fitted.

    ``budget``: trial evaluations per fitted candidate (0 disables fitting);
    ``margin``: fit only candidates whose score is within this relative margin of the
    best score so far (``inf``: all valid ones); ``max_literals``: skip programs with more.
    """

    budget: int = 30
    method: str = "nelder-mead"
    margin: float = 0.05
    max_literals: int = 24
    #: Relative size of the first simplex / Powell step for a literal (absolute for values near 0).
    step: float = 0.25


def _skip_nodes(tree: ast.AST) -> set[int]:
    """Ids of constant nodes that are structural: inside ``axis=`` (or similar) keywords and subscripts."""
    skip: set[int] = set()
    for node in walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("axis", "axes", "dtype", "shape", "keepdims", "ord"):
            skip.update(id(n) for n in walk(node.value))
        elif isinstance(node, ast.Subscript):
            skip.update(id(n) for n in walk(node.slice))
    return skip


def _literal_nodes(tree: ast.AST) -> list[ast.Constant]:
    """Float literals of ``tree`` in source order (docstrings are strings, so never included)."""
    skip = _skip_nodes(tree)
    nodes = [n for n in walk(tree) if isinstance(n, ast.Constant) and type(n.value) is float
             and math.isfinite(n.value) and id(n) not in skip]
    return sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def find_literals(code: str) -> list[float]:
    """The tunable float literals of ``code``, in source order (empty if it does not parse)."""
    try:
        return [float(n.value) for n in _literal_nodes(parse_source(code))]
    except SyntaxError:
        return []


def substitute(code: str, values: Sequence[float]) -> str:
    """``code`` with its tunable literals (in :func:`find_literals` order) replaced by ``values``."""
    tree = parse_source(code)
    nodes = _literal_nodes(tree)
    if len(nodes) != len(values):
        raise ValueError(f"{len(values)} values for {len(nodes)} literals")
    for node, value in zip(nodes, values):
        v = float(f"{float(value):.{DIGITS}g}")
        if v < 0:  # keep the tree well formed: -x is a unary minus on a literal
            node.value = -v
            _negate(tree, node)
        else:
            node.value = v
    return unparse(tree)


def _negate(tree: ast.AST, node: ast.Constant) -> None:
    """Wrap ``node`` in a unary minus (in place) by rewriting its parent's reference."""
    for parent in walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, name, ast.UnaryOp(op=ast.USub(), operand=node))
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is node:
                        value[i] = ast.UnaryOp(op=ast.USub(), operand=node)
                        return


@dataclass
class FitResult:
    """One candidate's fit: the best code found (the input when nothing helped)."""

    code: str
    evaluation: Evaluation
    evaluations: int
    improved: bool
    before: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)


class _Stop(Exception):
    """The per-candidate budget is spent."""


class ConstantFitter:
    """Fits candidates through an evaluator; keeps the counts the run reports.

    ``evaluator`` needs ``evaluate_code(code, "search") -> Evaluation`` (the engine's
    :class:`~amdlib.core.evaluator.Evaluator`); ``remaining()`` (optional) gives the run's
    evaluations left, so fitting never overruns the run's budget.
    """

    def __init__(self, evaluator: Any, config: FitConfig) -> None:
        if config.method not in METHODS:
            raise ValueError(f"unknown constant-fitting method {config.method!r}")
        self.evaluator, self.config = evaluator, config
        self.fitted: dict[str, FitResult] = {}  # code hash of the skeleton -> its fit
        self.stats = {"candidates_fitted": 0, "improved": 0, "evaluations": 0, "skipped_no_literals": 0,
                      "skipped_margin": 0}

    def wants(self, evaluation: Evaluation, best_score: float, code: str) -> bool:
        """Whether a candidate is worth fitting: valid, near the best score, with 1..max literals."""
        if self.config.budget <= 0 or not evaluation.valid or not math.isfinite(evaluation.score):
            return False
        if math.isfinite(best_score):
            gap = best_score - evaluation.score
            if gap > self.config.margin * max(abs(best_score), 1e-12):
                self.stats["skipped_margin"] += 1
                return False
        n = len(find_literals(code))
        if not 1 <= n <= self.config.max_literals:
            self.stats["skipped_no_literals"] += 1
            return False
        return True

    def fit(self, code: str, evaluation: Evaluation, code_hash: str, budget: int | None = None) -> FitResult:
        """Tune ``code``'s literals with at most ``budget`` (default: the config's) trial evaluations."""
        if code_hash in self.fitted:
            return self.fitted[code_hash]
        limit = self.config.budget if budget is None else min(budget, self.config.budget)
        x0 = np.asarray(find_literals(code), dtype=float)
        best = {"f": -evaluation.score, "code": code, "ev": evaluation, "x": x0.copy()}
        used = [0]

        def objective(x: np.ndarray) -> float:
            if used[0] >= limit:
                raise _Stop
            try:
                trial = substitute(code, x)
            except (ValueError, SyntaxError):
                return FAILED
            used[0] += 1
            ev = self.evaluator.evaluate_code(trial, "search")
            f = -ev.score if ev.valid and math.isfinite(ev.score) else FAILED
            if f < best["f"] - 1e-15:
                best.update(f=f, code=trial, ev=ev, x=np.asarray(x, dtype=float).copy())
            return f

        if limit > 0 and x0.size:
            self._minimise(objective, x0, limit)
        result = FitResult(code=best["code"], evaluation=best["ev"], evaluations=used[0], improved=best["code"] != code,
                           before=[float(v) for v in x0], after=[float(v) for v in best["x"]])
        self.fitted[code_hash] = result
        self.stats["candidates_fitted"] += 1
        self.stats["improved"] += int(result.improved)
        self.stats["evaluations"] += used[0]
        return result

    def _minimise(self, objective: Any, x0: np.ndarray, limit: int) -> None:
        from scipy.optimize import minimize

        steps = np.where(np.abs(x0) > 1e-3, self.config.step * np.abs(x0), self.config.step)
        try:
            if self.config.method == "powell":
                minimize(objective, x0, method="Powell",
                         options={"maxfev": limit, "direc": np.diag(steps), "xtol": 1e-4, "ftol": 1e-10})
            else:
                simplex = np.vstack([x0, x0 + np.diag(steps)])
                minimize(objective, x0, method="Nelder-Mead",
                         options={"maxfev": limit, "initial_simplex": simplex, "xatol": 1e-5, "fatol": 1e-12})
        except _Stop:
            pass


__all__ = ["FitConfig", "FitResult", "ConstantFitter", "find_literals", "substitute", "METHODS"]
