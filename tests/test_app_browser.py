"""``run.py app`` in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, Selenium).

The server is started on a free port of 127.0.0.1 as a separate process (``run.py app --port N
--results TMP``) and stopped by its process id. The test moves a lever to a bad value and sees the
schema's message next to it (and the Run button disabled), then sets a remote-days floor of 2 days,
runs a small scenario and checks that the KPI cards move the expected way: remote share up, car
vehicle-km, commuting CO2 and delay down. It downloads the report, opens the earlier runs, steps the
live model with Mesa's controller, and checks that nothing was fetched from outside 127.0.0.1.

Skipped when /usr/bin/chromium or /usr/bin/chromedriver is missing (``apt-get install chromium
chromium-driver``), or Selenium or Solara is not installed (``pip install -e '.[test,app]'``).
"""

from __future__ import annotations

from contextlib import contextmanager

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chromium import MISSING, available, chromium

if not available():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("solara", reason="the app extra is not installed: pip install -e '.[app]'")
pytest.importorskip("selenium.webdriver", reason="selenium not installed: pip install -e '.[test]'")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from sim.outputs.kpis import HEADLINE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process we started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@contextmanager
def app_server(tmp_path_factory, env: dict | None = None):
    """``run.py app`` on a free port of 127.0.0.1 with its own results folder, listening; stopped by its pid."""
    results = tmp_path_factory.mktemp("results")
    port = _free_port()
    log = tmp_path_factory.mktemp("log") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "app", "--port", str(port), "--results", str(results)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            assert proc.poll() is None, f"the app exited: {log.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"the app did not listen on {url} within 90 s: {log.read_text()}")
        assert log.read_text().splitlines()[0].startswith(f"app: {url}")
        yield {"url": url, "results": results, "log": log, "proc": proc}
    finally:
        _stop(proc)
    assert proc.poll() is not None


@contextmanager
def downloading_browser(tmp_path_factory):
    """Chromium that saves downloads without asking, into ``driver.downloads``."""
    downloads = tmp_path_factory.mktemp("downloads")
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    with chromium(tmp_path_factory.mktemp("chromium-profile"), window="1400,1800", prefs=prefs) as driver:
        driver.downloads = downloads
        yield driver


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with downloading_browser(tmp_path_factory) as driver:
        yield driver


