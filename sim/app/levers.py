"""The levers a planner moves in the app, read from the schema (never written twice).

Every leaf of :class:`~sim.schema.PolicyConfig` becomes a :class:`Lever` with its kind (switch,
slider, choice, several choices), unit, range, one-line meaning and source, exactly as ``run.py
schema`` prints them. :func:`apply_levers` turns the values on the page into a validated scenario,
or into one message per lever in the schema's words (the same loader and messages as
``run.py run --set``).
"""

from __future__ import annotations

import json
import math
import os
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.scenario.load import ScenarioError, load_scenario
from sim.scenario.schema import LeverTiming, PolicyConfig, Scenario

SLIDER_STEPS = 100  # a float slider moves in 1/100 of its range (rounded to a readable step)


@dataclass(frozen=True)
class Lever:
    """One policy lever: ``path`` (``policy.sme_support.enabled``), its control and the schema's words.

    ``kind`` is ``switch`` (bool), ``int`` / ``float`` (slider and a text box), ``choice`` (one of
    ``choices``) or ``choices`` (a subset of ``choices``).
    """

    path: str
    kind: str
    default: Any
    unit: str
    meaning: str
    source: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_exclusive: bool = False  # the schema says > minimum, not >=

    @property
    def slider_min(self) -> float:
        """The slider's lowest position: the minimum, or one step above it when the minimum is excluded."""
        return (self.minimum or 0.0) + (self.step if self.min_exclusive else 0)

    @property
    def name(self) -> str:
        return self.path.split(".")[-1]

    @property
    def section(self) -> str:
        """``policy`` or the policy's sub-section (``sme_support``)."""
        parts = self.path.split(".")
        return parts[1] if len(parts) > 2 else "policy"

    @property
    def step(self) -> float:
        """Slider step: about 1/100 of the range, a power of ten, fine enough to hold the default exactly."""
        if self.kind == "int":
            return 1
        span = (self.maximum or 1.0) - (self.minimum or 0.0)
        step = 10.0 ** math.floor(math.log10(span / SLIDER_STEPS))
        while step > 1e-6 and abs(self.default / step - round(self.default / step)) > 1e-6:
            step /= 10.0
        return step

    def range_text(self) -> str:
        if self.kind in ("int", "float"):
            return f"{'>' if self.min_exclusive else ''}{_num(self.minimum)} to {_num(self.maximum)}"
        if self.choices:
            return ", ".join(self.choices)
        return "on / off"


def _num(x: float | None) -> str:
    return "-" if x is None else (f"{x:g}")


def _bounds(info) -> tuple[float | None, float | None, bool]:
    """(lower, upper, lower excluded) from the field's pydantic constraints."""
    lo = hi = None
    exclusive = False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        elif getattr(m, "gt", None) is not None:
            lo, exclusive = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        elif getattr(m, "lt", None) is not None:
            hi = m.lt
    return lo, hi, exclusive


# not controls of the app: when a lever acts (start, end, ramp) and the SME programme's yearly cap belong to
# runs over years, written in scenario files (the app runs one scenario's horizon as it is)
NOT_CONTROLS = frozenset(LeverTiming.model_fields) | {"firms_per_year"}


def _walk(model: type[BaseModel], prefix: str) -> list[Lever]:
    out = []
    for key, info in model.model_fields.items():
        ann = info.annotation
        path = f"{prefix}.{key}"
        if key in NOT_CONTROLS:
            continue
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_walk(ann, path))
            continue
        extra = info.json_schema_extra or {}
        common = dict(path=path, default=info.default, unit=extra.get("unit", "-"),
                      meaning=info.description or "", source=extra.get("source", "-"))
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if ann is bool:
            out.append(Lever(kind="switch", **common))
        elif ann in (int, float):
            lo, hi, exclusive = _bounds(info)
            if hi is None:  # no upper bound in the schema: a slider still needs one
                hi = max(10.0 * abs(info.default), 1.0)
            out.append(Lever(kind=ann.__name__, minimum=lo if lo is not None else 0.0, maximum=hi,
                             min_exclusive=exclusive, **common))
        elif origin is typing.Literal:
            out.append(Lever(kind="choice", choices=tuple(str(a) for a in args), **common))
        elif origin is list and args and typing.get_origin(args[0]) is typing.Literal:
            out.append(Lever(kind="choices", choices=tuple(typing.get_args(args[0])), **common))
        else:
            raise TypeError(f"{path}: no control for a lever of type {ann!r}")
    return out


def levers() -> list[Lever]:
    """Every policy lever of the schema, in the schema's order."""
    return _walk(PolicyConfig, "policy")


def scenario_files(root: Path) -> list[Path]:
    """Scenario files under ``root`` (``scenarios/``), sweeps left out, the baseline first."""
    files = sorted(p for p in root.rglob("*.yaml") if "sweeps" not in p.relative_to(root).parts)
    files.sort(key=lambda p: (p.name != "milan_baseline.yaml", str(p.relative_to(root))))
    return files


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The scenario's value of every lever (the page starts from these)."""
    out = {}
    for lever in levers():
        value: Any = scenario
        for part in lever.path.split("."):
            value = getattr(value, part)
        out[lever.path] = list(value) if isinstance(value, list) else value
    return out


_LINE = re.compile(r"^(?P<source>.*?): (?P<key>[A-Za-z0-9_.]+): (?P<message>.*)$")


