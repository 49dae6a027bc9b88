"""The city: CSV loader on examples/csv_city, the synthetic grid, car routes (free-flow and noisy)."""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.world.build import build_city
from sim.world.city import CORE, GATEWAY, HINTERLAND, LINK_KINDS, MUNICIPALITY, ZONE_KINDS, build_synthetic_city, load_csv_city
from sim.scenario.load import load_scenario
from sim.scenario.schema import CityConfig

from .conftest import ROOT

CSV_DIR = ROOT / "examples" / "csv_city"
CSV_SCENARIO = ROOT / "scenarios" / "examples" / "csv_city.yaml"
RADIAL, CONNECTOR = LINK_KINDS.index("radial"), LINK_KINDS.index("connector")


def _read(name: str) -> list[dict]:
    with open(CSV_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _net_outflow(city, routes) -> np.ndarray:
    """(n_zones**2, n_zones): for each OD path, links leaving minus links entering each zone."""
    nl, nz = city.n_links, city.n_zones
    inc = sparse.csr_matrix((np.r_[np.ones(nl), -np.ones(nl)], (np.r_[np.arange(nl), np.arange(nl)],
                             np.r_[city.link_from, city.link_to])), shape=(nl, nz))
    return (routes.path_links @ inc).toarray()


def _assert_paths_join_origin_to_destination(city, routes) -> None:
    nz = city.n_zones
    o, d = np.divmod(np.arange(nz * nz), nz)
    expected = np.zeros((nz * nz, nz))
    off = o != d
    expected[np.nonzero(off)[0], o[off]] += 1.0
    expected[np.nonzero(off)[0], d[off]] -= 1.0
    np.testing.assert_array_equal(_net_outflow(city, routes), expected)


@pytest.fixture(scope="module")
def csv_city():
    return load_csv_city(CityConfig(source="csv", csv_dir=str(CSV_DIR)))


@pytest.fixture(scope="module")
def grid_cfg():
    return CityConfig()


@pytest.fixture(scope="module")
def grid_city(grid_cfg):
    return build_synthetic_city(grid_cfg)


# ------------------------------------------------------------------------------------ CSV city
def test_csv_example_zone_count_names_and_kinds(csv_city):
    rows = _read("zones.csv")
    assert csv_city.n_zones == len(rows) == 17
    assert csv_city.grid_size == 0
    assert csv_city.names == [r["zone"] for r in rows]
    assert [ZONE_KINDS[k] for k in csv_city.kind] == [r["kind"] for r in rows]
    counts = Counter(ZONE_KINDS[k] for k in csv_city.kind)
    assert counts == {"core": 2, "municipality": 6, "hinterland": 6, "gateway": 3}
    np.testing.assert_array_equal(csv_city.x_km, [float(r["x_km"]) for r in rows])
    np.testing.assert_array_equal(csv_city.y_km, [float(r["y_km"]) for r in rows])
    np.testing.assert_array_equal(csv_city.residents, [float(r["residents"]) for r in rows])
    np.testing.assert_array_equal(csv_city.jobs, [float(r["jobs"]) for r in rows])


def test_csv_example_is_shaped_like_milan(csv_city):
    r = np.hypot(csv_city.x_km, csv_city.y_km)
    assert r[csv_city.kind == CORE].max() <= 1.6
    assert r[csv_city.kind == MUNICIPALITY].max() <= 7.6
    assert np.all((r[csv_city.kind == HINTERLAND] >= 9) & (r[csv_city.kind == HINTERLAND] <= 20))
    assert np.all((r[csv_city.kind == GATEWAY] >= 30) & (r[csv_city.kind == GATEWAY] <= 45))
    inner_jobs = csv_city.jobs[csv_city.kind <= MUNICIPALITY].sum()
    assert inner_jobs > 0.8 * csv_city.jobs.sum()  # jobs concentrated in Milan


def test_csv_example_gateways_have_no_jobs_nor_residents(csv_city):
    g = csv_city.kind == GATEWAY
    assert g.sum() == 3
    assert np.all(csv_city.jobs[g] == 0)
    assert np.all(csv_city.residents[g] == 0)
    assert np.all(csv_city.jobs[~g] > 0) and np.all(csv_city.residents[~g] > 0)


def test_csv_example_gateways_join_nearest_zone_by_one_connector(csv_city):
    inner = np.nonzero(csv_city.kind != GATEWAY)[0]
    for g in np.nonzero(csv_city.kind == GATEWAY)[0]:
        out = np.nonzero(csv_city.link_from == g)[0]
        inn = np.nonzero(csv_city.link_to == g)[0]
        assert len(out) == len(inn) == 1
        assert csv_city.link_kind[out[0]] == CONNECTOR == csv_city.link_kind[inn[0]]
        near = inner[np.argmin(np.hypot(csv_city.x_km[inner] - csv_city.x_km[g], csv_city.y_km[inner] - csv_city.y_km[g]))]
        assert csv_city.link_to[out[0]] == near and csv_city.link_from[inn[0]] == near


def test_csv_example_roads_join_nearest_zones_radial_inside_milan(csv_city):
    c = csv_city
    inner = np.nonzero(c.kind != GATEWAY)[0]
    pairs = set(zip(c.link_from.tolist(), c.link_to.tolist()))
    assert len(pairs) == c.n_links  # no duplicate links
    for i in inner:  # each zone is joined (both ways) to its 4 nearest non-gateway zones
        d = np.hypot(c.x_km[inner] - c.x_km[i], c.y_km[inner] - c.y_km[i])
        for j in inner[np.argsort(d)[1:5]]:
            assert (i, j) in pairs and (j, i) in pairs, (c.names[i], c.names[j])
    road = c.link_kind != CONNECTOR
    a, b = c.link_from[road], c.link_to[road]
    assert np.all(c.kind[a] != GATEWAY) and np.all(c.kind[b] != GATEWAY)
    both_milan = (c.kind[a] <= MUNICIPALITY) & (c.kind[b] <= MUNICIPALITY)
    np.testing.assert_array_equal(c.link_kind[road], np.where(both_milan, RADIAL, LINK_KINDS.index("local")))
    np.testing.assert_allclose(c.link_km, np.hypot(c.x_km[c.link_from] - c.x_km[c.link_to], c.y_km[c.link_from] - c.y_km[c.link_to]))
    assert np.all(c.link_t0_min > 0) and np.all(c.link_capacity_vph > 0)


def test_csv_example_every_od_pair_is_reachable(csv_city):
    nz = csv_city.n_zones
    ff = csv_city.free_flow_routes
    km = ff.od_km.reshape(nz, nz)
    t0 = ff.od_t0_min.reshape(nz, nz)
    off = ~np.eye(nz, dtype=bool)
    assert np.all(np.isfinite(km)) and np.all(np.isfinite(t0))
    assert np.all(km[off] > 0) and np.all(t0[off] > 0)
    # a road path is never shorter than the straight line between centroids
    crow = np.hypot(csv_city.x_km[:, None] - csv_city.x_km[None, :], csv_city.y_km[:, None] - csv_city.y_km[None, :])
    assert np.all(km[off] >= crow[off] - 1e-9)
    assert np.all(np.isfinite(csv_city.od_transit_min)) and np.all(csv_city.od_transit_min > 0)
    _assert_paths_join_origin_to_destination(csv_city, ff)


def test_csv_example_od_matrix_equals_csv_sums(csv_city):
    index = {n: i for i, n in enumerate(csv_city.names)}
    sums: dict[tuple[int, int], float] = defaultdict(float)
    rows = _read("od.csv")
    for r in rows:
        sums[index[r["origin"]], index[r["destination"]]] += float(r["commuters"])
    expected = np.zeros((csv_city.n_zones, csv_city.n_zones))
    for (o, d), v in sums.items():
        expected[o, d] = v
    assert csv_city.od_commuters is not None
    np.testing.assert_array_equal(csv_city.od_commuters, expected)
    assert csv_city.od_commuters.sum() == sum(float(r["commuters"]) for r in rows)
    assert any(csv_city.kind[index[r["origin"]]] == GATEWAY for r in rows)


def test_csv_repeated_od_pairs_are_summed_and_od_is_optional(tmp_path):
    shutil.copy(CSV_DIR / "zones.csv", tmp_path / "zones.csv")
    city = load_csv_city(CityConfig(source="csv", csv_dir=str(tmp_path)))
    assert city.od_commuters is None
    (tmp_path / "od.csv").write_text("origin,destination,commuters\nmonza,duomo,10\npavia,duomo,5\nmonza,duomo,2.5\n")
    city = load_csv_city(CityConfig(source="csv", csv_dir=str(tmp_path)))
    i = {n: k for k, n in enumerate(city.names)}
    assert city.od_commuters[i["monza"], i["duomo"]] == 12.5
    assert city.od_commuters[i["pavia"], i["duomo"]] == 5.0
    assert city.od_commuters.sum() == 17.5


def test_csv_bad_kind_raises_value_error_naming_the_file(tmp_path):
    text = (CSV_DIR / "zones.csv").read_text(encoding="utf-8").replace(",municipality,", ",suburb,", 1)
    assert "suburb" in text
    (tmp_path / "zones.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "zones.csv"))):
        load_csv_city(CityConfig(source="csv", csv_dir=str(tmp_path)))


def test_csv_unknown_od_zone_raises_value_error_naming_the_file(tmp_path):
    shutil.copy(CSV_DIR / "zones.csv", tmp_path / "zones.csv")
    (tmp_path / "od.csv").write_text("origin,destination,commuters\nmonza,atlantis,10\n")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "od.csv")) + ".*atlantis"):
        load_csv_city(CityConfig(source="csv", csv_dir=str(tmp_path)))


