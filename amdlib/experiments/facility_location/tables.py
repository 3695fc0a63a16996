"""LLMMech's facility-location tables in their own layout, from the runs: Tables 1, 2, S6, S8 and
S9 (one setting per row), Table S7 (RegretNet on 1k against 25k profiles) and Table S5 (the weight
sets, an input listing).

:data:`SPECS` is the one definition of each table's grid (Table 1's is
:data:`~amdlib.experiments.facility_location.table1.TABLE1_GRID`) and of the runs that fill it
(weights, strict or RegretNet-measured epsilon, RegretNet's training size). Rows follow n, then
K, then the distribution; every setting of the grid has a row (a setting without a run says so).
Columns named ``... (paper)`` hold only numbers the paper printed (a regret column is blank where
the paper printed no regret); ``... (derived from paper)`` columns hold ratios computed from its
printed numbers; every other number comes from the runs. Cells are numbers rounded to the paper's
five decimals, regrets in their own columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from amdlib.core import paperdata
from amdlib.core.experiment import PaperTable
from amdlib.experiments.facility_location.ours import (Cell, Outcome, Pooled, by_cell, cell_order, epsilon_words, num,
                                                       neural_budgets, who_is_ours)
from amdlib.experiments.facility_location.paper import REGRETNET_25K, handcrafted, setting_key
from amdlib.experiments.facility_location.table1 import TABLE1_GRID


def grid(ns: Sequence[int], ks: Sequence[int], distributions: Sequence[str]) -> tuple[Cell, ...]:
    """The settings of a table, in row order (n, K, distribution)."""
    return tuple(sorted(((n, k, d) for n in ns for k in ks for d in distributions), key=cell_order))


ALL = ("uniform", "normal", "beta1", "beta2")


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's one-setting-per-row tables: its item, label, grid, the weights of its
    runs, and RegretNet's training size there (``regretnet_train``; Table 2's RegretNet@25k)."""

    item: str
    label: str
    grid: tuple[Cell, ...]
    weights: str
    regretnet_train: int = 1000

    @property
    def regretnet(self) -> str:
        """The paper's name of the table's RegretNet column."""
        return "RegretNet@25k" if self.regretnet_train >= REGRETNET_25K else "RegretNet"

    @property
    def regretnet_metric(self) -> str:
        return "regretnet25k" if self.regretnet_train >= REGRETNET_25K else "regretnet"

    def takes(self, o: Outcome) -> bool:
        """Whether an outcome fills a cell of this table: its setting and weights, epsilon 0 (strict,
        or measured from RegretNet as the paper's LLM columns are), RegretNet's training size."""
        return (o.cell in self.grid and o.weights == self.weights and float(o.run.params.get("epsilon", 0.0)) == 0.0
                and (o.grid or o.regretnet_train == self.regretnet_train))


SPECS: dict[str, TableSpec] = {s.item: s for s in (
    TableSpec("llmmech/table-1", "Table 1", TABLE1_GRID, "fixed"),
    TableSpec("llmmech/table-2", "Table 2", grid((5,), (1, 2, 3, 4), ("uniform",)), "none", REGRETNET_25K),
    TableSpec("llmmech/table-s6", "Table S6", grid((5,), (1, 2, 3, 4), ALL), "none"),
    TableSpec("llmmech/table-s8", "Table S8", grid((10,), (1, 2, 3, 4), ALL), "none"),
    TableSpec("llmmech/table-s9", "Table S9", grid((25,), (1, 2, 3, 4, 5), ALL), "none"),
)}
#: Table S7: Table 2's setting with RegretNet trained on 1k and on 25k profiles.
S7 = TableSpec("llmmech/table-s7", "Table S7", grid((5,), (1, 2, 3, 4), ("uniform",)), "none")


def paper_numbers(label: str, weights: str) -> dict[Cell, dict[str, float]]:
    """The paper's printed numbers of a table by setting (through the one paper-data reader)."""
    out: dict[Cell, dict[str, float]] = {}
    for row in paperdata.rows("facility_location", table=label):
        for cell in _cells_of(row.setting, weights):
            out.setdefault(cell, {})[row.metric] = row.value
    return out


def _cells_of(setting: str, weights: str) -> list[Cell]:
    parts = dict(p.split("=", 1) for p in setting.split() if "=" in p)
    dist = [p for p in setting.split() if "=" not in p]
    try:
        cell = (int(parts["n"]), int(parts["K"]), dist[0])
    except (KeyError, ValueError, IndexError):
        return []
    return [cell] if setting == setting_key(*cell, weights) else []


