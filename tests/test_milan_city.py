"""The real Città metropolitana di Milano (sim/world/milan.py) and the Istat commuting-file loader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point

from sim.scenario.schema import CityConfig
from sim.world.city import CORE, GATEWAY, HINTERLAND, MUNICIPALITY
from sim.world.istat_od import istat_time_bands, read_zone_table
from sim.world.milan import build_milan_city, ipf

ROOT = Path(__file__).resolve().parents[1]
HEADER = "Prov_res\tProcom_res\tProv_lav\tProcom_lav\tPendolari\n"


@pytest.fixture(scope="session")
def milan():
    """The real city, built once per session (the city does not depend on the sampling scale)."""
    return build_milan_city(CityConfig(source="milan"))


def zone(city, code: str) -> int:
    return city.zone_code.index(code)


# ------------------------------------------------------------------------------ zones
def test_zone_counts_by_kind(milan):
    k = milan.kind
    assert (k == CORE).sum() == 8 and (k == MUNICIPALITY).sum() == 80  # the 88 NIL
    assert (k == HINTERLAND).sum() == 132                               # CM Milano has 133 comuni (2023)
    assert (k == GATEWAY).sum() > 100 and milan.n_zones > 300
    nil = [c for c in milan.zone_code if c.startswith("NIL_")]
    assert sorted(nil) == [f"NIL_{i:02d}" for i in range(1, 89)]
    assert len(set(milan.zone_code)) == milan.n_zones
    assert set(milan.province) == {"MI", "MB", "VA", "CO", "LC", "BG", "LO", "PV", "NO"}


def test_duomo_is_a_nil_and_sesto_a_comune(milan):
    d = zone(milan, "NIL_01")
    assert milan.names[d] == "Duomo" and milan.kind[d] == CORE and milan.municipio[d] == 1
    assert milan.comune[d] == "Milano" and milan.province[d] == "MI"
    assert milan.geometry[d].contains(Point(0.0, 0.0))  # the km frame is centred on Piazza del Duomo
    s = zone(milan, "015209")
    assert milan.names[s] == "Sesto San Giovanni" and milan.kind[s] == HINTERLAND and milan.municipio[s] == 0
    assert milan.comune[s] == "Sesto San Giovanni" and milan.province[s] == "MI"
    assert 8 < np.hypot(milan.x_km[s], milan.y_km[s]) < 12  # ~10 km NNE of the Duomo


def test_area_c_is_the_historic_centre(milan):
    core = np.nonzero(milan.in_area_c)[0]
    assert sorted(milan.names[i] for i in core) == sorted([
        "Duomo", "Brera", "Giardini Porta Venezia", "Guastalla", "Vigentina", "Ticinese",
        "Magenta - S. Vittore", "Parco Sempione"])
    # the Cerchia dei Bastioni is ~1.5-2 km from the Duomo: every Area C centroid lies inside 2.2 km
    assert np.hypot(milan.x_km[core], milan.y_km[core]).max() < 2.2
    area = sum(milan.geometry[i].area for i in core)
    assert 8.0 < area < 11.0  # Area C is 8.2 km2; these NIL overshoot the Bastioni a little


def test_nil_polygons_cover_the_comune(milan):
    nil = np.nonzero(milan.in_milan)[0]
    area = sum(milan.geometry[i].area for i in nil)
    assert abs(area - 181.67) / 181.67 < 0.01  # Istat: 181.67 km2
    assert all(milan.geometry[i] is not None and milan.geometry[i].is_valid for i in range(milan.n_zones))


def test_each_municipio_is_contiguous(milan):
    """The typed NIL -> Municipio table: each Municipio's NIL form one connected piece."""
    for m in range(1, 10):
        ids = [i for i in range(milan.n_zones) if milan.municipio[i] == m]
        assert ids, m
        seen, todo = {ids[0]}, [ids[0]]
        while todo:
            i = todo.pop()
            for j in ids:
                if j not in seen and milan.geometry[i].distance(milan.geometry[j]) < 0.05:
                    seen.add(j)
                    todo.append(j)
        assert seen == set(ids), (m, [milan.names[i] for i in set(ids) - seen])


# ------------------------------------------------------------------------------ workers, jobs, OD
def test_milan_workers_match_the_2011_commuters_scaled(milan):
    # 458,000 Milan residents commuted to work in 2011 (PGT Milano, Istat); today x 1.116
    table = read_zone_table()
    nil = np.array([c.startswith("NIL_") for c in table.zone_code])
    workers_2011 = table.employed_2011[nil].sum() * CityConfig().milan.commuters_per_employed
    assert abs(workers_2011 - 458_000) / 458_000 < 0.005


