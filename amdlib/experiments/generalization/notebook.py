"""The notebook's text tables and its results (``notebooks/05_generalization.ipynb``).

The notebook gets its mechanisms (:func:`amdlib.experiments.generalization.study.learned_mechanisms`),
runs both studies (``study.run_studies``) and prints these tables; :func:`results` is the run's
results.json.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from amdlib.experiments.generalization.sources import Learned


def learned_text(learned: Sequence[Learned]) -> str:
    """Each learned mechanism's setting and code."""
    return "\n".join(f"--- {m.label}: trained on {m.distribution} peaks, n={m.n}, K={m.k}, weights {m.weights}\n{m.code}"
                     for m in learned)


def ood_text(ood: Mapping[str, Any]) -> str:
    """Per test distribution and training setting: the learned mechanisms, the baselines fitted in
    distribution and on the training distribution, and the non-SP optimum (cost, regret)."""
    lines = [f"{'distribution':12s} {'setting':26s} {'mechanism':38s} {'cost':>8s} {'regret':>8s}"]
    for dist, settings in ood.items():
        for name, e in settings.items():
            rows = list(e["learned"].items())
            rows += [(f"{b} (in distribution)", r) for b, r in e["baselines_in_distribution"].items()]
            rows += [(f"{b} (fitted on {e['trained_on']})", r) for b, r in e["baselines_ood"].items()]
            for label, r in rows:
                cost = f"{r['social_cost']:8.4f}" if r["applicable"] else "     n/a"
                reg = f"{r['max_regret']:8.4f}" if r["applicable"] else ""
                lines.append(f"{dist:12s} {name:26s} {label[:38]:38s} {cost} {reg}")
            lines.append(f"{dist:12s} {name:26s} {'non-SP optimum':38s} {e['nonsp']:8.4f}")
    return "\n".join(lines)


def larger_n_text(larger: Mapping[str, Any]) -> str:
    """Per n: each learned mechanism (cost, regret, dense audit, or why it does not apply), the
    refitted percentile rule, the non-SP optimum and the neural baselines' note."""
    lines = [f"{'n':>4s}  {'series':48s} {'cost':>8s} {'regret':>8s} {'dense audit':>11s}"]
    for key, e in larger.items():
        if not key.isdigit():
            continue
        for label, r in e["learned"].items():
            audit = e["dense_audit_max_regret"][label]
            if r["applicable"]:
                lines.append(f"{key:>4s}  {label[:48]:48s} {r['social_cost']:8.4f} {r['max_regret']:8.4f} {audit:11.4f}")
            else:
                lines.append(f"{key:>4s}  {label[:48]:48s} not applicable: {r['reason'][:60]}")
        for s, r in e["percentile"].items():
            lines.append(f"{key:>4s}  {'best percentile ' + s + ' ' + str(r['quantiles']):48s} {r['social_cost']:8.4f} "
                         f"{r['max_regret']:8.4f}")
        for s, c in e["nonsp"].items():
            lines.append(f"{key:>4s}  {'non-SP optimum ' + s:48s} {c:8.4f}")
        lines.append(f"{key:>4s}  {'MoulinNet / RegretNet':48s} {e['neural']}")
    return "\n".join(lines)


def summary_text(summary: Mapping[str, Any]) -> str:
    """The headline numbers, one per line (floats rounded to 4 places)."""
    return "\n".join(f"{key:32s} {value if not isinstance(value, float) else round(value, 4)}" for key, value in summary.items())


def results(params: Mapping[str, Any], learned: Sequence[Learned], ood: Mapping[str, Any], larger: Mapping[str, Any],
            summary: Mapping[str, Any], comparison: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the run computed (results.json)."""
    return {
        "source_runs": list(params["source_runs"]) or ["learned in this run"],
        "learned": [m.to_dict() for m in learned],
        "ood": ood,
        "larger_n": larger,
        "summary": summary,
        "paper_comparison": comparison,
    }


__all__ = ["learned_text", "ood_text", "larger_n_text", "summary_text", "results"]