def test_csv_scenario_resolves_csv_dir_relative_to_its_file():
    sc = load_scenario(CSV_SCENARIO)
    assert sc.name == "csv_city"
    assert sc.city.source == "csv"
    assert sc.city.csv_dir == str(CSV_DIR.resolve())
    city = build_city(sc.city)
    assert city.n_zones == 17 and city.od_commuters is not None


# ------------------------------------------------------------------------------------ synthetic city
def _cheb(cfg: CityConfig, city) -> np.ndarray:
    n = cfg.grid_size
    rows, cols = np.divmod(np.arange(n * n), n)
    c = (n - 1) / 2
    return np.maximum(np.abs(rows - c), np.abs(cols - c))


def test_synthetic_default_has_225_cells_and_8_gateways(grid_cfg, grid_city):
    assert grid_city.grid_size == 15
    assert grid_city.n_zones == 15 * 15 + 8 == 233
    assert np.all(grid_city.kind[:225] != GATEWAY)
    assert np.all(grid_city.kind[225:] == GATEWAY)
    assert np.all(grid_city.jobs[225:] == 0) and np.all(grid_city.residents[225:] == 0)
    assert len(grid_city.names) == 233


def test_synthetic_central_cell_is_the_only_core_cell(grid_city):
    centre = 7 * 15 + 7
    assert grid_city.kind[centre] == CORE == 0
    assert grid_city.x_km[centre] == 0.0 and grid_city.y_km[centre] == 0.0
    assert np.nonzero(grid_city.kind == CORE)[0].tolist() == [centre]


