"""The planner's page (Solara): pick a scenario, move levers, run, read the KPI cards, plots and map.

Started by ``run.py app``. Layout: the sidebar holds the language switch and the Run button on top,
then the scenario, the policy package (name and save the levers moved as a scenario file), the run
size and the levers (from the schema, in the catalogue's plain words, with unit, range and source;
a bad value shows the schema's message under its box); every word is from :mod:`sim.i18n`;
the main area has three tabs: *Results* (KPI cards against the baseline with the same seed, map,
plots, report download), *Live* (a small model stepped day by day with Mesa's ModelController) and
*Earlier runs* (every run folder in ``results/``, to open or compare).

Runs happen in a worker thread (``solara.lab.task``), so the page stays responsive.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import warnings
from pathlib import Path

import solara
import solara.lab

with warnings.catch_warnings():  # Solara's hook linter flags a line inside Mesa's own SolaraViz module
    warnings.simplefilter("ignore", UserWarning)
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

from sim.world.build import workers_represented
from sim.scenario.load import ScenarioError, load_scenario, resolved_dict
from sim.app.levers import (PACKAGE_NAME, PackageError, apply_levers, changed_levers, lever_changes, lever_values, levers,
                            mark_edited, save_package, scenario_files)
from sim.app.live import LIVE_SCALE, live_figure
from sim.app.live import live_model as make_live_model
from sim.i18n import LANGUAGE_NAMES, LANGUAGES, has, localise_number, t
from sim.outputs import kpis
from sim.outputs.advice import read_daily, run_warnings
from sim.outputs.export import workbook_bytes
from sim.outputs.compare import build_rows, read_sources
from sim.outputs.plots import plots_in
from sim.outputs.report import sort_plots
from sim.app.runs import (ANSWER_WITHIN_S, BASELINE_FILE, MAP_METRICS, SAMPLE_CHOICES, SCENARIOS, AppResult, cost_model,
                          default_sample, expected_wait_of, kpi_cards, list_runs, map_figure, read_run,
                          run_against_baseline, zone_map_data)

RESULTS = Path(os.environ.get("SMARTCOMMUTE_RESULTS", "results")).resolve()
# policy packages saved from the app (SMARTCOMMUTE_PACKAGES: another folder, e.g. for tests)
PACKAGES = Path(os.environ.get("SMARTCOMMUTE_PACKAGES", SCENARIOS / "packages")).resolve()
LEVERS = levers()
FILES = scenario_files(SCENARIOS)
FILE_LABELS = [str(p.relative_to(SCENARIOS)) for p in FILES]
BASELINE_LEVERS = resolved_dict(load_scenario(BASELINE_FILE))  # "levers changed" are against this file
REPLICATION_CHOICES = (1, 2, 4, 8)
# the app's time budget for one run of the default sample (a planner waits this long, not longer): the
# default replications are the most that fit it (2 seeds: the cards get a paired 95% interval)
RUN_BUDGET_S = 300
DEFAULT_REPLICATIONS = 2
# plots of a run drawn in another language than the page's are drawn again here (never in results/)
PLOT_CACHE = Path(tempfile.gettempdir()) / "smartcommute-app-plots"
# room below the last row of cards and plots (Solara's banner is off: run.py app sets SOLARA_THEME_SHOW_BANNER)
CSS = ".v-main__wrap { padding-bottom: 24px; }"

PROGRESS_EVERY_S = 0.3  # shortest interval between two progress updates of the page

# per-browser-session state (Solara keeps a module-level reactive per connection)
lang = solara.reactive(load_scenario(FILES[0]).report.lang)  # the Comune's baseline asks for Italian
scenario_label = solara.reactive(FILE_LABELS[0])
values = solara.reactive(lever_values(load_scenario(FILES[0])))
# what a run costs on this machine, fitted on the runs in results/ (None before the first); the default
# sample is the largest whose run and baseline answer within ANSWER_WITHIN_S by that fit
START_COSTS = cost_model(RESULTS)
DEFAULT_SCALE = default_sample(load_scenario(FILES[0]), DEFAULT_REPLICATIONS, START_COSTS)
costs = solara.reactive(START_COSTS)
scale = solara.reactive(DEFAULT_SCALE)
days = solara.reactive(250)
seed = solara.reactive("42")
replications = solara.reactive(DEFAULT_REPLICATIONS)
status = solara.reactive(lambda lg: "")  # the run's status, worded in the page's language when drawn
fraction = solara.reactive(0.0)
result = solara.reactive(None)       # AppResult of the last run
result_inputs = solara.reactive(None)  # what the page held when that run started (for the stale sign)
package_name = solara.reactive("")
package_description = solara.reactive("")
package_message = solara.reactive("")
live_model = solara.reactive(None)   # LiveModel of the live tab
# the Earlier runs tab's choices: per session, not per drawing of the tab (a language switch keeps them)
open_choice = solara.reactive(None)
against_choice = solara.reactive(None)
compare_choice = solara.reactive([])


def _css(path: str) -> str:
    return "lever-" + path.replace(".", "-")


def _number(value, kind=float):
    """``value`` (a number, or text typed in a box) as a finite ``kind``, else None."""
    try:
        x = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------- levers
def _text_box(label: str, *, value, on_value=None, classes: list[str], error: bool = False):
    """A text box that sends every change as it is typed. With Solara's default (send on Enter or blur) a
    loaded server could read a truncated value: ipywidgets holds back a state update while an earlier one
    is unanswered but not the Enter event, so the event overtook the last keystrokes ("-1" read as "-")."""
    return solara.InputText(label, value=value, on_value=on_value, continuous_update=True, dense=True,
                            classes=classes, error=error)


def _range_text(lever, lg: str) -> str:
    if lever.kind in ("int", "float"):
        lo = localise_number(f"{lever.minimum:g}", lg) if lever.minimum is not None else "-"
        hi = localise_number(f"{lever.maximum:g}", lg) if lever.maximum is not None else "-"
        return f"{'>' if lever.min_exclusive else ''}{lo} {t('app.to', lg)} {hi}"
    if lever.kind == "choices":
        return ", ".join(kpis.word("size", c, lg) if c in kpis.WORDS.get(lg, {}).get("size", {}) else c
                         for c in lever.choices)
    return ", ".join(_choice(c, lg) for c in lever.choices) if lever.choices else t("app.on_off", lg)


def _choice(code: str, lg: str) -> str:
    """A choice lever's code value (``modelled``) in the language's words."""
    return t(f"app.choice_{code}", lg) if has(f"app.choice_{code}", lg) else code


@solara.component
def LeverControl(lever, value, error: str | None):
    """One lever: its control, a text box for numbers, the catalogue's words, range and source, and its error."""
    lg = lang.value

    def set_value(v):
        values.set({**values.value, lever.path: v})

    label = t(f"lever.{lever.path}.label", lg) + (f" ({lever.unit})" if lever.unit not in ("-", "") else "")
    with solara.Column(gap="0px", classes=["lever", _css(lever.path)], style={"margin-bottom": "10px"}):
        if lever.kind == "switch":
            solara.Switch(label=label, value=bool(value), on_value=set_value, classes=[_css(lever.path) + "-switch"])
        elif lever.kind == "choice":  # the code values in plain words of the language
            words = {c: _choice(c, lg) for c in lever.choices}
            back = {w: c for c, w in words.items()}
            solara.Select(label=label, values=list(words.values()), value=words.get(value, value),
                          on_value=lambda w: set_value(back.get(w, w)), classes=[_css(lever.path) + "-select"])
        elif lever.kind == "choices":
            solara.SelectMultiple(label=label, values=list(value), all_values=list(lever.choices), on_value=set_value,
                                  classes=[_css(lever.path) + "-select"])
        else:
            number = _number(value, int if lever.kind == "int" else float) if not isinstance(value, bool) else None
            slider_value = min(max(number if number is not None else lever.default, lever.slider_min), lever.maximum)

            def from_slider(v):
                # a slider snaps a typed value to its grid and reports it: that is not a move of the user's
                if number is None or abs(v - number) >= lever.step / 2:
                    set_value(round(v, 6) if lever.kind == "float" else int(v))

            if lever.kind == "int":
                solara.SliderInt(label=label, value=int(slider_value), min=int(lever.slider_min), max=int(lever.maximum),
                                 on_value=from_slider)
            else:
                solara.SliderFloat(label=label, value=float(slider_value), min=lever.slider_min, max=lever.maximum,
                                   step=lever.step, on_value=from_slider)
            _text_box(t("app.value", lg), value=str(value), on_value=set_value, classes=[_css(lever.path) + "-input"],
                      error=bool(error))
        solara.Text(f"{t(f'lever.{lever.path}.help', lg)} · {t('app.range', lg, range=_range_text(lever, lg))} · "
                    f"{t('app.source', lg, source=lever.source)}",
                    classes=["lever-help"], style={"font-size": "12px", "color": "#444"})
        if error:
            solara.Text(error, classes=["lever-error", _css(lever.path) + "-error"],
                        style={"color": "#b00020", "font-size": "12px", "font-weight": "bold"})


