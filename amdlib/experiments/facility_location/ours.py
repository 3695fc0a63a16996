"""What the runs say, setting by setting: a complete facility-location run read for the paper items.

:func:`read` turns a run (a :class:`RunView`) into :class:`Outcome`: its setting, the learned
mechanism's test cost, standard error, sampled and dense-audit regret, every baseline's cost and
regret, the paired verdicts and the neural budgets; the in-notebook Table-1 grid of a run gives
partial outcomes (learned and percentile only). :func:`pool` takes the outcomes of one setting,
keeps the runs of the largest budget and pools their seeds. :func:`ours_label` and friends are
the captions' words for what "ours" is and what the neural baselines were trained with.
Everything here is read from results.json: no number is computed or copied from the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from amdlib.core.experiment import RunView
from amdlib.experiments.facility_location.paper import verdict_text
from amdlib.experiments.shared import llm_label

#: (n, K, distribution): one setting of a paper table.
Cell = tuple[int, int, str]
#: The distributions in the paper's order (rows sort n, then K, then this).
DISTRIBUTION_ORDER = ("uniform", "normal", "beta1", "beta2")
#: Our baselines in the paper's column order, with the paper's column names.
BASELINES = ("percentile", "dictatorial", "constant", "moulinnet", "regretnet", "nonsp")
SHORT = {"percentile": "Per.", "dictatorial": "Dict.", "constant": "Cons.", "moulinnet": "MoulinNet",
         "regretnet": "RegretNet", "nonsp": "NonSP"}
NEURAL = ("moulinnet", "regretnet")
#: Params that say nothing about what a run computed (left out when runs are grouped by params).
_NOT_SETTING = ("seed", "output_dir", "workers", "concurrency", "request_timeout_s")


def cell_order(cell: Cell) -> tuple[int, int, int]:
    """The sort key of a setting: n, then K, then the distribution in the paper's order."""
    n, k, dist = cell
    return n, k, DISTRIBUTION_ORDER.index(dist) if dist in DISTRIBUTION_ORDER else len(DISTRIBUTION_ORDER)