def test_synthetic_municipality_cells_are_within_its_radius(grid_cfg, grid_city):
    r = np.hypot(grid_city.x_km[:225], grid_city.y_km[:225])
    kind = grid_city.kind[:225]
    assert np.any(kind == MUNICIPALITY)
    assert np.all(r[kind == MUNICIPALITY] <= grid_cfg.municipality_radius_km)
    assert np.all(r[kind == HINTERLAND] > grid_cfg.municipality_radius_km)
    assert np.all(kind[r <= grid_cfg.municipality_radius_km] <= MUNICIPALITY)


def test_synthetic_jobs_and_residents_densest_at_the_centre(grid_city):
    centre = 7 * 15 + 7
    jobs, res = grid_city.jobs[:225], grid_city.residents[:225]
    assert np.argmax(jobs) == centre and np.sum(jobs == jobs.max()) == 1
    assert np.argmax(res) == centre
    r = np.hypot(grid_city.x_km[:225], grid_city.y_km[:225])
    order = np.argsort(r, kind="stable")
    assert np.all(np.diff(jobs[order]) <= 1e-15)  # never increases away from the centre
    # jobs more concentrated than residents (job decay 4 km < resident decay 9 km)
    assert jobs[r <= 7.6].sum() / jobs.sum() > res[r <= 7.6].sum() / res.sum()


