"""RegretNet (Duetting et al.) for the two-bidder correlated grid, in PyTorch.

An allocation network (softmax over bidder 1, bidder 2 and "keep the item")
and a payment network (a fraction in [0, 1] of each bidder's expected value
won, so ex-post IR holds by construction) read the bid profile. Training
maximises exact expected revenue over all grid profiles minus an augmented
Lagrangian penalty on each bidder's exact expected regret, where every grid
misreport is enumerated (the misreport profiles are grid profiles too, so one
forward pass on the G * G profiles serves revenue and regret alike).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from amdlib.problems.correlated.audit import audit, verdict
from amdlib.problems.correlated.distribution import GridLaw


@dataclass(frozen=True)
class RegretNetConfig:
    """Network size and training schedule (defaults train in seconds on a CPU)."""

    hidden: int = 32
    layers: int = 2
    steps: int = 1000
    lr: float = 0.005
    penalty: float = 5.0  # augmented Lagrangian coefficient c at the start
    penalty_growth: float = 1.1  # c is multiplied by this at every multiplier update
    update_every: int = 25  # steps between Lagrange multiplier updates
    seed: int = 0


class RegretNet(nn.Module):
    """Allocation and payment networks over a bid profile (b1, b2)."""

    def __init__(self, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.alloc = _mlp(hidden, layers, 3)
        self.pay = _mlp(hidden, layers, 2)

    def forward(self, bids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Allocation probabilities (n, 2) and payments (n, 2) for bid profiles (n, 2)."""
        x = torch.softmax(self.alloc(bids), dim=-1)[:, :2]
        p = torch.sigmoid(self.pay(bids)) * x * bids
        return x, p


def _mlp(hidden: int, layers: int, out: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = 2
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.Tanh()]
        width = hidden
    mods.append(nn.Linear(width, out))
    return nn.Sequential(*mods)


def _profiles(law: GridLaw) -> torch.Tensor:
    a, b = np.meshgrid(law.values, law.values, indexing="ij")
    return torch.tensor(np.stack([a.ravel(), b.ravel()], axis=1), dtype=torch.float64)


def _regret(x: torch.Tensor, p: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Regret table of the bidder whose own bid is axis 0 of the (G, G) tables ``x``, ``p``."""
    util = v[:, None, None] * x[None, :, :] - p[None, :, :]
    truthful = torch.diagonal(util, dim1=0, dim2=1).T  # [a, b] = util[a, a, b]
    return torch.clamp(util.max(dim=1).values - truthful, min=0.0)


def tables(model: RegretNet, law: GridLaw) -> dict[str, np.ndarray]:
    """The network's allocation and payment tables ``x1, p1, x2, p2`` indexed [a, b]."""
    g = law.grid_size
    with torch.no_grad():
        x, p = model(_profiles(law))
    out = {"x1": x[:, 0], "x2": x[:, 1], "p1": p[:, 0], "p2": p[:, 1]}
    return {k: t.reshape(g, g).numpy().astype(float) for k, t in out.items()}


@dataclass
class RegretNetResult:
    """A trained network, its exact tables, revenue and audit, and its training curve."""

    model: RegretNet
    config: RegretNetConfig
    tables: dict[str, np.ndarray]
    revenue: float
    audit: dict[str, float]
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (step, revenue, regret)

    def summary(self) -> dict[str, Any]:
        """JSON-able figures (no weights)."""
        return {"revenue": self.revenue, **self.audit, "config": asdict(self.config), **verdict(self.audit),
                "note": "randomised mechanism; SP only up to its regret"}


def evaluate(model: RegretNet, law: GridLaw) -> tuple[dict[str, np.ndarray], float, dict[str, float]]:
    """Exact tables, revenue and audit of a network on the grid."""
    t = tables(model, law)
    revenue = float(np.sum(law.pmf * (t["p1"] + t["p2"])))
    return t, revenue, audit(t["x1"], t["p1"], t["x2"], t["p2"], law.values, law.pmf)


def train(law: GridLaw, config: RegretNetConfig = RegretNetConfig(),
          progress: Callable[..., Any] | None = None) -> RegretNetResult:
    """Train by full-batch Adam on the exact objective (deterministic given the seed)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: reproducible sums, and faster for a net this small
    try:
        torch.manual_seed(config.seed)
        model = RegretNet(config.hidden, config.layers).double()
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        bids, g = _profiles(law), law.grid_size
        pmf = torch.tensor(law.pmf, dtype=torch.float64)
        v = torch.tensor(law.values, dtype=torch.float64)
        lam = torch.zeros(2, dtype=torch.float64)
        c = config.penalty
        curve: list[tuple[int, float, float]] = []
        steps = range(config.steps) if progress is None else progress(range(config.steps), desc="RegretNet")
        for step in steps:
            x, p = model(bids)
            x1, x2, p1, p2 = (t.reshape(g, g) for t in (x[:, 0], x[:, 1], p[:, 0], p[:, 1]))
            revenue = torch.sum(pmf * (p1 + p2))
            rgt = torch.stack([torch.sum(pmf * _regret(x1, p1, v)), torch.sum(pmf * _regret(x2.T, p2.T, v).T)])
            loss = -revenue + torch.sum(lam * rgt) + 0.5 * c * torch.sum(rgt**2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if (step + 1) % config.update_every == 0:
                lam = lam + c * rgt.detach()
                c *= config.penalty_growth
                curve.append((step + 1, float(revenue.detach()), float(rgt.detach().sum())))
    finally:
        torch.set_num_threads(threads)
    t, rev, checks = evaluate(model, law)
    return RegretNetResult(model, config, t, rev, checks, curve)


def save(result: RegretNetResult, law: GridLaw, path: str | Path) -> Path:
    """Write the weights, config and setting (a run artefact that :func:`load` reuses)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"config": asdict(result.config), "setting": law.describe(), "curve": result.curve}
    torch.save({"state": result.model.state_dict(), "meta": json.dumps(meta)}, path)
    return path


def load(law: GridLaw, config: RegretNetConfig, path: str | Path) -> RegretNetResult | None:
    """A saved network trained with the same config on the same setting, or None."""
    path = Path(path)
    if not path.is_file():
        return None
    blob = torch.load(path, weights_only=True)
    meta = json.loads(blob["meta"])
    if meta["config"] != asdict(config) or meta["setting"] != law.describe():
        return None
    model = RegretNet(config.hidden, config.layers).double()
    model.load_state_dict(blob["state"])
    t, rev, checks = evaluate(model, law)
    return RegretNetResult(model, config, t, rev, checks, [tuple(c) for c in meta["curve"]])


def train_or_load(law: GridLaw, config: RegretNetConfig, path: str | Path | None = None,
                  progress: Callable[..., Any] | None = None) -> RegretNetResult:
    """Reuse the cached network at ``path`` if it matches, else train (and cache when ``path`` is set)."""
    if path is not None:
        cached = load(law, config, path)
        if cached is not None:
            return cached
    result = train(law, config, progress)
    if path is not None:
        save(result, law, path)
    return result
