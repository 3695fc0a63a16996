"""The regret threshold epsilon of the fitness (paper eq. 2), taken from a trained RegretNet.

LLMMech (App. E) sets epsilon to "the max regret returned by RegretNet during training (the
lowest one across different parameter initializations)". Here that is the max regret of the
trained RegretNet (the restart with the least training regret, :func:`neural.train`) on the
search's training profiles and their sampled misreports, measured by the same scorer that
gives every candidate its eq. 2 fitness, so the threshold and the regrets it is compared
with are one quantity. The dense-grid audit of the network (training profiles) is recorded
beside it: it shows how far the sampled misreports understate the network's manipulability.
Imports torch (through ``neural``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from amdlib.problems.facility.audit import audit_mechanism
from amdlib.problems.facility.data import Profiles, make_profiles
from amdlib.problems.facility.evaluation import evaluate_mechanism
from amdlib.problems.facility.neural import TrainConfig, paper_config, train

#: Training engines a run can ask for (``neural_engine``): the original one-restart-at-a-time loop, or
#: all restarts as one batched model with the paper's settings (neural.paper_config).
NEURAL_ENGINES = ("sequential", "batched")


def neural_config(kind: str, params: Mapping[str, Any]) -> TrainConfig:
    """``moulinnet``'s or ``regretnet``'s training settings from a run's params (epochs, restarts, seed
    and ``neural_engine``; without that key, "sequential": the settings runs have always had)."""
    prefix = "moulin" if kind == "moulinnet" else "regretnet"
    epochs, restarts, seed = params[f"{prefix}_epochs"], params[f"{prefix}_restarts"], params["seed"]
    engine = params.get("neural_engine", "sequential")
    if engine not in NEURAL_ENGINES:
        raise ValueError(f"neural_engine '{engine}': choose one of {', '.join(NEURAL_ENGINES)}")
    if engine == "batched":
        return paper_config(kind, seed, epochs, restarts)
    return TrainConfig(epochs=epochs, restarts=restarts, lr=0.1 if kind == "moulinnet" else 0.005, seed=seed)


def regretnet_setup(problem: Any, params: Mapping[str, Any]) -> tuple[TrainConfig, Profiles]:
    """RegretNet's training settings and profiles (``regretnet_train`` of them) from a run's params:
    one definition for the baseline and the epsilon, so both use the same (cached) network."""
    cfg = neural_config("regretnet", params)
    data = problem.profiles("train")
    if params["regretnet_train"] != data.size:
        data = make_profiles(problem.distribution, problem.n, params["regretnet_train"], problem.n_misreports,
                             problem.seed, "train")
    return cfg, data


#: Where epsilon comes from: the ``epsilon`` parameter as given, or the trained RegretNet.
EPSILON_SOURCES = ("value", "regretnet")


def regretnet_epsilon(problem: Any, cfg: TrainConfig, data: Profiles, cache_dir: str | Path | None = None,
                      audit_profiles: int = 200, audit_grid: int = 101) -> dict[str, Any]:
    """Train (or load from ``cache_dir``) RegretNet on ``data`` and measure its max regret on the
    problem's training profiles: that is the epsilon. ``problem`` is a FacilityProblem.

    Returns a JSON-able record: ``epsilon``, how it was measured, the network's training-loop
    regret and cost, its dense-audit regret on ``audit_profiles`` training profiles, and the
    training settings.
    """
    net = train("regretnet", data, problem.weights, problem.k, cfg, cache_dir)
    search = problem.profiles("search")
    ev = evaluate_mechanism(net.fn, search, problem.weights, problem.k)
    audit = audit_mechanism(net.fn, search.peaks[:audit_profiles], problem.weights, problem.k, audit_grid)
    return {
        "source": "regretnet",
        "epsilon": float(ev.metrics["max_regret"]),
        "measured_on": f"RegretNet's max regret on the {search.size} training profiles x "
                       f"{problem.n_misreports} sampled misreports (paper eq. 2's regret)",
        "regretnet_train_social_cost": float(ev.metrics["social_cost"]),
        "regretnet_training_regret": float(net.train_regret),
        "regretnet_dense_audit_max_regret": float(audit["max_regret"]),
        "dense_audit_profiles": int(audit["profiles"]),
        "epochs": cfg.epochs,
        "restarts": cfg.restarts,
        "lr": cfg.lr,
        "train_profiles": int(data.size),
        "cached": bool(net.cached),
        **({"engine": cfg.engine} if cfg.engine != "sequential" else {}),  # records of the default stay as they were
    }
