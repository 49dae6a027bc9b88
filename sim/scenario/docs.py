"""Rows describing every scenario key (for ``run.py schema`` and docs/parameters.md)."""

from __future__ import annotations

import typing

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from sim.scenario.schema import Scenario


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation))
    args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
    name = getattr(origin, "__name__", str(origin)).replace("UnionType", "union")
    return f"{name}[{args}]"


def _range(info) -> str:
    lo = hi = None
    lo_s, hi_s = "[", "]"
    for m in info.metadata:
        if isinstance(m, Ge):
            lo = m.ge
        elif isinstance(m, Gt):
            lo, lo_s = m.gt, "("
        elif isinstance(m, Le):
            hi = m.le
        elif isinstance(m, Lt):
            hi, hi_s = m.lt, ")"
    if lo is None and hi is None:
        return "-"
    if hi is None:
        hi_s = ")"
    if lo is None:
        lo_s = "("
    return f"{lo_s}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{hi_s}"


def schema_rows(model: type[BaseModel] = Scenario, prefix: str = "") -> list[dict]:
    """One row per leaf key: key, type, unit, default, range, meaning, source."""
    rows = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows.extend(schema_rows(ann, key + "."))
            continue
        extra = info.json_schema_extra or {}
        default = info.get_default(call_default_factory=True)
        if isinstance(default, dict):
            default = {k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in default.items()}
        rows.append({"key": key, "type": _type_name(ann), "unit": extra.get("unit", "-"), "default": default,
                     "range": _range(info), "meaning": info.description or "", "source": extra.get("source", "-")})
    return rows