@solara.component
def LeverPanel(errors: dict[str, str]):
    by_section: dict[str, list] = {}
    for lever in LEVERS:
        by_section.setdefault(lever.section, []).append(lever)
    for section, group in by_section.items():
        bad = any(lv.path in errors for lv in group)
        with solara.Details(summary=t(f"app.sec_{section}", lang.value) + (t("app.check_value", lang.value) if bad else ""),
                            expand=bad or section == "policy"):
            for lever in group:
                LeverControl(lever, values.value[lever.path], errors.get(lever.path))


# ------------------------------------------------------------------------------------------ runs
def _inputs() -> tuple:
    """What a run depends on, as the page holds it now (a result of other inputs is stale)."""
    return (scenario_label.value, repr(sorted(values.value.items())), str(scale.value), str(days.value),
            str(seed.value), replications.value, package_name.value.strip())


@solara.lab.task
def run_task(scenario) -> AppResult:
    last = [0.0, ""]  # time and phase of the last update shown
    started_with = _inputs()

    def progress(frac: float, what: str) -> None:
        # each update re-draws the sidebar: a few per second, not one per simulated day
        now = time.perf_counter()
        if what != last[1] or now - last[0] >= PROGRESS_EVERY_S or frac >= 1.0:
            last[:] = [now, what]
            fraction.set(frac)
            status.set(lambda lg, what=what: _progress_words(what, lg))

    fraction.set(0.0)
    out = run_against_baseline(scenario, RESULTS, replications=replications.value, progress=progress)
    seconds, reused = out.seconds, out.baseline_reused
    status.set(lambda lg: t("app.done", lg, seconds=localise_number(f"{seconds:.1f}", lg))
               + (t("app.baseline_reused", lg) if reused else ""))
    result.set(out)
    result_inputs.set(started_with)
    costs.set(cost_model(RESULTS))  # this run is one more measurement of the machine
    return out


