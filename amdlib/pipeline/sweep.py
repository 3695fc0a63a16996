"""Sweeps: many runs of one experiment, on a local process pool or a Dask cluster.

A sweep file (YAML) names the experiment, base params, and what varies::

    experiment: quickstart
    base: smoke.yaml          # a params file (relative to this file) or an inline mapping
    grid:                     # cartesian product of these values (optional)
      method: [funsearch, eoh]
    runs:                     # explicit variations, each merged over base (optional)
      - {target: smooth}
    seeds: [0, 1]             # every combination runs once per seed (optional)

Every expanded run is validated before anything starts. Complete runs are
skipped (``--force`` redoes them); failed or partial ones are redone.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from amdlib.errors import UserError
from amdlib.pipeline import runs
from amdlib.pipeline.backends import dask, local_pool
from amdlib.pipeline.jsonio import write_json
from amdlib.pipeline.params import check_keys, load_yaml, reject_runner_keys, validate
from amdlib.pipeline.runner import Outcome, execute_run

_SWEEP_KEYS = ("experiment", "base", "grid", "runs", "seeds", "description")


@dataclass
class Sweep:
    """An expanded sweep: every run's full validated params, in a stable order."""

    experiment: str
    runs: list[dict[str, Any]]
    source: str

    def run_ids(self) -> list[str]:
        return [runs.run_id(self.experiment, p) for p in self.runs]


def _base(spec: Any, sweep_path: Path) -> tuple[dict[str, Any], str]:
    """Base params from a file name (relative to the sweep file or params/<exp>/) or a mapping."""
    if spec is None:
        return {}, str(sweep_path)
    if isinstance(spec, dict):
        return dict(spec), f"{sweep_path} (base)"
    if not isinstance(spec, str):
        raise UserError(f"{sweep_path}: base: expected a params file name or a mapping, got {spec!r}")
    path = Path(spec)
    if not path.is_absolute():
        path = sweep_path.parent / path
    return load_yaml(path), str(path)


def _grid(spec: Any, sweep_path: Path) -> list[dict[str, Any]]:
    if spec is None:
        return [{}]
    if not isinstance(spec, dict) or not all(isinstance(v, list) and v for v in spec.values()):
        raise UserError(f"{sweep_path}: grid: expected a mapping of key: [non-empty list of values]")
    keys = list(spec)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(spec[k] for k in keys))]


def _listed(spec: Any, name: str, sweep_path: Path, item: type) -> list[Any]:
    if not isinstance(spec, list) or not spec or not all(isinstance(x, item) and not isinstance(x, bool) for x in spec):
        raise UserError(f"{sweep_path}: {name}: expected a non-empty list of {'mappings' if item is dict else 'integers'}")
    return spec


def load_sweep(path: str | Path) -> Sweep:
    """Read, expand and validate a sweep file; any problem is a one-line UserError."""
    from amdlib.experiments import get

    sweep_path = Path(path)
    spec = load_yaml(sweep_path)
    unknown = [k for k in spec if k not in _SWEEP_KEYS]
    if unknown:
        raise UserError(f"{sweep_path}: unknown sweep key '{unknown[0]}'; allowed: {', '.join(_SWEEP_KEYS)}")
    if not isinstance(spec.get("experiment"), str):
        raise UserError(f"{sweep_path}: experiment: expected an experiment name (see `amd list`)")
    exp = get(spec["experiment"])
    base, base_source = _base(spec.get("base"), sweep_path)
    validate(exp, base, base_source)
    reject_runner_keys(base, base_source)
    grid = _grid(spec.get("grid"), sweep_path)
    check_keys(exp, grid[0], f"{sweep_path}: grid")
    reject_runner_keys(grid[0], f"{sweep_path}: grid")
    variations = _listed(spec["runs"], "runs", sweep_path, dict) if "runs" in spec else [{}]
    for i, variation in enumerate(variations):
        reject_runner_keys(variation, f"{sweep_path}: runs[{i}]")
    seeds = _listed(spec["seeds"], "seeds", sweep_path, int) if "seeds" in spec else [None]
    if seeds != [None]:
        # Two lists of seeds would collapse into one silently: say which one to keep.
        where = "grid" if "seed" in grid[0] else "runs" if any("seed" in v for v in variations) else ""
        if where:
            raise UserError(f"{sweep_path}: seed is given both in {where} and in seeds; keep one of the two")
    expanded: dict[str, dict[str, Any]] = {}
    for i, (variation, combo, seed) in enumerate(itertools.product(variations, grid, seeds)):
        values = {**base, **combo, **variation, **({} if seed is None else {"seed": seed})}
        params = validate(exp, values, f"{sweep_path}: run {i + 1}")
        expanded.setdefault(runs.run_id(exp.name, params), params)  # identical runs collapse
    return Sweep(exp.name, list(expanded.values()), str(sweep_path))


