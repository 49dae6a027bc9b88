"""Metrics: daily series, per-worker totals, tables by group, and the run summary.

Inputs: what each day produces (masks and per-worker arrays from :meth:`CommuteModel.step`).
Outputs: ``daily()`` (one row per day, every series), ``groups()`` (tables by size class, home zone,
gender x caregiver), ``links()`` (peak volume/capacity by road link) and ``summary()`` (the
``summary.json`` contract). Every total is weighted, i.e. a full-population equivalent.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.world.city import LINK_KINDS, ZONE_KINDS
from sim.world.istat_od import time_band_shares
from sim.behaviour.emissions import (POLLUTANTS, break_even_km, car_pollutant_g_per_km, heating_fraction,
                                     home_kg_per_remote_day, moto_pollutant_g_per_km)
from sim.behaviour.mode_choice import CAR, MOTO, TRANSIT
from sim.behaviour.traffic import peak_extra_time
from sim.behaviour.wellbeing import COMPONENTS, REASONS, reason_shares
from sim.outputs.zones import comune_groups, geometry_wkb, municipio_groups, place_columns, zone_geometry
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, TRANSIT_NETWORKS, WEEKDAYS, WORKDAYS_PER_YEAR

SME_CLASSES = ("micro", "small", "medium")  # the firms the Comune's SME programme supports


# care groups of the by_gender_care_group table: youngest child (none under 15, 0-2, 3-5, 6-14), or
# no child under 15 but a dependant relative
CARE_GROUP_NAMES = ("none", "child_0_2", "child_3_5", "child_6_14", "dependant_only")


class Metrics:
    """Accumulates a run's figures day by day.

    Args:
        model: the :class:`~sim.model.CommuteModel` whose days are recorded.
    """

    def __init__(self, model):
        self.model = model
        n = model.population.n_workers
        self.rows: list[dict] = []
        # per-worker totals over the run (the day-by-day ones here; the ones fixed for a week by the
        # plan are added a week at a time, see the properties below)
        self.commute_min = np.zeros(n)
        self.co2_commute_kg = np.zeros(n)
        self.co2_home_kg = np.zeros(n)
        self.stress_sum = np.zeros(n)
        self.high_stress_days = np.zeros(n, dtype=np.int32)
        self.quits = np.zeros(n, dtype=np.int32)  # realised quits per position
        self.expected_quits = np.zeros(n)  # sum of the daily quit probabilities per position
        self.employed_days = np.zeros(n, dtype=np.int32)
        self._j2j = None  # job-to-job share of quits by hazard cell (set on the first day)
        self._mode_trips_t = np.zeros((len(MODES), n), dtype=np.int32)  # modes first
        self._remote_days = np.zeros(n, dtype=np.int32)
        self._allowed_days = np.zeros(n, dtype=np.int32)
        self._week_days: list[int] = []  # weekdays recorded since the plan's totals were last added
        self._year_first_row: list[int] = []  # row index where each year of the run starts
        self._year_trips: list[np.ndarray] = []  # per-worker trips by mode (n, 5) before each year's first day
        self._year_vc_sum: list[np.ndarray] = []  # each link's summed daily peak v/c before each year's first day
        # the programme's state after each day (SME firms offering smart working, welfare coverage), by row
        self._programme_rows: list[tuple[float, float]] = []
        n_links = model.city.n_links
        self.link_peak_vc_sum = np.zeros(n_links)
        self.link_peak_vc_max = np.zeros(n_links)
        self.link_vkm = np.zeros(n_links)
        # air pollutants (grams over the run) by road link (commuter cars) and by zone of emission: a link's
        # grams split half/half between its end zones, a trip inside a zone in that zone, a motorbike's
        # half in its home and half in its work zone (no path of its own), remote days' extra trips at home
        self.link_air_g = {p: np.zeros(n_links) for p in POLLUTANTS}
        self.zone_air_g = {p: np.zeros(model.city.n_zones) for p in POLLUTANTS}
        self._allowed = np.zeros(n, dtype=bool)
        self._workers = float(model.population.weight.sum())
        self._sme_firms = np.isin(model.population.firm_class, [SIZE_CLASSES.index(k) for k in SME_CLASSES])
        self._class_workers = np.bincount(model.population.worker_class, weights=model.population.weight,
                                          minlength=len(SIZE_CLASSES))
        self._work_in_area_c = model.city.in_area_c[model.population.work]

    # ------------------------------------------------------------------ totals fixed by the weekly plan
    def _start_week(self) -> None:
        """Add the last week's plan to the totals; take this week's plan (mode, remote days, allowed)."""
        self._add_week()
        m = self.model
        pop, w = m.population, m.population.weight
        self._week_mode = m.mode.copy()
        self._week_remote_t = m.remote_t  # replaced, never modified, by the next plan
        self._allowed = m.allowed()
        num = np.bincount(pop.worker_class, weights=w * self._allowed, minlength=len(SIZE_CLASSES))
        den = self._class_workers
        self._allowed_share = {f"allowed_{k}": float(num[i] / den[i]) if den[i] > 0 else 0.0
                               for i, k in enumerate(SIZE_CLASSES)}
        # weighted workers by planned mode; car commuters' weights
        self._week_by_mode = np.bincount(self._week_mode, weights=w, minlength=len(MODES))
        self._week_car_w = w * (self._week_mode == CAR)
        # who, by this week's plan, counts in the daily figures of a few: the day's filter is then a short gather
        mode = self._week_mode
        self._week_moto_ids = np.nonzero(mode == MOTO)[0]
        self._week_car_area_c_ids = np.nonzero((mode == CAR) & self._work_in_area_c)[0]
        passes = (mode == TRANSIT) & m.transit_pass
        self._week_pass_ids = {"urban": np.nonzero(passes & (m.segment == 0))[0],
                               "regional": np.nonzero(passes & (m.segment != 0))[0]}

    def _add_week(self) -> None:
        """Add the recorded days of the pending week: office trips by mode, remote days, allowed days."""
        if not self._week_days:
            return
        remote = self._week_remote_t[self._week_days].sum(axis=0, dtype=np.int8)
        office = len(self._week_days) - remote
        for k in range(len(MODES)):
            self._mode_trips_t[k] += office * (self._week_mode == k)
        self._remote_days += remote
        self._allowed_days += self._allowed * len(self._week_days)
        self._week_days = []

    @property
    def mode_trips(self) -> np.ndarray:
        """Office trips (round trips) per worker and mode over the run (n, 5)."""
        self._add_week()
        return self._mode_trips_t.T

    @property
    def remote_days(self) -> np.ndarray:
        """Remote days per worker over the run."""
        self._add_week()
        return self._remote_days

    @property
    def allowed_days(self) -> np.ndarray:
        """Days each worker was allowed smart working over the run."""
        self._add_week()
        return self._allowed_days

    def record_day(self, *, day, remote, rem_i, veh, roads, round_trip_min, round_delay_min,
                   load, commute_kg, home_kg, extra_kg, heating, quits, strain, present=1.0, air=None) -> None:
        """Add one day. Arrays are per worker unless named otherwise (remote: bool, at home and employed;
        rem_i: ids of the remote workers; home_kg, extra_kg: kg of the remote day at home and of extra
        car trips, per remote worker, as rem_i; quits: the :class:`~sim.behaviour.wellbeing.Quits` of today; strain: the
        :class:`~sim.behaviour.wellbeing.Strain`; veh: cars by OD x slot; roads: the day's
        :class:`~sim.behaviour.traffic.Roads`; present: share of
        workers not on leave, which scales today's commutes and remote days: veh arrives scaled, the rest
        is scaled here). A vacant position (``model.employed`` False) lived nothing (its trip arrays are
        zero) and counts in no figure."""
        m = self.model
        pop, sc = m.population, m.scenario
        employed = m.employed
        w = pop.weight * employed  # today's weights: zero for a vacant position
        if m.calendar.week_start(day) or not self.rows:  # the plan, hence who is allowed, changes each week
            self._start_week()
        year = m.calendar.year_index(day)
        if year >= len(self._year_first_row):  # a new year of the run: mark where its totals start
            self._year_first_row.append(len(self.rows))
            self._year_trips.append(self.mode_trips.copy())
            self._year_vc_sum.append(self.link_peak_vc_sum.copy())
        weekday = m.calendar.weekday(day)
        self._week_days.append(weekday)
        vac = np.nonzero(~employed)[0]
        if len(vac):  # the week's plan counts these days when the week is added: take them out now
            planned_remote = self._week_remote_t[weekday][vac]
            self._remote_days[vac] -= planned_remote
            np.subtract.at(self._mode_trips_t, (self._week_mode[vac], vac), (~planned_remote).astype(np.int32))
            self._allowed_days[vac] -= self._allowed[vac]
        if present != 1.0:  # the August slowdown: those on leave neither commute nor work at home
            home_kg, extra_kg = home_kg * present, extra_kg * present
        self.co2_home_kg[rem_i] += home_kg + extra_kg
        self.quits[quits.ids] += 1
        # everyone's day added to the per-worker totals, and the day's weighted sums, in one pass
        sums, emp_cell, eq_cell = _add_worker_day(
            pop.weight, employed, round_trip_min, round_delay_min, commute_kg, present, m.stress,
            m.calibration.high_stress_threshold, quits.p, quits.cell, self._week_car_w,
            self.commute_min, self.co2_commute_kg, self.stress_sum, self.high_stress_days, self.employed_days,
            self.expected_quits)
        W, commute_min, delay_min, commute_kg_w, stress_w, high_w, car_min = sums
        if self._j2j is None:
            self._j2j = reason_shares(sc.wellbeing)[:, REASONS.index("job_to_job")]

        cap = m.link_capacity_vph[:, None]
        vc_peak = (roads.vol[:, m.peak_slots] / cap).max(axis=1) if len(m.peak_slots) else np.zeros(len(cap))
        self.link_peak_vc_sum += vc_peak
        np.maximum(self.link_peak_vc_max, vc_peak, out=self.link_peak_vc_max)
        veh_od = veh.sum(axis=1)
        commuter_veh_link = roads.commuter_vehicles.sum(axis=1)
        self.link_vkm += 2 * commuter_veh_link * m.city.link_km

        w_rem = w[rem_i]
        remote_w = float(w_rem.sum())
        mode_rem = self._week_mode[rem_i]
        trips = self._week_by_mode - np.bincount(mode_rem, weights=w_rem, minlength=len(MODES))
        if len(vac):
            trips -= np.bincount(self._week_mode[vac], weights=pop.weight[vac], minlength=len(MODES))
        car_vkm = 2 * _wsum(m.routes.od_km[m.active_od], veh_od)  # veh: vehicles, i.e. workers / occupancy
        air_t = self._air_day(air, veh=veh, veh_link=roads.commuter_vehicles, w=w, remote=remote, rem_i=rem_i,
                              present=present)
        car_veh_h = car_min / 60.0 / sc.mode.car_occupancy
        # commuters' cars arriving at a workplace inside Area C today (vehicles: one inbound trip per office day)
        ids = self._week_car_area_c_ids
        car_area_c = float(w[ids][~remote[ids]].sum()) * present / sc.mode.car_occupancy
        # holders of an employer-paid season ticket: covered workers who commute by transit, urban (inside the
        # Comune) or integrated (crossing its boundary)
        pass_urban, pass_regional = (float(w[self._week_pass_ids[k]].sum()) for k in ("urban", "regional"))
        w_quit = pop.weight[quits.ids]
        woman_quit = m.woman[quits.ids]
        mother_quit = quits.cell[quits.ids] == 3
        exit_quit = quits.reason != REASONS.index("job_to_job")
        ex_cell = eq_cell * (1.0 - self._j2j)
        row = {
            "day": day, "date": m.date(day).isoformat(), "year": m.calendar.year_index(day),
            "weekday": WEEKDAYS[m.calendar.weekday(day)], "heating_season": bool(heating), "present_share": present,
            "remote_share": remote_w / W,
            "office_workers": (W - remote_w) * present,
            **{f"trips_{k}": float(trips[i]) * present for i, k in enumerate(MODES)},
            "car_vkm": car_vkm, "car_vehicle_hours": car_veh_h, "car_trips_area_c": car_area_c,
            "transit_pass_urban": pass_urban, "transit_pass_regional": pass_regional,
            "delay_hours": delay_min / 60.0,
            "commute_hours": commute_min / 60.0,
            "peak_vc_max": float(vc_peak.max()) if len(vc_peak) else 0.0,
            "peak_extra_time": peak_extra_time(veh, roads.od_min, m.od_t0_active, m.peak_slots),
            "transit_peak_load": float(load.max()),
            **{f"transit_peak_load_{k}": float(load[i].max()) for i, k in enumerate(TRANSIT_NETWORKS)},
            "co2_commute_t": commute_kg_w / 1000.0,
            "co2_home_energy_t": _wsum(w_rem, home_kg) / 1000.0,
            "co2_extra_trips_t": _wsum(w_rem, extra_kg) / 1000.0,
            **air_t,
            "mean_stress": stress_w / W,
            "high_stress_share": high_w / W,
            **{f"strain_{c}": strain.part_sums[k] / W for k, c in enumerate(COMPONENTS)},
            "women_employed": float(emp_cell[2] + emp_cell[3]),
            "men_employed": float(emp_cell[0] + emp_cell[1]),
            "mothers_u3_employed": float(emp_cell[3]),
            "quits_women": float(w_quit[woman_quit].sum()),
            "quits_men": float(w_quit[~woman_quit].sum()),
            "quits_mothers_u3": float(w_quit[mother_quit].sum()),
            "exits_women": float(w_quit[woman_quit & exit_quit].sum()),
            "expected_quits_women": float(eq_cell[2] + eq_cell[3]),
            "expected_quits_men": float(eq_cell[0] + eq_cell[1]),
            "expected_quits_mothers_u3": float(eq_cell[3]),
            "expected_exits_women": float(ex_cell[2] + ex_cell[3]),
        }
        row["co2_home_t"] = row["co2_home_energy_t"] + row["co2_extra_trips_t"]
        row["co2_net_t"] = row["co2_commute_t"] + row["co2_home_t"]
        row.update(self._allowed_share)
        self.rows.append(row)
        self._programme_rows.append(self._programme_state())

    def _air_day(self, air, *, veh, veh_link, w, remote, rem_i, present) -> dict[str, float]:
        """Today's tonnes of each of :data:`POLLUTANTS` (``nox_t``, ``pm25_exhaust_t``, ``pm25_wear_t``) of the
        commuter cars (round trips at the morning slot's link speeds, as their CO2), the motorbikes (flat
        factors on the path length) and the remote days' extra car trips (at the urban reference speed);
        adds them to the links' and zones' totals. ``air``: the day's
        :class:`~sim.behaviour.emissions.AirToday` (None: zero, for a caller that gives no roads); ``veh_link``:
        commuter cars by link and slot."""
        m = self.model
        if air is None:
            return {f"{p}_t": 0.0 for p in POLLUTANTS}
        cfg, pop, paths, n_zones = m.scenario.emissions, m.population, m.paths, m.city.n_zones
        c = m.city
        intra_zone = m.active_od[paths.intra_rows] // n_zones
        # motorbike commuters today and remote workers making extra car trips: weighted km, whose grams are a
        # flat factor per pollutant (so their totals and zone sums are made once, then scaled)
        moto = self._week_moto_ids[~remote[self._week_moto_ids]]
        moto_wkm = w[moto] * present * 2 * m.dist_km[moto]
        moto_home_km = np.bincount(pop.home[moto], weights=0.5 * moto_wkm, minlength=n_zones)
        moto_work_km = np.bincount(pop.work[moto], weights=0.5 * moto_wkm, minlength=n_zones)
        extra_wkm = w[rem_i] * pop.car_available[rem_i] * present * cfg.extra_trip_km_per_remote_day
        extra_home_km = np.bincount(pop.home[rem_i], weights=extra_wkm, minlength=n_zones)
        moto_km, extra_km = float(moto_wkm.sum()), float(extra_wkm.sum())
        urban = car_pollutant_g_per_km(np.array(cfg.urban_reference_speed_kmh), cfg)
        moto_g = moto_pollutant_g_per_km(cfg)
        out = {}
        for p in POLLUTANTS:
            car_g = 2 * float(np.einsum("ij,ij->", veh, air.od_g[p]))
            link_g = 2 * np.einsum("ij,ij->i", veh_link, air.link_g[p])
            intra_g = 2 * np.einsum("ij,ij->i", veh[paths.intra_rows], air.od_g[p][paths.intra_rows])
            urban_g = float(urban[p])
            self.link_air_g[p] += link_g
            z = self.zone_air_g[p]
            z += np.bincount(c.link_from, weights=0.5 * link_g, minlength=n_zones)
            z += np.bincount(c.link_to, weights=0.5 * link_g, minlength=n_zones)
            z += np.bincount(intra_zone, weights=intra_g, minlength=n_zones)
            z += moto_g[p] * (moto_home_km + moto_work_km)
            z += urban_g * extra_home_km
            out[f"{p}_t"] = (car_g + moto_g[p] * moto_km + urban_g * extra_km) / 1e6
        return out

    # ------------------------------------------------------------------ outputs
    def daily(self) -> dict[str, list]:
        """Columns of the daily table."""
        return {k: [r[k] for r in self.rows] for k in self.rows[0]} if self.rows else {}

    def _group(self, key: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        m = self.model
        w = m.population.weight
        days = max(len(self.rows), 1)
        wsum = np.bincount(key, weights=w, minlength=n_groups)  # positions represented
        # worker-days employed: the denominator of every per-worker figure (a vacant position counts none)
        wdays = np.bincount(key, weights=w * self.employed_days, minlength=n_groups)

        def tot(x):
            return np.bincount(key, weights=w * x, minlength=n_groups)

        def per(x, d):
            return np.divide(x, d, out=np.zeros(n_groups), where=d > 0)

        trips = np.stack([tot(self.mode_trips[:, i]) for i in range(len(MODES))], axis=1)
        all_trips = trips.sum(axis=1)
        out = {
            "workers": wsum,
            "workers_employed": wdays / days,  # mean over the days: a vacant position holds nobody
            "allowed_share": per(tot(self.allowed_days), wdays),
            "remote_share": per(tot(self.remote_days), wdays),
            **{f"share_{k}": per(trips[:, i], all_trips) for i, k in enumerate(MODES)},
            "car_vkm": tot(self.mode_trips[:, CAR] * 2 * m.dist_km) / m.scenario.mode.car_occupancy,
            "commute_hours_per_worker": per(tot(self.commute_min) / 60.0 * days, wdays),  # per mean employed worker
            "co2_commute_t": tot(self.co2_commute_kg) / 1000.0,
            "co2_home_t": tot(self.co2_home_kg) / 1000.0,
            "mean_stress": per(tot(self.stress_sum), wdays),
            "high_stress_share": per(tot(self.high_stress_days), wdays),
            "quits_per_1000_per_year": per(tot(self.quits) * 1000.0 * WORKDAYS_PER_YEAR, wdays),
            "expected_quits_per_1000_per_year": per(tot(self.expected_quits) * 1000.0 * WORKDAYS_PER_YEAR, wdays),
        }
        return out

    def groups(self) -> dict[str, dict[str, list]]:
        """Tables by size class, by home zone, and by gender x caregiver."""
        m = self.model
        pop, city = m.population, m.city
        by_class = {"size_class": list(SIZE_CLASSES), **_lists(self._group(pop.worker_class.astype(np.int64), len(SIZE_CLASSES)))}
        home = pop.home.astype(np.int64)
        jobs = np.bincount(pop.work, weights=pop.weight, minlength=city.n_zones)
        by_zone = {"zone": list(range(city.n_zones)), **place_columns(city),
                   "kind": [ZONE_KINDS[k] for k in city.kind], "x_km": city.x_km.tolist(), "y_km": city.y_km.tolist(),
                   "jobs_filled": jobs.tolist(), **_lists(self._place(home, city.n_zones)),
                   # by zone of emission (not of residence): see link_air_g/zone_air_g in __init__
                   "nox_emitted_t": (self.zone_air_g["nox"] / 1e6).tolist(),
                   "pm25_emitted_t": ((self.zone_air_g["pm25_exhaust"] + self.zone_air_g["pm25_wear"]) / 1e6).tolist(),
                   "geometry_wkb": geometry_wkb(zone_geometry(city))}
        # by the position's holder at the end of the run (a position refilled during the run counts its
        # earlier holders' days in the last holder's group; quits are counted by group on the day in the daily series)
        g = m.woman.astype(np.int64) * 2 + m.caregiver.astype(np.int64)
        by_gc = {"gender": ["man", "man", "woman", "woman"], "caregiver": [False, True, False, True],
                 **_lists(self._group(g, 4))}
        care = np.where(m.child_group > 0, m.child_group, np.where(m.dependant, 4, 0)).astype(np.int64)
        by_care = {"gender": ["man"] * 5 + ["woman"] * 5, "care_group": list(CARE_GROUP_NAMES) * 2,
                   **_lists(self._group(m.woman.astype(np.int64) * 5 + care, 10))}
        seg = self._group(m.segment.astype(np.int64), len(SEGMENTS))
        by_segment = {"segment": list(SEGMENTS), **_lists(seg)}
        tables = {"by_size_class": by_class, "by_zone": by_zone, "by_gender_caregiver": by_gc,
                  "by_gender_care_group": by_care, "by_segment": by_segment}
        for name, grouping in (("by_municipio", municipio_groups(city)), ("by_comune", comune_groups(city))):
            if grouping is not None:  # absent when the city has no Municipio (no comune)
                n = grouping.n_groups
                key = np.where(grouping.of_zone >= 0, grouping.of_zone, n)[home]  # outside every group: n
                tables[name] = {**grouping.columns, "zones": grouping.zones.tolist(),
                                **{k: v[:n] for k, v in _lists(self._place(key, n + 1)).items()}}
        return tables

    def _place(self, key: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        """:meth:`_group` by home place, with the sampled head count, car round trips over the run and
        ``car_share`` (car trips / all office-day trips of the place's resident workers)."""
        g = self._group(key, n_groups)
        car = np.bincount(key, weights=self.model.population.weight * self.mode_trips[:, CAR], minlength=n_groups)
        return {"workers_sampled": np.bincount(key, minlength=n_groups), **g, "car_trips": car,
                "car_share": g["share_car"]}

    def links(self) -> dict[str, list]:
        """Road links with their mean and max peak volume/capacity and commuter vehicle-km."""
        c = self.model.city
        days = max(len(self.rows), 1)
        return {"link": list(range(c.n_links)), "from_zone": c.link_from.tolist(), "to_zone": c.link_to.tolist(),
                "from_x_km": c.x_km[c.link_from].tolist(), "from_y_km": c.y_km[c.link_from].tolist(),
                "to_x_km": c.x_km[c.link_to].tolist(), "to_y_km": c.y_km[c.link_to].tolist(),
                "kind": [LINK_KINDS[k] for k in c.link_kind],
                "km": c.link_km.tolist(), "capacity_vph": self.model.link_capacity_vph.tolist(),
                "peak_vc_mean": (self.link_peak_vc_sum / days).tolist(), "peak_vc_max": self.link_peak_vc_max.tolist(),
                "commuter_vkm": self.link_vkm.tolist(),
                "nox_kg": (self.link_air_g["nox"] / 1000.0).tolist(),
                "pm25_kg": ((self.link_air_g["pm25_exhaust"] + self.link_air_g["pm25_wear"]) / 1000.0).tolist()}

    def commute_time_bands_milan(self) -> dict[str, float]:
        """Shares of Milan residents working in Milan by their mean one-way door-to-door time on office
        days, in the Istat 2011 bands (a worker's usual time, as the census asks it)."""
        m = self.model
        days = len(self.rows)
        office = days - self.remote_days
        both = m.city.in_milan[m.population.home] & m.city.in_milan[m.population.work] & (office > 0)
        one_way = self.commute_min[both] / (2.0 * office[both])
        return time_band_shares(one_way, m.population.weight[both])

    def summary(self) -> dict:
        """The ``summary.json`` figures of this run (``hours_saved_per_worker`` is added by the runner)."""
        return self._summary_of(0, len(self.rows), mode_trips=self.mode_trips, link_vc_sum=self.link_peak_vc_sum)

    def by_year(self) -> list[dict]:
        """The summary figures of each year of the run (a year: the 12 months from the start, or its part
        the run covers), each with ``year`` (1 = the first), its first date and its workdays."""
        out = []
        bounds = [*self._year_first_row, len(self.rows)]
        trips_end = [*self._year_trips[1:], self.mode_trips]
        vc_end = [*self._year_vc_sum[1:], self.link_peak_vc_sum]
        for y, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            s = self._summary_of(a, b, mode_trips=trips_end[y] - self._year_trips[y],
                                 link_vc_sum=vc_end[y] - self._year_vc_sum[y])
            for k in ("scenario", "seed", "scale", "workers_sampled", "transit_accounting"):  # the run's, said once at the top
                del s[k]
            out.append({"year": y + 1, "first_date": self.rows[a]["date"], **s})
        return out

    def _summary_of(self, first: int, end: int, *, mode_trips: np.ndarray, link_vc_sum: np.ndarray) -> dict:
        """The summary figures over the daily rows ``first:end`` (the run, or a year of it); ``mode_trips``:
        each worker's office trips by mode over those days (n, 5), for the modal split by segment;
        ``link_vc_sum``: each link's daily peak volume/capacity summed over those days.

        Rates per year (quits) are per working year of ``WORKDAYS_PER_YEAR`` workdays, the year the
        calibration converts annual targets with, whatever the calendar year's own count (248-253).
        Stocks (women employed, SME firms offering smart working, welfare coverage) are the period's last day's.
        """
        m = self.model
        sc, pop = m.scenario, m.population
        rows = self.rows[first:end]
        d = {k: [r[k] for r in rows] for k in rows[0]}
        days = len(rows)
        w = pop.weight
        workers = float(w.sum())
        year = WORKDAYS_PER_YEAR / days
        # per worker and per 1,000: over the mean employed (a vacant position is nobody)
        employed = [r["women_employed"] + r["men_employed"] for r in rows]
        emp, women, men, mothers = (float(np.mean(x)) for x in (employed, d["women_employed"], d["men_employed"],
                                                              d["mothers_u3_employed"]))

        def per_1000(series: str, den: float) -> float:
            return float(sum(d[series])) / den * 1000.0 * year if den else 0.0

        women_start = float(w[pop.woman].sum())
        # women employed after the period's last day: that day's employed less that day's quitters
        women_end = rows[-1]["women_employed"] - rows[-1]["quits_women"]
        strain = np.array([np.mean(d[f"strain_{c}"]) for c in COMPONENTS])
        trips = np.array([sum(d[f"trips_{k}"]) for k in MODES])
        seg_key = m.segment.astype(np.int64)
        seg_trips = np.stack([np.bincount(seg_key, weights=w * mode_trips[:, i], minlength=len(SEGMENTS))
                              for i in range(len(MODES))], axis=1)
        seg_all = seg_trips.sum(axis=1)
        seg_share = np.divide(seg_trips, seg_all[:, None], out=np.zeros_like(seg_trips), where=seg_all[:, None] > 0)
        office_by_wd = {}
        for wd in WEEKDAYS:
            vals = [r["office_workers"] / e for r, e in zip(rows, employed) if r["weekday"] == wd]
            office_by_wd[wd] = round(float(np.mean(vals)), 6) if vals else None
        s = {
            "scenario": sc.name,
            "workers": round(workers, 3),
            "workers_sampled": int(pop.n_workers),
            "days": days,
            "seed": sc.seed,
            "scale": sc.scale,
            # remote worker-days over employed worker-days (a vacant position is nobody)
            "remote_share": float(sum(r["remote_share"] * e for r, e in zip(rows, employed)) / sum(employed)),
            "car_vkm": float(sum(d["car_vkm"])),
            "co2_commute_t": float(sum(d["co2_commute_t"])),
            "co2_home_t": float(sum(d["co2_home_t"])),
            "co2_home_energy_t": float(sum(d["co2_home_energy_t"])),
            "co2_extra_trips_t": float(sum(d["co2_extra_trips_t"])),
            "commute_hours_per_worker": float(sum(d["commute_hours"])) / emp,
            "office_days_per_worker": float(sum(d["office_workers"])) / emp,
            "delay_hours": float(sum(d["delay_hours"])),
            "mean_stress": float(np.mean(d["mean_stress"])),
            "high_stress_share": float(np.mean(d["high_stress_share"])),
            # expected quits (the sum of the daily quit probabilities: no sampling noise) and the realised draws
            "quits_women_per_1000": per_1000("expected_quits_women", women),
            "quits_men_per_1000": per_1000("expected_quits_men", men),
            "quits_women_per_1000_realised": per_1000("quits_women", women),
            "quits_men_per_1000_realised": per_1000("quits_men", men),
            "mothers_u3_quits_per_1000": per_1000("expected_quits_mothers_u3", mothers),
            "mothers_u3_quits_per_1000_realised": per_1000("quits_mothers_u3", mothers),
            "exits_from_work_women_per_1000": per_1000("expected_exits_women", women),
            "exits_from_work_women_per_1000_realised": per_1000("exits_women", women),
            "women_employed_end": women_end / women_start * 1000.0 if women_start else 0.0,
            **{f"strain_share_{c}": float(strain[k] / strain.sum()) if strain.sum() > 0 else 0.0
               for k, c in enumerate(COMPONENTS)},
            "modal_split": dict(zip(MODES, (trips / trips.sum()).tolist() if trips.sum() > 0 else [0.0] * 5)),
            "modal_split_by_segment": {s_: {k: float(seg_share[i, j]) for j, k in enumerate(MODES)}
                                       for i, s_ in enumerate(SEGMENTS)},
            "adoption_by_size": {k: float(np.mean(d[f"allowed_{k}"])) for k in SIZE_CLASSES},
            "office_attendance_by_weekday": office_by_wd,
            "peak_extra_time": float(np.mean(d["peak_extra_time"])),
            # the congestion map's darkest road: each link's peak volume/capacity averaged over the workdays,
            # the highest link (one definition for the table and the map's title)
            "peak_vc_max": float(np.max(link_vc_sum / days)) if len(link_vc_sum) else 0.0,
            "transit_peak_load": float(np.mean(d["transit_peak_load"])),
            "transit_peak_load_by_network": {k: float(np.mean(d[f"transit_peak_load_{k}"])) for k in TRANSIT_NETWORKS},
            "car_vehicle_hours": float(sum(d["car_vehicle_hours"])),
            **self._break_even(),
            "car_trips_to_area_c": float(sum(d["car_trips_area_c"])) * year,
            # mean over the days of the workers holding an employer-paid pass (the appraisal's cost of the passes)
            "transit_pass_urban_share": float(np.mean(d["transit_pass_urban"])) / workers,
            "transit_pass_regional_share": float(np.mean(d["transit_pass_regional"])) / workers,
        }
        s["co2_net_t"] = s["co2_commute_t"] + s["co2_home_t"]
        for p in POLLUTANTS:
            s[f"{p}_t"] = float(sum(d[f"{p}_t"]))
        s["pm25_t"] = s["pm25_exhaust_t"] + s["pm25_wear_t"]
        # net CO2 of the period's days in the heating season and of the others: the daily co2_net_t summed by
        # the rows' heating_season flag (the two add up to co2_net_t, to rounding)
        heat = np.asarray(d["heating_season"], dtype=bool)
        net = np.asarray(d["co2_net_t"], dtype=np.float64)
        s["co2_net_heating_season_t"] = float(net[heat].sum())
        s["co2_net_other_t"] = float(net[~heat].sum())
        s["transit_accounting"] = sc.emissions.transit_accounting
        s.update(self._programme(d, self._programme_rows[end - 1]))
        return s

    def _break_even(self) -> dict[str, float]:
        """The one-way car commute above which a remote day saves CO2, for a car commuter at the scenario's
        occupancy with the population's mean expected household (weighted): in the heating season, outside
        it, and over a working year from the start (whatever the period: a property of the factors)."""
        m = self.model
        cfg, w = m.scenario.emissions, m.population.weight
        occ = m.scenario.mode.car_occupancy
        kg = {season: float(np.average(np.broadcast_to(home_kg_per_remote_day(
            season, cfg, empty=m.household.empty, autonomous=m.household.autonomous), w.shape), weights=w))
            for season in (True, False)}
        share = heating_fraction(cfg, m.calendar.dates(WORKDAYS_PER_YEAR))
        year_kg = share * kg[True] + (1 - share) * kg[False]
        return {"break_even_km": break_even_km(home_kg=year_kg, cfg=cfg, car_occupancy=occ),
                "break_even_km_heating": break_even_km(home_kg=kg[True], cfg=cfg, car_occupancy=occ),
                "break_even_km_other": break_even_km(home_kg=kg[False], cfg=cfg, car_occupancy=occ)}

    def _programme_state(self) -> tuple[float, float]:
        """Today's share of SME firms offering smart working and share of workers covered by corporate
        welfare (both move: adoption monthly, a timed welfare lever weekly)."""
        m = self.model
        pop, firms = m.population, self._sme_firms
        regime = m.scenario.policy.smart_working
        adopting = {"off": 0.0, "all_remote": 1.0}.get(regime)  # the limit cases: nobody / everybody allowed
        if adopting is None:
            adopting = float(np.mean(m.adopted[firms])) if firms.any() else 0.0
        covered = m.welfare_cut > 0
        return adopting, float(pop.weight[covered].sum() / pop.weight.sum())

    def _programme(self, d: dict, last_state: tuple[float, float]) -> dict[str, float]:
        """The Comune's programme KPIs: SME smart-working uptake (workers allowed, firms offering it) and
        corporate-welfare coverage (``last_state``: :meth:`_programme_state` on the period's last day)."""
        sme = [SIZE_CLASSES.index(k) for k in SME_CLASSES]
        workers = self._class_workers[sme]
        allowed = sum(np.asarray(d[f"allowed_{SIZE_CLASSES[i]}"]) * self._class_workers[i] for i in sme)
        adopting, coverage = last_state
        return {
            # mean over the days of the share of SME workers allowed (each day's share from the week's plan)
            "sme_allowed_share": float(np.mean(allowed) / workers.sum()) if workers.sum() > 0 else 0.0,
            "sme_firms_adopting_share": adopting,
            "welfare_coverage_share": coverage,
        }


@njit(cache=True, nogil=True)
def _add_worker_day(weight, employed, round_trip_min, round_delay_min, commute_kg, present, stress, high_threshold,
                    quit_p, cell, week_car_w, commute_min, co2_commute_kg, stress_sum, high_stress_days,
                    employed_days, expected_quits):
    """Add one day to the per-worker totals (the last six arrays, in place) and return its weighted sums.

    A worker's times and kg are scaled by ``present`` (the share not on leave); a vacant position weighs
    nothing. Returns ``sums`` (employed weight, minutes of round trips, minutes of delay, kg CO2 of commutes,
    stress, workers above the high-stress threshold, car commuters' minutes by this week's plan), and the employed weight and the expected quits (weight x probability) by
    hazard cell (4,)."""
    sums = np.zeros(7)
    emp_cell, eq_cell = np.zeros(4), np.zeros(4)
    for i in range(len(weight)):
        trip_min, kg = round_trip_min[i] * present, commute_kg[i] * present
        commute_min[i] += trip_min
        co2_commute_kg[i] += kg
        expected_quits[i] += quit_p[i]
        eq_cell[cell[i]] += weight[i] * quit_p[i]
        sums[6] += week_car_w[i] * trip_min
        if not employed[i]:
            continue
        w = weight[i]
        high = stress[i] > high_threshold
        stress_sum[i] += stress[i]
        high_stress_days[i] += high
        employed_days[i] += 1
        emp_cell[cell[i]] += w
        sums[0] += w
        sums[1] += w * trip_min
        sums[2] += w * (round_delay_min[i] * present)
        sums[3] += w * kg
        sums[4] += w * stress[i]
        if high:
            sums[5] += w
    return sums, emp_cell, eq_cell


def _wsum(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of products of two vectors with numpy's own loop (np.dot would call a multi-threaded BLAS:
    the daily totals stay on one core, and their value does not depend on the BLAS thread count)."""
    return float(np.einsum("i,i->", a, b))


def _lists(d: dict[str, np.ndarray]) -> dict[str, list]:
    return {k: np.asarray(v).tolist() for k, v in d.items()}
