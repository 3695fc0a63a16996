"""AMD-LLM's correlated-bidders result beside ours: the ``paper_rows`` and ``paper_items`` hooks.

The paper reports 0.3857 expected revenue for its own correlated distribution, which the material
does not state, "on par with Myerson with ironing". That number is shown as reported, in its own
column and its own panel, never differenced. Beside it, what the runs show in the closest
well-defined setting: two bidders on a grid, equal values with probability rho, where the optimal
deterministic SP, IR mechanism is known exactly (a MILP): ours (the evolved and fixed rule,
RegretNet and its NNA distillation) against that optimum, Myerson on the marginals (ironed) and
second price with the best reserve, all exact sums over every profile (no sampling error).

The paper's number is read through :mod:`amdlib.core.paperdata` (the one reader of
``amdlib/data/paper``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from amdlib.core.experiment import ItemView, PaperFigure, PaperTable, RunView
from amdlib.core.paperdata import PaperRow, catalogue, rows as paper_data
from amdlib.experiments.virtual_valuation.paper import REPORTED, kind_label, who_is_ours

CORRELATED = "amd-llm/correlated"
#: See :func:`item_setting`.
ITEM_SETTING = (21, 0.5)
#: The transcription row of the paper's number (``amdlib/data/paper/correlated_revenue.csv``).
METRIC = "AMD-LLM revenue"
#: Our mechanisms, in the table's order: (label, where results.json keeps its revenue and audit, note).
METHODS = (
    ("AMD-LLM: evolved + fixed", ("best",), ""),
    ("Myerson with ironing: Myerson on the marginals, ironed", ("baselines", "myerson_marginals"), ""),
    ("optimum (MILP)", ("baselines", "optimum"), ""),
    ("second price, best reserve", ("baselines", "spa_reserve"), ""),
    ("greedy ironed conditional virtual value", ("baselines", "greedy_ironed"), ""),
    ("RegretNet", ("baselines", "regretnet"), "randomised"),
    ("NNA-AMD-LLM: distilled + fixed", ("baselines", "nna"), ""),
    ("bound E[max(ironed cond. VV, 0)]", ("baselines", "greedy_bound"), "an upper bound, not a mechanism"),
)


def reported_rows() -> tuple[PaperRow, ...]:
    """The paper's printed number for its own correlated distribution (a sentence of its text)."""
    return paper_data("correlated_revenue", table="text")


def paper_tables(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``paper_rows`` hook: the paper's reported figure beside ours (different settings: shown as reported)."""
    ours = {METRIC: results.get("best", {}).get("revenue")}
    return [{"table": row.table, "setting": row.setting, "metric": row.metric, "paper": row.value,
             "ours": ours.get(row.metric), "note": row.note, "comparable": False} for row in reported_rows()]


def reported_revenue() -> float:
    """The revenue the paper reports for its own distribution (drawn as reported, not compared)."""
    return next(row.value for row in reported_rows() if row.metric == METRIC)


# ------------------------------------------------------------------ what a run shows
@dataclass(frozen=True)
class Study:
    """What one run's results.json holds for the item."""

    run: RunView
    grid_size: int
    rho: float
    optimum: float
    revenues: Mapping[str, float | None]  # by METHODS label
    feasible: Mapping[str, bool | None]  # the run's exhaustive audit: SP, IR and at most one winner
    regret: float | None
    sweep: tuple[Mapping[str, float], ...]
    learned: tuple[Mapping[str, float], ...]

    @property
    def setting(self) -> tuple[int, float]:
        return self.grid_size, self.rho

    @property
    def budget(self) -> tuple[int, int]:
        return int(self.run.params.get("max_evaluations", 0)), int(self.run.params.get("restarts", 1))


def _at(results: Mapping[str, Any], path: Sequence[str], key: str) -> Any:
    node: Any = results
    for step in path:
        node = node.get(step) if isinstance(node, Mapping) else None
    return node.get(key) if isinstance(node, Mapping) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def read_study(run: RunView) -> Study | None:
    """The run's :class:`Study`, or None when its results.json lacks the setting or the optimum."""
    res = run.results
    try:
        setting = res["setting"]
        regret = res.get("baselines", {}).get("regretnet", {}).get("expected_regret")
        return Study(run, int(setting["grid_size"]), float(setting["rho"]), float(res["optimum_revenue"]),
                     {label: _number(_at(res, path, "revenue")) for label, path, _ in METHODS},
                     {label: _at(res, path, "feasible") for label, path, _ in METHODS}, regret,
                     tuple(res.get("sweep", [])), tuple(res.get("sweep_learned", [])))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def item_setting() -> tuple[int, float]:
    """The closest well-defined setting, (value levels, rho): the catalogue's and the spec's 21 levels
    at rho = 0.5, where the exact optimum is 0.455159 (the record's defaults too)."""
    return ITEM_SETTING


def _ordered(studies: Sequence[Study]) -> list[Study]:
    """The item's setting first (largest budget first), then the others by grid, rho and run id."""
    main = item_setting()
    return sorted(studies, key=lambda s: (s.setting != main, s.setting, tuple(-b for b in s.budget), s.run.run_id))


# ------------------------------------------------------------------ figure and table
def revenue_figure(studies: Sequence[Study], path: Path) -> None:
    """Left: the paper's number as printed (its own panel). Right: ours against rho, on each grid the runs use."""
    from amdlib.core.figures import canvas, save
    from amdlib.experiments.correlated_revenue.plots import draw_sweep

    grids = list(dict.fromkeys(s.grid_size for s in studies))
    fig = canvas(3.0 + 8.5 * len(grids), 4.6)
    spec = fig.add_gridspec(1, 1 + len(grids), width_ratios=[1] + [3] * len(grids))
    axes = [fig.add_subplot(spec[0, k]) for k in range(1 + len(grids))]
    value = reported_revenue()
    axes[0].bar([0], [value], color="white", edgecolor="0.3", hatch="//", width=0.5)
    axes[0].text(0, value, f"{value:.4f}", ha="center", va="bottom", fontsize=9)
    axes[0].set_xticks([0], ["AMD-LLM"])
    axes[0].set_xlim(-0.8, 0.8)
    axes[0].set_ylim(0, 0.6)
    axes[0].set_ylabel("expected revenue (as printed)", fontsize=9)
    axes[0].set_title("reported by the paper\n(its own distribution, unstated)", fontsize=9)
    for ax, grid in zip(axes[1:], grids):
        mine = [s for s in studies if s.grid_size == grid]
        curves = max(mine, key=lambda s: len(s.sweep))
        draw_sweep(ax, list(curves.sweep), [], grid)
        kinds = list(dict.fromkeys(kind_label(s.run.params) for s in mine))
        for k, kind in enumerate(kinds):
            points = sorted((r for s in mine if kind_label(s.run.params) == kind for r in s.learned),
                            key=lambda r: r["rho"])
            draw_sweep(ax, [], points, grid, tag=f" (ours: {kind})", colour=f"C{3 + k}")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Revenue with correlated bidders: the paper's number as printed, and ours in an exactly solvable "
                 "setting", fontsize=10)
    fig.tight_layout()
    save(fig, path)


