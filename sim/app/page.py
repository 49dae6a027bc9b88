"""The planner's page (Solara): pick a scenario, move levers, run, read the KPI cards, plots and map.

Started by ``run.py app``. Layout: the sidebar holds the scenario, the run size and the levers (from
the schema, with unit, range and meaning; a bad value shows the schema's message under its box);
the main area has three tabs: *Results* (KPI cards against the baseline with the same seed, map,
plots, report download), *Live* (a small model stepped day by day with Mesa's ModelController) and
*Earlier runs* (every run folder in ``results/``, to open or compare).

Runs happen in a worker thread (``solara.lab.task``), so the page stays responsive.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

import solara
import solara.lab

with warnings.catch_warnings():  # Solara's hook linter flags a line inside Mesa's own SolaraViz module
    warnings.simplefilter("ignore", UserWarning)
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

from sim.scenario.load import ScenarioError, load_scenario
from sim.app.levers import apply_levers, changed_levers, lever_values, levers, mark_edited, scenario_files
from sim.app.live import LIVE_SCALE, live_figure
from sim.app.live import live_model as make_live_model
from sim.outputs import kpis
from sim.app.runs import (MAP_METRICS, SCENARIOS, AppResult, kpi_cards, list_runs, map_figure, read_run,
                          run_against_baseline, zone_map_data)

RESULTS = Path(os.environ.get("SMARTCOMMUTE_RESULTS", "results")).resolve()
LEVERS = levers()
FILES = scenario_files(SCENARIOS)
FILE_LABELS = [str(p.relative_to(SCENARIOS)) for p in FILES]
SECTION_TITLES = {"policy": "Smart working, Area C, transit", "sme_support": "Support for small firms",
                  "remote_days": "Remote days (rules)", "staggered_hours": "Staggered office hours",
                  "flexible_hours": "Flexible hours", "corporate_welfare": "Corporate welfare"}

PROGRESS_EVERY_S = 0.3  # shortest interval between two progress updates of the page

# per-browser-session state (Solara keeps a module-level reactive per connection)
scenario_label = solara.reactive(FILE_LABELS[0])
values = solara.reactive(lever_values(load_scenario(FILES[0])))
scale = solara.reactive(0.01)
days = solara.reactive(250)
seed = solara.reactive("42")
replications = solara.reactive(1)
status = solara.reactive("")
fraction = solara.reactive(0.0)
result = solara.reactive(None)       # AppResult of the last run
live_model = solara.reactive(None)   # LiveModel of the live tab


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
@solara.component
def LeverControl(lever, value, error: str | None):
    """One lever: its control, a text box for numbers, the schema's meaning and range, and its error."""
    def set_value(v):
        values.set({**values.value, lever.path: v})

    label = f"{lever.name.replace('_', ' ')}" + (f" ({lever.unit})" if lever.unit not in ("-", "") else "")
    with solara.Column(gap="0px", classes=["lever", _css(lever.path)], style={"margin-bottom": "10px"}):
        if lever.kind == "switch":
            solara.Switch(label=label, value=bool(value), on_value=set_value, classes=[_css(lever.path) + "-switch"])
        elif lever.kind == "choice":
            solara.Select(label=label, values=list(lever.choices), value=value, on_value=set_value,
                          classes=[_css(lever.path) + "-select"])
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
            solara.InputText("value", value=str(value), on_value=set_value, dense=True,
                             classes=[_css(lever.path) + "-input"], error=bool(error))
        solara.Text(f"{lever.meaning} · range {lever.range_text()} · source: {lever.source}",
                    style={"font-size": "11px", "color": "#555"})
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
        with solara.Details(summary=SECTION_TITLES.get(section, section) + ("  (check a value)" if bad else ""),
                            expand=bad or section == "policy"):
            for lever in group:
                LeverControl(lever, values.value[lever.path], errors.get(lever.path))


