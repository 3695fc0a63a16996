"""Project files that promise things: environment.yml, README's two commands, params files, Makefile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amdlib.experiments import available
from amdlib.pipeline.params import load_yaml, validate
from amdlib.pipeline.sweep import load_sweep

REPO = Path(__file__).resolve().parents[2]


def test_readme_opens_with_exactly_the_two_commands():
    text = (REPO / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S).group(1)
    commands = [ln.strip() for ln in first_block.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert commands == ["make reproduce", "make test"]
    assert text.index("make reproduce") < text.index("##")  # before any section


def test_makefile_targets_and_stamp():
    text = (REPO / "Makefile").read_text()
    for target in ("reproduce:", "test:"):
        assert re.search(rf"^{target}", text, re.M)
    assert "sha256sum" in text and "-m venv" in text and "-e '.[test]'" in text and "requirements.lock" in text


def _param_files():
    return sorted((REPO / "params").glob("*/*.yaml"))


@pytest.mark.parametrize("path", _param_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_params_file_validates(path):
    if path.name.startswith("sweep"):
        sweep = load_sweep(path)
        assert sweep.experiment == path.parent.name and sweep.runs
        return
    exp = available()[path.parent.name]
    full = validate(exp, load_yaml(path), str(path))
    assert full["output_dir"] == "", "params files must not set output_dir (the runner does)"
    if path.stem in ("smoke", "default"):
        assert full.get("proposer", "offline") != "openai", f"{path.name} must run offline"