def printed(cells: Mapping[str, float], metric: str) -> tuple[float | None, float | None]:
    """A column's number and its regret as the paper printed them (None where it printed none:
    the paper prints a regret only where it is not zero)."""
    return cells.get(metric), cells.get(metric + "_regret") if metric in cells else None


def outcomes_for(spec: TableSpec, outcomes: Iterable[Outcome]) -> dict[Cell, Pooled]:
    """The pooled outcomes that fill ``spec``'s cells."""
    return by_cell(o for o in outcomes if spec.takes(o))


def _ratio(value: float | None, best: float | None) -> float | None:
    return value / best if value is not None and best else None


def _counts(spec: TableSpec, filled: Mapping[Cell, Pooled], paper: Mapping[Cell, Mapping[str, float]]) -> dict[str, int]:
    """How often ours is below the best percentile rule (paired), has no dense-audit lie above its
    epsilon, and has a ratio to the best handcrafted rule no larger than the paper's LLMMech-e
    (derived from its printed numbers)."""
    counts = {"better_per": 0, "equal_per": 0, "sp": 0, "ratio_le_e": 0}
    for cell, p in filled.items():
        verdict = p.verdict("percentile")
        counts["better_per"] += verdict.startswith("better")
        counts["equal_per"] += verdict.startswith(("equal", "tie"))
        sp = p.dense is not None and p.dense <= max(o.epsilon for o in p.outcomes) + 1e-12
        counts["sp"] += sp
        cells = paper.get(cell, {})
        ours_ratio = _ratio(p.cost, handcrafted(p.base_cost("percentile"), p.base_cost("dictatorial")))
        paper_ratio = _ratio(cells.get("llmmech_e"), handcrafted(cells.get("per"), cells.get("dict")))
        counts["ratio_le_e"] += bool(sp and ours_ratio is not None and paper_ratio is not None and ours_ratio <= paper_ratio)
    return counts


def _who(filled: Mapping[Cell, Pooled]) -> str:
    outs = [o for p in filled.values() for o in p.outcomes if not o.grid]
    models = sorted({str(o.run.params.get("model") or "LLM") for o in outs if o.run.params.get("proposer", "offline") != "offline"})
    return f"ours: {', '.join(models)}" if models else "ours: offline search, no LLM"


def headline(spec: TableSpec, filled: Mapping[Cell, Pooled], paper: Mapping[Cell, Mapping[str, float]]) -> str:
    """One line, the most telling first: how many settings, how ours stands (paired against the
    best percentile rule, the dense audit, the ratio beside the paper's LLMMech-e), what ours is."""
    if not filled:
        return f"no {spec.label} runs yet"
    c = _counts(spec, filled, paper)
    return (f"{len(filled)}/{len(spec.grid)} settings: below Per. in {c['better_per']}, equal in {c['equal_per']} "
            f"(paired); ratio to best handcrafted <= LLMMech-e's (derived from paper) in {c['ratio_le_e']}; no dense-audit "
            f"lie in {c['sp']} ({_who(filled)})")


def caption(spec: TableSpec, filled: Mapping[Cell, Pooled], extra: str = "") -> str:
    """The table's caption: the layout, what ours is, the epsilon, the neural budgets, which numbers are the paper's."""
    outs = [o for p in filled.values() for o in p.outcomes]
    grid_only = sum(all(o.grid for o in p.outcomes) for p in filled.values())
    parts = [f"{spec.label} in the paper's layout, one row per setting (n, then K, then distribution; "
             f"{len(filled)} of {len(spec.grid)} settings have runs here). Method columns and 'ours' are computed by "
             "the runs on their test profiles; 'regret' columns are max regrets on the sampled misreports, as the paper "
             "measures them.",
             who_is_ours(outs), epsilon_words(outs), neural_budgets(outs),
             "Columns marked (paper) are the paper's printed numbers (a regret column is blank where the paper printed "
             "none: it prints a regret only where it is not zero); (derived from paper) columns are ratios computed "
             "from its printed Per., Dict. and learned columns, which the paper does not print."]
    if grid_only:
        parts.append(f"{grid_only} setting(s) come from a run's in-notebook Table-1 grid: learned and percentile only.")
    if extra:
        parts.append(extra)
    return " ".join(p for p in parts if p)


