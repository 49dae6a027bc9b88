"""Appraisal: what a run's policy costs and what its effects are worth, in euros, against its baseline.

Inputs: the baseline's and the run's ``summary.json`` (their ``by_year`` figures; a folder without
them counts as one year) and the run's resolved scenario (its ``appraisal`` unit values, its
levers). Every figure is computed from the two runs year by year, discounted to the run's first
year at ``appraisal.discount_rate`` (year ``t`` weighs ``1 / (1 + r)^(t-1)``):

benefits (baseline minus run, so a saving is positive)
    ``commute_time``: commute hours of all workers x value of time;
    ``congestion_delay``: hours of congestion delay x value of time x (delay multiplier - 1), the
    premium of delay over the plain time already counted;
    ``car_running_cost``: car vehicle-km x ``mode.car_cost_per_km``;
    ``co2``: net CO2 (commutes and remote days at home) x the shadow price of the calendar year x
    ``co2_price_scale``;
    ``nox``, ``pm25``: tonnes of NOx and of PM2.5 (exhaust and wear) of the commutes x their damage cost per tonne;
    ``women_kept``: women's quits avoided x (months out of work x earnings + replacement cost);
    ``transit_fares_saved``: the fares the holders of an employer-paid pass no longer pay, valued at
    the passes' price (the other side of ``welfare_transit_pass``: the pass moves money from employers
    to workers, so the two cancel in the NPV and what remains is what the pass changes in time, delay,
    running costs, CO2 and quits);
costs
    ``sme_support``: additional SMEs offering smart working (from the adoption shares, the classes'
    teleworkable shares and mean firm sizes) x cost per firm and year, when the run's lever is on;
    ``corporate_welfare``: additional covered workers (coverage by size class x the classes' employment
    shares x the lever's mean intensity over the year) x cost per covered worker and year;
    ``welfare_transit_pass``: additional holders of an employer-paid season ticket (covered workers who
    commute by transit, the run's daily mean less the baseline's) x the annual pass price, the ATM
    urban pass for a commute inside the Comune, an integrated STIBM/Trenord pass for one crossing its
    boundary. This is the employers' outlay; the holders' side is ``transit_fares_saved``.

``npv_eur`` = sum of benefits - sum of costs (present values); ``bcr`` = benefits / costs; the
cost-effectiveness figures divide the present value of the costs by the undiscounted physical
effect (t CO2 avoided, hours saved, women kept), None when the effect is not positive.
"""

from __future__ import annotations

import datetime as dt

from sim.i18n import DEFAULT_LANGUAGE, number, t
from sim.scenario.schema import SIZE_CLASSES, WORKDAYS_PER_YEAR, Scenario
from sim.world.calendar import intensity, parse_month_day, workdays_from

SME_CLASSES = ("micro", "small", "medium")
BENEFITS = ("commute_time", "congestion_delay", "car_running_cost", "co2", "nox", "pm25", "women_kept",
            "transit_fares_saved")
COSTS = ("sme_support", "corporate_welfare", "welfare_transit_pass")


def co2_price(prices: dict[int, float], year: int) -> float:
    """Shadow price of CO2 in calendar ``year``: linear between the years given, flat outside them."""
    years = sorted(prices)
    if year <= years[0]:
        return prices[years[0]]
    if year >= years[-1]:
        return prices[years[-1]]
    hi = next(y for y in years if y >= year)
    lo = max(y for y in years if y <= year)
    return prices[lo] if hi == lo else prices[lo] + (prices[hi] - prices[lo]) * (year - lo) / (hi - lo)


def _years(summary: dict) -> list[dict]:
    return summary.get("by_year") or [{**summary, "year": 1, "first_date": None}]


def _adopting_smes(year: dict, sc: Scenario, workers: float) -> float:
    """SMEs offering smart working (full-population firms) averaged over the year, from the workers allowed."""
    tele = sc.population.teleworkable_share_by_class()
    pop = sc.population
    out = 0.0
    for c in SME_CLASSES:
        if tele[c] > 0:
            allowed_workers = year["adoption_by_size"][c] * workers * pop.employment_share[c]
            out += allowed_workers / tele[c] / pop.mean_firm_size[c]
    return out