def test_synthetic_links_have_positive_capacity_time_and_length(grid_city):
    assert grid_city.n_links > 0
    assert np.all(grid_city.link_capacity_vph > 0)
    assert np.all(grid_city.link_t0_min > 0)
    assert np.all(grid_city.link_km > 0)
    assert np.all(np.isfinite(grid_city.link_t0_min))
    assert set(np.unique(grid_city.link_kind)) == set(range(len(LINK_KINDS)))
    # every link has a reverse link with the same length, time and capacity
    key = {(a, b): i for i, (a, b) in enumerate(zip(grid_city.link_from, grid_city.link_to))}
    assert len(key) == grid_city.n_links  # no duplicate links
    rev = np.array([key[(b, a)] for a, b in zip(grid_city.link_from, grid_city.link_to)])
    for arr in (grid_city.link_km, grid_city.link_t0_min, grid_city.link_capacity_vph, grid_city.link_kind):
        np.testing.assert_array_equal(arr, arr[rev])


def test_synthetic_each_gateway_joins_three_edge_cells(grid_cfg, grid_city):
    cheb = _cheb(grid_cfg, grid_city)
    for g in range(225, 233):
        out = np.nonzero(grid_city.link_from == g)[0]
        inn = np.nonzero(grid_city.link_to == g)[0]
        cells = grid_city.link_to[out]
        assert len(out) == 3 and len(set(cells.tolist())) == 3
        assert sorted(grid_city.link_from[inn].tolist()) == sorted(cells.tolist())
        assert np.all(cells < 225) and np.all(cheb[cells] == 7)
        assert np.all(grid_city.link_kind[out] == CONNECTOR)
        assert np.allclose(grid_city.link_km[out], grid_cfg.gateway_distance_km)
    # the 8 gateways reach 24 different edge cells, one direction each
    all_cells = grid_city.link_to[np.isin(grid_city.link_from, np.arange(225, 233))]
    assert len(set(all_cells.tolist())) == 24


def test_synthetic_free_flow_od_time_is_symmetric(grid_city):
    nz = grid_city.n_zones
    t = grid_city.free_flow_routes.od_t0_min.reshape(nz, nz)
    np.testing.assert_allclose(t, t.T, rtol=0, atol=1e-9)


def test_synthetic_free_flow_od_km_is_symmetric(grid_city):
    nz = grid_city.n_zones
    km = grid_city.free_flow_routes.od_km.reshape(nz, nz)
    np.testing.assert_allclose(km, km.T, rtol=0, atol=1e-9)


def test_synthetic_od_equals_path_links_times_link_attributes(grid_city):
    nz = grid_city.n_zones
    ff = grid_city.free_flow_routes
    off = np.ones(nz * nz, dtype=bool)
    off[np.arange(nz) * (nz + 1)] = False
    np.testing.assert_allclose((ff.path_links @ grid_city.link_km)[off], ff.od_km[off], rtol=1e-12)
    np.testing.assert_allclose((ff.path_links @ grid_city.link_t0_min)[off], ff.od_t0_min[off], rtol=1e-12)
    diag = ~off
    assert ff.path_links[np.nonzero(diag)[0]].nnz == 0
    assert np.all(ff.od_km[diag] == grid_city.intrazonal_km)
    assert np.all(ff.od_t0_min[diag] == grid_city.intrazonal_min)
    _assert_paths_join_origin_to_destination(grid_city, ff)


