"""The ``amd`` command: list, run, baselines, sweep, validate, report, new, llm-server, bench.

Bad input (a :class:`~amdlib.errors.UserError` or a usage error) prints one
line on stderr and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from amdlib.errors import UserError


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `{self.prog} -h`)")


def _echo(line: str) -> None:
    print(line, flush=True)


def _status_line(outcome) -> str:
    timing = f" {outcome.duration_s:6.1f}s" if outcome.status != "skipped" else ""
    err = f"  {outcome.error}" if outcome.error else ""
    return f"{outcome.status:7s} {outcome.experiment}/{outcome.run_id}{timing}  {outcome.path}{err}"


def cmd_list(args: argparse.Namespace) -> int:
    from amdlib.experiments import available
    from amdlib.pipeline.runs import notebook_path, params_dir

    for name, exp in available().items():
        nb = notebook_path(exp)  # absolute: the paths printed work from any folder
        _echo(f"{name}: {exp.title}")
        _echo(f"  notebook: {nb}{'' if nb.is_file() else ' (missing)'}")
        files = sorted(params_dir(name).glob("*.yaml"))
        short = [p.stem for p in files if not p.stem.startswith("sweep")]
        _echo(f"  params (amd run {name} -p {'|'.join(short) or 'FILE'}):" + ("" if files else " (none)"))
        for path in files:
            _echo(f"    {path}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from amdlib.pipeline.inspect import runs_lines
    from amdlib.pipeline.runs import outputs_root

    for line in runs_lines(outputs_root(args.outputs), args.experiment):
        _echo(line)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from amdlib.pipeline.inspect import show_lines
    from amdlib.pipeline.runs import outputs_root

    for line in show_lines(outputs_root(args.outputs), args.run):
        _echo(line)
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    from amdlib.pipeline.inspect import open_run
    from amdlib.pipeline.runs import outputs_root

    for line in open_run(outputs_root(args.outputs), args.run, browser=False if args.print_only else None):
        _echo(line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from amdlib.experiments import get
    from amdlib.pipeline.catalog import resolve_params_file
    from amdlib.pipeline.params import load_params
    from amdlib.pipeline.progress import RunProgress, reporting
    from amdlib.pipeline.runner import cell_timeout, execute_run
    from amdlib.pipeline.runs import check_outputs_root, outputs_root

    cell_timeout()  # a bad AMDLIB_CELL_TIMEOUT is a one-line error before any kernel starts
    exp = get(args.experiment)
    args.params = resolve_params_file(exp.name, args.params)  # -p smoke|default|paper
    params = load_params(exp, args.params, args.set)
    source = args.params or "defaults"
    root = check_outputs_root(outputs_root(args.outputs))
    _preflight(exp.name, [params], root, args.force)  # LLM settings: one-line errors before any kernel starts
    _echo(f"running {exp.name} ({source}) ...")
    with reporting(RunProgress(quiet=args.quiet)):  # each cell, and its output, as the notebook runs
        outcome = execute_run(exp.name, params, root, force=args.force, source=str(source))
    _echo(_status_line(outcome))
    return 1 if outcome.status == "failed" else 0


def _preflight(experiment: str, runs: list, root: Path, force: bool) -> None:
    """Check the LLM settings of the runs still to do and print their cost estimate."""
    from amdlib.pipeline.preflight import check_all
    from amdlib.pipeline.runs import is_complete, run_dir, run_id

    todo = [p for p in runs if force or not is_complete(run_dir(root, experiment, run_id(experiment, p)))]
    for line in check_all(experiment, todo):
        _echo(line)


def cmd_estimate(args: argparse.Namespace) -> int:
    from amdlib.experiments import get
    from amdlib.pipeline.catalog import resolve_params_file
    from amdlib.pipeline.estimate import estimate
    from amdlib.pipeline.params import load_params

    exp = get(args.experiment)
    params = load_params(exp, resolve_params_file(exp.name, args.params), args.set)
    for line in estimate(exp.name, params).table():
        _echo(line)
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    from amdlib.experiments import get
    from amdlib.pipeline.catalog import resolve_params_file
    from amdlib.pipeline.jsonio import dumps
    from amdlib.pipeline.params import load_params

    exp = get(args.experiment)
    if exp.baselines is None:
        raise UserError(f"experiment '{exp.name}' has no baselines hook")
    params = load_params(exp, resolve_params_file(exp.name, args.params), args.set)
    sys.stdout.write(dumps(exp.baselines(params)))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from amdlib.pipeline.backends import check_scheduler
    from amdlib.pipeline.runner import cell_timeout
    from amdlib.pipeline.runs import check_outputs_root, is_complete, outputs_root, run_dir
    from amdlib.pipeline.sweep import load_sweep, run_sweep

    cell_timeout()  # a bad AMDLIB_CELL_TIMEOUT is a one-line error before any kernel starts
    if args.scheduler:
        check_scheduler(args.scheduler)
    sweep = load_sweep(args.file)
    root = outputs_root(args.outputs)
    if not args.dry_run:
        check_outputs_root(root)
        _preflight(sweep.experiment, sweep.runs, root, args.force)
    if args.dry_run:
        # Show what tells the runs apart; the rest is common to all of them.
        varying = [k for k in sorted(sweep.runs[0]) if len({json.dumps(p[k]) for p in sweep.runs}) > 1]
        for rid, params in zip(sweep.run_ids(), sweep.runs):
            state = "complete" if is_complete(run_dir(root, sweep.experiment, rid)) else "to run"
            _echo(f"{rid}  {state:8s}  {' '.join(f'{k}={params[k]}' for k in varying)}")
        _echo(f"{len(sweep.runs)} runs of {sweep.experiment} -> {root / sweep.experiment}")
        return 0
    outcomes = run_sweep(sweep, root, jobs=args.jobs, scheduler=args.scheduler, force=args.force,
                         only=args.only or (), report=lambda o: tqdm.write(_status_line(o)),
                         progress=sys.stderr.isatty())  # a log gets one status line per run, no bar redraws
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    _echo(f"{sweep.experiment}: {counts['ok']} ran, {counts['skipped']} skipped (complete), {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from amdlib.pipeline.runs import check_outputs_root, outputs_root
    from amdlib.pipeline.validate import validate_paths

    root = outputs_root(args.outputs)
    results = validate_paths([Path(p) for p in args.paths], root if args.paths else check_outputs_root(root, must_exist=True))
    for res in results:
        crashed = any(p.kind == "crash" for p in res.problems)
        verdict = "reproduced" if res.ok else "CRASHED" if crashed else "DIFFERS"
        _echo(f"{verdict:10s} {res.path}  {res.summary}")
        for problem in res.problems:
            _echo(f"  {problem.cell}: {'raised an error' if problem.kind == 'crash' else 'output differs'}")
            for line in problem.detail.splitlines():
                _echo(f"    {line}")
    if not results:
        _echo("no executed notebooks found (run `amd run` or `amd sweep` first)")
    return 0 if all(r.ok for r in results) else 1


def cmd_report(args: argparse.Namespace) -> int:
    from amdlib.pipeline.report import build_report
    from amdlib.pipeline.runs import check_outputs_root, outputs_root

    root = check_outputs_root(outputs_root(args.outputs), must_exist=True)
    check_outputs_root(root)  # the report is written there too
    index = build_report(root)
    _echo(str(index))
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from amdlib.pipeline.clean import clean
    from amdlib.pipeline.runs import check_outputs_root, outputs_root

    root = check_outputs_root(outputs_root(args.outputs), must_exist=True)
    found = clean(root, dry_run=args.dry_run)
    for path in found:
        _echo(f"{'would remove' if args.dry_run else 'removed'} {path}")
    _echo(f"{len(found)} leftover(s) {'found' if args.dry_run else 'removed'} under {root}")
    return 0


def cmd_llm_server(args: argparse.Namespace) -> int:
    try:
        from amdlib.llm.server import main as server_main
    except ImportError as err:
        raise UserError(f"the LLM server is not available: {err}") from None
    try:
        return int(server_main(list(args.server_args)) or 0)
    except SystemExit as done:  # the server's argparse: --help (0) or a usage error (2)
        return done.code if isinstance(done.code, int) else 2


def cmd_new(args: argparse.Namespace) -> int:
    from amdlib.pipeline import scaffold

    if args.what == "experiment":
        scaffold.new_experiment(args.name, args.dir, install_it=not args.no_install, echo=_echo)
        return 0
    from amdlib.experiments import get
    from amdlib.pipeline.runs import notebook_path

    exp = get(args.name)
    if args.write:
        path = scaffold.write_parameters_cell(notebook_path(exp), exp)
        _echo(f"wrote the parameters cell of {path} ({len(exp.params)} parameters)")
    else:
        _echo(scaffold.parameters_cell(exp))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from amdlib.benchmarks.table import run_benchmarks

    return run_benchmarks(args.names, quick=args.quick, echo=_echo, strict=args.strict)


def cmd_paper(args: argparse.Namespace) -> int:
    """`amd paper [ITEM...]` lists the papers' items; `amd paper run ITEM... | --all` reruns them."""
    from tqdm.auto import tqdm

    from amdlib.pipeline import paper
    from amdlib.pipeline.backends import check_scheduler
    from amdlib.pipeline.runs import check_outputs_root, outputs_root

    root = outputs_root(args.outputs)
    words = list(args.items)
    if not words or words[0] != "run":
        if args.all or args.full or args.jobs != 1 or args.scheduler or args.force:
            raise UserError("--all, --full, -j, --scheduler and --force go with `amd paper run`")
        for line in paper.listing(root, words):
            _echo(line)
        return 0
    ids = words[1:]
    if bool(ids) == bool(args.all):
        raise UserError("amd paper run: name the items (`amd paper` lists them) or give --all, not both")
    items = paper.select(ids)
    if args.all:
        items = paper.runnable(items)
    elif not paper.runnable(items):
        raise UserError(f"{', '.join(ids)}: nothing to rerun (about the LLM itself; `amd paper ITEM` says what is shown instead)")
    if args.scheduler:
        check_scheduler(args.scheduler)
    check_outputs_root(root)
    outcomes = paper.run_items(items, root, args.jobs, args.scheduler, args.full, args.force,
                               report=lambda o: tqdm.write(_status_line(o)), progress=sys.stderr.isatty())
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    _echo(f"{len(items)} item(s): {counts['ok']} ran, {counts['skipped']} skipped (complete), {counts['failed']} failed; "
          "`amd report` draws them")
    return 1 if counts["failed"] else 0