def _progress_words(what: str, lg: str) -> str:
    """The runner's progress phrase (``setting up the baseline ...``, ``simulating ...``) in ``lg``."""
    who = t("app.what_baseline", lg) if "baseline" in what else t("app.what_yours", lg)
    if what.startswith("setting up"):
        return t("app.setting_up", lg, what=who)
    if what.startswith("simulating"):
        return t("app.simulating", lg, what=who)
    return t("app.finished", lg) if what == "done" else what


def _file_scenario(label: str):
    """The scenario file as written (no lever moved), or the loader's message if the file is bad."""
    try:
        return load_scenario(FILES[FILE_LABELS.index(label)]), None
    except ScenarioError as exc:
        return None, str(exc)


def _validate():
    path = FILES[FILE_LABELS.index(scenario_label.value)]
    file_sc, problem = _file_scenario(scenario_label.value)
    if file_sc is None:
        return None, {"scenario": problem}
    try:
        seed_value = int(str(seed.value).strip())
    except ValueError:
        return None, {"run": f"seed: expected a whole number, got {seed.value!r}"}
    sc, errors = apply_levers(path, values.value, seed=seed_value, days=days.value, scale=scale.value)
    if sc is not None:
        name = package_name.value.strip()
        sc = mark_edited(sc, changed_levers(lever_values(file_sc), values.value, sc),
                         package=name if PACKAGE_NAME.match(name) else None)
    return sc, errors


