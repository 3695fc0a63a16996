"""Parameter validation: YAML typing traps, types, ranges, unknown keys, --set."""

from __future__ import annotations

import pytest

from amdlib.errors import UserError
from amdlib.experiments.quickstart import EXPERIMENT
from amdlib.pipeline.params import load_params, load_yaml, parse_sets, validate
from amdlib.core.experiment import Experiment, Param


def test_yaml_1_2_scalars(write_yaml):
    path = write_yaml("p.yaml", "a: 1e-3\nb: no\nc: on\nd: true\ne: 3\nf: '7'\n")
    assert load_yaml(path) == {"a": 0.001, "b": "no", "c": "on", "d": True, "e": 3, "f": "7"}


def test_defaults_fill_in_and_types_coerce():
    full = validate(EXPERIMENT, {"temperature": "1e-3", "max_cost_usd": 2, "seed": 3}, "x.yaml")
    assert full["temperature"] == 0.001 and isinstance(full["max_cost_usd"], float)
    assert full["seed"] == 3 and full["n_points"] == EXPERIMENT.params["n_points"].default
    assert set(full) == set(EXPERIMENT.params)


@pytest.mark.parametrize(
    "values, needle",
    [
        ({"seed": True}, "seed: expected an integer >= 0, got True"),
        ({"seed": 1.5}, "seed: expected an integer"),
        ({"seed": -1}, "seed: expected an integer >= 0"),
        ({"temperature": 2.5}, "temperature: expected a number >= 0 and <= 2"),
        ({"temperature": "hot"}, "temperature: expected a number"),
        ({"method": "greedy"}, "method: expected one of 'funsearch', 'eoh', 'eoh-e', 'random'"),
        ({"model": False}, "model: expected a string, got False (quote it in YAML)"),
        ({"n_pionts": 8}, "unknown parameter 'n_pionts' for experiment 'quickstart' (did you mean 'n_points'?)"),
        ({"seed": None}, "seed: expected an integer"),
    ],
)
def test_bad_values_are_one_line_errors_naming_file_and_key(values, needle):
    with pytest.raises(UserError) as err:
        validate(EXPERIMENT, values, "bad.yaml")
    text = str(err.value)
    assert text.startswith("bad.yaml: ") and needle in text and "\n" not in text


def test_bool_words_coerce_where_bool_declared():
    exp = Experiment("b", "n", "t", {"flag": Param(bool, False, "a flag"), "names": Param(list, [], "l", item_type=str)})
    assert validate(exp, {"flag": "yes"}, "f")["flag"] is True
    assert validate(exp, {"flag": "off"}, "f")["flag"] is False
    with pytest.raises(UserError, match="flag: expected true or false"):
        validate(exp, {"flag": 1}, "f")
    with pytest.raises(UserError, match="names: expected a list of strings"):
        validate(exp, {"names": ["a", 2]}, "f")


def test_set_overrides_parse_like_yaml_and_validate():
    assert parse_sets(EXPERIMENT, ["temperature=1e-2", "target=smooth", "seed=4"]) == {"temperature": 0.01, "target": "smooth", "seed": 4}
    with pytest.raises(UserError, match="--set 'seed': expected key=value"):
        parse_sets(EXPERIMENT, ["seed"])
    with pytest.raises(UserError, match="--set: seed: expected an integer"):
        parse_sets(EXPERIMENT, ["seed=abc"])


def test_file_then_set(write_yaml):
    path = write_yaml("p.yaml", {"seed": 2, "max_evaluations": 10})
    full = load_params(EXPERIMENT, path, ["seed=5"])
    assert (full["seed"], full["max_evaluations"]) == (5, 10)


@pytest.mark.parametrize("text, needle", [("seed: [1\n", "malformed YAML at line 2"), ("- 1\n- 2\n", "expected a mapping")])
def test_malformed_yaml(write_yaml, text, needle):
    with pytest.raises(UserError, match=needle):
        load_yaml(write_yaml("bad.yaml", text))


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_yaml(tmp_path / "absent.yaml")


def test_a_check_across_parameters_is_refused_naming_the_source(write_yaml):
    from amdlib.experiments import get

    exp = get("facility_location")
    conflict = "epsilon_source: regretnet measures epsilon, but epsilon is set to 0.01: set epsilon to 0 or epsilon_source to value"
    both = write_yaml("both.yaml", {"epsilon_source": "regretnet", "epsilon": 0.01})
    with pytest.raises(UserError) as err:
        load_params(exp, both)
    assert str(err.value) == f"{both}: {conflict}"
    paper = write_yaml("paper.yaml", {"epsilon_source": "regretnet"})
    with pytest.raises(UserError) as err:
        load_params(exp, paper, ["epsilon=0.01"])
    assert str(err.value) == f"{paper} with --set: {conflict}"  # the conflict is the file's and the --set's together
    assert load_params(exp, paper, ["epsilon=0"])["epsilon_source"] == "regretnet"
    assert load_params(exp, paper, ["epsilon=0.01", "epsilon_source=value"])["epsilon"] == 0.01


def test_the_cli_refuses_a_conflicting_epsilon_before_any_kernel_starts(amd, tmp_path, monkeypatch):
    from tests.core.proposers.chat_server import closed_port

    # A key and an endpoint, so that only the parameters can stop the run here (the endpoint check comes later).
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    out = tmp_path / "out"
    done = amd("run", "facility_location", "-p", "params/facility_location/paper.yaml", "--set", "epsilon=0.01",
               "--outputs", str(out), timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.splitlines() == [
        "amd: error: params/facility_location/paper.yaml with --set: epsilon_source: regretnet measures epsilon, "
        "but epsilon is set to 0.01: set epsilon to 0 or epsilon_source to value"]
    assert done.stdout == "" and not out.exists()  # nothing started, nothing written
