"""The ``amd`` command: list, run, baselines, sweep, validate, report, llm-server, bench.

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
    from amdlib.pipeline.runs import REPO_ROOT, notebook_path, params_dir

    for name, exp in available().items():
        nb = notebook_path(exp)
        shown = nb.relative_to(REPO_ROOT) if nb.is_relative_to(REPO_ROOT) else nb
        _echo(f"{name}: {exp.title}")
        _echo(f"  notebook: {shown}{'' if nb.is_file() else ' (missing)'}")
        files = sorted(p.name for p in params_dir(name).glob("*.yaml"))
        _echo(f"  params/{name}/: {', '.join(files) or '(none)'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from amdlib.experiments import get
    from amdlib.pipeline.params import load_params
    from amdlib.pipeline.runner import cell_timeout, execute_run
    from amdlib.pipeline.runs import outputs_root

    cell_timeout()  # a bad AMDLIB_CELL_TIMEOUT is a one-line error before any kernel starts
    exp = get(args.experiment)
    params = load_params(exp, args.params, args.set)
    source = args.params or "defaults"
    _echo(f"running {exp.name} ({source}) ...")
    outcome = execute_run(exp.name, params, outputs_root(args.outputs), force=args.force, source=str(source))
    _echo(_status_line(outcome))
    return 1 if outcome.status == "failed" else 0


def cmd_baselines(args: argparse.Namespace) -> int:
    from amdlib.experiments import get
    from amdlib.pipeline.jsonio import dumps
    from amdlib.pipeline.params import load_params
    from amdlib.pipeline.plugins import load_hook

    exp = get(args.experiment)
    if not exp.baselines:
        raise UserError(f"experiment '{exp.name}' has no baselines hook")
    params = load_params(exp, args.params, args.set)
    sys.stdout.write(dumps(load_hook(exp.baselines)(params)))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from amdlib.pipeline.runner import cell_timeout
    from amdlib.pipeline.runs import is_complete, outputs_root, run_dir
    from amdlib.pipeline.sweep import load_sweep, run_sweep

    cell_timeout()  # a bad AMDLIB_CELL_TIMEOUT is a one-line error before any kernel starts
    sweep = load_sweep(args.file)
    root = outputs_root(args.outputs)
    if args.dry_run:
        # Show what tells the runs apart; the rest is common to all of them.
        varying = [k for k in sorted(sweep.runs[0]) if len({json.dumps(p[k]) for p in sweep.runs}) > 1]
        for rid, params in zip(sweep.run_ids(), sweep.runs):
            state = "complete" if is_complete(run_dir(root, sweep.experiment, rid)) else "to run"
            _echo(f"{rid}  {state:8s}  {' '.join(f'{k}={params[k]}' for k in varying)}")
        _echo(f"{len(sweep.runs)} runs of {sweep.experiment} -> {root / sweep.experiment}")
        return 0
    outcomes = run_sweep(sweep, root, jobs=args.jobs, scheduler=args.scheduler, force=args.force,
                         only=args.only or (), report=lambda o: tqdm.write(_status_line(o)))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    _echo(f"{sweep.experiment}: {counts['ok']} ran, {counts['skipped']} skipped (complete), {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from amdlib.pipeline.runs import outputs_root
    from amdlib.pipeline.validate import validate_paths

    results = validate_paths([Path(p) for p in args.paths], outputs_root(args.outputs))
    for res in results:
        _echo(f"{'reproduced' if res.ok else 'DIFFERS':10s} {res.path}  {res.summary}")
    if not results:
        _echo("no executed notebooks found (run `amd run` or `amd sweep` first)")
    return 0 if all(r.ok for r in results) else 1


def cmd_report(args: argparse.Namespace) -> int:
    from amdlib.pipeline.report import build_report
    from amdlib.pipeline.runs import outputs_root

    index = build_report(outputs_root(args.outputs))
    _echo(str(index))
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


def cmd_bench(args: argparse.Namespace) -> int:
    from amdlib.pipeline.benchtable import run_benchmarks

    return run_benchmarks(args.names, quick=args.quick, echo=_echo)


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
        p.add_argument("-p", "--params", metavar="FILE", help="parameter file (YAML)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter (repeatable)")
        if name == "run":
            p.add_argument("--force", action="store_true", help="rerun even if a complete run exists")
        p.set_defaults(fn=fn)

    p = sub.add_parser("sweep", parents=[common], help="run a sweep file")
    p.add_argument("file")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel runs on a local process pool")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument("--dry-run", action="store_true", help="list the runs and whether they are complete")
    p.add_argument("--force", action="store_true", help="redo complete runs too")
    p.add_argument("--only", action="append", metavar="RUN_ID", help="run only this run id (repeatable)")
    p.set_defaults(fn=cmd_sweep)

    p = sub.add_parser("validate", parents=[common], help="re-execute executed notebooks with nbval")
    p.add_argument("paths", nargs="*", help="run dirs or notebooks (default: every complete run)")
    p.set_defaults(fn=cmd_validate)

    sub.add_parser("report", parents=[common], help="build outputs/index.html and outputs/tables/").set_defaults(fn=cmd_report)

    # Every argument, --help included, belongs to the server's own parser.
    p = sub.add_parser("llm-server", help="serve a local OpenAI-compatible LLM (llama.cpp)", add_help=False, prefix_chars="\0")
    p.add_argument("server_args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_llm_server)

    p = sub.add_parser("bench", help="measure performance figures against their targets")
    p.add_argument("names", nargs="*", help="benchmark modules (default: all)")
    p.add_argument("--quick", action="store_true", help="smaller measurements")
    p.set_defaults(fn=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``amd``; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "jobs", 1) < 1:
            raise UserError("-j/--jobs: expected a positive integer")
        return args.fn(args)
    except UserError as err:
        print(f"amd: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("amd: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
