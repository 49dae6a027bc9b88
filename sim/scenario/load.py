"""Load scenario files: ``extends`` chains, ``--set`` overrides, validation, and one clear message.

Every problem raises :class:`ScenarioError` whose text names the file (or the ``--set``
argument), the key path, what was given and what was expected. ``run.py`` prints it on stderr
and exits with code 2 before any work is done.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.schema import Scenario
from sim.scenario.yaml_input import YamlInputError, clip, parse_yaml, read_yaml_file, short

MAX_EXTENDS_DEPTH = 32  # a chain of parents longer than this is a mistake (and would exhaust the stack)
from sim.world.istat_od import ODFileError, check_od_file


class ScenarioError(Exception):
    """A scenario cannot be used; the message says where and why."""


def close_file_hint(path: Path) -> str:
    """``; did you mean 'DIR/NAME'?`` for the YAML file of ``path``'s folder closest to its name, else ''."""
    folder = path.parent
    if not folder.is_dir():
        return ""
    names = [p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml")]
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return f"; did you mean '{folder / close[0]}'?" if close else ""


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file{close_file_hint(path)}")
    try:
        data = read_yaml_file(path)
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None
    if data is None:
        raise ScenarioError(f"{path}: the file is empty; expected a mapping of scenario keys (name, seed, days, ...)")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario keys at the top level, got {type(data).__name__}")
    return data


def _merge(base: dict, top: dict, origin: dict, source: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``top`` into a copy of ``base``; record in ``origin`` which source set each path."""
    out = dict(base)
    for key, value in top.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origin, source, path)
        else:
            replaced = out.get(key)
            out[key] = value
            _record(origin, path, value, source, clear=isinstance(replaced, dict))
        origin[path] = source
    return out


def _record(origin: dict, path: tuple, value: Any, source: str, clear: bool = True) -> None:
    """Record ``source`` for ``path`` and for every key path inside ``value`` (a section set whole).

    ``clear`` first forgets the sources recorded under ``path`` (one pass over ``origin``), needed
    only where a section was there before.
    """
    if clear:
        for p in [p for p in origin if p[: len(path)] == path]:
            del origin[p]
    stack = [(path, value)]
    while stack:  # iterative: a deeply nested value must not exhaust the stack
        p, v = stack.pop()
        origin[p] = source
        if isinstance(v, dict):
            stack.extend((p + (k,), item) for k, item in v.items())


def _load_chain(path: Path, origin: dict, seen: tuple[Path, ...]) -> dict[str, Any]:
    path = path.resolve()
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{seen[-1]}: extends: the chain of parent files is more than {MAX_EXTENDS_DEPTH} "
                            f"files deep (from {seen[0]}); expected a few levels")
    if path in seen:
        cycle = " -> ".join(p.name for p in seen + (path,))
        raise ScenarioError(f"{seen[-1]}: extends: circular 'extends' chain: {cycle}")
    data = _read_yaml(path)
    parent = data.get("extends")
    merged: dict[str, Any] = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(f"{path}: extends: expected a file name (string), got {short(parent)}")
        parent_path = (path.parent / parent).resolve()
        if not parent_path.is_file():
            raise ScenarioError(f"{path}: extends: parent scenario file '{parent}' not found (looked for {parent_path}){close_file_hint(parent_path)}")
        merged = _load_chain(parent_path, origin, seen + (path,))
    return _merge(merged, data, origin, str(path))


def parse_set(arg: str) -> tuple[tuple[str, ...], Any]:
    """Parse one ``key.path=value`` override; the value is read as YAML."""
    if "=" not in arg:
        raise ScenarioError(f"--set {clip(arg)}: expected key.path=value, e.g. --set policy.area_c_charge_eur=10")
    key, raw = arg.split("=", 1)
    parts = tuple(key.strip().split("."))
    if not key.strip() or any(not p for p in parts):
        raise ScenarioError(f"--set {clip(arg)}: '{key}' is not a key path; expected dotted names, e.g. policy.sme_support.enabled")
    try:
        value = parse_yaml(raw, f"--set {key}") if raw.strip() else None
    except YamlInputError as exc:
        if exc.reason.startswith("YAML syntax error"):
            raise ScenarioError(f"--set {clip(arg)}: value {short(raw)} is not valid YAML ({exc.reason})") from None
        raise ScenarioError(f"--set {clip(arg)}: value {short(raw)}: {exc.reason}") from None
    if value is None:
        raise ScenarioError(f"--set {clip(arg)}: no value given for {key}; expected key.path=value")
    return parts, value


def _apply_set(data: dict, parts: tuple[str, ...], value: Any, arg: str, origin: dict) -> dict:
    node = data
    default: Any = Scenario().model_dump(mode="json")
    for i, p in enumerate(parts[:-1]):
        child = node.get(p)
        default = default.get(p) if isinstance(default, dict) else None
        if child is None and isinstance(default, dict) and not any(isinstance(v, dict) for v in default.values()):
            # a mapping of values left at its default (e.g. employment_share): --set changes one entry
            child = node[p] = dict(default)
        elif child is None:
            child = node[p] = {}
            origin[parts[: i + 1]] = f"--set {clip(arg)}"  # a section created by --set: errors in it name --set
        elif not isinstance(child, dict):
            raise ScenarioError(f"--set {clip(arg)}: {'.'.join(parts[: i + 1])} is a value, not a section; cannot set {'.'.join(parts)}")
        node = child
    node[parts[-1]] = value
    _record(origin, parts, value, f"--set {clip(arg)}")
    return data


def _model_fields_at(loc: tuple) -> list[str]:
    """Valid key names of the scenario section at ``loc`` (for 'did you mean')."""
    model: Any = Scenario
    for key in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        info = model.model_fields.get(key)
        if info is None:
            return []
        model = info.annotation
        args = getattr(model, "__args__", ())
        if args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
            model = args[-1]  # dict[str, Section]: skip the dict key
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _where(loc: tuple, origin: dict, default: str) -> str:
    for n in range(len(loc), 0, -1):
        if tuple(loc[:n]) in origin:
            return origin[tuple(loc[:n])]
    return default


def _where_section(loc: tuple, origin: dict, msg: str, default: str) -> str:
    """Source of a section-level problem (a rule across keys, e.g. ``floor <= cap``).

    The keys the message names, if any, else the overrides (``--set``, sweep parameters) of keys
    inside the section: the file that wrote the section is not the culprit when an override changed
    one of its keys.
    """
    section = ".".join(loc)
    named = [k for k in re.findall(r"[a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+", msg)
             if not section or k.startswith(section + ".")]
    sources = [_where(tuple(k.split(".")), origin, default) for k in named]
    if not sources:
        inside = [src for p, src in origin.items() if len(p) > len(loc) and p[: len(loc)] == loc]
        sources = [s for s in inside if s.startswith(("--", "parameter "))]
    sources = list(dict.fromkeys(sources))
    if not sources:
        return _where(loc, origin, default)
    return ", ".join(sources[:3]) + (f" (and {len(sources) - 3} more)" if len(sources) > 3 else "")


def _describe(err: dict) -> str:
    kind, msg = err["type"], err["msg"]
    given = err.get("input")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("missing",):
        return "required key is missing"
    return f"{msg[0].lower()}{msg[1:]}; got {short(given)}" if kind not in ("value_error", "assertion_error") else msg


def format_validation_error(exc: ValidationError, origin: dict, default_source: str) -> str:
    """One line per problem: ``source: key.path: what is wrong; got X``."""
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        if err["type"] in ("value_error", "assertion_error"):
            where = _where_section(loc, origin, err["msg"], default_source)
        else:
            where = _where(loc, origin, default_source)
        path = ".".join(loc) if loc else "(top level)"
        if err["type"] == "extra_forbidden":
            valid = _model_fields_at(loc[:-1])
            close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid_txt = f" Valid keys here: {', '.join(valid)}." if valid else ""
            lines.append(f"{where}: {path}: unknown key '{loc[-1]}'{hint}{valid_txt}")
        else:
            lines.append(f"{where}: {path}: {_describe(err)}")
    return "\n".join(lines)


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = (), **top_level: Any) -> Scenario:
    """Read ``path`` (following ``extends``), apply ``--set`` overrides and validate.

    Args:
        path: scenario YAML file.
        overrides: ``key.path=value`` strings, applied in order after the files.
        top_level: command-line values (seed, days, years, scale) that replace the file's when not None
            (``days`` drops the file's ``years`` and ``years`` its ``days``; both at once is an error).

    Raises:
        ScenarioError: with a message naming the file, the key, the value and what was expected.
    """
    path = Path(path)
    if not path.is_file():  # named as given (the chain names files by their resolved path)
        raise ScenarioError(f"{path}: no such scenario file{close_file_hint(path)}")
    origin: dict[tuple, str] = {}
    data = _load_chain(path, origin, ())
    for arg in overrides:
        parts, value = parse_set(arg)
        data = _apply_set(data, parts, value, arg, origin)
    if top_level.get("days") is not None and top_level.get("years") is not None:
        raise ScenarioError("--days and --years: give one of them (--days for a run shorter than a year)")
    for key, value in top_level.items():
        if value is not None:
            # the command line's horizon replaces the file's: --years drops the file's days and --days its years
            other = {"days": "years", "years": "days"}.get(key)
            if other is not None:
                data.pop(other, None)
            data[key] = value
            origin[(key,)] = f"--{key}"
    for key in ("csv_dir", "od_matrix"):  # paths relative to the file that set them
        value = (data.get("city") or {}).get(key) if isinstance(data.get("city"), dict) else None
        if isinstance(value, str):
            src = _where(("city", key), origin, str(path.resolve()))
            base = Path(src).parent if not src.startswith("--") else Path.cwd()
            data["city"][key] = str((base / value).resolve())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, origin, str(path.resolve()))) from None
    if scenario.city.source == "csv":
        d = Path(scenario.city.csv_dir)
        if not (d / "zones.csv").is_file():
            raise ScenarioError(f"{_where(('city', 'csv_dir'), origin, str(path))}: city.csv_dir: no zones.csv in '{d}'")
    if scenario.city.od_matrix:  # the Istat commuting file is checked before any work (issue 14)
        try:
            check_od_file(scenario.city.od_matrix)
        except ODFileError as exc:
            raise ScenarioError(f"city.od_matrix: {exc}") from None
    return scenario


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in and ``extends`` dropped (self-contained)."""
    data = scenario.model_dump(mode="json")
    data["extends"] = None
    return data
