"""The app for the Comune's planners in a real headless Chromium, in Italian and in English.

A planner names a package of two levers (SME support and corporate welfare), saves it as a scenario
file, runs it with two seeds, and sees: the run named after the package, the two levers listed under
the title, every card coloured by its paired 95% interval (green/red only beyond the noise, with the
words that say so), the stale-results sign after a lever moves, the levers changed in Earlier runs;
then switches to English and reads the same page in English. Screenshots of both languages are saved
in SMARTCOMMUTE_SCREENSHOTS (when set) to be looked at.

Skipped without Debian's chromium/chromium-driver, Selenium or Solara (as tests/test_app_browser.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.chromium import MISSING, available

pytestmark = pytest.mark.slow  # ~95 s in Chromium; tests/test_app_browser.py keeps one app flow in the default run

if not available():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("solara", reason="the app extra is not installed: pip install -e '.[app]'")
pytest.importorskip("selenium.webdriver", reason="selenium not installed: pip install -e '.[test]'")
from selenium.webdriver.common.by import By  # noqa: E402

from sim.i18n import t  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from tests.test_app_browser import (_choose_replications, _classes, _open_section, _press, _tab, _text, _type,  # noqa: E402
                                    _wait, app_server, downloading_browser)

SHOTS = os.environ.get("SMARTCOMMUTE_SCREENSHOTS")
NOISE_COLOUR = {"beyond": {"rgb(27, 127, 59)", "rgb(176, 0, 32)"}, "within": {"rgb(107, 119, 133)"},
                "none": {"rgb(107, 119, 133)"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    packages = tmp_path_factory.mktemp("packages")
    with app_server(tmp_path_factory, env={**os.environ, "SMARTCOMMUTE_PACKAGES": str(packages)}) as s:
        yield {**s, "packages": packages}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with downloading_browser(tmp_path_factory) as driver:
        yield driver


def _shot(d, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        d.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _switch(d, css: str) -> None:
    """Turn a switch on (a click on its label)."""
    box = _wait(d, css + " input")[0]
    if box.get_attribute("aria-checked") != "true":
        d.execute_script("arguments[0].click()", box)
    deadline = time.time() + 20
    while _wait(d, css + " input")[0].get_attribute("aria-checked") != "true":
        assert time.time() < deadline, f"{css} did not turn on"
        time.sleep(0.2)


def _cards(d) -> list:
    return [c for c in d.find_elements(By.CSS_SELECTOR, ".kpi-card") if c.is_displayed()]


def _check_cards(d, lang: str) -> dict[str, str]:
    """Every card's noise class, its colour and its words agree; returns kpi -> noise."""
    out = {}
    for card in _cards(d):
        cls = _classes(card)
        kpi = next(c[4:] for c in cls if c.startswith("kpi-") and not c.startswith(("kpi-dir", "kpi-card", "kpi-noise"))
                   and c[4:] not in ("better", "worse", "neutral"))
        noise = next(c[len("kpi-noise-"):] for c in cls if c.startswith("kpi-noise-"))
        words = card.find_element(By.CSS_SELECTOR, ".kpi-noise").text
        want = {"beyond": "app.card_beyond", "within": "app.card_within", "none": "app.card_no_interval"}[noise]
        assert words == t(want, lang), (kpi, words)
        colour = card.find_element(By.CSS_SELECTOR, ".kpi-diff").value_of_css_property("color").replace("rgba", "rgb")
        colour = colour.replace(", 1)", ")")
        assert colour in NOISE_COLOUR[noise], (kpi, noise, colour)
        if noise == "beyond":  # the interval excludes 0: its two ends have the same sign
            ci = card.find_element(By.CSS_SELECTOR, ".kpi-ci").text
            assert ci.count("+") == 2 or ci.count("-") >= 2, (kpi, ci)
        out[kpi] = noise
    return out


