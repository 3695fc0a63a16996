"""The locked environment: exact pins used by the Makefile, environment.yml in step with them,
a portable llama.cpp build, and an installed environment whose requirements all hold."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement

from tests.conftest import environment_lock

REPO = Path(__file__).resolve().parents[2]


def lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[0-9][0-9A-Za-z.\-]*", version), line
            pins[name.strip()] = version.strip()
    return pins


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_is_pinned_and_the_pin_satisfies_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = lock()
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(spec)
        assert norm(req.name) in pins, f"{req.name} is not in requirements.lock (run `make lock`)"
        assert req.specifier.contains(pins[norm(req.name)], prereleases=True), (spec, pins[norm(req.name)])
    assert pins["torch"] == "2.13.0" and "+" not in "".join(pins.values())


def test_installed_versions_match_the_lock_and_pip_check_is_clean():
    pins = lock()
    with environment_lock():  # not while another worker's test installs or uninstalls a package
        installed = {norm(d.metadata["Name"]): d.version.split("+")[0] for d in metadata.distributions()}
        done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    wrong = {n: (v, installed.get(n)) for n, v in pins.items() if installed.get(n) != v}
    assert not wrong, f"installed versions differ from requirements.lock: {wrong}"
    assert done.returncode == 0, done.stdout + done.stderr


def test_environment_yml_uses_the_lock():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-c requirements.lock" in pip and "-e .[test]" in pip
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    assert {p for p in pip if not p.startswith("-")} == wanted
    assert "python=3.11" in env["dependencies"]


def test_makefile_installs_from_the_lock_with_the_portable_llama_wheel():
    make = (REPO / "Makefile").read_text()
    assert "-c requirements.lock" in make and "scripts/llama-wheel.sh" in make and "--only-binary llama-cpp-python" in make
    script = (REPO / "scripts" / "llama-wheel.sh").read_text()
    assert "-DGGML_NATIVE=OFF" in script and "-DGGML_AVX512=OFF" in script and "--no-cache-dir" in script
    assert "march=native" not in script.replace("never -march=native", "")
