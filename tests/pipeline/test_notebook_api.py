"""The in-notebook API: start() validates and seeds; figures and results go only where they should."""

from __future__ import annotations

import json
import random

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from amdlib.errors import UserError  # noqa: E402
from amdlib.experiments.quickstart import EXPERIMENT  # noqa: E402
from amdlib.pipeline.notebook import start  # noqa: E402
from amdlib.core.experiment import defaults  # noqa: E402
from amdlib.pipeline.validate import _copy_for_replay  # noqa: E402


class FakeSearch:
    def __init__(self, ledger=None):
        self.ledger = {"source": "openai", "model": "gpt-4o", "calls": 3, "tokens": 120} if ledger is None else ledger


def namespace(**overrides):
    return {**defaults(EXPERIMENT), "unrelated": object(), **overrides}


def test_start_validates_with_the_same_rules_as_files():
    with pytest.raises(UserError, match=r"^notebook parameters: seed: expected an integer >= 0, got -3$"):
        start("quickstart", namespace(seed=-3))
    with pytest.raises(UserError, match="unknown experiment 'nope'"):
        start("nope", {})


def test_start_seeds_and_interactive_use_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ctx = start(EXPERIMENT, namespace(seed=7))
    first = (random.random(), np.random.rand())
    start(EXPERIMENT, namespace(seed=7))
    assert (random.random(), np.random.rand()) == first
    assert ctx.output_dir is None and ctx.params["seed"] == 7 and "unrelated" not in ctx.params
    fig = plt.figure()
    ctx.save_figure(fig, "f")
    ctx.write_results({"x": 1})
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_outputs_go_into_the_run_dir(tmp_path):
    ctx = start(EXPERIMENT, namespace(output_dir=str(tmp_path / "run")))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ctx.save_figure(fig, "line")
    plt.close(fig)
    ctx.write_results({"score": np.float64(0.25), "curve": np.arange(3)},
                      searches={"s": FakeSearch(), "mutations": FakeSearch(ledger={})})
    run = tmp_path / "run"
    assert (run / "figures" / "line.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((run / "results.json").read_text()) == {"experiment": "quickstart", "score": 0.25, "curve": [0, 1, 2]}
    # Each search is labelled by its name and proposer/model; an offline search has no LLM ledger.
    assert json.loads((run / "ledger.json").read_text()) == {
        "s: openai/gpt-4o": {"search": "s", "proposer": "openai/gpt-4o", "source": "openai", "model": "gpt-4o",
                              "calls": 3, "tokens": 120},
        "mutations: offline": {}}
    assert sorted(p.name for p in run.rglob("*")) == ["figures", "ledger.json", "line.png", "results.json"]


def test_no_write_mode_for_revalidation(tmp_path, monkeypatch):
    monkeypatch.setenv("AMDLIB_NO_WRITE", "1")
    ctx = start(EXPERIMENT, namespace(output_dir=str(tmp_path / "run")))
    ctx.write_results({"x": 1})
    assert not (tmp_path / "run").exists()


def test_validation_copy_replays_llm_runs(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('proposer = "openai"\ncassette = "/old/c.jsonl"',
                                                                    metadata={"tags": ["injected-parameters"]})])
    src = tmp_path / "run" / "notebook.ipynb"
    src.parent.mkdir()
    nbformat.write(nb, src)
    _copy_for_replay(src, tmp_path / "plain.ipynb")
    assert "replay" not in nbformat.read(tmp_path / "plain.ipynb", as_version=4).cells[0].source  # no cassette: as is
    (src.parent / "cassette.jsonl").write_text("{}\n")
    _copy_for_replay(src, tmp_path / "copy.ipynb")
    namespace_after = {}
    exec(nbformat.read(tmp_path / "copy.ipynb", as_version=4).cells[0].source, namespace_after)
    assert namespace_after["proposer"] == "replay" and namespace_after["cassette"] == str(src.parent / "cassette.jsonl")
