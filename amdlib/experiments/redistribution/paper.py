"""AMD-LLM's redistribution results beside ours: the ``paper_rows`` and ``paper_items`` hooks.

The paper's Table 1 (0.4935 for the prior manual method, 0.5838 AMD-LLM, 0.6254 RegretNet, 0.5917
NNA-AMD-LLM) is for a setting the material does not state (n, m, the value distribution and the
normalisation), so its numbers are shown as reported, in their own column, and never differenced;
beside them, what our runs show in our well-defined settings. Items:

- ``amd-llm/redistribution``: the paper's rows (plus BC, WCO and OEL) with ours in each main
  setting, and the learned rule against the manual ones over the (n, m) table of the runs;
- ``amd-llm/nna``: the network and the code distilled from it (the paper's two rows), with the
  paired gap and the distillation's fit;
- ``amd-llm/waterfilling`` (Proposition 5.1): the audits the runs record (random and adversarial
  profiles: deficits, negative rebates). SP needs no audit: a bidder's rebate is computed from the
  others' bids only, before and after the fix.

The paper's numbers are read through :mod:`amdlib.core.paperdata` (the one reader of
``amdlib/data/paper``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from amdlib.core.experiment import ItemView, PaperFigure, PaperTable, RunView
from amdlib.core.paperdata import PaperRow, catalogue, rows as paper_data
from amdlib.experiments.redistribution.settings import SETTINGS
from amdlib.experiments.virtual_valuation.paper import REPORTED, pm, short_label, who_is_ours

REDISTRIBUTION, NNA, WATERFILLING = "amd-llm/redistribution", "amd-llm/nna", "amd-llm/waterfilling"
#: The paper's methods (its Table 1 rows), in its order, and where our run keeps each one's figures.
METHODS = {"prior manual method": "manual", "AMD-LLM": "best", "RegretNet": "neural", "NNA-AMD-LLM": "nna"}
MANUAL = {"bailey_cavallo": "Bailey-Cavallo (BC)", "wco": "worst-case optimal linear (WCO)",
          "oel": "optimal-in-expectation linear (OEL)"}
#: The closest well-defined setting (the summary's suggested replication: 4 bidders, 2 units, U[0,1]).
MAIN = (4, 2, "uniform")


def reported() -> tuple[PaperRow, ...]:
    """The paper's Table 1 as printed (``amdlib/data/paper/redistribution.csv``)."""
    return paper_data("redistribution", table="Table 1")


