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


def mark_edited(scenario: Scenario, changed: dict[str, tuple]) -> Scenario:
    """Name an edited scenario ``<name>_edited`` and say in its description which levers moved."""
    if not changed:
        return scenario
    moved = "; ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
    return scenario.model_copy(update={"name": f"{scenario.name}_edited",
                                       "description": f"{scenario.description.strip()} Levers changed in the app: {moved}.".strip()})
