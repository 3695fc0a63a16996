"""More bad input through the real `amd`: outputs roots, odd files, sweep conflicts, pipes.

Each case is one line on stderr, exit status 2, no traceback, and nothing new on disk.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import REPO, amd_argv, amd_env
from tests.pipeline.test_cli_errors import assert_one_line_error

SMOKE = "params/quickstart/smoke.yaml"


@pytest.mark.parametrize(
    "files, args, needles",
    [
        ({"p.yaml": "seed: 1\nseed: 2\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["duplicate key 'seed'", "line 2"]),
        ({"p.bin": b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01"}, ["run", "quickstart", "-p", "@p.bin"], ["p.bin: not a YAML text file"]),
        ({"p.yaml": "output_dir: /tmp/x\n"}, ["run", "quickstart", "-p", "@p.yaml"], ["output_dir: not a parameter you can set", "--outputs"]),
        ({}, ["run", "quickstart", "--set", "output_dir=/tmp/x"], ["--set: output_dir: not a parameter you can set"]),
        ({"s.yaml": "experiment: quickstart\ngrid: {seed: [0, 1]}\nseeds: [2, 3]\n"}, ["sweep", "@s.yaml"],
         ["seed is given both in grid and in seeds"]),
        ({"s.yaml": "experiment: quickstart\nruns: [{seed: 4}]\nseeds: [2]\n"}, ["sweep", "@s.yaml"], ["both in runs and in seeds"]),
        ({"s.yaml": "experiment: quickstart\nbase: {output_dir: x}\n"}, ["sweep", "@s.yaml"], ["output_dir: not a parameter"]),
        ({"s.yaml": "experiment: quickstart\nbase: smoke.yaml\nseeds: [0]\n"}, ["sweep", "@s.yaml", "--scheduler", "notaurl"],
         ["--scheduler 'notaurl': expected a Dask scheduler address"]),
    ],
)
def test_bad_input(amd, tmp_path, files, args, needles):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = [str(tmp_path / a[1:]) if a.startswith("@") else a for a in args]
    assert_one_line_error(amd(*argv, outputs=tmp_path / "out", timeout=120), *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["file", "devnull", "proc", "below-file"])
def test_unusable_outputs_root(amd, tmp_path, where):
    target = {"file": tmp_path / "plain.txt", "devnull": "/dev/null", "proc": "/proc/self/amdlib-outputs",
              "below-file": tmp_path / "plain.txt" / "sub"}[where]
    (tmp_path / "plain.txt").write_text("not a folder\n")
    for command in (["run", "quickstart", "-p", SMOKE], ["report"], ["clean"]):
        done = amd(*command, "--outputs", str(target), timeout=120)
        assert_one_line_error(done)
        assert "outputs root" in done.stderr or "cannot write runs under" in done.stderr, done.stderr
    assert (tmp_path / "plain.txt").read_text() == "not a folder\n"


def test_report_on_missing_outputs_root(amd, tmp_path):
    done = amd("report", "--outputs", str(tmp_path / "typo"), timeout=120)
    assert_one_line_error(done, "does not exist")
    assert not (tmp_path / "typo").exists()


def test_broken_pipe_is_quiet(tmp_path):
    """`amd list | head -1`: the reader leaves early; amd stops without a traceback."""
    proc = subprocess.Popen(amd_argv("list"), cwd=REPO, env=amd_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before amd writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 2 and "Traceback" not in err and "BrokenPipe" not in err, err