def _result(future: Future, experiment: str, rid: str, root: Path) -> Outcome:
    """A worker's outcome; a worker that died (killed, out of memory) counts as a failed run."""
    try:
        return future.result()
    except Exception as err:
        line = f"worker lost: {type(err).__name__}: {' '.join(str(err).split())}"
        record = runs.failed_record(root, experiment, rid)
        write_json(record, {"experiment": experiment, "run_id": rid, "status": "failed", "error": line})
        return Outcome(experiment, rid, "failed", str(record), error=line)


def run_sweep(
    sweep: Sweep,
    root: Path,
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    only: Iterable[str] = (),
    report: Callable[[Outcome], None] | None = None,
    progress: bool = True,
) -> list[Outcome]:
    """Run every pending run of ``sweep``; returns one outcome per run, in sweep order."""
    from tqdm.auto import tqdm

    wanted = set(only)
    unknown = wanted - set(sweep.run_ids())
    if unknown:
        raise UserError(f"--only: no run {sorted(unknown)[0]} in {sweep.source}; see `amd sweep {sweep.source} --dry-run`")
    outcomes: dict[str, Outcome] = {}
    pending: list[dict[str, Any]] = []
    for rid, params in zip(sweep.run_ids(), sweep.runs):
        if wanted and rid not in wanted:
            continue
        if not force and runs.is_complete(runs.run_dir(root, sweep.experiment, rid)):
            outcomes[rid] = Outcome(sweep.experiment, rid, "skipped", str(runs.run_dir(root, sweep.experiment, rid)))
        else:
            pending.append(params)
    args = [(sweep.experiment, p, str(root), force, sweep.source) for p in pending]
    finished: Iterable[Outcome] = ()
    close: Callable[[bool], None] = lambda interrupted: None
    if pending and scheduler is None and jobs <= 1:
        finished = (execute_run(*a) for a in args)  # in-process: no pool start-up cost
    elif pending:  # connect before drawing progress, so a bad address is a clean one-line error
        submit, completed, close = dask(scheduler) if scheduler else local_pool(jobs)
        futures = {submit(execute_run, *a): runs.run_id(sweep.experiment, a[1]) for a in args}
        finished = (_result(f, sweep.experiment, futures[f], root) for f in completed(list(futures)))
    bar = tqdm(total=len(outcomes) + len(pending), initial=len(outcomes), desc=sweep.experiment, unit="run", disable=not progress)
    for done in list(outcomes.values()):
        report and report(done)
    interrupted = False
    try:
        for outcome in finished:
            outcomes[outcome.run_id] = outcome
            bar.update(1)
            report and report(outcome)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        close(interrupted)
        bar.close()
        if interrupted:  # workers killed mid-run leave working dirs whose pid is gone
            for rid in sweep.run_ids():
                record = runs.failed_record(root, sweep.experiment, rid)
                if runs.clean_stale(root, sweep.experiment, rid) and not record.is_file():
                    write_json(record, {"experiment": sweep.experiment, "run_id": rid, "status": "failed",
                                        "error": "interrupted (Ctrl-C) before the run finished"})
    order = {rid: i for i, rid in enumerate(sweep.run_ids())}
    return sorted(outcomes.values(), key=lambda o: order[o.run_id])
