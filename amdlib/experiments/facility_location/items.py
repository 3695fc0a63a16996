"""LLMMech's facility-location items from the runs (the ``paper_items`` hook), and the report's
figures by paper table (the ``paper_figures`` hook).

One :class:`ItemView` per item the runs show: Tables 1, 2, S5-S9 in the paper's layout
(:mod:`.tables`) with a figure by setting; Figures 1 and S6 as box plots over the ten Table S5
weight sets of each baseline's cost minus ours, one mechanism learned per weight set (one run
each); Figures S9 and S10 against epsilon on beta2; and, for the items the package cannot rerun
as printed (Figures 2, S7, S8), what the catalogue says it shows instead. With ``folder=None``
only the headlines and cells are computed (``amd paper``'s listing); with a folder the figures are
drawn there and the tables built. The paper printed no numbers for Figures 1, S6, S9, S10 and S7,
so none are drawn in them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from amdlib.core import paperdata
from amdlib.core.experiment import ItemView, PaperFigure, PaperTable, RunView
from amdlib.experiments.facility_location import figures as draw
from amdlib.experiments.facility_location.ours import (SHORT, Cell, Outcome, Pooled, by_cell, cell_order, epsilon_words,
                                                       fmt, neural_budgets, num, pool, read_all, who_is_ours)
from amdlib.experiments.facility_location.tables import (S7, SPECS, TableSpec, headline, paper_numbers, printed, s5_view,
                                                         s7_view, table_view)

EXPERIMENT = "facility_location"
#: The baselines of the box plots and epsilon curves, in the paper's order (our result keys).
COMPARED = ("percentile", "dictatorial", "constant", "moulinnet", "regretnet", "nonsp")
#: The SP baselines a headline counts ours against.
SP_BASELINES = ("percentile", "dictatorial", "moulinnet")
_PAPER_STYLE = {"per": ("Per.", ("o", "dimgray")), "moulinnet": ("MoulinNet", ("s", "tab:blue")),
                "regretnet": ("RegretNet", ("P", "tab:orange")), "regretnet25k": ("RegretNet@25k", ("P", "tab:orange")),
                "llmmech": ("LLMMech", ("^", "tab:green")), "llmmech_e": ("LLMMech-e", ("v", "tab:purple"))}
_OURS_STYLE = {"ours: learned": ("D", "tab:red"), "ours: Per.": ("o", "black"), "ours: MoulinNet": ("s", "navy"),
               "ours: RegretNet": ("P", "darkorange")}
_OURS_BASE = {"ours: Per.": "percentile", "ours: MoulinNet": "moulinnet", "ours: RegretNet": "regretnet"}


def _png(folder: Path, name: str) -> Path:
    return folder / f"{EXPERIMENT}-{name}.png"


def _anchor(item: str, i: int = 1) -> str:
    return f"paper-{EXPERIMENT}-{item.split('/')[-1]}-{i}"


def _ids(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.run.run_id for o in outcomes))


# ------------------------------------------------------------------ tables 1, 2, S6, S8, S9
def _series(filled: Mapping[Cell, Pooled]) -> dict[Cell, dict[str, list[tuple[float, float | None]]]]:
    """Ours by setting and series for :func:`figures.cells_figure` (each pooled run's own value)."""
    out: dict[Cell, dict[str, list[tuple[float, float | None]]]] = {}
    for cell, p in filled.items():
        mine: dict[str, list[tuple[float, float | None]]] = {"ours: learned": [(o.cost, o.se) for o in p.outcomes if o.cost is not None]}
        for series, name in _OURS_BASE.items():
            mine[series] = [(o.base[name][0], None) for o in p.outcomes if o.base.get(name, (None,))[0] is not None]
        out[cell] = mine
    return out


def table_figure(spec: TableSpec, filled: Mapping[Cell, Pooled], path: Path, caption: str) -> PaperFigure:
    """A table's settings along x: the paper's printed Per., MoulinNet, RegretNet, LLMMech and
    LLMMech-e hollow, ours filled."""
    paper = paper_numbers(spec.label, spec.weights)
    metrics = ("per", "moulinnet", spec.regretnet_metric, "llmmech", "llmmech_e")
    series = {m: _PAPER_STYLE[m] for m in metrics}
    weights = "fixed weights" if spec.weights == "fixed" else "unweighted"
    draw.cells_figure(spec.grid, paper, _series(filled), series, _OURS_STYLE,
                      f"Facility location, {spec.label} ({weights}): social cost, the paper's printed numbers beside ours",
                      path)
    text = (f"{spec.label} by setting. Hollow: the paper's printed Per., MoulinNet, {spec.regretnet}, LLMMech and LLMMech-e; "
            f"filled: ours (error bars: SE over seeds, or the run's own SE). " + caption)
    return PaperFigure(path, text, item=spec.item, anchor=_anchor(spec.item), tables=(spec.label,))


def table_item(spec: TableSpec, runs: Sequence[RunView], outcomes: Sequence[Outcome], folder: Path | None) -> ItemView | None:
    """Table 1, 2, S6, S8 or S9: the table in the paper's layout and a figure by setting."""
    tabs, filled = table_view(spec, outcomes)
    if not filled:
        return None
    paper = paper_numbers(spec.label, spec.weights)
    figs: tuple[PaperFigure, ...] = ()
    if folder is not None:
        if spec.label == "Table 1":
            from amdlib.experiments.facility_location.table1 import table1_figure

            fig = table1_figure([r for r in runs if str(r.params.get("weights")) == "fixed"], _png(folder, "table-1"))
            figs = (fig,) if fig else ()
        else:
            figs = (table_figure(spec, filled, _png(folder, spec.item.split("/")[-1]), tabs[0].caption),)
    used = _ids(o for p in filled.values() for o in p.outcomes)
    return ItemView(spec.item, headline(spec, filled, paper), figs, tabs if folder is not None else (), used,
                    (len(filled), len(spec.grid)))


def s7_item(outcomes: Sequence[Outcome], folder: Path | None) -> list[ItemView]:
    """Table S7 (RegretNet on 1k and 25k profiles) and Figure S7's stand-in (the same runs drawn)."""
    tabs, by_k = s7_view(outcomes)
    if not by_k:
        return []
    both = {k: got for k, got in by_k.items() if len(got) == 2}
    lower = sum(got["25k"].base_cost("regretnet") is not None and got["1k"].base_cost("regretnet") is not None
                and got["25k"].base_cost("regretnet") < got["1k"].base_cost("regretnet") for got in both.values())
    above = sum((got["25k"].base_cost("regretnet") or 0) > (got["25k"].base_cost("percentile") or float("inf"))
                for got in both.values())
    outs = [o for got in by_k.values() for p in got.values() for o in p.outcomes]
    budget = "; ".join(dict.fromkeys(o.budgets["regretnet"].split(":")[0] for o in outs if "regretnet" in o.budgets))
    sizes = ", ".join(sorted({label for got in by_k.values() for label in got}))
    head = (f"RegretNet on 25k vs 1k profiles: cheaper on 25k in {lower}/{len(both)} settings, above our Per. in "
            f"{above}/{len(both)} (RegretNet: {budget or 'not trained'})" if both else f"RegretNet runs on {sizes} profiles only")
    used = _ids(outs)
    views = [ItemView(S7.item, head, (), tabs if folder is not None else (), used, (len(both), len(S7.grid)))]
    figs: tuple[PaperFigure, ...] = ()
    if folder is not None:
        paper = paper_numbers(S7.label, S7.weights)
        ks = [k for _, k, _ in S7.grid]
        ours = {label: {k: (got[label].base_cost("regretnet"), got[label].base_regret("regretnet"))
                        for k, got in by_k.items() if label in got} for label in ("1k", "25k")}
        theirs = {label: {k: (paper.get((5, k, "uniform"), {}).get(m), paper.get((5, k, "uniform"), {}).get(m + "_regret"))
                          for k in ks} for label, m in (("1k", "regretnet"), ("25k", "regretnet25k"))}
        reference = {k: (got.get("25k") or got.get("1k")).base_cost("percentile") for k, got in by_k.items()}
        path = _png(folder, "figure-s7")
        draw.regretnet_figure(ks, ours, theirs, reference,
                              "RegretNet with fixed hyperparameters on 1k vs 25k profiles (n = 5, unweighted, uniform)", path)
        cap = ("Figure S7's stand-in (its setting is blank in the paper's text): RegretNet with the fixed hyperparameters of "
               "Section 4.2 (rho = 1, batch 50), trained on 1k and on 25k profiles in Table 2's setting, its test cost and "
               "max regret against K. Filled: ours; hollow: the paper's printed Table S7 numbers (a regret it printed none "
               "for is not drawn). Figure S7 itself prints no numbers. " + neural_budgets(outs)
               + " No Optuna tuning (the paper tunes RegretNet for Figure 1, not here). The same runs' learned "
               "mechanisms are Table S7's 'ours'. " + who_is_ours(outs))
        figs = (PaperFigure(path, cap, item="llmmech/figure-s7", anchor=_anchor("llmmech/figure-s7")),)
    views.append(ItemView("llmmech/figure-s7", head, figs, (), used, (0, 0)))
    return views


def s5_item(outcomes: Sequence[Outcome], folder: Path | None) -> ItemView:
    """Table S5: the weight sets the package uses beside the paper's printed ones."""
    item = paperdata.catalogue().item("llmmech/table-s5")
    raw = item.setting.get("printed") or {}
    printed_sets = {int(n): [str(s) for s in sets] for n, sets in raw.items()}
    table, equal, total = s5_view(printed_sets)
    used = _ids(o for o in outcomes if o.weight_set is not None)
    head = f"{equal} of {total} weight sets equal the paper's printed ones; {len(used)} run(s) here use them"
    return ItemView(item.id, head, (), (table,) if folder is not None else (), used, (equal, total))


# ------------------------------------------------------------------ figures 1, S6: box plots over the weight sets
def weight_set_panels(outcomes: Iterable[Outcome], distribution: str | None = None,
                      epsilon: float | None = 0.0) -> dict[tuple[Cell, float], dict[int, Pooled]]:
    """The runs with a Table S5 weight set (epsilon from the parameter, not RegretNet), pooled by
    (setting, epsilon) and weight set; only ``epsilon`` when given, only ``distribution`` when given."""
    groups: dict[tuple[Cell, float], dict[int, list[Outcome]]] = {}
    for o in outcomes:
        if o.weight_set is None or o.grid or o.epsilon_source != "value":
            continue
        if (distribution is not None and o.cell[2] != distribution) or (epsilon is not None and o.epsilon != epsilon):
            continue
        groups.setdefault((o.cell, o.epsilon), {}).setdefault(o.weight_set, []).append(o)
    out = {}
    for key in sorted(groups, key=lambda k: (cell_order(k[0]), k[1])):
        pooled = {ws: pool(os) for ws, os in sorted(groups[key].items())}
        out[key] = {ws: p for ws, p in pooled.items() if p is not None}
    return out


def differences(sets: Mapping[int, Pooled], regret: bool = False) -> dict[str, list[float]]:
    """Per baseline, its cost (or sampled regret) minus ours, one value per weight set."""
    out: dict[str, list[float]] = {}
    for name in COMPARED:
        vals = []
        for p in sets.values():
            theirs = p.base_regret(name) if regret else p.base_cost(name)
            mine = p.regret if regret else p.cost
            if theirs is not None and mine is not None:
                vals.append(theirs - mine)
        if vals:
            out[SHORT[name]] = vals
    return out


def _cheaper(panels: Mapping[Any, Mapping[int, Pooled]]) -> str:
    """How often ours costs less than each SP baseline, over every (panel, weight set)."""
    parts = []
    for name in SP_BASELINES:
        pairs = [(p.base_cost(name), p.cost) for sets in panels.values() for p in sets.values()]
        pairs = [(t, m) for t, m in pairs if t is not None and m is not None]
        if pairs:
            parts.append(f"{SHORT[name]} {sum(m < t for t, m in pairs)}/{len(pairs)}")
    return ", ".join(parts)


def _rerun_panels(item_id: str) -> list[Cell]:
    """The panels an item's catalogue entry says the package reruns (``setting.rerun_as``)."""
    spec = paperdata.catalogue().item(item_id).setting.get("rerun_as") or []
    out: list[Cell] = []
    for one in spec if isinstance(spec, list) else [spec]:
        for n in one.get("n") if isinstance(one.get("n"), list) else [one.get("n")]:
            for k in one.get("K") if isinstance(one.get("K"), list) else [one.get("K")]:
                for d in one.get("distributions") or []:
                    out.append((int(n), int(k), str(d)))
    return out


def _panel_title(cell: Cell, sets: Mapping[int, Pooled]) -> str:
    n, k, dist = cell
    return f"n = {n}, K = {k}, {dist} ({len(sets)} of 10 weight sets)"


def _boxes_caption(item: str, panels: Mapping[Any, Mapping[int, Pooled]], extra: str) -> str:
    outs = [o for sets in panels.values() for p in sets.values() for o in p.outcomes]
    return " ".join(x for x in (
        f"{item}: box plots over the Table S5 weight sets of each baseline's test social cost minus ours (above the red "
        "line: the baseline costs more than ours), one mechanism learned per weight set (one run each, epsilon = 0). The "
        "paper plots the same differences with respect to LLMMech-e; it printed no numbers for these boxes, so none of "
        "the paper's are drawn.", extra, who_is_ours(outs), neural_budgets(outs),
        "The paper's RegretNet here is trained on 25k profiles and tuned with Optuna; ours is not tuned.") if x)


def figure1_items(outcomes: Sequence[Outcome], folder: Path | None) -> list[ItemView]:
    """Figure 1 (the catalogue's rerun panels) and Figure S6 (every panel the runs cover)."""
    panels = {key[0]: sets for key, sets in weight_set_panels(outcomes).items()}
    if not panels:
        return []
    s6_grid = [(n, k, d) for n in (5, 10) for k in (1, 2, 3, 4) for d in ("uniform", "normal", "beta1", "beta2")]
    views = []
    for item, wanted, extra in (
            ("llmmech/figure-1", _rerun_panels("llmmech/figure-1"),
             "The paper does not say which panels Figure 1 shows; these are the catalogue's rerun panels."),
            ("llmmech/figure-s6", s6_grid, "")):
        mine = {c: sets for c, sets in panels.items() if c in wanted}
        if not mine:
            continue
        complete = sum(len(sets) == 10 for sets in mine.values())
        head = (f"{len(mine)} panel(s), {complete} with all 10 weight sets, one mechanism each: ours cheaper than "
                f"{_cheaper(mine)} weight sets")
        figs: tuple[PaperFigure, ...] = ()
        if folder is not None:
            path = _png(folder, item.split("/")[-1])
            boxes = {_panel_title(c, sets): differences(sets) for c, sets in mine.items()}
            label = paperdata.catalogue().item(item).label
            draw.boxes_figure(boxes, f"Facility location, {label}: baseline cost minus ours over the weight sets",
                              "social cost: baseline - ours", path)
            figs = (PaperFigure(path, _boxes_caption(label, mine, extra), item=item, anchor=_anchor(item)),)
        used = _ids(o for sets in mine.values() for p in sets.values() for o in p.outcomes)
        views.append(ItemView(item, head, figs, (), used, (sum(c in panels and len(panels[c]) == 10 for c in wanted), len(wanted))))
    return views


# ------------------------------------------------------------------ figures S9, S10: against epsilon on beta2
def _epsilon_grid() -> tuple[tuple[int, int], list[float]]:
    spec = paperdata.catalogue().item("llmmech/figure-s9").setting.get("rerun_as") or {}
    return (int(spec.get("n", 5)), int(spec.get("K", 3))), [float(e) for e in spec.get("epsilon") or [0.0]]


def epsilon_items(outcomes: Sequence[Outcome], folder: Path | None) -> list[ItemView]:
    """Figures S9 and S10 from the beta2 runs with a weight set, by epsilon (the catalogue's (n, K))."""
    (n, k), wanted = _epsilon_grid()
    found = {key[1]: sets for key, sets in weight_set_panels(outcomes, "beta2", epsilon=None).items()
             if key[0] == (n, k, "beta2")}
    if not found:
        return []
    epsilons = sorted(found)
    filled = sum(len(found.get(e, {})) for e in wanted)
    total = 10 * len(wanted)
    outs = [o for sets in found.values() for p in sets.values() for o in p.outcomes]
    used = _ids(outs)
    sampled_ok = sum(p.regret is not None and p.regret <= e + 1e-12 for e, sets in found.items() for p in sets.values())
    dense_ok = sum(p.dense is not None and p.dense <= e + 1e-12 for e, sets in found.items() for p in sets.values())
    count = sum(len(sets) for sets in found.values())
    per = [sum(differences(found[e]).get("Per.", [0.0])) / max(1, len(differences(found[e]).get("Per.", []))) for e in epsilons]
    head = (f"{count} runs ({len(epsilons)} epsilons, n={n} K={k} beta2): ours' regret <= epsilon in {sampled_ok}/{count} "
            f"sampled, {dense_ok}/{count} dense audit; Per. minus ours {per[0]:+.5f} at epsilon {epsilons[0]:g}"
            + (f", {per[-1]:+.5f} at {epsilons[-1]:g}" if len(per) > 1 else ""))
    common = " ".join(x for x in (
        f"n = {n}, K = {k}, beta2 peaks, the Table S5 weight sets (the paper leaves n, K and its epsilon grid blank; the "
        f"catalogue's rerun grid is epsilon {', '.join(f'{e:g}' for e in wanted)}, {filled} of its {total} runs are here). "
        "The paper printed no numbers for this figure, so none of the paper's are drawn; it plots differences with "
        "respect to LLMMech-e.", who_is_ours(outs), neural_budgets(outs)) if x)
    s9 = s10 = ()
    if folder is not None:
        cost = {SHORT[name]: [] for name in COMPARED}
        regret = {SHORT[name]: [] for name in COMPARED}
        for e in epsilons:
            dc, dr = differences(found[e]), differences(found[e], regret=True)
            for name in cost:
                cost[name].append(sum(dc[name]) / len(dc[name]) if dc.get(name) else None)
                regret[name].append(sum(dr[name]) / len(dr[name]) if dr.get(name) else None)
        cost = {k_: v for k_, v in cost.items() if any(x is not None for x in v)}
        mine = {"sampled misreports (test)": [[p.regret for p in found[e].values() if p.regret is not None] for e in epsilons],
                "dense audit (test)": [[p.dense for p in found[e].values() if p.dense is not None] for e in epsilons]}
        path = _png(folder, "figure-s9")
        draw.epsilon_figure(epsilons, cost, regret, mine, "Facility location, Figure S9: relaxing strategy-proofness on beta2", path)
        s9 = (PaperFigure(path, "Figure S9: top, for each baseline, its test social cost (black) and its sampled-misreport "
                          "regret (blue) minus ours, averaged over the weight sets, against epsilon; bottom, our max "
                          "regret against epsilon, measured by the sampled misreports (as the paper) and by the dense "
                          "audit, with the line regret = epsilon. " + common, item="llmmech/figure-s9",
                          anchor=_anchor("llmmech/figure-s9")),)
        path = _png(folder, "figure-s10")
        boxes = {f"epsilon = {e:g} ({len(found[e])} weight sets)": differences(found[e]) for e in epsilons}
        draw.boxes_figure(boxes, "Facility location, Figure S10: baseline cost minus ours, by epsilon (beta2)",
                          "social cost: baseline - ours", path, columns=min(5, len(boxes)))
        s10 = (PaperFigure(path, "Figure S10: one panel per epsilon, box plots over the weight sets of each baseline's "
                           "test social cost minus ours (one mechanism learned per weight set and epsilon). " + common,
                           item="llmmech/figure-s10", anchor=_anchor("llmmech/figure-s10")),)
    return [ItemView("llmmech/figure-s9", head, s9, (), used, (filled, total)),
            ItemView("llmmech/figure-s10", head, s10, (), used, (filled, total))]


# ------------------------------------------------------------------ figures 2, S8: learned programs (not recoverable)
def _program_row(cell: Cell, p: Pooled, extra: Sequence[Any] = ()) -> tuple[Any, ...]:
    o = p.first
    return (*cell, *extra, num(o.cost), num(o.se), num(o.regret), num(o.dense), o.chosen, o.thought or "(none)",
            o.run.run_id)


_PROGRAM_COLUMNS = ("ours: test social cost", "SE", "max regret (sampled)", "dense-audit regret", "chosen",
                    "idea line", "run")


def program_items(outcomes: Sequence[Outcome], folder: Path | None) -> list[ItemView]:
    """Figure 2 (n = 5, K = 2, uniform, fixed weights) and Figure S8 (Table 1's normal cells)
    stand-ins: our learned programs, as code, with their test cost and dense-audit regret."""
    fixed = by_cell(o for o in outcomes if o.weights == "fixed" and not o.grid and o.epsilon_source == "value"
                    and o.epsilon == 0.0 and o.code)
    views = []
    two = fixed.get((5, 2, "uniform"))
    if two is not None:
        o = two.first
        who = "offline search, no LLM" if o.run.params.get("proposer", "offline") == "offline" else o.run.params.get("model")
        head = (f"our program (n=5 K=2 uniform, fixed weights) shown as code: test cost {fmt(o.cost)}, dense-audit regret "
                f"{fmt(o.dense)} ({who})")
        figs, tabs = (), ()
        if folder is not None:
            path = _png(folder, "figure-2")
            weights = ", ".join(f"{w:g}" for w in o.run.results.get("setting", {}).get("weights", []))
            draw.code_figure([(f"Ours, n = 5, K = 2, uniform, fixed weights [{weights}] (run {o.run.run_id}): test "
                               f"cost {fmt(o.cost)} +- {fmt(o.se)}, max regret {fmt(o.regret)} sampled, {fmt(o.dense)} dense "
                               "audit", o.code)], path)
            cap = ("Figure 2's stand-in: the program our run learned in that setting, printed as code (the task's template "
                   "docstring left out). The paper's mechanism is GPT-4o mini's (weighted medians of the left and right "
                   "halves; its code is in an appendix we do not have), so it cannot be rerun. "
                   + who_is_ours(two.outcomes) + " " + epsilon_words(two.outcomes))
            figs = (PaperFigure(path, cap, item="llmmech/figure-2", anchor=_anchor("llmmech/figure-2")),)
            tabs = (PaperTable(("n", "K", "distribution", *_PROGRAM_COLUMNS), (_program_row((5, 2, "uniform"), two),),
                               "The program above: its test cost, standard error, regrets and how it was chosen (all "
                               "ours; the paper omits its mechanism's fitness). " + who_is_ours(two.outcomes)),)
        views.append(ItemView("llmmech/figure-2", head, figs, tabs, two.runs, (0, 0)))
    candidates = [c for c in ((5, 3, "normal"), (10, 4, "normal")) if c in fixed]
    if candidates:
        paper = paper_numbers("Table 1", "fixed")
        rows, programs = [], []
        for cell in candidates:
            p = fixed[cell]
            fams = sorted((f for f in p.first.families if isinstance(f.get("train_social_cost"), (int, float))),
                          key=lambda f: f["train_social_cost"])
            best = fams[0]["family"] if fams else "-"
            rep = next((f for f in fams if f.get("family") == "weight_replicated"), None)
            o = p.first
            rows.append((*cell, best, num(rep.get("test_social_cost")) if rep else None,
                         *printed(paper.get(cell, {}), "llmmech_e"), num(o.cost), num(o.dense), o.run.run_id))
            programs.append((f"Ours, n = {cell[0]}, K = {cell[1]}, normal, fixed weights (run {p.first.run.run_id}): test "
                             f"cost {fmt(p.first.cost)}, dense-audit regret {fmt(p.first.dense)}; best fitted family on the "
                             f"training profiles: {best}", p.first.code))
        head = "our programs shown as code; " + "; ".join(f"n={r[0]} K={r[1]} normal: best fitted family {r[3]}, ours {fmt(r[7])}"
                                                         for r in rows)
        figs, tabs = (), ()
        if folder is not None:
            outs = [o for c in candidates for o in fixed[c].outcomes]
            path = _png(folder, "figure-s8")
            draw.code_figure(programs, path)
            cap = ("Figure S8's stand-in: the paper's mechanism (GPT-4o mini's: repeat each agent as often as its weight, then "
                   "a percentile rule) is the package's weight_replicated strategy-proof family. Table 1's normal cells "
                   "where the paper's LLMMech-e is second (n and K are blank in its text: n = 5, K = 3 or n = 10, K = 4) "
                   "start from the best fitted family member; our learned programs there, as code. "
                   + who_is_ours(outs))
            figs = (PaperFigure(path, cap, item="llmmech/figure-s8", anchor=_anchor("llmmech/figure-s8")),)
            tabs = (PaperTable(("n", "K", "distribution", "best fitted family (training)",
                                "weight_replicated family: test cost", "LLMMech-e (paper)", "LLMMech-e regret (paper)",
                                "ours: test social cost", "ours: dense-audit regret", "run"),
                               tuple(rows), "Which strategy-proof family fitted best on the training profiles (fixed "
                               "weights), the weight-replicated family's test cost, and ours; LLMMech-e (paper) is Table "
                               "1's printed number (its regret blank where the paper printed none). " + who_is_ours(outs)),)
        views.append(ItemView("llmmech/figure-s8", head, figs, tabs, _ids(o for c in candidates for o in fixed[c].outcomes),
                              (0, 0)))
    return views


# ------------------------------------------------------------------ the hooks
def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """The ``paper_items`` hook: one view per LLMMech facility-location item the runs show."""
    outcomes = read_all(runs, grids=True)
    plain = [o for o in outcomes if not o.grid]
    views: list[ItemView | None] = [table_item(SPECS["llmmech/table-1"], runs, outcomes, folder),
                                    table_item(SPECS["llmmech/table-2"], runs, plain, folder),
                                    s5_item(plain, folder)]
    views += [table_item(SPECS[item], runs, plain, folder) for item in ("llmmech/table-s6", "llmmech/table-s8",
                                                                          "llmmech/table-s9")]
    views += s7_item(plain, folder) + figure1_items(plain, folder) + epsilon_items(plain, folder)
    views += program_items(plain, folder)
    return [v for v in views if v is not None]


def paper_figures(runs: Sequence[RunView], folder: Path) -> list[PaperFigure]:
    """The ``paper_figures`` hook: Table 1 over its 32 cells, and a figure by setting for each other
    table the runs' ``paper_rows`` fill (Tables 2, S6, S8, S9), so no table's settings are capped."""
    from amdlib.experiments.facility_location.table1 import paper_figures as table1_figures

    out = list(table1_figures(runs, folder))
    plain = read_all(runs)
    for item in ("llmmech/table-2", "llmmech/table-s6", "llmmech/table-s8", "llmmech/table-s9"):
        spec = SPECS[item]
        tabs, filled = table_view(spec, plain)
        if filled:
            out.append(table_figure(spec, filled, _png(folder, item.split("/")[-1]), tabs[0].caption))
    return out


__all__ = ["paper_items", "paper_figures", "table_item", "s7_item", "s5_item", "figure1_items", "epsilon_items",
           "program_items", "weight_set_panels", "differences"]