@solara.component
def RunSize(errors):
    lg = lang.value
    share, n_days = _number(scale.value), _number(days.value, int)
    solara.SliderFloat(t("app.sample_share", lg), value=min(max(share or 0.01, 0.005), 1.0), min=0.005, max=1.0,
                       step=0.005, on_value=lambda v: None if share and abs(v - share) < 0.0025 else scale.set(round(v, 4)))
    _text_box(t("app.sample_box", lg), value=str(scale.value), on_value=scale.set, classes=["run-scale"])
    sc, _ = solara.use_memo(_validate, dependencies=[scenario_label.value, values.value, scale.value,
                                                     days.value, seed.value, package_name.value])
    if share and sc is not None:
        total = workers_represented(sc.city, sc.population)
        solara.Text(t("app.sample_words", lg, n=localise_number(f"{round(share * total):,}", lg),
                      total=localise_number(f"{round(total):,}", lg)), style={"font-size": "12px", "color": "#444"})
    if sc is not None:
        WaitLines(sc)
    solara.SliderInt(t("app.workdays_slider", lg), value=min(max(n_days or 250, 1), 250), min=1, max=250,
                     on_value=days.set)
    _text_box(t("app.workdays", lg), value=str(days.value), on_value=days.set, classes=["run-days"])
    _text_box(t("app.seed", lg), value=seed, classes=["run-seed"])
    with solara.Column(classes=["run-replications"], gap="0px"):
        solara.Text(t("app.replications", lg), style={"font-size": "13px"})
        with solara.ToggleButtonsSingle(value=replications.value, on_value=replications.set, dense=True):
            for n in REPLICATION_CHOICES:
                solara.Button(str(n), value=n, classes=[f"replications-{n}"])
        solara.Text(t("app.replications_help", lg) + " " + t("app.replications_budget", lg, n=DEFAULT_REPLICATIONS,
                                                                          minutes=localise_number(f"{RUN_BUDGET_S / 60:g}", lg)),
                    style={"font-size": "12px", "color": "#444"}, classes=["replications-help"])
    if "run" in errors:
        solara.Text(errors["run"], classes=["lever-error", "run-error"], style={"color": "#b00020", "font-size": "12px"})


def _wait_words(seconds: float, lg: str) -> str:
    """A wait, rounded as a person says it: to 5 s up to a minute and a half, then to whole minutes."""
    if seconds < 90:
        return t("app.wait_seconds", lg, n=localise_number(f"{max(5, 5 * round(seconds / 5))}", lg))
    return t("app.wait_minutes", lg, n=localise_number(f"{round(seconds / 60):,}", lg))


def _share_words(share: float, lg: str) -> str:
    return localise_number(f"{share * 100:g}", lg) + "%"


@solara.component
def WaitLines(sc):
    """The expected wait of Run for the page's scenario, the whole city's, and why the default sample is what it is."""
    lg = lang.value
    full = sc.model_copy(update={"scale": 1.0})
    waits = solara.use_memo(lambda: [expected_wait_of(s, RESULTS, replications.value, costs.value) for s in (sc, full)],
                            dependencies=[repr(resolved_dict(sc)), replications.value, costs.value])
    here, whole = waits
    style = {"font-size": "12px", "color": "#444"}
    if here is None:
        solara.Text(t("app.wait_unknown", lg), classes=["run-wait"], style=style)
    elif here.runs == 0:
        solara.Text(t("app.wait_none", lg), classes=["run-wait"], style=style)
    else:
        basis = [t("app.wait_basis", lg, n=here.runs_fitted)]
        basis += [t("app.wait_with_baseline", lg)] if here.runs > 1 else []
        basis += [t("app.wait_calibrates", lg)] if here.calibrates else []
        solara.Text(t("app.wait", lg, time=_wait_words(here.seconds, lg), basis="; ".join(basis)), classes=["run-wait"],
                    style=style)
    if whole is not None and sc.scale < 1.0:
        solara.Button(t("app.full_city", lg, time=_wait_words(whole.seconds, lg)), on_click=lambda: scale.set(1.0),
                      classes=["run-full-city"], text=True, dense=True)
    share = _share_words(DEFAULT_SCALE, lg)
    if START_COSTS is None:
        solara.Text(t("app.default_sample_unknown", lg, share=share), classes=["run-default-sample"], style=style)
    else:
        choices = ", ".join(_share_words(c, lg) for c in SAMPLE_CHOICES)
        solara.Text(t("app.default_sample", lg, share=share, choices=choices, limit=f"{ANSWER_WITHIN_S:g}"),
                    classes=["run-default-sample"], style=style)


@solara.component
def PackageCard(sc):
    """Name and describe the levers moved, and save them as a scenario file in scenarios/packages/."""
    lg = lang.value
    solara.Text(t("app.package_hint", lg), style={"font-size": "12px", "color": "#444"})
    _text_box(t("app.package_name", lg), value=package_name, classes=["package-name"])
    with solara.Column(classes=["package-description"], gap="0px"):
        solara.InputTextArea(t("app.package_description", lg), value=package_description, rows=2)

    def save():
        path = FILES[FILE_LABELS.index(scenario_label.value)]
        file_sc, _ = _file_scenario(scenario_label.value)
        if sc is None or file_sc is None:
            return
        changed = changed_levers(lever_values(file_sc), values.value, sc)
        if not changed:
            package_message.set(t("app.package_no_levers", lg))
            return
        try:
            out = save_package(folder=PACKAGES, name=package_name.value, description=package_description.value,
                               base_file=path, changed=changed)
        except PackageError as exc:
            package_message.set(str(exc))
            return
        label = str(out.relative_to(SCENARIOS)) if out.is_relative_to(SCENARIOS) else f"packages/{out.name}"
        if label not in FILE_LABELS:  # the new file is a scenario of the list from now on
            FILES.append(out)
            FILE_LABELS.append(label)
        scenario_label.set(label)
        package_message.set(t("app.package_saved", lg, path=label, name=out.stem))

    solara.Button(t("app.package_save", lg), on_click=save, disabled=sc is None or not package_name.value.strip(),
                  classes=["package-save"], outlined=True)
    if package_message.value:
        solara.Text(package_message.value, classes=["package-message"], style={"font-size": "12px"})


