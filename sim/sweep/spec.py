"""Sweep files: schema, validation and the design (grid, Latin hypercube, Sobol/Saltelli).

A sweep file (``scenarios/sweeps/*.yaml``) names a base scenario, the parameters to vary by their
``--set`` path (``levels`` or a ``range``), the design, the seeds per point and the outputs to
analyse. It is validated like a scenario: unknown keys are errors, and every problem raises
:class:`~sim.scenario.ScenarioError` with the file and the key named (``run.py`` prints it and exits
with code 2 before writing anything). Each parameter is also applied to the base scenario with its
lowest and highest value (or each level) and validated there, so a misspelt path or a value outside
the schema's range is caught before the first run.

The design is a list of runs: design point x seed. A run's ``point_id`` is a hash of its parameter
values and seed, so it is the same in every process, shard and session; ``index`` orders the runs
(design point, then seed) and decides the shard (``index % n == i``).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.outputs.appraisal import FIGURES as APPRAISAL_FIGURES
from sim.outputs.kpis import KPIS, key_patterns
from sim.scenario.load import ScenarioError, close_file_hint, format_validation_error, load_scenario, resolved_dict
from sim.scenario.schema import Scenario
from sim.scenario.yaml_input import YamlInputError, clip, read_yaml_file, short

MAX_RUNS = 10_000_000

class _Strict(BaseModel):
    """Unknown keys are errors; numbers are finite and never booleans (``days: true`` is not 1 day)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value, info):
        annotation = cls.model_fields[info.field_name].annotation
        if "int" in str(annotation) or "float" in str(annotation):
            if isinstance(value, bool) or (isinstance(value, (list, tuple)) and any(isinstance(v, bool) for v in value)):
                raise ValueError(f"expected a number, got the boolean {short(value).lower()}")
        return value