def test_od_margins_are_the_workers_and_jobs(milan):
    od = milan.od_commuters
    assert od.shape == (milan.n_zones, milan.n_zones) and (od >= 0).all()
    np.testing.assert_allclose(od.sum(axis=1), milan.residents, rtol=1e-12)
    np.testing.assert_allclose(od.sum(axis=0), milan.jobs, rtol=1e-12)
    assert milan.workers_total == pytest.approx(od.sum())
    assert od[:, milan.kind == GATEWAY].sum() == 0  # belt zones are homes only
    assert od[milan.kind == GATEWAY].sum() > 0.15 * od.sum()  # the belt sends a real share of the CM's workers
    # the Comune's jobs: ~half of its workers come from outside (PGT Milano §2.2.6)
    inm = milan.in_milan
    outside = od[np.ix_(~inm, inm)].sum() / od[:, inm].sum()
    assert 0.40 < outside < 0.60


def test_gravity_fit_reaches_istat_bands(milan):
    fit = milan.od_source
    assert fit["source"] == "gravity"
    istat = istat_time_bands()
    assert istat == pytest.approx({"lt15": 0.2975, "15_30": 0.3981, "31_60": 0.2714, "gt60": 0.0331}, abs=1e-4)
    for k, v in istat.items():
        assert abs(fit["bands_gravity"][k] - v) < 0.10, k
    assert abs(fit["milan_residents_working_in_milan"] - 0.811) < 0.03  # Istat 2011: 371,425 / 458,000


def test_ipf_converges_to_both_margins():
    rng = np.random.default_rng(3)
    f = np.exp(-rng.uniform(0, 3, (30, 40)))
    o = rng.uniform(1, 10, 30)
    d = rng.uniform(1, 10, 40)
    d *= o.sum() / d.sum()
    t, it = ipf(o, d, f, tol=1e-10)
    np.testing.assert_allclose(t.sum(axis=1), o, rtol=1e-9)
    np.testing.assert_allclose(t.sum(axis=0), d, rtol=1e-9)
    assert it < 5000
    # a gravity model keeps the odds ratios of the deterrence
    assert t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]) == pytest.approx(f[0, 0] * f[1, 1] / (f[0, 1] * f[1, 0]))
    with pytest.raises(ValueError, match="differs from destination total"):
        ipf(o, d * 2, f)


# ------------------------------------------------------------------------------ networks
def test_roads_connect_every_zone_and_transit_uses_the_metro(milan):
    r = milan.free_flow_routes  # raises if the road graph is not connected
    nz = milan.n_zones
    assert np.isfinite(r.od_t0_min).all() and np.isfinite(milan.od_transit_min).all()
    tr = milan.od_transit_min.reshape(nz, nz)
    d, s = zone(milan, "NIL_01"), zone(milan, "015209")
    loreto, baggio = zone(milan, "NIL_20"), zone(milan, "NIL_55")
    # Duomo -> Loreto is 5 stops of M1: faster than Duomo -> Baggio (no metro: bus, ~7 km)
    assert tr[d, loreto] < 20 < tr[d, baggio]
    assert tr[s, d] < 40  # Sesto San Giovanni has M1
    assert np.diag(tr)[milan.kind != GATEWAY].max() < 20  # trips inside a NIL or comune of the CM


# ------------------------------------------------------------------------------ the Istat file
def _istat_file(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "pendolari.txt") -> Path:
    p = tmp_path / name
    p.write_text(header + "".join(rows), encoding="utf-8")
    return p


GOOD_ROWS = ["015\t015209\t015\t015146\t100\n",   # Sesto -> Milano (split over NIL by jobs)
             "015\t015146\t015\t015209\t40\n",    # Milano (split by workers) -> Sesto
             "108\t108033\t015\t015146\t60\n",    # Monza -> Milano
             "001\t001272\t015\t015146\t5\n",     # Torino -> Milano: outside the study area, skipped
             "108\t108033\t108\t108033\t30\n"]    # Monza -> Monza: work end outside the CM, not modelled


