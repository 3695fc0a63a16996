"""`amd paper`: the papers' items, what the runs under an outputs root show of each, and rerunning them.

Every numbered table and figure of both papers is an item of the catalogue
(``amdlib/data/paper/catalogue.yaml``, read by :mod:`amdlib.core.paperdata`). An item names the
experiment and the sweep files that rerun it; what the runs show of it comes from that
experiment's ``paper_items`` hook (a headline, and for the report its figures and tables). An
item's state is what part of the paper's grid its runs cover: ``complete``, ``partial``,
``missing``, or ``not recoverable`` (the paper's setting cannot be rebuilt, or the item is about
the LLM itself: the catalogue says what the package shows instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from amdlib.core.experiment import ItemView
from amdlib.core.paperdata import PaperItem, catalogue
from amdlib.errors import UserError
from amdlib.pipeline import catalog, runs
from amdlib.pipeline.catalog import RunRecord

STATES = ("complete", "partial", "missing", "not recoverable")


@dataclass
class ItemState:
    """One item against the runs under an outputs root."""

    item: PaperItem
    state: str
    view: ItemView | None
    runs: list[RunRecord]

    @property
    def headline(self) -> str:
        if self.view is not None and self.view.headline:
            return self.view.headline
        if not self.item.recoverable:
            return "shown instead: " + " ".join((self.item.instead or "").split())
        return "no runs yet"

    @property
    def command(self) -> str:
        """The command that reruns the item (none for an item the package cannot rerun)."""
        return f"amd paper run {self.item.id}" if self.item.sweeps else ""


def sweep_paths(item: PaperItem, full: bool = False) -> list[Path]:
    """The item's sweep files (``full``: its full sweeps too), as paths in the checkout."""
    names = list(item.sweeps) + (list(item.full_sweeps) if full else [])
    return [runs.REPO_ROOT / name for name in dict.fromkeys(names)]


def _state(item: PaperItem, view: ItemView | None) -> str:
    """complete: the runs fill every setting of the item; partial: some (or part of one);
    missing: none; not recoverable: the catalogue says what is shown instead."""
    if not item.recoverable:
        return "not recoverable"
    if view is not None and view.cells[1] and view.cells[0] >= view.cells[1]:
        return "complete"
    return "partial" if view is not None and (view.cells[0] or view.runs) else "missing"


def item_states(root: Path, items: Sequence[PaperItem], draw: Path | None = None) -> list[ItemState]:
    """Each item with what the runs of its experiment show of it (figures drawn into ``draw``)."""
    from amdlib.experiments import available

    experiments = available()
    views: dict[str, ItemView] = {}
    records: dict[str, list[RunRecord]] = {}
    for name in dict.fromkeys(i.experiment for i in items if i.experiment):
        exp = experiments.get(name)
        done = [r for r in catalog.experiment_runs(root, name) if r.status == "ok"]
        records[name] = done
        if exp is not None and exp.paper_items is not None and done:
            views.update({v.item: v for v in exp.paper_items(done, draw)})
    out = []
    for item in items:
        view = views.get(item.id)
        used = set(view.runs) if view is not None else set()
        out.append(ItemState(item, _state(item, view), view,
                             [r for r in records.get(item.experiment or "", []) if r.run_id in used]))
    return out


def select(ids: Iterable[str]) -> list[PaperItem]:
    """The catalogue's items with these ids (all of them when none are given); a bad id is one line."""
    cat = catalogue()
    wanted = list(ids)
    return [cat.item(i) for i in wanted] if wanted else list(cat.items)


def _short(text: str, width: int = 78) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def listing(root: Path, ids: Iterable[str] = ()) -> list[str]:
    """`amd paper`: one line per item (id, label, state, ours against the paper's); one item given
    alone is shown whole (what it shows, its setting, what reruns it, what is shown instead)."""
    states = item_states(root, select(ids))
    if len(states) == 1:
        return detail(states[0])
    idw = max(len(s.item.id) for s in states)
    lw = max(len(s.item.label) for s in states)
    lines = [f"{s.item.id:{idw}s}  {s.item.label:{lw}s}  {s.state:15s}  {_short(s.headline)}" for s in states]
    counts = ", ".join(f"{sum(s.state == k for s in states)} {k}" for k in STATES if any(s.state == k for s in states))
    lines.append(f"{len(states)} items under {root}: {counts}. `amd paper ITEM` shows one, `amd paper run ITEM` "
                 "reruns it, `make paper` reruns them all")
    return lines


def detail(s: ItemState) -> list[str]:
    """Everything about one item, for `amd paper ITEM`."""
    item = s.item
    lines = [f"{item.id}: {item.label} of {catalogue().papers[item.paper].short} ({item.kind})",
             f"  shows: {' '.join(item.shows.split())}",
             f"  setting: {', '.join(f'{k}={v}' for k, v in item.setting.items())}",
             f"  experiment: {item.experiment or 'none (about the LLM itself)'}",
             f"  state: {s.state}; {s.headline}"]
    if s.view is not None and s.view.cells[1]:
        lines.append(f"  cells filled: {s.view.cells[0]} of {s.view.cells[1]} (runs: {len(s.view.runs)})")
    if item.sweeps:
        lines.append(f"  rerun: {s.command}   (sweeps: {', '.join(item.sweeps)})")
    if item.full_sweeps:
        lines.append(f"  full grid: amd paper run --full {item.id}   (sweeps: {', '.join(item.full_sweeps)})")
    if item.instead:
        lines.append(f"  shown instead: {' '.join(item.instead.split())}")
    lines += [f"  caveat: {' '.join(c.split())}" for c in item.caveats]
    return lines


def merged_sweeps(items: Sequence[PaperItem], full: bool = False) -> list:
    """The sweeps that rerun ``items``, merged per experiment (a run two items share runs once)."""
    from amdlib.pipeline.sweep import Sweep, load_sweep

    by_exp: dict[str, dict[str, dict]] = {}
    sources: dict[str, list[str]] = {}
    for item in items:
        for path in sweep_paths(item, full):
            if not path.is_file():
                raise UserError(f"{item.id}: its sweep file {path.relative_to(runs.REPO_ROOT)} is missing")
            sweep = load_sweep(path)
            pending = by_exp.setdefault(sweep.experiment, {})
            for rid, params in zip(sweep.run_ids(), sweep.runs):
                pending.setdefault(rid, params)
            sources.setdefault(sweep.experiment, []).append(path.name)
    return [Sweep(exp, list(found.values()), " + ".join(sources[exp])) for exp, found in by_exp.items()]


def runnable(items: Sequence[PaperItem]) -> list[PaperItem]:
    """The items the package reruns: those with sweep files (an item that is not recoverable may have
    them too: they run what the package shows in its place, e.g. the closest well-defined setting)."""
    return [i for i in items if i.sweeps]


def run_items(items: Sequence[PaperItem], root: Path, jobs: int, scheduler: str | None, full: bool, force: bool,
              report: Callable | None = None, progress: bool = True) -> list:
    """Run every pending run of the items' sweeps (per experiment, on a local pool or Dask); the outcomes."""
    from amdlib.pipeline.sweep import run_sweep

    outcomes = []
    for sweep in merged_sweeps(items, full):
        outcomes += run_sweep(sweep, root, jobs=jobs, scheduler=scheduler, force=force, report=report, progress=progress)
    return outcomes


__all__ = ["ItemState", "STATES", "item_states", "listing", "detail", "select", "merged_sweeps", "runnable", "run_items",
           "sweep_paths"]