def paper_tables(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``paper_rows`` hook: the paper's headline numbers beside ours (an unstated setting: not comparable)."""
    ours = {
        "prior manual method": results.get("baselines", {}).get("best_manual_fraction"),
        "AMD-LLM": results.get("best", {}).get("expected_fraction"),
        "RegretNet": results.get("baselines", {}).get("neural", {}).get("expected_fraction"),
        "NNA-AMD-LLM": results.get("baselines", {}).get("nna", {}).get("expected_fraction"),
    }
    setting = results.get("setting", {})
    label = f"ours: n={setting.get('n_bidders')} m={setting.get('n_units')} {setting.get('distribution')} (paper: unstated)"
    return [{"table": row.table, "setting": label, "metric": row.metric, "paper": row.value,
             "ours": ours.get(row.metric), "comparable": False} for row in reported()]


# ------------------------------------------------------------------ what a run shows
@dataclass(frozen=True)
class Figures:
    """One method's figures in one run: fraction of VCG revenue (± SE) and absolute redistribution."""

    fraction: float | None
    fraction_se: float | None
    absolute: float | None
    absolute_se: float | None
    name: str = ""


@dataclass(frozen=True)
class Study:
    """What one run's results.json holds for the items."""

    run: RunView
    n: int
    m: int
    distribution: str
    expected_revenue: float
    methods: Mapping[str, Figures]  # keys: manual, best, neural, nna and those of MANUAL
    nna: Mapping[str, Any]
    audit: Mapping[str, Any]
    table: tuple[Mapping[str, Any], ...]

    @property
    def setting(self) -> tuple[int, int, str]:
        return self.n, self.m, self.distribution

    @property
    def name(self) -> str:
        return f"n={self.n}, m={self.m}, {'U[0,1]' if self.distribution == 'uniform' else self.distribution}"

    @property
    def budget(self) -> tuple[int, int]:
        return int(self.run.params.get("max_evaluations", 0)), int(self.run.params.get("holdout_samples", 0))

    @property
    def label(self) -> str:
        """The main setting and who proposed, for a column or a row (the run id keeps it unique)."""
        return f"{self.name}; {short_label(self.run.params)}; run {self.run.run_id}"

    @property
    def run_label(self) -> str:
        """The run (its distribution and id) for rows over (n, m); the caption says who proposed."""
        return f"{'U[0,1]' if self.distribution == 'uniform' else self.distribution}, run {self.run.run_id}"


def _learned(res: Mapping[str, Any]) -> Figures:
    return Figures(res.get("expected_fraction"), res.get("expected_fraction_se"), res.get("expected_redistribution"),
                   res.get("expected_redistribution_se"))


def read_study(run: RunView) -> Study | None:
    """The run's :class:`Study`, or None when its results.json lacks the main setting."""
    res = run.results
    try:
        setting, base = res["setting"], res["baselines"]
        revenue = float(setting["expected_revenue"])
        methods: dict[str, Figures] = {"best": _learned(res["best"]), "neural": _learned(base.get("neural", {})),
                                       "nna": _learned(base.get("nna", {}))}
        for key in MANUAL:  # exact expected fractions, so the absolute figure is exact too
            rule = base.get(key, {})
            exact = rule.get("expected_fraction_exact")
            methods[key] = Figures(rule.get("expected_fraction"), rule.get("expected_fraction_se"),
                                   None if exact is None else exact * revenue, None, MANUAL[key])
        best_manual = base.get("best_manual")
        if best_manual in MANUAL:
            methods["manual"] = Figures(*[getattr(methods[best_manual], f) for f in ("fraction", "fraction_se",
                                                                                     "absolute", "absolute_se")],
                                        name=best_manual)
        return Study(run, int(setting["n_bidders"]), int(setting["n_units"]), str(setting["distribution"]), revenue,
                     methods, dict(base.get("nna", {})), dict(res.get("audit", {})), tuple(res.get("table", [])))
    except (KeyError, TypeError, ValueError):
        return None


def _ordered(studies: Sequence[Study]) -> list[Study]:
    """The main setting first (largest budget first), then the others by setting and run id."""
    return sorted(studies, key=lambda s: (s.setting != MAIN, s.setting, tuple(-b for b in s.budget), s.run.run_id))


def _short_manual(key: str) -> str:
    return {"bailey_cavallo": "BC", "wco": "WCO", "oel": "OEL"}.get(key, key)


def table_settings() -> list[str]:
    """The (n, m) settings of the default run's table (the record's ``settings`` default), under U[0,1]."""
    return list(SETTINGS)


def _valid_rows(studies: Sequence[Study], distribution: str = "uniform") -> set[str]:
    """The (n, m) settings with a valid learned rule in the runs of ``distribution``."""
    return {str(r.get("setting")) for s in studies if s.distribution == distribution for r in s.table if r.get("valid")}


# ------------------------------------------------------------------ figures
def methods_figure(studies: Sequence[Study], methods: Sequence[str], path: Path, title: str) -> None:
    """The paper's rows as reported (own panel, own axis), then ours in each run's main setting."""
    from amdlib.core.figures import canvas, save

    printed = {r.metric: r.value for r in reported()}
    fig = canvas(3.2 + 3.4 * len(studies), 3.9)
    axes = [fig.add_subplot(1, 1 + len(studies), k + 1) for k in range(1 + len(studies))]
    names = [m for m in methods if m in printed]
    axes[0].bar(range(len(names)), [printed[m] for m in names], color="white", edgecolor="0.3", hatch="//")
    for x, m in enumerate(names):
        axes[0].text(x, printed[m], f"{printed[m]:.4f}", ha="center", va="bottom", fontsize=8)
    axes[0].set_xticks(range(len(names)), [m.replace(" method", "").replace("-AMD-LLM", "") for m in names],
                       rotation=20, fontsize=8)
    axes[0].set_ylabel("expected total redistribution (as printed)", fontsize=9)
    axes[0].set_title("reported by the paper\n(its own setting, unstated)", fontsize=9)
    axes[0].set_ylim(0, 1)
    for ax, study in zip(axes[1:], studies):
        figs = [study.methods.get(METHODS[m]) for m in methods]
        labels = [("best manual: " + _short_manual(f.name)) if METHODS[m] == "manual" and f else
                  {"best": "learned", "neural": "network", "nna": "NNA code"}.get(METHODS[m], m) for m, f in zip(methods, figs)]
        values = [f.fraction if f and f.fraction is not None else 0.0 for f in figs]
        errors = [(f.fraction_se or 0.0) if f else 0.0 for f in figs]
        ax.bar(range(len(methods)), values, yerr=errors, capsize=3, color=[f"C{k}" for k in range(len(methods))])
        for x, (f, v) in enumerate(zip(figs, values)):
            ax.text(x, v, "n/a" if not f or f.fraction is None else f"{v:.3f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(methods)), labels, rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("fraction of VCG revenue redistributed", fontsize=9)
        ax.set_title(f"ours: {study.name}\n({short_label(study.run.params)})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)


def settings_figure(studies: Sequence[Study], path: Path) -> None:
    """Per run with a table: BC, WCO, OEL and the learned rule (± SE) in each (n, m) setting."""
    from amdlib.core.figures import canvas, save
    from amdlib.experiments.redistribution.plots import draw_table

    shown = [s for s in studies if any(r.get("valid") for r in s.table)]
    fig = canvas(8.5, 3.4 * len(shown) + 0.3)
    for k, study in enumerate(shown):
        ax = fig.add_subplot(len(shown), 1, k + 1)
        draw_table(ax, list(study.table))
        ax.set_title(f"ours: {study.distribution}, {short_label(study.run.params)} (run {study.run.run_id})", fontsize=9)
    fig.tight_layout()
    save(fig, path)


# ------------------------------------------------------------------ tables
def methods_table(studies: Sequence[Study], methods: Sequence[str], extra: Sequence[str], caption: str) -> PaperTable:
    """Rows = the paper's methods (then ``extra`` keys of MANUAL); the paper's column as printed; per
    run, ours as a fraction of VCG revenue and as expected redistribution."""
    printed = {r.metric: r.value for r in reported()}
    cols = ["method", REPORTED]
    for s in studies:
        cols += [f"ours, {s.name}, run {s.run.run_id}: fraction (± SE)",
                 f"ours, {s.name}, run {s.run.run_id}: redistribution (± SE)"]
    out = []
    for key in list(methods) + list(extra):
        label = key if key in METHODS else MANUAL[key]
        cells: list[Any] = [label, printed.get(key, "not printed")]
        for s in studies:
            f = s.methods.get(METHODS.get(key, key))
            name = f" ({_short_manual(f.name)})" if f is not None and METHODS.get(key) == "manual" else ""
            cells += ([pm(f.fraction, f.fraction_se) + name, pm(f.absolute, f.absolute_se)] if f is not None
                      else ["-", "-"])
        out.append(tuple(cells))
    return PaperTable(tuple(cols), tuple(out), caption)


def settings_table(studies: Sequence[Study], caption: str) -> PaperTable:
    """Per run and (n, m): BC, WCO, OEL (holdout) and the learned rule with its paired gain over the best."""
    cols = ("ours", "n x m", "BC", "WCO", "OEL", "ours: learned", "SE", "ours − best manual (paired)", "SE of the gain",
            "best manual", "ours: worst-case fraction")
    out = []
    for s in studies:
        for r in s.table:
            if not r.get("valid"):
                out.append((s.run_label, r.get("setting"), "-", "-", "-", f"no valid program: {r.get('error', '')}",
                            "-", "-", "-", "-", "-"))
                continue
            out.append((s.run_label, r["setting"], round(r["bailey_cavallo"], 4), round(r["wco"], 4), round(r["oel"], 4),
                        round(r["learned"], 4), round(r["learned_se"], 4), round(r["gain"], 4), round(r["gain_se"], 4),
                        _short_manual(r["best_manual"]), round(r["worst_case"], 4)))
    return PaperTable(cols, tuple(out), caption)


def audit_table(studies: Sequence[Study], caption: str) -> PaperTable:
    """Per run and (n, m): profiles audited, deficits, negative rebates (and the largest deficit of the main setting)."""
    cols = ("ours", "n x m", "profiles audited (random + adversarial grid)", "profiles in deficit",
            "negative rebates (IR)", "largest deficit", "ours: worst-case fraction", "SP")
    out = []
    for s in studies:
        main = f"{s.n}x{s.m}"
        for r in s.table:
            if not r.get("valid"):
                continue
            largest = s.audit.get("max_deficit") if r["setting"] == main else "not recorded"
            out.append((s.run_label, r["setting"], r["audited_profiles"], r["deficits"], r["negative_rebates"], largest,
                        round(r["worst_case"], 4), "by construction (rebate of the others' bids)"))
    return PaperTable(cols, tuple(out), caption)


# ------------------------------------------------------------------ the hook
def _instead(item: str) -> str:
    return " ".join((catalogue().item(item).instead or "").split())


def _who(studies: Sequence[Study]) -> str:
    return who_is_ours([s.run for s in studies])


def _audited(studies: Sequence[Study]) -> tuple[int, int, int, int]:
    """(profiles audited, deficits, negative rebates, settings) over every valid table row."""
    rows = [r for s in studies for r in s.table if r.get("valid")]
    return (sum(int(r["audited_profiles"]) for r in rows), sum(int(r["deficits"]) for r in rows),
            sum(int(r["negative_rebates"]) for r in rows), len(rows))


def _count(value: int) -> str:
    return f"{value / 1e6:.1f}M" if value >= 1_000_000 else f"{value:,}"


def _headlines(studies: Sequence[Study]) -> dict[str, str]:
    main = next((s for s in studies if s.setting == MAIN), studies[0])
    f = main.methods
    where = f"{main.n}x{main.m} {main.distribution} (ours)"
    learned, manual = f["best"].fraction, f.get("manual")
    net, nna = f["neural"].fraction, f["nna"].fraction
    audited, deficits, negative, _ = _audited(studies)
    return {
        REDISTRIBUTION: (f"{where}: learned {learned:.3f}, best manual {manual.fraction:.3f}; paper's setting unstated"
                         if learned is not None and manual is not None and manual.fraction is not None
                         else f"{where}: no valid learned rule"),
        NNA: (f"{where}: network {net:.3f}, distilled {nna:.3f}; paper's setting unstated"
              if net is not None and nna is not None else f"{where}: no valid distilled program"),
        WATERFILLING: f"{deficits} deficits, {negative} negative rebates on {_count(audited)} profiles; "
                      f"SP by construction",
    }


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """The ``paper_items`` hook: ``amd-llm/redistribution``, ``amd-llm/nna`` and ``amd-llm/waterfilling``
    from the complete runs (headlines and cells only when ``folder`` is None)."""
    studies = _ordered([s for s in map(read_study, runs) if s is not None])
    if not studies:
        return []
    ids = tuple(s.run.run_id for s in studies)
    wanted = table_settings()
    filled = len(set(wanted) & _valid_rows(studies))
    nna_done = int(any(s.setting == MAIN and s.methods["nna"].fraction is not None for s in studies))
    cells = {REDISTRIBUTION: (filled, len(wanted)), NNA: (nna_done, 1), WATERFILLING: (filled, len(wanted))}
    heads = _headlines(studies)
    if folder is None:
        return [ItemView(item, heads[item], runs=ids, cells=cells[item]) for item in (REDISTRIBUTION, NNA, WATERFILLING)]
    paper_words = ("The paper's numbers are as printed, for a setting the material does not state; they are never "
                   "differenced with ours.")
    why = f"Why not the paper's setting: {_instead(REDISTRIBUTION)}"
    main_tab = f"{_who(studies)} {paper_words} Our numbers: holdout fractions of the expected VCG revenue (± SE) and absolute " \
               f"expected redistribution (± SE; exact for BC, WCO and OEL, whose expectations are closed forms or an LP)."
    fig1 = folder / "redistribution-amd-llm-redistribution.png"
    methods_figure(studies, list(METHODS), fig1, "VCG redistribution: the paper's Table 1 as printed, and ours")
    figures = [PaperFigure(fig1, f"Left: the paper's Table 1 as printed (hatched; its own, unstated setting and unit). "
                                 f"Right: ours in each run's main setting: the best manual rule, the learned rule after "
                                 f"the fix, the network after the fix and the code distilled from it (NNA), as holdout "
                                 f"fractions of VCG revenue ± SE. {main_tab} {why}", item=REDISTRIBUTION)]
    if any(r.get("valid") for s in studies for r in s.table):
        fig2 = folder / "redistribution-amd-llm-settings.png"
        settings_figure(studies, fig2)
        figures.append(PaperFigure(fig2, f"Ours over the (n, m) settings of each run: BC, WCO, OEL and the learned rule "
                                         f"(± SE), holdout fractions of VCG revenue. The paper reports no such table. "
                                         f"{_who(studies)}", item=REDISTRIBUTION))
    red = ItemView(REDISTRIBUTION, heads[REDISTRIBUTION], tuple(figures),
        (methods_table(studies, list(METHODS), list(MANUAL), f"The paper's Table 1 rows, and BC, WCO, OEL. {main_tab}"),
         settings_table(studies, f"Ours over (n, m): the learned rule against the manual ones on the same holdout "
                                 f"profiles (the gain is a paired difference). {_who(studies)}")), ids, cells[REDISTRIBUTION])
    fig3 = folder / "redistribution-amd-llm-nna.png"
    methods_figure(studies, ["RegretNet", "NNA-AMD-LLM"], fig3, "NNA: the network and the code distilled from it")
    gap_rows = tuple((s.label, pm(s.nna.get("gap"), s.nna.get("gap_se")),
                      f"distillation RMSE {s.nna['rmse']:.4f}" if s.nna.get("rmse") is not None else "-") for s in studies)
    nna_words = (f"{_who(studies)} The network is trained on our setting and fixed like any rule; NNA evolves code "
                 f"whose rebates match the network's (fitness: minus the RMS distance), then fixes it. {paper_words}")
    nna = ItemView(NNA, heads[NNA], (
        PaperFigure(fig3, f"Left: the paper's RegretNet and NNA-AMD-LLM rows as printed (hatched). Right: ours, holdout "
                          f"fractions of VCG revenue ± SE. {nna_words} Why not the paper's setting: {_instead(NNA)}",
                    item=NNA),),
        (methods_table(studies, ["RegretNet", "NNA-AMD-LLM"], [], f"The network and its distillation. {nna_words}"),
         PaperTable(("ours", "network − NNA code (paired ± SE)", "distillation fit"), gap_rows,
                    f"The gap between the network and the distilled code, paired on the same holdout profiles (the "
                    f"paper prints no gap). {_who(studies)}")), ids, cells[NNA])
    audited, deficits, negative, settings = _audited(studies)
    water = ItemView(WATERFILLING, heads[WATERFILLING], (), (audit_table(
        studies, f"The audits the runs recorded for their fixed learned rules: {_count(audited)} profiles in {settings} "
                 f"audits, one per run and (n, m) (random profiles and every sorted profile of a level grid with ties, zeros and ones), "
                 f"{deficits} in deficit (tolerance 1e-9 of the revenue), {negative} negative rebates. SP holds by "
                 f"construction: the fix computes a bidder's rebate from the others' bids only. The fix is the "
                 f"package's own derivation (the paper's algorithm is not in the summary), proved in notebook 02. "
                 f"{_who(studies)}"),), ids, cells[WATERFILLING])
    return [red, nna, water]


__all__ = ["paper_items", "paper_tables", "reported", "read_study", "METHODS", "MANUAL", "MAIN"]