def _parts(columns: Sequence[str], rows: Sequence[Sequence[Any]], *cuts: int) -> list[tuple[tuple, tuple]]:
    """Columns and rows cut before each index of ``cuts``, every part keeping the setting (n, K,
    distribution) in front: a page 1024 px wide shows about ten number columns without scrolling."""
    bounds = [3, *cuts, len(columns)]
    return [(tuple(columns[:3]) + tuple(columns[a:b]), tuple(tuple(r[:3]) + tuple(r[a:b]) for r in rows))
            for a, b in zip(bounds, bounds[1:])]


def table_view(spec: TableSpec, outcomes: Iterable[Outcome]) -> tuple[tuple[PaperTable, ...], dict[Cell, Pooled]]:
    """The table in the paper's layout (all of its settings) as three tables: every method's cost
    in the paper's column order with ours where its learned columns are; the regrets; the ratios
    to the best handcrafted rule and the paired verdict. And the pooled outcomes that fill it."""
    filled = outcomes_for(spec, outcomes)
    paper = paper_numbers(spec.label, spec.weights)
    rn = spec.regretnet
    columns = ("n", "K", "distribution", "Per.", "Dict.", "Cons.", "MoulinNet", rn, "ours", "NonSP", "LLMMech (paper)",
               "LLMMech-e (paper)",
               f"{rn} regret", "ours regret", "ours dense regret", "ours SE", "LLMMech regret (paper)",
               "LLMMech-e regret (paper)", "ours ratio", "LLMMech ratio (derived from paper)",
               "LLMMech-e ratio (derived from paper)", "ours vs Per. (paired)")
    rows = []
    for cell in spec.grid:
        n, k, dist = cell
        cells = paper.get(cell, {})
        paper_best = handcrafted(cells.get("per"), cells.get("dict"))
        (l_cost, l_regret), (e_cost, e_regret) = printed(cells, "llmmech"), printed(cells, "llmmech_e")
        derived = tuple(num(_ratio(cells.get(m), paper_best), 4) for m in ("llmmech", "llmmech_e"))
        p = filled.get(cell)
        if p is None:
            rows.append((n, k, dist, *([None] * 7), l_cost, e_cost, *([None] * 4), l_regret, e_regret, None, *derived,
                         "not run"))
            continue
        ours_best = handcrafted(p.base_cost("percentile"), p.base_cost("dictatorial"))
        rows.append((n, k, dist, *(num(p.base_cost(b)) for b in ("percentile", "dictatorial", "constant", "moulinnet", "regretnet")),
                     num(p.cost), num(p.base_cost("nonsp")), l_cost, e_cost,
                     num(p.base_regret("regretnet")), num(p.regret), num(p.dense), num(p.se), l_regret, e_regret,
                     num(_ratio(p.cost, ours_best), 4), *derived, p.verdict("percentile")))
    (cols1, rows1), (cols2, rows2), (cols3, rows3) = _parts(columns, rows, 12, 18)
    extra = f" Here RegretNet is trained on {spec.regretnet_train} profiles, as the paper's {rn} column." \
        if spec.regretnet_train >= REGRETNET_25K else ""
    first = PaperTable(cols1, rows1, caption(spec, filled, "Test social costs, in the paper's column order with ours "
                                             "where its learned columns are; the regrets, then the ratios and verdicts, "
                                             "follow in two more tables." + extra))
    second = PaperTable(cols2, rows2, (
        f"{spec.label}, continued: max regrets on the sampled misreports (as the paper measures them); 'ours dense "
        "regret': our mechanism's max regret on a dense misreport grid, which the sampled misreports can miss; 'ours SE': "
        "the standard error of our test cost; the paper's printed regrets, blank where it printed none (it prints a "
        "regret only where it is not zero)."))
    third = PaperTable(cols3, rows3, (
        f"{spec.label}, continued: ratios of a cost to the best handcrafted rule's, min(Per., Dict.): ours from our runs, "
        "the paper's derived from its printed numbers (it prints no ratio). 'ours vs Per.': paired comparison on fresh "
        "profiles (mean difference +- its standard error; 'equal' when the two place the same facilities). "
        + who_is_ours(o for p in filled.values() for o in p.outcomes)))
    return (first, second, third), filled


