"""The data behind LLMMech's Tables 3, 4 and S10-S15 (:mod:`.items` draws them): each item's
settings and printed columns, what "ours" is in a run, and what the runs computed per setting.

- OOD tables (3, S10-S14): mechanisms learned on uniform peaks, scored on normal, beta1 and beta2
  peaks, beside the baselines fitted in distribution (Table 3 and the first panel of S10-S14) and
  fitted on uniform peaks (the second panel). A run fills the settings (n, K, distribution) of its
  ``learn_n``, ``ks`` and weighting (``fixed``: Tables 3, S10, S11; ``none``: S12-S14).
- Larger-n tables (4, S15): unweighted mechanisms learned at n = 5 scored at n = 10 (Table 4) and
  n = 25 (S15) on the peaks they were learned on, beside the percentile rule refitted there. A run
  learns on its ``learn_distribution`` (or reads Experiment 4 runs given as ``source_runs``), so it
  fills that distribution's rows; runs of one kind on the four distributions fill the table.

An item's settings are the paper's (ordered n, K, distribution): the rows of its transcription
(``amdlib/data/paper/generalization.csv``, read through :mod:`amdlib.core.paperdata`).

When several kinds of runs (proposer, model, budget, sample sizes, source runs) cover an item, the
item shows the kind that fills most of its settings (an LLM run before the offline search, then the
larger budget); several seeds of that kind are averaged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

from amdlib.core import paperdata
from amdlib.core.experiment import RunView
from amdlib.experiments.generalization.paper import PAPER_DATA, paper_values
#: The paper's distribution names in its order.
DISTS = ("uniform", "normal", "beta1", "beta2")
_SETTING_RE = re.compile(r"^n=(\d+) (fixed weights|unweighted) (\w+) K=(\d+)$")
#: What a search seeded with ``seed_rule`` starts from (for captions).
SEED_RULES = {
    "families": "the best fitted member of Experiment 4's strategy-proof families",
    "scale_free": "the best scale-free member of Experiment 4's strategy-proof families (no fitted phantom "
                  "points) or the midpoint rule",
    "percentile": "the best percentile rule",
    "constant": "the constant rule",
}
#: The paper's learned columns, by our search method (the closest of its two).
PAPER_METHOD = {"eoh": "LLMMech", "eoh-e": "LLMMech-e"}


@dataclass(frozen=True)
class Setting:
    """One row of a table: n agents, K facilities, the test distribution, the weighting (fixed, none)."""

    n: int
    k: int
    distribution: str
    weighting: str

    @property
    def key(self) -> str:
        """The transcription's setting text, e.g. ``n=5 fixed weights normal K=2``."""
        return f"n={self.n} {'fixed weights' if self.weighting == 'fixed' else 'unweighted'} {self.distribution} K={self.k}"


def parse_setting(text: str) -> Setting:
    """The :class:`Setting` of a transcription's setting text."""
    m = _SETTING_RE.match(text)
    if m is None:
        raise ValueError(f"not a generalization setting: {text!r}")
    return Setting(int(m[1]), int(m[4]), m[3], "fixed" if m[2] == "fixed weights" else "none")


@dataclass(frozen=True)
class Panel:
    """One panel of a printed table: the transcription's ``table`` id and whose baselines it shows
    (``in``: fitted in distribution; ``ood``: fitted on uniform; ``larger``: refitted at this n)."""

    table: str
    baselines: str


@dataclass(frozen=True)
class Spec:
    """One catalogue item: its label, study (``ood`` or ``larger_n``), the transcription table whose
    rows are its settings, its panels, and (larger n) the n the mechanisms are learned at."""

    item: str
    label: str
    study: str
    rows_table: str
    panels: tuple[Panel, ...]
    learned_at_n: int | None = None

    @property
    def slug(self) -> str:
        return self.item.replace("/", "-")


