"""AMD-LLM's virtual-valuation claims, drawn from the runs (the ``paper_items`` hook).

- ``amd-llm/myerson``: the learned, fixed priority against Myerson's virtual value
  phi(v) = v - (1 - F(v)) / f(v) (ironed where the law needs it) over the bid grid, after the one
  positive factor that best fits phi (the auction only reads the ranking and the sign of the
  priority, so that factor changes nothing), with both reserves marked and the learned auction's
  revenue against Myerson's optimum and second price.
- ``amd-llm/reserve-price``: where the learned priority crosses zero against Myerson's reserve
  phi^-1(0), on the exact revenue curve of second price against its reserve.

The summary of the paper prints no number for either claim: phi, the reserves and the optimum are
computed by amdlib. The shape comparison needs the learned priority on the bid grid, which
results.json does not hold: when drawing, each run's stored program is run again in the sandbox
(it is untrusted) on the run's own grid, and the zero crossing found there is checked against the
reserve the run recorded. Headlines read results.json only, so ``amd paper`` runs no code.

:func:`ours_label` (what "ours" is in a caption) and :data:`REPORTED` are shared by the AMD-LLM
experiments' paper modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from amdlib.core.experiment import ItemView, PaperFigure, PaperTable, RunView
from amdlib.core.paperdata import catalogue
from amdlib.experiments.shared import llm_label

MYERSON, RESERVE = "amd-llm/myerson", "amd-llm/reserve-price"
#: Column of a number the paper printed for a setting it does not state.
REPORTED = "reported by the paper (its own setting, unstated)"
#: Lowest bid drawn: phi falls to -inf at 0 for Beta laws, and a bid that low never wins (its
#: priority is negative), so only the sign of the priority matters there.
SHAPE_FROM = 0.05
#: The shape is compared up to this quantile of the value distribution (see :func:`shapes`).
TOP_QUANTILE = 0.99
#: |priority| at or above this is the problem's stand-in for +-inf (never / always sells).
_HUGE = 1e5


def ours_label(params: Mapping[str, Any]) -> str:
    """What "ours" is for a run with ``params``: the offline search, or the LLM and model of an LLM run."""
    method, budget = params.get("method", "funsearch"), params.get("max_evaluations")
    llm = llm_label(params, method, f"{budget} samples")
    return llm if llm is not None else f"the offline search ({method}, {budget} candidates, no LLM)"


def kind_label(params: Mapping[str, Any]) -> str:
    """A legend's name of a kind of run: who proposed (offline, or the model) and the budget."""
    who = "offline" if params.get("proposer", "offline") == "offline" else (params.get("model") or "LLM")
    return f"{who}, {params.get('max_evaluations')} cand."


def short_label(params: Mapping[str, Any]) -> str:
    """A legend's name of a run: :func:`kind_label` and the seed."""
    return f"{kind_label(params)}, seed {params.get('seed', 0)}"


def pm(value: float | None, se: float | None, digits: int = 4) -> str:
    """``value ± se`` as text ("-" when the run has no value)."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + ("" if se is None else f" ± {se:.{digits}f}")


def who_is_ours(runs: Sequence[RunView]) -> str:
    """A caption's sentence on what "ours" is across ``runs`` (each distinct kind of run once)."""
    kinds = list(dict.fromkeys(ours_label(r.params) for r in runs))
    return "Ours: " + "; ".join(kinds) + "." if kinds else ""


@dataclass(frozen=True)
class Row:
    """What one run shows of the claims, from its results.json."""

    run: RunView
    distribution: str
    n_bidders: int
    reserve: float
    myerson_reserve: float
    revenue: float
    revenue_se: float
    optimum: float
    spa: float
    spa_reserve: float
    spa_reserve_price: float
    max_regret: float

    @property
    def setting(self) -> tuple[str, int]:
        return self.distribution, self.n_bidders

    @property
    def share(self) -> float:
        """Revenue as a fraction of Myerson's optimum (exact, so the SE is the revenue's)."""
        return self.revenue / self.optimum

    @property
    def budget(self) -> tuple[int, int]:
        return int(self.run.params.get("max_evaluations", 0)), int(self.run.params.get("holdout_samples", 0))


