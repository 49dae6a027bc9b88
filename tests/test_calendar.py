"""The Italian calendar, the run's horizon (days and years) and levers in time."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from sim.scenario.load import ScenarioError, load_scenario
from sim.world import calendar as cal

from .conftest import BASELINE, small

MILAN = (12, 7)


def test_easter_sundays_of_known_years():
    # published dates of Easter Sunday
    known = {2024: (3, 31), 2025: (4, 20), 2026: (4, 5), 2027: (3, 28), 2030: (4, 21), 2038: (4, 25)}
    for year, (m, d) in known.items():
        assert cal.easter_sunday(year) == dt.date(year, m, d)


def test_holidays_of_2025_in_milan():
    h = cal.holidays(2025, MILAN)
    assert dt.date(2025, 4, 21) in h  # Easter Monday
    assert dt.date(2025, 12, 7) in h and dt.date(2025, 12, 7) not in cal.holidays(2025)  # Sant'Ambrogio, Milan only
    assert len(h) == 12  # 10 fixed national days + Easter Monday + the patron saint
    # 2025: 261 weekdays; on weekdays fall 1 and 6 Jan, 21 Apr, 25 Apr, 1 May, 2 Jun, 15 Aug, 8, 25, 26 Dec -> 251
    assert cal.workdays_in_years(dt.date(2025, 1, 1), 1, None) == 251
    assert cal.workdays_in_years(dt.date(2025, 1, 1), 1, MILAN) == 251  # 7 Dec 2025 is a Sunday
    # 2026: 261 weekdays; on weekdays fall 1, 6 Jan, 6 Apr (Easter Monday), 1 May, 2 Jun, 7 (Milan), 8, 25 Dec -> 253
    assert cal.workdays_in_years(dt.date(2026, 1, 1), 1, MILAN) == 253
    assert cal.workdays_in_years(dt.date(2026, 1, 1), 1, None) == 254
    assert all(d.weekday() < 5 and d not in h for d in cal.workdays_between(dt.date(2025, 1, 1), dt.date(2026, 1, 1), MILAN))


def test_calendar_weeks_and_leave():
    sc = small(days=160)
    c = cal.build_calendar(sc)
    dates = c.dates(160)
    assert dates[0] == dt.date(2025, 1, 7)  # 6 January (Epiphany) is no workday
    assert len(set(dates)) == 160 and dates == sorted(dates)
    starts = [d for d in range(160) if c.week_start(d)]
    assert starts[0] == 0
    # weeks open on Mondays, but on the Tuesday after Easter Monday (21 April) and after 2 June (a Monday in 2025)
    assert {dates[d] for d in starts[1:] if c.weekday(d) != 0} == {dt.date(2025, 4, 22), dt.date(2025, 6, 3)}
    assert len(starts) == len({d.isocalendar()[:2] for d in dates})  # one start per week
    aug = c.dates(200)
    i = aug.index(dt.date(2025, 8, 12))
    assert c.present(i) == pytest.approx(1 - sc.calendar.august_leave_share)
    assert c.present(aug.index(dt.date(2025, 8, 1))) == 1.0
    assert c.year_index(0) == 0 and c.date(251) >= dt.date(2026, 1, 6) and c.year_index(251) == 1


def test_days_and_years_combine(tmp_path):
    assert load_scenario(BASELINE, years=3).days == cal.workdays_in_years(dt.date(2025, 1, 6), 3, MILAN)
    child = tmp_path / "two_years.yaml"
    child.write_text(f"name: two\nextends: {BASELINE}\nyears: 2\ndays: null\n", encoding="utf-8")
    assert load_scenario(child).days == cal.workdays_in_years(dt.date(2025, 1, 6), 2, MILAN)
    assert load_scenario(BASELINE, ["years=2"], days=20).days == 20  # --days drops the file's years
    one = cal.workdays_in_years(dt.date(2025, 1, 6), 1, MILAN)
    assert load_scenario(BASELINE, ["years=1", f"days={one}"]).days == one  # agreeing values are fine
    with pytest.raises(ScenarioError) as exc:
        load_scenario(BASELINE, ["years=2", "days=20"])
    assert ("days (20) and years (2) conflict: 2 years from 2025-01-06 hold "
            f"{cal.workdays_in_years(dt.date(2025, 1, 6), 2, MILAN)} workdays; give one of them "
            "(days: null in the file, or --years on the command line)") in str(exc.value)
    with pytest.raises(ScenarioError, match="--days and --years: give one of them"):
        load_scenario(BASELINE, days=20, years=2)
    with pytest.raises(ScenarioError, match="less than or equal to 10"):
        load_scenario(BASELINE, years=11)


def _timing(start=None, end=None, ramp=0.0):
    return SimpleNamespace(start=start, end=end, ramp_months=ramp)


def test_intensity_starts_ramps_and_ends():
    t = _timing("2026-01-01", "2028-01-01", 12)
    assert cal.intensity(t, dt.date(2025, 12, 31)) == 0.0
    assert cal.intensity(t, dt.date(2026, 1, 1)) == 0.0
    mid = cal.intensity(t, dt.date(2026, 7, 2))
    assert 0.45 < mid < 0.55
    assert cal.intensity(t, dt.date(2027, 1, 2)) == 1.0
    assert cal.intensity(t, dt.date(2027, 12, 31)) == 1.0
    assert cal.intensity(t, dt.date(2028, 1, 1)) == 0.0
    assert cal.intensity(_timing(), dt.date(1999, 1, 1)) == 1.0  # no start: always on
    assert cal.intensity(_timing("2026-01-01"), dt.date(2026, 1, 1)) == 1.0  # no ramp: full at once
    levels = [cal.intensity(t, dt.date(2026, 1, 1) + dt.timedelta(days=k)) for k in range(0, 400, 7)]
    assert levels == sorted(levels)  # the ramp never goes down


def test_lever_end_before_start_is_refused():
    with pytest.raises(ScenarioError, match=r"end \(2026-01-01\) must be after start \(2026-06-01\)"):
        load_scenario(BASELINE, ["policy.sme_support.start=2026-06-01", "policy.sme_support.end=2026-01-01"])