@solara.component
def Sidebar():
    lg = lang.value
    sc, errors = solara.use_memo(_validate, dependencies=[scenario_label.value, values.value, scale.value,
                                                          days.value, seed.value, package_name.value])

    def pick(label):
        scenario_label.set(label)
        file_sc, _ = _file_scenario(label)
        if file_sc is not None:  # a bad file keeps the levers as they are; its message shows below
            values.set(lever_values(file_sc))

    # the sidebar re-draws with every progress update: read the file only when another one is picked
    file_sc, _ = solara.use_memo(lambda: _file_scenario(scenario_label.value), dependencies=[scenario_label.value])
    with solara.Card(margin=0):
        with solara.ToggleButtonsSingle(value=lg, on_value=lang.set, dense=True, classes=["lang-switch"]):
            for code in LANGUAGES:
                solara.Button(LANGUAGE_NAMES[code], value=code, classes=[f"lang-{code}"])
        solara.Button(t("app.run", lg), color="primary", classes=["run-button"], disabled=sc is None or run_task.pending,
                      on_click=lambda: run_task(sc), style={"margin-top": "8px", "width": "100%"})
        if errors:
            solara.Text(t("app.fix_values", lg), style={"color": "#b00020"})
        if run_task.pending:
            solara.ProgressLinear(fraction.value * 100)
        solara.Text(status.value(lang.value), classes=["run-status"])
        if run_task.error:
            solara.Error(t("app.run_failed", lg, error=run_task.exception), classes=["run-failed"])
    with solara.Card(t("app.scenario", lg), margin=0):
        solara.Select(t("app.scenario_file", lg), values=FILE_LABELS, value=scenario_label.value, on_value=pick,
                      classes=["scenario-select"])
        if file_sc is not None:
            solara.Text(file_sc.description.strip(), style={"font-size": "12px"})
        if "scenario" in errors:
            solara.Text(errors["scenario"], classes=["lever-error"], style={"color": "#b00020"})
    with solara.Card(t("app.package", lg), margin=0):
        PackageCard(sc)
    with solara.Card(t("app.run_size", lg), margin=0):
        RunSize(errors)
    with solara.Card(t("app.levers", lg), margin=0):
        LeverPanel(errors)


# --------------------------------------------------------------------------------------- results
NOISE_COLOR = {"beyond-better": "#1b7f3b", "beyond-worse": "#b00020"}
NEUTRAL_COLOR = "#6b7785"


@solara.component
def KpiCard(card: dict):
    lg = lang.value
    arrow = {1: "up", -1: "down", 0: "same"}[card["direction"]]
    verdict = {1: "better", -1: "worse", 0: "neutral"}[card["verdict"]]
    noise = card.get("noise")  # beyond / within / None (no interval)
    # the colour says better or worse only when the paired 95% interval excludes 0
    color = NOISE_COLOR.get(f"{noise}-{verdict}", NEUTRAL_COLOR)
    with solara.Card(classes=["kpi-card", f"kpi-{card['kpi']}", f"kpi-dir-{arrow}", f"kpi-{verdict}",
                              f"kpi-noise-{noise or 'none'}"],
                     style={"width": "240px", "border-top": f"5px solid {color}"}, margin=1), solara.Column(gap="2px"):
        solara.Text(kpis.label(card["kpi"], lg), style={"font-weight": "bold"})
        k = card["kpi"]
        solara.Text(kpis.format_value(k, card["value"], lang=lg), classes=["kpi-value"], style={"font-size": "20px"})
        solara.Text(kpis.unit(k, lg), classes=["kpi-unit"], style={"font-size": "12px", "color": "#444"})
        pct = f" ({kpis.format_pct_change(card['diff_pct'], lg)})" if card["diff_pct"] is not None else ""
        solara.Text(t("app.vs_baseline", lg, diff=kpis.format_diff(k, card["diff"] or 0.0, lg), pct=pct),
                    classes=["kpi-diff"], style={"color": color, "font-weight": "bold"})
        if card.get("ci95_low") is not None:
            solara.Text(t("app.ci", lg, interval=kpis.format_interval(k, card["ci95_low"], card["ci95_high"], lg)),
                        classes=["kpi-ci"], style={"font-size": "12px"})
        words = {"beyond": "app.card_beyond", "within": "app.card_within"}.get(noise, "app.card_no_interval")
        solara.Text(t(words, lg), classes=["kpi-noise"], style={"font-size": "12px", "color": color})
        solara.Text(t("app.baseline_value", lg, value=kpis.format_value(k, card["baseline"], lang=lg)),
                    style={"font-size": "12px", "color": "#444"})


