"""Difference maps: a policy run minus its baseline, by home zone, from two results folders.

Inputs: the two runs' ``by_zone`` tables (columns as lists; the same city, matched by ``zone_id``).
Outputs: the difference of each figure of :data:`DIFFERENCE_METRICS` by zone (:func:`zone_difference`)
and its map (:func:`difference_figure`): a diverging colour scale centred on 0 with the unit of the
difference, zones with fewer than :data:`~sim.outputs.maps.MIN_SAMPLED_WORKERS` sampled residents in
either run hatched as "too few workers" (their difference is noise, not a finding), zones without a
polygon left out. Car trips and CO2 are per resident worker, so that a large zone does not look like a
large effect. The report draws them for every run after the first (:mod:`sim.outputs.report`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.i18n import DEFAULT_LANGUAGE, t
from sim.outputs.maps import MIN_SAMPLED_WORKERS, ZONE_METRICS, milan_zones, zone_map
from sim.outputs.zones import read_geometry

DIFFERENCE_METRICS = ("remote_share", "car_trips_per_worker", "co2_per_worker", "mean_stress")


class ZoneMismatch(ValueError):
    """The two runs are not on the same zones."""


def zone_difference(base: dict, other: dict, metric: str,
                    min_sampled: int = MIN_SAMPLED_WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """``other`` minus ``base`` of ``metric`` by zone (in the unit shown), and the zones with too few workers.

    Returns:
        (difference, too_few): float (n_zones,), NaN where nobody lives in either run; bool (n_zones,),
        True where either run sampled fewer than ``min_sampled`` residents.

    Raises:
        ZoneMismatch: the runs' ``zone_id`` columns differ.
    """
    if list(base.get("zone_id", [])) != list(other.get("zone_id", [])):
        raise ZoneMismatch("the two runs are not on the same zones (zone_id differs): no difference map")
    m = ZONE_METRICS[metric]
    diff = m.values(other) - m.values(base)
    sampled = np.minimum(np.asarray(base["workers_sampled"]), np.asarray(other["workers_sampled"]))
    return diff, sampled < min_sampled


def difference_figure(base: dict, other: dict, metric: str, *, base_label: str, other_label: str,
                      min_sampled: int = MIN_SAMPLED_WORKERS, figsize=(8.0, 5.0),
                      lang: str = DEFAULT_LANGUAGE) -> Figure:
    """The map of :func:`zone_difference` (the figure, not saved), its words and numbers in ``lang``."""
    m = ZONE_METRICS[metric]
    diff, too_few = zone_difference(base, other, metric, min_sampled)
    fig = Figure(figsize=figsize, layout="constrained")
    zone_map(fig, geoms=read_geometry(other.get("geometry_wkb")), values=diff, unit=m.diff_unit_in(lang),
             label=t("map.change_in", lang, label=m.word("label", lang)), cmap="PuOr_r", diverging=True,
             milan=milan_zones(other), hatched=too_few, hatched_label=t("map.too_few", lang, n=min_sampled), lang=lang)
    fig.suptitle(t("map.dif_title", lang, what=t(f"dif_metric.{metric}", lang), run=other_label, base=base_label),
                 fontsize=10)
    return fig


def group_differences(base: dict, other: dict, key: str) -> list[dict]:
    """Rows of ``other`` minus ``base`` of every :data:`DIFFERENCE_METRICS` figure for each group of a
    by-place table (``by_municipio``: ``key`` ``municipio``; ``by_comune``: ``comune``), matched by
    ``key``; each row has the group, its sampled workers (the fewer of the two runs) and one value
    per metric (in the unit shown)."""
    index = {g: i for i, g in enumerate(other.get(key, []))}
    rows = []
    for i, g in enumerate(base.get(key, [])):
        j = index.get(g)
        if j is None:
            continue
        one = {c: [v[i]] for c, v in base.items()}
        two = {c: [v[j]] for c, v in other.items()}
        row = {key: g, "workers_sampled": min(int(base["workers_sampled"][i]), int(other["workers_sampled"][j]))}
        for m in DIFFERENCE_METRICS:
            row[m] = float(ZONE_METRICS[m].values(two)[0] - ZONE_METRICS[m].values(one)[0])
        rows.append(row)
    return rows
