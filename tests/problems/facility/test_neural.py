"""The batched training engine of MoulinNet and RegretNet: what it computes, what it keeps, and that the
sequential engine (the default) keeps its cache keys."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from amdlib.problems.facility import neural as nn_  # noqa: E402
from amdlib.problems.facility.audit import audit_mechanism  # noqa: E402
from amdlib.problems.facility.data import make_profiles, resolve_weights  # noqa: E402
from amdlib.problems.facility.evaluation import evaluate_mechanism  # noqa: E402


def _batch(n: int, restarts: int, size: int = 40, seed: int = 0):
    data = make_profiles("uniform", n, 200, 10, seed, "train")
    x_all = torch.as_tensor(data.peaks, dtype=torch.float32)
    mis_all = torch.as_tensor(data.misreports, dtype=torch.float32)
    idx = torch.stack([torch.randperm(200, generator=torch.Generator().manual_seed(r))[:size] for r in range(restarts)])
    return x_all[idx], mis_all[idx]


def _grads(kind: str, params: list, r: int) -> list:
    """Restart r's gradient slices in the order of the extracted network's parameters."""
    if kind == "moulinnet":
        return [params[0].grad[r], params[1].grad[r]]
    out = []
    for i in range(len(params) // 2):
        out += [params[2 * i].grad[r], params[2 * i + 1].grad[r, :, 0]]
    return out


@pytest.mark.parametrize("kind", ["moulinnet", "regretnet"])
def test_batched_loss_and_gradient_are_each_restarts_own(kind: str) -> None:
    n, k, restarts = 5, 2, 3
    w = resolve_weights("fixed", n)
    wn = torch.as_tensor(w / w.sum(), dtype=torch.float32)
    params = nn_._init(kind, n, k, [torch.Generator().manual_seed(10 + r) for r in range(restarts)])
    x, mis = _batch(n, restarts)
    lam = torch.tensor([0.0, 0.7, 3.0])
    social, worst = nn_.batched_terms(kind, params, x, mis, wn)
    loss = social + lam * worst + 1.0 * worst**2
    loss.sum().backward()
    if kind == "regretnet":
        assert (worst > 0).all()  # an untrained network is manipulable: the regret term is exercised
    for r in range(restarts):
        net = nn_.extract(kind, params, r)
        ref = nn_.reference_loss(kind, net, x[r], mis[r], wn, float(lam[r]), 1.0)
        assert float(loss[r].detach()) == pytest.approx(float(ref.detach()), rel=1e-5, abs=1e-7)
        ref.backward()
        for got, want in zip(_grads(kind, params, r), [p.grad for p in net.parameters()]):
            assert torch.allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_threaded_search_computes_the_same_gains() -> None:
    n, k = 4, 3
    params = nn_._init("regretnet", n, k, [torch.Generator().manual_seed(r) for r in range(5)])
    x, mis = _batch(n, 5)
    with torch.no_grad():
        loc = nn_._mlp(params, x.transpose(1, 2)).transpose(1, 2)
    alone = nn_._deviation_gains(params, x, mis, loc)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        shared = nn_._deviation_gains(params, x, mis, loc, nn_.Threads(pool, 2))
    assert torch.equal(alone, shared) and alone.shape == (5, n, 10, 40)


def _small(kind: str, epochs: int, restarts: int, lr: float | None = None) -> nn_.TrainConfig:
    return nn_.TrainConfig(epochs=epochs, restarts=restarts, batch=20, lr=lr or (0.1 if kind == "moulinnet" else 0.005),
                           engine="batched", threads=1)


@pytest.mark.parametrize("kind", ["moulinnet", "regretnet"])
def test_a_restart_trains_the_same_alone_or_beside_others(kind: str) -> None:
    data = make_profiles("uniform", 3, 60, 4, 1, "train")
    w = resolve_weights("none", 3)
    alone = nn_.train_batched(kind, data, w, 2, _small(kind, 3, 1))
    beside = nn_.train_batched(kind, data, w, 2, _small(kind, 3, 3))
    assert alone.restarts[0] == pytest.approx(beside.restarts[0], rel=1e-4, abs=1e-6)


def test_the_kept_restart_has_the_least_training_regret() -> None:
    data = make_profiles("uniform", 3, 60, 4, 2, "train")
    w = resolve_weights("none", 3)
    run = nn_.train_batched("regretnet", data, w, 2, _small("regretnet", 2, 4))
    regrets = [g for _, g in run.restarts]
    assert len(set(regrets)) > 1  # the choice is not a formality
    assert run.kept == min(range(4), key=lambda r: (run.restarts[r][1], run.restarts[r][0], r))
    # The recorded cost and regret are the kept network's, as the shared scorer measures them.
    metrics = evaluate_mechanism(nn_.as_mechanism_f64(run.net), data, w, 2).metrics
    assert metrics["max_regret"] == pytest.approx(run.regret, rel=1e-3, abs=1e-6)
    assert metrics["social_cost"] == pytest.approx(run.cost, rel=1e-4)


def test_batched_moulinnet_stays_exactly_strategyproof(tmp_path) -> None:
    data = make_profiles("beta1", 5, 100, 4, 0, "train")
    w = resolve_weights("fixed", 5)
    t = nn_.train("moulinnet", data, w, 3, _small("moulinnet", 4, 2), tmp_path)
    audit = audit_mechanism(t.fn, data.peaks[:30], w, 3, 101)
    assert audit["strategyproof_on_grid"] and audit["max_regret"] == 0.0 and t.train_regret == 0.0
    again = nn_.train("moulinnet", data, w, 3, _small("moulinnet", 4, 2), tmp_path)
    assert again.cached and np.array_equal(again.fn(data.peaks, w, 3), t.fn(data.peaks, w, 3))


@pytest.mark.parametrize("kind", ["moulinnet", "regretnet"])
def test_a_short_training_reduces_the_cost(kind: str) -> None:
    data = make_profiles("uniform", 5, 200, 10, 0, "train")
    w = resolve_weights("fixed", 5)
    untrained = nn_.train_batched(kind, data, w, 2, _small(kind, 1, 2, lr=1e-7))
    trained = nn_.train_batched(kind, data, w, 2, _small(kind, 15, 2))
    assert trained.cost < 0.8 * untrained.cost


def test_the_sequential_engine_keeps_its_cache_key_and_record() -> None:
    cfg = nn_.TrainConfig(epochs=3, restarts=2, lr=0.005, seed=4)
    assert cfg.engine == "sequential"
    record = nn_._config_record(cfg)
    assert record == {"epochs": 3, "restarts": 2, "batch": 50, "lr": 0.005, "seed": 4, "rho": 1.0, "lagrange_every": 50,
                      "decay_every": 100, "decay": 0.99}
    batched = nn_._config_record(nn_.TrainConfig(engine="batched"))
    assert batched["engine"] == "batched"
    with pytest.raises(ValueError, match="engine"):
        nn_.train("moulinnet", make_profiles("uniform", 3, 10, 2, 0, "train"), np.ones(3), 1, nn_.TrainConfig(engine="gpu"))


def test_run_params_choose_the_engine() -> None:
    from amdlib.problems.facility.epsilon import neural_config

    params = {"moulin_epochs": 2, "moulin_restarts": 1, "regretnet_epochs": 3, "regretnet_restarts": 2, "seed": 5}
    # Without neural_engine (every run so far): exactly the settings runs have always trained with.
    assert neural_config("moulinnet", params) == nn_.TrainConfig(epochs=2, restarts=1, lr=0.1, seed=5)
    assert neural_config("regretnet", params) == nn_.TrainConfig(epochs=3, restarts=2, lr=0.005, seed=5)
    batched = neural_config("regretnet", {**params, "neural_engine": "batched"})
    assert batched == nn_.paper_config("regretnet", 5, 3, 2)
    assert (batched.engine, batched.decay_unit, batched.checkpoint_every) == ("batched", "epoch", 20)
    with pytest.raises(ValueError, match="neural_engine"):
        neural_config("moulinnet", {**params, "neural_engine": "gpu"})


def test_each_restart_keeps_its_cheapest_checkpoint_within_the_regret_threshold() -> None:
    data = make_profiles("uniform", 3, 100, 4, 3, "train")
    w = resolve_weights("none", 3)

    def run_with(threshold: float) -> tuple[nn_.BatchedRun, list[dict]]:
        seen: list[dict] = []
        cfg = nn_.TrainConfig(epochs=6, restarts=3, batch=20, lr=0.01, engine="batched", threads=1, checkpoint_every=1,
                              checkpoint_regret=threshold)
        return nn_.train_batched("regretnet", data, w, 2, cfg, lambda epoch, rec: seen.append(rec)), seen

    _, first = run_with(1.0)  # checkpoints never change the training itself: pick a threshold that bites
    threshold = float(np.median([g for rec in first for g in rec["batch_regret"]]))
    run, seen = run_with(threshold)
    assert len(seen) == 6 and [rec["train_cost"] for rec in seen] == [rec["train_cost"] for rec in first]
    for r in range(3):
        # The authors' rule: every 20-profile batch below the threshold (the worst batch bounds the whole set).
        assert all(rec["batch_regret"][r] >= rec["train_regret"][r] for rec in seen)
        ok = [rec["train_cost"][r] for rec in seen if rec["batch_regret"][r] < threshold]
        want = min(ok) if ok else seen[-1]["train_cost"][r]
        assert run.restarts[r][0] == pytest.approx(want, rel=1e-6)


def test_threads_change_the_speed_not_the_result() -> None:
    data = make_profiles("uniform", 3, 60, 4, 4, "train")
    w = resolve_weights("none", 3)
    cfg = _small("regretnet", 2, 3)
    one = nn_.train_batched("regretnet", data, w, 2, cfg)
    two = nn_.train_batched("regretnet", data, w, 2, replace(cfg, threads=2))
    assert one.restarts == two.restarts and all(torch.equal(a, b) for a, b in zip(one.params, two.params))
