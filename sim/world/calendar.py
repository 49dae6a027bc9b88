"""The Italian working calendar: which dates are workdays, and how strongly a lever acts on a date.

One owner of the calendar for the fast model, the per-agent reference and the outputs. A workday
is a Monday-Friday that is not a national holiday nor the city's patron saint's day:

* national holidays (Legge 27 maggio 1949 n. 260 as amended by Legge 5 marzo 1977 n. 54 and
  DPR 28 dicembre 1985 n. 792): 1 and 6 January, Easter Monday, 25 April, 1 May, 2 June,
  15 August, 1 November, 8 December, 25 and 26 December;
* the patron saint of the Comune (Milan: Sant'Ambrogio, 7 December), a holiday for the city's
  employers by the national collective agreements (``calendar.patron_saint``).

The August slowdown (``calendar.august_leave_share`` between ``august_leave_from`` and
``august_leave_to``) is a share of workers on leave on those workdays: the day stays a workday,
its commuter flows and commute totals are scaled by the share present (:meth:`Calendar.present`).

A run covers ``days`` workdays from ``start`` (the first workday on or after it), or ``years``
whole years from ``start``. ``year_index[d]`` is the year of workday ``d`` counted from the start
(0 = the 12 months from ``start``), used for the yearly outputs and the time-varying inputs.

:func:`intensity` is the one rule of levers in time: 0 before the lever's ``start``, rising
linearly over ``ramp_months`` to 1, 1 until ``end``, 0 from ``end`` on.
"""

from __future__ import annotations

import datetime as dt
import numpy as np

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri")
# fixed-date national holidays (month, day), Legge 260/1949 as amended (1977, 1985)
NATIONAL_HOLIDAYS = ((1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26))
DAYS_PER_MONTH = 365.25 / 12  # mean month, for ramps given in months


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def holidays(year: int, patron_saint: tuple[int, int] | None = None) -> set[dt.date]:
    """Holidays of ``year``: national ones, Easter Monday, and the patron saint's day (month, day) if given."""
    days = {dt.date(year, m, d) for m, d in NATIONAL_HOLIDAYS}
    days.add(easter_sunday(year) + dt.timedelta(days=1))
    if patron_saint is not None:
        days.add(dt.date(year, *patron_saint))
    return days


def is_workday(date: dt.date, patron_saint: tuple[int, int] | None = None) -> bool:
    """Monday-Friday and not a holiday."""
    return date.weekday() < 5 and date not in holidays(date.year, patron_saint)


def add_years(date: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February in a common year)."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)


def add_months(date: dt.date, months: float) -> dt.date:
    """``date`` plus ``months`` mean months (30.44 days each), to the day."""
    return date + dt.timedelta(days=round(months * DAYS_PER_MONTH))


def workdays_between(first: dt.date, end: dt.date, patron_saint: tuple[int, int] | None = None) -> list[dt.date]:
    """Workdays from ``first`` (included) to ``end`` (excluded)."""
    out, d = [], first
    while d < end:
        if is_workday(d, patron_saint):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def workdays_from(first: dt.date, n: int, patron_saint: tuple[int, int] | None = None) -> list[dt.date]:
    """The first ``n`` workdays on or after ``first``."""
    out, d = [], first
    while len(out) < n:
        if is_workday(d, patron_saint):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def workdays_in_years(start: dt.date, years: int, patron_saint: tuple[int, int] | None = None) -> int:
    """Workdays in ``years`` whole years from ``start``."""
    return len(workdays_between(start, add_years(start, years), patron_saint))


def parse_month_day(text: str | None) -> tuple[int, int] | None:
    """(month, day) of an ``MM-DD`` string (already validated by the schema), None for None."""
    if text is None:
        return None
    month, day = (int(x) for x in text.split("-"))
    return month, day


def _in_window(date: dt.date, start: tuple[int, int], end: tuple[int, int]) -> bool:
    md = (date.month, date.day)
    return start <= md <= end if start <= end else md >= start or md <= end