# ------------------------------------------------------------------------------------------ runs
@solara.lab.task
def run_task(scenario) -> AppResult:
    last = [0.0, ""]  # time and phase of the last update shown

    def progress(frac: float, what: str) -> None:
        # each update re-draws the sidebar: a few per second, not one per simulated day
        now = time.perf_counter()
        if what != last[1] or now - last[0] >= PROGRESS_EVERY_S or frac >= 1.0:
            last[:] = [now, what]
            fraction.set(frac)
            status.set(what)

    fraction.set(0.0)
    out = run_against_baseline(scenario, RESULTS, replications=replications.value, progress=progress)
    status.set(f"done in {out.seconds:.1f} s" + (" (baseline reused from an earlier run)" if out.baseline_reused else ""))
    result.set(out)
    return out


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
        sc = mark_edited(sc, changed_levers(lever_values(file_sc), values.value, sc))
    return sc, errors


@solara.component
def RunSize(errors):
    share, n_days = _number(scale.value), _number(days.value, int)
    solara.SliderFloat("sample share of workers", value=min(max(share or 0.01, 0.005), 1.0), min=0.005, max=1.0,
                       step=0.005, on_value=lambda v: None if share and abs(v - share) < 0.0025 else scale.set(round(v, 4)))
    solara.InputText("sample share (0-1]", value=str(scale.value), on_value=scale.set, dense=True, classes=["run-scale"])
    if share:
        solara.Text(f"{round(share * 1_210_000):,} of 1,210,000 workers simulated (totals stay city-wide)",
                    style={"font-size": "11px", "color": "#555"})
    solara.SliderInt("workdays (250 = one year)", value=min(max(n_days or 250, 1), 250), min=1, max=250,
                     on_value=days.set)
    solara.InputText("workdays", value=str(days.value), on_value=days.set, dense=True, classes=["run-days"])
    solara.InputText("seed", value=seed, dense=True, classes=["run-seed"])
    with solara.Column(classes=["run-replications"], gap="0px"):
        solara.SliderInt("replications (seeds; 95% intervals when > 1)", value=replications, min=1, max=8)
    if "run" in errors:
        solara.Text(errors["run"], classes=["lever-error", "run-error"], style={"color": "#b00020", "font-size": "12px"})


@solara.component
def Sidebar():
    sc, errors = solara.use_memo(_validate, dependencies=[scenario_label.value, values.value, scale.value,
                                                          days.value, seed.value])

    def pick(label):
        scenario_label.set(label)
        file_sc, _ = _file_scenario(label)
        if file_sc is not None:  # a bad file keeps the levers as they are; its message shows below
            values.set(lever_values(file_sc))

    # the sidebar re-draws with every progress update: read the file only when another one is picked
    file_sc, _ = solara.use_memo(lambda: _file_scenario(scenario_label.value), dependencies=[scenario_label.value])
    with solara.Card("Scenario", margin=0):
        solara.Select("scenario file", values=FILE_LABELS, value=scenario_label.value, on_value=pick,
                      classes=["scenario-select"])
        if file_sc is not None:
            solara.Text(file_sc.description.strip(), style={"font-size": "12px"})
        if "scenario" in errors:
            solara.Text(errors["scenario"], classes=["lever-error"], style={"color": "#b00020"})
    with solara.Card("Run size", margin=0):
        RunSize(errors)
    with solara.Card("Levers", margin=0):
        LeverPanel(errors)
    with solara.Card(margin=0):
        solara.Button("Run", color="primary", classes=["run-button"], disabled=sc is None or run_task.pending,
                      on_click=lambda: run_task(sc))
        if errors:
            solara.Text("Fix the values marked in red to run.", style={"color": "#b00020"})
        if run_task.pending:
            solara.ProgressLinear(fraction.value * 100)
        solara.Text(status.value, classes=["run-status"])
        if run_task.error:
            solara.Error(f"The run failed: {run_task.exception}", classes=["run-failed"])


