"""The live day-by-day view: a small-scale model stepped the way Mesa's SolaraViz steps one.

:class:`LiveModel` is the ordinary :class:`~sim.model.CommuteModel` that stops (``running =
False``) after the scenario's days, so Mesa's ``ModelController`` (step, play, pause, reset) can
drive it. The figures read only what the model has recorded so far (``model.metrics.rows``) and
who works remotely today (``model.remote_mask``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.model import CommuteModel
from sim.prepare import prepare
from sim.outputs.maps import milan_zones, zone_map
from sim.world.city import ZONE_KINDS
from sim.outputs.zones import zone_geometry

LIVE_SCALE = 0.005  # ~6,000 workers: a day takes milliseconds, calibration about a second
SERIES = (("remote_share", "Remote share of workers today", 1.0),
          ("car_trip_share", "Car share of today's commutes", 1.0),
          ("peak_extra_time", "Peak extra car time over free flow", 1.0),
          ("mean_stress", "Mean stress (0-10)", 1.0))


class LiveModel(CommuteModel):
    """CommuteModel that stops after ``scenario.days`` workdays (for Mesa's ModelController)."""

    def step(self) -> None:
        if self.day >= self.scenario.days:
            self.running = False
            return
        super().step()
        self.running = self.day < self.scenario.days


def live_model(scenario) -> LiveModel:
    """A live model of the scenario on freshly prepared inputs (city, population, calibration)."""
    inputs = prepare(scenario)
    return LiveModel(scenario, inputs.calibration, city=inputs.city, population=inputs.population)


def series(model: CommuteModel) -> dict[str, np.ndarray]:
    """Day-by-day values recorded so far: remote share, car share of trips, peak extra time, stress."""
    rows = model.metrics.rows
    out = {k: np.array([r[k] for r in rows], dtype=float) for k in ("remote_share", "peak_extra_time", "mean_stress")}
    trips = np.array([[r[k] for k in r if k.startswith("trips_")] for r in rows], dtype=float).reshape(len(rows), -1)
    car = np.array([r["trips_car"] for r in rows], dtype=float)
    out["car_trip_share"] = np.divide(car, trips.sum(axis=1), out=np.zeros(len(rows)), where=trips.sum(axis=1) > 0)
    return out


def remote_today_by_zone(model: CommuteModel) -> np.ndarray:
    """Share of each home zone's workers working remotely on the last simulated day (NaN: nobody lives there)."""
    city, pop = model.city, model.population
    remote = model.remote_mask[:, (model.day - 1) % 5] if model.day else np.zeros(pop.n_workers, dtype=bool)
    workers = np.bincount(pop.home, weights=pop.weight, minlength=city.n_zones)
    remote_w = np.bincount(pop.home, weights=pop.weight * remote, minlength=city.n_zones)
    return np.divide(remote_w, workers, out=np.full(city.n_zones, np.nan), where=workers > 0)


def live_figure(model: CommuteModel) -> Figure:
    """Four small panels of the series so far (on the scenario's whole horizon) and today's map."""
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    grid_spec = fig.add_gridspec(2, 3, width_ratios=(1, 1, 0.9))
    axes = np.array([[fig.add_subplot(grid_spec[r, c]) for c in range(2)] for r in range(2)])
    data = series(model)
    days = np.arange(len(model.metrics.rows))
    for ax, (key, title, _) in zip(axes.ravel(), SERIES):
        ax.plot(days, data[key], color="#1f77b4", lw=1.4)
        ax.set_title(title, fontsize=12)
        # the axis grows with the run (a few days ahead), never past the scenario's horizon
        ax.set_xlim(0, min(max(len(days) + 4, 10), max(model.scenario.days - 1, 1)))
        ax.tick_params(labelsize=11)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("workday", fontsize=11)
    share = 100 * remote_today_by_zone(model)
    city = model.city
    # the colour scale to the 95th percentile: a zone of two sampled workers would set it to 100%
    top = float(np.nanpercentile(share, 95)) if np.isfinite(share).any() else 0.0
    milan = milan_zones({"municipio": city.municipio, "kind": np.array(ZONE_KINDS)[city.kind]})
    m = zone_map(fig, grid_spec[:, 2], geoms=zone_geometry(city), values=share, unit="% of the zone's workers",
                 label="remote today", cmap="viridis", vmin=0.0, vmax=max(30.0, top), milan=milan,
                 zoom=False)  # one small panel beside the series
    m.axes[0].set_title("Remote today, share by home zone", fontsize=12)
    return fig