def _part(data: Any, key: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> float | None:
    """A finite real number as float, else None (bools, strings, NaN and None are not numbers)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class Outcome:
    """One run's outcome in one setting. ``grid`` marks a row of a run's in-notebook Table-1 grid
    (learned and percentile only). ``epsilon`` is the threshold the search used (measured when
    ``epsilon_source`` is ``regretnet``)."""

    run: RunView
    cell: Cell
    weights: str
    epsilon: float
    epsilon_source: str
    regretnet_train: int
    cost: float | None
    se: float | None
    regret: float | None
    dense: float | None
    code: str = ""
    thought: str = ""
    chosen: str = ""
    base: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    budgets: Mapping[str, str] = field(default_factory=dict)
    verdicts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    verdict_profiles: int | None = None
    families: tuple[Mapping[str, Any], ...] = ()
    grid: bool = False

    @property
    def seed(self) -> int:
        return int(self.run.params.get("seed", 0))

    @property
    def weight_set(self) -> int | None:
        """The Table S5 weight set (1..10) when the run used one."""
        return int(self.weights) if self.weights.isdigit() and 1 <= int(self.weights) <= 10 else None


def read(run: RunView) -> Outcome | None:
    """A complete run's own setting as an :class:`Outcome` (None when results lack the learned
    mechanism's cost, e.g. a run of an older shape)."""
    params, res = run.params, run.results
    best, base, setting = _part(res, "best"), _part(res, "baselines"), _part(res, "setting")
    try:
        cell = (int(params["n_agents"]), int(params["n_facilities"]), str(params["distribution"]))
    except (KeyError, TypeError, ValueError):
        return None
    if _num(best.get("test_social_cost")) is None:
        return None
    eps_source = _part(setting, "epsilon_source")
    epsilon = _num(setting.get("epsilon"))
    return Outcome(
        run=run, cell=cell, weights=str(params.get("weights", "fixed")),
        epsilon=epsilon if epsilon is not None else float(params.get("epsilon", 0.0)),
        epsilon_source=str(eps_source.get("source") or params.get("epsilon_source", "value")),
        regretnet_train=int(params.get("regretnet_train", 1000)),
        cost=_num(best.get("test_social_cost")), se=_num(best.get("test_social_cost_se")),
        regret=_num(best.get("max_regret")), dense=_num(best.get("dense_audit_max_regret")),
        code=str(best.get("code") or ""), thought=str(best.get("thought") or ""), chosen=str(best.get("chosen") or ""),
        base={name: (_num(_part(base, name).get("social_cost")), _num(_part(base, name).get("max_regret")))
              for name in BASELINES if _part(base, name)},
        budgets={name: str(_part(base, name)["budget_note"]) for name in NEURAL if _part(base, name).get("budget_note")},
        verdicts={name: v for name, v in _part(_part(res, "verdicts"), "vs").items() if isinstance(v, Mapping)},
        verdict_profiles=_part(res, "verdicts").get("profiles"),
        families=tuple(f for f in res.get("families") or () if isinstance(f, Mapping)),
    )


def grid_rows(run: RunView) -> list[Outcome]:
    """The rows of a run's in-notebook Table-1 grid (``table1_grid``: fixed weights, epsilon 0)."""
    out = []
    for row in _part(run.results, "table1").get("rows") or []:
        if not isinstance(row, Mapping) or _num(row.get("learned")) is None:
            continue
        try:
            cell = (int(row["n"]), int(row["K"]), str(row["distribution"]))
        except (KeyError, TypeError, ValueError):
            continue
        out.append(Outcome(run=run, cell=cell, weights="fixed", epsilon=0.0, epsilon_source="value",
                           regretnet_train=int(run.params.get("regretnet_train", 1000)), cost=_num(row.get("learned")),
                           se=_num(row.get("learned_se")), regret=_num(row.get("learned_max_regret")),
                           dense=_num(row.get("dense_audit_max_regret")), code=str(row.get("code") or ""),
                           base={"percentile": (_num(row.get("percentile")), _num(row.get("percentile_max_regret")))},
                           grid=True))
    return out


def read_all(runs: Iterable[RunView], grids: bool = False) -> list[Outcome]:
    """Every readable run's outcome (with ``grids``, also their in-notebook Table-1 grid rows)."""
    out = []
    for run in runs:
        one = read(run)
        if one is not None:
            out.append(one)
        if grids:
            out += grid_rows(run)
    return out


def _group(o: Outcome) -> tuple:
    """What a run computed, less its seed: the runs of one group pool as seeds."""
    return (o.grid, tuple(sorted((k, repr(v)) for k, v in o.run.params.items() if k not in _NOT_SETTING)))


def _budget(o: Outcome) -> tuple:
    """A group's budget, compared when one setting has runs of several budgets (the largest wins)."""
    p = o.run.params
    ints = lambda *keys: math.prod(int(p.get(k, 1) or 1) for k in keys)  # noqa: E731
    return (not o.grid, ints("max_evaluations", "restarts"), ints("regretnet_epochs", "regretnet_restarts"),
            ints("moulin_epochs", "moulin_restarts"), ints("n_train"), ints("verdict_profiles"))


@dataclass(frozen=True)
class Pooled:
    """The outcomes of one setting that a table cell shows: one budget's runs, its seeds pooled
    (means; the standard error across seeds when there are several, else the run's own)."""

    outcomes: tuple[Outcome, ...]

    @property
    def first(self) -> Outcome:
        return self.outcomes[0]

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.run.run_id for o in self.outcomes))

    def _mean(self, values: Sequence[float | None]) -> float | None:
        xs = [v for v in values if v is not None]
        return sum(xs) / len(xs) if xs else None

    @property
    def cost(self) -> float | None:
        return self._mean([o.cost for o in self.outcomes])

    @property
    def se(self) -> float | None:
        xs = [o.cost for o in self.outcomes if o.cost is not None]
        if len(xs) > 1:
            m = sum(xs) / len(xs)
            return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))
        return self.first.se

    @property
    def regret(self) -> float | None:
        return self._mean([o.regret for o in self.outcomes])

    @property
    def dense(self) -> float | None:
        """The largest dense-audit regret over the pooled runs (a lie found in one run counts)."""
        xs = [o.dense for o in self.outcomes if o.dense is not None]
        return max(xs) if xs else None

    def base_cost(self, name: str) -> float | None:
        return self._mean([o.base.get(name, (None, None))[0] for o in self.outcomes])

    def base_regret(self, name: str) -> float | None:
        return self._mean([o.base.get(name, (None, None))[1] for o in self.outcomes])

    def verdict(self, name: str) -> str:
        """The paired verdict against baseline ``name`` (per seed when several), as text."""
        found = [verdict_text(o.verdicts[name]) for o in self.outcomes if name in o.verdicts]
        if len(found) <= 1:
            return found[0] if found else ""
        return "; ".join(f"seed {o.seed}: {t}" for o, t in zip(self.outcomes, found))


