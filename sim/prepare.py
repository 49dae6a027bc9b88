"""Before the model: the city, the population and the calibration a run starts from.

The data flow is scenario -> city and population -> calibration -> model. :func:`prepare` makes the
inputs; :func:`build_model` makes a :class:`~sim.model.CommuteModel` from them. A scenario's
counterfactual (the same scenario without smart working) shares its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.calibration import Calibration
from sim.calibration_cache import cached_calibrate
from sim.model import CommuteModel, check_trace_worker
from sim.rng import KeyedRNG
from sim.scenario.schema import Scenario
from sim.world.build import build_city
from sim.world.city import City
from sim.world.population import Population, build_population


@dataclass
class Inputs:
    """What a run starts from: the city, the population and the baseline calibration."""

    city: City
    population: Population
    calibration: Calibration


def prepare(scenario: Scenario, *, city: City | None = None, population: Population | None = None,
            calibration: Calibration | None = None) -> Inputs:
    """The scenario's city, population (at its seed and scale) and calibration; given ones are reused.

    The calibration is read from the cache when the same calibration inputs were calibrated before
    (:mod:`sim.calibration_cache`; ``SMARTCOMMUTE_NO_CACHE=1`` bypasses it).
    """
    city = city if city is not None else build_city(scenario.city)
    if population is None:
        population = build_population(scenario.population, city, scenario.scale, KeyedRNG(scenario.seed))
    if calibration is None:
        calibration = cached_calibrate(scenario, city, population)
    return Inputs(city=city, population=population, calibration=calibration)


def build_model(scenario: Scenario, inputs: Inputs | None = None, *, trace_worker: int | None = None) -> CommuteModel:
    """A model of the scenario on ``inputs`` (prepared here when None; a bad ``trace_worker`` is refused before calibrating)."""
    if inputs is None:
        city = build_city(scenario.city)
        population = build_population(scenario.population, city, scenario.scale, KeyedRNG(scenario.seed))
        check_trace_worker(trace_worker, population.n_workers)
        inputs = prepare(scenario, city=city, population=population)
    return CommuteModel(scenario, inputs.calibration, city=inputs.city, population=inputs.population,
                        trace_worker=trace_worker)