class Parameter(_Strict):
    """One varied scenario value, by its ``--set`` path."""

    path: str = Field(description="scenario key path, as for --set (e.g. policy.area_c_charge_eur)",
                      pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    levels: list[Any] | None = Field(None, description="the values to try (grid), or to draw from (lhs, sobol)")
    range: tuple[float, float] | None = Field(None, description="[low, high] (continuous, or integers with integer: true)")
    integer: bool = Field(False, description="draw integers low..high inclusive")
    n: int | None = Field(None, ge=2, le=1000, description="grid only: evenly spaced values over the range")

    @model_validator(mode="after")
    def _check(self) -> "Parameter":
        if (self.levels is None) == (self.range is None):
            raise ValueError("give exactly one of 'levels' or 'range'")
        if self.levels is not None:
            if len(self.levels) == 0:
                raise ValueError("levels: give at least one value")
            if any(isinstance(v, (dict, list)) or v is None for v in self.levels):
                raise ValueError("levels: each level must be a single value (number, string or boolean)")
            if len({json.dumps(v, sort_keys=True) for v in self.levels}) != len(self.levels):
                raise ValueError("levels: values repeat")
            if self.n is not None or self.integer:
                raise ValueError("'n' and 'integer' go with 'range', not 'levels'")
        else:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise ValueError(f"range: expected [low, high] with low < high, got {list(self.range)}")
            if self.integer and (lo != int(lo) or hi != int(hi)):
                raise ValueError(f"range: integer parameter needs integer bounds, got {list(self.range)}")
        return self

    def grid_values(self) -> list[Any]:
        if self.levels is not None:
            return list(self.levels)
        lo, hi = self.range
        if self.n is None:
            if self.integer:
                return list(range(int(lo), int(hi) + 1))
            raise ValueError("n")
        vals = np.linspace(lo, hi, self.n)
        if self.integer:
            return sorted({int(round(v)) for v in vals})
        return [float(v) for v in vals]

    def grid_count(self) -> int:
        """Number of grid values, counted without building them (an integer range may be huge)."""
        if self.levels is not None:
            return len(self.levels)
        lo, hi = self.range
        if self.n is None:
            return int(hi) - int(lo) + 1 if self.integer else 0
        return len(self.grid_values())  # n <= 1000 values

    def from_unit(self, u: float) -> Any:
        """Map a draw ``u`` in [0, 1] to a value (uniform over the range, the integers or the levels)."""
        if self.levels is not None:
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        lo, hi = self.range
        if self.integer:
            return int(min(int(lo) + math.floor(u * (hi - lo + 1)), int(hi)))
        return float(lo + u * (hi - lo))

    def extremes(self) -> list[Any]:
        if self.levels is not None:
            return list(self.levels)
        lo, hi = self.range
        return [int(lo), int(hi)] if self.integer else [float(lo), float(hi)]


class Design(_Strict):
    type: Literal["grid", "lhs", "sobol"] = Field(description="grid: every combination of levels; lhs: Latin "
                                                  "hypercube; sobol: Saltelli sampling for Sobol indices (SALib)")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="lhs: number of design points")
    base_samples: int | None = Field(None, ge=1, le=1_000_000, description="sobol: N, a power of 2; points = N(2D+2)")
    second_order: bool = Field(True, description="sobol: also second-order indices (N(2D+2) points, else N(D+2))")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the sampler (lhs, sobol)")

    @model_validator(mode="after")
    def _check(self) -> "Design":
        if self.type == "lhs" and self.samples is None:
            raise ValueError("design type 'lhs' needs 'samples'")
        if self.type == "sobol":
            if self.base_samples is None:
                raise ValueError("design type 'sobol' needs 'base_samples' (N, a power of 2)")
            if self.base_samples & (self.base_samples - 1):
                raise ValueError(f"base_samples must be a power of 2 (Sobol' sequence), got {self.base_samples}")
        if self.type != "lhs" and self.samples is not None:
            raise ValueError(f"'samples' is for lhs; design type '{self.type}' does not use it")
        if self.type != "sobol" and self.base_samples is not None:
            raise ValueError(f"'base_samples' is for sobol; design type '{self.type}' does not use it")
        return self


class ClusterConfig(_Strict):
    """dask-jobqueue cluster for ``--executor dask`` (SLURMCluster or PBSCluster)."""

    kind: Literal["slurm", "pbs"]
    jobs: int = Field(1, ge=1, le=10_000, description="batch jobs to start (cluster.scale(jobs=...))")
    cores: int = Field(1, ge=1, le=1024)
    processes: int = Field(1, ge=1, le=1024)
    memory: str = "2GB"
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    interface: str | None = Field(None, description="network interface of scheduler and workers (e.g. ib0, lo)")
    job_extra_directives: list[str] = Field(default_factory=list)
    job_script_prologue: list[str] = Field(default_factory=list)
    scheduler_options: dict[str, Any] = Field(default_factory=dict, description="e.g. {host: 127.0.0.1}")
    worker_extra_args: list[str] = Field(default_factory=list)


class SlurmConfig(_Strict):
    """Job array written by ``run.py sweep FILE --slurm-script``."""

    shards: int = Field(4, ge=1, le=100_000, description="array size N (tasks 0..N-1)")
    cpus_per_task: int = Field(1, ge=1, le=1024, description="CPUs per task (= --workers of each shard)")
    time: str | None = Field(None, description="--time, e.g. 01:00:00")
    mem: str | None = Field(None, description="--mem, e.g. 2G")
    partition: str | None = None
    account: str | None = None
    max_parallel: int | None = Field(None, ge=1, description="at most this many tasks at once (--array=...%M)")
    extra_directives: list[str] = Field(default_factory=list, description="more '#SBATCH ...' lines (without #SBATCH)")
    setup: list[str] = Field(default_factory=list, description="shell lines run before the shard (module load ...)")