def pool(outcomes: Sequence[Outcome]) -> Pooled | None:
    """The outcomes of one setting pooled: the group (same params but the seed) of the largest
    budget, seeds in order. None when there are none."""
    if not outcomes:
        return None
    groups: dict[tuple, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(_group(o), []).append(o)
    best = max(groups.values(), key=lambda g: (_budget(g[0]), len(g)))
    return Pooled(tuple(sorted(best, key=lambda o: (o.seed, o.run.run_id))))


def by_cell(outcomes: Iterable[Outcome]) -> dict[Cell, Pooled]:
    """The outcomes pooled per setting, in the paper's row order (n, K, distribution)."""
    cells: dict[Cell, list[Outcome]] = {}
    for o in outcomes:
        cells.setdefault(o.cell, []).append(o)
    pooled = {c: pool(os) for c, os in sorted(cells.items(), key=lambda kv: cell_order(kv[0]))}
    return {c: p for c, p in pooled.items() if p is not None}


# ------------------------------------------------------------------ caption words
def ours_label(params: Mapping[str, Any]) -> str:
    """What "ours" is for a run: the offline search (not an LLM), or the LLM and model of an LLM run."""
    method = params.get("method", "eoh")
    budget = f"{params.get('max_evaluations')} candidates x {params.get('restarts', 1)} restart(s)"
    llm = llm_label(params, method, budget)
    if llm is not None:
        return llm
    seed = {"families": "seeded with the best fitted member of the strategy-proof families",
            "approx": "seeded with the cheapest fitted member of the strategy-proof and bounded-regret families "
                      "(dense-audit regret within epsilon)",
            "percentile": "seeded with the best percentile rule", "constant": "seeded with a constant rule"}
    fitted = ", constant fitting" if params.get("fit_constants") else ""
    return (f"the offline search ({method}, {budget}, {seed.get(params.get('seed_rule', 'families'), 'seeded')}"
            f"{fitted}; no LLM)")


def who_is_ours(outcomes: Iterable[Outcome]) -> str:
    """A caption's sentence on what "ours" is (each kind of run once)."""
    kinds = list(dict.fromkeys(ours_label(o.run.params) for o in outcomes))
    if not kinds:
        return ""
    llm = any(o.run.params.get("proposer", "offline") != "offline" for o in outcomes)
    tail = "" if llm else " It is not an LLM run: the paper's LLMMech / LLMMech-e columns are GPT-4o mini's."
    return "Ours: " + "; ".join(kinds) + "." + tail


def epsilon_words(outcomes: Iterable[Outcome]) -> str:
    """The thresholds ours used, in words (strict, or measured from RegretNet)."""
    outs = list(outcomes)
    if not outs:
        return ""
    measured = [o.epsilon for o in outs if o.epsilon_source == "regretnet"]
    fixed = sorted({o.epsilon for o in outs if o.epsilon_source != "regretnet"})
    parts = []
    if fixed:
        parts.append("epsilon " + ", ".join(f"{e:g}" for e in fixed) + (" (strict)" if fixed == [0.0] else ""))
    if measured:
        parts.append(f"epsilon from this run's RegretNet ({min(measured):.5f} to {max(measured):.5f})")
    return "Ours searched with " + " and ".join(parts) + "."


def neural_budgets(outcomes: Iterable[Outcome]) -> str:
    """The neural baselines' training budgets of the runs, beside the paper's (a caption sentence)."""
    notes: dict[str, list[str]] = {name: [] for name in NEURAL}
    skipped = 0
    for o in outcomes:
        if o.grid:
            continue
        if not o.budgets:
            skipped += 1
        for name, note in o.budgets.items():
            short = note.split(":")[0]
            if short not in notes[name]:
                notes[name].append(short)
    parts = [f"{SHORT[name]}: {' or '.join(v)}" for name, v in notes.items() if v]
    text = ("Neural baselines trained " + "; ".join(parts) + " (the paper: 1000 epochs x 10 restarts, RegretNet on 1k "
            "profiles, or 25k where marked @25k).") if parts else ""
    if skipped:
        text += f" {skipped} run(s) trained no neural baselines (neural: false)."
    return text.strip()


def fmt(value: float | None, digits: int = 5) -> str:
    """A cost or regret as text with the paper's five decimals; '' when there is none."""
    return "" if value is None else f"{value:.{digits}f}"


def num(value: float | None, digits: int = 5) -> float | None:
    """A table cell: the number rounded to the paper's five decimals (None stays None)."""
    return None if value is None else round(float(value), digits)


__all__ = ["Cell", "Outcome", "Pooled", "BASELINES", "SHORT", "NEURAL", "DISTRIBUTION_ORDER", "cell_order", "read",
           "grid_rows", "read_all", "pool", "by_cell", "ours_label", "who_is_ours", "epsilon_words", "neural_budgets",
           "fmt", "num"]
