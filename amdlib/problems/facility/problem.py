"""The facility-location Problem: template, task, grammar, payloads and scoring.

``FacilityProblem(n, K, distribution, weights, epsilon, ...)`` is reusable for any
n, distribution and weights (experiment 5 evaluates learned code out of
distribution and at larger n by building another instance). The candidate runs
only in the sandbox through :mod:`amdlib.problems.facility.harness`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Outputs, Payload, Problem
from amdlib.errors import UserError
from amdlib.problems.facility.baselines import fit_percentile
from amdlib.problems.facility.data import DISTRIBUTIONS, Profiles, make_profiles, resolve_weights
from amdlib.problems.facility.evaluation import payload_of, score_outputs
from amdlib.problems.facility.sp.member import FittedMember

DOC = '''"""Place K facilities on [0, 1] from the agents' reported peaks.

    Each agent's cost is the distance from its true peak to the nearest facility;
    the planner minimises the weighted social cost sum_i w_i * cost_i / sum_i w_i.
    Agents may misreport their peaks; the weights are public and cannot be misreported.

    Args:
        peaks: {peaks_doc}
        weights: public positive agent weights, shape (n,).
        K: number of facilities.

    Returns:
        {returns_doc}
    """'''
VECTOR_DOC = dict(
    peaks_doc="reported peaks, shape (B, n): B independent profiles (rows) of n agents in [0, 1]; "
    "treat every row on its own and accept any n.",
    returns_doc="facility locations, shape (B, K) (row b answers profile b).",
)
SINGLE_DOC = dict(
    peaks_doc="reported peaks of the n agents, shape (n,), values in [0, 1]; accept any n.",
    returns_doc="facility locations, shape (K,).",
)


def _source(doc: dict[str, str], body: str) -> str:
    return "def mechanism(peaks: np.ndarray, weights: np.ndarray, K: int) -> np.ndarray:\n    " + DOC.format(**doc) + "\n    " + body + "\n"


SEEDS = {"vectorized": "return np.full((peaks.shape[0], K), 0.5)", "per_profile": "return np.full(K, 0.5)"}
#: ``seed_rule`` choices: the best fitted member of the SP families (amdlib.problems.facility.sp),
#: the same without phantoms (``scale_free``: rules meant to transfer to other distributions),
#: the best percentile rule fitted on the training profiles (a known SP baseline, written as
#: quantile levels so it accepts any n), or the trivial constant rule.
SEED_RULES = ("families", "approx", "scale_free", "percentile", "constant")


def percentile_levels(choice: tuple, n: int) -> list[float]:
    """Quantile levels (i + 0.5) / n whose ``inverted_cdf`` quantiles are the 0-based order
    statistics ``choice`` of n reports (and spread the same way for any other n)."""
    return [round((int(i) + 0.5) / n, 6) for i in choice]


def percentile_body(levels: list[float], per_profile: bool) -> str:
    """The body of a mechanism placing the facilities at the given quantile levels of the reports."""
    lv = ", ".join(repr(v) for v in levels)
    if per_profile:
        return f"return np.quantile(peaks, np.array([{lv}]), method='inverted_cdf')"
    return f"return np.quantile(peaks, np.array([{lv}]), axis=1, method='inverted_cdf').T"


# SP building blocks: weighted quantiles (generalised medians with public weights; exponent g
# on the weights moves between unweighted order statistics, g = 0, and weighted ones), order
# statistics, dictators and phantom clipping. Every number is a tunable literal.
VECTOR_GRAMMAR = Grammar(
    expressions=(
        "np.take_along_axis(np.sort(peaks, axis=1), np.minimum(np.sum(np.cumsum((weights ** 1.0)[np.argsort(peaks, axis=1)], axis=1)[:, :, None] < np.sum(weights ** 1.0) * (0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5))[None, None, :], axis=1), peaks.shape[1] - 1), axis=1)",
        "np.take_along_axis(np.sort(peaks, axis=1), np.minimum(np.sum(np.cumsum((weights ** 0.0)[np.argsort(peaks, axis=1)], axis=1)[:, :, None] < np.sum(weights ** 0.0) * (0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5))[None, None, :], axis=1), peaks.shape[1] - 1), axis=1)",
        "np.quantile(peaks, np.clip(0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5), 0.0, 1.0), axis=1, method='inverted_cdf').T",
        "np.quantile(peaks, 0.5, axis=1, keepdims=True, method='inverted_cdf')",
        "peaks[:, [int(np.argmax(weights))]]",
        "np.clip(peaks[:, [int(np.argmax(weights))]], 0.1, 0.9)",
        "(0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5))[None, :]",
    ),
    constants=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 2.0),
    statements=("s = np.sort(peaks, axis=1)",),
)
SINGLE_GRAMMAR = Grammar(
    expressions=(
        "np.sort(peaks)[np.minimum(np.sum(np.cumsum((weights ** 1.0)[np.argsort(peaks)])[:, None] < np.sum(weights ** 1.0) * (0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5))[None, :], axis=0), peaks.shape[0] - 1)]",
        "np.quantile(peaks, np.clip(0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5), 0.0, 1.0), method='inverted_cdf')",
        "np.full(K, peaks[int(np.argmax(weights))])",
        "0.5 + 1.0 * ((np.arange(K) + 0.5) / K - 0.5)",
    ),
    constants=VECTOR_GRAMMAR.constants,
)

TASK = (
    "Design a strategy-proof mechanism that places K facilities on [0, 1] for n agents with single-peaked "
    "preferences. Agent i reports a peak; its cost is the distance from its true peak to the nearest facility. "
    "The weights w_i are public. The goal is to minimise the expected weighted social cost "
    "sum_i w_i * cost_i / sum_i w_i over peaks drawn i.i.d. from {dist}. A mechanism is strategy-proof when no "
    "agent can lower its own cost by misreporting its peak. Fitness (lower is better): the social cost when the "
    "maximum regret (an agent's mean gain from its best sampled misreport) is at most {eps:g}, otherwise 1 + that "
    "regret. Generalised medians (order statistics or weighted quantiles of the reports, dictators, clipping to "
    "fixed points) are strategy-proof building blocks; setting n={n}, K={k}, weights {w}."
)


class FacilityProblem(Problem):
    """Place K facilities among n agents; fitness = paper eq. 2 (score = minus it)."""

    name = "facility_location"
    harness = "amdlib.problems.facility.harness:harness"
    #: Locations on truthful profiles only: the paired verdicts' large fresh samples.
    harnesses = {"locations": "amdlib.problems.facility.harness:locations"}
    # Prompts show the paper's fitness (eq. 2, lower is better), not the engine's score (its negative).
    fitness_sign = -1.0
    fitness_label = "Fitness (lower is better)"

    def __init__(
        self,
        n_agents: int = 5,
        n_facilities: int = 2,
        distribution: str = "uniform",
        weights: str | list = "fixed",
        epsilon: float = 0.0,
        n_train: int = 1000,
        n_test: int = 1000,
        n_misreports: int = 10,
        seed: int = 0,
        convention: str = "vectorized",
        timeout_s: float | None = None,
        seed_rule: str = "percentile",
    ) -> None:
        if distribution not in DISTRIBUTIONS:
            raise UserError(f"unknown distribution '{distribution}'; choose one of {', '.join(DISTRIBUTIONS)}")
        if convention not in SEEDS:
            raise UserError(f"unknown convention '{convention}'; choose vectorized or per_profile")
        if seed_rule not in SEED_RULES:
            raise UserError(f"unknown seed_rule '{seed_rule}'; choose one of {', '.join(SEED_RULES)}")
        self.seed_rule = seed_rule
        self.n, self.k, self.distribution = int(n_agents), int(n_facilities), distribution
        self.weights_spec = weights
        self.weights = resolve_weights(weights, self.n)
        self.epsilon, self.seed, self.convention = float(epsilon), int(seed), convention
        self.sizes = {"search": int(n_train), "holdout": int(n_test)}
        self.n_misreports = int(n_misreports)
        single = convention == "per_profile"
        self.function = FunctionSpec("mechanism", _source(SINGLE_DOC if single else VECTOR_DOC, "..."), ("numpy", "math"))
        self.grammar = SINGLE_GRAMMAR if single else VECTOR_GRAMMAR
        # Paper budgets: 60 s per evaluation, 180 s for n = 10 (per-profile code is slow).
        self.timeout_s = float(timeout_s) if timeout_s else (180.0 if self.n >= 10 else 60.0)
        w = ", ".join(f"{v:g}" for v in self.weights)
        self.task = TASK.format(dist=DISTRIBUTIONS[distribution], eps=self.epsilon, n=self.n, k=self.k, w=f"[{w}]")
        self._payloads: dict[str, Payload] = {}

    def profiles(self, split: str) -> Profiles:
        """Training profiles for ``search``/``train``, test profiles for ``holdout``/``test``."""
        name = {"search": "train", "holdout": "test"}.get(split, split)
        if name not in ("train", "test"):
            raise ValueError(f"unknown split {split!r}")
        size = self.sizes["search" if name == "train" else "holdout"]
        return make_profiles(self.distribution, self.n, size, self.n_misreports, self.seed, name)

    def payload(self, split: str) -> Payload:
        if split not in self._payloads:
            self._payloads[split] = payload_of(self.profiles(split), self.weights, self.k, self.convention == "per_profile")
        return self._payloads[split]

    @cached_property
    def _percentile_fit(self) -> Any:
        """The best percentile rule on the training profiles (brute force over C(n, K))."""
        return fit_percentile(self.profiles("search").peaks, self.weights, self.k)

    @cached_property
    def percentile_reference(self) -> float:
        """The best percentile rule's training cost, quoted in the diagnostics."""
        return self._percentile_fit.train_cost

    @cached_property
    def family_fits(self) -> dict[str, FittedMember]:
        """The best member of every SP family of the seed set on the training profiles
        (:func:`amdlib.problems.facility.sp.registry.fit_members`)."""
        from amdlib.problems.facility.sp.registry import fit_members

        return fit_members(self.profiles("search").peaks, self.weights, self.k, scale_free=self.seed_rule == "scale_free")

    @cached_property
    def approx_fits(self) -> dict[str, FittedMember]:
        """With ``seed_rule="approx"`` and epsilon > 0: the best member of each bounded-regret family
        (not strategy-proof) whose dense-audit regret bound on the training profiles is at most
        epsilon (:func:`amdlib.problems.facility.approx.fit.fit_all`); else none."""
        if self.seed_rule != "approx" or self.epsilon <= 0:
            return {}
        from amdlib.problems.facility.approx.fit import fit_all

        sp = min(self.family_fits.values(), key=lambda m: m.train_cost)
        fits = fit_all(self.profiles("search").peaks, self.weights, self.k, self.epsilon, sp)
        fits.pop("sp", None)
        return fits

    @property
    def seed_fits(self) -> dict[str, FittedMember]:
        """The fitted members the seed is chosen from: the SP families', and with
        ``seed_rule="approx"`` the bounded-regret families' within epsilon."""
        return {**self.family_fits, **self.approx_fits}

    @cached_property
    def seed_program(self) -> str:  # type: ignore[override]
        """The search's first program: with ``seed_rule="families"`` the best fitted member of the
        SP families (training profiles only), with ``"approx"`` the cheapest of those and the
        bounded-regret families' members within epsilon, with ``"percentile"`` the best percentile
        rule (as quantile levels), else facilities at 0.5."""
        single = self.convention == "per_profile"
        doc = SINGLE_DOC if single else VECTOR_DOC
        if self.seed_rule == "constant":
            return _source(doc, SEEDS[self.convention])
        if self.seed_rule in ("families", "scale_free", "approx"):
            best = min(self.seed_fits.values(), key=lambda m: m.train_cost)
            return _source(doc, best.spec.body())
        return _source(doc, percentile_body(percentile_levels(self._percentile_fit.choice, self.n), single))

    def score(self, outputs: Outputs, split: str) -> Evaluation:
        return score_outputs(outputs, self.payload(split), self.epsilon, self.percentile_reference)

    def signature(self, evaluation: Evaluation) -> tuple[float, ...]:
        m = evaluation.metrics
        return (round(m.get("social_cost", np.inf), 5), round(m.get("max_regret", np.inf), 5))

    def describe(self) -> dict[str, Any]:
        return {
            "problem": self.name,
            "n_agents": self.n,
            "n_facilities": self.k,
            "distribution": self.distribution,
            "distribution_definition": DISTRIBUTIONS[self.distribution],
            "weights": [float(v) for v in self.weights],
            "weights_spec": str(self.weights_spec),
            "epsilon": self.epsilon,
            "n_train": self.sizes["search"],
            "n_test": self.sizes["holdout"],
            "n_misreports": self.n_misreports,
            "convention": self.convention,
            "seed_rule": self.seed_rule,
        }