@solara.component
def CityMap(folder: Path, baseline: Path | None = None):
    metric = solara.use_reactive("remote_share")
    show = solara.use_reactive("run")
    with solara.ToggleButtonsSingle(value=metric, classes=["map-metric"]):
        for key, m in MAP_METRICS.items():
            solara.Button(m.word("button", lang.value), value=key, text=True)
    compare = baseline is not None and Path(baseline) != Path(folder)
    if compare:
        with solara.ToggleButtonsSingle(value=show, classes=["map-show"]):
            solara.Button(t("map.this_run", lang.value), value="run", text=True)
            solara.Button(t("map.change_button", lang.value), value="difference", text=True)
    against = baseline if compare and show.value == "difference" else None
    solara.FigureMatplotlib(map_figure(zone_map_data(folder, metric.value, baseline=against), lang=lang.value))


def lever_lines(scenario: dict, lg: str) -> list[str]:
    """The levers a run moved from the baseline file, in plain words: ``label: old → new``."""
    return [f"{t(f'lever.{p}.label', lg)}: {_v(a, lg)} → {_v(b, lg)}"
            for p, a, b in lever_changes(BASELINE_LEVERS, scenario)]


def _v(x, lg: str) -> str:
    if isinstance(x, bool):
        return "on" if x and lg == "en" else "off" if lg == "en" else "sì" if x else "no"
    if isinstance(x, float):
        return localise_number(f"{x:g}", lg)
    if isinstance(x, list):
        return ", ".join(str(v) for v in x)
    return str(x)


