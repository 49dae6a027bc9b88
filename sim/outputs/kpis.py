"""The KPI contract: every figure of ``summary.json``, declared once.

:meth:`sim.outputs.metrics.Metrics.summary` (and :func:`sim.runner.simulate`, for the time saved
against the counterfactual) produce the figures; this module says what each one is. For every KPI,
by its flattened name (``modal_split.car``, as :func:`sim.outputs.replications.flatten_kpis` names
it): its plain label and unit (per language), which direction is better for a planner, how its
number is written (shares in percent, thousands separators, fixed decimals, never an exponent),
and whether it is a headline KPI (:data:`HEADLINE`, in the order every table and card shows them).

The runner, replications, compare, report, plots, the app and sweeps read KPIs from here only; a
test checks that the keys a run produces and the keys declared here are the same set.

Decimals are fixed per KPI (not significant digits) so that a column of runs lines up and two runs
compare digit by digit; shares get two decimals of a percent, since a lever's effect on a share is
often a few tenths of a point.

Labels and units are per language (``"en"`` and ``"it"``; the language codes of
:data:`sim.i18n.LANGUAGES`). To add one, give each :func:`_add` call
(``it=(label, unit)``) and each :data:`FAMILY_TEXT` entry its words in that language, and the
category words in :data:`WORDS`; words not given fall back to English.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.i18n import DEFAULT_LANGUAGE, number, t
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WEEKDAYS

Better = Literal["lower", "higher", "neutral"]
LOWER: Better = "lower"
HIGHER: Better = "higher"
NEUTRAL: Better = "neutral"
# DEFAULT_LANGUAGE (en) is sim.i18n's


@dataclass(frozen=True)
class Kpi:
    """One summary KPI.

    ``label`` and ``unit`` map a language to the words a planner reads. A ``share`` is stored as
    0-1 and shown in percent (its unit then starts with ``%``); ``decimals`` are the decimals shown
    (of the percent, for a share).
    """

    key: str
    label: dict[str, str]
    unit: dict[str, str]
    better: Better
    decimals: int
    share: bool = False
    needs_counterfactual: bool = False  # computed against the run without smart working

    @property
    def headline(self) -> bool:
        return self.key in HEADLINE


# the KPIs shown first (report table, app cards, comparison table and plot), in this order: the Comune's
# programme (issue 17): SME uptake, women, corporate welfare, CO2, hours saved, stress; then traffic
HEADLINE = ("sme_allowed_share", "sme_firms_adopting_share",  # SME smart-working uptake: the programme's first aim
            "quits_women_per_1000", "quits_men_per_1000",  # women's KPIs (men beside them, for the gap)
            "welfare_coverage_share",  # corporate welfare
            "co2_commute_t", "co2_home_t", "co2_net_t", "hours_saved_per_worker", "mean_stress", "high_stress_share",
            "remote_share", "car_vkm", "commute_hours_per_worker", "delay_hours", "peak_extra_time")

# summary.json keys that describe the run, not measure it (the counterfactual block holds
# COUNTERFACTUAL's values of the run without smart working; the calibration block its report)
DESCRIPTORS = frozenset({"scenario", "seed", "days", "scale", "workers_sampled", "calibration", "counterfactual",
                         "replications", "by_year",  # by_year: the same KPIs, year by year (yearly.parquet)
                         "transit_accounting"})  # emissions.transit_accounting: marginal or average transit CO2

# the KPIs the runner keeps of the no-smart-working counterfactual (summary.json["counterfactual"])
COUNTERFACTUAL = ("remote_share", "car_vkm", "co2_commute_t", "co2_net_t", "co2_net_heating_season_t", "co2_net_other_t",
                  "commute_hours_per_worker",
                  "delay_hours", "mean_stress", "high_stress_share", "quits_women_per_1000", "quits_men_per_1000",
                  "peak_extra_time")

# the KPIs whose change against the baseline compare splits into the direct effect and the departure-time and
# mode responses (sim.outputs.decomposition), in this order: congestion, car traffic, CO2, mode shares, time
DECOMPOSED = ("peak_extra_time", "delay_hours", "car_vkm", "co2_commute_t", "co2_net_t", "modal_split.car",
              "modal_split.transit", "commute_hours_per_worker")

# category words, per language: the modes, commute segments, firm sizes and weekdays of the schema
WORDS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "mode": {"car": "car", "transit": "public transport", "bike": "bike", "walk": "walking", "moto": "motorbike"},
        "segment": {"inside_milan": "Inside Milan", "entering_milan": "Entering Milan",
                    "leaving_milan": "Leaving Milan", "hinterland": "Hinterland to hinterland"},
        "size": {"micro": "micro firms (<10)", "small": "small firms (10-49)", "medium": "medium firms (50-249)",
                 "large": "large firms (250+)", "public": "public sector"},
        "weekday": {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday"},
    },
    "it": {
        "mode": {"car": "auto", "transit": "trasporto pubblico", "bike": "bicicletta", "walk": "a piedi",
                 "moto": "moto"},
        "segment": {"inside_milan": "Dentro Milano", "entering_milan": "In entrata a Milano",
                    "leaving_milan": "In uscita da Milano", "hinterland": "Da hinterland a hinterland"},
        "size": {"micro": "microimprese (<10)", "small": "piccole imprese (10-49)", "medium": "medie imprese (50-249)",
                 "large": "grandi imprese (250+)", "public": "settore pubblico"},
        "weekday": {"mon": "lunedì", "tue": "martedì", "wed": "mercoledì", "thu": "giovedì", "fri": "venerdì"},
    },
}

# which way a mode's share is better for the planner: Milan's mobility plan (PUMS 2018) aims to move
# trips from private motor vehicles (car and motorbike) to public transport, cycling and walking
MODE_BETTER: dict[str, Better] = {"car": LOWER, "moto": LOWER, "transit": HIGHER, "bike": HIGHER, "walk": HIGHER}

KPIS: dict[str, Kpi] = {}


def _add(key: str, better: Better, decimals: int, share: bool = False, needs_counterfactual: bool = False,
         **words: tuple[str, str]) -> None:
    """Declare one KPI; ``words`` maps a language to (label, unit)."""
    if key in KPIS:
        raise ValueError(f"KPI {key} declared twice")
    KPIS[key] = Kpi(key=key, label={lang: w[0] for lang, w in words.items()},
                    unit={lang: w[1] for lang, w in words.items()}, better=better, decimals=decimals, share=share,
                    needs_counterfactual=needs_counterfactual)


# ---------------------------------------------------------------------------------- plain KPIs
# headline first (in HEADLINE order: the programme's aims first), then the others
_add("sme_allowed_share", HIGHER, 2, share=True,
     en=("SME workers allowed smart working", "% of the workers of micro, small and medium firms (period mean)"),
     it=("Lavoratori delle PMI autorizzati al lavoro agile", "% dei lavoratori di micro, piccole e medie imprese (media del periodo)"))
_add("sme_firms_adopting_share", HIGHER, 2, share=True,
     en=("SMEs offering smart working", "% of micro, small and medium firms, at the end of the period"),
     it=("PMI che offrono il lavoro agile", "% delle micro, piccole e medie imprese, a fine periodo"))
_add("quits_women_per_1000", LOWER, 2,
     en=("Women quitting their job (expected)", "per 1,000 employed women a year"),
     it=('Donne che lasciano il lavoro (attese)', "ogni 1.000 occupate all'anno"))
_add("quits_men_per_1000", LOWER, 2,
     en=("Men quitting their job (expected)", "per 1,000 employed men a year"),
     it=('Uomini che lasciano il lavoro (attese)', "ogni 1.000 occupati all'anno"))
_add("welfare_coverage_share", HIGHER, 2, share=True,
     en=("Workers covered by corporate welfare", "% of workers"),
     it=("Lavoratori coperti dal welfare aziendale", "% dei lavoratori"))
_add("co2_commute_t", LOWER, 1,
     en=("CO2 from commuting", "t CO2, period total"),
     it=("CO2 degli spostamenti casa-lavoro", "t CO2, totale del periodo"))
_add("co2_home_t", LOWER, 1,
     en=("Extra CO2 on remote days (home energy, extra car trips)", "t CO2, period total"),
     it=("CO2 in più nei giorni da remoto (energia in casa, viaggi in auto aggiuntivi)", "t CO2, totale del periodo"))
_add("co2_net_t", LOWER, 1,
     en=("Net CO2 (commuting + remote days)", "t CO2, period total"),
     it=("CO2 netta (spostamenti + giorni da remoto)", "t CO2, totale del periodo"))
_add("hours_saved_per_worker", HIGHER, 2, needs_counterfactual=True,
     en=("Commuting time saved by smart working", "hours per worker, period"),
     it=("Tempo di viaggio risparmiato grazie al lavoro agile", "ore per lavoratore, periodo"))
_add("mean_stress", LOWER, 2,
     en=("Mean stress", "points, 0-10 scale"),
     it=("Stress medio", "punti, scala 0-10"))
_add("high_stress_share", LOWER, 2, share=True,
     en=("Workers with high stress", "% of workers (daily mean)"),
     it=("Lavoratori con stress elevato", "% dei lavoratori (media giornaliera)"))
_add("remote_share", NEUTRAL, 2, share=True,
     en=("Worker-days worked remotely", "% of worker-days"),
     it=("Giornate lavorate da remoto", "% delle giornate-lavoratore"))
_add("car_vkm", LOWER, 0,
     en=("Car traffic of commuters", "vehicle-km, period total"),
     it=("Traffico auto dei pendolari", "veicoli-km, totale del periodo"))
_add("commute_hours_per_worker", LOWER, 2,
     en=("Time spent commuting", "hours per worker, period"),
     it=("Tempo passato negli spostamenti casa-lavoro", "ore per lavoratore, periodo"))
_add("delay_hours", LOWER, 0,
     en=("Time lost in congestion (all commuters)", "hours, period total"),
     it=("Tempo perso nella congestione (tutti i pendolari)", "ore, totale del periodo"))
_add("peak_extra_time", LOWER, 2, share=True,
     en=("Extra travel time at the morning peak", "% over free-flow time"),
     it=("Tempo di viaggio in più nell'ora di punta del mattino", '% oltre il tempo a flusso libero'))

_add("workers", NEUTRAL, 0,
     en=("Workers represented", "workers"),
     it=("Lavoratori rappresentati", "lavoratori"))
_add("co2_home_energy_t", LOWER, 1,
     en=("CO2 of home energy on remote days", "t CO2, period total"),
     it=("CO2 dell'energia in casa nei giorni da remoto", 't CO2, totale del periodo'))
_add("co2_extra_trips_t", LOWER, 1,
     en=("CO2 of extra car trips on remote days", "t CO2, period total"),
     it=("CO2 dei viaggi in auto aggiuntivi nei giorni da remoto", "t CO2, totale del periodo"))
_add("hours_saved_congestion_relief_per_worker", HIGHER, 2, needs_counterfactual=True,
     en=("Time saved: less congestion on office days", "hours per worker, period"),
     it=("Tempo risparmiato: meno congestione nei giorni in ufficio", "ore per lavoratore, periodo"))
_add("hours_saved_remote_days_per_worker", HIGHER, 2, needs_counterfactual=True,
     en=("Time saved: commutes avoided on remote days", "hours per worker, period"),
     it=("Tempo risparmiato: spostamenti evitati nei giorni da remoto", "ore per lavoratore, periodo"))
_add("office_days_per_worker", NEUTRAL, 2,
     en=("Office days per worker", "days per worker, period"),
     it=("Giorni in ufficio per lavoratore", "giorni per lavoratore, periodo"))
_add("car_vehicle_hours", LOWER, 0,
     en=("Car hours driven by commuters", "vehicle-hours, period total"),
     it=("Ore di guida dei pendolari in auto", "veicoli-ora, totale del periodo"))
_add("car_trips_to_area_c", LOWER, 0,
     en=("Commuter car trips into Area C (cars arriving at a workplace inside the Cerchia dei Bastioni)",
         "vehicle trips a year (the period's workdays scaled to a working year)"),
     it=("Viaggi in auto dei pendolari verso Area C (auto che arrivano a un posto di lavoro nella Cerchia dei Bastioni)",
         "viaggi di veicoli all'anno (i giorni lavorativi del periodo riportati a un anno lavorativo)"))
_add("transit_pass_urban_share", NEUTRAL, 2, share=True,
     en=("Workers holding an employer-paid urban transit pass (ATM)", "% of workers (daily mean)"),
     it=("Lavoratori con abbonamento urbano (ATM) pagato dal datore di lavoro", "% dei lavoratori (media giornaliera)"))
_add("transit_pass_regional_share", NEUTRAL, 2, share=True,
     en=("Workers holding an employer-paid integrated transit pass (Trenord/STIBM)", "% of workers (daily mean)"),
     it=("Lavoratori con abbonamento integrato (Trenord/STIBM) pagato dal datore di lavoro", "% dei lavoratori (media giornaliera)"))
_add("peak_vc_max", LOWER, 2,
     en=("Most congested road at the peak (its workday mean; the darkest road of the congestion map)", "volume/capacity"),
     it=("Strada più congestionata nell'ora di punta (media sui giorni lavorativi; la più scura della mappa)", "volume/capacità"))
_add("transit_peak_load", LOWER, 2,
     en=("Public transport load at the peak", "load/capacity"),
     it=("Carico del trasporto pubblico nell'ora di punta", 'carico/capacità'))
_add("transit_peak_load_by_network.urban", LOWER, 2,
     en=("Urban public transport (ATM) load at the peak", "commuters per place, busiest half hour"),
     it=("Carico del trasporto pubblico urbano (ATM) nell'ora di punta", "pendolari per posto, mezz'ora più carica"))
_add("transit_peak_load_by_network.regional", LOWER, 2,
     en=("Regional rail (Trenord) load at the peak", "commuters per place, busiest half hour"),
     it=("Carico dei treni regionali (Trenord) nell'ora di punta", "pendolari per posto, mezz'ora più carica"))
# women's work (issue 16): expected values (sums of the daily quit probabilities, no sampling noise) and the
# realised draws beside them; employment as a stock of positions (a quitter's position is vacant, then refilled)
_add("quits_women_per_1000_realised", LOWER, 2,
     en=("Women quitting their job (realised draws)", "per 1,000 employed women a year"),
     it=("Donne che lasciano il lavoro (estrazioni realizzate)", "ogni 1.000 occupate all'anno"))
_add("quits_men_per_1000_realised", LOWER, 2,
     en=("Men quitting their job (realised draws)", "per 1,000 employed men a year"),
     it=("Uomini che lasciano il lavoro (estrazioni realizzate)", "ogni 1.000 occupati all'anno"))
_add("mothers_u3_quits_per_1000", LOWER, 2,
     en=("Mothers of children under 3 quitting their job (expected)", "per 1,000 employed mothers of a child 0-2 a year"),
     it=("Madri di figli sotto i 3 anni che lasciano il lavoro (attese)", "ogni 1.000 madri occupate con un figlio di 0-2 anni, all'anno"))
_add("mothers_u3_quits_per_1000_realised", LOWER, 2,
     en=("Mothers of children under 3 quitting their job (realised draws)", "per 1,000 employed mothers of a child 0-2 a year"),
     it=("Madri di figli sotto i 3 anni che lasciano il lavoro (estrazioni realizzate)", "ogni 1.000 madri occupate con un figlio di 0-2 anni, all'anno"))
_add("exits_from_work_women_per_1000", LOWER, 2,
     en=("Women leaving work (quits other than moves to another employer, expected)", "per 1,000 employed women a year"),
     it=("Donne che escono dal lavoro (dimissioni non verso un altro datore di lavoro, attese)", "ogni 1.000 occupate all'anno"))
_add("exits_from_work_women_per_1000_realised", LOWER, 2,
     en=("Women leaving work (realised draws)", "per 1,000 employed women a year"),
     it=("Donne che escono dal lavoro (estrazioni realizzate)", "ogni 1.000 occupate all'anno"))
_add("women_employed_end", HIGHER, 1,
     en=("Women employed at the end of the period", "per 1,000 women employed at the start"),
     it=("Donne occupate alla fine del periodo", "ogni 1.000 occupate all'inizio"))
for _c, _en, _it in (("base", "personal baseline", "livello personale di base"),
                     ("commute", "commuting time", "tempo di spostamento"),
                     ("delay", "congestion delay", "ritardo per congestione"),
                     ("crowding", "crowded public transport", "affollamento dei mezzi pubblici"),
                     ("conflict", "work-family conflict", "conflitto lavoro-famiglia"),
                     ("isolation", "isolation on long remote spells", "isolamento nei lunghi periodi da remoto")):
    _add(f"strain_share_{_c}", NEUTRAL, 2, share=True, en=(f"Share of daily strain from {_en}", "% of mean strain"),
         it=(f"Quota della tensione giornaliera dovuta a: {_it}", "% della tensione media"))
_add("break_even_km", NEUTRAL, 1,
     en=("Break-even one-way car commute (a remote day saves CO2 above it), over a year", "km, at the scenario's car occupancy"),
     it=("Distanza di pareggio in auto, solo andata (sopra di essa un giorno da remoto fa risparmiare CO2), sull'anno", "km, al tasso di occupazione dell'auto dello scenario"))
_add("break_even_km_heating", NEUTRAL, 1,
     en=("Break-even one-way car commute in the heating season", "km, at the scenario's car occupancy"),
     it=("Distanza di pareggio in auto, solo andata, nella stagione di riscaldamento", "km, al tasso di occupazione dell'auto dello scenario"))
_add("break_even_km_other", NEUTRAL, 1,
     en=("Break-even one-way car commute outside the heating season", "km, at the scenario's car occupancy"),
     it=("Distanza di pareggio in auto, solo andata, fuori dalla stagione di riscaldamento", "km, al tasso di occupazione dell'auto dello scenario"))
_add("co2_net_heating_season_t", LOWER, 1,
     en=("Net CO2 on the days of the heating season (commuting + remote days)", "t CO2, period total"),
     it=("CO2 netta nei giorni della stagione di riscaldamento (spostamenti + giorni da remoto)", "t CO2, totale del periodo"))
_add("co2_net_other_t", LOWER, 1,
     en=("Net CO2 on the days outside the heating season (commuting + remote days)", "t CO2, period total"),
     it=("CO2 netta nei giorni fuori dalla stagione di riscaldamento (spostamenti + giorni da remoto)", "t CO2, totale del periodo"))
# air quality (issue 19): commuter cars' and motorbikes' exhaust and wear, remote days' extra car trips
_add("nox_t", LOWER, 2,
     en=("NOx from commuting (cars and motorbikes)", "t NOx, period total"),
     it=("NOx degli spostamenti casa-lavoro (auto e moto)", "t NOx, totale del periodo"))
_add("pm25_t", LOWER, 3,
     en=("PM2.5 from commuting (exhaust, tyre and brake wear)", "t PM2.5, period total"),
     it=("PM2.5 degli spostamenti casa-lavoro (scarico, usura di pneumatici e freni)", "t PM2.5, totale del periodo"))
_add("pm25_exhaust_t", LOWER, 3,
     en=("PM2.5 from commuting: exhaust", "t PM2.5, period total"),
     it=("PM2.5 degli spostamenti casa-lavoro: scarico", "t PM2.5, totale del periodo"))
_add("pm25_wear_t", LOWER, 3,
     en=("PM2.5 from commuting: tyre and brake wear", "t PM2.5, period total"),
     it=("PM2.5 degli spostamenti casa-lavoro: usura di pneumatici e freni", "t PM2.5, totale del periodo"))

# ---------------------------------------------------------------------------------- families
# nested sections of summary.json, one KPI per category; labels from templates over WORDS
FAMILY_TEXT: dict[str, dict[str, tuple[str, str]]] = {  # section -> language -> (label template, unit)
    "modal_split": {"en": ("Trips by {mode}", "% of office-day trips"),
                    "it": ("Spostamenti: {mode}", "% degli spostamenti nei giorni in ufficio")},
    "modal_split_by_segment": {"en": ("{segment}: trips by {mode}", "% of office-day trips"),
                               "it": ("{segment}: spostamenti, {mode}", "% degli spostamenti nei giorni in ufficio")},
    "adoption_by_size": {"en": ("Workers allowed smart working: {size}", "% of workers"),
                         "it": ("Lavoratori autorizzati al lavoro agile: {size}", "% dei lavoratori")},
    "office_attendance_by_weekday": {"en": ("Workers at the office on {weekday}", "% of workers"),
                                     "it": ("Lavoratori in ufficio il {weekday}", "% dei lavoratori")},
}


def _family(section: str, better: Better, **names: str) -> None:
    words = {}
    for lang, (template, unit_words) in FAMILY_TEXT[section].items():
        w = WORDS[lang]
        words[lang] = (template.format(**{kind: w[kind][name] for kind, name in names.items()}), unit_words)
    _add(".".join([section, *names.values()]), better, 2, share=True, **words)


for _m in MODES:
    _family("modal_split", MODE_BETTER[_m], mode=_m)
for _s in SEGMENTS:
    for _m in MODES:
        _family("modal_split_by_segment", MODE_BETTER[_m], segment=_s, mode=_m)
for _k in SIZE_CLASSES:
    _family("adoption_by_size", NEUTRAL, size=_k)
for _d in WEEKDAYS:
    _family("office_attendance_by_weekday", NEUTRAL, weekday=_d)

# top-level summary.json keys that hold KPIs (plain keys and sections)
ROOTS = frozenset(k.split(".", 1)[0] for k in KPIS)


# ---------------------------------------------------------------------------------- look-ups
def kpi(key: str) -> Kpi:
    """The declaration of a KPI (flattened name); ``KeyError`` naming it if it is not declared."""
    try:
        return KPIS[key]
    except KeyError:
        raise KeyError(f"{key}: not a declared KPI (see sim/outputs/kpis.py)") from None


def key_patterns() -> list[str]:
    """Every KPI key, the nested ones as a pattern (``modal_split.{car|transit|...}``), for messages."""
    out: dict[str, list[list[str]]] = {}
    for k in KPIS:
        head, *rest = k.split(".")
        parts = out.setdefault(head, [[] for _ in rest])
        for pos, name in zip(parts, rest):
            if name not in pos:
                pos.append(name)
    return [".".join([head, *("{" + "|".join(p) + "}" for p in parts)]) for head, parts in out.items()]


# a language not (yet) given for some words falls back to the default language's
def _in(words: dict[str, str], lang: str) -> str:
    return words.get(lang, words[DEFAULT_LANGUAGE])


def word(kind: str, name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A category's plain word (``word("mode", "transit")`` -> ``public transport``)."""
    words = WORDS.get(lang, {}).get(kind) or WORDS[DEFAULT_LANGUAGE][kind]
    return words.get(name, WORDS[DEFAULT_LANGUAGE][kind].get(name, name))


