"""RochetNet (Duetting et al.) for one additive bidder and two items, in PyTorch, on a CPU.

The network *is* a menu: ``entries`` learnable options, each an allocation in
[0, 1]^2 (a sigmoid of free parameters) and a price, plus the fixed null entry. A
type takes its utility-maximising entry, so the mechanism is exactly SP and IR
(the taxation principle, as in :mod:`.menu`); training replaces the argmax by a
softmax of the utilities, scaled by an inverse temperature that grows during
training, and maximises the expected payment on fresh samples each step. The items
are i.i.d., so each batch is used twice, once with the items swapped: the gradient
is symmetric and much less noisy, which keeps training out of the pure-bundling
local optimum.
After training the menu is evaluated with the exact argmax of :class:`.menu.Menu`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.menu import Menu, from_entries


@dataclass(frozen=True)
class RochetNetConfig:
    """Menu size and training schedule (defaults train in seconds on one CPU thread)."""

    entries: int = 32
    steps: int = 1500
    batch: int = 2048  # fresh value pairs per step, each also used with its items swapped
    lr: float = 0.005
    scale_start: float = 20.0  # softmax inverse temperature at the first step
    scale_end: float = 500.0  # ... and at the last (geometric schedule)
    seed: int = 0


class RochetNet(nn.Module):
    """A menu of ``entries`` options: allocations sigmoid(logits), prices free."""

    def __init__(self, entries: int) -> None:
        super().__init__()
        # allocations spread over the square, each priced at 0.45 per unit: every entry is
        # someone's best choice at the start, so none is born dead (without gradient)
        self.logits = nn.Parameter(2.0 * torch.randn(entries, 2, dtype=torch.float64))
        self.price = nn.Parameter(0.45 * torch.sigmoid(self.logits.detach()).sum(dim=1))

    def allocations(self) -> torch.Tensor:
        return torch.sigmoid(self.logits)

    def soft_revenue(self, v: torch.Tensor, scale: float) -> torch.Tensor:
        """Mean payment when each type of ``v`` (n, 2) takes entries with softmax(scale * utility) weights."""
        util = v @ self.allocations().T - self.price  # (n, K)
        util = torch.cat([util, torch.zeros(len(v), 1, dtype=util.dtype)], dim=1)  # the null entry
        weights = torch.softmax(scale * util, dim=1)[:, :-1]
        return (weights * self.price).sum(dim=1).mean()

    def menu(self) -> Menu:
        """The learned menu (exact argmax semantics; the null entry added)."""
        with torch.no_grad():
            x = self.allocations().numpy()
            p = self.price.detach().numpy()
        return from_entries(np.column_stack([x, p]))


@dataclass
class RochetNetResult:
    """A trained menu and its training curve ``(step, soft revenue on the batch)``."""

    config: RochetNetConfig
    menu: Menu
    curve: list[tuple[int, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "menu": self.menu.entries()}


def train(law: ValueLaw, config: RochetNetConfig = RochetNetConfig(),
          progress: Callable[..., Any] | None = None) -> RochetNetResult:
    """Adam on fresh samples every step (deterministic given ``config.seed``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reproducible sums, and faster for a model this small
    try:
        torch.manual_seed(config.seed)
        model = RochetNet(config.entries)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, 2]))
        ratio = (config.scale_end / config.scale_start) ** (1.0 / max(1, config.steps - 1))
        curve: list[tuple[int, float]] = []
        every = max(1, config.steps // 50)  # about 50 points on the training curve
        steps = range(config.steps) if progress is None else progress(range(config.steps), desc="RochetNet")
        for step in steps:
            v1, v2 = law.draw(rng, config.batch)
            v = torch.tensor(np.column_stack([np.concatenate([v1, v2]), np.concatenate([v2, v1])]),
                             dtype=torch.float64)
            revenue = model.soft_revenue(v, config.scale_start * ratio**step)
            opt.zero_grad()
            (-revenue).backward()
            opt.step()
            if (step + 1) % every == 0 or step + 1 == config.steps:
                curve.append((step + 1, float(revenue.detach())))
    finally:
        torch.set_num_threads(threads)
    return RochetNetResult(config, model.menu(), curve)
