"""Elasticities of the baseline by small paired perturbations: ``run.py elasticities SCENARIO``.

Three runs of the scenario on the same city, population, seed and calibration (the baseline's, made
once by :func:`sim.prepare.prepare`; nothing is recalibrated, so the alternative constants cannot
absorb the perturbation):

* the scenario as given;
* car travel time up by ``calibration.elasticities.car_time_step`` (5%): every worker's car option
  gets that share of *their own* baseline door-to-door car time (learnt car minutes at the worker's
  starting slot plus parking and access) as extra fixed minutes, in the mode choice, the slot choice and
  the time lived; the roads then respond (fewer cars, less delay), as they would to a real change;
* transit fares up by ``calibration.elasticities.fare_step`` (10%): the urban single fare
  (``policy.transit_fare_eur``) and the regional fare per km (``mode.regional_fare_per_km``) together,
  so every rider's fare rises by the same share.

Each elasticity is the arc elasticity ``ln(q1/q0) / ln(x1/x0)`` over the whole run (one year on the
scenario files: habits adjust within it, the short-run response): commuter car-km (``car_vkm``)
against car time, transit trips against the fare. Next to each measured figure the module reports the
logit's own point elasticity at the start of the run, ``beta*X*(1-P)`` averaged over the workers
(weighted by their car-km or transit trips), a check that ignores habits, remote days and the road
network's feedback.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np

from sim.behaviour.mode_choice import CAR, TRANSIT
from sim.model import CommuteModel
from sim.prepare import Inputs, prepare
from sim.scenario.schema import SEGMENTS, Scenario

NAMES = ("car_km_car_time", "transit_trips_fare")


def fare_scenario(scenario: Scenario, step: float) -> Scenario:
    """The scenario with the urban fare and the regional fare per km both raised by ``step`` (a share)."""
    policy = scenario.policy.model_copy(update={"transit_fare_eur": scenario.policy.transit_fare_eur * (1 + step)})
    mode = scenario.mode.model_copy(update={"regional_fare_per_km": scenario.mode.regional_fare_per_km * (1 + step)})
    return scenario.model_copy(update={"policy": policy, "mode": mode})


def baseline_car_min(model: CommuteModel) -> np.ndarray:
    """Each worker's one-way door-to-door car minutes at the start of the run: the learnt car time of their
    OD pair at their starting slot, plus parking and access."""
    S = model.expected.car_min.shape[1]
    learnt = model.expected.car_min.reshape(-1)[model.options.od_local * S + model.slot]
    return learnt + model.options.car_access_min


def slow_cars(model: CommuteModel, step: float) -> np.ndarray:
    """Raise every worker's car time by ``step`` of their own baseline door-to-door car time (in place);
    returns the extra one-way minutes per worker."""
    extra = step * baseline_car_min(model)
    model.options.car_access_min = model.options.car_access_min + extra
    model.plan = None  # the week's plan is made anew with the new times
    return extra


def analytic(model: CommuteModel) -> dict[str, float]:
    """The logit's point elasticities at the start of the run: car-km against car time (each car user's
    ``beta_time*round-trip car minutes*(1-P_car)``, weighted by expected car-km) and transit trips against
    the fare (``beta_cost*round-trip fare*(1-P_transit)``, weighted by expected transit trips)."""
    m = model.scenario.mode
    w = model.population.weight
    prob = model.mode_probabilities()
    p_car, p_tr = prob[:, CAR], prob[:, TRANSIT]
    t_car = 2 * baseline_car_min(model)
    fare = model.options.cost_terms_t[TRANSIT] / m.beta_cost_per_eur if m.beta_cost_per_eur else np.zeros_like(p_tr)
    km = w * p_car * model.options.dist_km
    trips = w * p_tr
    e_time = float(np.sum(km * m.beta_time_per_min * t_car * (1 - p_car)) / km.sum()) if km.sum() > 0 else 0.0
    e_fare = float(np.sum(trips * m.beta_cost_per_eur * fare * (1 - p_tr)) / trips.sum()) if trips.sum() > 0 else 0.0
    return {"car_km_car_time": e_time, "transit_trips_fare": e_fare}


def _totals(model: CommuteModel) -> dict:
    """Car-km and transit trips over the run, in all and by segment (full-population equivalents)."""
    rows = model.metrics.rows
    pop = model.population
    trips = model.metrics.mode_trips  # each worker's office trips by mode over the run (n, 5)
    seg = model.segment.astype(np.int64)
    car_km_worker = trips[:, CAR] * 2 * model.options.dist_km * pop.weight / model.scenario.mode.car_occupancy
    return {
        "car_km": float(sum(r["car_vkm"] for r in rows)),
        "transit_trips": float(sum(r["trips_transit"] for r in rows)),
        "car_km_by_segment": np.bincount(seg, weights=car_km_worker, minlength=len(SEGMENTS)).tolist(),
        "transit_trips_by_segment": np.bincount(seg, weights=trips[:, TRANSIT] * pop.weight,
                                                minlength=len(SEGMENTS)).tolist(),
    }


def arc(q0: float, q1: float, step: float) -> float | None:
    """Arc elasticity ``ln(q1/q0)/ln(1+step)`` (None when a quantity is zero)."""
    if q0 <= 0 or q1 <= 0:
        return None
    return math.log(q1 / q0) / math.log(1 + step)


def measure(scenario: Scenario, *, inputs: Inputs | None = None, progress=None) -> dict:
    """The paired runs and their elasticities (the content of ``elasticities.json``).

    Args:
        scenario: validated scenario (its days, seed and scale are the runs').
        inputs: city, population and calibration to reuse (prepared here when None).
        progress: callable receiving the number of days just simulated.
    """
    cfg = scenario.calibration.elasticities
    inputs = inputs if inputs is not None else prepare(scenario)

    def model_of(sc: Scenario) -> CommuteModel:
        return CommuteModel(sc, inputs.calibration, city=inputs.city, population=inputs.population)

    base = model_of(scenario)
    start = analytic(base)
    base.run(progress=progress)
    slow = model_of(scenario)
    extra = slow_cars(slow, cfg.car_time_step)
    slow.run(progress=progress)
    dear = model_of(fare_scenario(scenario, cfg.fare_step))
    dear.run(progress=progress)
    q0, q_time, q_fare = _totals(base), _totals(slow), _totals(dear)

    def result(name: str, q: str, q1: dict, step: float, low: float, high: float, source: str) -> dict:
        e = arc(q0[q], q1[q], step)
        by_seg = {s: arc(a, b, step) for s, a, b in zip(SEGMENTS, q0[f"{q}_by_segment"], q1[f"{q}_by_segment"])}
        return {"quantity": q, "step": step, "q0": q0[q], "q1": q1[q], "elasticity": e, "analytic_start": start[name],
                "low": low, "high": high, "inside": e is not None and low <= e <= high, "source": source,
                "by_segment": by_seg}

    fields = type(cfg).model_fields
    src = {k: (fields[k].json_schema_extra or {}).get("source", "-") for k in ("car_km_car_time", "transit_trips_fare")}
    w = inputs.population.weight
    return {
        "scenario": scenario.name, "seed": scenario.seed, "scale": scenario.scale, "days": scenario.days,
        "workers_sampled": int(inputs.population.n_workers),
        "beta_time_per_min": scenario.mode.beta_time_per_min, "beta_cost_per_eur": scenario.mode.beta_cost_per_eur,
        "car_time_extra_min_mean": float(np.sum(w * extra) / w.sum()),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elasticities": {
            "car_km_car_time": result("car_km_car_time", "car_km", q_time, cfg.car_time_step,
                                      *cfg.car_km_car_time, src["car_km_car_time"]),
            "transit_trips_fare": result("transit_trips_fare", "transit_trips", q_fare, cfg.fare_step,
                                         *cfg.transit_trips_fare, src["transit_trips_fare"]),
        },
    }


def all_inside(result: dict) -> bool:
    return all(e["inside"] for e in result["elasticities"].values())


def write(result: dict, out: Path) -> Path:
    """``elasticities.json`` in folder ``out`` (made if missing; a results folder of the same scenario is
    the place where the report finds it)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "elasticities.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path

