"""MoulinNet and RegretNet (Golowich, Narasimhan & Parkes 2018) in PyTorch, on CPU.

MoulinNet: each facility is a generalised median f(x) = min over agent sets S of
max(max_{i in S} x_i, h(S)), with h a monotone (non-increasing) min-max network of
S's indicator (L groups of J linear units with non-positive weights), so every
facility, and hence the mechanism, is exactly strategy-proof. RegretNet: an MLP
(4 x 40) trained with an augmented Lagrangian on the regret from the sampled misreports.

Two training engines (``TrainConfig.engine``). "sequential" (the default): one restart at a
time, RegretNet with tanh layers and a sigmoid output, per-agent multipliers updated every 50
steps. "batched" (:func:`train_batched`, settings in :func:`paper_config`): all restarts as one
batched model, RegretNet as the LLMMech authors' code builds and trains it, fast enough for the
paper's 1000 epochs x 10 restarts in minutes.

Trained networks become plain numpy-in/numpy-out mechanisms for the shared scorer.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
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
    #: "sequential": the original loop (one restart at a time, RegretNet with tanh/sigmoid and per-agent
    #: multipliers); "batched": every restart in one batched model, RegretNet as the LLMMech authors' code
    #: builds and trains it (see :func:`train_batched`). New fields leave the cache key of "sequential" as it was.
    engine: str = "sequential"
    #: batched engine: the learning-rate step decay counts "step"s (optimiser steps) or "epoch"s
    decay_unit: str = "step"
    #: batched engine: torch threads while training (0: keep torch's setting)
    threads: int = 0
    #: batched engine: every this many epochs score each restart on the training set and keep its weights
    #: with the least training cost among those whose every ``batch``-profile slice of the training set
    #: has max regret below ``checkpoint_regret`` (the authors' code: every 20 epochs, 0.003); 0 keeps
    #: the last weights
    checkpoint_every: int = 0
    checkpoint_regret: float = 0.003


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


# --- The batched engine (TrainConfig(engine="batched")) ---------------------------------------------
# Every restart is one slice of stacked parameters (leading restart dimension R), trained in one loop
# with batched matmuls; the restarts' losses are summed, so each slice gets its own restart's gradient
# and Adam (elementwise) updates it exactly as a separate optimiser would. RegretNet follows the LLMMech
# authors' code (a reimplementation of Golowich et al.): ReLU hidden layers, a linear output, weights
# N(0, 0.1^2) and biases 0.1; loss = cost + lambda * R + rho * R^2 with R the largest agent's mean
# regret on the batch, and every `lagrange_every` steps lambda += rho * (the largest R seen this epoch).

#: RegretNet's initialisation in the authors' code: weights N(0, INIT_STD^2), biases INIT_BIAS.
INIT_STD, INIT_BIAS = 0.1, 0.1
#: Profiles per chunk when scoring the whole training set (bounds memory at 25k profiles).
EVAL_CHUNK = 500


class PaperRegretNet(nn.Module):
    """RegretNet as the batched engine trains it: 4 x 40 ReLU layers and a linear output layer."""

    def __init__(self, n: int, k: int, hidden: int = 40, layers: int = 4) -> None:
        super().__init__()
        dims = [n] + [hidden] * layers + [k]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin in self.linears[:-1]:
            x = torch.relu(lin(x))
        return self.linears[-1](x)


def _nearest(peaks: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
    """Each agent's distance to its nearest facility: peaks (..., n), loc (..., K) -> (..., n)."""
    return (peaks[..., :, None] - loc[..., None, :]).abs().amin(dim=-1)


