"""Mesa agents: views on the model's columnar state.

The state of a million workers lives in numpy arrays on :class:`sim.model.CommuteModel`; a
:class:`Worker` is the object a user inspects, subclasses or follows, and it reads and writes its
own row. Workers and firms are made on demand (``model.worker(i)``, ``model.firm(f)``): a run of
1.2 million workers and ~135,000 firms holds only the agents someone asked for.
"""

from __future__ import annotations

import mesa

from sim.scenario.schema import MODES, SIZE_CLASSES


class Worker(mesa.Agent):
    """One worker, reading and writing row ``worker_id`` of the model's arrays.

    Args:
        model: the :class:`~sim.model.CommuteModel`.
        worker_id: row index (0 .. n_workers-1).
    """

    def __init__(self, model, worker_id: int):
        super().__init__(model)
        self.worker_id = int(worker_id)

    # -- fixed attributes
    @property
    def home_zone(self) -> int:
        return int(self.model.population.home[self.worker_id])

    @property
    def work_zone(self) -> int:
        return int(self.model.population.work[self.worker_id])

    @property
    def firm_id(self) -> int:
        return int(self.model.population.worker_firm[self.worker_id])

    @property
    def size_class(self) -> str:
        return SIZE_CLASSES[self.model.population.worker_class[self.worker_id]]

    @property
    def woman(self) -> bool:
        """The current holder of the position (a vacated position keeps its last holder's)."""
        return bool(self.model.woman[self.worker_id])

    @property
    def caregiver(self) -> bool:
        return bool(self.model.caregiver[self.worker_id])

    @property
    def employed(self) -> bool:
        """False while the position is vacant."""
        return bool(self.model.employed[self.worker_id])

    @property
    def teleworkable(self) -> bool:
        return bool(self.model.population.teleworkable[self.worker_id])

    @property
    def commute_km(self) -> float:
        """One-way car path length (km)."""
        return float(self.model.dist_km[self.worker_id])

    # -- state
    @property
    def remote_days(self) -> int:
        """Remote days planned this week."""
        return int(self.model.remote_days[self.worker_id])

    @property
    def remote_weekdays(self) -> list[str]:
        return [d for d, r in zip(("mon", "tue", "wed", "thu", "fri"), self.model.remote_mask[self.worker_id]) if r]

    @property
    def mode(self) -> str:
        return MODES[self.model.mode[self.worker_id]]

    @property
    def slot(self) -> int:
        return int(self.model.slot[self.worker_id])

    @property
    def stress(self) -> float:
        return float(self.model.stress[self.worker_id])

    @stress.setter
    def stress(self, value: float) -> None:
        self.model.stress[self.worker_id] = value


class Firm(mesa.Agent):
    """An employer, reading and writing row ``firm_id`` of the model's firm arrays (``adopted``).

    Args:
        model: the :class:`~sim.model.CommuteModel`.
        firm_id: row index into the firm arrays.
    """

    def __init__(self, model, firm_id: int):
        super().__init__(model)
        self.firm_id = int(firm_id)

    @property
    def zone(self) -> int:
        """Zone of the workplace."""
        return int(self.model.population.firm_zone[self.firm_id])

    @property
    def size_class(self) -> str:
        return SIZE_CLASSES[self.model.population.firm_class[self.firm_id]]

    @property
    def employees(self) -> float:
        """Full-population employees."""
        return float(self.model.population.firm_employees[self.firm_id])

    @property
    def adopted(self) -> bool:
        return bool(self.model.adopted[self.firm_id])

    @adopted.setter
    def adopted(self, value: bool) -> None:
        self.model.adopted[self.firm_id] = bool(value)