class SweepFile(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)
    description: str = ""
    base: str = Field(description="base scenario file, relative to the sweep file")
    base_overrides: dict[str, Any] = Field(default_factory=dict, description="key.path: value set on the base")
    days: int | None = Field(None, ge=1, le=2500)
    scale: float | None = Field(None, gt=0, le=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="first seed (default: the base scenario's)")
    seeds: int | list[int] = Field(1, description="seeds per point: a count (seed, seed+1, ...) or a list")
    counterfactual: bool = Field(True, description="also run the no-smart-working counterfactual (hours saved)")
    baseline_overrides: dict[str, Any] | None = Field(
        None, description="key.path: value set on each point's scenario to make the baseline it is appraised against "
        "(e.g. policy.sme_support.enabled: false); with it the outputs may name the appraisal figures "
        "(appraisal.npv_eur, appraisal.bcr, ...), each point's run against its own baseline with the same parameters and seed")
    parameters: list[Parameter] = Field(min_length=1)
    design: Design
    outputs: list[str] = Field(min_length=1, description="summary keys to analyse (flattened: modal_split.car)")
    cluster: ClusterConfig | None = None
    slurm: SlurmConfig = Field(default_factory=SlurmConfig)

    @model_validator(mode="after")
    def _check(self) -> "SweepFile":
        if isinstance(self.seeds, int) and not 1 <= self.seeds <= 10_000:
            raise ValueError(f"seeds: expected a count from 1 to 10000 or a list of seeds, got {self.seeds}")
        if isinstance(self.seeds, list):
            if not self.seeds or len(set(self.seeds)) != len(self.seeds) or any(s < 0 for s in self.seeds):
                raise ValueError("seeds: the list must be non-empty, without repeats, of seeds >= 0")
        paths = [p.path for p in self.parameters]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"parameters: path {dup[0]} appears more than once")
        if self.design.type == "grid":
            for p in self.parameters:
                if p.range is not None and p.n is None and not p.integer:
                    raise ValueError(f"parameters ({p.path}): a grid needs 'levels', or 'range' with 'n' "
                                     "(evenly spaced values) or integer: true")
        appraisal_outputs = {f"appraisal.{k}" for k in APPRAISAL_FIGURES}
        for o in self.outputs:
            if o in appraisal_outputs:
                if self.baseline_overrides is None:
                    raise ValueError(f"outputs: '{o}' needs a baseline to appraise each point against; set "
                                     "baseline_overrides (e.g. policy.sme_support.enabled: false)")
                continue
            if o not in KPIS:
                raise ValueError(f"outputs: unknown summary key '{o}'{_did_you_mean(o)}; expected a KPI of "
                                 f"summary.json (sim/outputs/kpis.py): {', '.join(key_patterns())}")
            if KPIS[o].needs_counterfactual and not self.counterfactual:
                raise ValueError(f"outputs: '{o}' needs the counterfactual run; set counterfactual: true")
        return self


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, list(KPIS), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Run:
    """One simulation of a sweep: a design point with one seed."""

    index: int               # position in the sweep (design point, then seed); decides the shard
    design_index: int        # row of the design (Sobol analysis needs the Saltelli order)
    seed: int
    params: dict             # path -> value
    point_id: str

    def task(self) -> dict:
        return {"index": self.index, "design_index": self.design_index, "seed": self.seed,
                "params": self.params, "point_id": self.point_id}