def read_row(run: RunView) -> Row | None:
    """The run's row, or None when its results.json lacks what the claims need."""
    res = run.results
    try:
        best, base = res["best"], res["baselines"]
        return Row(run, str(res["setting"]["distribution"]), int(res["setting"]["n_bidders"]), float(best["reserve"]),
                   float(base["myerson_reserve"]), float(best["revenue"]), float(best["revenue_se"]),
                   float(res["optimum_revenue"]), float(base["spa"]), float(base["spa_reserve"]),
                   float(base["spa_reserve_price"]), float(res["audit"]["max_regret"]))
    except (KeyError, TypeError, ValueError):
        return None


def item_settings(item: str) -> list[tuple[str, int]]:
    """The (distribution, bidders) settings the catalogue reruns the item in (its ``rerun_as``)."""
    rerun = catalogue().item(item).setting.get("rerun_as", {})
    ns = rerun.get("n_bidders", [])
    return [(str(d).lower(), int(n)) for d in rerun.get("distributions", []) for n in (ns if isinstance(ns, list) else [ns])]


def _setting_name(setting: tuple[str, int]) -> str:
    return f"{setting[0]}, {setting[1]} bidders"


def _ordered(rows: Sequence[Row], wanted: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The settings of ``rows``: the item's own first, then the others by distribution and bidders."""
    have = {r.setting for r in rows}
    return [s for s in wanted if s in have] + sorted(have - set(wanted))


def _primary(rows: Sequence[Row], setting: tuple[str, int]) -> Row | None:
    """The run a headline quotes: the largest budget in ``setting`` (ties: the first run id)."""
    mine = sorted((r for r in rows if r.setting == setting), key=lambda r: r.run.run_id)
    return max(mine, key=lambda r: r.budget) if mine else None


# ------------------------------------------------------------------ the learned priority on the grid
@dataclass(frozen=True)
class Shape:
    """A run's learned, fixed priority on its bid grid against Myerson's (ironed) virtual value."""

    grid: np.ndarray
    learned: np.ndarray  # after the fix, times ``scale``
    phi: np.ndarray  # v - (1 - F) / f
    target: np.ndarray  # phi ironed (phi itself for a regular law)
    ironed: bool
    scale: float
    top: float  # the TOP_QUANTILE of values: bids above it are too rare to compare shapes on
    gap_above: float  # max |scale * learned - target| over bids from Myerson's reserve to ``top``
    reserve: float  # the zero crossing, recomputed
    matches_run: bool  # the recomputed crossing is the one the run recorded


def _span(grid: np.ndarray, target: np.ndarray, scaled: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (grid >= lo) & (grid <= hi) & np.isfinite(target) & (np.abs(scaled) < _HUGE)


def max_gap(target: np.ndarray, scaled: np.ndarray, grid: np.ndarray, lo: float, hi: float) -> float:
    """max |scaled - target| over bids in [lo, hi] where both are finite (inf where none are)."""
    ok = _span(grid, target, scaled, lo, hi)
    return float(np.max(np.abs(scaled[ok] - target[ok]))) if ok.any() else math.inf


def fit(target: np.ndarray, learned: np.ndarray, grid: np.ndarray, lo: float, hi: float) -> float:
    """The positive factor a that minimises max |a * learned - target| over bids in [lo, hi] (a
    factor <= 0 would flip the ranking; 1 when nothing there is finite). The gap is convex in a, so
    a bounded scalar search on log a finds its minimum."""
    from scipy.optimize import minimize_scalar

    ok = _span(grid, target, learned, lo, hi)
    if not ok.any() or not np.any(learned[ok]):
        return 1.0
    x, y = learned[ok], target[ok]
    best = minimize_scalar(lambda t: float(np.max(np.abs(math.exp(t) * x - y))), bounds=(-16.0, 16.0),
                           method="bounded", options={"xatol": 1e-6})
    return math.exp(float(best.x))


def _target(dist: Any, grid: np.ndarray, n_bidders: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """(phi, phi ironed, whether ironing changed it) on ``grid``; Myerson's ironing runs only when
    phi decreases somewhere on the grid (a regular law is its own ironing)."""
    from amdlib.problems.virtual_valuation.myerson import myerson

    phi = dist.virtual_value(grid)
    if np.all(np.diff(phi) >= 0):
        return phi, phi, False
    sol = myerson(dist, n_bidders)
    return phi, np.interp(grid, sol.grid, sol.ironed_virtual_value), sol.ironed


def shapes(rows: Sequence[Row]) -> dict[str, Shape | str]:
    """Each run's :class:`Shape` (or why it could not be had), by run id: the stored programs run
    once more in one sandbox, on each run's own problem and grid. The factor is fitted on the bids
    that can win, from Myerson's reserve to the TOP_QUANTILE of values (above it the density
    vanishes, and rules written with 1 / pdf blow up where no bid ever comes); below the reserve
    only the sign of the priority matters, which the reserves compare."""
    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox
    from amdlib.experiments.virtual_valuation.run import make_problem

    out: dict[str, Shape | str] = {}
    if not rows:
        return out
    try:
        sandbox = Sandbox(workers=1, memory_mb=make_problem(rows[0].run.params).memory_mb)
    except Exception as err:  # noqa: BLE001 - no sandbox here: the caption says so
        return {r.run.run_id: f"the sandbox did not start ({type(err).__name__}: {err})" for r in rows}
    targets: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray, bool]] = {}
    with sandbox:
        for row in rows:
            try:
                problem = make_problem(row.run.params)
                evaluator = Evaluator(problem, sandbox)
                auction = problem.auction(evaluator.outputs(row.run.results["best"]["code"], *evaluator.payload("holdout")))
            except Exception as err:  # noqa: BLE001 - one odd program must not hide the others
                out[row.run.run_id] = f"its program did not run again ({type(err).__name__}: {err})"
                continue
            grid = problem.grid
            key = (row.distribution, row.n_bidders, grid.size)
            if key not in targets:
                targets[key] = _target(problem.dist, grid, row.n_bidders)
            phi, target, ironed = targets[key]
            top = float(problem.dist.ppf(np.array([TOP_QUANTILE]))[0])
            scale = fit(target, auction.priority, grid, row.myerson_reserve, top)
            scaled = scale * np.clip(auction.priority, -_HUGE, _HUGE)
            crossing = auction.reserve if math.isfinite(auction.reserve) else 1.0
            out[row.run.run_id] = Shape(grid, scaled, phi, target, ironed, scale, top,
                                        max_gap(target, scaled, grid, row.myerson_reserve, top), crossing,
                                        abs(crossing - row.reserve) <= 1e-12)
    return out


# ------------------------------------------------------------------ figures
def _panels(fig: Any, count: int) -> list[Any]:
    cols = min(3, count)
    rows = -(-count // cols)
    return [fig.add_subplot(rows, cols, k + 1) for k in range(count)]


def _figure_size(count: int) -> tuple[float, float]:
    cols = min(3, count)
    return 4.6 * cols, 3.6 * -(-count // cols) + 0.6


def _finish(fig: Any, title: str, path: Path) -> None:
    from amdlib.core.figures import save

    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save(fig, path)


def priority_figure(rows: Sequence[Row], settings: Sequence[tuple[str, int]], found: Mapping[str, Shape | str],
                    path: Path) -> None:
    """One panel per setting: phi (ironed where needed), each run's rescaled learned priority, the reserves."""
    from amdlib.core.figures import canvas

    fig = canvas(*_figure_size(len(settings)))
    for ax, setting in zip(_panels(fig, len(settings)), settings):
        mine = [r for r in rows if r.setting == setting]
        drawn = [found.get(r.run.run_id) for r in mine]
        ref = next((s for s in drawn if isinstance(s, Shape)), None)
        if ref is not None:
            show = ref.grid >= SHAPE_FROM
            ax.plot(ref.grid[show], ref.phi[show], lw=3, color="0.65", label="Myerson's phi")
            if ref.ironed:
                ax.plot(ref.grid[show], ref.target[show], lw=2, color="0.35", ls="--", label="phi ironed")
            low = float(np.nanmin(ref.target[show]))
            ax.set_ylim(max(low, -2.5) - 0.1, float(np.nanmax(ref.target[show])) + 0.15)
        ax.axvline(mine[0].myerson_reserve, color="0.3", ls="--", lw=1, label=f"Myerson reserve {mine[0].myerson_reserve:.4f}")
        for k, (row, shape) in enumerate(zip(mine, drawn)):
            colour = f"C{k % 10}"
            if isinstance(shape, Shape):
                show = shape.grid >= SHAPE_FROM
                ax.plot(shape.grid[show], shape.learned[show], lw=1.4, color=colour,
                        label=f"ours ({short_label(row.run.params)}) x {shape.scale:.3g}")
            ax.axvline(row.reserve, color=colour, ls=":", lw=1.6, label=f"our reserve {row.reserve:.4f}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlim(0, 1)
        ax.set_xlabel("bid")
        ax.set_ylabel("priority")
        ax.set_title(_setting_name(setting), fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    _finish(fig, "The learned priority (fixed, rescaled) against Myerson's virtual value", path)


def reserve_figure(rows: Sequence[Row], settings: Sequence[tuple[str, int]], path: Path) -> None:
    """One panel per setting: exact second-price revenue against its reserve, Myerson's optimum and
    reserve, and each run's learned reserve with its held-out revenue (± SE)."""
    from amdlib.core.figures import canvas
    from amdlib.problems.virtual_valuation.distributions import parse_distribution
    from amdlib.problems.virtual_valuation.myerson import second_price_revenue

    fig = canvas(*_figure_size(len(settings)))
    for ax, setting in zip(_panels(fig, len(settings)), settings):
        mine = [r for r in rows if r.setting == setting]
        dist = parse_distribution(setting[0])
        reserves = np.linspace(0.0, 0.8, 81)
        ax.plot(reserves, [second_price_revenue(dist, setting[1], float(r)) for r in reserves], color="0.5", lw=2,
                label="second price with reserve r (exact)")
        ax.axhline(mine[0].optimum, color="k", lw=0.8, ls="--", label=f"Myerson optimum {mine[0].optimum:.4f}")
        ax.axvline(mine[0].myerson_reserve, color="0.3", ls="--", lw=1, label=f"Myerson reserve {mine[0].myerson_reserve:.4f}")
        for k, row in enumerate(mine):
            colour = f"C{k % 10}"
            ax.errorbar([row.reserve], [row.revenue], yerr=[row.revenue_se], fmt="o", color=colour, ms=6, capsize=3,
                        label=f"ours ({short_label(row.run.params)}): reserve {row.reserve:.4f}")
        ax.set_xlabel("reserve price r")
        ax.set_ylabel("expected revenue")
        ax.set_title(_setting_name(setting), fontsize=10)
        ax.legend(fontsize=7, loc="lower left")
    _finish(fig, "Where the learned auction sells: its reserve on second price's revenue curve", path)


# ------------------------------------------------------------------ tables
def myerson_table(rows: Sequence[Row], settings: Sequence[tuple[str, int]], found: Mapping[str, Shape | str],
                  caption: str) -> PaperTable:
    """Per run: the shape gap to phi, both reserves, revenue against Myerson's optimum, the SP/IR audit."""
    cols = ("setting", "ours", "max |a·ours − φ| from φ⁻¹(0) to q99", "q99", "our reserve", "Myerson reserve φ⁻¹(0)",
            "our revenue (holdout)", "SE", "% of Myerson optimum", "audit: max gain from lying")
    out = []
    for setting in settings:
        for row in (r for r in rows if r.setting == setting):
            shape = found.get(row.run.run_id)
            gap = (round(shape.gap_above, 4), round(shape.top, 4)) if isinstance(shape, Shape) else ("not drawn", "-")
            out.append((_setting_name(setting), short_label(row.run.params), *gap, round(row.reserve, 4),
                        round(row.myerson_reserve, 4), round(row.revenue, 4), round(row.revenue_se, 4),
                        round(100 * row.share, 2), row.max_regret))
    return PaperTable(cols, tuple(out), caption)


def reserve_table(rows: Sequence[Row], settings: Sequence[tuple[str, int]], caption: str) -> PaperTable:
    """Per run: the learned reserve against Myerson's and second price's best, and the revenues."""
    cols = ("setting", "ours", "our reserve (zero crossing)", "Myerson reserve φ⁻¹(0)", "ours − Myerson",
            "our revenue (holdout)", "SE", "second price, best reserve", "second price, no reserve", "Myerson optimum")
    out = [(_setting_name(s), short_label(r.run.params), round(r.reserve, 4), round(r.myerson_reserve, 4),
            round(r.reserve - r.myerson_reserve, 4), round(r.revenue, 4), round(r.revenue_se, 4),
            round(r.spa_reserve, 4), round(r.spa, 4), round(r.optimum, 4))
           for s in settings for r in rows if r.setting == s]
    return PaperTable(cols, tuple(out), caption)


# ------------------------------------------------------------------ the hook
def _headline(item: str, row: Row | None, others: int) -> str:
    if row is None:
        return f"no run in the item's setting; {others} other setting(s) shown" if others else "no runs yet"
    who = "offline" if row.run.params.get("proposer", "offline") == "offline" else row.run.params.get("model") or "LLM"
    pct = f"{100 * row.share:.2f}% of optimum"
    if item == MYERSON:
        return f"priority crosses 0 at {row.reserve:.4f} (phi's zero {row.myerson_reserve:.4f}), {pct} ({who})"
    return f"sells above {row.reserve:.4f} vs Myerson's {row.myerson_reserve:.4f}; {pct} ({who})"


def _note(rows: Sequence[Row], found: Mapping[str, Shape | str]) -> str:
    """What the caption must add about runs whose priority could not be redrawn or does not match."""
    notes = [f"run {r.run.run_id}: {found[r.run.run_id]}" for r in rows if isinstance(found.get(r.run.run_id), str)]
    notes += [f"run {r.run.run_id}: the recomputed zero crossing differs from the recorded reserve" for r in rows
              if isinstance(found.get(r.run.run_id), Shape) and not found[r.run.run_id].matches_run]  # type: ignore[union-attr]
    return (" Not drawn: " + "; ".join(notes) + ".") if notes else ""


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """The ``paper_items`` hook: ``amd-llm/myerson`` and ``amd-llm/reserve-price`` from the complete
    runs (headlines and cells only when ``folder`` is None; else figures drawn there and tables)."""
    rows = [r for r in map(read_row, runs) if r is not None]
    if not rows:
        return []
    views = []
    found: Mapping[str, Shape | str] = shapes(rows) if folder is not None else {}
    for item in (MYERSON, RESERVE):
        wanted = item_settings(item)
        settings = _ordered(rows, wanted)
        filled = sum(1 for s in wanted if s in {r.setting for r in rows})
        primary = next((p for p in (_primary(rows, s) for s in wanted) if p is not None), None)
        headline = _headline(item, primary, len(settings))
        ids = tuple(r.run.run_id for s in settings for r in rows if r.setting == s)
        if folder is None:
            views.append(ItemView(item, headline, runs=ids, cells=(filled, len(wanted))))
            continue
        used = [r for s in settings for r in rows if r.setting == s]
        own = ", ".join(_setting_name(s) for s in wanted)
        base = (f"{who_is_ours([r.run for r in used])} The paper prints no number for this claim (the summary states "
                f"it in words); φ, Myerson's reserve and optimum and second price's revenues are computed by amdlib. "
                f"The item's setting here: {own} (the summary's suggested replication; the paper's is unstated), "
                f"then the other settings the runs cover.")
        if item == MYERSON:
            path = folder / "virtual_valuation-amd-llm-myerson.png"
            priority_figure(rows, settings, found, path)
            caption = (f"The learned priority after the monotonicity fix, times the positive factor a that minimises "
                       f"its largest gap to Myerson's virtual value φ on the bids that can win (from Myerson's "
                       f"reserve to the 99th percentile of values, q99; the auction reads only the ranking and the "
                       f"sign of the priority, so a changes nothing), against φ (ironed where the law needs it), "
                       f"with Myerson's reserve (dashed) and ours (dotted). Below the reserve only the sign matters. "
                       f"The programs stored in results.json were run again in the sandbox on each run's bid grid. "
                       f"{base}{_note(used, found)}")
            table = myerson_table(rows, settings, found, f"Learned priority against φ (after the factor a of the "
                                                         f"figure), and revenue. {base}")
        else:
            path = folder / "virtual_valuation-amd-llm-reserve-price.png"
            reserve_figure(rows, settings, path)
            caption = (f"Second price's exact revenue against its reserve r (grey), Myerson's optimum (dashed "
                       f"line) and reserve φ⁻¹(0) (dashed), and each run's learned reserve, where its priority "
                       f"crosses zero, at its held-out revenue ± SE. A point on the grey curve is the second-price "
                       f"auction with that reserve. {base}")
            table = reserve_table(rows, settings, f"Reserves and revenues. {base}")
        views.append(ItemView(item, headline, (PaperFigure(path, caption, item=item),),
                              (table,), ids, (filled, len(wanted))))
    return views


__all__ = ["paper_items", "ours_label", "kind_label", "short_label", "who_is_ours", "pm", "REPORTED", "shapes", "read_row",
           "item_settings", "MYERSON", "RESERVE"]
