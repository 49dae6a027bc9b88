"""A small grid city labelled like real Milan, for the tests of outputs by zone.

The synthetic grid's core and municipality cells become NIL of the Comune di Milano (``NIL_01``...,
Municipio 1 for the core, 2-9 by compass sector around it), the hinterland cells comuni of two
provinces (four cells per comune, by quadrant and ring), one cell a MultiPolygon (two halves apart),
and one cell has no residents (a zone without workers, drawn as "no data").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from shapely.geometry import MultiPolygon, box

from sim.prepare import build_model, prepare
from sim.runner import write_run
from sim.scenario.load import load_scenario
from sim.world.build import build_city
from sim.world.city import CORE, GATEWAY, MUNICIPALITY

EMPTY_CELL = "cell_0_0"  # the top-left corner: hinterland, no residents


def milan_like_city(cfg):
    """The city of ``cfg`` (a grid) relabelled; returns it and the index of the zone without residents."""
    city = build_city(cfg)
    n = city.n_zones
    nil = np.flatnonzero(city.kind <= MUNICIPALITY)
    ang = np.degrees(np.arctan2(city.y_km, city.x_km)) % 360
    mun = np.zeros(n, np.int8)
    mun[nil] = np.where(city.kind[nil] == CORE, 1, 2 + (ang[nil] // 45).astype(int))
    code, name, comune, prov = list(city.zone_code), list(city.names), [""] * n, [""] * n
    for k, z in enumerate(nil):
        code[z], name[z], comune[z], prov[z] = f"NIL_{k + 1:02d}", f"Quartiere {k + 1}", "Milano", "MI"
    hinter = np.flatnonzero((city.kind > MUNICIPALITY) & (city.kind != GATEWAY))
    for z in hinter:
        q = int(ang[z] // 90)
        ring = int(np.hypot(city.x_km[z], city.y_km[z]) // 8)
        comune[z] = f"Comune {q}{ring}"
        prov[z] = "MI" if q < 2 else "MB"
        code[z] = f"0{15 if q < 2 else 108}{100 + 10 * q + ring:03d}"
        name[z] = f"{comune[z]} ({city.names[z]})"
    city.zone_code, city.names, city.comune, city.province, city.municipio = code, name, comune, prov, mun
    empty = list(build_city(cfg).names).index(EMPTY_CELL)
    city.residents = city.residents.copy()
    city.residents[empty] = 0.0
    g = list(city.geometry)
    x0, y0, x1, y1 = g[nil[0]].bounds
    mid = (x0 + x1) / 2
    g[nil[0]] = MultiPolygon([box(x0, y0, mid - 0.3, y1), box(mid + 0.3, y0, x1, y1)])
    city.geometry = g
    return city, empty


ROOT = Path(__file__).resolve().parents[1]
# the small grid city's scenario (the baseline was the grid before the real Milan city)
GRID = next(p for p in (ROOT / "scenarios" / "examples" / "grid_city.yaml", ROOT / "scenarios" / "milan_baseline.yaml")
            if p.is_file())
TINY = ["city.grid_size=7", "population.workers_internal=3000", "population.workers_inbound=600"]


def milan_like_run(folder: Path, days: int = 5, scale: float = 0.5, overrides: tuple[str, ...] = ()):
    """Run the Milan-like grid and write its results folder; returns (model, folder, empty zone index)."""
    sc = load_scenario(GRID, [*TINY, *overrides], days=days, scale=scale)
    city, empty = milan_like_city(sc.city)
    model = build_model(sc, prepare(sc, city=city))
    model.run()
    summary = model.metrics.summary()
    summary["calibration"] = model.calibration.report
    out = write_run(folder, sc, model, summary, dt.datetime.now(dt.timezone.utc), 1.0, ["test"])
    return model, out, empty
