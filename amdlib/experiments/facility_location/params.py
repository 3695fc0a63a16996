"""Experiment 4's declared parameters and the check that refuses a contradictory pair of them.

A leaf module (it imports only the contract and the Table-1 grid), so the record and the run's code
both use it.
"""

from __future__ import annotations

from typing import Any, Mapping

from amdlib.core.experiment import Param, search_params
from amdlib.experiments.facility_location.grid import PAPER_EPSILON, TABLE1_GRID

#: Where a run's epsilon comes from (see the ``epsilon_source`` parameter).
EPSILON_SOURCES = ("value", "regretnet", "paper-llmmech", "paper-llmmech-e")

PARAMS: dict[str, Param] = {
    **search_params(method="eoh", max_evaluations=120, pop_size=8, fit_constants=True, fit_budget=30),
    "restarts": Param(int, 1, "independent searches per setting (search seeds seed + 7919 r); the reported one is "
                      "chosen on the training profiles only (the paper ran 3)", min=1, max=20),
    "n_agents": Param(int, 5, "number of agents n (any n >= 2; the paper uses 5 and 10)", min=2, max=50),
    "n_facilities": Param(int, 2, "number of facilities K", min=1, max=6),
    "distribution": Param(str, "uniform", "peak distribution", choices=("uniform", "normal", "beta1", "beta2")),
    "weights": Param(str, "fixed", "agent weights: fixed (Table 1), none, 1..10 (Table S5 set) or a list '5,1,1,1,1'"),
    "epsilon": Param(float, 0.0, "regret threshold of the fitness (paper eq. 2); 0 = strict", min=0.0, max=1.0),
    "epsilon_source": Param(str, "value", "where epsilon comes from: 'value' = the epsilon parameter; 'regretnet' = "
                            "the max regret of this run's trained RegretNet on the training profiles (the paper's "
                            "protocol); 'paper-llmmech' / 'paper-llmmech-e' = the max regret LLMMech's Table 1 prints "
                            "for its LLMMech / LLMMech-e mechanism in this cell (matched regret; Table-1 cells only). "
                            "Epsilon must then stay 0; the table1_grid and weight-set side studies keep epsilon 0",
                            choices=EPSILON_SOURCES),
    "n_train": Param(int, 1000, "training profiles (the search's set)", min=10, max=100_000),
    "n_test": Param(int, 1000, "test profiles (everything reported)", min=10, max=100_000),
    "n_misreports": Param(int, 10, "sampled misreports per profile and agent", min=1, max=100),
    "convention": Param(str, "vectorized", "candidate call convention", choices=("vectorized", "per_profile")),
    "seed_rule": Param(str, "families", "the search's seed program: the best fitted member of the SP families "
                       "(weighted quantiles, phantoms, dictators and their compositions, fitted on the training profiles), "
                       "'approx': the cheapest of those and of the bounded-regret families (the paper's Figure 2 rule, "
                       "counted anchors, vote switches to the k-median) whose dense-audit regret bound on the training "
                       "profiles is within epsilon (minutes a run; the same as 'families' at epsilon 0), "
                       "the best percentile rule, or the constant rule 'all facilities at 0.5'",
                       choices=("families", "approx", "percentile", "constant")),
    "verdict_profiles": Param(int, 100_000, "fresh profiles of the paired better/tie/worse verdicts against the SP "
                              "baselines (same profiles for both sides)", min=100, max=10_000_000),
    "neural": Param(bool, True, "train MoulinNet and RegretNet (PyTorch, CPU)"),
    "moulin_epochs": Param(int, 2, "MoulinNet epochs (paper: 1000)", min=1, max=100_000),
    "moulin_restarts": Param(int, 1, "MoulinNet random restarts (paper: 10)", min=1, max=100),
    "regretnet_epochs": Param(int, 1, "RegretNet epochs (paper: 1000)", min=1, max=100_000),
    "regretnet_restarts": Param(int, 1, "RegretNet random restarts (paper: 10)", min=1, max=100),
    "neural_engine": Param(str, "sequential", "how MoulinNet and RegretNet train: 'sequential' (one restart at a time, "
                           "tanh RegretNet; small budgets) or 'batched' (all restarts as one model with the paper's "
                           "settings: ReLU RegretNet, lr decay per 100 epochs, 20-epoch checkpoints under regret 0.003; "
                           "the paper's 1000 x 10 in minutes)", choices=("sequential", "batched")),
    "regretnet_train": Param(int, 1000, "RegretNet training profiles (paper: 1000; 'RegretNet@25k': 25000)", min=10, max=100_000),
    "audit_profiles": Param(int, 200, "test profiles in the dense SP audit", min=1, max=100_000),
    "audit_grid": Param(int, 101, "misreport grid points on [0, 1] in the dense SP audit", min=2, max=10_001),
    "overview": Param(bool, True, "also fit the non-neural baselines for every distribution and K (this n and weights)"),
    "weight_sets": Param(bool, True, "re-score the learned code and baselines on the ten Table S5 weight sets (n = 5, 10)"),
    "table1_grid": Param(bool, False, "also run this search in all 32 Table-1 settings (fixed weights) and list each "
                         "one's outcome against the best percentile rule (offline default: about 5 min on 2 cores)"),
}


def check_epsilon(params: Mapping[str, Any]) -> str | None:
    """An epsilon source other than ``value`` sets epsilon, so an epsilon set as well contradicts it;
    the matched-regret sources read Table 1, so they need one of its cells."""
    source = params["epsilon_source"]
    if source != "value" and float(params["epsilon"]) != 0.0:
        verb = "measures" if source == "regretnet" else "sets"
        return (f"epsilon_source: {source} {verb} epsilon, but epsilon is set to {params['epsilon']:g}: "
                "set epsilon to 0 or epsilon_source to value")
    if source in PAPER_EPSILON:
        cell = (params["n_agents"], params["n_facilities"], params["distribution"])
        if params["weights"] != "fixed" or cell not in TABLE1_GRID:
            return (f"epsilon_source: {source} reads the regret LLMMech's Table 1 prints, which exists only in its "
                    f"cells (weights fixed, n 5 or 10, K 1-4), not n={cell[0]} K={cell[1]} {cell[2]} "
                    f"weights={params['weights']}: use epsilon_source value or regretnet")
    return None


__all__ = ["PARAMS", "EPSILON_SOURCES", "check_epsilon"]
