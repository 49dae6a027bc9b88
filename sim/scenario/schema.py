"""Scenario schema: every coefficient of the model, with unit, range, default and source.

A scenario file is YAML validated against :class:`Scenario` (pydantic v2, unknown keys are
errors). Each field is declared with :func:`field`, which records its unit and the source of
its default; ``run.py schema`` prints them. A default with no measured source says
``assumption`` and gives the range worth exploring in a sensitivity analysis.

Loading (``extends`` chains, ``--set`` overrides, error messages) lives in
:mod:`sim.scenario`.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.world.calendar import workdays_in_years

SIZE_CLASSES = ("micro", "small", "medium", "large", "public")
MODES = ("car", "transit", "bike", "walk", "moto")
SEGMENTS = ("inside_milan", "entering_milan", "leaving_milan", "hinterland")
LINK_KINDS = ("local", "radial", "ring", "motorway", "connector")  # road link kinds (sim.world.city.City.link_kind)
# transit networks with their own capacity: urban (ATM metro, tram, bus: trips inside the Comune) and
# regional (Trenord suburban and regional rail, coaches: every trip that crosses the Comune's boundary)
TRANSIT_NETWORKS = ("urban", "regional")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
GENDERS = ("men", "women")  # index 0 = man, 1 = woman (Population.woman as an index)
CHILD_AGES = ("0-2", "3-5", "6-14")  # age of the youngest child: child_group 1, 2, 3 (0 = no child under 15)
# workdays in a working year: 52 weeks x 5 days less ~10 national holidays falling on weekdays
WORKDAYS_PER_YEAR = 250


def field(default: Any, unit: str, meaning: str, source: str, **constraints: Any):
    """A scenario field: ``default`` with its ``unit``, one line of ``meaning`` and its ``source``.

    ``constraints`` are pydantic's (``ge``, ``le``, ``gt``, ``lt``, ``pattern``).
    """
    return Field(default, description=meaning, json_schema_extra={"unit": unit, "source": source}, **constraints)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are checked on assignment.

    Numbers must be finite (``.inf`` and ``.nan`` are refused everywhere, inside lists and mappings
    too), and ``true``/``false`` is not a number (pydantic would read ``days: true`` as 1).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value, info):
        annotation = cls.model_fields[info.field_name].annotation
        if _numeric(annotation) and _has_bool(value):
            raise ValueError(f"expected a number, got the boolean {str(value).lower()!r}"
                             if isinstance(value, bool) else "expected numbers, got a boolean among them")
        return value


def _numeric(annotation) -> bool:
    """True for int/float and containers of them (list[float], dict[str, int], ...), never for bool."""
    if annotation in (int, float):
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # int | None
        return any(_numeric(a) for a in args if a is not type(None))
    return typing.get_origin(annotation) in (list, dict, tuple) and bool(args) and _numeric(args[-1])


def _has_bool(value) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_bool(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bool(v) for v in value.values())
    return False


def _check_exact_keys(values: dict, keys: tuple[str, ...], what: str) -> None:
    """A mapping must have exactly ``keys``."""
    missing = [k for k in keys if k not in values]
    extra = [k for k in values if k not in keys]
    if missing or extra:
        raise ValueError(f"{what} needs exactly the keys {list(keys)}; missing {missing}, unknown {extra}")


def _check_shares(values: dict[str, float], keys: tuple[str, ...], what: str) -> None:
    _check_exact_keys(values, keys, what)
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} must sum to 1, got {total:.6f}")


# --------------------------------------------------------------------------------------- city
class MilanCityConfig(Section):
    """Coefficients of the real Città metropolitana di Milano (``city.source: milan``, sim/world/milan.py)."""

    commuters_per_employed: float = field(
        0.831, "0-1", "share of employed residents who commute daily to a fixed workplace",
        "Milan 2011: 458,000 residents commuting to work (PGT Milano, Quadro di riferimento §2.2.3.2, Istat 2011) / "
        "550,946 employed residents (Istat 2011 census sections, P61); applied outside Milan too (assumption)", gt=0, le=1)
    employed_per_resident: float = field(
        0.4436, "0-1", "employed residents per resident, for comuni outside Milan (the pack has employment by NIL only)",
        "Milan 2011 census: 550,946 employed / 1,242,123 residents; assumption outside Milan (range 0.40-0.47)", gt=0, le=1)
    milan_population_growth: float = field(
        1.116, "x", "population today / 2011 census for the Comune di Milano (scales NIL workers)",
        "Comune di Milano registry 2021: 1,386,285 (ds205) / census 2011 NIL total 1,241,771", gt=0.5, le=2)
    outside_population_growth: float = field(
        1.0, "x", "population today / 2011 census for the comuni outside Milan",
        "assumption (range 1.0-1.06): no recent comune populations in the data pack", gt=0.5, le=2)
    milan_jobs_from_outside_share: float = field(
        0.49, "0-1", "share of the commuters working in the Comune di Milano who live outside it",
        "PGT Milano §2.2.6: a little over 50% of those employed in the Comune live in it, just under 50% come from outside", gt=0, lt=1)
    milan_residents_working_in_milan: float = field(
        0.811, "0-1", "share of Milan's resident commuters whose workplace is in Milan (calibration target of the OD)",
        "Istat 2011: 371,425 of 458,000 (PGT Milano §2.2.3.2; comm_matrix_cities_km_milano.csv)", gt=0, lt=1)
    hinterland_jobs_per_milan_job: float = field(
        0.70, "x", "jobs in the other comuni of the Città metropolitana per job in the Comune di Milano",
        "Istat ASIA 2020 (private sector), Piano Strategico CM Milano 2022-2024: CM 1,535,033 employees, Comune 902,942", gt=0, le=5)
    nil_jobs_area_weight: float = field(
        0.5, "0-1", "weight of built area x centrality (vs employed residents) in the per-NIL job proxy",
        "assumption (range 0.3-0.7): no jobs by NIL in the pack (ASIA by Municipio, ds200, would refine it)", ge=0, le=1)
    detour_factor: float = field(
        1.3, "x", "road distance / straight distance between zone centroids",
        "assumption (range 1.2-1.4): circuity of European road networks ~1.3 (Ballou et al. 2002)", ge=1, le=2)
    walk_speed_kmh: float = field(4.5, "km/h", "walking speed to and from metro stations", "common value (HCM)", gt=0.5, le=10)
    station_walk_max_km: float = field(
        1.5, "km", "largest straight distance from a zone centroid to a metro station used as access", "assumption (range 0.8-2)", gt=0, le=5)
    metro_transfer_min: float = field(
        5.0, "min", "walk and wait at a change of metro line, or from regional rail to the metro", "assumption (range 3-8)", ge=0, le=30)


class CityConfig(Section):
    source: Literal["synthetic", "csv", "milan"] = field(
        "synthetic", "-", "where the zones come from: the synthetic Milan-like grid, CSV files, or the real Città metropolitana di Milano", "modelling choice")
    csv_dir: str | None = field(
        None, "path", "folder with zones.csv (and optionally od.csv), relative to the scenario file", "-")
    od_matrix: str | None = field(
        None, "path", "Istat commuting file (Prov_res Procom_res Prov_lav Procom_lav Pendolari; tab or ';'), relative to "
        "the scenario file; replaces the gravity OD of the real city", "Istat, matrici del pendolarismo (2021 release)")
    milan: MilanCityConfig = Field(default_factory=MilanCityConfig)
    grid_size: int = field(
        15, "cells per side", "side of the square grid of cells", "assumption: 15 x 3 km = 45 km covers the metropolitan city (1,575 km2); at most 31 because route tables grow with the square of the cell count (~2.3 GB at 31, python benchmarks/memory_by_size.py)", ge=3, le=31)
    cell_km: float = field(
        3.0, "km", "side of one cell", "assumption: central cell of 9 km2 ~ Area C (8.2 km2, Comune di Milano)", gt=0.2, le=10)
    core_radius_km: float = field(
        1.6, "km", "radius of the dense core inside Area C", "Area C is 8.2 km2 (Comune di Milano) -> radius 1.6 km", gt=0, le=20)
    municipality_radius_km: float = field(
        7.6, "km", "radius of the Milan municipality around the centre", "Comune di Milano 181.7 km2 (Istat) -> radius 7.6 km", gt=0, le=60)
    resident_decay_km: float = field(
        9.0, "km", "e-folding distance of resident density from the centre", "assumption (range 5-15): denser Milan, wide hinterland", gt=0.5, le=100)
    job_decay_km: float = field(
        4.0, "km", "e-folding distance of job density from the centre", "assumption (range 2-8): jobs concentrated in the centre", gt=0.5, le=100)
    gateways: int = field(
        8, "count", "gateway zones for commuters living outside the metropolitan city", "assumption: 8 directions (Varese, Como, Lecco, Bergamo, Lodi, Pavia, Novara, Monza-Brianza)", ge=0, le=16)
    gateway_distance_km: float = field(
        30.0, "km", "highway length from a gateway to the edge of the grid", "assumption (range 15-50): distance of neighbouring provincial capitals", gt=1, le=200)
    local_speed_kmh: float = field(25.0, "km/h", "free-flow speed on local roads", "assumption (range 20-35); TomTom 2022: 18 km/h congested in the centre", gt=1, le=130)
    local_capacity_vph: float = field(6000.0, "veh/h per direction", "capacity of all local streets crossing one side of a cell", "assumption (range 4000-9000): ~8 urban lanes per 3 km x ~750 veh/h per lane (HCM urban streets)", gt=1, le=100_000)
    radial_speed_kmh: float = field(40.0, "km/h", "free-flow speed on radial arterials", "assumption (range 30-60)", gt=1, le=130)
    radial_capacity_vph: float = field(9000.0, "veh/h per direction", "capacity of a cell side crossed by a radial arterial (local streets + arterial)", "assumption (range 7000-12000): local streets plus two 2-lane arterials", gt=1, le=100_000)
    inner_ring: int = field(1, "cells (Chebyshev)", "ring of cells carrying the inner ring road (Circonvallazione)", "assumption: Circonvallazione esterna ~3-4 km from the Duomo", ge=0, le=30)
    ring_speed_kmh: float = field(40.0, "km/h", "free-flow speed on the inner ring road", "assumption (range 30-50)", gt=1, le=130)
    ring_capacity_vph: float = field(9000.0, "veh/h per direction", "capacity of a cell side along the inner ring road (local streets + ring)", "assumption (range 7000-12000)", gt=1, le=100_000)
    motorway_ring: int = field(3, "cells (Chebyshev)", "ring of cells carrying the motorway ring (Tangenziali)", "assumption: Tangenziali ~9-12 km from the centre", ge=0, le=30)
    motorway_speed_kmh: float = field(80.0, "km/h", "free-flow speed on the motorway ring and gateway highways", "assumption (range 70-110)", gt=1, le=130)
    motorway_capacity_vph: float = field(12000.0, "veh/h per direction", "capacity of motorway-ring and gateway links (motorway + parallel roads)", "assumption: 3 motorway lanes x 1,800 veh/h (HCM) + ~6,000 on parallel roads", gt=1, le=100_000)
    core_speed_factor: float = field(0.8, "-", "multiplier of free-flow speed inside the core", "assumption: slower streets inside Area C", gt=0.1, le=1.5)
    intrazonal_km_factor: float = field(0.5, "x cell_km", "mean trip length inside one cell", "assumption: ~half a cell side", gt=0.05, le=2)
    transit_radial_speed_kmh: float = field(28.0, "km/h", "transit commercial speed along radials (metro, suburban rail)", "assumption: ATM metro commercial speed ~30 km/h", gt=1, le=150)
    transit_other_speed_kmh: float = field(13.0, "km/h", "transit commercial speed elsewhere (bus, tram)", "assumption: ATM surface lines 11-14 km/h", gt=1, le=150)
    regional_rail_speed_kmh: float = field(50.0, "km/h", "regional rail speed from gateways", "assumption: Trenord regional services ~45-60 km/h", gt=1, le=200)
    transit_access_min: float = field(12.0, "min", "walk, wait and transfer time added to every transit trip", "assumption (range 8-20)", ge=0, le=60)
    car_access_min: float = field(4.0, "min", "walk to the car and parking search outside the municipality", "assumption (range 2-8)", ge=0, le=60)
    car_access_municipality_min: float = field(8.0, "min", "parking search and walk at a destination in the municipality", "assumption (range 5-15)", ge=0, le=60)
    parking_cost_municipality_eur: float = field(3.0, "EUR/day", "parking cost at a destination in the municipality outside the core", "assumption: blue-zone rates 1.2-2 EUR/h, many commuters have free parking", ge=0, le=100)
    parking_cost_core_eur: float = field(12.0, "EUR/day", "parking cost at a destination in the core", "assumption: garages in the centre 15-30 EUR/day", ge=0, le=200)


    @model_validator(mode="after")
    def _check(self) -> "CityConfig":
        if self.grid_size % 2 == 0:
            raise ValueError(f"city.grid_size must be odd so the grid has a central cell, got {self.grid_size}")
        if self.od_matrix and self.source != "milan":
            raise ValueError(f"city.od_matrix (an Istat commuting file) needs city.source: milan, got source {self.source!r}")
        return self


# --------------------------------------------------------------------------------------- population
class SectorConfig(Section):
    teleworkable_share: float = field(0.3, "0-1", "share of the sector's jobs that can be done at home", "Dingel & Neiman 2020", ge=0, le=1)


def _default_sectors() -> dict[str, SectorConfig]:
    # Dingel & Neiman 2020, Table 3 (US, NAICS 2-digit), grouped: manufacturing 0.22 and construction 0.19;
    # retail 0.14, accommodation/food 0.04; finance 0.76, information 0.72, professional services 0.80;
    # education 0.83 and health care 0.25; public administration 0.41.
    return {
        "industry": SectorConfig(teleworkable_share=0.21),
        "trade_hospitality": SectorConfig(teleworkable_share=0.11),
        "business_services": SectorConfig(teleworkable_share=0.76),
        "health_education": SectorConfig(teleworkable_share=0.45),
        "public_administration": SectorConfig(teleworkable_share=0.41),
    }


def _default_sector_mix() -> dict[str, dict[str, float]]:
    # Assumption: Milan's mix leans to services; large firms concentrate finance/ICT/professional services
    # (headquarters), micro firms trade and crafts. Istat ASIA Milan would refine it.
    return {
        "micro": {"industry": 0.18, "trade_hospitality": 0.37, "business_services": 0.35, "health_education": 0.10, "public_administration": 0.0},
        "small": {"industry": 0.30, "trade_hospitality": 0.27, "business_services": 0.33, "health_education": 0.10, "public_administration": 0.0},
        "medium": {"industry": 0.32, "trade_hospitality": 0.18, "business_services": 0.40, "health_education": 0.10, "public_administration": 0.0},
        "large": {"industry": 0.15, "trade_hospitality": 0.10, "business_services": 0.70, "health_education": 0.05, "public_administration": 0.0},
        "public": {"industry": 0.0, "trade_hospitality": 0.0, "business_services": 0.0, "health_education": 0.45, "public_administration": 0.55},
    }


class PopulationConfig(Section):
    workers_internal: int = field(
        960_000, "workers", "workers living and working in the metropolitan city (Milan and hinterland)",
        "PARAMETERS.md: >1.5 M systematic trips internal to the metropolitan city (2011) x 0.64 work share "
        "(Istat census 2011: ~18.5 of 28.9 M Italian commuters travel for work); at most 3 M, twice the ~1.5 M employed "
        "of the metropolitan city (memory ~1 KB per sampled worker)", ge=0, le=3_000_000)
    workers_inbound: int = field(
        250_000, "workers", "workers living outside the metropolitan city and working in it (gateways)",
        "PARAMETERS.md: ~485,000 systematic trips to/from other provinces x 0.8 inbound (assumption) x 0.64 work share; "
        "at most 1 M (twice the inbound trips)", ge=0, le=1_000_000)
    employment_share: dict[str, float] = field(
        {"micro": 0.30, "small": 0.17, "medium": 0.14, "large": 0.26, "public": 0.13}, "0-1",
        "share of workers by employer size class",
        "Istat structure of enterprises (micro 47%, small 21%, medium 12.5%, large 20% of private employment), "
        "shifted toward large firms for Milan (assumption) and with ~13% public employees (Istat/Conto annuale)")
    mean_firm_size: dict[str, float] = field(
        {"micro": 3.0, "small": 20.0, "medium": 105.0, "large": 700.0, "public": 120.0}, "workers",
        "mean employees per firm (or public office) in each class",
        "Istat structure of enterprises (mean size by class); public offices: assumption")
    sectors: dict[str, SectorConfig] = Field(
        default_factory=_default_sectors, description="sectors and their teleworkable share of jobs",
        json_schema_extra={"unit": "-", "source": "Dingel & Neiman 2020, Table 3, grouped"})
    firm_size_sigma: float = field(0.8, "-", "lognormal spread of firm sizes within a size class (the class mean is kept)", "assumption (range 0.5-1.2)", ge=0, le=3)
    sector_mix: dict[str, dict[str, float]] = Field(
        default_factory=_default_sector_mix, description="employment share of each sector within each size class",
        json_schema_extra={"unit": "0-1", "source": "assumption (see docs/parameters.md)"})
    women_share: float = field(0.45, "0-1", "share of women among workers", "Istat labour force survey, Lombardy: women ~44-45% of employed", ge=0, le=1)
    # who cares for whom (Istat, "Conciliazione tra lavoro e famiglia", LFS ad hoc module 2018): each
    # worker has a youngest child aged 0-2, 3-5, 6-14 or none, and may care for another dependant
    youngest_child_share: dict[str, dict[str, float]] = field(
        {"women": {"0-2": 0.062, "3-5": 0.062, "6-14": 0.18}, "men": {"0-2": 0.077, "3-5": 0.075, "6-14": 0.20}},
        "0-1", "share of employed women / men whose youngest child is aged 0-2, 3-5, 6-14 (the rest: no child under 15)",
        "derived, assumption with ranges (0-2 and 3-5: women 0.05-0.08, men 0.06-0.09; 6-14: women 0.14-0.22, men "
        "0.16-0.24): ~1.2 M children aged 0-2 in Italy (Istat births 2020-2022) of ~1.13 M mothers, 53% of them employed "
        "(Istat 2018: employment rate of mothers of 0-2 year olds; 55.7% for 3-5), over ~9.9 M employed women; fathers "
        "employed at ~89% (Istat 2018, fathers 25-54) over ~13.3 M employed men; parents of children under 15 are "
        "~29% of 18-64 year olds (Istat 2018)")
    other_dependant_share: dict[str, float] = field(
        {"women": 0.094, "men": 0.059}, "0-1",
        "share of workers who regularly care for a relative aged 15+ who is ill, disabled or elderly",
        "Istat 2018 (Conciliazione tra lavoro e famiglia): 9.4% of women and 5.9% of men aged 18-64 (range +-0.03)")
    car_available_municipality: float = field(0.72, "0-1", "share of workers living in Milan with a car available", "assumption from ACI 2022 (~50 cars per 100 inhabitants in Milan, ~1 per household); must exceed the car share of trips leaving Milan (65.6%, Istat 2011)", ge=0, le=1)
    car_available_outside: float = field(0.85, "0-1", "share of workers living outside Milan with a car available", "ACI: 60-70 cars per 100 inhabitants in the hinterland; assumption for workers", ge=0, le=1)
    home_distance_decay_per_km: float = field(0.12, "1/km", "gravity decay of where workers live relative to their job", "assumption (range 0.05-0.25): mean commute ~10-12 km", ge=0, le=5)
    base_stress_mean: float = field(2.5, "stress points (0-10)", "mean personal baseline of daily strain", "assumption (range 2-4)", ge=0, le=10)
    base_stress_sd: float = field(1.0, "stress points", "spread of the personal baseline", "assumption (range 0.5-1.5)", ge=0, le=5)

    @model_validator(mode="after")
    def _check(self) -> "PopulationConfig":
        _check_shares(self.employment_share, SIZE_CLASSES, "population.employment_share")
        for g in GENDERS:
            shares = self.youngest_child_share.get(g)
            if shares is None or set(shares) != set(CHILD_AGES):
                raise ValueError(f"population.youngest_child_share.{g} needs exactly the keys {list(CHILD_AGES)}")
            if any(not 0 <= v <= 1 for v in shares.values()) or sum(shares.values()) > 1 + 1e-9:
                raise ValueError(f"population.youngest_child_share.{g}: shares in 0-1 summing to at most 1, got {shares}")
            v = self.other_dependant_share.get(g)
            if v is None or not 0 <= v <= 1:
                raise ValueError(f"population.other_dependant_share.{g}: expected a share in 0-1, got {v}")
        if set(self.youngest_child_share) != set(GENDERS) or set(self.other_dependant_share) != set(GENDERS):
            raise ValueError(f"population.youngest_child_share and other_dependant_share need exactly the keys {list(GENDERS)}")
        extra = [k for k in self.mean_firm_size if k not in SIZE_CLASSES]
        if extra or len(self.mean_firm_size) != len(SIZE_CLASSES):
            raise ValueError(f"population.mean_firm_size needs exactly the keys {list(SIZE_CLASSES)}")
        if any(not 1 <= v <= 100_000 for v in self.mean_firm_size.values()):
            raise ValueError("population.mean_firm_size values must be within [1, 100000] workers")
        if any(not 0 <= v <= 1 for v in self.employment_share.values()):
            raise ValueError("population.employment_share values must be within [0, 1]")
        for cls in SIZE_CLASSES:
            if cls not in self.sector_mix:
                raise ValueError(f"population.sector_mix has no entry for size class '{cls}'")
            _check_shares(self.sector_mix[cls], tuple(self.sectors), f"population.sector_mix.{cls}")
        if self.workers_internal + self.workers_inbound < 10:
            raise ValueError("population needs at least 10 workers (workers_internal + workers_inbound)")
        return self

    def teleworkable_share_by_class(self) -> dict[str, float]:
        """Share of teleworkable jobs in each size class, from the sector mix."""
        return {
            cls: sum(share * self.sectors[s].teleworkable_share for s, share in self.sector_mix[cls].items())
            for cls in SIZE_CLASSES
        }


# --------------------------------------------------------------------------------------- adoption
class AdoptionConfig(Section):
    target_allowed_share: dict[str, float] = field(
        {"micro": 0.08, "small": 0.08, "medium": 0.08, "large": 0.53, "public": 0.17}, "0-1",
        "baseline share of workers allowed smart working, by size class (the steady state the diffusion reproduces)",
        "Osservatorio Smart Working, Politecnico di Milano 2023-2025: large 53%, PA 17%, SMEs and micro ~8%")
    bass_p_per_year: float = field(0.03, "1/year", "Bass innovation coefficient (firms adopting on their own)", "Sultan, Farley & Lehmann 1990 meta-analysis: mean p = 0.03", ge=0, le=5)
    bass_q_per_year: float = field(0.38, "1/year", "Bass imitation coefficient (firms copying adopters of their class)", "Sultan, Farley & Lehmann 1990 meta-analysis: mean q = 0.38", ge=0, le=20)
    workdays_per_month: int = field(21, "workdays", "workdays between two monthly adoption decisions", "250 workdays / 12 months", ge=1, le=31)
    max_remote_days: dict[str, int] = field(
        {"micro": 2, "small": 2, "medium": 2, "large": 2, "public": 2}, "days/week",
        "remote days per week an adopting employer allows",
        "Bloom, Han & Liang 2024: typical hybrid schedule 2 days; Osservatorio: PA agreements 1-2 days")
    trend_per_year: dict[str, float] = field(
        {"micro": -0.048, "small": -0.077, "medium": -0.077, "large": 0.018, "public": 0.11}, "1/year (relative)",
        "relative change per year of the baseline's target_allowed_share, by size class, from the run's second year "
        "(year y targets target * (1 + trend)^y, at most the class's teleworkable share); the diffusion follows it",
        "Osservatorio Smart Working, Politecnico di Milano, research 2024 (press release 29 October 2024, as reported "
        "in the press): smart workers 2024 vs 2023 -7.7% in SMEs, -4.8% in micro firms, +1.8% in large firms, +11% in "
        "the public administration (555,000); carried forward each year (assumption: range from half to the full change)")

    @model_validator(mode="after")
    def _check(self) -> "AdoptionConfig":
        if sorted(self.trend_per_year) != sorted(SIZE_CLASSES):
            raise ValueError(f"adoption.trend_per_year needs exactly the keys {list(SIZE_CLASSES)}")
        for k, v in self.trend_per_year.items():
            if not -0.5 <= v <= 0.5:
                raise ValueError(f"adoption.trend_per_year.{k} must be within [-0.5, 0.5], got {v}")
        for name in ("target_allowed_share", "max_remote_days"):
            d = getattr(self, name)
            if sorted(d) != sorted(SIZE_CLASSES):
                raise ValueError(f"adoption.{name} needs exactly the keys {list(SIZE_CLASSES)}")
        for k, v in self.target_allowed_share.items():
            if not 0 <= v <= 1:
                raise ValueError(f"adoption.target_allowed_share.{k} must be within [0, 1], got {v}")
        for k, v in self.max_remote_days.items():
            if not 0 <= v <= 5:
                raise ValueError(f"adoption.max_remote_days.{k} must be within [0, 5], got {v}")
        return self


# --------------------------------------------------------------------------------------- remote days
class RemoteDaysConfig(Section):
    preferred_days: float = field(1.8, "days/week", "mean remote days a worker wants when allowed", "Bloom, Han & Liang 2024; Osservatorio: ~2 days a week", ge=0, le=5)
    caregiver_extra_days: float = field(0.6, "days/week", "extra remote days wanted by caregivers", "assumption (range 0-1.5): INL reports, reconciling work and childcare", ge=0, le=5)
    peer_weight: float = field(0.3, "-", "pull toward colleagues' mean remote days of last week", "assumption (range 0-0.6)", ge=0, le=1)
    preference_sd: float = field(0.9, "days/week", "spread of individual preference", "assumption (range 0.5-1.5)", ge=0, le=5)
    weekday_weight: dict[str, float] = field(
        {"mon": 1.3, "tue": 0.8, "wed": 0.9, "thu": 0.8, "fri": 1.6}, "relative weight",
        "how strongly each weekday is picked for remote work",
        "assumption calibrated to Osservatorio/Bloom: Monday and Friday preferred")

    @model_validator(mode="after")
    def _check(self) -> "RemoteDaysConfig":
        if sorted(self.weekday_weight) != sorted(WEEKDAYS):
            raise ValueError(f"remote_days.weekday_weight needs exactly the keys {list(WEEKDAYS)}")
        if any(v <= 0 for v in self.weekday_weight.values()):
            raise ValueError("remote_days.weekday_weight values must be > 0")
        return self


# --------------------------------------------------------------------------------------- mode
class ModeConfig(Section):
    beta_time_per_min: float = field(-0.0175, "1/min", "utility of one minute of travel", "fitted: the logit scale (beta_time and beta_cost together, value of time kept) that puts the one-year elasticity of commuter car-km w.r.t. car time in the middle of calibration.elasticities.car_km_car_time on milan_baseline (run.py elasticities, scale 0.05, seed 42: beta_time -0.05 gave -0.85, -0.025 -0.54, -0.016 -0.37, -0.0175 -0.39 (the fare elasticity, held out, then -0.33))", le=0)
    beta_cost_per_eur: float = field(-0.105, "1/EUR", "utility of one euro (value of time = 60*beta_time/beta_cost = 10 EUR/h)", "assumption: value of commuting time ~10 EUR/h in Italian studies; scaled with beta_time_per_min (the fare elasticity it gives is the held-out check, calibration.elasticities.transit_trips_fare)", le=0)
    walk_speed_kmh: float = field(4.5, "km/h", "walking speed", "common value (HCM)", gt=0.5, le=10)
    bike_speed_kmh: float = field(14.0, "km/h", "cycling speed", "assumption (range 12-18)", gt=1, le=40)
    walk_max_km: float = field(5.0, "km", "longest commute on foot (walk unavailable beyond)", "assumption (range 3-6)", gt=0, le=50)
    bike_max_km: float = field(15.0, "km", "longest commute by bike (bike unavailable beyond)", "assumption (range 10-20)", gt=0, le=100)
    moto_congestion_share: float = field(0.5, "0-1", "share of the car's congestion delay a motorbike suffers (it filters between queues)",
                                         "assumption (range 0.3-0.7): motorcycles pass queues at junctions but not in dense stop-and-go", ge=0, le=1)
    moto_speed_factor: float = field(1.15, "x car free-flow speed", "motorbikes filter through traffic: speed relative to car free flow", "assumption (range 1-1.3)", gt=0.1, le=3)
    car_cost_per_km: float = field(0.20, "EUR/km", "car running cost (fuel, wear)", "ACI running-cost tables: ~0.15-0.25 EUR/km for fuel and wear", ge=0, le=5)
    moto_cost_per_km: float = field(0.08, "EUR/km", "motorbike running cost", "assumption (range 0.05-0.12)", ge=0, le=5)
    regional_fare_per_km: float = field(0.07, "EUR/km", "extra transit fare per km beyond the municipality", "Trenord/STIBM zone fares ~0.06-0.08 EUR/km (assumption)", ge=0, le=2)
    car_occupancy: float = field(1.1, "persons/vehicle", "people per car on commute trips", "ISFORT Audimob: commute car occupancy ~1.1-1.2", ge=1, le=5)
    segment_targets: dict[str, dict[str, float]] = field(
        {
            "inside_milan": dict(car=0.16, transit=0.47, bike=0.12, walk=0.18, moto=0.07),
            "entering_milan": dict(car=0.63, transit=0.30, bike=0.01, walk=0.01, moto=0.05),
            "leaving_milan": dict(car=0.66, transit=0.24, bike=0.01, walk=0.01, moto=0.08),
            "hinterland": dict(car=0.63, transit=0.21, bike=0.07, walk=0.05, moto=0.04),
        },
        "0-1",
        "modal split the alternative constants are calibrated to, by segment of trips",
        "AMAT 2022 (inside Milan: transit 47%, car 16%, moto 7%; entering: car 63%, moto 5%, transit ~30%); "
        "PUMS: walking >17% inside Milan, bike the rest (assumption); leaving: Istat 2011 (car driver 65.6%, "
        "private vehicle 74.3%, transit 23.6%); hinterland: assumption")
    calibrate_constants: bool = field(True, "-", "calibrate the alternative constants to segment_targets at start", "ActivitySim-style constant calibration")
    calibration_iterations: int = field(40, "iterations", "maximum iterations of the constant calibration", "assumption", ge=1, le=500)
    weekly_review_share: float = field(0.25, "0-1", "share of workers who reconsider mode and departure slot each week (the rest keep their habit)", "assumption (range 0.1-0.5): travel habits (Verplanken et al. 1997); damps week-to-week oscillation", gt=0, le=1)
    slot_minutes: int = field(15, "min", "length of a departure slot", "issue: 15-minute slots", ge=5, le=60)
    first_slot: str = field("06:30", "HH:MM", "start of the first departure slot", "assumption: morning commute window")
    n_slots: int = field(14, "slots", "number of departure slots", "assumption: 06:30-10:00", ge=1, le=96)
    work_start: dict[str, str] = field(
        {"micro": "09:00", "small": "09:00", "medium": "08:45", "large": "09:00", "public": "08:15"}, "HH:MM",
        "usual start of work by size class", "assumption: Italian offices start 8:00-9:00")
    beta_early_per_min: float = field(-0.0105, "1/min", "utility of arriving one minute early", "Small 1982: early penalty ~0.61 x value of time (0.6 x beta_time_per_min)", le=0)
    beta_late_per_min: float = field(-0.042, "1/min", "utility of arriving one minute late", "Small 1982: late penalty ~2.4 x value of time (2.4 x beta_time_per_min)", le=0)
    slot_scale: float = field(2.857142857142857, "-", "logit scale of the departure-slot choice relative to the mode choice's", "assumption (range 1-5): 20/7 keeps slot_scale*beta_time, *beta_early, *beta_late at -0.05, -0.03, -0.12 per minute, the departure-time choice of the former coefficients, when the mode logit's scale was cut to 0.35 of them to fit the car-time elasticity", gt=0, le=20)
    learning_rate: float = field(0.3, "0-1", "weight of today's experienced travel time in the learnt time", "assumption (range 0.1-0.5): day-to-day learning (Horowitz 1984)", gt=0, le=1)
    crowding_threshold: float = field(0.8, "load (riders/capacity)", "transit load above which crowding adds perceived time and strain", "assumption: crowding penalties start near 80% of capacity (Wardman & Whelan 2011 review; range 0.6-1.0)", ge=0, le=3)
    crowding_beta: float = field(0.6, "-", "perceived transit time multiplier per unit of load above crowding_threshold", "assumption: Wardman & Whelan 2011 crowding multipliers 1.2-1.6", ge=0, le=10)

    @model_validator(mode="after")
    def _check(self) -> "ModeConfig":
        if sorted(self.segment_targets) != sorted(SEGMENTS):
            raise ValueError(f"mode.segment_targets needs exactly the segments {list(SEGMENTS)}")
        for seg, split in self.segment_targets.items():
            _check_shares(split, MODES, f"mode.segment_targets.{seg}")
            if any(v <= 0 for v in split.values()):
                raise ValueError(f"mode.segment_targets.{seg}: every mode share must be > 0")
        if sorted(self.work_start) != sorted(SIZE_CLASSES):
            raise ValueError(f"mode.work_start needs exactly the keys {list(SIZE_CLASSES)}")
        for k, v in {"first_slot": self.first_slot, **{f"work_start.{c}": t for c, t in self.work_start.items()}}.items():
            parse_clock(v, f"mode.{k}")
        return self


def parse_clock(text: str, key: str) -> int:
    """Minutes after midnight of an ``HH:MM`` string; ValueError naming ``key`` otherwise."""
    try:
        h, m = text.split(":")
        h, m = int(h), int(m)
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
    except (ValueError, AttributeError):
        raise ValueError(f"{key} must be a time 'HH:MM', got {text!r}") from None
    return 60 * h + m


# --------------------------------------------------------------------------------------- traffic
def _check_keys(mapping: dict[str, float], keys: tuple[str, ...], name: str, lo: float, hi: float) -> None:
    """A mapping must have exactly ``keys``, each value within [lo, hi]."""
    _check_exact_keys(mapping, keys, name)
    for k, v in mapping.items():
        if not lo <= v <= hi:
            raise ValueError(f"{name}.{k} must be within [{lo:g}, {hi:g}], got {v:g}")


class TrafficConfig(Section):
    bpr_alpha: float = field(0.15, "-", "BPR alpha in t0*(1+alpha*(v/c)^beta)", "US Bureau of Public Roads 1964", ge=0, le=5)
    bpr_beta: float = field(4.0, "-", "BPR beta exponent", "US Bureau of Public Roads 1964", ge=1, le=10)
    background_profile: list[float] = field(
        [0.55, 0.7, 0.85, 0.95, 1.0, 1.0, 0.95, 0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5], "relative",
        "non-commute traffic (freight, school, errands) by departure slot, relative to its peak",
        "assumption: shape of a morning traffic count profile")
    commuter_share_of_peak_traffic: dict[str, float] = field(
        {"local": 0.5, "radial": 0.5, "ring": 0.5, "motorway": 0.4, "connector": 0.4}, "0-1",
        "commuters' share of the vehicles on a link in the morning peak, by link kind: the rest (school runs, errands, "
        "business trips, goods vehicles) is background traffic, proportional to the baseline's commuter flow on each link",
        "assumption (range 0.35-0.65 urban, 0.3-0.55 motorway and connectors): McGuckin, Contrino & Nakamoto 2010 "
        "(Peak Travel in America, US NHTS): ~75% of morning-peak vehicle trips are mandatory (work and school, with "
        "their chained stops); less school runs and less goods vehicles, more of them on motorways")
    road_capacity_factor: float = field(1.0, "x", "multiplier of every link's capacity (the city's per-kind figures); the start value when calibrated",
                                        "calibrated to target_peak_extra_time when calibrate_road_capacity (effective peak capacity: junctions, "
                                        "parked cars, the coarse zoning's missing streets)", gt=0, le=100)
    calibrate_road_capacity: bool = field(True, "-", "calibrate road_capacity_factor so the baseline peak extra time hits the target "
                                          "(the background follows the commuter shares)", "modelling choice")
    target_peak_extra_time: float = field(0.30, "0-1", "extra car travel time over free flow in the morning peak, baseline", "TomTom Traffic Index 2024: Milan congestion level ~30%", ge=0, le=3)
    peak_start: str = field("07:30", "HH:MM", "start of the morning peak used for peak figures", "assumption")
    peak_end: str = field("09:30", "HH:MM", "end of the morning peak", "assumption")
    transit_capacity_per_hour: dict[str, float] = field(
        {"urban": 180_000.0, "regional": 90_000.0}, "places/h",
        "places per hour left for commuters on each transit network in the morning peak (full-population equivalent); "
        "the start value when calibrated",
        "assumption: ATM metro ~4 lines x 20-30 trains/h x ~1,200 places plus trams and buses; Trenord ~100 suburban "
        "and regional trains/h into Milan x ~900 places; less the riders who are not commuters")
    transit_peak_load_target: dict[str, float] = field(
        {"urban": 1.0, "regional": 1.0}, "riders/places",
        "commuters per place in the busiest half hour of the baseline, by network: the capacity left for commuters is set from it",
        "assumption (range 0.9-1.1): Milan's metro lines and the suburban trains into Milan run full in the morning "
        "peak at their shortest headways (ATM, Trenord); crowding penalties start at mode.crowding_threshold")
    calibrate_transit_capacity: bool = field(True, "-", "set transit_capacity_per_hour from the baseline's peak riders and transit_peak_load_target",
                                             "modelling choice")
    route_spread: float = field(0.5, "-", "spread of perceived link costs between origins when routes are fixed (0 = one deterministic path)", "assumption (range 0-1): stands in for the parallel streets a coarse grid does not show", ge=0, le=5)
    evening_factor: float = field(1.0, "-", "evening return delay relative to the morning's", "assumption: symmetric peaks", ge=0, le=3)

    @model_validator(mode="after")
    def _check(self) -> "TrafficConfig":
        parse_clock(self.peak_start, "traffic.peak_start")
        parse_clock(self.peak_end, "traffic.peak_end")
        if any(not 0 <= v <= 10 for v in self.background_profile):
            raise ValueError("traffic.background_profile values must be within [0, 10] (relative to the peak)")
        _check_keys(self.commuter_share_of_peak_traffic, LINK_KINDS, "traffic.commuter_share_of_peak_traffic", 0.05, 1.0)
        _check_keys(self.transit_capacity_per_hour, TRANSIT_NETWORKS, "traffic.transit_capacity_per_hour", 1.0, 10_000_000.0)
        _check_keys(self.transit_peak_load_target, TRANSIT_NETWORKS, "traffic.transit_peak_load_target", 0.05, 3.0)
        return self


# --------------------------------------------------------------------------------------- emissions
class EmissionsConfig(Section):
    car_urban_g_per_km: float = field(235.6, "g CO2/km", "car CO2 factor at the urban reference speed", "ISPRA 2020 factors (COPERT 5.5.1) on the ACI 2021 Lombard fleet, Osservatorio PUMS", gt=0, le=2000)
    urban_reference_speed_kmh: float = field(20.0, "km/h", "speed at which the car factor equals car_urban_g_per_km", "TomTom 2022: ~18-22 km/h average urban speed in Milan", gt=1, le=130)
    speed_curve: list[float] = field(
        [110.0, 1800.0, 0.006], "g/km, g*h/km2, g*h2/km3", "COPERT-like shape a + b/v + c*v^2 (scaled to the urban factor)",
        "EEA/COPERT: highest in stop-and-go, lowest at 50-80 km/h; shape is an assumption")
    transit_g_per_pkm: float = field(45.0, "g CO2/passenger-km", "urban transit factor", "assumption from EEA: metro ~30, bus ~70-100 g/pkm; ATM mix", ge=0, le=1000)
    regional_rail_g_per_pkm: float = field(30.0, "g CO2/passenger-km", "regional rail factor (trips from gateways)", "EEA: electric rail 20-40 g/pkm", ge=0, le=1000)
    # --- transit accounting: 'marginal' (default) counts what changes when one rider stays home, i.e.
    # transit_marginal_g_per_pkm for every transit commute; 'average' the fleet's average per passenger-km
    # above (a rider's share of trains and buses that run anyway)
    transit_accounting: Literal["marginal", "average"] = field(
        "marginal", "-", "transit CO2 of a commute: 'marginal' (transit_marginal_g_per_pkm: what one rider more or less changes) or 'average' (transit_g_per_pkm, regional_rail_g_per_pkm: the fleet's average)",
        "modelling choice (issue 15): metro, tram, rail and bus services run to a timetable whoever rides; a rider who stays home removes no vehicle-km while the service is within capacity, so a remote day saves ~0 transit CO2")
    transit_marginal_g_per_pkm: float = field(0.0, "g CO2/passenger-km", "marginal transit CO2 of one rider more (all transit, urban and regional), used when transit_accounting is 'marginal'",
                                              "reasoning: within capacity the timetable, hence the vehicle-km, does not depend on one rider; only the traction energy of a passenger's mass (~75 kg on a train of ~150-400 t) changes; assumption (range 0-5)", ge=0, le=1000)
    moto_g_per_km: float = field(110.0, "g CO2/km", "motorbike/scooter factor", "ISPRA/COPERT: urban mopeds and motorcycles ~80-130 g/km", ge=0, le=2000)
    grid_kg_per_kwh: float = field(0.257, "kg CO2/kWh", "electricity at the meter", "ISPRA, 'Fattori di emissione atmosferica di CO2 ... nel settore elettrico' (Rapporti series): consumption factor ~0.25-0.26 kg/kWh for 2021-2022; figure from memory, not re-checked here (range 0.20-0.30)", ge=0, le=2)
    gas_kg_per_kwh: float = field(0.202, "kg CO2/kWh", "natural gas burnt for heating", "ISPRA national inventory: 55.9 t CO2/TJ", ge=0, le=1)
    # --- home energy of a remote day, per household (sim.behaviour.emissions.home_kg_per_remote_day): the
    # workstation is the worker's own, every remote day; the rest of the household's extra electricity and
    # the extra heating only in a home that would otherwise be empty (nobody else at home that day), and
    # the heating fully only with autonomous heating (a centralised boiler runs to the building's schedule)
    workstation_kwh: float = field(1.2, "kWh/remote day", "electricity of the worker's workstation and lighting on a remote day (whoever else is at home)",
                                   "EcoAct 2020, Homeworking emissions whitepaper (with Lloyds Banking Group and NatWest): 150 W of workstation equipment and lighting over an 8-hour day, as Ecologi's methodology page quotes it (range 0.5-1.5)", ge=0, le=20)
    home_electricity_kwh: float = field(1.3, "kWh/remote day", "extra household electricity besides the workstation (cooking, appliances) on a remote day, in a home that would otherwise be empty",
                                        "assumption (range 0-3): the earlier 2.5 kWh of a remote day (IEA 2020: lighting, IT, appliances) less the workstation's 1.2 kWh", ge=0, le=50)
    home_heating_kwh: float = field(20.0, "kWh/remote day", "extra heating gas on a remote day in the heating season, in a home with autonomous heating that would otherwise be empty (per dwelling)",
                                    "assumption (range 10-30) set so the break-even one-way car commute of a worker alone at home with autonomous heating, at occupancy 1, is ~6 km (IEA 2020)", ge=0, le=200)
    centralised_heating_factor: float = field(0.0, "-", "extra heating of a remote day in a flat with centralised heating, as a share of home_heating_kwh",
                                              "assumption (range 0-0.3): the building's boiler runs to the condominium's hours whoever is at home; with the heat meters and thermostatic valves D.Lgs. 102/2014 made compulsory a resident can keep radiators open, so some extra is possible", ge=0, le=1)
    centralised_share_milan: float = field(0.54, "0-1", "share of the homes of workers living in the Comune di Milano with centralised heating",
                                           "idealista 2025 (homes for sale in Q3 2025, reported by Italpress, 23 Dec 2025): Milan 54% centralised, 45% autonomous; higher than Istat's 34.4% for the Nord-ovest (blocks of flats); range 0.35-0.6", ge=0, le=1)
    centralised_share_outside: float = field(0.344, "0-1", "share of the homes of workers living outside the Comune di Milano with centralised heating",
                                             "Istat 2022, I consumi energetici delle famiglie (2021): the centralised system is the prevalent one for 34.4% of households in the Nord-ovest (17.1% in Italy); range 0.2-0.5", ge=0, le=1)
    one_person_share_milan: float = field(0.165, "0-1", "share of workers living in the Comune di Milano who live alone",
                                          "Istat 2019, Famiglie e mercato del lavoro (2018): 3.2 M employed people aged 15-64 live alone, ~13.8% of Italy's ~23.2 M employed; x 39.9/33.4, Milan's share of one-person households (Anagrafe del Comune, 2022: 304,554 of 762,990) over Italy's (Istat 2018: 33.4%); range 0.14-0.25", ge=0, le=1)
    one_person_share_outside: float = field(0.138, "0-1", "share of workers living outside the Comune di Milano who live alone",
                                            "Istat 2019, Famiglie e mercato del lavoro (2018): 3.2 M of Italy's ~23.2 M employed live alone (range 0.10-0.18)", ge=0, le=1)
    other_adult_home_share: float = field(0.30, "0-1", "share of workers living with others whose home has someone else in it on a workday anyway (so a remote day adds no household heating or electricity besides the workstation)",
                                          "assumption (range 0.2-0.45) on Istat 2019, Famiglie e mercato del lavoro (2018): 5.7 M households of two or more have a single employed member, ~28% of the ~20 M employed living with others; ~0.8 of them with a non-employed adult at home (homemaker, retired, unemployed), plus partners who work at home or part-time the same day", ge=0, le=1)
    heating_start: str = field("10-15", "MM-DD", "first day of the heating season", "DPR 412/1993 (74/2013): climate zone E, 15 October", pattern=r"^\d{2}-\d{2}$")
    heating_end: str = field("04-15", "MM-DD", "last day of the heating season", "DPR 412/1993: climate zone E, 15 April", pattern=r"^\d{2}-\d{2}$")
    extra_trip_km_per_remote_day: float = field(1.0, "car km/remote day", "extra non-work car travel on a remote day (errands, lunch)", "assumption (range 0-3): rebound trips (Caldarola & Sorrell 2022)", ge=0, le=50)
    # --- air quality (issue 19, item 6): commuter cars' NOx and PM2.5 exhaust per vehicle-km by link speed, on
    # the same COPERT-like shape as CO2 (k*(a + b/v + c*v^2), scaled to the urban factor at urban_reference_speed_kmh),
    # PM2.5 of tyre and brake wear by the EMEP/EEA speed corrections; motorbikes at flat factors
    nox_urban_g_per_km: float = field(0.35, "g NOx/vehicle-km", "commuter cars' NOx exhaust at the urban reference speed (fleet mix)",
                                      "assumption (range 0.2-0.6) on ISPRA's fleet-average factors for Italian passenger cars in urban driving (COPERT 5; banca dati dei fattori di emissione medi del trasporto stradale), ~0.3-0.45 g/km for the 2019-2022 fleets with ~45% diesel; the Lombard commuter fleet (ACI) is slightly newer; figure not re-checked here", gt=0, le=10)
    nox_speed_curve: list[float] = field(
        [0.3, 6.0, 0.00003], "g/km, g*h/km2, g*h2/km3", "shape a + b/v + c*v^2 of the cars' NOx per km by speed (scaled to nox_urban_g_per_km); lowest near 45 km/h",
        "assumption after COPERT 5 Euro 5/6 diesel and petrol curves (EMEP/EEA guidebook 2019, 1.A.3.b.i): NOx per km ~1.8x the minimum at 10 km/h, ~1.2x at 20 km/h, minimum at 40-60 km/h, ~1.6x at 120 km/h")
    pm25_exhaust_urban_g_per_km: float = field(0.012, "g PM2.5/vehicle-km", "commuter cars' PM2.5 exhaust at the urban reference speed (fleet mix)",
                                               "assumption (range 0.005-0.03) on ISPRA's fleet-average factors for Italian passenger cars in urban driving (COPERT 5): diesel with particulate filter (Euro 5/6) ~0.002, older diesel 0.03-0.06, petrol ~0.001-0.002 g/km; figure not re-checked here", gt=0, le=1)
    pm25_exhaust_speed_curve: list[float] = field(
        [0.5, 8.0, 0.00002], "g/km, g*h/km2, g*h2/km3", "shape a + b/v + c*v^2 of the cars' PM2.5 exhaust per km by speed (scaled to pm25_exhaust_urban_g_per_km)",
        "assumption after COPERT 5 diesel PM curves (EMEP/EEA guidebook 2019, 1.A.3.b.i): highest in stop-and-go, lowest at 50-70 km/h, rising slowly on the motorway")
    tyre_pm25_g_per_km: float = field(0.0045, "g PM2.5/vehicle-km", "cars' PM2.5 of tyre wear before the speed correction (x1.39 below 40 km/h, -0.00974*v + 1.78 at 40-90 km/h, x0.902 above 90)",
                                      "EMEP/EEA air pollutant emission inventory guidebook 2019 (2023 update), 1.A.3.b.vi-vii, Tier 2, passenger cars: tyre TSP 0.0107 g/km x PM2.5 mass fraction 0.42 (PM10: 0.6, i.e. 0.0064 g/km); speed correction of the same table; range 0.003-0.007", ge=0, le=1)
    brake_pm25_g_per_km: float = field(0.0029, "g PM2.5/vehicle-km", "cars' PM2.5 of brake wear before the speed correction (x1.67 below 40 km/h, -0.0270*v + 2.75 at 40-95 km/h, x0.185 above 95)",
                                       "EMEP/EEA air pollutant emission inventory guidebook 2019 (2023 update), 1.A.3.b.vi-vii, Tier 2, passenger cars: brake TSP 0.0075 g/km x PM2.5 mass fraction 0.39 (PM10: 0.98); speed correction of the same table; range 0.002-0.005", ge=0, le=1)
    moto_nox_g_per_km: float = field(0.15, "g NOx/km", "motorbikes' and scooters' NOx exhaust (flat)",
                                     "assumption (range 0.05-0.4) on COPERT 5 factors for 4-stroke motorcycles and mopeds, Euro 3-5 (EMEP/EEA guidebook 2019, 1.A.3.b.iv)", ge=0, le=10)
    moto_pm25_exhaust_g_per_km: float = field(0.01, "g PM2.5/km", "motorbikes' and scooters' PM2.5 exhaust (flat)",
                                              "assumption (range 0.002-0.05) on COPERT 5 factors (EMEP/EEA guidebook 2019, 1.A.3.b.iv): 4-stroke Euro 3+ ~0.002-0.01, 2-stroke mopeds up to ~0.05-0.1", ge=0, le=1)
    moto_pm25_wear_g_per_km: float = field(0.0034, "g PM2.5/km", "motorbikes' and scooters' PM2.5 of tyre and brake wear (flat)",
                                           "EMEP/EEA guidebook 2019 (2023 update), 1.A.3.b.vi-vii, Tier 2, two-wheelers: tyre TSP 0.0046 x 0.42 + brake TSP 0.0037 x 0.39 = 0.0034 g/km (no speed correction); range 0.002-0.005", ge=0, le=1)

    @field_validator("speed_curve", "nox_speed_curve", "pm25_exhaust_speed_curve")
    @classmethod
    def _curve(cls, value: list[float]) -> list[float]:
        if len(value) != 3:
            raise ValueError(f"expected exactly 3 values [a, b, c] of a + b/v + c*v^2, got {len(value)}")
        if any(not 0 <= v <= 1e6 for v in value):
            raise ValueError("values must be within [0, 1e6]")
        return value

    @field_validator("heating_start", "heating_end")
    @classmethod
    def _month_day(cls, value: str, info) -> str:
        parse_month_day(value, f"emissions.{info.field_name}")
        return value

    @model_validator(mode="after")
    def _check(self) -> "EmissionsConfig":
        a, b, c = self.speed_curve
        v = self.urban_reference_speed_kmh
        for name, urban in (("speed_curve", "car_urban_g_per_km"), ("nox_speed_curve", "nox_urban_g_per_km"),
                            ("pm25_exhaust_speed_curve", "pm25_exhaust_urban_g_per_km")):
            a, b, c = getattr(self, name)
            if a + b / v + c * v * v <= 0:
                raise ValueError(f"emissions.{name} is 0 at emissions.urban_reference_speed_kmh; it cannot be "
                                 f"scaled to {urban}")
        return self


def parse_month_day(text: str, key: str) -> tuple[int, int]:
    """(month, day) of an ``MM-DD`` string that is a real day of the year (02-29 allowed); ValueError naming ``key``."""
    try:
        month, day = (int(x) for x in text.split("-"))
        dt.date(2024, month, day)  # a leap year: 02-29 is a day of some years
    except (ValueError, AttributeError):
        raise ValueError(f"{key} must be a day of the year 'MM-DD' (e.g. 10-15), got {text!r}") from None
    return month, day


# --------------------------------------------------------------------------------------- wellbeing
class WellbeingConfig(Section):
    memory_days: float = field(10.0, "workdays", "time constant of the exponentially weighted stress", "assumption (range 5-30)", gt=0, le=365)
    # --- commute strain per hour of round trip, by mode (office days). The order follows the literature:
    # walking and cycling are the least stressful, car drivers in congestion and transit riders the most
    # (Legrain, Eluru & El-Geneidy 2015, Transp. Res. F 34; Clark et al. 2020, Transportation 47: active
    # commuters report the highest commute satisfaction); the levels are assumptions with ranges
    strain_car_per_hour: float = field(1.0, "stress points/h", "strain per hour of round-trip commuting by car (at free flow)", "assumption (range 0.5-1.5); the reference mode", ge=0, le=20)
    strain_transit_per_hour: float = field(0.9, "stress points/h", "strain per hour of round-trip commuting by public transport (uncrowded)", "assumption (range 0.5-1.5): similar to car (Legrain et al. 2015)", ge=0, le=20)
    strain_moto_per_hour: float = field(1.0, "stress points/h", "strain per hour of round-trip commuting by motorbike", "assumption (range 0.5-1.5): as car", ge=0, le=20)
    strain_bike_per_hour: float = field(0.3, "stress points/h", "strain per hour of round-trip commuting by bike", "assumption (range 0-0.6): active modes least stressful (Legrain et al. 2015; Clark et al. 2020)", ge=0, le=20)
    strain_walk_per_hour: float = field(0.2, "stress points/h", "strain per hour of round-trip commuting on foot", "assumption (range 0-0.5): as bike", ge=0, le=20)
    w_delay_per_hour: float = field(2.0, "stress points/h", "extra strain per hour of congestion delay (car in stop-and-go traffic)", "assumption (range 1-3): delay is the most stressful part of driving (Legrain et al. 2015)", ge=0, le=20)
    w_crowding: float = field(1.0, "stress points", "strain per unit of transit load above mode.crowding_threshold", "assumption (range 0.5-2)", ge=0, le=20)
    # --- work-family conflict on an office day by care group: a scale x the share of employed parents who
    # report reconciliation problems (Istat 2018: 46.7% of mothers of children 0-5, 35.9% of mothers and
    # 34.6% of fathers of children under 15, hence ~29% for 6-14)
    conflict_child_0_2: float = field(2.0, "stress points", "work-family conflict on an office day, youngest child aged 0-2", "assumption (range 1-3), scale of the Istat 2018 prevalence (46.7%)", ge=0, le=10)
    conflict_child_3_5: float = field(2.0, "stress points", "work-family conflict on an office day, youngest child aged 3-5", "as conflict_child_0_2 (Istat 2018 gives 0-5 together)", ge=0, le=10)
    conflict_child_6_14: float = field(1.25, "stress points", "work-family conflict on an office day, youngest child aged 6-14", "conflict_child_0_2 x 29/46.7 (Istat 2018 prevalence; range 0.8-1.8)", ge=0, le=10)
    conflict_dependant: float = field(1.25, "stress points", "extra work-family conflict on an office day for carers of an ill, disabled or elderly relative", "assumption (range 0.8-1.8): as children 6-14", ge=0, le=10)
    conflict_none: float = field(0.5, "stress points", "work-family conflict of workers without care duties", "assumption (range 0-1)", ge=0, le=10)
    conflict_per_commute_hour: float = field(0.25, "1/h", "relative increase of an office day's conflict per hour of round-trip commute", "assumption (range 0-0.5): long commutes squeeze care time", ge=0, le=5)
    remote_conflict_factor: float = field(0.4, "-", "conflict on a remote day relative to an office day without commute", "assumption (range 0.2-0.7)", ge=0, le=1)
    flexible_conflict_factor: float = field(0.85, "-", "conflict of workers covered by flexible hours relative to others", "assumption (range 0.7-1)", ge=0, le=1)
    isolation_free_days: int = field(3, "days/week", "remote days per week before isolation strain starts", "assumption: isolation grows in full remote (Bloom et al. 2024 study hybrid, not full remote)", ge=0, le=5)
    w_isolation_per_day: float = field(0.6, "stress points/day", "strain per remote day above isolation_free_days, on each remote day", "assumption (range 0.2-1)", ge=0, le=10)
    target_high_stress_share: float = field(0.22, "0-1", "share of workers who report work-related stress (calibrates the high-stress threshold on the baseline)", "EU-OSHA 2009, OSH in figures: stress at work, from the 4th EWCS (2005): 22% of working Europeans (range 0.20-0.30)", ge=0, le=1)
    # --- the quit hazard: h0[gender, parent of a child 0-2] x exp(quit_stress_coef x stress); caregiving
    # enters once, through the conflict inside stress; h0 is calibrated on the baseline to the targets
    quit_stress_coef: float = field(0.25, "1/stress point", "log-hazard increase of quitting per stress point", "assumption (range 0.1-0.4); not fitted to Bloom et al. 2024 (docs/validation.md checks the model against it)", ge=0, le=5)
    target_quits_mothers_u3_per_1000: float = field(
        89.0, "per 1,000 employed mothers of a child 0-2 a year", "resignations of employee mothers of children under 3 (calibrates their h0)",
        "INL, Relazione annuale convalide dimissioni 2022 (published 5 Dec 2023): 44,669 validated resignations of women "
        "(72.8% of 61,391) in pregnancy or the child's first 3 years, over ~0.50 M employee mothers of children 0-2 "
        "(~1.13 M mothers x 53% employed x ~83% employees, Istat; assumption); range 70-110; 2023-2024 within ~6%", ge=0, le=1000)
    target_quits_fathers_u3_per_1000: float = field(
        21.0, "per 1,000 employed fathers of a child 0-2 a year", "resignations of employee fathers of children under 3 (calibrates their h0)",
        "INL 2022: 16,722 validated resignations of men (27.2% of 61,391) over ~0.79 M employee fathers of children 0-2 "
        "(~1.13 M x 89% employed x ~78% employees; assumption); range 15-30", ge=0, le=1000)
    target_quits_women_per_1000: float = field(
        60.0, "per 1,000 employed women a year", "resignations of women who are not mothers of a child 0-2 (calibrates their h0)",
        "assumption (range 40-120): Ministero del Lavoro, comunicazioni obbligatorie 2022: ~2.2 M resignations over ~18 M "
        "employees (~120 per 1,000 contracts, an upper bound: one person may resign several short contracts)", ge=0, le=1000)
    target_quits_men_per_1000: float = field(
        60.0, "per 1,000 employed men a year", "resignations of men who are not fathers of a child 0-2 (calibrates their h0)",
        "as target_quits_women_per_1000 (no split by gender; assumption, range 40-120)", ge=0, le=1000)
    # --- why a quitter leaves (INL 2022 motivations of parents of children under 3)
    care_share_mothers_u3: float = field(0.63, "0-1", "share of mothers' (child 0-2) resignations for care (difficulty reconciling work and care)", "INL 2022: 63%", ge=0, le=1)
    job_to_job_share_mothers_u3: float = field(0.24, "0-1", "share of mothers' (child 0-2) resignations that are moves to another employer", "INL 2022: 24%", ge=0, le=1)
    care_share_fathers_u3: float = field(0.071, "0-1", "share of fathers' (child 0-2) resignations for care", "INL 2022: 7.1%", ge=0, le=1)
    job_to_job_share_fathers_u3: float = field(0.789, "0-1", "share of fathers' (child 0-2) resignations that are moves to another employer", "INL 2022: 78.9%", ge=0, le=1)
    care_share_women: float = field(0.15, "0-1", "share of other women's resignations for care", "assumption (range 0.05-0.3): below mothers of young children (INL 63%)", ge=0, le=1)
    care_share_men: float = field(0.03, "0-1", "share of other men's resignations for care", "assumption (range 0-0.07): below fathers of young children (INL 7.1%)", ge=0, le=1)
    job_to_job_share_others: float = field(0.6, "0-1", "share of other workers' resignations that are moves to another employer", "assumption (range 0.4-0.8): between mothers (24%) and fathers (79%) of INL 2022", ge=0, le=1)
    # --- the stock of jobs: a quitter's position is vacant, then filled by a new hire from the margins
    vacancy_workdays: int = field(40, "workdays", "time a vacated position stays empty before a new hire starts", "assumption (range 20-90): two months of search and notice", ge=1, le=500)

    @model_validator(mode="after")
    def _check(self) -> "WellbeingConfig":
        for who in ("mothers_u3", "fathers_u3"):
            care, j2j = getattr(self, f"care_share_{who}"), getattr(self, f"job_to_job_share_{who}")
            if care + j2j > 1 + 1e-9:
                raise ValueError(f"wellbeing.care_share_{who} + job_to_job_share_{who} = {care + j2j:g}: expected at most 1")
        for g in ("women", "men"):
            if getattr(self, f"care_share_{g}") + self.job_to_job_share_others > 1 + 1e-9:
                raise ValueError(f"wellbeing.care_share_{g} + job_to_job_share_others exceeds 1")
        return self


# --------------------------------------------------------------------------------------- calendar
def check_date(value: str | None, key: str) -> str | None:
    """A real date 'YYYY-MM-DD' (or None); ValueError naming ``key``."""
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{key} must be a real date 'YYYY-MM-DD', got {value!r} ({exc})") from None
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{key} must be a real date 'YYYY-MM-DD', got {value!r}")
    return value


class CalendarConfig(Section):
    patron_saint: str | None = field(
        "12-07", "MM-DD", "the Comune's patron saint's day, a holiday for its employers (null for none)",
        "Milan: Sant'Ambrogio, 7 December (holiday for Milan's employers under the national collective agreements)")
    august_leave_share: float = field(
        0.35, "0-1", "share of workers on leave on workdays of the August slowdown (their commutes and the roads' commuter flows scale by the share present)",
        "assumption (range 0.2-0.6): the Osservatorio di Milano (M. Todisco, press statements 2004-2013) describes the city "
        "'almost empty in the two weeks around Ferragosto' and ~45% of shops open in the northern cities after it; "
        "Cescat/Assoedilizia: about half of the Milanese stay in town at Ferragosto", ge=0, le=1)
    august_leave_from: str = field("08-04", "MM-DD", "first day of the August slowdown", "assumption: the two-three weeks around Ferragosto (15 August)")
    august_leave_to: str = field("08-22", "MM-DD", "last day of the August slowdown", "assumption: the controesodo of the penultimate August weekend (Osservatorio di Milano)")

    @field_validator("patron_saint", "august_leave_from", "august_leave_to")
    @classmethod
    def _month_day(cls, value: str | None, info) -> str | None:
        if value is not None:
            parse_month_day(value, f"calendar.{info.field_name}")
        return value


class LeverTiming(Section):
    """When a lever acts: from ``start`` (none: from the run's start), reaching full effect ``ramp_months``
    later, until ``end`` (excluded; none: to the run's end). See :func:`sim.world.calendar.intensity`."""

    start: str | None = field(None, "YYYY-MM-DD", "date the lever starts (null: in force from the run's start)", "lever")
    end: str | None = field(None, "YYYY-MM-DD", "date the lever stops (excluded; null: never)", "lever")
    ramp_months: float = field(0.0, "months", "months from start to full effect (linear; 0 = full effect at once)", "lever; assumption for a programme rolled out firm by firm (range 0-24)", ge=0, le=120)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date(cls, value, info):
        if isinstance(value, dt.date):  # YAML reads a bare 2026-01-01 as a date
            value = value.isoformat()
        return check_date(value, f"{info.field_name}")

    @model_validator(mode="after")
    def _order(self) -> "LeverTiming":
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


# --------------------------------------------------------------------------------------- policy
class SMESupportPolicy(LeverTiming):
    enabled: bool = field(False, "-", "help micro, small and medium firms adopt smart working", "Comune di Milano work-life balance programme")
    innovation_multiplier: float = field(3.0, "x", "multiplier of the Bass innovation coefficient for supported classes (training, consultancy)", "assumption (range 1.5-5)", ge=1, le=50)
    return_hazard_factor: float = field(0.6, "x", "multiplier of the return-to-office hazard for supported classes (subsidised equipment)", "assumption (range 0.3-1)", ge=0, le=1)
    classes: list[Literal["micro", "small", "medium"]] = field(["micro", "small", "medium"], "-", "size classes that receive support", "Milan programme targets micro, small and medium firms")
    firms_per_year: int | None = field(
        None, "firms/year", "cap on the firms the programme takes on each year of the run (full-population firms of the supported classes not yet offering smart working, in random order; they keep the support); null = every firm of the supported classes",
        "lever: the programme's budget over appraisal.sme_eur_per_firm_year", ge=0, le=10_000_000)


class RemoteDaysPolicy(LeverTiming):
    cap: int = field(5, "days/week", "maximum remote days a week for anyone (5 = no cap)", "lever", ge=0, le=5)
    floor: int = field(0, "days/week", "minimum remote days a week for workers allowed smart working", "lever", ge=0, le=5)

    @model_validator(mode="after")
    def _check(self) -> "RemoteDaysPolicy":
        if self.floor > self.cap:
            raise ValueError(f"policy.remote_days.floor ({self.floor}) must not exceed policy.remote_days.cap ({self.cap})")
        return self


class StaggeredHoursPolicy(LeverTiming):
    enabled: bool = field(False, "-", "move the start of work of a share of employers", "Milan 'Politiche dei tempi'")
    shift_minutes: int = field(60, "min", "shift of the start time (positive = later)", "assumption (range -60 to 90)", ge=-180, le=180)
    share_of_firms: float = field(0.3, "0-1", "share of private firms that shift", "assumption", ge=0, le=1)
    public_administration: bool = field(True, "-", "the public administration shifts too", "lever")


class FlexibleHoursPolicy(LeverTiming):
    enabled: bool = field(False, "-", "let workers arrive anywhere in a window without penalty", "lever")
    window_minutes: int = field(45, "min", "half-width of the arrival window without schedule penalty", "assumption (range 15-90)", ge=0, le=240)
    share_of_workers: float = field(0.5, "0-1", "share of workers covered", "assumption", ge=0, le=1)


class WelfareCoverage(Section):
    """Share of workers whose employer offers the childcare scheme, by employer size class."""

    micro: float = field(0.05, "0-1", "share of workers of micro firms (<10) covered", "assumption (range 0.02-0.1): welfare schemes grow with firm size (Welfare Index PMI reports)", ge=0, le=1)
    small: float = field(0.15, "0-1", "share of workers of small firms (10-49) covered", "assumption (range 0.08-0.25)", ge=0, le=1)
    medium: float = field(0.3, "0-1", "share of workers of medium firms (50-249) covered", "assumption (range 0.15-0.45)", ge=0, le=1)
    large: float = field(0.55, "0-1", "share of workers of large firms (250+) covered", "assumption (range 0.3-0.8): large firms offer welfare far more than micro firms", ge=0, le=1)
    public: float = field(0.3, "0-1", "share of public employees covered", "assumption (range 0.15-0.45)", ge=0, le=1)


class CorporateWelfarePolicy(LeverTiming):
    enabled: bool = field(False, "-", "corporate welfare childcare (nursery places, vouchers, back-up care) for parents of children aged 0-5", "Milan work-life balance programme")
    coverage: WelfareCoverage = Field(default_factory=WelfareCoverage)
    conflict_reduction: float = field(0.35, "0-1", "relative cut of work-family conflict of covered parents of children 0-5", "assumption (range 0.2-0.5)", ge=0, le=1)


class WelfareTransitPassPolicy(LeverTiming):
    enabled: bool = field(False, "-", "employers pay their workers' public-transport season ticket (ATM urban or STIBM/Trenord integrated pass): a covered worker's transit fare in mode choice is 0", "lever: welfare aziendale; tax-exempt for the worker under art. 51 c. 2 lett. d-bis TUIR (added by L. 205/2017, art. 1 c. 28, from 2018)")
    share_of_employers: float = field(
        0.25, "0-1", "share of employers (firms and public bodies, each by its own uniform draw) that pay the season ticket of all their workers, on top of today's",
        "assumption (range 0.05-0.5): about 8% of 869 Milan firms offered any commuting benefit (shuttle or ATM Pass Mobility) in a Sodexo Benefits & Rewards survey reported by Adnkronos (c. 2012); "
        "27% of 200 Italian firms already active on mobility had put alternative mobility in their welfare plan (Arval Mobility Observatory 2025)", ge=0, le=1)


class PolicyConfig(Section):
    smart_working: Literal["modelled", "off", "all_remote"] = field(
        "modelled", "-", "'modelled': adoption and plans as modelled; 'off': nobody works remotely; 'all_remote': everyone every day", "limit cases")
    sme_support: SMESupportPolicy = Field(default_factory=SMESupportPolicy)
    remote_days: RemoteDaysPolicy = Field(default_factory=RemoteDaysPolicy)
    staggered_hours: StaggeredHoursPolicy = Field(default_factory=StaggeredHoursPolicy)
    flexible_hours: FlexibleHoursPolicy = Field(default_factory=FlexibleHoursPolicy)
    corporate_welfare: CorporateWelfarePolicy = Field(default_factory=CorporateWelfarePolicy)
    welfare_transit_pass: WelfareTransitPassPolicy = Field(default_factory=WelfareTransitPassPolicy)
    area_c_charge_eur: float = field(7.5, "EUR/day", "Area C congestion charge for cars entering the core", "Comune di Milano: 7.50 EUR since October 2023", ge=0, le=100)
    transit_fare_eur: float = field(2.2, "EUR/trip", "urban transit fare (single ticket)", "ATM Milano: 2.20 EUR since January 2024", ge=0, le=50)
    transit_capacity_factor: float = field(1.0, "x", "multiplier of transit capacity", "lever", gt=0, le=10)

    @field_validator("smart_working", mode="before")
    @classmethod
    def _yaml_off(cls, value):
        # YAML 1.1 reads a bare `off` as False: accept it as the word the user wrote
        return "off" if value is False else value


# --------------------------------------------------------------------------------------- appraisal
def _eib_co2_prices() -> dict[int, float]:
    # EIB Group Climate Bank Roadmap 2021-2025 (Nov. 2020), shadow cost of carbon, EUR(2016)/t CO2e
    return {2020: 80.0, 2025: 165.0, 2030: 250.0, 2035: 390.0, 2040: 525.0, 2045: 660.0, 2050: 800.0}


class AppraisalConfig(Section):
    """Unit values of the costs and benefits of a run against its baseline (``run.py compare``)."""

    value_of_time_eur_per_h: float = field(
        10.0, "EUR/person-hour", "value of an hour of commuting time saved",
        "assumption from HEATCO (2006) Deliverable 5 values for Italy, commuting by car (~8 EUR/h in 2002 prices), "
        "uprated to 2025; figure from memory, not re-checked here (range 7-15); the Ministry of Infrastructure's 2017 "
        "guidelines for the appraisal of public works (DM 300/2017) would be the national reference", ge=0, le=200)
    delay_time_multiplier: float = field(
        1.5, "x", "weight of an hour of congestion delay relative to an hour of free-flow travel",
        "Wardman & Ibáñez 2012 meta-analysis of congested-time multipliers (~1.5; range 1.2-2)", ge=1, le=5)
    co2_eur_per_t: dict[int, float] = Field(
        default_factory=_eib_co2_prices, description="shadow price of CO2 by calendar year (linear between the years given, flat outside)",
        json_schema_extra={"unit": "EUR/t CO2", "source": "EIB Group Climate Bank Roadmap 2021-2025 (2020): 250 EUR/t in "
                           "2030 and 800 in 2050 (confirmed, E3G's summary); the intermediate values as recalled from its table"})
    discount_rate: float = field(
        0.03, "1/year", "social discount rate (real) applied to each year after the first",
        "European Commission, Guide to Cost-Benefit Analysis of Investment Projects (2014) and Economic Appraisal "
        "Vademecum 2021-2027: 3% for non-cohesion Member States such as Italy", ge=0, le=0.2)
    woman_annual_earnings_eur: float = field(
        25000.0, "EUR/year", "gross annual earnings of an employed woman (lost while out of work)",
        "assumption (range 18,000-32,000): Istat/INPS, mean gross earnings of women employees in Lombardy, part-time included", ge=0, le=500_000)
    months_out_of_work: float = field(
        6.0, "months", "time out of work of a woman who quits (her lost earnings)",
        "assumption (range 3-18): many resigning mothers re-enter work later (INL 2021 report on validated resignations)", ge=0, le=120)
    replacement_cost_share: float = field(
        0.21, "x annual earnings", "cost to the firm of replacing a worker who quits (search, hiring, training)",
        "Boushey & Glynn 2012 (Center for American Progress): median 21% of annual salary", ge=0, le=5)
    sme_eur_per_firm_year: float = field(
        3000.0, "EUR/firm/year", "programme cost per additional SME offering smart working (training, consultancy, equipment)",
        "assumption (range 1,000-10,000): regional calls for SME smart-working projects fund a few thousand euros per firm", ge=0, le=1_000_000)
    welfare_eur_per_covered_worker_year: float = field(
        500.0, "EUR/worker/year", "cost of corporate welfare (childcare support, flexible leave) per covered worker",
        "assumption (range 200-1,000): Italian tax-free welfare and fringe-benefit ceilings of 1,000-2,000 EUR a year (2024-2025 budget laws)", ge=0, le=100_000)

    transit_pass_urban_eur_per_year: float = field(
        330.0, "EUR/worker/year", "price of the ATM ordinary annual urban pass (Comune di Milano), what an employer pays per covered worker living and working in the Comune",
        "ATM Milano: 330 EUR, unchanged when the single ticket went to 2.20 EUR on 9 January 2023 (Comune di Milano, reported by ANSA 14 Dec 2022 and MilanoToday)", ge=0, le=10_000)
    transit_pass_regional_eur_per_year: float = field(
        700.0, "EUR/worker/year", "price of an annual STIBM integrated (Trenord + ATM) pass for a covered commuter crossing the Comune's boundary",
        "assumption (range 450-1,200): STIBM fares rise with the zones crossed (0.40 EUR per zone on a single ticket); the annual tariff table was not verified here", ge=0, le=10_000)
    co2_price_scale: float = field(
        1.0, "x", "multiplier of the whole CO2 shadow-price path (co2_eur_per_t), for sensitivity analysis",
        "modelling choice: 1 is the EIB path; range 0.5-2 for the uncertainty of the social cost of carbon", ge=0, le=10)
    nox_eur_per_t: float = field(
        25000.0, "EUR/t NOx", "damage cost of a tonne of NOx emitted by road transport in a city (health, crops, materials)",
        "assumption (range 10,000-40,000) after the European Commission's Handbook on the external costs of transport (2019, version 2019-1.1), air-pollution damage costs per tonne for transport in urban areas; the exact figure for urban Italy was not verified here", ge=0, le=1_000_000)
    pm25_eur_per_t: float = field(
        250000.0, "EUR/t PM2.5", "damage cost of a tonne of PM2.5 emitted by road transport in a city (mostly health)",
        "assumption (range 100,000-400,000) after the European Commission's Handbook on the external costs of transport (2019, version 2019-1.1), air-pollution damage costs per tonne for transport in urban and metropolitan areas; the exact figure for urban Italy was not verified here", ge=0, le=10_000_000)

    @field_validator("co2_eur_per_t")
    @classmethod
    def _prices(cls, value: dict[int, float]) -> dict[int, float]:
        if not value:
            raise ValueError("needs at least one year")
        for year, price in value.items():
            if not 1990 <= year <= 2100 or not 0 <= price <= 100_000:
                raise ValueError(f"expected years 1990-2100 with prices 0-100,000 EUR/t, got {year}: {price}")
        return dict(sorted(value.items()))


class ElasticityTargets(Section):
    """Literature ranges of the baseline's short-run elasticities, which ``run.py elasticities`` measures by paired runs (sim/elasticities.py)."""

    car_km_car_time: list[float] = field(
        [-0.5, -0.3], "-", "range [low, high] of the one-year elasticity of commuter car-km with respect to door-to-door car travel time (the mode coefficients are fitted to its middle)",
        "Goodwin 1996 (Transportation 23:35-54): elasticity of traffic volume with respect to travel time about -0.5 in the short term, up to -1.0 in the long term; "
        "Barr 2000 (TRR 1706): travel-time elasticities of vehicle-miles -0.3 to -0.5")
    transit_trips_fare: list[float] = field(
        [-0.6, -0.1], "-", "range [low, high] of the one-year elasticity of commuter transit trips with respect to the fare (held out: not fitted, a validation)",
        "Bly 1976 (TRRL LR 733): bus fare elasticity mean -0.3 in a range -0.1 to -0.6, peak about half of off-peak; "
        "Schimek, Dynamic estimates of fare elasticity for U.S. public transit (198 agencies, 1991-2012): short run -0.34, long run -0.66")
    car_time_step: float = field(0.05, "share", "rise of every worker's door-to-door car time in the perturbed run", "numerical setting: small enough for a local elasticity, large enough to rise above sampling noise at scale 0.05", gt=0, le=0.5)
    fare_step: float = field(0.10, "share", "rise of the transit fares (urban single fare and regional fare per km) in the perturbed run", "numerical setting (as car_time_step)", gt=0, le=1)

    @field_validator("car_km_car_time", "transit_trips_fare")
    @classmethod
    def _range(cls, value: list[float], info) -> list[float]:
        if len(value) != 2 or not value[0] < value[1]:
            raise ValueError(f"expected [low, high] with low < high, got {value}")
        return value


class CalibrationConfig(Section):
    """Numerical settings of the baseline calibration (sim/calibration.py); not behaviour, but they decide how close it gets."""

    rounds: int = field(15, "rounds", "largest number of rounds alternating constants, expected assignment and routes", "numerical setting: the baseline converges in 5-8 rounds", ge=1, le=100)
    reroute_rounds: int = field(4, "rounds", "first rounds in which the fixed routes are recomputed at the averaged peak link times (method of successive averages)", "numerical setting", ge=0, le=50)
    split_tolerance: float = field(0.0005, "share", "largest gap between a segment's expected mode share and its target that ends the constants' iterations", "numerical setting (0.05 points)", gt=0, le=0.05)
    converged_split: float = field(0.002, "share", "largest split gap at which the rounds may stop", "numerical setting (0.2 points)", gt=0, le=0.05)
    converged_minutes: float = field(0.1, "min", "largest change of any expected car time between rounds at which the rounds may stop", "numerical setting", gt=0, le=10)
    time_damping: float = field(0.5, "0-1", "share of the way expected car times move toward the assigned times each round", "numerical setting (damping of the fixed point)", gt=0, le=1)
    sample_workers: int = field(200_000, "workers", "workers used for the expected shares and flows (every k-th worker)", "numerical setting: enough for 0.1-point precision of the shares", ge=1000, le=5_000_000)
    warm_up_weeks: int = field(12, "weeks", "simulated weeks of the baseline that re-aim the background and refine the constants; their end state starts the year", "numerical setting: with 8 weeks a 10% sample started 1.3 points below the peak-congestion target (benchmarks/sampling.py)", ge=1, le=104)
    elasticities: ElasticityTargets = Field(default_factory=ElasticityTargets)


# --------------------------------------------------------------------------------------- report
class ReportConfig(Section):
    lang: Literal["it", "en"] = field("en", "-", "language of the run's report, plots' captions and the CLI's lines: 'it' Italian, 'en' English (run.py --lang overrides it)", "modelling choice: the Comune's planners read Italian first (issue 17)")


# --------------------------------------------------------------------------------------- scenario
class Scenario(Section):
    name: str = field("scenario", "-", "scenario name, used in the results folder name (at most 100 characters: file names are short)", "-", pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)
    extends: str | None = field(None, "path", "parent scenario file, relative to this file", "-")
    description: str = field("", "-", "one paragraph on what the scenario is", "-")
    seed: int = field(42, "-", "random seed", "-", ge=0, le=2**32 - 1)
    start: str = field("2025-01-06", "YYYY-MM-DD", "first calendar day of the run (the run's first workday is the first workday on or after it)", "modelling choice")
    years: int | None = field(None, "years", "whole years simulated from start (workdays from the Italian calendar); null: one year unless days is set", "modelling choice: a programme runs over years", ge=1, le=10)
    days: int | None = field(None, "workdays", "simulated workdays from start, for runs shorter than a year (null: years' workdays); filled in from years when null", "Italian working year ~250 days", ge=1, le=2600)
    scale: float = field(1.0, "0-1", "sampling rate of the population; totals stay full-population equivalents", "-", gt=0, le=1)
    city: CityConfig = Field(default_factory=CityConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    adoption: AdoptionConfig = Field(default_factory=AdoptionConfig)
    remote_days: RemoteDaysConfig = Field(default_factory=RemoteDaysConfig)
    mode: ModeConfig = Field(default_factory=ModeConfig)
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)
    emissions: EmissionsConfig = Field(default_factory=EmissionsConfig)
    wellbeing: WellbeingConfig = Field(default_factory=WellbeingConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    appraisal: AppraisalConfig = Field(default_factory=AppraisalConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value):
        if isinstance(value, dt.date):  # YAML reads a bare 2025-01-06 as a date
            value = value.isoformat()
        return check_date(value, "start")

    @model_validator(mode="after")
    def _horizon(self) -> "Scenario":
        """``days`` from ``years`` (one year when both are null); both given must agree (see :func:`horizon_days`)."""
        days = horizon_days(start=self.start, years=self.years, days=self.days,
                            patron_saint=self.calendar.patron_saint)
        if days != self.days:
            object.__setattr__(self, "days", days)  # filled in once, without re-validating the whole scenario
        return self

    @model_validator(mode="after")
    def _check(self) -> "Scenario":
        tele = self.population.teleworkable_share_by_class()
        for cls, target in self.adoption.target_allowed_share.items():
            if target > tele[cls] + 1e-9:
                raise ValueError(
                    f"adoption.target_allowed_share.{cls} = {target} exceeds the teleworkable share of that class "
                    f"({tele[cls]:.3f}, from population.sector_mix and sectors)")
        if len(self.traffic.background_profile) != self.mode.n_slots:
            raise ValueError(
                f"traffic.background_profile has {len(self.traffic.background_profile)} values; "
                f"expected one per departure slot (mode.n_slots = {self.mode.n_slots})")
        if self.city.source == "csv" and not self.city.csv_dir:
            raise ValueError("city.csv_dir is required when city.source is 'csv'")
        return self


def horizon_days(*, start: str, years: int | None, days: int | None, patron_saint: str | None) -> int:
    """Workdays of the run: ``days`` if given alone; the workdays of ``years`` whole years from ``start``
    (one year when neither is given); both given must name the same number of workdays."""
    from_years = workdays_in_years(dt.date.fromisoformat(start), years or 1,
                                   parse_month_day(patron_saint, "calendar.patron_saint") if patron_saint else None)
    if days is None:
        return from_years
    if years is not None and days != from_years:
        raise ValueError(
            f"days ({days}) and years ({years}) conflict: {years} year{'s' if years > 1 else ''} from {start} "
            f"hold {from_years} workdays; give one of them (days: null in the file, or --years on the command line)")
    return days
