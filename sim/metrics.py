"""Metrics: daily series, per-worker totals, tables by group, and the run summary.

Inputs: what each day produces (masks and per-worker arrays from :meth:`CommuteModel.step`).
Outputs: ``daily()`` (one row per day, every series), ``groups()`` (tables by size class, home zone,
gender x caregiver), ``links()`` (peak volume/capacity by road link) and ``summary()`` (the
``summary.json`` contract). Every total is weighted, i.e. a full-population equivalent.
"""

from __future__ import annotations

import numpy as np

from .city import LINK_KINDS, ZONE_KINDS
from .emissions import break_even_km, heating_fraction
from .mode_choice import CAR
from .traffic import peak_extra_time
from .schema import MODES, SEGMENTS, SIZE_CLASSES, WEEKDAYS



class Metrics:
    """Accumulates a run's figures day by day.

    Args:
        model: the :class:`~sim.model.CommuteModel` whose days are recorded.
    """

    def __init__(self, model):
        self.model = model
        n = model.population.n_workers
        self.rows: list[dict] = []
        # per-worker totals over the run
        self.remote_days = np.zeros(n, dtype=np.int32)
        self.mode_trips = np.zeros((n, len(MODES)), dtype=np.int32)
        self.commute_min = np.zeros(n)
        self.co2_commute_kg = np.zeros(n)
        self.co2_home_kg = np.zeros(n)
        self.stress_sum = np.zeros(n)
        self.high_stress_days = np.zeros(n, dtype=np.int32)
        self.quits = np.zeros(n, dtype=np.int32)
        self.allowed_days = np.zeros(n, dtype=np.int32)
        n_links = model.city.n_links
        self.link_peak_vc_sum = np.zeros(n_links)
        self.link_peak_vc_max = np.zeros(n_links)
        self.link_vkm = np.zeros(n_links)
        self._allowed = np.zeros(n, dtype=bool)

    def record_day(self, *, day, remote, office, car_i, veh, vol, od_min, round_trip_min, round_delay_min,
                   load, commute_kg, home_kg, extra_kg, heating, quit) -> None:
        """Add one day. Arrays are per worker unless named otherwise (car_i: indices of car commuters
        today; veh: OD x slot; vol: link x slot)."""
        m = self.model
        pop, w, sc = m.population, m.population.weight, m.scenario
        if day % 5 == 0 or not self.rows:  # the plan, hence who is allowed, changes on Mondays
            self._allowed = m.allowed()
            cls = pop.worker_class
            num = np.bincount(cls, weights=w * self._allowed, minlength=len(SIZE_CLASSES))
            den = np.bincount(cls, weights=w, minlength=len(SIZE_CLASSES))
            self._allowed_share = {f"allowed_{k}": float(num[i] / den[i]) if den[i] > 0 else 0.0
                                   for i, k in enumerate(SIZE_CLASSES)}
        n_idx = np.nonzero(office)[0]
        self.mode_trips.reshape(-1)[n_idx * len(MODES) + m.mode[n_idx]] += 1
        self.remote_days += remote
        self.allowed_days += self._allowed
        self.commute_min += round_trip_min
        self.co2_commute_kg += commute_kg
        self.co2_home_kg += home_kg + extra_kg
        stress = m.stress
        high = stress > sc.wellbeing.high_stress_threshold
        self.stress_sum += stress
        self.high_stress_days += high
        self.quits += quit

        cap = m.city.link_capacity_vph[:, None]
        vc_peak = (vol[:, m.peak_slots] / cap).max(axis=1) if len(m.peak_slots) else np.zeros(len(cap))
        self.link_peak_vc_sum += vc_peak
        np.maximum(self.link_peak_vc_max, vc_peak, out=self.link_peak_vc_max)
        commuter_veh_link = m.Pt @ veh.sum(axis=1)
        self.link_vkm += 2 * commuter_veh_link * m.city.link_km

        W = w.sum()
        trips = np.bincount(m.mode, weights=w * office, minlength=len(MODES))
        w_car = w[car_i]
        car_vkm = float(np.dot(w_car, 2 * m.dist_km[car_i])) / sc.mode.car_occupancy
        car_veh_h = float(np.dot(w_car, round_trip_min[car_i])) / 60.0 / sc.mode.car_occupancy
        row = {
            "day": day, "date": m.date(day).isoformat(), "weekday": WEEKDAYS[day % 5], "heating_season": bool(heating),
            "remote_share": float(np.dot(w, remote)) / W,
            "office_workers": float(np.dot(w, office)),
            **{f"trips_{k}": float(trips[i]) for i, k in enumerate(MODES)},
            "car_vkm": car_vkm, "car_vehicle_hours": car_veh_h,
            "delay_hours": float(np.dot(w, round_delay_min)) / 60.0,
            "commute_hours": float(np.dot(w, round_trip_min)) / 60.0,
            "peak_vc_max": float(vc_peak.max()) if len(vc_peak) else 0.0,
            "peak_extra_time": peak_extra_time(veh, od_min, m.od_t0_active, m.peak_slots),
            "transit_peak_load": float(load.max()),
            "co2_commute_t": float(np.dot(w, commute_kg)) / 1000.0,
            "co2_home_energy_t": float(np.dot(w, home_kg)) / 1000.0,
            "co2_extra_trips_t": float(np.dot(w, extra_kg)) / 1000.0,
            "mean_stress": float(np.dot(w, stress)) / W,
            "high_stress_share": float(np.dot(w, high)) / W,
            "quits_women": float(np.dot(w, quit & pop.woman)),
            "quits_men": float(np.dot(w, quit & ~pop.woman)),
        }
        row["co2_home_t"] = row["co2_home_energy_t"] + row["co2_extra_trips_t"]
        row["co2_net_t"] = row["co2_commute_t"] + row["co2_home_t"]
        row.update(self._allowed_share)
        self.rows.append(row)

    # ------------------------------------------------------------------ outputs
    def daily(self) -> dict[str, list]:
        """Columns of the daily table."""
        return {k: [r[k] for r in self.rows] for k in self.rows[0]} if self.rows else {}

    def _group(self, key: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        m = self.model
        w = m.population.weight
        days = max(len(self.rows), 1)
        wsum = np.bincount(key, weights=w, minlength=n_groups)

        def tot(x):
            return np.bincount(key, weights=w * x, minlength=n_groups)

        def per(x, d):
            return np.divide(x, d, out=np.zeros(n_groups), where=d > 0)

        trips = np.stack([tot(self.mode_trips[:, i]) for i in range(len(MODES))], axis=1)
        all_trips = trips.sum(axis=1)
        out = {
            "workers": wsum,
            "allowed_share": per(tot(self.allowed_days), wsum * days),
            "remote_share": per(tot(self.remote_days), wsum * days),
            **{f"share_{k}": per(trips[:, i], all_trips) for i, k in enumerate(MODES)},
            "car_vkm": tot(self.mode_trips[:, CAR] * 2 * m.dist_km) / m.scenario.mode.car_occupancy,
            "commute_hours_per_worker": per(tot(self.commute_min) / 60.0, wsum),
            "co2_commute_t": tot(self.co2_commute_kg) / 1000.0,
            "co2_home_t": tot(self.co2_home_kg) / 1000.0,
            "mean_stress": per(tot(self.stress_sum), wsum * days),
            "high_stress_share": per(tot(self.high_stress_days), wsum * days),
            "quits_per_1000_per_year": per(tot(self.quits) * 1000.0 * 250.0 / days, wsum),
        }
        return out

    def groups(self) -> dict[str, dict[str, list]]:
        """Tables by size class, by home zone, and by gender x caregiver."""
        m = self.model
        pop, city = m.population, m.city
        by_class = {"size_class": list(SIZE_CLASSES), **_lists(self._group(pop.worker_class.astype(np.int64), len(SIZE_CLASSES)))}
        zone = self._group(pop.home.astype(np.int64), city.n_zones)
        jobs = np.bincount(pop.work, weights=pop.weight, minlength=city.n_zones)
        by_zone = {"zone": list(range(city.n_zones)), "name": list(city.names) or [str(i) for i in range(city.n_zones)],
                   "kind": [ZONE_KINDS[k] for k in city.kind], "x_km": city.x_km.tolist(), "y_km": city.y_km.tolist(),
                   "jobs_filled": jobs.tolist(), **_lists(zone)}
        g = pop.woman.astype(np.int64) * 2 + pop.caregiver.astype(np.int64)
        by_gc = {"gender": ["man", "man", "woman", "woman"], "caregiver": [False, True, False, True],
                 **_lists(self._group(g, 4))}
        seg = self._group(m.segment.astype(np.int64), len(SEGMENTS))
        by_segment = {"segment": list(SEGMENTS), **_lists(seg)}
        return {"by_size_class": by_class, "by_zone": by_zone, "by_gender_caregiver": by_gc, "by_segment": by_segment}

    def links(self) -> dict[str, list]:
        """Road links with their mean and max peak volume/capacity and commuter vehicle-km."""
        c = self.model.city
        days = max(len(self.rows), 1)
        return {"link": list(range(c.n_links)), "from_zone": c.link_from.tolist(), "to_zone": c.link_to.tolist(),
                "from_x_km": c.x_km[c.link_from].tolist(), "from_y_km": c.y_km[c.link_from].tolist(),
                "to_x_km": c.x_km[c.link_to].tolist(), "to_y_km": c.y_km[c.link_to].tolist(),
                "kind": [LINK_KINDS[k] for k in c.link_kind],
                "km": c.link_km.tolist(), "capacity_vph": c.link_capacity_vph.tolist(),
                "peak_vc_mean": (self.link_peak_vc_sum / days).tolist(), "peak_vc_max": self.link_peak_vc_max.tolist(),
                "commuter_vkm": self.link_vkm.tolist()}

    def summary(self) -> dict:
        """The ``summary.json`` figures of this run (``hours_saved_per_worker`` is added by the runner)."""
        m = self.model
        sc, pop = m.scenario, m.population
        d = self.daily()
        days = len(self.rows)
        w = pop.weight
        workers = float(w.sum())
        women = float(w[pop.woman].sum())
        men = workers - women
        year = 250.0 / days
        trips = np.array([sum(d[f"trips_{k}"]) for k in MODES])
        seg = self._group(m.segment.astype(np.int64), len(SEGMENTS))  # only this table is needed here
        office_by_wd = {}
        for wd in WEEKDAYS:
            vals = [r["office_workers"] for r in self.rows if r["weekday"] == wd]
            office_by_wd[wd] = round(float(np.mean(vals)) / workers, 6) if vals else None
        s = {
            "scenario": sc.name,
            "workers": round(workers, 3),
            "workers_sampled": int(pop.n_workers),
            "days": days,
            "seed": sc.seed,
            "scale": sc.scale,
            "remote_share": float(np.dot(w, self.remote_days)) / (workers * days),
            "car_vkm": float(sum(d["car_vkm"])),
            "co2_commute_t": float(sum(d["co2_commute_t"])),
            "co2_home_t": float(sum(d["co2_home_t"])),
            "co2_home_energy_t": float(sum(d["co2_home_energy_t"])),
            "co2_extra_trips_t": float(sum(d["co2_extra_trips_t"])),
            "commute_hours_per_worker": float(sum(d["commute_hours"])) / workers,
            "office_days_per_worker": float(sum(d["office_workers"])) / workers,
            "delay_hours": float(sum(d["delay_hours"])),
            "mean_stress": float(np.mean(d["mean_stress"])),
            "high_stress_share": float(np.mean(d["high_stress_share"])),
            "quits_women_per_1000": float(sum(d["quits_women"])) / women * 1000.0 * year if women else 0.0,
            "quits_men_per_1000": float(sum(d["quits_men"])) / men * 1000.0 * year if men else 0.0,
            "modal_split": dict(zip(MODES, (trips / trips.sum()).tolist() if trips.sum() > 0 else [0.0] * 5)),
            "modal_split_by_segment": {s_: {k: float(seg[f"share_{k}"][i]) for k in MODES} for i, s_ in enumerate(SEGMENTS)},
            "adoption_by_size": {k: float(np.mean(d[f"allowed_{k}"])) for k in SIZE_CLASSES},
            "office_attendance_by_weekday": office_by_wd,
            "peak_extra_time": float(np.mean(d["peak_extra_time"])),
            "peak_vc_max": float(np.max(d["peak_vc_max"])),
            "transit_peak_load": float(np.mean(d["transit_peak_load"])),
            "car_vehicle_hours": float(sum(d["car_vehicle_hours"])),
            "break_even_km": break_even_km(sc.emissions, heating_fraction(sc.emissions)),
        }
        s["co2_net_t"] = s["co2_commute_t"] + s["co2_home_t"]
        return s


def _lists(d: dict[str, np.ndarray]) -> dict[str, list]:
    return {k: np.asarray(v).tolist() for k, v in d.items()}