def test_istat_file_counts_equal_the_file(tmp_path):
    path = _istat_file(tmp_path, GOOD_ROWS)
    city = build_milan_city(CityConfig(source="milan", od_matrix=str(path)))
    od = city.od_commuters
    s, monza = zone(city, "015209"), zone(city, "108033")
    inm = city.in_milan
    assert city.workers_total == pytest.approx(200.0)
    assert od[s, inm].sum() == pytest.approx(100.0) and od[monza, inm].sum() == pytest.approx(60.0)
    assert od[inm, s].sum() == pytest.approx(40.0)
    # Sesto's 100 are spread over the NIL in proportion to the NIL job proxy: more to Duomo than to a park
    assert od[s, zone(city, "NIL_01")] > od[s, zone(city, "NIL_08")] > 0
    assert city.od_source["skipped_outside_study_area"] == 5.0
    assert city.od_source["work_in_belt_not_modelled"] == pytest.approx(30.0)


def test_istat_file_semicolon_and_header_case(tmp_path):
    rows = [r.replace("\t", ";") for r in GOOD_ROWS[:3]]
    path = _istat_file(tmp_path, rows, header="PROV_RES;PROCOM_RES;prov_lav;Procom_Lav;PENDOLARI\n")
    from sim.world.istat_od import check_od_file
    flows = check_od_file(path)
    assert flows.commuters.sum() == 200.0 and flows.home == ["015209", "015146", "108033"]


def _run_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


BAD = {
    "missing_column": ("Prov_res\tProcom_res\tProv_lav\tProcom_lav\n", ["015\t015209\t015\t015146\n"],
                       "pendolari.txt:1: missing column Pendolari"),
    "unknown_code": (HEADER, ["015\t015209\t015\t015146\t1\n", "015\t015999\t015\t015146\t1\n"],
                     "pendolari.txt:3: column Procom_res: comune code 015999 is not in the zone table"),
    "negative": (HEADER, ["015\t015209\t015\t015146\t-5\n"],
                 "pendolari.txt:2: column Pendolari: expected a count >= 0, got '-5'"),
    "non_numeric": (HEADER, ["015\t015209\t015\t015146\t12\n", "015\t015209\t015\t015146\tmolti\n"],
                    "pendolari.txt:3: column Pendolari: expected a number of commuters, got 'molti'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_istat_file_exit_2_through_run_py(tmp_path, case):
    header, rows, message = BAD[case]
    _istat_file(tmp_path, rows, header=header)
    scen = tmp_path / "with_file.yaml"
    scen.write_text(f"extends: {ROOT / 'scenarios' / 'milan_baseline.yaml'}\nname: with_file\n"
                    "city:\n  od_matrix: pendolari.txt\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _run_py("run", str(scen), "--days", "2", "--scale", "0.01", "--out", str(out), "--quiet")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in proc.stderr
    assert str(tmp_path / "pendolari.txt") in err[0] and message in err[0], err[0]
    assert not out.exists()


@pytest.mark.slow
def test_istat_file_run_py_summary_workers_are_the_files(tmp_path):
    """run.py run with the Istat file: summary.json workers = the file's flows ending in the CM."""
    import json
    _istat_file(tmp_path, GOOD_ROWS)
    scen = tmp_path / "with_file.yaml"
    scen.write_text(f"extends: {ROOT / 'scenarios' / 'milan_baseline.yaml'}\nname: with_file\n"
                    "city:\n  od_matrix: pendolari.txt\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _run_py("run", str(scen), "--days", "3", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == pytest.approx(200.0)  # 100 + 40 + 60; Torino and Monza->Monza are not modelled
    assert summary["calibration"]["od"]["source"] == "istat_file"


@pytest.mark.slow
def test_reference_matches_fast_model_on_the_real_city():
    """The per-agent specification agrees with the fast model on the real zones (per-zone intrazonal trips)."""
    from sim.model import CommuteModel
    from sim.reference import run_reference
    from sim.scenario.load import load_scenario
    from .test_reference import _assert_same_run
    days = 15
    sc = load_scenario(ROOT / "scenarios" / "milan_baseline.yaml", [], scale=0.002, days=days)
    fast = CommuteModel(sc)
    fast.run(days)
    ref, _ = run_reference(sc, days, city=fast.city, population=fast.population, calibration=fast.calibration)
    _assert_same_run(fast, ref, days)


def test_istat_file_needs_the_real_city_and_an_existing_file(tmp_path):
    proc = _run_py("validate", "scenarios/examples/grid_city.yaml", "--set", f"city.od_matrix={tmp_path / 'x.txt'}")
    assert proc.returncode == 2
    assert "city.od_matrix (an Istat commuting file) needs city.source: milan, got source 'synthetic'" in proc.stderr
    proc = _run_py("validate", "scenarios/milan_baseline.yaml", "--set", f"city.od_matrix={tmp_path / 'x.txt'}")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: city.od_matrix: {tmp_path / 'x.txt'}: no such Istat commuting file (city.od_matrix)"
