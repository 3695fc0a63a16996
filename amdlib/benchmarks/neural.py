"""`amd bench neural`: MoulinNet's and RegretNet's training time at the paper's budget.

The paper's budget (LLMMech Sec. 4.2 after Golowich et al. 2018): 1000 epochs x 10 restarts in batches
of 50 on the 1000 training profiles (each with 10 sampled misreports); "RegretNet@25k" trains on 25,000.
Timed with the batched engine and the paper's settings (``neural.paper_config``: all restarts as one
model, RegretNet's 20-epoch checkpoints included) in the Table-1 cells n = 5 and n = 10 at K = 4
(uniform peaks, fixed weights); n = 10 is the hardest cell (RegretNet's loss needs n * 10 deviation
profiles per profile). Quick mode times 20 epochs, full mode the whole budget; RegretNet@25k is timed
over 2 (quick) or 20 epochs. A partial run is scaled to 1000 epochs (the work per epoch does not depend
on the values; the one final scoring of every restart is scaled with it, so the figure is an upper
estimate). Each note has the load average: on a shared machine the times grow with it.
"""

from __future__ import annotations

import os
import time

from amdlib.benchmarks import Figure
from amdlib.problems.facility.data import make_profiles, resolve_weights
from amdlib.problems.facility.neural import paper_config, train_batched

#: The paper's budget: epochs and restarts (batch 50).
EPOCHS, RESTARTS = 1000, 10
NAMES = {"moulinnet": "MoulinNet", "regretnet": "RegretNet"}


def training_seconds(kind: str, n: int, k: int, profiles: int, epochs: int) -> float:
    """Wall seconds to train ``kind`` for ``epochs`` epochs x 10 restarts on ``profiles`` uniform profiles."""
    data = make_profiles("uniform", n, profiles, 10, 0, "train")
    cfg = paper_config(kind, seed=0, epochs=epochs, restarts=RESTARTS)
    start = time.perf_counter()
    train_batched(kind, data, resolve_weights("fixed", n), k, cfg)
    return time.perf_counter() - start


def _figure(kind: str, n: int, profiles: int, epochs: int, target: str) -> Figure:
    seconds = training_seconds(kind, n, 4, profiles, epochs) * EPOCHS / epochs
    label = f"{NAMES[kind]}@25k" if profiles == 25_000 else NAMES[kind]
    how = "measured" if epochs == EPOCHS else f"{epochs} epochs measured, scaled to {EPOCHS}"
    note = (f"n={n} K=4 uniform, fixed weights, {profiles} profiles x 10 misreports, {EPOCHS} epochs x {RESTARTS} "
            f"restarts, batch 50 ({how}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return Figure(f"{label} training at the paper's budget, n={n}", round(seconds / 60, 2), "min", target, note)


def run(quick: bool) -> list[Figure]:
    epochs = 20 if quick else EPOCHS  # 20: one of RegretNet's checkpoints is in the timed part
    figures = [_figure(kind, n, 1000, epochs, "<= 3") for kind in ("moulinnet", "regretnet") for n in (5, 10)]
    figures += [_figure("regretnet", n, 25_000, 2 if quick else 20, "") for n in (5, 10)]
    return figures