SPECS: tuple[Spec, ...] = (
    Spec("llmmech/table-3", "Table 3", "ood", "3", (Panel("3", "in"),)),
    Spec("llmmech/table-4", "Table 4", "larger_n", "4", (Panel("4", "larger"),), learned_at_n=5),
    Spec("llmmech/table-s10", "Table S10", "ood", "S10", (Panel("3", "in"), Panel("S10", "ood"))),
    Spec("llmmech/table-s11", "Table S11", "ood", "S11", (Panel("3", "in"), Panel("S11", "ood"))),
    Spec("llmmech/table-s12", "Table S12", "ood", "S12", (Panel("S12", "in"), Panel("S12", "ood"))),
    Spec("llmmech/table-s13", "Table S13", "ood", "S13", (Panel("S13", "in"), Panel("S13", "ood"))),
    Spec("llmmech/table-s14", "Table S14", "ood", "S14", (Panel("S14", "in"), Panel("S14", "ood"))),
    Spec("llmmech/table-s15", "Table S15", "larger_n", "S15", (Panel("S15", "larger"),), learned_at_n=5),
)


@lru_cache(maxsize=None)
def item_settings(spec: Spec) -> tuple[Setting, ...]:
    """The item's settings (those the paper printed), ordered n, K, distribution as every paper
    table of the report is."""
    keys = dict.fromkeys(r.setting for r in paperdata.rows(PAPER_DATA, table=spec.rows_table))
    found = [parse_setting(k) for k in keys]
    return tuple(sorted(found, key=lambda s: (s.n, s.k, DISTS.index(s.distribution) if s.distribution in DISTS
                                              else len(DISTS))))


def panel_metrics(panel: Panel) -> tuple[str, ...]:
    """The paper's columns of a panel, in its order (those it printed for this table)."""
    present = {r.metric for r in paperdata.rows(PAPER_DATA, table=panel.table)}
    if panel.baselines == "larger":
        names = ("Per.", "MoulinNet", "RegretNet@25k", "LLMMech (smaller n)", "LLMMech-e (smaller n)", "NonSP")
    else:
        tag = " (OOD)" if panel.baselines == "ood" else ""
        names = tuple(f"{b}{tag}" for b in ("Per.", "Dict.", "MoulinNet", "RegretNet@25k")) + (
            "LLMMech (OOD)", "LLMMech-e (OOD)", "NonSP")
    return tuple(m for m in names if m in present)


# ------------------------------------------------------------------ what "ours" is
def budget(params: Mapping[str, Any]) -> int:
    """Candidates a search of the run proposes (EoH counts generations when ``generations`` is set)."""
    gens = int(params.get("generations") or 0)
    if gens and params.get("method") in ("eoh", "eoh-e"):
        return int(params.get("pop_size", 0)) * (1 + 4 * gens)
    return int(params.get("max_evaluations", 0))


def ours_text(params: Mapping[str, Any], detail: bool = True, learned_on: str | None = None) -> str:
    """What "ours" is in a run with ``params``: Experiment 4's mechanisms, the offline search, or an
    LLM run (``detail``: with its seeds, constant fitting and training profiles, learned on
    ``learned_on``, by default the run's ``learn_distribution`` peaks)."""
    sources = list(params.get("source_runs") or [])
    if sources:
        return (f"the mechanisms of Experiment 4 runs {', '.join(map(str, sources))} (facility_location), read from "
                "their results.json" + ("; their proposer and budget are in those runs' own params" if detail else ""))
    method = params.get("method", "eoh")
    if params.get("proposer", "offline") == "offline":
        who = f"the offline search ({method}, {budget(params)} candidates, no LLM)"
    else:
        model = params.get("model") or "the model OPENAI_MODEL named (not in the params)"
        how = "replayed from a cassette" if params.get("proposer") == "replay" else "via its API"
        who = f"an LLM run: {model} {how} ({method}, {budget(params)} samples)"
    if not detail:
        return who
    seeded = (f"seeded with {SEED_RULES.get(str(params.get('seed_rule')), str(params.get('seed_rule')))}"
              + (f", constants fitted on the training profiles ({params.get('fit_budget')} trials each)"
                 if params.get("fit_constants") else ""))
    where = learned_on or f"{params.get('learn_distribution', 'uniform')} peaks"
    return f"{who} {seeded}, learned on {where} with {params.get('n_train')} training profiles, strict (epsilon 0)"