def revenue_table(studies: Sequence[Study], caption: str) -> PaperTable:
    """Rows = mechanisms (the paper's AMD-LLM row first); the paper's column as printed; per run,
    our exact revenue and its share of the exact optimum."""
    value = reported_revenue()
    cols = ["mechanism", REPORTED, *(f"ours, rho={s.rho:g}, {s.grid_size} levels, run {s.run.run_id}: revenue (% of "
                                     f"optimum)" for s in studies), "note"]
    out = []
    for k, (label, _, note) in enumerate(METHODS):
        cells: list[Any] = [label, value if k == 0 else "not printed"]
        for s in studies:
            rev = s.revenues.get(label)
            cells.append("-" if rev is None else f"{rev:.4f} ({100 * rev / s.optimum:.2f}%)")
        out.append((*cells, _audit_note(studies, label, note)))
    return PaperTable(tuple(cols), tuple(out), caption)


def _audit_note(studies: Sequence[Study], label: str, note: str) -> str:
    """The note of a row: what the runs' exhaustive audits found (never stated without one)."""
    flags = [(s.run.run_id, s.feasible.get(label)) for s in studies]
    audited = [(rid, ok) for rid, ok in flags if isinstance(ok, bool)]
    parts = [note] if note else []
    if audited:
        bad = [rid for rid, ok in audited if not ok]
        parts.append("exhaustive audit: SP, IR and feasible in every run" if not bad else
                     f"exhaustive audit: fails SP, IR or feasibility in run(s) {', '.join(bad)}")
    if label == "RegretNet":
        regrets = ", ".join(f"{s.regret:.4f}" for s in studies if s.regret is not None)
        parts.append(f"expected regret {regrets}" if regrets else "")
    return "; ".join(p for p in parts if p)


# ------------------------------------------------------------------ the hook
def _headline(study: Study | None, count: int) -> str:
    if study is None:
        grid, rho = item_setting()
        return f"no run at rho={rho:g} on {grid} levels; {count} other run(s) shown" if count else "no runs yet"
    rev = study.revenues.get(METHODS[0][0])
    if rev is None:
        return f"ours rho={study.rho:g}: no valid evolved rule"
    return (f"ours rho={study.rho:g}: {rev:.4f} = {100 * rev / study.optimum:.1f}% of exact optimum; "
            f"paper's {reported_revenue():.4f}: its own law")


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """The ``paper_items`` hook: ``amd-llm/correlated`` from the complete runs (headline and cells
    only when ``folder`` is None; else a figure drawn there and the table)."""
    studies = _ordered([s for s in map(read_study, runs) if s is not None])
    if not studies:
        return []
    main = item_setting()
    primary = studies[0] if studies[0].setting == main else None
    headline = _headline(primary, len(studies))
    ids = tuple(s.run.run_id for s in studies)
    cells = (int(primary is not None), 1)
    if folder is None:
        return [ItemView(CORRELATED, headline, runs=ids, cells=cells)]
    why = " ".join((catalogue().item(CORRELATED).instead or "").split())
    words = (f"{who_is_ours([s.run for s in studies])} The paper's 0.3857 is as printed, for its own distribution, "
             f"which the material does not state: it is shown beside ours, never differenced. Ours are exact "
             f"expectations over every profile of the grid (no sampling error); RegretNet may randomise and is SP "
             f"only up to its regret.")
    path = folder / "correlated_revenue-amd-llm-correlated.png"
    revenue_figure(studies, path)
    figure = PaperFigure(path, f"Left: the paper's AMD-LLM revenue as printed (hatched). Right: the exact optimum and "
                               f"the baselines against rho (the probability that both values are equal), and ours "
                               f"(evolved + fixed, RegretNet, its NNA distillation) at each rho a run learned at. "
                               f"{words} Why not the paper's setting: {why}", item=CORRELATED)
    return [ItemView(CORRELATED, headline, (figure,), (revenue_table(studies, f"Revenues in our setting. {words}"),),
                     ids, cells)]


__all__ = ["paper_items", "paper_tables", "reported_revenue", "reported_rows", "read_study", "CORRELATED"]