def canonical(params: dict) -> str:
    """Canonical JSON of parameter values (keys sorted; floats as their shortest round-trip repr)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def point_id(params: dict, seed: int) -> str:
    """Stable id of a run: hash of the parameter values and the seed."""
    return hashlib.sha256(f"{canonical(params)}|seed={int(seed)}".encode()).hexdigest()[:16]


def set_path(data: dict, path: str, value: Any) -> dict:
    """Set ``path`` (dotted) in a nested dict, creating sections; ValueError if a value is in the way."""
    parts = path.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        child = node.get(p)
        if child is None:
            child = node[p] = {}
        elif not isinstance(child, dict):
            raise ValueError(f"{'.'.join(parts[: i + 1])} is a value, not a section; cannot set {path}")
        node = child
    node[parts[-1]] = value
    return data


def build_scenario(base: dict, params: dict, seed: int | None = None) -> Scenario:
    """The base scenario (resolved dict) with ``params`` applied and validated.

    Raises ScenarioError naming the parameter paths that are wrong.
    """
    data = copy.deepcopy(base)
    origin = {}
    for path, value in params.items():
        try:
            set_path(data, path, value)
        except ValueError as exc:
            raise ScenarioError(f"parameter {path}={short(value)}: {exc}") from None
        origin[tuple(path.split("."))] = f"parameter {path}={short(value)}"
    if seed is not None:
        data["seed"] = int(seed)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, origin, "base scenario")) from None


@dataclass
class Sweep:
    """A validated sweep file with its resolved base scenario and its runs."""

    path: Path
    spec: SweepFile
    base: dict               # resolved base scenario (defaults filled, overrides applied)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def seeds(self) -> list[int]:
        if isinstance(self.spec.seeds, list):
            return list(self.spec.seeds)
        return [int(self.base["seed"]) + i for i in range(self.spec.seeds)]

    def problem(self) -> dict:
        """SALib problem on the unit hypercube (values are mapped per parameter)."""
        names = [p.path for p in self.spec.parameters]
        return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}

    def n_runs(self) -> int:
        """Runs of the design, counted arithmetically (before anything is materialised)."""
        d = self.spec.design
        n_params = len(self.spec.parameters)
        if d.type == "grid":
            points = math.prod(p.grid_count() for p in self.spec.parameters)
        elif d.type == "lhs":
            points = d.samples
        else:
            points = d.base_samples * (2 * n_params + 2 if d.second_order else n_params + 2)
        n_seeds = len(self.spec.seeds) if isinstance(self.spec.seeds, list) else self.spec.seeds
        return points * n_seeds

    def design_points(self) -> list[dict]:
        """Parameter values of each design point, in design order."""
        params = self.spec.parameters
        d = self.spec.design
        if d.type == "grid":
            combos = itertools.product(*[p.grid_values() for p in params])
            return [{p.path: v for p, v in zip(params, combo)} for combo in combos]
        if d.type == "lhs":
            from SALib.sample import latin
            unit = latin.sample(self.problem(), d.samples, seed=d.seed)
        else:
            from SALib.sample import sobol
            unit = sobol.sample(self.problem(), d.base_samples, calc_second_order=d.second_order, seed=d.seed)
        return [{p.path: p.from_unit(float(u)) for p, u in zip(params, row)} for row in unit]

    def runs(self) -> list[Run]:
        """Every run, in index order (design point, then seed); computed once."""
        cached = self.__dict__.get("_runs")
        if cached is not None:
            return cached
        out = []
        seeds = self.seeds
        for di, params in enumerate(self.design_points()):
            for si, seed in enumerate(seeds):
                out.append(Run(index=di * len(seeds) + si, design_index=di, seed=seed, params=params,
                               point_id=point_id(params, seed)))
        self.__dict__["_runs"] = out
        return out

    def payload(self) -> dict:
        """What a worker needs to build any run's scenario (plain data, picklable, no file access)."""
        return {"base": self.base, "counterfactual": self.spec.counterfactual,
                "baseline_overrides": self.spec.baseline_overrides}

    def fingerprint(self) -> str:
        """Hash of what determines the results (base scenario, runs): a store belongs to one sweep."""
        h = hashlib.sha256()
        h.update(json.dumps(self.base, sort_keys=True).encode())
        h.update(str(self.spec.counterfactual).encode())
        if self.spec.baseline_overrides is not None:  # absent: the fingerprint of a store written before the key
            h.update(json.dumps(self.spec.baseline_overrides, sort_keys=True, default=str).encode())
        for r in self.runs():
            h.update(r.point_id.encode())
        return h.hexdigest()[:16]

    def describe(self) -> dict:
        return {"name": self.name, "file": str(self.path), "spec": self.spec.model_dump(mode="json"),
                "fingerprint": self.fingerprint(), "n_runs": len(self.runs()), "seeds": self.seeds,
                "parameters": [p.path for p in self.spec.parameters], "design": self.spec.design.type,
                "outputs": list(self.spec.outputs)}