def who_short(params: Mapping[str, Any]) -> str:
    """A headline's or legend's name of the kind of run."""
    if params.get("source_runs"):
        return "Exp. 4 runs"
    if params.get("proposer", "offline") == "offline":
        return f"offline {params.get('method', 'eoh')} {budget(params)}"
    return str(params.get("model") or "LLM")


#: The params that make two runs the same kind of "ours" (all but the seed and what settings they cover).
_KIND_KEYS = ("proposer", "model", "method", "max_evaluations", "generations", "pop_size", "islands", "temperature",
              "seed_rule", "fit_constants", "fit_budget", "n_train", "n_test", "n_misreports", "source_runs",
              "reveal_optimum")


def _kind(params: Mapping[str, Any]) -> tuple:
    return tuple(str(params.get(k)) for k in _KIND_KEYS)


# ------------------------------------------------------------------ what the runs computed
@dataclass
class Cell:
    """Our numbers in one setting: one entry per learned mechanism that was scored there (trials)."""

    values: dict[str, list[float]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    trials: int = 0

    def add(self, key: str, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            self.values.setdefault(key, []).append(float(value))

    def mean(self, key: str) -> float | None:
        vals = self.values.get(key)
        return sum(vals) / len(vals) if vals else None


def _weighting(weights: Any) -> str | None:
    text = str(weights).strip().lower()
    return text if text in ("none", "fixed") else None


def _cost(res: Mapping[str, Any] | None) -> float | None:
    return res.get("social_cost") if res and res.get("applicable", True) else None


def _add_learned(cell: Cell, res: Mapping[str, Any], run_id: str) -> None:
    cell.trials += 1
    if run_id not in cell.runs:
        cell.runs.append(run_id)
    if res.get("applicable", True):
        cell.add("learned", res.get("social_cost"))
        cell.add("regret", res.get("max_regret"))
    else:
        cell.reasons.append(str(res.get("reason") or "not applicable"))


def ood_cells(run: RunView) -> dict[Setting, Cell]:
    """The OOD study of one run, per setting: each learned mechanism trained on uniform peaks, the
    baselines fitted in distribution and on uniform, the non-SP optimum."""
    out: dict[Setting, Cell] = {}
    for dist, entries in (run.results.get("ood") or {}).items():
        if dist == "uniform" or not isinstance(entries, Mapping):
            continue
        for entry in entries.values():
            weighting = _weighting(entry.get("weights"))
            if weighting is None or entry.get("trained_on") != "uniform":
                continue
            setting = Setting(int(entry["n"]), int(entry["k"]), str(dist), weighting)
            cell = out.setdefault(setting, Cell())
            ins, ood = entry.get("baselines_in_distribution") or {}, entry.get("baselines_ood") or {}
            for res in (entry.get("learned") or {}).values():
                _add_learned(cell, res, run.run_id)
                cell.add("per", _cost(ins.get("percentile")))
                cell.add("dict", _cost(ins.get("dictatorial")))
                cell.add("per_ood", _cost(ood.get("percentile")))
                cell.add("dict_ood", _cost(ood.get("dictatorial")))
                cell.add("nonsp", entry.get("nonsp"))
    return out


def larger_n_cells(run: RunView, learned_at_n: int) -> dict[Setting, Cell]:
    """The larger-n study of one run, per setting: each unweighted mechanism learned at
    ``learned_at_n`` agents, the percentile rule refitted at the setting's n, the non-SP optimum."""
    out: dict[Setting, Cell] = {}
    for key, entry in (run.results.get("larger_n") or {}).items():
        if not str(key).isdigit() or not isinstance(entry, Mapping):
            continue
        n = int(key)
        for label, res in (entry.get("learned") or {}).items():
            if int(res.get("trained_n", -1)) != learned_at_n or n == learned_at_n:
                continue
            dist, k = str(res["distribution"]), int(res["k"])
            cell = out.setdefault(Setting(n, k, dist, "none"), Cell())
            _add_learned(cell, res, run.run_id)
            cell.add("audit", (entry.get("dense_audit_max_regret") or {}).get(label))
            cell.add("per", _cost((entry.get("percentile") or {}).get(f"{dist} K={k}")))
            cell.add("nonsp", (entry.get("nonsp") or {}).get(f"{dist} K={k}"))
    return out


def _cells(spec: Spec, run: RunView) -> dict[Setting, Cell]:
    try:
        if spec.study == "ood":
            return ood_cells(run)
        return larger_n_cells(run, spec.learned_at_n or 0)
    except (KeyError, TypeError, ValueError, AttributeError):  # an older or odd results.json shows nothing
        return {}


def _merge(into: dict[Setting, Cell], cells: Mapping[Setting, Cell]) -> None:
    for setting, cell in cells.items():
        mine = into.setdefault(setting, Cell())
        for key, vals in cell.values.items():
            mine.values.setdefault(key, []).extend(vals)
        mine.reasons += cell.reasons
        mine.runs += [r for r in cell.runs if r not in mine.runs]
        mine.trials += cell.trials


@dataclass
class Ours:
    """What the chosen kind of runs shows of one item: cells by setting, the runs, their params."""

    cells: dict[Setting, Cell]
    runs: list[RunView]
    others: int  # runs of other kinds that also cover the item (not shown)

    @property
    def params(self) -> Mapping[str, Any]:
        return self.runs[0].params


def collect(spec: Spec, runs: Sequence[RunView]) -> Ours | None:
    """The item's cells from the kind of runs that fills most of its settings (None: no run fills one).
    A setting takes one run per seed: two runs of one kind and seed learn the same mechanism there
    (e.g. a run with ``ks: [2]`` and the default run with ``ks: [2, 3]``), so the second adds no trial."""
    wanted = set(item_settings(spec))
    kinds: dict[tuple, tuple[dict[Setting, Cell], list[RunView]]] = {}
    seeds: dict[tuple, set[tuple[Setting, str]]] = {}
    for run in sorted(runs, key=lambda r: r.run_id):
        kind, seed = _kind(run.params), str(run.params.get("seed"))
        seen = seeds.setdefault(kind, set())
        cells = {s: c for s, c in _cells(spec, run).items() if s in wanted and (s, seed) not in seen}
        if not cells:
            continue
        seen.update((s, seed) for s in cells)
        found, used = kinds.setdefault(kind, ({}, []))
        _merge(found, cells)
        used.append(run)
    if not kinds:
        return None

    def rank(kind: tuple) -> tuple:
        cells, used = kinds[kind]
        params = used[0].params
        return (len(cells), params.get("proposer", "offline") != "offline", budget(params), len(used))

    best = max(kinds, key=rank)
    cells, used = kinds[best]
    return Ours(cells, used, sum(len(u) for k, (_, u) in kinds.items() if k != best))


def paper_column(spec: Spec, params: Mapping[str, Any]) -> str:
    """The paper's learned column ours is set beside: LLMMech for EoH, LLMMech-e otherwise."""
    name = PAPER_METHOD.get(str(params.get("method")), "LLMMech-e")
    return f"{name} ({'smaller n' if spec.study == 'larger_n' else 'OOD'})"


__all__ = ["Setting", "Panel", "Spec", "SPECS", "Cell", "Ours", "DISTS", "parse_setting", "item_settings", "panel_metrics",
           "budget", "ours_text", "who_short", "ood_cells", "larger_n_cells", "collect", "paper_column", "paper_values"]