# --------------------------------------------------------------------------------------- results
@solara.component
def KpiCard(card: dict):
    arrow = {1: "up", -1: "down", 0: "same"}[card["direction"]]
    verdict = {1: "better", -1: "worse", 0: "neutral"}[card["verdict"]]
    color = {"better": "#1b7f3b", "worse": "#b00020", "neutral": "#1f4e99"}[verdict]
    with solara.Card(classes=["kpi-card", f"kpi-{card['kpi']}", f"kpi-dir-{arrow}", f"kpi-{verdict}"],
                     style={"width": "235px", "border-top": f"4px solid {color}"}, margin=1), solara.Column(gap="2px"):
        solara.Text(card["label"], style={"font-weight": "bold"})
        k = card["kpi"]
        solara.Text(kpis.format_value(k, card["value"]), classes=["kpi-value"], style={"font-size": "20px"})
        solara.Text(card["unit"], classes=["kpi-unit"], style={"font-size": "11px", "color": "#555"})
        pct = f" ({kpis.format_pct_change(card['diff_pct'])})" if card["diff_pct"] is not None else ""
        solara.Text(f"{kpis.format_diff(k, card['diff'] or 0.0)} vs baseline{pct}", classes=["kpi-diff"],
                    style={"color": color})
        if card.get("ci95_low") is not None:
            solara.Text(f"95% interval of the difference: {kpis.format_diff(k, card['ci95_low'])} to "
                        f"{kpis.format_diff(k, card['ci95_high'])}", classes=["kpi-ci"], style={"font-size": "11px"})
        solara.Text(f"baseline {kpis.format_value(k, card['baseline'])}", style={"font-size": "11px", "color": "#555"})


@solara.component
def CityMap(folder: Path, baseline: Path | None = None):
    metric = solara.use_reactive("remote_share")
    show = solara.use_reactive("run")
    with solara.ToggleButtonsSingle(value=metric, classes=["map-metric"]):
        for key, m in MAP_METRICS.items():
            solara.Button(m.button, value=key, text=True)
    compare = baseline is not None and Path(baseline) != Path(folder)
    if compare:
        with solara.ToggleButtonsSingle(value=show, classes=["map-show"]):
            solara.Button("this run", value="run", text=True)
            solara.Button("change from the baseline", value="difference", text=True)
    against = baseline if compare and show.value == "difference" else None
    solara.FigureMatplotlib(map_figure(zone_map_data(folder, metric.value, baseline=against)))


@solara.component
def RunView(folder: Path, baseline: Path | None, cards: list[dict] | None = None):
    """KPI cards (against ``baseline`` when given), the city map, the plots and the report download."""
    info = read_run(folder)
    if info is None:
        solara.Warning(f"{folder} is not a complete run folder")
        return
    if cards is None and baseline is not None:
        cards = kpi_cards(baseline, folder)
    solara.Markdown(f"**{info.name}** · `{folder.name}` · {info.workers:,} workers sampled · {info.days} workdays · "
                    f"seed {info.seed}" + (f" · {info.replications} seeds" if info.replications > 1 else "")
                    + (f"  \nagainst **{baseline.name}**" if baseline is not None else ""))
    if cards:
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}, classes=["kpi-cards"]):
            for card in cards:
                KpiCard(card)
    report = folder / "report.html"
    if report.is_file():
        solara.FileDownload(lambda: report.read_bytes(), filename=f"{folder.name}-report.html",
                            label="Download the HTML report", mime_type="text/html")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(style={"width": "520px"}):
            CityMap(folder, baseline)
        with solara.Column(style={"flex": "1", "min-width": "480px"}):
            for p in sorted((folder / "plots").glob("*.png")):
                solara.Image(p, width="100%", classes=["run-plot"])


@solara.component
def ResultsTab():
    res: AppResult | None = result.value
    if res is None:
        solara.Info("Pick a scenario, move a lever and press Run: the KPI cards compare the run with the "
                    "baseline at the same seed and size. A run at the default 1% sample takes a few seconds.")
        return
    RunView(res.folder, res.baseline_folder, res.cards)


