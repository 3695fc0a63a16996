"""The notebook's steps, in order: :class:`FacilityRun` computes each one, keeps what it found,
and returns the text the notebook prints; ``results()`` is the run's results.json.

The notebook (``notebooks/04_facility_location.ipynb``) narrates and calls these; every number
it prints or stores comes from :mod:`amdlib.experiments.facility_location.run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from amdlib.experiments.facility_location import run as fr
from amdlib.experiments.facility_location.paper import comparison_rows, paper_cells, regretnet_metric, text_table
from amdlib.problems.facility.data import DISTRIBUTIONS

#: The non-neural baselines beside the paper's columns, in the notebook's order.
BASELINE_COLUMNS = (("percentile", "per"), ("dictatorial", "dict"), ("constant", "cons"), ("moulinnet", "moulinnet"),
                    ("regretnet", "regretnet"), ("nonsp", "nonsp"))


class FacilityRun:
    """One facility-location run: ``params`` validated, ``output_dir`` the run directory (None
    when run by hand: trained networks are then not cached)."""

    def __init__(self, params: Mapping[str, Any], output_dir: str | Path | None = None) -> None:
        self.params = dict(params)
        self.models = Path(output_dir) / "models" if output_dir else None
        self.problem = fr.make_problem(self.params)
        self.setting: dict[str, Any] = dict(self.problem.describe())
        self.table_id, self.cells = paper_cells(self.problem.n, self.problem.k, self.problem.distribution,
                                                self.params["weights"], self.params.get("regretnet_train", 1000))
        self.base: dict[str, Any] = {}
        self.neural_fns: dict[str, Any] = {}
        self.families: list[dict[str, Any]] = []
        self.result: Any = None
        self.restarts: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {}
        self.weight_sets: list[dict[str, Any]] = []
        self.verdict: dict[str, Any] = {}
        self.table1: dict[str, Any] | None = None
        self.overview: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ the setting
    def setting_text(self) -> str:
        p = self.problem
        return "\n".join([f"n={p.n}  K={p.k}  peaks ~ {DISTRIBUTIONS[p.distribution]}",
                          f"weights = {[float(w) for w in p.weights]}  epsilon = {p.epsilon:g}",
                          f"{self.setting['n_train']} training / {self.setting['n_test']} test profiles x "
                          f"{self.setting['n_misreports']} misreports"])

    def resolve_epsilon(self) -> str:
        """Epsilon from the parameter, measured on this run's trained RegretNet, or the regret the
        paper prints for this cell (matched regret); the problem is rebuilt with a measured or
        matched one."""
        eps = fr.resolve_epsilon(self.params, self.models)
        if eps["source"] != "value":
            self.problem = fr.make_problem(self.params, epsilon=eps["epsilon"])
            self.setting = dict(self.problem.describe())
            text = f"epsilon = {self.problem.epsilon:.5f}: {eps['measured_on']}"
            if eps["source"] == "regretnet":
                text += (f"\nRegretNet: {eps['epochs']} epochs x {eps['restarts']} restarts on {eps['train_profiles']} "
                         f"profiles; dense-audit max regret {eps['regretnet_dense_audit_max_regret']:.5f}")
        else:
            text = f"epsilon = {self.problem.epsilon:g} (the epsilon parameter)"
        self.setting["epsilon_source"] = eps
        return text

    # ------------------------------------------------------------------ baselines
    def baselines(self) -> str:
        """The handcrafted rules and the non-SP optimum on the test set, beside the paper's cell."""
        p = self.problem
        self.base = fr.fit_baselines(p)
        ours = {name: row["social_cost"] for name, row in self.base.items()}
        return "\n".join([f"test set, paper column from {self.table_id or 'no paper table for this setting'}",
                          text_table(["method", "ours", "paper", "ours-paper", "rel %"],
                                     comparison_rows(ours, p.n, p.k, p.distribution, self.params["weights"],
                                                     self.params.get("regretnet_train", 1000))),
                          f"NonSP max regret (it is manipulable): {self.base['nonsp']['max_regret']:.5f}"])

    def neural(self) -> str:
        """MoulinNet and RegretNet trained and scored on the test set (``neural``), each with its
        training budget beside the paper's."""
        if not self.params["neural"]:
            return "neural baselines skipped (neural = False)"
        self.base.update(fr.fit_neural(self.problem, self.params, self.models, self.neural_fns))
        lines = []
        for name in ("moulinnet", "regretnet"):
            r = self.base[name]
            lines.append(f"{name:10s} social cost {r['social_cost']:.5f}  max regret {r['max_regret']:.5f}  "
                         f"(paper {self._paper(name)}; {r['epochs']} epochs x {r['restarts']} restarts, "
                         f"{r['train_profiles']} training profiles)")
            lines.append(f"           training budget: {r['budget_note']}")
        return "\n".join(lines)

    def _metric(self, name: str, col: str) -> str:
        """The paper's metric for our baseline ``name`` in this setting's table (RegretNet@25k in Table 2)."""
        return regretnet_metric(self.table_id) if name == "regretnet" else col

    def _paper(self, name: str) -> str:
        value = self.cells.get(self._metric(name, name))
        return "not printed" if value is None else f"{value:.5f} in {self.table_id}"

    def family_table(self) -> str:
        """The best fitted member of each SP family (training profiles) and its dense audit."""
        self.families = fr.family_table(self.problem, self.params)
        return text_table(["family", "train cost", "test cost", "dense-audit regret"],
                          [[r["family"], r["train_social_cost"], r["test_social_cost"], r["dense_audit_max_regret"]]
                           for r in self.families])

    # ------------------------------------------------------------------ the search
    def search(self, progress: bool = True) -> str:
        """The search (``restarts`` of them; the best on the training profiles is kept)."""
        self.result, self.restarts = fr.search(self.problem, self.params, progress=progress)
        res, fit = self.result, self.result.stats["constant_fitting"]
        lines = [f"{len(res.history)} programs, {sum(p.valid for p in res.history)} valid; method {res.method}",
                 text_table(["restart", "search seed", "train fitness", "proposals", "fit trials", "chosen"],
                            [[r["restart"], r["search_seed"], r["train_fitness"], r["proposals"], r["fit_evaluations"],
                              r.get("chosen", False)] for r in self.restarts])]
        if fit.get("enabled"):
            lines.append(f"constant fitting: {fit['candidates_fitted']} candidates fitted ({fit['improved']} improved), "
                         f"{fit['evaluations']} trials = {100 * fit['budget_share']:.0f}% of the evaluations")
        else:
            lines.append("constant fitting off (fit_constants = False)")
        return "\n".join(lines)

    def learned(self) -> str:
        """The reported program on the test set with its dense audit (in the sandbox), and its
        re-scoring on the Table S5 weight sets (``weight_sets``, n = 5 or 10)."""
        from amdlib.core.evaluator import Evaluator
        from amdlib.core.sandbox import Sandbox

        p, base = self.problem, self.base
        with Sandbox(workers=1, memory_mb=p.memory_mb) as sandbox:
            self.best = fr.learned_summary(p, self.result, Evaluator(p, sandbox), self.params, base["percentile"]["social_cost"])
            if self.params["weight_sets"] and p.n in (5, 10):
                self.weight_sets = fr.weight_set_study(self.params, lambda pr: Evaluator(pr, sandbox), self.best["code"])
        best, audit = self.best, self.best["dense_audit"]
        return "\n".join([
            f"best learned: train cost {best['train_social_cost']:.5f}, test cost {best['test_social_cost']:.5f}, "
            f"test max regret {best['max_regret']:.5f}",
            f"best percentile rule (test): {base['percentile']['social_cost']:.5f}; outcome (max regret <= epsilon and "
            f"cost no worse than percentile): {best['vs_percentile']}",
            f"dense audit ({audit['profiles']} profiles x {audit['grid_points']} grid misreports per agent): "
            f"max regret {best['dense_audit_max_regret']:.6f}, SP on grid: {audit['strategyproof_on_grid']}"])

    def code_markdown(self) -> str:
        """The reported program and its thought, as Markdown."""
        return f"**Thought:** {self.best['thought'] or '(none)'}\n\n```python\n{self.best['code']}\n```"

    def counterexample(self) -> str:
        """The worst profitable lie the dense audit found on the test profiles, if any."""
        cx = self.best["dense_audit"]["counterexample"]
        if cx is None:
            return "no profitable misreport on the grid: empirically SP on a dense grid"
        return "\n".join([
            f"agent {cx['agent']} with true peak {cx['true_peak']:.4f} reports {cx['misreport']:.4f}",
            f"  peaks {cx['peaks']}",
            f"  truthful facilities {cx['truthful_locations']} -> cost {cx['truthful_cost']:.4f}",
            f"  after the lie       {cx['misreport_locations']} -> cost {cx['misreport_cost']:.4f} (gain {cx['gain']:.4f})"])

    def verdicts(self) -> str:
        """Paired verdicts against the SP baselines on ``verdict_profiles`` fresh profiles (sandbox)."""
        from amdlib.core.evaluator import Evaluator
        from amdlib.core.sandbox import Sandbox

        with Sandbox(workers=1, memory_mb=self.problem.memory_mb) as sandbox:
            self.verdict = fr.verdicts(Evaluator(self.problem, sandbox), self.best["code"], self.params, self.neural_fns)
        v, best = self.verdict, self.best
        return "\n".join([
            f"{v['profiles']} fresh profiles; learned cost {v['learned']['social_cost']:.5f} "
            f"(SE {v['learned']['se']:.5f}); test-set cost {best['test_social_cost']:.5f} (SE {best['test_social_cost_se']:.5f})",
            text_table(["baseline", "baseline cost", "learned - baseline", "paired SE", "verdict"],
                       [[name, x["theirs"], x["mean_difference"], x["paired_se"], x["verdict"]] for name, x in v["vs"].items()],
                       digits=6)])

    def paper_cell(self) -> str:
        """This setting's cell: every method's test cost and regret beside the paper's number."""
        rows = [[name, self.base[name]["social_cost"], self.base[name]["max_regret"], self.cells.get(self._metric(name, col))]
                for name, col in BASELINE_COLUMNS if name in self.base]
        method = self.result.method
        rows.append([f"learned ({method})", self.best["test_social_cost"], self.best["max_regret"],
                     self.cells.get("llmmech_e" if method == "eoh-e" else "llmmech")])
        return text_table(["method", "social cost", "max regret", "paper"], rows)

    # ------------------------------------------------------------------ side studies
    def table1_grid(self, progress: Callable[[str], None] = print) -> str:
        """With ``table1_grid``: this run's search in all 32 Table-1 settings (one line per setting
        to ``progress`` as it goes)."""
        if not self.params["table1_grid"]:
            return "table1_grid = False: set it (or run sweep_table1.yaml) for the 32-setting check"
        self.table1 = fr.table1_outcomes(self.params, progress=lambda i, total, r: progress(
            f"{i:2d}/{total} n={r['n']} K={r['K']} {r['distribution']}: {r['outcome']}"))
        return f"{len(self.table1['rows'])} settings done"

    def table1_text(self) -> str:
        if not self.table1:
            return ("no in-notebook grid in this run (table1_grid = False); the 32-cell Table-1 view comes from a "
                    "sweep_table1.yaml sweep in the report")
        s = self.table1["summary"]
        return "\n".join([
            text_table(["n", "K", "distribution", "learned", "regret", "percentile", "learned-per", "outcome", "dense audit"],
                       [[r["n"], r["K"], r["distribution"], r["learned"], r["learned_max_regret"], r["percentile"],
                         r["learned"] - r["percentile"], r["outcome"], r["dense_audit_max_regret"]] for r in self.table1["rows"]]),
            f"no worse than percentile (regret <= epsilon) in {s['no_worse']}/{s['settings']} settings, strictly better in "
            f"{s['strictly_better']}; criterion (>= 75% and some strictly better) met: {s['criterion_met']}",
            f"of those, {s['no_worse_and_sp_on_grid']} also show no profitable misreport on the dense audit grid"])

    def overview_text(self) -> str:
        """With ``overview``: the non-neural baselines for every distribution and K, beside the paper's."""
        self.overview = fr.overview(self.params) if self.params["overview"] else []
        if not self.overview:
            return "overview skipped (overview = False): the baselines of this setting are above"
        lines = []
        for r in self.overview:
            _, pc = paper_cells(self.problem.n, r["K"], r["distribution"], self.params["weights"])
            for name, col in (("percentile", "per"), ("dictatorial", "dict"), ("constant", "cons"), ("nonsp", "nonsp")):
                paper = pc.get(col)
                lines.append([r["distribution"], r["K"], name, r[name], paper,
                              None if paper is None else f"{100 * (r[name] - paper) / paper:+.1f}"])
        return text_table(["dist", "K", "method", "ours", "paper", "rel %"], lines)

    def weight_set_text(self) -> str:
        if not self.weight_sets:
            return "no weight-set table (see above)"
        return text_table(["set", "percentile", "dictatorial", "nonsp", "learned", "regret"],
                          [[r["weight_set"], r["percentile"], r["dictatorial"], r["nonsp"], r["learned"], r["learned_max_regret"]]
                           for r in self.weight_sets])

    def weight_set_skipped(self) -> str:
        """Why there is no weight-set study in this run."""
        return "weight-set study skipped: " + ("weight_sets = False" if not self.params["weight_sets"]
                                               else f"Table S5 has no sets for n = {self.problem.n}")

    # ------------------------------------------------------------------ results.json
    def results(self) -> dict[str, Any]:
        """Everything this run computed (results.json)."""
        res = self.result
        return {
            "setting": self.setting,
            "best": self.best,
            "baselines": self.base,
            "baseline_audit": fr.audit_baselines(self.problem, self.params),
            "overview": self.overview,
            "weight_sets": self.weight_sets,
            "table1": self.table1,
            "families": self.families,
            "verdicts": self.verdict,
            "restarts": self.restarts,
            "constant_fitting": res.stats["constant_fitting"],
            "search": {"method": res.method, "stats": {k: v for k, v in res.stats.items() if k != "timing"},
                       "curve": [[k, fr.finite(-s)] for k, s in res.curve()]},
        }


__all__ = ["FacilityRun"]
