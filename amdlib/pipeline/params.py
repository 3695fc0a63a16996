"""Parameter files and overrides: YAML loading and validation against declared params.

Everything a user hands us (a params file, a sweep file, ``--set key=value``,
a notebook's ``parameters`` cell) goes through :func:`validate` before any
kernel starts. Errors are :class:`~amdlib.errors.UserError` with one line
naming the source, the key and what is allowed.

YAML is read with YAML 1.2 scalar rules (:class:`Loader`): ``1e-3`` is a
float and only ``true``/``false`` are booleans, so ``no``/``on`` stay strings
where a string is declared and are coerced where a bool is declared.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from amdlib.errors import UserError
from amdlib.core.experiment import Experiment, Param

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list"}
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats (PyYAML defaults to YAML 1.1)."""


# Drop the YAML 1.1 bool and float resolvers, then add 1.2-style ones.
Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _bool_from_yaml(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    return loader.construct_scalar(node).lower() == "true"


Loader.add_constructor("tag:yaml.org,2002:bool", _bool_from_yaml)


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping whose keys are unique: PyYAML would keep the last of two equal keys silently."""
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen[key] = True
    return loader.construct_mapping(node)


Loader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)

#: Params the runner sets itself: a file or ``--set`` giving them would be silently overridden.
RUNNER_KEYS = {"output_dir": "the runner sets it; choose where runs go with --outputs or AMDLIB_OUTPUTS"}


def reject_runner_keys(values: Mapping[str, Any], source: str) -> None:
    """A one-line error for a key that the runner owns (it would be ignored otherwise)."""
    for key in values:
        if key in RUNNER_KEYS:
            raise UserError(f"{source}: {key}: not a parameter you can set ({RUNNER_KEYS[key]})")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; missing files, bad YAML and non-mappings are one-line errors."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such file")
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as err:
        raise UserError(f"{p}: cannot read it ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise UserError(f"{p}: not a YAML text file (it is not UTF-8 text)") from None
    if "\x00" in text:
        raise UserError(f"{p}: not a YAML text file (it contains NUL bytes)")
    try:
        data = yaml.load(text, Loader=Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserError(f"{p}: malformed YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{p}: expected a mapping of key: value, got {type(data).__name__}")
    return data


def parse_value(text: str) -> Any:
    """Parse the value of a ``--set key=value`` with the same YAML rules as files."""
    try:
        return yaml.load(text, Loader=Loader) if text.strip() else ""
    except yaml.YAMLError:
        return text


def _allowed(param: Param) -> str:
    """What a parameter accepts, in words."""
    if param.choices is not None:
        return "one of " + ", ".join(repr(c) for c in param.choices)
    what = _TYPE_NAMES[param.type]
    if param.type is list and param.item_type is not None:
        what += f" of {_TYPE_NAMES[param.item_type].split(' ', 1)[-1]}s"
    lo = "" if param.min is None else f">= {param.min:g}"
    hi = "" if param.max is None else f"<= {param.max:g}"
    bounds = " and ".join(b for b in (lo, hi) if b)
    return f"{what} {bounds}".strip()


def _coerce_scalar(kind: type, value: Any) -> Any:
    """Coerce ``value`` to ``kind`` where that is unambiguous; raise ValueError otherwise."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise ValueError
    if isinstance(value, bool):  # bool is an int in Python, never a number here
        raise ValueError
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[-+]?[0-9][0-9_]*", value.strip()):
            return int(value.strip())
        raise ValueError
    if kind is float:
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and _FLOAT_RE.match(value.strip()):
            return float(value.strip())  # e.g. PyYAML 1.1 reads 1e-3 as a string
        raise ValueError
    if kind is str:
        if isinstance(value, str):
            return value
        raise ValueError
    raise ValueError


def check_value(key: str, param: Param, value: Any, source: str) -> Any:
    """Return ``value`` coerced to the declared type, or raise a one-line UserError."""
    bad = UserError(f"{source}: {key}: expected {_allowed(param)}, got {value!r}")
    try:
        if param.type is list:
            if not isinstance(value, (list, tuple)):
                raise ValueError
            out: Any = [_coerce_scalar(param.item_type, v) if param.item_type else v for v in value]
        else:
            out = _coerce_scalar(param.type, value)
    except ValueError:
        if param.type is str and value is not None and not isinstance(value, (list, dict)):
            raise UserError(f"{source}: {key}: expected {_allowed(param)}, got {value!r} (quote it in YAML)") from None
        raise bad from None
    items = out if isinstance(out, list) else [out]
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            raise bad
        if param.choices is not None and item not in param.choices:
            raise bad
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if (param.min is not None and item < param.min) or (param.max is not None and item > param.max):
                raise bad
    reason = param.check(out) if param.check is not None else None
    if reason:
        raise UserError(f"{source}: {key}: {reason}")
    return out


def check_keys(experiment: Experiment, keys: Any, source: str) -> None:
    """Reject keys the experiment does not declare, suggesting the closest one."""
    for key in keys:
        if key not in experiment.params:
            close = difflib.get_close_matches(str(key), list(experiment.params), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(
                f"{source}: unknown parameter '{key}' for experiment '{experiment.name}'{hint}; "
                f"allowed: {', '.join(experiment.params)}"
            )


def validate(experiment: Experiment, values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Validate ``values`` and return the full params (declared defaults filled in)."""
    check_keys(experiment, values, source)
    full = {k: p.default for k, p in experiment.params.items()}
    for key, value in values.items():
        full[key] = check_value(key, experiment.params[key], value, source)
    reason = experiment.check(full) if experiment.check is not None else None
    if reason:  # values fine one by one, but not together
        raise UserError(f"{source}: {reason}")
    return full


def parse_sets(experiment: Experiment, items: list[str] | None) -> dict[str, Any]:
    """Turn ``--set key=value`` items into a validated (partial) override dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UserError(f"--set {item!r}: expected key=value")
        check_keys(experiment, [key], "--set")
        reject_runner_keys([key], "--set")
        out[key] = check_value(key, experiment.params[key], parse_value(text), "--set")
    return out


def load_params(experiment: Experiment, path: str | Path | None, sets: list[str] | None = None) -> dict[str, Any]:
    """Full validated params from an optional params file plus ``--set`` overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        values = load_yaml(path)
        validate(experiment, values, str(path))
        reject_runner_keys(values, str(path))
    values.update(parse_sets(experiment, sets))
    source = f"{path} with --set" if path is not None and sets else str(path) if path is not None else "--set"
    return validate(experiment, values, source)  # each value is checked already: only a conflict can be left