def label(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Plain label of a KPI (an undeclared key, e.g. from an older folder, is spelled out)."""
    k = KPIS.get(key)
    return _in(k.label, lang) if k is not None else key.replace("_", " ").replace(".", ": ")


def unit(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Unit as shown beside a formatted value (``%`` first for shares); ``-`` if the key is not declared."""
    k = KPIS.get(key)
    return _in(k.unit, lang) if k is not None else "-"


def stored_unit(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Unit of the value as stored in summary.json and comparison.csv: shares as ``0-1 ...``."""
    k = KPIS.get(key)
    if k is None:
        return "-"
    u = _in(k.unit, lang)
    return "0-1" + u[1:] if k.share else u


def better_sign(key: str) -> int:
    """+1 if higher is better for a planner, -1 if lower is, 0 if neither (or undeclared)."""
    k = KPIS.get(key)
    return {HIGHER: 1, LOWER: -1}.get(k.better, 0) if k is not None else 0


def ordered(names) -> list[str]:
    """KPI names in the registry's order (headline first, then the others, then the sections);
    undeclared names last, alphabetically."""
    names = list(dict.fromkeys(names))
    rank = {k: i for i, k in enumerate((*HEADLINE, *KPIS))}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


# ---------------------------------------------------------------------------------- numbers
def _fixed(x: float, decimals: int, sign: bool = False, lang: str = DEFAULT_LANGUAGE) -> str:
    """``x`` with thousands separators and ``decimals`` decimals in ``lang``; never ``-0``, never an exponent."""
    return number(x, decimals, lang, sign=sign)


def _generic_decimals(x: float, sig: int = 4) -> int:
    """Decimals that show ``x`` with ``sig`` significant digits (for undeclared keys)."""
    a = abs(x)
    if a == 0 or not math.isfinite(a) or a >= 10 ** (sig - 1):
        return 0
    return max(0, sig - 1 - math.floor(math.log10(a)))


def _scaled(key: str, x: float) -> tuple[float, int, str]:
    """(shown number, decimals, suffix) of a KPI value."""
    k = KPIS.get(key)
    if k is None:
        return x, _generic_decimals(x), ""
    return (100.0 * x, k.decimals, "%") if k.share else (x, k.decimals, "")


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def format_value(key: str, value: float | None, ci: tuple[float, float] | None = None,
                 lang: str = DEFAULT_LANGUAGE) -> str:
    """A KPI value as a planner reads it: ``6.68%`` (share 0.0668), ``1,210,000`` (car_vkm); in Italian
    ``6,68%`` and ``1.210.000``.

    With ``ci`` (a 95% interval): ``1.23 (1.10 to 1.36)``, with more decimals (at most 3 more) when
    the interval would otherwise show its ends equal. ``n/a`` (``n.d.``) for a missing value.
    """
    if _missing(value):
        return t("number.missing", lang)
    x, d, suffix = _scaled(key, float(value))
    if ci is None or _missing(ci[0]) or _missing(ci[1]):
        return _fixed(x, d, lang=lang) + suffix
    lo, _, _ = _scaled(key, float(ci[0]))
    hi, _, _ = _scaled(key, float(ci[1]))
    half = abs(hi - lo) / 2
    if half > 0:
        d = max(d, min(d + 3, -math.floor(math.log10(half))))
    interval = t("number.interval", lang, low=_fixed(lo, d, lang=lang) + suffix, high=_fixed(hi, d, lang=lang) + suffix)
    return f"{_fixed(x, d, lang=lang)}{suffix} ({interval})"


def format_with_unit(key: str, value: float | None, ci: tuple[float, float] | None = None,
                     lang: str = DEFAULT_LANGUAGE) -> str:
    """:func:`format_value` followed by the unit: ``6.68% of worker-days``, ``1,210,000 vehicle-km, period total``."""
    text, u = format_value(key, value, ci, lang), unit(key, lang)
    if u == "-":
        return text
    k = KPIS[key]
    return f"{text} {u[1:].lstrip()}" if k.share and not _missing(value) else f"{text} {u}"


def format_diff(key: str, diff: float | None, lang: str = DEFAULT_LANGUAGE, extra_decimals: int = 0) -> str:
    """A signed difference of a KPI: ``+1,234`` in its unit; shares in percentage points (``-0.52 pp``)."""
    if _missing(diff):
        return ""
    x, d, suffix = _scaled(key, float(diff))
    return _fixed(x, d + extra_decimals, sign=True, lang=lang) + (" " + t("number.pp", lang) if suffix == "%" else "")


def format_interval(key: str, low: float | None, high: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A 95% interval of a difference: ``-0.52 pp to +0.10 pp`` (``da -0,52 p.p. a +0,10 p.p.``).

    An interval that excludes 0 gets up to 4 more decimals, so that neither end reads as 0 (a planner
    would otherwise see "-0.03 to 0.00" beside the words "beyond the random noise").
    """
    if _missing(low) or _missing(high):
        return ""
    extra = 0
    if float(low) * float(high) > 0:
        lo, d, _ = _scaled(key, float(low))
        hi, _, _ = _scaled(key, float(high))
        while extra < 4 and min(abs(lo), abs(hi)) < 0.5 * 10.0 ** -(d + extra):
            extra += 1
    return t("number.interval", lang, low=format_diff(key, low, lang, extra), high=format_diff(key, high, lang, extra))


def format_pct_change(pct: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A relative change in percent: ``+12.3%``; below 0.1% in magnitude, two significant digits."""
    if _missing(pct):
        return ""
    if pct == 0 or abs(pct) >= 0.1:
        return _fixed(pct, 1, sign=True, lang=lang) + "%"
    return _fixed(pct, _generic_decimals(pct, 2), sign=True, lang=lang) + "%"
