"""MoulinNet and RegretNet (Golowich, Narasimhan & Parkes 2018) in PyTorch, on CPU.

MoulinNet: each facility is a generalised median f(x) = min over agent sets S of
max(max_{i in S} x_i, h(S)), with h a monotone (non-increasing) min-max network of
S's indicator (L groups of J linear units with non-positive weights), so every
facility, and hence the mechanism, is exactly strategy-proof. RegretNet: an MLP
(4 x 40) trained with an augmented Lagrangian on the regret from the sampled
misreports (per-agent multipliers updated every 50 steps, rho fixed).

Trained networks become plain numpy-in/numpy-out mechanisms for the shared scorer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from amdlib.problems.facility.data import Profiles


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the paper's are epochs=1000, restarts=10, batch 50 (lr per model)."""

    epochs: int = 20
    restarts: int = 1
    batch: int = 50
    lr: float = 0.1
    seed: int = 0
    rho: float = 1.0
    lagrange_every: int = 50
    decay_every: int = 100
    decay: float = 0.99


class MoulinNet(nn.Module):
    """K independent generalised-median facilities with monotone min-max set functions."""

    def __init__(self, n: int, k: int, groups: int = 3, units: int = 3) -> None:
        super().__init__()
        self.n, self.k = n, k
        self.raw_w = nn.Parameter(torch.rand(k, groups, units, n) * 0.5)  # weights = -|raw_w| <= 0
        self.bias = nn.Parameter(torch.rand(k, groups, units))

    def h(self, sets: torch.Tensor) -> torch.Tensor:
        """Monotone non-increasing set function, (..., n) indicators -> (..., K)."""
        lin = torch.einsum("...n,kgun->...kgu", sets, -self.raw_w.abs()) + self.bias
        return lin.max(dim=-1).values.min(dim=-1).values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sorted_x, order = torch.sort(x, dim=1)
        ranks = torch.argsort(order, dim=1)
        # S_j = agents among the j+1 smallest reports; only these sets can be the minimiser.
        sets = (ranks[:, None, :] <= torch.arange(self.n)[None, :, None]).to(x.dtype)  # (B, n, n)
        h_sets = self.h(sets)  # (B, n, K)
        cand = torch.maximum(sorted_x[:, :, None], h_sets).min(dim=1).values  # (B, K)
        empty = self.h(torch.zeros(1, self.n, dtype=x.dtype))  # S = {} : h(0)
        return torch.minimum(cand, empty)


class RegretNet(nn.Module):
    """An MLP from the n reports to K locations in [0, 1] (4 hidden layers of 40 units)."""

    def __init__(self, n: int, k: int, hidden: int = 40, layers: int = 4) -> None:
        super().__init__()
        dims = [n] + [hidden] * layers
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            mods += [nn.Linear(a, b), nn.Tanh()]
        self.body = nn.Sequential(*mods, nn.Linear(dims[-1], k), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _social(x: torch.Tensor, loc: torch.Tensor, wn: torch.Tensor) -> torch.Tensor:
    return ((x[:, :, None] - loc[:, None, :]).abs().min(dim=2).values @ wn).mean()


def _regret(net: nn.Module, x: torch.Tensor, mis: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
    """Per-agent mean regret over the batch from the sampled misreports, shape (n,)."""
    b, m, n = mis.shape
    dev = x[None, None].expand(n, m, b, n).clone()
    agents = torch.arange(n)
    dev[agents, :, :, agents] = mis.permute(2, 1, 0)
    dev_loc = net(dev.reshape(-1, n)).reshape(n, m, b, -1)
    truthful = (x.T[:, :, None] - loc[None]).abs().min(dim=2).values  # (n, B)
    dev_cost = (x.T[:, None, :, None] - dev_loc).abs().min(dim=3).values  # (n, M, B)
    return torch.relu(truthful[:, None, :] - dev_cost).max(dim=1).values.mean(dim=1)


def _train_once(kind: str, data: Profiles, weights: np.ndarray, k: int, cfg: TrainConfig, restart: int) -> tuple[nn.Module, float, float]:
    gen = torch.Generator().manual_seed(cfg.seed * 1009 + restart)
    torch.manual_seed(cfg.seed * 1009 + restart)
    n = data.peaks.shape[1]
    net: nn.Module = MoulinNet(n, k) if kind == "moulinnet" else RegretNet(n, k)
    x_all = torch.as_tensor(data.peaks, dtype=torch.float32)
    mis_all = torch.as_tensor(data.misreports, dtype=torch.float32)
    wn = torch.as_tensor(weights / weights.sum(), dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, cfg.decay_every, cfg.decay) if kind == "regretnet" else None
    lam = torch.zeros(n)
    step = 0
    for _ in range(cfg.epochs):
        for idx in torch.randperm(x_all.shape[0], generator=gen).split(cfg.batch):
            x = x_all[idx]
            loc = net(x)
            loss = _social(x, loc, wn)
            if kind == "regretnet":
                rgt = _regret(net, x, mis_all[idx], loc)
                loss = loss + (lam * rgt).sum() + 0.5 * cfg.rho * (rgt**2).sum()
                if (step + 1) % cfg.lagrange_every == 0:
                    lam = lam + cfg.rho * rgt.detach()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
    with torch.no_grad():
        loc = net(x_all)
        cost = float(_social(x_all, loc, wn))
        rgt = float(_regret(net, x_all, mis_all, loc).max()) if kind == "regretnet" else 0.0
    return net, cost, rgt


def as_mechanism(net: nn.Module) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """A trained network as a numpy mechanism ``fn(peaks, weights, K) -> (B, K)``."""

    def fn(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(peaks, dtype=torch.float32)).double().numpy()

    return fn


@dataclass
class Trained:
    """A trained baseline: mechanism, training cost and regret, settings, cache file."""

    kind: str
    fn: Callable
    train_cost: float
    train_regret: float
    config: dict
    cached: bool
    path: str


def train(kind: str, data: Profiles, weights: np.ndarray, k: int, cfg: TrainConfig, cache_dir: str | Path | None = None) -> Trained:
    """Train ``moulinnet`` or ``regretnet`` with restarts, keep the run with the least training
    regret (ties: least training cost), and cache its weights under ``cache_dir``."""
    n = data.peaks.shape[1]
    key = json.dumps({"kind": kind, "cfg": asdict(cfg), "k": k, "w": weights.tolist(), "shape": data.peaks.shape,
                      "data": hashlib.sha256(data.peaks.tobytes()).hexdigest()[:16]}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{kind}-n{n}-k{k}-{digest}.pt" if cache_dir else None
    net: nn.Module = MoulinNet(n, k) if kind == "moulinnet" else RegretNet(n, k)
    if path is not None and path.is_file():
        saved = torch.load(path, weights_only=True)
        net.load_state_dict(saved["state"])
        return Trained(kind, as_mechanism(net.eval()), float(saved["cost"]), float(saved["regret"]), asdict(cfg), True, str(path))
    best = None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: extra threads only contend on a shared machine
    try:
        for restart in range(cfg.restarts):
            cand = _train_once(kind, data, weights, k, cfg, restart)
            if best is None or (cand[2], cand[1]) < (best[2], best[1]):
                best = cand
    finally:
        torch.set_num_threads(threads)
    net, cost, rgt = best
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state": net.state_dict(), "cost": cost, "regret": rgt, "key": key}, path)
    return Trained(kind, as_mechanism(net.eval()), cost, rgt, asdict(cfg), False, str(path) if path else "")
