"""The zone table of the real city and the reader of Istat's commuting file (no geometry: cheap to import).

:func:`read_zone_table` reads ``sim/data/milan/zones.csv`` (built by tools/build_milan_data.py).
:func:`read_istat_od` reads an Istat "matrice del pendolarismo" in the 2021 layout — columns
``Prov_res Procom_res Prov_lav Procom_lav Pendolari`` (header case-insensitive, tab- or
``;``-separated, 6-digit PRO_COM codes) — into flows between Istat codes of the study area. Every
problem is an :class:`ODFileError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "milan"
MILANO_CODE = "015146"
OD_COLUMNS = ("prov_res", "procom_res", "prov_lav", "procom_lav", "pendolari")
# comuni of the belt provinces with no polygon in the openpolis Varese file (PROVENANCE caveat 5):
# their flows are skipped, not errors
WITHOUT_POLYGON = {"012009", "012018", "012095"}
TIME_BANDS = ("lt15", "15_30", "31_60", "gt60")
BAND_EDGES_MIN = (15.0, 30.0, 60.0)  # Istat 2011 bands: up to 15, 16-30, 31-60, over 60 minutes


class ODFileError(ValueError):
    """An Istat commuting file cannot be used; the message names the file, the line and the column."""


def istat_time_bands() -> dict[str, float]:
    """Istat 2011 shares of one-way time bands, Milan residents working in Milan (all modes, 371,425 workers)."""
    by_band = dict.fromkeys(("<15", "15_30", "31_60", ">60"), 0.0)
    with open(DATA_DIR / "comm_matrix_cities_km_milano.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            by_band[r["travel_time"]] += float(r["individuals"])
    total = sum(by_band.values())
    return {k: v / total for k, v in zip(TIME_BANDS, by_band.values())}


def time_band_shares(minutes: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Weighted shares of one-way times in the Istat bands (<=15, 16-30, 31-60, >60 whole minutes)."""
    band = np.searchsorted(np.array(BAND_EDGES_MIN), np.ceil(np.asarray(minutes) - 1e-9), side="left")
    sh = np.bincount(band, weights=weights, minlength=4)[:4]
    return {k: float(v) for k, v in zip(TIME_BANDS, sh / max(sh.sum(), 1e-300))}


@dataclass
class ZoneTable:
    """One row per zone of the real city (see sim/data/milan/PROVENANCE.md for each column)."""

    zone_code: list[str]
    name: list[str]
    kind: list[str]
    municipio: np.ndarray
    comune: list[str]
    comune_code: list[str]
    province: list[str]
    area_km2: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    residents_2011: np.ndarray
    employed_2011: np.ndarray      # NaN outside Milan (the pack has employment by NIL only)
    members: list[list[str]]       # Istat codes of the comuni a grouped belt zone stands for

    @property
    def n(self) -> int:
        return len(self.zone_code)

    def zones_of_code(self) -> dict[str, list[int]]:
        """Istat comune code -> zone indices (Milano -> its 88 NIL; a grouped comune -> its group)."""
        out: dict[str, list[int]] = {}
        for i, (code, members) in enumerate(zip(self.comune_code, self.members)):
            for c in members or [code]:
                out.setdefault(c, []).append(i)
        return out


def read_zone_table(path: Path = DATA_DIR / "zones.csv") -> ZoneTable:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def num(key: str) -> np.ndarray:
        return np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])

    return ZoneTable(
        zone_code=[r["zone_code"] for r in rows], name=[r["name"] for r in rows], kind=[r["kind"] for r in rows],
        municipio=num("municipio").astype(np.int8), comune=[r["comune"] for r in rows],
        comune_code=[r["comune_code"] for r in rows], province=[r["province"] for r in rows],
        area_km2=num("area_km2"), lon=num("lon"), lat=num("lat"), residents_2011=num("residents_2011"),
        employed_2011=num("employed_2011"), members=[r["members"].split() for r in rows])


@dataclass
class IstatFlows:
    """Flows of the file with both ends known: home code, work code, commuters; and what was skipped."""

    home: list[str]
    work: list[str]
    commuters: np.ndarray
    skipped_outside: float        # commuters with an end outside the study provinces
    skipped_rows: int