def test_a_planner_names_a_package_runs_it_and_reads_it_in_both_languages(server, browser):
    d = browser
    d.get(server["url"])
    run = _wait(d, ".run-button", text=t("app.run", "it").upper())[0]  # Italian first, Run at the top
    assert run.location["y"] < _wait(d, ".scenario-select")[0].location["y"]
    _type(d, ".run-scale", "0.005")
    _type(d, ".run-days", "20")
    _choose_replications(d, 2)
    _open_section(d, t("app.sec_sme_support", "it"))
    _switch(d, ".lever-policy-sme_support-enabled-switch")
    _open_section(d, t("app.sec_corporate_welfare", "it"))
    _switch(d, ".lever-policy-corporate_welfare-enabled-switch")
    # the levers' plain words, not code names
    assert _text(d, ".lever-policy-corporate_welfare-enabled").startswith(t("lever.policy.corporate_welfare.enabled.label", "it"))
    _type(d, ".package-name", "pmi_e_welfare")
    box = _wait(d, ".package-description textarea")[0]
    box.send_keys("Sostegno alle PMI e welfare aziendale insieme.")
    time.sleep(0.8)
    _wait(d, ".package-save")[0].click()
    _wait(d, ".package-message", text="pmi_e_welfare.yaml")
    saved = server["packages"] / "pmi_e_welfare.yaml"
    sc = load_scenario(saved)  # a scenario file like any other
    assert sc.name == "pmi_e_welfare" and sc.policy.sme_support.enabled and sc.policy.corporate_welfare.enabled
    assert "Sostegno alle PMI" in sc.description

    time.sleep(1.0)
    _press(d, ".run-button")
    _wait(d, ".kpi-card", timeout=300)
    _wait(d, ".run-status", text="fatto", timeout=300)
    folders = sorted(p.name for p in server["results"].iterdir())
    assert any(f.startswith("pmi_e_welfare-") for f in folders), folders  # the run is named after the package
    moved = _text(d, ".levers-changed")
    for path in ("policy.sme_support.enabled", "policy.corporate_welfare.enabled"):
        assert t(f"lever.{path}.label", "it") in moved, moved
    noise = _check_cards(d, "it")
    assert len(noise) >= 10 and set(noise.values()) <= {"beyond", "within"}  # two seeds: every card has an interval
    assert not d.find_elements(By.CSS_SELECTOR, ".stale-results")
    # 20 workdays of SME support: the page says the horizon is too short for the programme to show
    assert any("PMI" in w.text for w in d.find_elements(By.CSS_SELECTOR, ".horizon-warning"))
    _shot(d, "app_it")

    # the spreadsheet downloads: its KPI sheet holds the run's summary.json figures
    _wait(d, "button", text=t("app.download_xlsx", "it").upper())[0].click()
    deadline = time.time() + 60
    while not list(d.downloads.glob("pmi_e_welfare-*.xlsx")) and time.time() < deadline:
        time.sleep(0.3)
    got = list(d.downloads.glob("pmi_e_welfare-*.xlsx"))
    assert got, list(d.downloads.iterdir())
    from openpyxl import load_workbook
    wb = load_workbook(got[0])
    assert wb.sheetnames[:3] == ["KPI", "comparison", "by_zone"]
    rows = list(wb["KPI"].iter_rows(values_only=True))
    run_folder = server["results"] / got[0].stem
    summary = json.loads((run_folder / "summary.json").read_text())
    reps = summary["replications"]["kpis"]  # two seeds: the mean over the seeds
    kpi = {r[0]: r for r in rows[1:]}
    for k in ("sme_allowed_share", "welfare_coverage_share", "co2_net_t"):
        assert kpi[k][4] == pytest.approx(reps[k]["mean"]), k

    _wait(d, ".lang-en")[0].click()
    _wait(d, ".run-button", text="RUN")
    moved = _text(d, ".levers-changed")
    assert t("lever.policy.sme_support.enabled.label", "en") in moved, moved
    assert _check_cards(d, "en") == noise
    _shot(d, "app_en")

    # a lever moves: the results are marked stale
    _open_section(d, t("app.sec_policy", "en"))
    _type(d, ".lever-policy-transit_fare_eur-input", "2.5")
    _wait(d, ".stale-results", text="other levers")
    _shot(d, "app_en_stale")

    _tab(d, t("app.tab_earlier", "en"))
    table = _wait(d, "table", text=t("app.col_levers", "en"))[0]
    row = next(r for r in table.find_elements(By.CSS_SELECTOR, "tr") if "pmi_e_welfare-" in r.text)
    assert t("lever.policy.corporate_welfare.enabled.label", "en") in row.text
    _wait(d, ".lang-it")[0].click()
    _wait(d, "table", text=t("app.col_levers", "it"))
    _shot(d, "app_it_earlier")
    assert not [b for b in d.find_elements(By.TAG_NAME, "b") if "runs on" in b.text and b.is_displayed()]
