"""Warnings when a run's horizon or season cannot show what its levers do.

Read from a results folder (the resolved scenario and ``daily.parquet``), so the report, the CLI
and the app give the same words:

- SME support on and fewer than :data:`SME_MIN_DAYS` workdays: the programme works through Bass
  adoption among small firms (``adoption``), a slow process; two working years is the shortest
  horizon in which most of its effect shows.
- every simulated workday inside the heating season (the ``heating_season`` column of
  ``daily.parquet``): a remote day then also heats a home (``emissions.home_heating_kwh``), so smart
  working looks worse for CO2 than over a whole year.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from sim.i18n import DEFAULT_LANGUAGE, long_date, t
from sim.scenario.schema import WORKDAYS_PER_YEAR

SME_MIN_DAYS = 2 * WORKDAYS_PER_YEAR  # two working years


def run_warnings(scenario: dict, daily: dict, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The warnings of one run: its resolved scenario (a dict) and its daily table (columns as lists)."""
    out = []
    days = scenario.get("days") or len(daily.get("day", [])) or WORKDAYS_PER_YEAR
    sme = (scenario.get("policy") or {}).get("sme_support") or {}
    if sme.get("enabled") and days < SME_MIN_DAYS:
        out.append(t("warning.sme_short", lang, days=days, min_days=SME_MIN_DAYS))
    heating, dates = daily.get("heating_season") or [], daily.get("date") or []
    if heating and all(heating) and len(dates) == len(heating):
        first, last = (dt.date.fromisoformat(str(d)[:10]) for d in (dates[0], dates[-1]))
        out.append(t("warning.heating_only", lang, start=long_date(first, lang), end=long_date(last, lang)))
    return out


def read_daily(folder: Path) -> dict:
    """The ``day``, ``date`` and ``heating_season`` columns of a folder's ``daily.parquet`` ({} if absent)."""
    try:
        table = pq.read_table(Path(folder) / "daily.parquet")
    except (OSError, ValueError):
        return {}
    return {c: table.column(c).to_pylist() for c in ("day", "date", "heating_season") if c in table.column_names}


def horizon_warnings(runs: list[tuple[dict, dict]], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """Every warning of the runs ((scenario, daily) pairs), once each: a horizon shared by several runs is said once."""
    return list(dict.fromkeys(w for sc, daily in runs if sc for w in run_warnings(sc, daily, lang)))
