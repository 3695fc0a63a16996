"""Experiment 6 figures: scoring one candidate (fix + choice), RochetNet's default training.

The quick run times one candidate's score on the search split and the SP audit of the
Manelli-Vincent menu; the full run also trains RochetNet with the default config and
reports its holdout revenue against the acceptance target (>= 0.545, above bundling).
"""

from __future__ import annotations

import time

from amdlib.benchmarks import Figure, median_seconds
from amdlib.problems.multi_item.audit import audit_menu
from amdlib.problems.multi_item.baselines import MV_BUNDLE, MV_ITEM, two_price_menu
from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.harness import harness
from amdlib.problems.multi_item.problem import MultiItemProblem


def _posted(v1, v2):
    x1, x2 = 1.0 * (v1 >= 0.5), 1.0 * (v2 >= 0.5)
    return x1, x2, 0.667 * (x1 + x2) - 0.472 * x1 * x2


def _lottery(v1, v2):  # a continuum of entries: the worst case of the fix
    return v1, v2, 0.5 * (v1 * v1 + v2 * v2)


def run(quick: bool) -> list[Figure]:
    prob = MultiItemProblem()
    payload = prob.payload("search")
    figures = []
    for name, fn, target in (("posted prices (4 entries)", _posted, "<= 50"),
                             ("lotteries (2601 entries)", _lottery, "<= 1000")):
        ms = 1000.0 * median_seconds(lambda: prob.score(harness(fn, payload), "search"), 5 if quick else 20)
        figures.append(Figure(f"multi_item: score one candidate, {name}, 20k types (median)", ms, "ms", target))
    v1, v2 = prob.sample("holdout")
    menu = two_price_menu(MV_ITEM, MV_BUNDLE)
    figures.append(Figure("multi_item: SP audit, 20k types x 201^2 misreports (median)",
                          median_seconds(lambda: audit_menu(menu, v1[:20000], v2[:20000]), 3), "s", "<= 2"))
    if not quick:
        from amdlib.problems.multi_item.rochetnet import RochetNetConfig, train

        t0 = time.perf_counter()
        net = train(ValueLaw(), RochetNetConfig())
        seconds = time.perf_counter() - t0
        revenue = float(net.menu.payments(v1, v2).mean())
        figures.append(Figure("multi_item: RochetNet default training on the CPU", seconds, "s", "<= 60"))
        figures.append(Figure("multi_item: RochetNet default training, holdout revenue (200k types)", revenue,
                              "revenue", ">= 0.545", note="optimum 0.5492, pure bundling 0.5443"))
    return figures
