"""The problem contract every experiment implements (EoH-style: template, task, evaluator).

A problem supplies the function the proposer must write, the text that explains
the task, a trivial seed program, a grammar of primitives for the offline
proposer, and a two-stage evaluation:

1. ``harness`` (trusted code, named as ``"module:function"``) runs *inside the
   sandbox worker*: it receives the untrusted candidate function and the
   problem's payload (a dict of numpy arrays) and returns raw outputs, a dict of
   numpy arrays.  Nothing else of the candidate ever leaves the worker.
2. ``score`` runs in the parent process on those outputs: it validates them,
   applies the fixing step and computes the fitness, metrics and diagnostics.

Payloads are generated once per run from the seed (common random numbers), so
every candidate of a run is scored on the same samples.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

Payload = dict[str, np.ndarray]
Outputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class FunctionSpec:
    """The function a proposer must write.

    ``template`` is complete Python source of the function with its signature
    and docstring (body may be ``...``); ``name`` is its entry point;
    ``allowed_modules`` are the modules the candidate may import (checked on
    the AST and enforced at run time by the sandbox).
    """

    name: str
    template: str
    allowed_modules: tuple[str, ...] = ("numpy", "math")


@dataclass(frozen=True)
class Grammar:
    """Primitives for the offline proposer.

    ``expressions`` are Python expression snippets over the function's
    arguments and allowed modules (e.g. ``"(1 - cdf(bid)) / pdf(bid)"``); the
    mutator grafts them into candidates. ``constants`` seed numeric leaves.
    ``statements`` are optional whole-statement snippets (e.g. an assignment)
    that can be inserted before the return.
    """

    expressions: tuple[str, ...]
    constants: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    statements: tuple[str, ...] = ()


@dataclass
class Evaluation:
    """The verdict on one candidate (higher ``score`` is better)."""

    valid: bool
    score: float
    metrics: dict[str, float] = field(default_factory=dict)
    diagnostics: str = ""
    error: str = ""

    @classmethod
    def failed(cls, error: str) -> "Evaluation":
        """An invalid candidate: it gets the worst possible score and a reason."""
        return cls(valid=False, score=-math.inf, error=error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "score": None if not math.isfinite(self.score) else float(self.score),
            "metrics": {k: float(v) for k, v in sorted(self.metrics.items())},
            "diagnostics": self.diagnostics,
            "error": self.error,
        }


class Problem(ABC):
    """Base class of every mechanism-design problem.

    Subclasses set the class attributes and implement ``payload`` and
    ``score``. ``signature`` (a tuple of floats) lets FunSearch cluster
    programs by behaviour; by default it is the score alone.

    ``score`` is always "higher is better". A problem whose objective is minimised (a cost)
    returns minus the cost and sets ``fitness_sign = -1`` and a ``fitness_label`` saying so,
    so that prompts show the model the cost it is told to lower.
    """

    name: str
    function: FunctionSpec
    task: str
    seed_program: str
    grammar: Grammar
    #: The harness every candidate is scored with, ``"module:function"``.
    harness: str
    #: Further trusted harnesses (name -> ``"module:function"``) a study runs candidates through
    #: (audits, verdicts, per-setting tables), always via ``Evaluator.outputs(..., harness=name)``.
    harnesses: Mapping[str, str] = {}
    #: Wall-clock limit for one candidate's harness run in the sandbox.
    timeout_s: float = 30.0
    #: Address-space limit of a sandbox worker, in MiB.
    memory_mb: int = 2048
    #: The sign that turns ``score`` into the fitness prompts show (-1: a minimised cost).
    fitness_sign: float = 1.0
    #: How prompts name that fitness, with its direction.
    fitness_label: str = "Fitness (higher is better)"
    #: Whether diagnostics shown to the model may quote the known optimum; the engine sets it from
    #: the run's ``reveal_optimum`` (the papers' models never saw the optimum).
    reveal_optimum: bool = False

    @abstractmethod
    def payload(self, split: str) -> Payload:
        """Inputs for the harness. ``split`` is ``"search"`` (the common
        random numbers of the run) or ``"holdout"`` (a fresh, larger sample for
        re-scoring the final program). Deterministic given the problem's seed."""

    @abstractmethod
    def score(self, outputs: Outputs, split: str) -> Evaluation:
        """Validate the harness outputs, apply the fixing step, compute fitness."""

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        """Behavioural signature for clustering (FunSearch islands)."""
        return (round(evaluation.score, 6),)

    def describe(self) -> Mapping[str, Any]:
        """Setting summary written into results (override to add fields)."""
        return {"problem": self.name}
