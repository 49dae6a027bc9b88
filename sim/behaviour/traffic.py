"""Traffic: car trips by OD pair and slot loaded on fixed paths, BPR delay, transit crowding.

Link flows are ``path_links.T @ trips`` (vehicles per slot, converted to vehicles per hour) plus
background traffic (non-commute trips, a share of capacity by slot); link times follow the BPR
function ``t0*(1 + alpha*(v/c)^beta)``; OD times are ``path_links @ link_times``. Transit load per
slot is riders per hour over capacity; above a threshold (0.8 by default) each unit of load multiplies the perceived and
experienced in-vehicle time (crowding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


def link_volumes(path_links_t: sparse.csr_matrix, od_slot_vehicles: np.ndarray, slot_hours: float,
                 background_vph: np.ndarray) -> np.ndarray:
    """Vehicles per hour on each link and slot (n_links, n_slots)."""
    return path_links_t @ od_slot_vehicles / slot_hours + background_vph


def bpr_times(t0_min: np.ndarray, volume_vph: np.ndarray, capacity_vph: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """BPR link time in minutes (n_links, n_slots)."""
    vc = volume_vph / capacity_vph[:, None]
    return t0_min[:, None] * (1.0 + alpha * vc ** beta)


def od_times(path_links: sparse.csr_matrix, link_min: np.ndarray, intrazonal: np.ndarray, intrazonal_min: np.ndarray) -> np.ndarray:
    """Car time per OD pair and slot (n_od, n_slots); trips inside a zone keep their own time."""
    t = path_links @ link_min
    t[intrazonal] = intrazonal_min[:, None]
    return t


def background_vph(capacity_vph: np.ndarray, background_vc: float, profile: np.ndarray) -> np.ndarray:
    """Non-commute traffic (n_links, n_slots): ``background_vc * capacity * profile / max(profile)``."""
    prof = profile / profile.max() if profile.max() > 0 else profile
    return background_vc * capacity_vph[:, None] * prof[None, :]


def peak_extra_time(veh: np.ndarray, od_min: np.ndarray, od_t0: np.ndarray, peak_slots: np.ndarray) -> float:
    """Extra car time over free flow in the peak, TomTom-style: sum(veh*(t - t0)) / sum(veh*t0)."""
    v = veh[:, peak_slots]
    base = (v * od_t0[:, None]).sum()
    return float((v * (od_min[:, peak_slots] - od_t0[:, None])).sum() / base) if base > 0 else 0.0


def transit_crowding(load: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """Time multiplier from load (riders/capacity): 1 + beta*max(0, load - threshold)."""
    return 1.0 + beta * np.maximum(0.0, load - threshold)


# ---------------------------------------------------------------------------------- composition
@dataclass
class Paths:
    """The fixed car paths of the OD pairs somebody commutes on ("active"), not all n_zones^2.

    ``P``: (active OD, link) incidence and ``Pt`` its transpose; ``t0_min``, ``km``: free-flow time and
    length per active pair; ``intra_rows``: rows of the trips inside one zone (no links; their own time).
    """

    P: sparse.csr_matrix
    Pt: sparse.csr_matrix
    t0_min: np.ndarray
    km: np.ndarray
    intra_rows: np.ndarray


def active_paths(*, path_links: sparse.csr_matrix, od_t0_min: np.ndarray, od_km: np.ndarray, active_od: np.ndarray,
                 n_zones: int) -> Paths:
    """The paths of the active OD pairs (``active_od``: sorted flat OD indices) out of all routes."""
    P = path_links[active_od]
    return Paths(P=P, Pt=P.T.tocsr(), t0_min=od_t0_min[active_od], km=od_km[active_od],
                 intra_rows=np.nonzero(active_od % (n_zones + 1) == 0)[0])


@dataclass
class Roads:
    """The roads of one day: link volumes (veh/h) and times (min) by link and slot, car minutes by active OD pair and slot."""

    vol: np.ndarray
    link_min: np.ndarray
    od_min: np.ndarray


def load_roads(*, paths: Paths, od_slot_vehicles: np.ndarray, slot_hours: float, background_vph: np.ndarray,
               link_t0_min: np.ndarray, link_capacity_vph: np.ndarray, cfg) -> Roads:
    """Commuter cars on their fixed paths plus background traffic; BPR link times; OD times along the paths.

    ``cfg``: the scenario's ``traffic`` section (``bpr_alpha``, ``bpr_beta``).
    """
    vol = link_volumes(paths.Pt, od_slot_vehicles, slot_hours, background_vph)
    link_min = bpr_times(link_t0_min, vol, link_capacity_vph, cfg.bpr_alpha, cfg.bpr_beta)
    od_min = od_times(paths.P, link_min, paths.intra_rows, paths.t0_min[paths.intra_rows])
    return Roads(vol=vol, link_min=link_min, od_min=od_min)


def transit_load(*, riders_per_slot: np.ndarray, slot_hours: float, capacity_per_hour: float, capacity_factor: float) -> np.ndarray:
    """Riders per hour over capacity in each slot; the transit-capacity lever multiplies the capacity."""
    riders = riders_per_slot / slot_hours
    return riders / (capacity_per_hour * capacity_factor)
