"""A remote day's CO2 by season, household and heating type, car occupancy and transit accounting.

The figures come from a scenario's own emission factors through :mod:`sim.behaviour.emissions`; the
markdown table is the one in ``docs/validation.md`` ("A remote day's CO2"), which a test regenerates
from the default scenario and compares. Regenerate it with::

    python -m sim.outputs.co2_table scenarios/milan_baseline.yaml
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from sim.behaviour.emissions import (break_even_km, extra_trip_kg_per_remote_day, home_kg_per_remote_day,
                                     household_shares, remote_day_net_kg)
from sim.scenario.schema import Scenario

REFERENCE_KM = 10.0  # the one-way commute of the table's net columns


@dataclass(frozen=True)
class Row:
    """One row: the season and the household, its home kg, the car break-even at occupancy 1 and at the
    scenario's, and the net kg of a remote day at :data:`REFERENCE_KM` by car (both occupancies) and by
    transit (both accountings, for a rider without a car)."""

    season: str
    household: str
    home_kg: float
    break_even_1: float
    break_even_occ: float
    net_car_1: float
    net_car_occ: float
    net_transit_marginal: float
    net_transit_average: float


def households(scenario: Scenario) -> list[tuple[str, float, float]]:
    """(name, empty, autonomous) of the table's households: the three pure cases and the expected
    household of a worker living in the Comune di Milano and outside it."""
    e = scenario.emissions
    exp = household_shares(in_milan=np.array([True, False]), cfg=e)
    return [("alone at home, autonomous heating", 1.0, 1.0),
            ("alone at home, centralised heating", 1.0, 0.0),
            ("someone at home anyway", 0.0, 1.0),
            ("expected, living in the Comune di Milano", float(exp.empty[0]), float(exp.autonomous[0])),
            ("expected, living outside it", float(exp.empty[1]), float(exp.autonomous[1]))]


def rows(scenario: Scenario) -> list[Row]:
    """The table's rows, heating season first."""
    e, occ = scenario.emissions, scenario.mode.car_occupancy
    marginal, average = replace_accounting(e, "marginal"), replace_accounting(e, "average")
    out = []
    for heating, season in ((True, "heating"), (False, "other")):
        for name, empty, aut in households(scenario):
            home = float(home_kg_per_remote_day(heating, e, empty=empty, autonomous=aut))
            kw = dict(one_way_km=REFERENCE_KM, heating=heating, empty=empty, autonomous=aut)
            out.append(Row(
                season=season, household=name, home_kg=home,
                break_even_1=break_even_km(home_kg=home, cfg=e, car_occupancy=1.0),
                break_even_occ=break_even_km(home_kg=home, cfg=e, car_occupancy=occ),
                net_car_1=remote_day_net_kg(mode="car", cfg=e, car_occupancy=1.0, **kw),
                net_car_occ=remote_day_net_kg(mode="car", cfg=e, car_occupancy=occ, **kw),
                net_transit_marginal=remote_day_net_kg(mode="transit", cfg=marginal, has_car=False, **kw),
                net_transit_average=remote_day_net_kg(mode="transit", cfg=average, has_car=False, **kw)))
    return out


def replace_accounting(cfg, accounting: str):
    """``cfg`` (an :class:`~sim.scenario.schema.EmissionsConfig`) with ``transit_accounting`` set."""
    return cfg.model_copy(update={"transit_accounting": accounting})


def markdown(scenario: Scenario) -> str:
    """The markdown table of :func:`rows` (kg and km with two decimals; net: + adds CO2, - saves it)."""
    occ = scenario.mode.car_occupancy
    e = scenario.emissions
    km = f"{REFERENCE_KM:g} km"
    head = ["season", "household and heating", "home kg CO2", "car break-even km, occupancy 1.0",
            f"car break-even km, occupancy {occ:g}", f"net kg, car {km}, occupancy 1.0",
            f"net kg, car {km}, occupancy {occ:g}",
            f"net kg, transit {km}, marginal ({e.transit_marginal_g_per_pkm:g} g/pkm)",
            f"net kg, transit {km}, average ({e.transit_g_per_pkm:g} g/pkm)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows(scenario):
        cells = [r.season, r.household, f"{r.home_kg:.2f}", f"{r.break_even_1:.2f}", f"{r.break_even_occ:.2f}",
                 *(f"{x:+.2f}" for x in (r.net_car_1, r.net_car_occ, r.net_transit_marginal, r.net_transit_average))]
        lines.append("| " + " | ".join(cells) + " |")
    extra = extra_trip_kg_per_remote_day(e)
    lines.append("")
    lines.append(f"Extra car trips of a remote day (car owners): {extra:.3f} kg, in the car columns and break-even "
                 f"distances; the transit rider has no car.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from sim.scenario.load import load_scenario

    args = sys.argv[1:] if argv is None else argv
    print(markdown(load_scenario(args[0] if args else "scenarios/milan_baseline.yaml")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