@solara.component
def RunView(folder: Path, baseline: Path | None, cards: list[dict] | None = None):
    """KPI cards (against ``baseline`` when given), the levers moved, the city map, the plots and the report."""
    lg = lang.value
    info = read_run(folder)
    # the plots in the page's language: drawn again (outside results/) when the run's are in the other one
    plots = solara.use_memo(lambda: sort_plots(plots_in(folder, info.summary, info.name, lg, PLOT_CACHE))
                            if info is not None and (folder / "plots").is_dir() else [], dependencies=[str(folder), lg])
    if info is None:
        solara.Warning(t("app.not_a_run", lg, folder=folder))
        return
    if cards is None and baseline is not None:
        cards = kpi_cards(baseline, folder)
    line = t("app.run_line", lg, workers=localise_number(f"{info.workers:,}", lg), days=info.days, seed=info.seed)
    solara.Markdown(f"**{info.name}** · `{folder.name}` · {line}"
                    + (t("app.run_seeds", lg, n=info.replications) if info.replications > 1 else "")
                    + (f"  \n{t('app.against', lg, name=f'**{baseline.name}**')}" if baseline is not None else ""))
    for w in run_warnings(info.scenario, read_daily(folder), lg):  # the horizon or season hides an effect
        solara.Warning(w, classes=["horizon-warning"])
    moved = lever_lines(info.scenario, lg)
    with solara.Column(classes=["levers-changed"], gap="0px"):
        if moved:
            solara.Markdown(t("app.levers_changed", lg) + "\n\n" + "\n".join(f"- {m}" for m in moved))
        else:
            solara.Text(t("app.no_levers_changed", lg), style={"font-size": "13px"})
    if cards:
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}, classes=["kpi-cards"]):
            for card in cards:
                KpiCard(card)
    if baseline is not None:  # the spreadsheet of the run against its baseline (sim.outputs.export)
        solara.FileDownload(lambda: workbook_bytes([baseline, folder], lg), filename=f"{folder.name}.xlsx",
                            label=t("app.download_xlsx", lg),
                            mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    report = folder / "report.html"
    if report.is_file():
        solara.FileDownload(lambda: report.read_bytes(), filename=f"{folder.name}-report.html",
                            label=t("app.download_report", lg), mime_type="text/html")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(style={"width": "520px"}):
            CityMap(folder, baseline)
        with solara.Column(style={"flex": "1", "min-width": "480px"}):
            for p in plots:  # the report's order
                solara.Image(p, width="100%", classes=["run-plot"])


@solara.component
def ResultsTab():
    res: AppResult | None = result.value
    if res is None:
        solara.Info(t("app.intro", lang.value))
        return
    if result_inputs.value is not None and result_inputs.value != _inputs():
        solara.Warning(t("app.stale", lang.value), classes=["stale-results"])
    RunView(res.folder, res.baseline_folder, res.cards)


@solara.component
def EarlierRunsTab():
    lg = lang.value
    refresh = solara.use_reactive(0)
    runs = solara.use_memo(lambda: list_runs(RESULTS), dependencies=[refresh.value, result.value])
    labels = [r.label for r in runs]
    chosen, against = open_choice, against_choice
    solara.Button(t("app.refresh", lg), on_click=lambda: refresh.set(refresh.value + 1), text=True)
    if not runs:
        solara.Info(t("app.no_runs", lg, folder=RESULTS))
        return
    shown = ("remote_share", "co2_net_t")
    cols = [t(f"app.col_{c}", lg) for c in ("folder", "scenario", "levers")]
    lines = ["| " + " | ".join(cols) + f" | {t('app.col_sampled', lg)} | {t('app.col_days', lg)} | "
             f"{t('app.col_seed', lg)} | "
             + " | ".join(f"{kpis.label(k, lg)} ({kpis.unit(k, lg)})" for k in shown) + f" | {t('app.col_finished', lg)} |",
             "|---|---|---|---|---|---|" + "---|" * len(shown) + "---|"]
    for r in runs[:30]:
        moved = "; ".join(lever_lines(r.scenario, lg)) or "-"
        lines.append(f"| `{r.folder.name}` | {r.name} | {moved} | {localise_number(f'{r.workers:,}', lg)} | {r.days} | "
                     f"{r.seed} | " + " | ".join(kpis.format_value(k, _mean(r.summary, k), lang=lg) for k in shown)
                     + f" | {r.finished[:19]} |")
    solara.Markdown("\n".join(lines) + (f"\n\n{t('app.older_runs', lg, n=len(runs) - 30)}" if len(runs) > 30 else ""))
    with solara.Card(t("app.compare_runs", lg), margin=0, classes=["compare-card"], style={"margin-bottom": "16px"}):
        solara.SelectMultiple(t("app.compare_runs", lg), values=[x for x in compare_choice.value if x in labels],
                              all_values=labels, on_value=compare_choice.set, classes=["compare-runs"], dense=True)
        picked = [runs[labels.index(x)].folder for x in compare_choice.value if x in labels]
        if len(picked) >= 2:
            CompareTable(picked)
        else:
            solara.Text(t("app.compare_pick_two", lg), style={"font-size": "13px"})
    solara.Select(t("app.open_run", lg), values=labels, value=chosen, classes=["open-run"])
    solara.Select(t("app.compare_against", lg), values=[t("app.none", lg)] + labels, value=against,
                  classes=["against-run"])
    if chosen.value in labels:
        folder = runs[labels.index(chosen.value)].folder
        base = runs[labels.index(against.value)].folder if against.value in labels else None
        RunView(folder, base)


def compare_lines(folders: list[Path], lg: str) -> list[str]:
    """Runs x headline KPIs as Markdown table lines, as ``run.py compare`` prints them: each value in the
    KPI registry's format, and for each run after the first its change from the first (and the paired
    95% interval when both have replications with the same seeds)."""
    rows = build_rows(read_sources(folders))
    by = {(r["kpi"], r["run"]): r for r in rows}
    names = [f.name for f in folders]
    shown = [k for k in kpis.HEADLINE if any((k, n) in by for n in names[1:])]
    head = [t("app.col_run", lg)] + [f"{kpis.label(k, lg)} ({kpis.unit(k, lg)})" for k in shown]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    first = {k: next((by[(k, n)]["baseline"] for n in names[1:] if (k, n) in by), None) for k in shown}
    lines.append(f"| `{names[0]}` ({t('app.what_baseline', lg)}) | "
                 + " | ".join(kpis.format_value(k, first[k], lang=lg) for k in shown) + " |")
    for n in names[1:]:
        cells = []
        for k in shown:
            r = by.get((k, n))
            if r is None:
                cells.append(t("number.missing", lg))
                continue
            diff = kpis.format_diff(k, r["diff"], lg) if r["diff"] is not None else t("number.missing", lg)
            ci = (f" ({kpis.format_interval(k, r['ci95_low'], r['ci95_high'], lg)})"
                  if r.get("ci95_low") is not None else "")
            cells.append(f"{kpis.format_value(k, r['value'], lang=lg)}<br>{diff}{ci}")
        lines.append(f"| `{n}` | " + " | ".join(cells) + " |")
    return lines


@solara.component
def CompareTable(folders: list[Path]):
    """The table of :func:`compare_lines` in the page's language."""
    lg = lang.value
    lines = solara.use_memo(lambda: compare_lines(folders, lg), dependencies=[tuple(map(str, folders)), lg])
    with solara.Column(classes=["compare-table"]):
        solara.Text(t("app.compare_table_intro", lg), style={"font-size": "12px", "color": "#444"})
        solara.Markdown("\n".join(lines))


def _mean(summary: dict, key: str):
    """A KPI of a run as its cards show it: the mean over the seeds when it has replications."""
    reps = ((summary.get("replications") or {}).get("kpis") or {}).get(key)
    return reps["mean"] if reps else summary.get(key)


# -------------------------------------------------------------------------------------- live view
@solara.lab.task
def build_live(scenario) -> None:
    live_model.set(make_live_model(scenario))


@solara.component
def LiveTab():
    lg = lang.value
    update_counter.get()  # re-render after each step, as Mesa's SolaraViz components do
    sc, errors = solara.use_memo(_validate, dependencies=[scenario_label.value, values.value, scale.value,
                                                          days.value, seed.value, package_name.value])
    solara.Markdown(t("app.live_intro", lg, pct=kpis.format_value("remote_share", LIVE_SCALE, lang=lg),
                      n=localise_number(f"{round(LIVE_SCALE * workers_represented(sc.city, sc.population)) if sc else 0:,}", lg)))
    live_sc = sc.model_copy(update={"scale": LIVE_SCALE}) if sc is not None else None
    solara.Button(t("app.live_build", lg), disabled=live_sc is None or build_live.pending,
                  on_click=lambda: build_live(live_sc), classes=["live-build"])
    if build_live.pending:
        solara.Text(t("app.live_building", lg))
    if live_model.value is not None:
        LiveView(live_model.value)


@solara.component
def LiveView(model):
    """Mesa's ModelController (reset, play, step) over ``model``, and what it has recorded so far."""
    lg = lang.value
    update_counter.get()
    reactive_model = solara.use_reactive(model)
    if reactive_model.value is not model and reactive_model.value.scenario is not model.scenario:
        reactive_model.set(model)  # a new model was built with other levers
    # as SolaraViz passes them: reactive play interval (ms), render interval (steps) and threading switch
    play_ms, render_every, threads = solara.use_reactive(50), solara.use_reactive(1), solara.use_reactive(False)
    ModelController(reactive_model, model_parameters={"scenario": model.scenario}, play_interval=play_ms,
                    render_interval=render_every, use_threads=threads)
    m = reactive_model.value
    day = m.day
    date = m.date(day - 1).isoformat() if day else "-"
    solara.Text(t("app.live_day", lg, day=day, days=m.scenario.days, date=date), classes=["live-day"])
    if m.metrics.rows:
        r = m.metrics.rows[-1]
        solara.Text(t("app.live_today", lg, remote=kpis.format_value("remote_share", r["remote_share"], lang=lg),
                      peak=kpis.format_value("peak_extra_time", r["peak_extra_time"], lang=lg),
                      stress=kpis.format_value("mean_stress", r["mean_stress"], lang=lg)), style={"font-size": "14px"})
        solara.FigureMatplotlib(live_figure(m))


# ------------------------------------------------------------------------------------------- page
@solara.component
def Page():
    lg = lang.value
    solara.Title(t("app.title", lg))
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(t("app.bar_title", lg))
    with solara.Sidebar():
        Sidebar()
    with solara.lab.Tabs():
        with solara.lab.Tab(t("app.tab_results", lg)):
            ResultsTab()
        with solara.lab.Tab(t("app.tab_live", lg)):
            LiveTab()
        with solara.lab.Tab(t("app.tab_earlier", lg)):
            EarlierRunsTab()