def build_parser() -> argparse.ArgumentParser:
    """The ``amd`` argument parser (one sub-command per verb)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--outputs", metavar="DIR", help="outputs root (default: $AMDLIB_OUTPUTS or ./outputs)")
    parser = _Parser(prog="amd", description="Reproducible LLM-driven automated mechanism design.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="experiments, notebooks and parameter files").set_defaults(fn=cmd_list)

    for name, fn, text in (("run", cmd_run, "run one experiment notebook"),
                           ("baselines", cmd_baselines, "print an experiment's baselines as JSON (no search)")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("experiment")
        p.add_argument("-p", "--params", metavar="FILE", help="parameter file (YAML), or smoke|default|paper for the experiment's own")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter (repeatable)")
        if name == "run":
            p.add_argument("--force", action="store_true", help="rerun even if a complete run exists")
            p.add_argument("--unsafe-sandbox", action="store_true",
                           help="run untrusted code even where no kernel containment layer holds")
            p.add_argument("-q", "--quiet", action="store_true", help="show cells and progress bars, not the notebook's other output")
        p.set_defaults(fn=fn)

    p = sub.add_parser("estimate", help="LLM calls, tokens and dollars a run will take (no endpoint needed)")
    p.add_argument("experiment")
    p.add_argument("-p", "--params", metavar="FILE", help="parameter file (YAML), or smoke|default|paper")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter, e.g. model=deepseek-chat")
    p.set_defaults(fn=cmd_estimate)

    p = sub.add_parser("sweep", parents=[common], help="run a sweep file")
    p.add_argument("file")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel runs on a local process pool")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument("--dry-run", action="store_true", help="list the runs and whether they are complete")
    p.add_argument("--force", action="store_true", help="redo complete runs too")
    p.add_argument("--only", action="append", metavar="RUN_ID", help="run only this run id (repeatable)")
    p.add_argument("--unsafe-sandbox", action="store_true",
                   help="run untrusted code even where no kernel containment layer holds")
    p.set_defaults(fn=cmd_sweep)

    p = sub.add_parser("validate", parents=[common], help="re-execute executed notebooks with nbval")
    p.add_argument("paths", nargs="*", help="run dirs or notebooks (default: every complete run)")
    p.set_defaults(fn=cmd_validate)

    sub.add_parser("report", parents=[common], help="build outputs/index.html and outputs/tables/").set_defaults(fn=cmd_report)

    p = sub.add_parser("runs", parents=[common], help="list runs: id, status, varied params, key metrics, age")
    p.add_argument("experiment", nargs="?", help="only this experiment's runs")
    p.set_defaults(fn=cmd_runs)
    p = sub.add_parser("show", parents=[common], help="one run's params, key metrics, files and paper comparison")
    p.add_argument("run", help="run id (or a unique prefix, EXP/ID, or a run dir)")
    p.set_defaults(fn=cmd_show)
    p = sub.add_parser("open", parents=[common], help="open a run's notebook.html in a browser (or print its path)")
    p.add_argument("run", help="run id (or a unique prefix, EXP/ID, or a run dir)")
    p.add_argument("--print", dest="print_only", action="store_true", help="only print the path")
    p.set_defaults(fn=cmd_open)

    p = sub.add_parser("clean", parents=[common], help="remove failed records and what killed runs left")
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.set_defaults(fn=cmd_clean)

    p = sub.add_parser("paper", parents=[common], help="the papers' tables and figures: their state, and rerunning them")
    p.add_argument("items", nargs="*", metavar="[run] ITEM", help="item ids to list (default: all); `run ITEM...` reruns them")
    p.add_argument("--all", action="store_true", help="with run: every item the package can rerun")
    p.add_argument("--full", action="store_true", help="with run: the full sweeps too (the whole grids, paper budgets)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="with run: parallel runs on a local process pool")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="with run: run on an existing Dask cluster")
    p.add_argument("--force", action="store_true", help="with run: redo complete runs too")
    p.set_defaults(fn=cmd_paper)

    # Every argument, --help included, belongs to the server's own parser.
    p = sub.add_parser("llm-server", help="serve a local OpenAI-compatible LLM (llama.cpp)", add_help=False, prefix_chars="\0")
    p.add_argument("server_args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_llm_server)

    p = sub.add_parser("new", help="write a new experiment package, or a notebook's parameters cell")
    what = p.add_subparsers(dest="what", metavar="{experiment,params-cell}", required=True, parser_class=_Parser)
    q = what.add_parser("experiment", help="the skeleton of an experiment package (entry point amdlib.experiments), "
                        "installed in editable mode")
    q.add_argument("name", help="the experiment's name: a lower-case Python identifier")
    q.add_argument("--dir", metavar="DIR", help="the project folder to create (default: ./NAME)")
    q.add_argument("--no-install", action="store_true", help="only write the files (no `pip install -e DIR`)")
    q.set_defaults(fn=cmd_new)
    q = what.add_parser("params-cell", help="print an experiment's notebook parameters cell, generated from its record")
    q.add_argument("name", help="the experiment")
    q.add_argument("--write", action="store_true", help="write it into the experiment's notebook instead of printing it")
    q.set_defaults(fn=cmd_new)

    p = sub.add_parser("bench", help="measure performance figures against their targets")
    p.add_argument("names", nargs="*", help="benchmark modules (default: all)")
    p.add_argument("--quick", action="store_true", help="smaller measurements")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed (default: report it, exit 0)")
    p.set_defaults(fn=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``amd``; returns the exit status."""
    import signal

    from amdlib.pipeline.kernels import interrupt

    if argv is None and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)  # the real command: Ctrl-C kills its kernels first
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "jobs", 1) < 1:
            raise UserError("-j/--jobs: expected a positive integer")
        if getattr(args, "unsafe_sandbox", False):
            import os

            os.environ["AMDLIB_UNSAFE_SANDBOX"] = "1"  # inherited by kernels and pool workers
        return args.fn(args)
    except UserError as err:
        print(f"amd: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("amd: interrupted; nothing new was started and unfinished runs were cleaned up", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        # The reader went away (`amd list | head`): stop quietly, without a traceback at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2


if __name__ == "__main__":
    sys.exit(main())
