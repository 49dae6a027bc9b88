"""Traffic: car trips by OD pair and slot loaded on fixed paths, BPR delay, transit crowding.

Link flows are ``path_links.T @ trips`` (vehicles per slot, converted to vehicles per hour) plus
background traffic: the school runs, errands, business trips and goods vehicles that share the roads
with commuters. The background on each link is fixed by the baseline: at its peak it is
``(1 - s)/s`` times the baseline commuters' peak flow on the link, ``s`` the commuters' share of
peak traffic for the link's kind (so a policy that takes commuters off a road leaves the others on
it), shaped over the morning by ``traffic.background_profile``. Link times follow the BPR function
``t0*(1 + alpha*(v/c)^beta)`` on the capacities times the calibrated ``road_capacity_factor``; OD
times are ``path_links @ link_times``.

Transit has two networks with their own capacity: *urban* (ATM: trips inside the Comune) and
*regional* (Trenord and coaches: trips crossing its boundary). The load of a network in a slot is
its riders per hour over the places per hour left for commuters; above a threshold (0.8 by
default) each unit of load multiplies the perceived and experienced in-vehicle time (crowding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


def link_volumes(commuter_link_vehicles: np.ndarray, slot_hours: float, background_vph: np.ndarray) -> np.ndarray:
    """Vehicles per hour on each link and slot (n_links, n_slots), from the commuter cars on each link in each slot."""
    return commuter_link_vehicles / slot_hours + background_vph


def bpr_times(t0_min: np.ndarray, volume_vph: np.ndarray, capacity_vph: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """BPR link time in minutes (n_links, n_slots)."""
    vc = volume_vph / capacity_vph[:, None]
    return t0_min[:, None] * (1.0 + alpha * vc ** beta)


def od_times(path_links: sparse.csr_matrix, link_min: np.ndarray, intrazonal: np.ndarray, intrazonal_min: np.ndarray) -> np.ndarray:
    """Car time per OD pair and slot (n_od, n_slots); trips inside a zone keep their own time."""
    t = path_links @ link_min
    t[intrazonal] = intrazonal_min[:, None]
    return t


URBAN, REGIONAL = range(2)  # indices of sim.scenario.schema.TRANSIT_NETWORKS


def background_vph(peak_vph: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """Non-commute traffic (n_links, n_slots): each link's peak background times ``profile / max(profile)``."""
    prof = profile / profile.max() if profile.max() > 0 else profile
    return peak_vph[:, None] * prof[None, :]


def background_peak_vph(*, commuter_peak_vph: np.ndarray, commuter_share: np.ndarray) -> np.ndarray:
    """Peak background per link: ``(1 - s)/s`` times the commuters' peak flow, ``s`` the link's commuter share."""
    return commuter_peak_vph * (1.0 - commuter_share) / commuter_share


def commuter_peak_vph(Pt: sparse.csr_matrix, od_slot_vehicles: np.ndarray, peak_slots: np.ndarray, slot_hours: float) -> np.ndarray:
    """Commuter cars per hour on each link, averaged over the peak slots (n_links,)."""
    return (Pt @ od_slot_vehicles[:, peak_slots]).mean(axis=1) / slot_hours


def transit_network(home_in_milan: np.ndarray, work_in_milan: np.ndarray) -> np.ndarray:
    """Each worker's transit network: urban when home and work are both in the Comune, else regional (int8)."""
    return np.where(home_in_milan & work_in_milan, URBAN, REGIONAL).astype(np.int8)


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
    """The roads of one day by link and slot: commuter cars (vehicles in the slot), volumes (veh/h, with the background)
    and times (min); car minutes by active OD pair and slot."""

    commuter_vehicles: np.ndarray
    vol: np.ndarray
    link_min: np.ndarray
    od_min: np.ndarray


def load_roads(*, paths: Paths, od_slot_vehicles: np.ndarray, slot_hours: float, background_vph: np.ndarray,
               link_t0_min: np.ndarray, link_capacity_vph: np.ndarray, cfg) -> Roads:
    """Commuter cars on their fixed paths plus background traffic; BPR link times; OD times along the paths.

    ``cfg``: the scenario's ``traffic`` section (``bpr_alpha``, ``bpr_beta``).
    """
    commuter_vehicles = paths.Pt @ od_slot_vehicles
    vol = link_volumes(commuter_vehicles, slot_hours, background_vph)
    link_min = bpr_times(link_t0_min, vol, link_capacity_vph, cfg.bpr_alpha, cfg.bpr_beta)
    od_min = od_times(paths.P, link_min, paths.intra_rows, paths.t0_min[paths.intra_rows])
    return Roads(commuter_vehicles=commuter_vehicles, vol=vol, link_min=link_min, od_min=od_min)


def transit_load(*, riders_per_slot: np.ndarray, slot_hours: float, capacity_per_hour: np.ndarray, capacity_factor: float) -> np.ndarray:
    """Riders per hour over capacity by network and slot (n_networks, n_slots); the transit-capacity lever multiplies the capacity.

    Args:
        riders_per_slot: riders by network and slot (n_networks, n_slots).
        capacity_per_hour: places per hour left for commuters on each network (n_networks,).
    """
    riders = riders_per_slot / slot_hours
    return riders / (capacity_per_hour[:, None] * capacity_factor)


def capacity_for_peak_load(*, riders_per_slot: np.ndarray, slot_hours: float, target_load: np.ndarray) -> np.ndarray:
    """Places per hour of each network that make its busiest slot's load equal ``target_load`` (n_networks,)."""
    return np.maximum(riders_per_slot.max(axis=1) / slot_hours, 1e-9) / target_load