@solara.component
def EarlierRunsTab():
    refresh = solara.use_reactive(0)
    runs = solara.use_memo(lambda: list_runs(RESULTS), dependencies=[refresh.value, result.value])
    labels = [r.label for r in runs]
    chosen = solara.use_reactive(None)
    against = solara.use_reactive(None)
    solara.Button("Refresh the list", on_click=lambda: refresh.set(refresh.value + 1), text=True)
    if not runs:
        solara.Info(f"No run folders in {RESULTS} yet.")
        return
    shown = ("remote_share", "co2_net_t")
    lines = ["| run folder | scenario | workers sampled | days | seed | "
             + " | ".join(f"{kpis.label(k)} ({kpis.unit(k)})" for k in shown) + " | finished |",
             "|---|---|---|---|---|" + "---|" * len(shown) + "---|"]
    for r in runs[:30]:
        lines.append(f"| `{r.folder.name}` | {r.name} | {r.workers:,} | {r.days} | {r.seed} | "
                     + " | ".join(kpis.format_value(k, r.summary.get(k)) for k in shown) + f" | {r.finished[:19]} |")
    solara.Markdown("\n".join(lines) + (f"\n\n{len(runs) - 30} older runs are in the lists below." if len(runs) > 30 else ""))
    solara.Select("open a run", values=labels, value=chosen, classes=["open-run"])
    solara.Select("compare it against (optional)", values=["(none)"] + labels, value=against, classes=["against-run"])
    if chosen.value in labels:
        folder = runs[labels.index(chosen.value)].folder
        base = runs[labels.index(against.value)].folder if against.value in labels else None
        RunView(folder, base)


# -------------------------------------------------------------------------------------- live view
@solara.lab.task
def build_live(scenario) -> None:
    live_model.set(make_live_model(scenario))


@solara.component
def LiveTab():
    update_counter.get()  # re-render after each step, as Mesa's SolaraViz components do
    sc, errors = solara.use_memo(_validate, dependencies=[scenario_label.value, values.value, scale.value,
                                                          days.value, seed.value])
    solara.Markdown(f"A {LIVE_SCALE:.1%} sample ({round(LIVE_SCALE * 1_210_000):,} workers) of the scenario with "
                    "the levers on the left, stepped one workday at a time with Mesa's model controller.")
    live_sc = sc.model_copy(update={"scale": LIVE_SCALE}) if sc is not None else None
    solara.Button("Build the live model with these levers", disabled=live_sc is None or build_live.pending,
                  on_click=lambda: build_live(live_sc), classes=["live-build"])
    if build_live.pending:
        solara.Text("building (city, population, calibration)...")
    if live_model.value is not None:
        LiveView(live_model.value)


@solara.component
def LiveView(model):
    """Mesa's ModelController (reset, play, step) over ``model``, and what it has recorded so far."""
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
    solara.Text(f"day {day} of {m.scenario.days} ({date})", classes=["live-day"])
    if m.metrics.rows:
        r = m.metrics.rows[-1]
        solara.Text(f"today: {r['remote_share']:.1%} remote, peak extra car time {r['peak_extra_time']:.1%}, "
                    f"mean stress {r['mean_stress']:.2f}", style={"font-size": "13px"})
        solara.FigureMatplotlib(live_figure(m))


# ------------------------------------------------------------------------------------------- page
@solara.component
def Page():
    solara.Title("Smart working in Milan")
    with solara.AppBar():
        solara.AppBarTitle("Smart working in Milan: commuting, CO2 and stress")
    with solara.Sidebar():
        Sidebar()
    with solara.lab.Tabs():
        with solara.lab.Tab("Results"):
            ResultsTab()
        with solara.lab.Tab("Live, day by day"):
            LiveTab()
        with solara.lab.Tab("Earlier runs"):
            EarlierRunsTab()