class Calendar:
    """The run's workdays, day by day: the date of workday ``day`` (0 = the first workday on or after
    ``start``), its weekday (0 = Monday), whether it opens a new week (first workday of its ISO week, or
    day 0), the share of workers present (1 - the August leave), and the year of the run it falls in
    (0 = the 12 months from ``start``). Days past the scenario's (a calibration's warm-up) are made on demand.
    """

    def __init__(self, *, start: dt.date, patron_saint: tuple[int, int] | None, leave_share: float,
                 leave_from: tuple[int, int], leave_to: tuple[int, int], days: int = 0):
        self.start, self.patron_saint = start, patron_saint
        self._leave = (leave_share, leave_from, leave_to)
        self._dates: list[dt.date] = []
        self._extend(days)

    def _extend(self, n: int) -> None:
        d = self._dates[-1] + dt.timedelta(days=1) if self._dates else self.start
        while len(self._dates) < n:
            if is_workday(d, self.patron_saint):
                self._dates.append(d)
            d += dt.timedelta(days=1)

    def date(self, day: int) -> dt.date:
        if day >= len(self._dates):
            self._extend(max(day + 1, 2 * len(self._dates)))
        return self._dates[day]

    def dates(self, days: int) -> list[dt.date]:
        self.date(max(days - 1, 0))
        return self._dates[:days]

    def weekday(self, day: int) -> int:
        return self.date(day).weekday()

    def week_start(self, day: int) -> bool:
        """Whether workday ``day`` is the first of its week in the run (the weekly plan is made on it)."""
        return day == 0 or self.date(day).isocalendar()[:2] != self.date(day - 1).isocalendar()[:2]

    def present(self, day: int) -> float:
        """Share of workers not on leave on workday ``day``."""
        share, leave_from, leave_to = self._leave
        return 1.0 - share if _in_window(self.date(day), leave_from, leave_to) else 1.0

    def year_index(self, day: int) -> int:
        """Year of the run of workday ``day`` (0 = the 12 months from ``start``)."""
        date, y = self.date(day), 0
        while date >= add_years(self.start, y + 1):
            y += 1
        return y

    def year_start(self, year: int) -> dt.date:
        """First calendar date of year ``year`` of the run."""
        return add_years(self.start, year)

    def years_of(self, days: int) -> np.ndarray:
        """Year of the run of each of the first ``days`` workdays."""
        return np.array([self.year_index(d) for d in range(days)], dtype=np.int64)


def build_calendar(scenario) -> Calendar:
    """The calendar of a validated scenario (its ``start``, ``calendar`` section and ``days``)."""
    cfg = scenario.calendar
    return Calendar(start=dt.date.fromisoformat(scenario.start), patron_saint=parse_month_day(cfg.patron_saint),
                    leave_share=cfg.august_leave_share, leave_from=parse_month_day(cfg.august_leave_from),
                    leave_to=parse_month_day(cfg.august_leave_to), days=scenario.days)


def intensity(timing, date: dt.date) -> float:
    """How strongly a lever acts on ``date`` (0-1), from its ``start``, ``end`` and ``ramp_months``.

    ``timing`` is a lever block (any object with those three attributes; ``start``/``end`` ISO dates or
    None). No ``start`` means from the beginning of time; the ramp rises linearly from 0 on ``start``
    to 1 ``ramp_months`` later; on ``end`` and after, 0.
    """
    start = dt.date.fromisoformat(timing.start) if timing.start else None
    end = dt.date.fromisoformat(timing.end) if timing.end else None
    if end is not None and date >= end:
        return 0.0
    if start is None:
        return 1.0
    if date < start:
        return 0.0
    if timing.ramp_months <= 0:
        return 1.0
    return min(1.0, (date - start).days / (timing.ramp_months * DAYS_PER_MONTH))


def scaled(value_at_full: float, neutral: float, level: float) -> float:
    """A lever's parameter at intensity ``level``: ``neutral`` at 0, ``value_at_full`` at 1 (exactly), linear between."""
    return value_at_full if level >= 1.0 else neutral + level * (value_at_full - neutral)


# the policy blocks that take start, end and ramp_months (sim.scenario.schema.LeverTiming)
LEVER_BLOCKS = ("sme_support", "remote_days", "staggered_hours", "flexible_hours", "corporate_welfare",
                "welfare_transit_pass")


def lever_levels(policy, date: dt.date) -> dict[str, float]:
    """Intensity of every timed lever block of ``policy`` (the scenario's ``policy`` section) on ``date``."""
    return {name: intensity(getattr(policy, name), date) for name in LEVER_BLOCKS}