def _sniff_delimiter(path: Path, header: str) -> str:
    if "\t" in header:
        return "\t"
    if ";" in header:
        return ";"
    raise ODFileError(f"{path}:1: expected a tab- or ';'-separated header with the columns "
                      f"{', '.join(c.capitalize() for c in OD_COLUMNS)}; got {header.strip()!r}")


def read_istat_od(path: str | Path, known_codes: set[str], study_provinces: set[str]) -> IstatFlows:
    """Read an Istat commuting file.

    Args:
        path: the file (UTF-8 or Latin-1).
        known_codes: 6-digit Istat codes of the comuni in the zone table.
        study_provinces: 3-digit province codes of the study area; a code of one of these provinces
            that is not in ``known_codes`` is an error (a typo or a stale code), a code of any other
            province is outside the study area and its row is skipped.

    Raises:
        ODFileError: missing file or column, malformed or unknown code, negative or non-numeric count.
    """
    path = Path(path)
    if not path.is_file():
        raise ODFileError(f"{path}: no such Istat commuting file (city.od_matrix)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ODFileError(f"{path}:1: the file is empty; expected a header with the columns "
                          f"{', '.join(c.capitalize() for c in OD_COLUMNS)}")
    delim = _sniff_delimiter(path, lines[0])
    reader = csv.reader(lines, delimiter=delim)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in OD_COLUMNS if c not in header]
    if missing:
        raise ODFileError(f"{path}:1: missing column {', '.join(m.capitalize() for m in missing)}; "
                          f"expected {', '.join(c.capitalize() for c in OD_COLUMNS)}, got {', '.join(header)}")
    col = {c: header.index(c) for c in OD_COLUMNS}
    home, work, count = [], [], []
    skipped, skipped_rows = 0.0, 0
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not x.strip() for x in row):
            continue
        if len(row) < len(header):
            raise ODFileError(f"{path}:{line_no}: expected {len(header)} fields separated by {delim!r}, got {len(row)}")
        value = row[col["pendolari"]].strip()
        try:
            n = float(value.replace(",", "."))
        except ValueError:
            raise ODFileError(f"{path}:{line_no}: column Pendolari: expected a number of commuters, got {value!r}") from None
        if not np.isfinite(n) or n < 0:
            raise ODFileError(f"{path}:{line_no}: column Pendolari: expected a count >= 0, got {value!r}")
        codes = []
        for end in ("res", "lav"):
            prov_raw, com_raw = row[col[f"prov_{end}"]].strip(), row[col[f"procom_{end}"]].strip()
            cname, pname = f"Procom_{end}", f"Prov_{end}"
            if not com_raw.isdigit() or len(com_raw) > 6:
                raise ODFileError(f"{path}:{line_no}: column {cname}: expected a 6-digit Istat comune code, got {com_raw!r}")
            if not prov_raw.isdigit() or len(prov_raw) > 3:
                raise ODFileError(f"{path}:{line_no}: column {pname}: expected a 3-digit Istat province code, got {prov_raw!r}")
            com, prov = com_raw.zfill(6), prov_raw.zfill(3)
            if com[:3] != prov:
                raise ODFileError(f"{path}:{line_no}: column {cname}: comune {com} is not in province {prov} (column {pname})")
            codes.append(com)
        outside = [c for c in codes if c[:3] not in study_provinces or c in WITHOUT_POLYGON]
        if outside:
            skipped += n
            skipped_rows += 1
            continue
        for c, end in zip(codes, ("res", "lav")):
            if c not in known_codes:
                raise ODFileError(f"{path}:{line_no}: column Procom_{end}: comune code {c} is not in the zone table "
                                  f"of the study area (sim/data/milan/zones.csv)")
        home.append(codes[0])
        work.append(codes[1])
        count.append(n)
    return IstatFlows(home=home, work=work, commuters=np.array(count, float), skipped_outside=skipped,
                      skipped_rows=skipped_rows)


STUDY_PROVINCES = {"015", "108", "012", "013", "097", "016", "098", "018", "003"}


def check_od_file(path: str | Path) -> IstatFlows:
    """Read ``path`` against the zone table of the real city (what the scenario loader checks up front)."""
    table = read_zone_table()
    return read_istat_od(path, set(table.zones_of_code()), STUDY_PROVINCES)
