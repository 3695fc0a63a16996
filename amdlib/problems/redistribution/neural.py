"""Neural baseline: a rebate network of the others' sorted bids, trained with a deficit penalty.

As in RegretNet-style redistribution learning, the network's rebates are
trained to maximise the expected total rebate while a growing penalty punishes
deficits on the training profiles; the trained network then goes through the
same fix as every evolved rule. The network is *input-convex* (non-negative
weights on hidden paths, convex non-decreasing activations), so it is convex
in the others' bids and the fix is exact for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from amdlib.problems.redistribution.model import sample_profiles


#: Quadratic penalty weight and Lagrange-multiplier update period of the training.
RHO = 1.0
LAGRANGE_EVERY = 20
#: Sharpness of the output softplus (close to max(., 0) on the scale of the rebates).
SHARPNESS = 20.0


class ConvexRebateNet(nn.Module):
    """Input-convex network ``h(o)`` for ``o`` the ``d`` others' sorted bids."""

    def __init__(self, d: int, hidden: int = 32, depth: int = 2) -> None:
        super().__init__()
        self.first = nn.Linear(d, hidden)
        self.z_layers = nn.ModuleList([nn.Linear(hidden, hidden, bias=False) for _ in range(depth - 1)])
        self.x_layers = nn.ModuleList([nn.Linear(d, hidden) for _ in range(depth - 1)])
        self.out_z = nn.Linear(hidden, 1, bias=False)
        self.out_x = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = F.softplus(self.first(x))
        for wz, wx in zip(self.z_layers, self.x_layers):
            z = F.softplus(F.linear(z, wz.weight.clamp(min=0.0)) + wx(x))
        # softplus of a convex function is convex and positive: IR without dead units
        return F.softplus(F.linear(z, self.out_z.weight.clamp(min=0.0)) + self.out_x(x), beta=SHARPNESS).squeeze(-1)


@dataclass
class TrainedNet:
    """A trained network and its training trace (fraction and deficit rate every 50 steps)."""

    net: ConvexRebateNet
    n: int
    m: int
    trace: list[dict[str, float]] = field(default_factory=list)

    def rebate(self, others: np.ndarray, n: int, m: int) -> np.ndarray:
        """The network as a vectorised rebate rule (float64, no gradients)."""
        with torch.no_grad():
            out = self.net(torch.as_tensor(np.ascontiguousarray(others), dtype=torch.float64))
        return out.numpy()


def train(n: int, m: int, distribution: str = "uniform", steps: int = 500, hidden: int = 32,
          batch: int = 512, lr: float = 0.01, seed: int = 0) -> TrainedNet:
    """Train the rebate network on fresh profiles each step.

    Augmented Lagrangian, as RegretNet (per unit of expected revenue):
    ``-E[sum_k h_k] + lam * E[d] + rho / 2 * E[d^2]`` with ``d = (sum_k h_k - R)^+``
    the deficit; ``lam += rho * E[d]`` every ``LAGRANGE_EVERY`` steps.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches: one thread is fastest and deterministic
    try:
        return _train(n, m, distribution, steps, hidden, batch, lr, seed)
    finally:
        torch.set_num_threads(threads)


def _train(n: int, m: int, distribution: str, steps: int, hidden: int, batch: int, lr: float, seed: int) -> TrainedNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, n, m, 3])
    net = ConvexRebateNet(n - 1, hidden).double()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    trained = TrainedNet(net, n, m)
    lam, rho = 0.0, RHO
    idx = torch.tensor([[p for p in range(n) if p != k] for k in range(n)])
    for step in range(steps):
        b = torch.as_tensor(sample_profiles(rng, batch, n, distribution))
        revenue = m * b[:, m]
        total = net(b[:, idx]).sum(dim=1)
        excess = F.relu(total - revenue) / revenue.mean()
        loss = -total.mean() / revenue.mean() + lam * excess.mean() + 0.5 * rho * (excess**2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % LAGRANGE_EVERY == LAGRANGE_EVERY - 1:
            lam += rho * float(excess.detach().mean())
        if step % 50 == 0 or step == steps - 1:
            trained.trace.append({
                "step": float(step),
                "fraction": float(total.detach().mean() / revenue.mean()),
                "deficit_rate": float((excess.detach() > 1e-9).double().mean()),
            })
    net.eval()
    return trained


__all__ = ["ConvexRebateNet", "TrainedNet", "train"]
