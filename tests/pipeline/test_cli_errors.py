"""Bad input through the real `amd` command: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import pytest

SMOKE = "params/quickstart/smoke.yaml"


def assert_one_line_error(done, *needles):
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("amd: error: ") and "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    "files, args, needles",
    [
        ({}, ["run", "nope"], ["unknown experiment 'nope'", "quickstart"]),
        ({}, ["baselines", "nope"], ["unknown experiment 'nope'"]),
        ({"p.yaml": "seed: 1\ncolour: red\n"}, ["run", "quickstart", "-p", "@p.yaml"],
         ["p.yaml: unknown parameter 'colour'", "allowed: seed"]),
        ({"p.yaml": "seed: one\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["p.yaml: seed: expected an integer >= 0, got 'one'"]),
        ({"p.yaml": "seed: true\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["seed: expected an integer >= 0, got True"]),
        ({"p.yaml": "temperature: 9\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["temperature: expected a number >= 0 and <= 2, got 9"]),
        ({"p.yaml": "method: [funsearch\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["p.yaml: malformed YAML at line 2"]),
        ({}, ["run", "quickstart", "-p", "@absent.yaml"], ["absent.yaml: no such file"]),
        ({}, ["run", "quickstart", "--set", "workers=0"], ["--set: workers: expected an integer >= 1 and <= 64, got 0"]),
        ({}, ["baselines", "quickstart", "--set", "target=wiggly"], ["target: expected one of 'linear', 'smooth'"]),
        ({"s.yaml": "experiment: nope\n"}, ["sweep", "@s.yaml"], ["unknown experiment 'nope'"]),
        ({"s.yaml": "experiment: quickstart\nbase: {b: 1}\n"}, ["sweep", "@s.yaml"], ["(base): unknown parameter 'b'"]),
        ({"s.yaml": "experiment: quickstart\ngrid: {seed: [0, -2]}\n"}, ["sweep", "@s.yaml"], ["run 2: seed: expected an integer >= 0, got -2"]),
        ({"s.yaml": "experiment: quickstart\nseeds: [0, x]\n"}, ["sweep", "@s.yaml"], ["seeds: expected a non-empty list of integers"]),
        ({"s.yaml": "experiment: quickstart\ngird: {seed: [1]}\n"}, ["sweep", "@s.yaml"], ["unknown sweep key 'gird'"]),
        ({}, ["sweep", "@absent.yaml"], ["absent.yaml: no such file"]),
        ({}, ["bench", "nope"], ["unknown benchmark 'nope'"]),
        ({}, ["frobnicate"], ["invalid choice: 'frobnicate'"]),
        ({}, ["validate", "@absent.yaml"], ["not a run directory or a notebook"]),
    ],
)
def test_bad_input(amd, tmp_path, files, args, needles):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    argv = [str(tmp_path / a[1:]) if a.startswith("@") else a for a in args]
    assert_one_line_error(amd(*argv, outputs=tmp_path / "out", timeout=120), *needles)
    assert not (tmp_path / "out" / "quickstart").exists()  # nothing started, nothing written


def test_baselines_prints_json(amd):
    import json

    done = amd("baselines", "quickstart", "-p", SMOKE, "--set", "target=linear")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    n = 32  # smoke grid: mean of (1.5x - 0.5)^2 over linspace(0, 1, n) = 2.25 * (2n - 1) / (6(n - 1)) - 0.5
    assert data["seed_program"]["score"] == pytest.approx(-(2.25 * (2 * n - 1) / (6 * (n - 1)) - 0.5), abs=1e-9)
    assert data["best_line"]["slope"] == pytest.approx(1.5) and data["optimum"]["score"] == 0.0


def test_list_shows_experiments_and_files(amd):
    done = amd("list")
    assert done.returncode == 0
    assert "quickstart: Quickstart" in done.stdout and "smoke.yaml" in done.stdout and "notebooks/00_quickstart.ipynb" in done.stdout