def _covered_share(welfare, sc: Scenario) -> float:
    """Share of all workers the welfare scheme covers at full intensity: each size class's coverage
    weighted by the class's share of employment."""
    share = sc.population.employment_share
    return sum(getattr(welfare.coverage, c) * share[c] for c in SIZE_CLASSES)


def _pass_holders(year: dict, workers: float, ap) -> float:
    """EUR a year of the employer-paid season tickets of a year's summary: holders by pass x price
    (0 for a summary written before the lever existed)."""
    return workers * (year.get("transit_pass_urban_share", 0.0) * ap.transit_pass_urban_eur_per_year
                      + year.get("transit_pass_regional_share", 0.0) * ap.transit_pass_regional_eur_per_year)


def _mean_intensity(timing, first: dt.date | None, days: int, sc: Scenario) -> float:
    """Mean intensity of a lever over the ``days`` workdays from ``first`` (1 when the dates are unknown)."""
    if first is None:
        return intensity(timing, dt.date.fromisoformat(sc.start))
    dates = workdays_from(first, days, parse_month_day(sc.calendar.patron_saint))
    return sum(intensity(timing, d) for d in dates) / len(dates)


def appraise(*, base: dict, run: dict, scenario: Scenario, base_scenario: Scenario | None = None) -> dict:
    """The appraisal block of ``run`` (a summary) against ``base`` (the baseline's), with the run's ``scenario``
    (its unit values and levers) and the baseline's (its levers; default: none of the costed levers on)."""
    ap = scenario.appraisal
    workers = float(run["workers"])
    women = workers * scenario.population.women_share
    per_woman = ap.woman_annual_earnings_eur * (ap.months_out_of_work / 12.0 + ap.replacement_cost_share)
    car_eur_km = scenario.mode.car_cost_per_km
    benefits = dict.fromkeys(BENEFITS, 0.0)
    costs = dict.fromkeys(COSTS, 0.0)
    co2_t = hours = women_kept = 0.0
    by_year = []
    years_run, years_base = _years(run), _years(base)
    for b, r in zip(years_base, years_run):
        t = int(r["year"])
        disc = 1.0 / (1.0 + ap.discount_rate) ** (t - 1)
        first = dt.date.fromisoformat(r["first_date"]) if r.get("first_date") else None
        cal_year = first.year if first else dt.date.fromisoformat(scenario.start).year
        days = int(r["days"])
        h = (b["commute_hours_per_worker"] - r["commute_hours_per_worker"]) * workers
        delay = b["delay_hours"] - r["delay_hours"]
        co2 = b["co2_net_t"] - r["co2_net_t"]
        kept = (b["quits_women_per_1000"] - r["quits_women_per_1000"]) / 1000.0 * women * days / WORKDAYS_PER_YEAR
        price = co2_price(ap.co2_eur_per_t, cal_year) * ap.co2_price_scale
        passes_eur = max(_pass_holders(r, workers, ap) - _pass_holders(b, workers, ap), 0.0) * days / WORKDAYS_PER_YEAR
        year_benefits = {
            "commute_time": h * ap.value_of_time_eur_per_h,
            "congestion_delay": delay * ap.value_of_time_eur_per_h * (ap.delay_time_multiplier - 1.0),
            "car_running_cost": (b["car_vkm"] - r["car_vkm"]) * car_eur_km,
            "co2": co2 * price,
            # air pollution (0 for a summary written before the air-quality KPIs)
            "nox": (b.get("nox_t", 0.0) - r.get("nox_t", 0.0)) * ap.nox_eur_per_t,
            "pm25": (b.get("pm25_t", 0.0) - r.get("pm25_t", 0.0)) * ap.pm25_eur_per_t,
            "women_kept": kept * per_woman,
            "transit_fares_saved": passes_eur,  # a transfer: the holders' side of the employers' outlay
        }
        share_of_year = days / WORKDAYS_PER_YEAR
        sme_cost = 0.0
        if scenario.policy.sme_support.enabled:
            extra = _adopting_smes(r, scenario, workers) - _adopting_smes(b, scenario, workers)
            sme_cost = max(extra, 0.0) * ap.sme_eur_per_firm_year * share_of_year
        covered = 0.0
        for sc_, sign in ((scenario, 1.0), (base_scenario, -1.0)):
            cw = sc_.policy.corporate_welfare if sc_ is not None else None
            if cw is not None and cw.enabled:
                covered += sign * _covered_share(cw, sc_) * workers * _mean_intensity(cw, first, days, sc_)
        year_costs = {"sme_support": sme_cost,
                      "corporate_welfare": max(covered, 0.0) * ap.welfare_eur_per_covered_worker_year * share_of_year,
                      "welfare_transit_pass": passes_eur}
        for k, v in year_benefits.items():
            benefits[k] += disc * v
        for k, v in year_costs.items():
            costs[k] += disc * v
        co2_t, hours, women_kept = co2_t + co2, hours + h, women_kept + kept
        by_year.append({"year": t, "discount_factor": disc, "co2_price_eur_per_t": price,
                        "benefits_eur": year_benefits, "costs_eur": year_costs})
    total_b, total_c = sum(benefits.values()), sum(costs.values())

    def per(effect: float) -> float | None:
        return total_c / effect if effect > 0 and total_c > 0 else None

    return {
        "years": len(by_year),
        "costs_eur": costs, "benefits_eur": benefits,
        "npv_eur": total_b - total_c,
        "bcr": total_b / total_c if total_c > 0 else None,
        "eur_per_t_co2_avoided": per(co2_t),
        "eur_per_hour_saved": per(hours),
        "eur_per_woman_kept": per(women_kept),
        "co2_avoided_t": co2_t, "hours_saved": hours, "women_kept": women_kept,
        "by_year": by_year,
    }