def apply_levers(path: Path, values: dict[str, Any], *, seed: int | None = None, days: int | None = None,
                 scale: float | None = None) -> tuple[Scenario | None, dict[str, str]]:
    """The scenario file with the page's lever values, validated by the schema.

    Args:
        path: scenario YAML file picked on the page.
        values: lever path -> value (typed, or text typed in a box: it is read as YAML, like ``--set``).
        seed, days, scale: the run's size, as on the command line (None keeps the file's).

    Returns:
        ``(scenario, {})`` when every value is valid, else ``(None, errors)`` with one message per
        lever path (``"run"`` for a problem with seed, days or scale, ``"scenario"`` for the file).
    """
    overrides = [f"{k}={_yaml(v)}" for k, v in values.items()]
    try:
        return load_scenario(path, overrides, seed=seed, days=days, scale=scale), {}
    except ScenarioError as exc:
        return None, _errors_by_lever(str(exc), values)


def _yaml(value: Any) -> str:
    if isinstance(value, str):
        return value.strip() if value.strip() else '""'  # typed text: read as YAML like --set
    return json.dumps(value)  # JSON is YAML: true/false, numbers, [..] lists


def _errors_by_lever(text: str, values: dict[str, Any]) -> dict[str, str]:
    """Attach each line of a ScenarioError to the lever it names (a section's check: to the lever it cites)."""
    errors: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        key, message = (m["key"], m["message"]) if m else ("", line)
        if key in values:
            target = key
        elif key in ("seed", "days", "scale"):
            target = "run"
        else:
            # a section's own check (floor <= cap): the lever its message names first
            cited = sorted((message.find(p), p) for p in values if key and p.startswith(key + ".") and p in message)
            target = cited[0][1] if cited else next((p for p in values if key and p.startswith(key + ".")), "scenario")
        errors[target] = f"{errors[target]}; {message}" if target in errors else message
    return errors


def changed_levers(file_values: dict[str, Any], values: dict[str, Any], scenario: Scenario) -> dict[str, tuple]:
    """Levers whose validated value differs from the scenario file's: path -> (file value, new value)."""
    now = lever_values(scenario)
    return {k: (file_values[k], now[k]) for k in values if now[k] != file_values[k]}


def mark_edited(scenario: Scenario, changed: dict[str, tuple], package: str | None = None) -> Scenario:
    """Name an edited scenario after its policy package, else ``<name>_edited``, and say in its
    description which levers moved."""
    if not changed:
        return scenario
    moved = "; ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
    return scenario.model_copy(update={"name": package or f"{scenario.name}_edited",
                                       "description": f"{scenario.description.strip()} Levers changed in the app: {moved}.".strip()})


# ------------------------------------------------------------------------------------ packages
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")  # the schema's pattern for a scenario name


class PackageError(ValueError):
    """A policy package that cannot be saved; the message says why (in the schema's or the loader's words)."""


def lever_changes(base: dict, run: dict) -> list[tuple[str, Any, Any]]:
    """(lever path, baseline value, run value) of every lever that differs between two resolved scenarios."""
    out = []
    for lever in levers():
        a, b = _get(base, lever.path), _get(run, lever.path)
        if a != b:
            out.append((lever.path, a, b))
    return out


def _get(d: dict, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def package_text(*, name: str, description: str, extends: str, changed: dict[str, tuple]) -> str:
    """The YAML of a policy package: the scenario file it extends and the levers it moves."""
    policy: dict[str, Any] = {}
    for path, (_, new) in changed.items():
        parts = path.split(".")[1:]
        node = policy
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = new
    lines = [f"# Policy package saved from the app: {len(changed)} lever(s) moved from {extends}.",
             f"extends: {json.dumps(extends)}", f"name: {json.dumps(name)}",
             f"description: {json.dumps(' '.join(description.split()))}", "policy:"]

    def emit(node: dict, indent: int) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                lines.append(" " * indent + f"{k}:")
                emit(v, indent + 2)
            else:
                lines.append(" " * indent + f"{k}: {json.dumps(v)}")  # JSON is YAML

    emit(policy, 2)
    return "\n".join(lines) + "\n"


def save_package(*, folder: Path, name: str, description: str, base_file: Path, changed: dict[str, tuple]) -> Path:
    """Write ``folder/<name>.yaml`` (a scenario extending ``base_file`` with the ``changed`` levers), validated
    by the scenario loader before it takes its name. Raises :class:`PackageError`; nothing is left behind."""
    name = name.strip()
    if not PACKAGE_NAME.match(name):
        raise PackageError(f"name: expected letters, digits, '_', '.' or '-' (at most 100), got {name!r}")
    if not changed:
        raise PackageError("no lever moved: a package is a set of levers")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.yaml"
    if out.exists():
        raise PackageError(f"{out}: exists already")
    extends = os.path.relpath(base_file.resolve(), folder.resolve())
    tmp = folder / f".{name}.yaml.tmp-{os.getpid()}"
    try:
        tmp.write_text(package_text(name=name, description=description, extends=extends, changed=changed),
                       encoding="utf-8")
        load_scenario(tmp)  # validated like any other scenario file
        os.replace(tmp, out)
    except ScenarioError as exc:
        raise PackageError(str(exc).replace(str(tmp), str(out))) from None
    finally:
        tmp.unlink(missing_ok=True)
    return out
