"""Build sim/data/milan/ (zones table + simplified polygons) from the verified Milan open-data pack.

Run once by a developer, never at model run time:

    .venv/bin/python tools/build_milan_data.py /path/to/shared/data/milan

It reads the pack's NIL and comune polygons, the 2011 census tables and the built-up points, and
writes two derived files (and copies the small tables the model reads unchanged):

* ``zones.csv``: one row per model zone (88 NIL, 132 other comuni of the Città metropolitana, the
  commuter-belt comuni within ``BELT_SINGLE_KM`` of the Duomo, and the rest of each belt province
  grouped by distance band), with codes, names, Municipio, province, area, centroid, 2011 residents
  and (for NIL) 2011 employed residents, and the member comuni of grouped zones.
* ``zones.geojson``: the zone polygons, simplified (shapely ``simplify``, tolerances below) and
  rounded to 5 decimals (~1 m), WGS84 lon/lat.

See sim/data/milan/PROVENANCE.md for what each column means and where it comes from.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

OUT = Path(__file__).resolve().parents[1] / "sim" / "data" / "milan"
DUOMO_LON, DUOMO_LAT = 9.18951, 45.46427          # Piazza del Duomo
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * np.cos(np.radians(DUOMO_LAT))
BELT_PROVINCES = {"108": "MB", "012": "VA", "013": "CO", "097": "LC", "016": "BG", "098": "LO", "018": "PV", "003": "NO"}
BELT_SINGLE_KM = 30.0          # belt comuni whose built-up point is this close to the Duomo are zones of their own
BELT_BANDS_KM = (30.0, 45.0, 60.0)  # the others are grouped per province: 30-45, 45-60, >60 km
SIMPLIFY_DEG = {"nil": 0.0002, "comune": 0.0006, "group": 0.002}  # ~20 m, ~50 m, ~160 m
COPIED = ["comm_matrix_cities_km_milano.csv", "metro_stations_gtfs2019.csv", "metro_branches_gtfs2019_derived.csv",
          "nil_commute_mode_2011.csv", "LICENSE_openpolis_geojson-italy_CC-BY-4.0.txt"]

# NIL (pre-PGT 2030 ids) -> Municipio 1-9. Typed by us from the Comune di Milano's division into
# 9 Municipi (2016); not in the pack: an assumption to verify (see PROVENANCE.md). Each Municipio's
# NIL are checked to be contiguous by tests/test_milan_city.py.
MUNICIPIO_NIL = {
    1: [1, 2, 3, 4, 5, 6, 7, 8],
    2: [10, 13, 16, 17, 19, 20],
    3: [18, 21, 22, 23, 24],
    4: [25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36],
    5: [34, 37, 38, 39, 40, 41, 42, 43, 85],
    6: [44, 45, 46, 47, 48, 49, 50, 53, 86],
    7: [51, 52, 54, 55, 56, 57, 58, 60, 61, 62, 63, 87, 88],
    8: [59, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76],
    9: [9, 11, 12, 14, 15, 77, 78, 79, 80, 81, 82, 83, 84],
}
# Area C (Cerchia dei Bastioni): the NIL of the historic centre, ids 1-8 (see PROVENANCE.md)
AREA_C_NIL = [1, 2, 3, 4, 5, 6, 7, 8]


def km_from_duomo(lon: float, lat: float) -> float:
    return float(np.hypot((lon - DUOMO_LON) * KM_PER_DEG_LON, (lat - DUOMO_LAT) * KM_PER_DEG_LAT))


def geodesic_area_km2(geom) -> float:
    """Area in km2 in the local equirectangular frame (within 0.1% near Milan)."""
    from shapely.affinity import affine_transform
    return affine_transform(geom, [KM_PER_DEG_LON, 0, 0, KM_PER_DEG_LAT, 0, 0]).area


def rounded(geom, tol: float):
    from shapely import set_precision
    g = geom.simplify(tol, preserve_topology=True)
    return set_precision(g, 1e-5)


def main(pack: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pop = {r["codice"]: r for r in csv.DictReader(open(pack / "comuni_population_2011.csv", encoding="utf-8"))}
    pts = {r["PRO_COM_T"]: (float(r["x"]), float(r["y"])) for r in csv.DictReader(open(pack / "comuni_centroids_urban_fabric.csv", encoding="utf-8"))}
    nil = {int(r["ID_NIL"]): r for r in csv.DictReader(open(pack / "nil_2011.csv", encoding="utf-8"))}
    muni_of = {n: m for m, ids in MUNICIPIO_NIL.items() for n in ids}
    assert sorted(muni_of) == list(range(1, 89)), "every NIL needs exactly one Municipio"
    rows, feats = [], []

    def add(row: dict, geom, tol: float, lonlat=None) -> None:
        c = geom.representative_point() if lonlat is None else None
        lon, lat = lonlat if lonlat is not None else (c.x, c.y)
        row.update(area_km2=round(geodesic_area_km2(geom), 4), lon=round(lon, 6), lat=round(lat, 6),
                   km_from_duomo=round(km_from_duomo(lon, lat), 3))
        rows.append(row)
        feats.append({"type": "Feature", "properties": {"zone_code": row["zone_code"]},
                      "geometry": mapping(rounded(geom, tol))})

    # --- the 88 NIL of the Comune di Milano (centroid: the polygon's centroid, or a point inside it)
    gj = json.load(open(pack / "NILZone.EPSG4326.geojson", encoding="utf-8"))
    for f in sorted(gj["features"], key=lambda f: f["properties"]["ID_NIL"]):
        i = int(f["properties"]["ID_NIL"])
        g = shape(f["geometry"])
        c = g.centroid if g.contains(g.centroid) else g.representative_point()
        r = nil[i]
        add({"zone_code": f"NIL_{i:02d}", "name": r["NIL_name"].title().replace("'S", "'s"), "kind": "core" if i in AREA_C_NIL else "municipality",
             "municipio": muni_of[i], "comune": "Milano", "comune_code": "015146", "province": "MI",
             "residents_2011": int(r["residents_2011"]), "employed_2011": int(r["employed_residents_2011"]), "members": ""},
            g, SIMPLIFY_DEG["nil"], (c.x, c.y))

    # --- comuni of the Città metropolitana (except Milano) and of the belt provinces
    groups: dict[tuple[str, int], list] = {}
    for prov, kind in [("15", "hinterland")] + [(p.lstrip("0"), "gateway") for p in BELT_PROVINCES]:
        gj = json.load(open(pack / f"limits_P_{prov}_municipalities.geojson", encoding="utf-8"))
        for f in sorted(gj["features"], key=lambda f: f["properties"]["com_istat_code"]):
            p = f["properties"]
            code = p["com_istat_code"]
            if code == "015146":
                continue
            g = shape(f["geometry"])
            lonlat = pts.get(code)
            if lonlat is None:  # no built-up patch in CORINE (PROVENANCE §5): a point inside the polygon
                c = g.representative_point()
                lonlat = (c.x, c.y)
            d = km_from_duomo(*lonlat)
            res = int(pop[code]["popolazione"])
            row = {"zone_code": code, "name": p["name"], "kind": kind, "municipio": 0, "comune": p["name"],
                   "comune_code": code, "province": p["prov_acr"], "residents_2011": res, "employed_2011": "", "members": ""}
            if kind == "hinterland" or d <= BELT_SINGLE_KM:
                add(row, g, SIMPLIFY_DEG["comune"], lonlat)
            else:
                band = int(np.searchsorted(BELT_BANDS_KM, d, side="right")) - 1
                groups.setdefault((p["prov_acr"], band), []).append((code, p["name"], g, lonlat, res))
    for (acr, band), members in sorted(groups.items()):
        lo = BELT_BANDS_KM[band]
        hi = BELT_BANDS_KM[band + 1] if band + 1 < len(BELT_BANDS_KM) else None
        label = f"{lo:.0f}-{hi:.0f} km" if hi else f"over {lo:.0f} km"
        w = np.array([m[4] for m in members], float)
        lon = float(np.average([m[3][0] for m in members], weights=w))  # population-weighted built-up point
        lat = float(np.average([m[3][1] for m in members], weights=w))
        add({"zone_code": f"{acr}_{int(lo)}{'_' + str(int(hi)) if hi else '_plus'}", "name": f"rest of {acr} ({label})",
             "kind": "gateway", "municipio": 0, "comune": f"{len(members)} comuni", "comune_code": "",
             "province": acr, "residents_2011": int(w.sum()), "employed_2011": "",
             "members": " ".join(m[0] for m in members)},
            unary_union([m[2] for m in members]), SIMPLIFY_DEG["group"], (lon, lat))

    cols = ["zone_code", "name", "kind", "municipio", "comune", "comune_code", "province", "area_km2", "lon", "lat",
            "km_from_duomo", "residents_2011", "employed_2011", "members"]
    with open(OUT / "zones.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    with open(OUT / "zones.geojson", "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": feats}, fh, separators=(",", ":"))
    for name in COPIED:
        shutil.copyfile(pack / name, OUT / name)
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("core", "municipality", "hinterland", "gateway")}
    print(f"{len(rows)} zones {kinds}; zones.geojson {(OUT / 'zones.geojson').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/milan"))