def unit_values(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """(key, value, unit, source) of every unit value of the appraisal, as the schema declares them."""
    out = []
    for name, f in type(scenario.appraisal).model_fields.items():
        extra = f.json_schema_extra or {}
        value = getattr(scenario.appraisal, name)
        text = ", ".join(f"{y}: {v:g}" for y, v in value.items()) if isinstance(value, dict) else f"{value:g}"
        out.append((f"appraisal.{name}", text, extra.get("unit", ""), extra.get("source", "")))
    out.append(("mode.car_cost_per_km", f"{scenario.mode.car_cost_per_km:g}", "EUR/km",
                (type(scenario.mode).model_fields["car_cost_per_km"].json_schema_extra or {}).get("source", "")))
    return out


def scenario_from(resolved: dict | None) -> Scenario | None:
    """The scenario of a results folder's ``scenario.resolved.yaml`` content (None if absent or no longer valid)."""
    if not resolved:
        return None
    try:
        return Scenario.model_validate({k: v for k, v in resolved.items() if k != "extends"})
    except ValueError:  # a folder written by an older version
        return None


def appraise_runs(base_summary: dict, base_resolved: dict | None, run_summary: dict, run_resolved: dict | None) -> dict | None:
    """:func:`appraise` of two results folders' summaries and resolved scenarios; None without the run's scenario."""
    scenario = scenario_from(run_resolved)
    if scenario is None:
        return None
    base_scenario = scenario_from(base_resolved)
    block = appraise(base=base_summary, run=run_summary, scenario=scenario, base_scenario=base_scenario)
    return with_intervals(block, base=base_summary, run=run_summary, scenario=scenario, base_scenario=base_scenario)


FIGURES = ("npv_eur", "bcr", "eur_per_t_co2_avoided", "eur_per_hour_saved", "eur_per_woman_kept")  # given intervals


def _summaries_of_replications(summary: dict, picks: list) -> list[dict] | None:
    """One summary per ``pick`` of a run with replications, each flattened KPI of its ``replications``
    block (``pick(kpi)`` of it) put back into its section; None without replications, or for a run of
    more than one year (the per-seed figures are kept for the whole run only, not year by year)."""
    rep = summary.get("replications")
    if not rep or len(summary.get("by_year") or []) > 1:
        return None
    out = []
    for pick in picks:
        s = {k: (dict(v) if isinstance(v, dict) else v) for k, v in summary.items() if k not in ("replications", "by_year")}
        for key, kpi in rep["kpis"].items():
            head, _, tail = key.partition(".")
            if tail and isinstance(s.get(head), dict) and "." not in tail:
                s[head][tail] = pick(kpi)
            elif not tail:
                s[key] = pick(kpi)
        out.append(s)
    return out


def seed_summaries(summary: dict) -> list[dict] | None:
    """One summary per seed of a run with replications (see :func:`_summaries_of_replications`)."""
    n = (summary.get("replications") or {}).get("n", 0)
    return _summaries_of_replications(summary, [lambda kpi, i=i: kpi["values"][i] for i in range(n)])


def mean_summary(summary: dict) -> dict | None:
    """The summary of a run with replications with every KPI at its mean over the seeds (the folder's
    own figures are the first seed's); None as for :func:`seed_summaries`."""
    out = _summaries_of_replications(summary, [lambda kpi: kpi["mean"]])
    return out[0] if out else None


def with_intervals(block: dict | None, *, base: dict, run: dict, scenario: Scenario,
                   base_scenario: Scenario | None = None) -> dict | None:
    """``block`` (the appraisal of the two folders' own figures) with, when both runs have replications
    with the same seeds, its figures and parts re-computed from the runs' means over the seeds (the
    appraisal is linear in the KPIs, so its parts are the seeds' mean parts and still add up to the NPV),
    ``per_seed`` (each seed's figures, base seed against run seed: paired) and ``intervals`` (for each of
    :data:`FIGURES` defined for every seed, :func:`sim.outputs.replications.t_interval` of its per-seed
    values); otherwise ``per_seed`` and ``intervals`` are None."""
    from sim.outputs.replications import t_interval  # a reader of the outputs, not of the model

    if block is None:
        return None
    b_seeds, r_seeds = seed_summaries(base), seed_summaries(run)
    rb, rr = base.get("replications") or {}, run.get("replications") or {}
    if b_seeds is None or r_seeds is None or rb.get("seeds") != rr.get("seeds"):
        return {**block, "per_seed": None, "intervals": None}
    per_seed = []
    for seed, b, r in zip(rr["seeds"], b_seeds, r_seeds):
        a = appraise(base=b, run=r, scenario=scenario, base_scenario=base_scenario)
        per_seed.append({"seed": seed, **{k: a[k] for k in FIGURES}})
    intervals = {k: t_interval([p[k] for p in per_seed]) for k in FIGURES
                 if all(p[k] is not None for p in per_seed)}
    mean_block = appraise(base=mean_summary(base), run=mean_summary(run), scenario=scenario, base_scenario=base_scenario)
    return {**mean_block, "per_seed": per_seed, "intervals": intervals}


def _eur(x: float | None, lang: str) -> str:
    return t("number.missing", lang) if x is None else t("compare.app_eur", lang, value=number(x, 0, lang))


def text_lines(label: str, block: dict | None, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The appraisal of one run as the lines ``run.py compare`` prints, in ``lang``."""
    if block is None:
        return [t("compare.app_na", lang, label=label)]
    bcr = t("number.missing", lang) if block["bcr"] is None else number(block["bcr"], 2, lang)
    head = "compare.app_head_one" if block["years"] == 1 else "compare.app_head_many"
    out = [t(head, lang, label=label, years=block["years"], npv=_eur(block["npv_eur"], lang), bcr=bcr)]
    out.append(t("compare.app_costs", lang, items=", ".join(f"{k} {_eur(v, lang)}" for k, v in block["costs_eur"].items())))
    out.append(t("compare.app_benefits", lang, items=", ".join(f"{k} {_eur(v, lang)}" for k, v in block["benefits_eur"].items())))
    out.append(t("compare.app_per", lang, per_t=_eur(block["eur_per_t_co2_avoided"], lang),
                 per_hour=_eur(block["eur_per_hour_saved"], lang), per_woman=_eur(block["eur_per_woman_kept"], lang)))
    ivs = block.get("intervals")
    if ivs:
        def iv(k: str, digits: int, eur: bool) -> str:
            if k not in ivs:
                return t("number.missing", lang)
            f = (lambda x: _eur(x, lang)) if eur else (lambda x: number(x, digits, lang))
            return f"[{f(ivs[k]['ci95_low'])}, {f(ivs[k]['ci95_high'])}]"
        out.append(t("compare.app_intervals", lang, n=len(block["per_seed"]), npv=iv("npv_eur", 0, True),
                     bcr=iv("bcr", 2, False), per_t=iv("eur_per_t_co2_avoided", 0, True),
                     per_hour=iv("eur_per_hour_saved", 0, True), per_woman=iv("eur_per_woman_kept", 0, True)))
    return out


__all__ = ["text_lines", "BENEFITS", "COSTS", "FIGURES", "appraise", "appraise_runs", "co2_price", "scenario_from",
           "mean_summary", "seed_summaries", "unit_values", "with_intervals"]