def _wait(driver, css: str, timeout: float = 60, text: str | None = None):
    """Elements matching ``css`` (holding ``text``), waiting for them; the page re-draws parts as it goes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            found = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if text is None or text in e.text]
        except StaleElementReferenceException:  # re-drawn while we read it: look again
            found = []
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing matching {css!r}{f' with {text!r}' if text else ''} within {timeout} s")


def _type(driver, css: str, text: str) -> None:
    """Type ``text`` into a text box and press Enter; again if a re-render of the page ate keystrokes."""
    for _ in range(5):
        try:
            box = _wait(driver, css + " input")[0]
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(text)
            box.send_keys(Keys.ENTER)
        except (StaleElementReferenceException, ElementNotInteractableException):  # re-drawn while we typed: again
            time.sleep(0.5)
            continue
        time.sleep(0.5)
        if _value(driver, css + " input") == text:
            return
    raise AssertionError(f"{css} does not hold {text!r}")


def _press(driver, css: str, timeout: float = 30) -> None:
    """Click the first button matching ``css`` once it is enabled, scrolled into view first (a click at a
    point another element covers is refused by Chromium, and the sidebar is taller than the window)."""
    deadline = time.time() + timeout
    while True:
        try:
            button = _wait(driver, css)[0]
            if button.is_enabled():
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
                return
        except StaleElementReferenceException:  # re-drawn while we read it: look again
            pass
        assert time.time() < deadline, f"{css} stayed disabled for {timeout} s"
        time.sleep(0.2)


def _text(driver, css: str) -> str:
    """Text of the first element matching ``css``, read again if it was re-drawn meanwhile."""
    for _ in range(50):
        try:
            return _wait(driver, css)[0].text
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError(f"{css} kept being re-drawn")


def _value(driver, css: str) -> str | None:
    """The ``value`` attribute of the first element matching ``css`` (None if it was re-drawn as we read it)."""
    try:
        return _wait(driver, css)[0].get_attribute("value")
    except StaleElementReferenceException:
        return None


def _wait_value(driver, css: str, value: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while (got := _value(driver, css)) != value:
        assert time.time() < deadline, f"{css} holds {got!r}, expected {value!r}"
        time.sleep(0.2)


def _open_section(driver, title: str) -> None:
    """Open a lever section (scrolled into view first: the sidebar is taller than the window)."""
    deadline = time.time() + 20
    while True:
        header = _wait(driver, ".v-expansion-panel-header", text=title)[0]
        if "v-expansion-panel-header--active" in (header.get_attribute("class") or ""):
            return
        assert time.time() < deadline, f"the section {title!r} did not open"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", header)
        time.sleep(0.8)


def _pick(driver, select_css: str, text: str) -> None:
    """Open a drop-down and choose the first item holding ``text`` (in the menu that is open now)."""
    _wait(driver, select_css)[0].click()
    item = _wait(driver, ".menuable__content__active .v-list-item", text=text)[0]
    driver.execute_script("arguments[0].click()", item)
    time.sleep(0.5)


def _tab(driver, title: str) -> None:
    _wait(driver, ".v-tab", text=title.upper())[0].click()


def _image_sources(driver) -> set[str]:
    """The ``src`` of every image on the page (read again if the page re-drew meanwhile)."""
    for _ in range(50):
        try:
            return {e.get_attribute("src") or "" for e in driver.find_elements(By.TAG_NAME, "img")}
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError("the images kept being re-drawn")


def _classes(element) -> set[str]:
    return set((element.get_attribute("class") or "").split())


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
        elif msg.get("method") == "Network.webSocketCreated":
            urls.append(msg["params"]["url"])
    return urls


def _choose_replications(d, n: int) -> None:
    """Press the ``n``-seeds button until the page shows it chosen (a click can be lost while the page re-draws)."""
    deadline = time.time() + 30
    while "v-item--active" not in _classes(_wait(d, f".replications-{n}")[0]):
        assert time.time() < deadline, f"the {n}-seed button did not become active"
        _press(d, f".replications-{n}")
        time.sleep(1.0)


def test_planner_moves_a_lever_runs_and_sees_the_cards_move(server, browser):
    d = browser
    d.get(server["url"])
    _wait(d, ".run-button")
    _wait(d, ".lang-en")[0].click()  # the page opens in Italian (the Comune's baseline): these tests read English
    _wait(d, ".run-button", text="RUN")
    # a small run: 0.5% sample, 20 workdays
    _type(d, ".run-scale", "0.005")
    _type(d, ".run-days", "20")

    # a bad value: the schema's message next to the lever, and no run possible
    _type(d, ".lever-policy-transit_fare_eur-input", "-1")
    err = _wait(d, ".lever-policy-transit_fare_eur-error", text="got -1")[0]
    assert err.text == "input should be greater than or equal to 0; got -1"
    assert not _wait(d, ".run-button")[0].is_enabled()
    _type(d, ".lever-policy-transit_fare_eur-input", "2.2")
    deadline = time.time() + 20
    while d.find_elements(By.CSS_SELECTOR, ".lever-error") and time.time() < deadline:
        time.sleep(0.2)
    assert not d.find_elements(By.CSS_SELECTOR, ".lever-error")

    # the lever: at least two remote days a week for everyone allowed smart working
    _open_section(d, "Remote days")
    _type(d, ".lever-policy-remote_days-floor-input", "2")
    # the slider follows the box, and the box follows the slider (moved with the keyboard)
    _wait_value(d, ".lever-policy-remote_days-floor .v-slider input", "2")
    thumb = _wait(d, ".lever-policy-remote_days-cap [role=slider]")[0]
    d.execute_script("arguments[0].focus()", thumb)
    ActionChains(d).send_keys(Keys.ARROW_LEFT).perform()
    _wait_value(d, ".lever-policy-remote_days-cap-input input", "4")
    # no run on this machine yet (an empty results folder): the wait is not known, the default sample the smallest
    assert _text(d, ".run-wait").startswith("Expected wait: not known yet"), _text(d, ".run-wait")
    assert _text(d, ".run-default-sample").startswith("Default sample 1%: the smallest")
    t0 = time.perf_counter()
    _press(d, ".run-button")
    _wait(d, ".kpi-card", timeout=240)
    seconds = time.perf_counter() - t0
    # now it is: fitted on the two folders just written, and offered for the whole city
    _wait(d, ".run-wait", text="(from 2 earlier runs on this machine)")
    assert _text(d, ".run-full-city").startswith("WHOLE CITY (100%): ABOUT "), _text(d, ".run-full-city")
    cards = {c: _classes(e) for e in d.find_elements(By.CSS_SELECTOR, ".kpi-card")
             for c in _classes(e) if c.startswith("kpi-") and not c.startswith(("kpi-dir", "kpi-card"))}
    assert "kpi-dir-up" in cards["kpi-remote_share"]
    for kpi in ("car_vkm", "co2_commute_t", "delay_hours", "commute_hours_per_worker"):
        assert {"kpi-dir-down", "kpi-better"} <= cards[f"kpi-{kpi}"], kpi
    assert {"kpi-dir-up", "kpi-worse"} <= cards["kpi-co2_home_t"]
    status = _text(d, ".run-status")
    assert status.startswith("done in"), status
    print(f"\nbutton to cards: {seconds:.1f} s (baseline and run, 0.5% sample, 20 workdays); status: {status}")

    # the folders are ordinary run folders: the run (named as edited) and its baseline
    folders = sorted(p.name for p in server["results"].iterdir())
    assert len(folders) == 2 and any(f.startswith("milan_baseline_edited-") for f in folders)
    # plots and the map are on the page
    assert len(d.find_elements(By.CSS_SELECTOR, ".run-plot")) >= 9
    assert d.find_elements(By.CSS_SELECTOR, ".map-metric")
    # the map switches to the change from the baseline: a new image is drawn
    before = _image_sources(d)
    _wait(d, ".map-show button", text="CHANGE FROM THE BASELINE")[0].click()
    deadline = time.time() + 30
    while not (_image_sources(d) - before) and time.time() < deadline:
        time.sleep(0.3)
    assert _image_sources(d) - before, "the difference map was not drawn"

    # the report downloads
    _wait(d, "button", text="DOWNLOAD THE HTML REPORT")[0].click()
    deadline = time.time() + 30
    while not list(d.downloads.glob("*report.html")) and time.time() < deadline:
        time.sleep(0.3)
    got = list(d.downloads.glob("*report.html"))
    assert got and got[0].read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")

    # a second run with the same size reuses the baseline
    _type(d, ".lever-policy-remote_days-floor-input", "3")
    time.sleep(1.0)  # the new value validated
    _press(d, ".run-button")
    _wait(d, ".run-status", text="baseline reused", timeout=240)
    assert len(list(server["results"].iterdir())) == 3


def test_earlier_runs_open_and_compare(server, browser):
    d = browser
    _tab(d, "Earlier runs")
    table = _wait(d, "table", text="run folder")[0]
    assert "milan_baseline_edited-" in table.text
    _pick(d, ".open-run", "milan_baseline_edited-")
    _wait(d, ".run-plot")
    _pick(d, ".against-run", "milan_baseline-")
    deadline = time.time() + 60
    while True:  # the cards are re-drawn as the comparison arrives: read them again until they hold still
        try:
            cards = [_classes(c) for c in d.find_elements(By.CSS_SELECTOR, ".kpi-card") if c.is_displayed()]
        except StaleElementReferenceException:
            cards = []
        if len(cards) == len(HEADLINE):
            break
        assert time.time() < deadline, f"{len(cards)} KPI cards on the earlier-runs tab, expected {len(HEADLINE)}"
        time.sleep(0.3)
    remote = [c for c in cards if "kpi-remote_share" in c][0]
    assert "kpi-dir-up" in remote


def test_live_view_steps_the_model_day_by_day(server, browser):
    d = browser
    _tab(d, "Live, day by day")
    _wait(d, ".live-build")[0].click()
    _wait(d, "button", text="STEP", timeout=120)
    for day in (1, 2, 3):  # the controller re-draws after each step: find the button again each time
        _wait(d, "button", text="STEP")[0].click()
        deadline = time.time() + 20
        while not _text(d, ".live-day").startswith(f"day {day} of 20"):
            assert time.time() < deadline, _text(d, ".live-day")
            time.sleep(0.2)
    assert _text(d, ".live-day").startswith("day 3 of 20")


def _app_with_a_remote_days_floor(d, server) -> None:
    """The page as the first test leaves it (English, a 0.5% sample, 20 workdays, a floor of remote days)
    when a test runs without it (``-m slow`` deselects the first test)."""
    if d.current_url.startswith(server["url"]) and d.find_elements(By.CSS_SELECTOR, ".run-button"):
        return
    d.get(server["url"])
    _wait(d, ".run-button")
    _wait(d, ".lang-en")[0].click()
    _wait(d, ".run-button", text="RUN")
    _type(d, ".run-scale", "0.005")
    _type(d, ".run-days", "20")
    _open_section(d, "Remote days")
    _type(d, ".lever-policy-remote_days-floor-input", "2")
    _wait_value(d, ".lever-policy-remote_days-floor .v-slider input", "2")


@pytest.mark.slow  # ~80 s in Chromium; tests/test_app.py checks the same interval without a browser
def test_replications_put_a_95_percent_interval_on_the_cards(server, browser):
    d = browser
    _app_with_a_remote_days_floor(d, server)
    _tab(d, "Results")
    _choose_replications(d, 2)  # 1 -> 2 seeds
    _press(d, ".run-button")
    deadline = time.time() + 30  # the status of the last run says "done" until this one starts
    while "done" in _text(d, ".run-status") and time.time() < deadline:
        time.sleep(0.2)
    _wait(d, ".run-status", text="done", timeout=240)
    ci = _wait(d, ".kpi-remote_share .kpi-ci", timeout=60)[0].text
    low, high = (float(x.removesuffix(" pp")) for x in ci.split(": ")[1].split(" to "))  # a share: in pp
    assert 0 < low <= high, ci  # a 2-day floor raises the remote share in both seeds


def test_nothing_was_fetched_from_outside_loopback(server, browser):
    urls = _requested_urls(browser)
    assert urls, "the performance log recorded no request"
    network = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
    assert any(u.startswith("ws://127.0.0.1") for u in network)  # the page's websocket to the server was logged
    outside = [u for u in network if not u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:"))]
    assert outside == []
