"""nbval over every experiment's notebook: the committed source, and one executed output.

The source notebooks have no outputs, so ``--nbval-lax`` checks that they run top to
bottom with their (smoke-sized) defaults. The executed output is produced by the runner
with ``params/<exp>/smoke.yaml`` into a scratch outputs root and must reproduce the
outputs it recorded in its ``# NBVAL_CHECK_OUTPUT`` cells. nbval runs in a subprocess
(``amdlib.pipeline.validate.nbval``), so it does not interfere with pytest-xdist.

One test class per experiment: under ``--dist loadscope`` each class is a unit of work,
so experiments spread over the xdist workers.
"""

from __future__ import annotations

from pathlib import Path

from amdlib.experiments import BUILTIN, get
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run
from amdlib.pipeline.runs import notebook_path
from amdlib.pipeline.validate import nbval

REPO = Path(__file__).resolve().parents[2]


class _ExperimentNotebook:
    experiment: str

    def test_source_notebook_runs_with_its_defaults(self):
        verdict = nbval(notebook_path(get(self.experiment)))
        assert verdict.ok, verdict.output[-4000:]

    def test_executed_smoke_output_reproduces(self, tmp_path):
        exp = get(self.experiment)
        params = load_params(exp, REPO / "params" / exp.name / "smoke.yaml")
        outcome = execute_run(exp.name, params, tmp_path, source="smoke.yaml")
        assert outcome.status == "ok", outcome.error
        run = Path(outcome.path)
        assert (run / "results.json").is_file() and (run / "notebook.html").is_file()
        assert list((run / "figures").glob("*.png")), "the notebook saved no figure"
        verdict = nbval(run / "notebook.ipynb")
        assert verdict.ok, verdict.output[-4000:]
        assert "passed" in verdict.summary


for _name in BUILTIN:
    _cls = type(f"Test_{_name}", (_ExperimentNotebook,), {"experiment": _name})
    globals()[_cls.__name__] = _cls
del _name, _cls
