"""The report in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by Selenium):
every image loads, the sections and the KPI table are there, nothing is fetched from the network, the page
renders (a non-blank screenshot) and prints with its collapsed sections open.

Skipped when /usr/bin/chromium or /usr/bin/chromedriver is missing (``apt-get install chromium
chromium-driver``) or Selenium is not installed (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from sim.outputs.difference import DIFFERENCE_METRICS
from sim.outputs.kpis import HEADLINE
from sim.outputs.report import write_report

from tests.chromium import MISSING, available, chromium

if not available():
    pytest.skip(MISSING, allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed: pip install -e '.[test]'")
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, with the DevTools performance (network) log on; always stopped."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def _network_urls(driver) -> list[str]:
    """URLs the page requested, from Chrome's performance log (DevTools Network events)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
        elif msg.get("method") in ("Network.webSocketCreated", "Network.eventSourceMessageReceived"):
            urls.append(msg["params"].get("url", "ws:"))
    return urls


def _open_and_check(driver, report: Path, tmp_path: Path, headings: list[str]) -> None:
    driver.get_log("performance")  # drop what came before
    driver.get(report.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"))

    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight, i.src.slice(0, 22)])")
    assert len(images) >= 9
    for w, h, src in images:
        assert w > 0 and h > 0 and src == "data:image/png;base64,", (w, h, src)

    found = driver.execute_script("return Array.from(document.querySelectorAll('h1, h2, h3')).map(h => h.textContent)")
    for h in headings:
        assert any(x.startswith(h) for x in found), (h, found)

    kpis = driver.execute_script(
        "return Array.from(document.querySelectorAll('#kpis table tbody tr')).map(r => r.textContent)")
    assert len(kpis) == len(HEADLINE) and any("remote_share" in r for r in kpis) and any("co2_net_t" in r for r in kpis)

    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))")
    assert not [u for u in resources if u.startswith(("http:", "https:", "ws:", "wss:"))], resources
    urls = _network_urls(driver)
    assert report.resolve().as_uri() in urls  # the log works: it saw the page itself
    local = ("file:", "data:", "about:", "chrome:", "chrome-untrusted:", "blob:")  # nothing leaves the machine
    assert all(u.startswith(local) for u in urls), [u[:80] for u in urls if not u.startswith(local)]
    assert sum(u.startswith("data:image/png") for u in urls) >= 1

    # a full-page screenshot that is a PNG and not blank
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1200, "height": min(height, 12000), "scale": 0.5}})["data"])
    assert shot.startswith(b"\x89PNG\r\n\x1a\n")
    (tmp_path / f"{report.stem}.png").write_bytes(shot)
    from PIL import Image
    img = Image.open(io.BytesIO(shot)).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 100, "blank screenshot"
    assert max(colors)[0] < 0.95 * img.width * img.height, "screenshot almost one colour"

    # printed, the collapsed sections (assumptions) are open
    probe = ("const d = document.querySelector('#assumptions details.section');"
             "return [d.open, d.getBoundingClientRect().height, d.querySelector('tbody tr').checkVisibility()]")
    is_open, height, visible = driver.execute_script(probe)
    assert not is_open and height < 80 and not visible  # on screen: closed, only its summary line
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        is_open, printed, visible = driver.execute_script(probe)
        assert printed > 3 * height and visible, (height, printed, visible)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_single_run_report_in_chromium(browser, report_runs, tmp_path):
    base, _ = report_runs
    _open_and_check(browser, base / "report.html", tmp_path,
                    ["What was run", "Policy levers changed from the defaults", "Headline results", "Plots",
                     "Calibration", "Assumptions and sources", "Run details"])


def test_two_run_report_in_chromium(browser, report_runs, tmp_path):
    base, sme = report_runs
    report = write_report([base, sme], tmp_path / "two_runs.html")
    _open_and_check(browser, report, tmp_path,
                    ["What was run", "The levers that differ from the baseline", "Headline results",
                     "Comparison with the baseline", "Plots", "Calibration", "Assumptions and sources", "Run details"])
    levers = browser.execute_script("return document.querySelector('table.levers').textContent")
    assert "policy.sme_support.enabled" in levers
    n_img = browser.execute_script("return document.images.length")
    assert n_img == 2 + 2 * len(list((base / "plots").glob("*.png"))) + len(DIFFERENCE_METRICS)  # + difference maps


def test_the_network_check_sees_a_fetch(browser, tmp_path):
    """The checks above would catch an external image (one to a closed local port: nothing leaves the machine)."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    browser.get_log("performance")
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState === 'complete'"))
    assert "http://127.0.0.1:9/x.png" in _network_urls(browser)
    assert browser.execute_script("return document.images[0].naturalWidth") == 0