def s7_view(outcomes: Iterable[Outcome]) -> tuple[tuple[PaperTable, ...], dict[int, dict[str, Pooled]]]:
    """Table S7: RegretNet trained on 1k and on 25k profiles (n = 5, unweighted, uniform), beside
    our percentile rule, ours and NonSP; then the paper's printed RegretNet, RegretNet@25k, LLMMech
    and LLMMech-e. Returns the two tables and the pooled runs by K and training size."""
    outs = list(outcomes)
    paper = paper_numbers(S7.label, S7.weights)
    sizes = {"1k": 1000, "25k": REGRETNET_25K}
    by_k: dict[int, dict[str, Pooled]] = {}
    for label, size in sizes.items():
        spec = TableSpec(S7.item, S7.label, S7.grid, S7.weights, size)
        for cell, p in outcomes_for(spec, outs).items():
            by_k.setdefault(cell[1], {})[label] = p
    columns = ("n", "K", "distribution", "Per.", "RegretNet", "RegretNet regret", "RegretNet@25k", "RegretNet@25k regret",
               "ours", "ours regret", "NonSP",
               "RegretNet (paper)", "RegretNet regret (paper)", "RegretNet@25k (paper)",
               "RegretNet@25k regret (paper)", "LLMMech (paper)", "LLMMech regret (paper)", "LLMMech-e (paper)",
               "LLMMech-e regret (paper)")
    rows = []
    for cell in S7.grid:
        n, k, dist = cell
        cells = paper.get(cell, {})
        got = by_k.get(k, {})
        main = got.get("25k") or got.get("1k")
        net = [num(got[label].base_cost("regretnet") if f == "cost" else got[label].base_regret("regretnet"))
               if label in got else None for label in ("1k", "25k") for f in ("cost", "regret")]
        rows.append((n, k, dist, num(main.base_cost("percentile")) if main else None, *net,
                     num(main.cost) if main else None, num(main.regret) if main else None,
                     num(main.base_cost("nonsp")) if main else None,
                     *(x for m in ("regretnet", "regretnet25k", "llmmech", "llmmech_e") for x in printed(cells, m))))
    filled = {(5, k, "uniform"): p for k, got in by_k.items() for p in got.values()}
    both = sum(len(got) == 2 for got in by_k.values())
    extra = (f"RegretNet was trained on 1k and on 25k profiles in {both} of 4 settings here; each RegretNet column is "
             "its own run's network; 'ours' and the other methods are from the 25k run where there is one.")
    (cols1, rows1), (cols2, rows2), (cols3, rows3) = _parts(columns, rows, 11, 15)
    return (PaperTable(cols1, rows1, caption(S7, filled, extra)),
            PaperTable(cols2, rows2, "Table S7, continued: the paper's printed RegretNet numbers (a regret column is blank "
                                     "where the paper printed none)."),
            PaperTable(cols3, rows3, "Table S7, continued: the paper's printed LLMMech and LLMMech-e (GPT-4o mini's; a "
                                     "regret column is blank where the paper printed none).")), by_k


def s5_view(printed_sets: Mapping[int, Sequence[str]]) -> tuple[PaperTable, int, int]:
    """Table S5: the package's weight sets beside the paper's printed ones (``printed_sets``: n ->
    ten strings as printed). Returns the table and (sets equal, sets listed)."""
    from amdlib.problems.facility.data import TABLE_S5

    ours_sets = {n: [" ".join(str(w) for w in ws) for ws in TABLE_S5.get(n, ())] for n in (5, 10)}
    rows, equal, total = [], 0, 0
    for i in range(10):
        row: list[Any] = [i + 1]
        for n in (5, 10):
            mine = ours_sets[n][i] if i < len(ours_sets[n]) else ""
            theirs = printed_sets.get(n, [""] * 10)[i] if i < len(printed_sets.get(n, ())) else ""
            same = bool(mine) and mine.split() == theirs.split()
            equal += same
            total += 1
            row += [mine, theirs, "equal" if same else "DIFFERENT"]
        rows.append(tuple(row))
    columns = ("#", "n=5 (package)", "n=5 (paper)", "n=5", "n=10 (package)", "n=10 (paper)", "n=10")
    cap = ("Table S5: the ten weight sets the package uses (amdlib.problems.facility.data.TABLE_S5, read by the runs "
           "with weights 1..10) beside the ten the paper prints (its Table S5, transcribed in the catalogue). "
           f"{equal} of {total} are equal. An input listing: no run computes it.")
    return PaperTable(columns, tuple(rows), cap), equal, total


__all__ = ["TableSpec", "SPECS", "S7", "grid", "paper_numbers", "printed", "outcomes_for", "headline", "caption",
           "table_view", "s7_view", "s5_view"]