def _spec_fields_at(loc: list[str]) -> list[str]:
    """Valid key names of the sweep-file section at ``loc`` (list positions skipped), for 'did you mean'."""
    model: Any = SweepFile
    for key in loc:
        if key.isdigit():
            continue
        info = model.model_fields.get(key) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if info is None:
            return []
        model = info.annotation
        for arg in (*getattr(model, "__args__", ()), model):  # list[Parameter], ClusterConfig | None
            inner = getattr(arg, "__args__", (arg,))[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                model = inner
                break
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _format_spec_error(exc: ValidationError, path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        parts = []  # parameters.0.range -> parameters[0].range
        for p in loc:
            if p.isdigit() and parts:
                parts[-1] += f"[{p}]"
            else:
                parts.append(p)
        key = ".".join(parts) or "(top level)"
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            valid = _spec_fields_at(loc[:-1])
            close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid_txt = f" Valid keys here: {', '.join(valid)}." if valid else ""
            lines.append(f"{path}: {key}: unknown key '{loc[-1]}'{hint}{valid_txt}")
        elif err["type"] == "missing":
            lines.append(f"{path}: {key}: required key is missing")
        elif err["type"] in ("value_error", "assertion_error"):
            lines.append(f"{path}: {key}: {msg}")
        else:
            lines.append(f"{path}: {key}: {msg[0].lower()}{msg[1:]}; got {short(err.get('input'))}")
    return "\n".join(lines)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; ScenarioError (file and key named) on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such sweep file{close_file_hint(path)}")
    try:
        data = read_yaml_file(path)
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of sweep keys (name, base, parameters, design, outputs)")
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_spec_error(exc, path)) from None
    base_path = (path.parent / spec.base).resolve()
    if not base_path.is_file():
        raise ScenarioError(f"{path}: base: scenario file '{spec.base}' not found (looked for {base_path})"
                            f"{close_file_hint(base_path)}")
    try:
        scenario = load_scenario(base_path, [], days=spec.days, scale=spec.scale, seed=spec.seed)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: base: {exc}") from None
    base = resolved_dict(scenario)
    try:
        base = resolved_dict(build_scenario(base, spec.base_overrides))
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: base_overrides: {exc}") from None
    for i, p in enumerate(spec.parameters):
        for value in p.extremes():
            try:
                build_scenario(base, {p.path: value})
            except ScenarioError as exc:
                raise ScenarioError(f"{path}: parameters[{i}] ({p.path}): value {short(value)} does not fit the base "
                                    f"scenario: {exc}") from None
    sweep = Sweep(path=path.resolve(), spec=spec, base=base)
    n = sweep.n_runs()  # counted before the design is built: a huge one must not exhaust memory first
    if n > MAX_RUNS:
        raise ScenarioError(f"{path}: design: {n:,} runs (design points x seeds) is more than {MAX_RUNS:,}")
    if n == 0:
        raise ScenarioError(f"{path}: design: the design has no runs")
    try:
        sweep.runs()
    except Exception as exc:  # noqa: BLE001 - sampler errors (SALib) become one clear message
        raise ScenarioError(f"{path}: design: cannot build the design: {clip(str(exc), 200)}") from None
    return sweep


__all__ = ["Parameter", "Design", "SweepFile", "Sweep", "Run", "load_sweep", "build_scenario",
           "point_id", "canonical", "set_path"]