def _mlp(params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    """Stacked MLP on columns: params [W0 (R, b, a), b0 (R, b, 1), W1, b1, ...] (nn.Linear's layout),
    h (R, a, N) -> (R, K, N). Columns, not rows: MKL runs these thin products faster this way."""
    last = len(params) // 2 - 1
    for i in range(last + 1):
        h = torch.baddbmm(params[2 * i + 1], params[2 * i], h)
        if i < last:
            h = torch.relu(h)
    return h


def _moulin(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Stacked MoulinNet, params [raw_w (R, K, L, J, n), bias (R, K, L, J)], x (R, B, n) -> (R, B, K).

    The same mechanism as :class:`MoulinNet`: the linear units of the prefix set S_t (the t+1 smallest
    reports) are the bias plus a running sum of the agents' weights in report order."""
    raw_w, bias = params
    r, k, g, u, n = raw_w.shape
    b = x.shape[1]
    sorted_x, order = torch.sort(x, dim=2)
    w = (-raw_w.abs()).reshape(r, k * g * u, n).transpose(1, 2).reshape(r * n, k * g * u)
    rows = (order + (torch.arange(r) * n)[:, None, None]).reshape(-1)
    lin = w.index_select(0, rows).reshape(r, b, n, k * g * u).cumsum(dim=2) + bias.reshape(r, 1, 1, -1)
    h = lin.reshape(r, b, n, k, g, u).max(dim=-1).values.min(dim=-1).values  # (R, B, n, K)
    cand = torch.maximum(sorted_x[..., None], h).min(dim=2).values
    empty = bias.max(dim=-1).values.min(dim=-1).values  # h of the empty set, (R, K)
    return torch.minimum(cand, empty[:, None, :])


def _gains_one(params: list[torch.Tensor], xt: torch.Tensor, mis: torch.Tensor, work: dict) -> torch.Tensor:
    """Deviation costs of a slice of restarts, no gradients: xt (r, n, B) truthful reports as columns,
    mis (r, B, M, n) -> each agent's cost at its true peak when it alone reports each misreport,
    (r, n, M, B). The n*M*B deviation profiles are the columns of one (r, H, n*M*B) block: agent i's
    deviation moves input i only, so its first layer is the truthful one plus W0[:, i] * (misreport - x_i);
    the later layers run in two reused buffers from ``work`` (bias and ReLU in place)."""
    r, b, m, n = mis.shape
    hidden, k = params[0].shape[1], params[-1].shape[1]
    cols = n * m * b
    key = (r, n, m, b, hidden, k)
    if work.get("key") != key:
        work.update(key=key, h=(torch.empty(r, hidden, cols), torch.empty(r, hidden, cols)), out=torch.empty(r, k, cols))
    (h, spare), out = work["h"], work["out"]
    z = torch.baddbmm(params[1], params[0], xt)  # (r, H, B): the truthful first layer
    delta = mis.permute(0, 3, 2, 1) - xt[:, :, None, :]  # (r, n, M, B)
    h5 = h.view(r, hidden, n, m, b)
    torch.mul(params[0][:, :, :, None, None], delta[:, None], out=h5)
    h5.add_(z[:, :, None, None, :]).relu_()
    last = len(params) // 2 - 1
    for i in range(1, last):
        torch.bmm(params[2 * i], h, out=spare).add_(params[2 * i + 1]).relu_()
        h, spare = spare, h
    torch.bmm(params[2 * last], h, out=out).add_(params[2 * last + 1])
    return (xt[:, None, :, None, :] - out.view(r, k, n, m, b)).abs_().amin(dim=1)


_WORK = threading.local()  # each thread's deviation-search buffers


@dataclass(frozen=True)
class Threads:
    """Threads that share the restarts of the deviation search."""

    pool: ThreadPoolExecutor
    count: int


def _deviation_gains(params: list[torch.Tensor], x: torch.Tensor, mis: torch.Tensor, loc: torch.Tensor,
                     pool: Threads | None = None) -> torch.Tensor:
    """Every sampled misreport's gain, (R, n, M, B), without gradients: x (R, B, n), mis (R, B, M, n),
    loc (R, B, K) the truthful locations. One restart at a time, so each block stays in cache; with a
    ``pool`` its threads share the restarts (torch releases the GIL inside each operation)."""
    xt = x.transpose(1, 2)  # (R, n, B)

    def block(lo: int, hi: int) -> torch.Tensor:
        if not hasattr(_WORK, "buffers"):
            _WORK.buffers = {}
        with torch.no_grad():
            return torch.cat([_gains_one([p[r:r + 1] for p in params], xt[r:r + 1], mis[r:r + 1], _WORK.buffers)
                              for r in range(lo, hi)])

    r = x.shape[0]
    workers = min(pool.count, r) if pool is not None else 1
    if workers > 1:
        cuts = [r * i // workers for i in range(workers + 1)]
        jobs = [pool.pool.submit(block, lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:])]
        dev_cost = torch.cat([job.result() for job in jobs])
    else:
        dev_cost = block(0, r)
    with torch.no_grad():
        return _nearest(x, loc).transpose(1, 2)[:, :, None, :] - dev_cost


def _regretnet_terms(params: list[torch.Tensor], x: torch.Tensor, mis: torch.Tensor,
                     pool: Threads | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Truthful locations (R, B, K) and the largest agent's mean regret (R,), with gradients.

    The regret max(0, max_j gain_j) has the value and the gradient of its best misreport's gain,
    and the largest agent's mean regret those of that agent's: so all n*M deviations run forward
    without gradients, and only the worst agent's best deviation on each profile runs again with
    them (B of every n*M*B rows). Same loss, same gradient (up to exact ties)."""
    r, b, n = x.shape
    loc = _mlp(params, x.transpose(1, 2)).transpose(1, 2)
    gains = _deviation_gains(params, x, mis, loc.detach(), pool)
    best = gains.argmax(dim=2, keepdim=True)  # (R, n, 1, B)
    agent = gains.gather(2, best)[:, :, 0, :].clamp_min(0.0).mean(dim=2).argmax(dim=1)  # (R,) the worst agent
    rows = torch.arange(r)
    chosen = mis.permute(0, 3, 2, 1)[rows, agent].gather(1, best[rows, agent])[:, 0, :]  # (R, B)
    own = x[rows, :, agent]  # (R, B): the worst agent's true peaks
    dev = x.clone()
    dev[rows, :, agent] = chosen
    dev_loc = _mlp(params, dev.transpose(1, 2))  # (R, K, B)
    dev_cost = (own[:, None, :] - dev_loc).abs().amin(dim=1)
    truthful = (own[:, :, None] - loc).abs().amin(dim=2)
    return loc, torch.relu(truthful - dev_cost).mean(dim=1)


def _init(kind: str, n: int, k: int, gens: list[torch.Generator]) -> list[torch.Tensor]:
    """Stacked initial parameters, restart r drawn from its own generator ``gens[r]``."""
    if kind == "moulinnet":  # as MoulinNet: raw weights U[0, 0.5) (weights -|raw| <= 0), biases U[0, 1)
        shape = (k, 3, 3)
        raw = torch.stack([torch.rand(*shape, n, generator=g) * 0.5 for g in gens])
        bias = torch.stack([torch.rand(*shape, generator=g) for g in gens])
        return [raw.requires_grad_(), bias.requires_grad_()]
    dims = [n] + [40] * 4 + [k]
    params = []
    for a, c in zip(dims[:-1], dims[1:]):
        params.append(torch.stack([torch.randn(c, a, generator=g) * INIT_STD for g in gens]).requires_grad_())
        params.append(torch.full((len(gens), c, 1), INIT_BIAS).requires_grad_())
    return params


def batched_terms(kind: str, params: list[torch.Tensor], x: torch.Tensor, mis: torch.Tensor | None,
                  wn: torch.Tensor, pool: Threads | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Each restart's mean social cost on its batch and its largest agent's mean regret (sampled
    misreports; 0 for MoulinNet), (R,) each, with gradients. ``x`` (R, B, n), ``mis`` (R, B, M, n).
    A restart's loss is ``social + lam * worst + rho * worst ** 2``."""
    if kind == "moulinnet":
        social = (_nearest(x, _moulin(params, x)) @ wn).mean(dim=1)
        return social, torch.zeros_like(social)
    loc, worst = _regretnet_terms(params, x, mis, pool)
    return (_nearest(x, loc) @ wn).mean(dim=1), worst


def reference_loss(kind: str, net: nn.Module, x: torch.Tensor, mis: torch.Tensor, wn: torch.Tensor, lam: float,
                   rho: float) -> torch.Tensor:
    """One restart's loss computed one network at a time, every deviation with gradients (the
    definition :func:`batched_terms` must agree with). ``x`` (B, n), ``mis`` (B, M, n)."""
    loc = net(x)
    social = _social(x, loc, wn)
    if kind == "moulinnet":
        return social
    worst = _regret(net, x, mis, loc).max()
    return social + lam * worst + rho * worst**2


def _evaluate(kind: str, params: list[torch.Tensor], x_all: torch.Tensor, mis_all: torch.Tensor, wn: torch.Tensor,
              pool: Threads | None = None, batch: int = 50) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every restart's mean social cost and max regret (sampled misreports) on the whole set, and the
    largest max regret of its consecutive ``batch``-profile slices (the authors' validation runs in
    batches and asks every batch to stay below the threshold), (R,) each."""
    r = params[0].shape[0]
    social, regret = [], []
    with torch.no_grad():
        for start in range(0, x_all.shape[0], EVAL_CHUNK):
            x = x_all[start:start + EVAL_CHUNK].expand(r, -1, -1)
            if kind == "moulinnet":
                social.append(_nearest(x, _moulin(params, x)) @ wn)
                continue
            loc = _mlp(params, x.transpose(1, 2)).transpose(1, 2)
            social.append(_nearest(x, loc) @ wn)
            mis = mis_all[start:start + EVAL_CHUNK].expand(r, -1, -1, -1)
            regret.append(torch.relu(_deviation_gains(params, x, mis, loc, pool).amax(dim=2)))
    cost = torch.cat(social, dim=1).mean(dim=1)
    if not regret:
        return cost.double(), torch.zeros(r, dtype=torch.float64), torch.zeros(r, dtype=torch.float64)
    per_profile = torch.cat(regret, dim=2)  # (R, n, S)
    worst = per_profile.mean(dim=2).amax(dim=1)
    by_batch = torch.stack([part.mean(dim=2).amax(dim=1) for part in per_profile.split(batch, dim=2)], dim=1)
    return cost.double(), worst.double(), by_batch.amax(dim=1).double()


def extract(kind: str, params: list[torch.Tensor], restart: int) -> nn.Module:
    """Restart ``restart`` of stacked parameters as a plain network (MoulinNet or PaperRegretNet)."""
    with torch.no_grad():
        if kind == "moulinnet":
            k, g, u, n = params[0].shape[1:]
            net: nn.Module = MoulinNet(n, k, g, u)
            net.raw_w.copy_(params[0][restart])
            net.bias.copy_(params[1][restart])
            return net
        net = PaperRegretNet(params[0].shape[2], params[-1].shape[1])
        for i, lin in enumerate(net.linears):
            lin.weight.copy_(params[2 * i][restart])
            lin.bias.copy_(params[2 * i + 1][restart, :, 0])
        return net


@dataclass
class BatchedRun:
    """What :func:`train_batched` returns: the kept network, its training cost and regret, every
    restart's (cost, regret), which restart was kept, and every restart's parameters (stacked)."""

    net: nn.Module
    cost: float
    regret: float
    restarts: list[tuple[float, float]]
    kept: int
    params: list[torch.Tensor]


def train_batched(kind: str, data: Profiles, weights: np.ndarray, k: int, cfg: TrainConfig,
                  progress: Callable[[int, dict[str, list[float]]], None] | None = None) -> BatchedRun:
    """Train ``cfg.restarts`` networks as one batched model and keep the one with the least training
    regret (sampled misreports, whole training set; ties: least training cost, then the earlier).

    Restart r starts from generator seed ``cfg.seed * 1009 + r`` (init, then one shuffle per epoch), so a
    restart's run does not depend on how many restarts train beside it. Torch runs on one thread;
    RegretNet's deviation search, most of the work, is shared by ``cfg.threads`` threads (0: as many
    as torch was set to use), which split the restarts between them. ``progress(epoch, record)``, if
    given, is called after every epoch with each restart's last batch cost, the epoch's largest batch
    regret and the multiplier."""
    if kind not in ("moulinnet", "regretnet"):
        raise ValueError(f"unknown network '{kind}'")
    if cfg.decay_unit not in ("step", "epoch"):
        raise ValueError(f"TrainConfig.decay_unit '{cfg.decay_unit}': choose step or epoch")
    threads = torch.get_num_threads()
    workers = min(cfg.threads or threads, cfg.restarts) if kind == "regretnet" else 1
    torch.set_num_threads(1)  # small operations: threads would only wait on each other
    try:
        if workers == 1:
            return _train_batched(kind, data, weights, k, cfg, None, progress)
        with ThreadPoolExecutor(workers) as executor:
            return _train_batched(kind, data, weights, k, cfg, Threads(executor, workers), progress)
    finally:
        torch.set_num_threads(threads)


def _train_batched(kind: str, data: Profiles, weights: np.ndarray, k: int, cfg: TrainConfig,
                   pool: Threads | None, progress: Callable | None) -> BatchedRun:
    n = data.peaks.shape[1]
    gens = [torch.Generator().manual_seed(cfg.seed * 1009 + r) for r in range(cfg.restarts)]
    params = _init(kind, n, k, gens)
    x_all = torch.as_tensor(data.peaks, dtype=torch.float32)
    mis_all = torch.as_tensor(data.misreports, dtype=torch.float32)
    wn = torch.as_tensor(weights / weights.sum(), dtype=torch.float32)
    opt = torch.optim.Adam(params, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, cfg.decay_every, cfg.decay) if kind == "regretnet" else None
    lam = torch.zeros(cfg.restarts)
    best_cost = torch.full((cfg.restarts,), math.inf, dtype=torch.float64)
    kept_params = [p.detach().clone() for p in params] if cfg.checkpoint_every else []
    step = 0
    for epoch in range(cfg.epochs):
        perms = torch.stack([torch.randperm(x_all.shape[0], generator=g) for g in gens])
        seen = torch.zeros(cfg.restarts)  # the largest batch regret this epoch
        for idx in perms.split(cfg.batch, dim=1):
            social, worst = batched_terms(kind, params, x_all[idx], mis_all[idx] if kind == "regretnet" else None, wn, pool)
            loss = social
            if kind == "regretnet":  # as the authors' code: the multiplier moves before this step's loss
                seen = torch.maximum(seen, worst.detach())
                if (step + 1) % cfg.lagrange_every == 0:
                    lam = lam + cfg.rho * seen
                loss = social + lam * worst + cfg.rho * worst**2
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            if sched is not None and cfg.decay_unit == "step":
                sched.step()
            step += 1
        if sched is not None and cfg.decay_unit == "epoch":
            sched.step()
        record = {"cost": social.detach().tolist(), "regret": seen.tolist(), "lambda": lam.tolist()}
        if cfg.checkpoint_every and (epoch + 1) % cfg.checkpoint_every == 0:
            cost, regret, by_batch = _evaluate(kind, params, x_all, mis_all, wn, pool, cfg.batch)
            better = (by_batch < cfg.checkpoint_regret) & (cost < best_cost)
            best_cost = torch.where(better, cost, best_cost)
            with torch.no_grad():
                for p, keep in zip(params, kept_params):
                    keep[better] = p[better]
            record.update(train_cost=cost.tolist(), train_regret=regret.tolist(), batch_regret=by_batch.tolist(),
                          checkpoint=better.tolist())
        if progress is not None:
            progress(epoch, record)
    if cfg.checkpoint_every:
        with torch.no_grad():  # restarts that never qualified keep their last weights
            for p, keep in zip(params, kept_params):
                p[torch.isfinite(best_cost)] = keep[torch.isfinite(best_cost)]
    cost, regret, _ = _evaluate(kind, params, x_all, mis_all, wn, pool, cfg.batch)
    kept = min(range(cfg.restarts), key=lambda r: (float(regret[r]), float(cost[r]), r))
    return BatchedRun(extract(kind, params, kept), float(cost[kept]), float(regret[kept]),
                      [(float(c), float(g)) for c, g in zip(cost, regret)], kept, [p.detach() for p in params])


def as_mechanism(net: nn.Module) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """A trained network as a numpy mechanism ``fn(peaks, weights, K) -> (B, K)``."""

    def fn(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(peaks, dtype=torch.float32)).double().numpy()

    return fn


def as_mechanism_f64(net: nn.Module) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """As :func:`as_mechanism`, but the network runs in float64 (the batched engine's networks): the
    reports are not rounded to float32, so an exactly strategy-proof MoulinNet stays so to the last bit."""
    net64 = copy.deepcopy(net).double()

    def fn(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
        with torch.no_grad():
            return net64(torch.as_tensor(peaks, dtype=torch.float64)).numpy()

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


#: Fields added after the first cache files: left out of the cache key (and ``Trained.config``) while
#: at their defaults, so the sequential engine's cache files and records stay what they were.
_LATER_FIELDS = {"engine": "sequential", "decay_unit": "step", "threads": 0, "checkpoint_every": 0,
                 "checkpoint_regret": 0.003}
ENGINES = ("sequential", "batched")


def paper_config(kind: str, seed: int = 0, epochs: int = 1000, restarts: int = 10) -> TrainConfig:
    """The paper's training settings on the batched engine (LLMMech Sec. 4.2 and the authors' code):
    batch 50; MoulinNet Adam lr 0.1; RegretNet Adam lr 0.005 decayed by 0.99 every 100 epochs, rho 1,
    the multiplier moved every 50 steps, each restart's weights kept at its cheapest 20-epoch checkpoint
    whose every 50-profile training batch has regret below 0.003. The paper's budget is 1000 epochs x 10
    restarts."""
    if kind == "moulinnet":
        return TrainConfig(epochs=epochs, restarts=restarts, batch=50, lr=0.1, seed=seed, engine="batched")
    if kind == "regretnet":
        return TrainConfig(epochs=epochs, restarts=restarts, batch=50, lr=0.005, seed=seed, rho=1.0, lagrange_every=50,
                           decay_every=100, decay=0.99, engine="batched", decay_unit="epoch", checkpoint_every=20,
                           checkpoint_regret=0.003)
    raise ValueError(f"unknown network '{kind}'")


def _config_record(cfg: TrainConfig) -> dict:
    return {key: v for key, v in asdict(cfg).items() if key not in _LATER_FIELDS or v != _LATER_FIELDS[key]}


def train(kind: str, data: Profiles, weights: np.ndarray, k: int, cfg: TrainConfig, cache_dir: str | Path | None = None) -> Trained:
    """Train ``moulinnet`` or ``regretnet`` with restarts, keep the run with the least training
    regret (ties: least training cost), and cache its weights under ``cache_dir``.

    ``cfg.engine`` picks the loop: "sequential" (the original, one restart at a time) or "batched"
    (:func:`train_batched`: all restarts at once, RegretNet as the LLMMech authors' code has it)."""
    if cfg.engine not in ENGINES:
        raise ValueError(f"TrainConfig.engine '{cfg.engine}': choose one of {', '.join(ENGINES)}")
    n = data.peaks.shape[1]
    record = _config_record(cfg)
    key = json.dumps({"kind": kind, "cfg": record, "k": k, "w": weights.tolist(), "shape": data.peaks.shape,
                      "data": hashlib.sha256(data.peaks.tobytes()).hexdigest()[:16]}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{kind}-n{n}-k{k}-{digest}.pt" if cache_dir else None
    batched = cfg.engine == "batched"
    if batched:
        net: nn.Module = MoulinNet(n, k) if kind == "moulinnet" else PaperRegretNet(n, k)
    else:
        net = MoulinNet(n, k) if kind == "moulinnet" else RegretNet(n, k)
    mechanism = as_mechanism_f64 if batched else as_mechanism
    if path is not None and path.is_file():
        saved = torch.load(path, weights_only=True)
        net.load_state_dict(saved["state"])
        return Trained(kind, mechanism(net.eval()), float(saved["cost"]), float(saved["regret"]), record, True, str(path))
    if batched:
        run = train_batched(kind, data, weights, k, cfg)
        net, cost, rgt = run.net, run.cost, run.regret
    else:
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
    return Trained(kind, mechanism(net.eval()), cost, rgt, record, False, str(path) if path else "")