@pytest.mark.parametrize("dest_col", [0, 14])
def test_synthetic_trip_from_centre_along_the_central_row_uses_radials(grid_cfg, grid_city, dest_col):
    n, centre = 15, 7 * 15 + 7
    dest = 7 * n + dest_col
    ff = grid_city.free_flow_routes
    for o, d in ((centre, dest), (dest, centre)):
        links = ff.path_links[grid_city.od(o, d)].indices
        assert len(links) == 7
        assert np.all(grid_city.link_kind[links] == RADIAL)
        assert ff.od_km[grid_city.od(o, d)] == pytest.approx(7 * grid_cfg.cell_km)
        # the path stays on the central row
        assert np.all(grid_city.y_km[grid_city.link_from[links]] == 0.0)
        assert np.all(grid_city.y_km[grid_city.link_to[links]] == 0.0)


# ------------------------------------------------------------------------------------ noisy routes
def test_routes_with_unit_noise_equal_plain_routes(grid_city):
    plain = grid_city.routes(grid_city.link_t0_min)
    ones = grid_city.routes(grid_city.link_t0_min, np.ones((grid_city.n_zones, grid_city.n_links)))
    assert (plain.path_links != ones.path_links).nnz == 0
    np.testing.assert_array_equal(plain.od_km, ones.od_km)
    np.testing.assert_array_equal(plain.od_t0_min, ones.od_t0_min)


@pytest.mark.parametrize("spread", [0.2, 0.6])
def test_noisy_routes_are_valid_paths_never_faster_than_free_flow_shortest(grid_city, spread):
    rng = np.random.default_rng(7)
    noise = 1.0 + spread * rng.uniform(-1, 1, (grid_city.n_zones, grid_city.n_links))
    noisy = grid_city.routes(grid_city.link_t0_min, noise)
    ff = grid_city.free_flow_routes
    _assert_paths_join_origin_to_destination(grid_city, noisy)
    assert np.all(noisy.od_t0_min >= ff.od_t0_min - 1e-9)
    # the noise changes some routes, and the noisy path is optimal for the perceived costs of its origin
    assert (noisy.path_links != ff.path_links).nnz > 0
    nz = grid_city.n_zones
    for o in (0, 7 * 15 + 7, 225):
        perceived_plain = ff.path_links[o * nz:(o + 1) * nz] @ (grid_city.link_t0_min * noise[o])
        perceived_noisy = noisy.path_links[o * nz:(o + 1) * nz] @ (grid_city.link_t0_min * noise[o])
        assert np.all(perceived_noisy <= perceived_plain + 1e-9)


# ------------------------------------------------------------------------------------ property test
@settings(max_examples=15, deadline=None)
@given(grid_size=st.sampled_from([3, 5, 7, 9]), cell_km=st.floats(0.25, 10.0),
       gateways=st.integers(0, 8), gateway_distance_km=st.floats(2.0, 60.0))
def test_synthetic_city_is_connected_with_triangle_inequality(grid_size, cell_km, gateways, gateway_distance_km):
    cfg = CityConfig(grid_size=grid_size, cell_km=cell_km, gateways=gateways, gateway_distance_km=gateway_distance_km)
    city = build_synthetic_city(cfg)  # raises if the network is not connected
    nz = city.n_zones
    assert nz == grid_size ** 2 + gateways
    assert np.sum(city.kind == GATEWAY) == gateways
    r = np.hypot(city.x_km, city.y_km)[: grid_size ** 2]
    assert city.kind[(grid_size ** 2) // 2] == CORE  # the central cell
    assert np.sum(city.kind == CORE) == np.sum(r <= cfg.core_radius_km)
    ff = city.free_flow_routes
    t = ff.od_t0_min.reshape(nz, nz)
    assert np.all(np.isfinite(t)) and np.all(t > 0)
    a, b, c = np.meshgrid(np.arange(nz), np.arange(nz), np.arange(nz), indexing="ij")
    ok = (a != b) & (b != c) & (a != c)
    lhs, rhs = t[a, c], t[a, b] + t[b, c]
    assert np.all(lhs[ok] <= rhs[ok] + 1e-9)
    np.testing.assert_allclose(t, t.T, rtol=0, atol=1e-9)
