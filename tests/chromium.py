"""Debian's headless Chromium driven by Selenium, shared by the browser tests.

The driver path is given explicitly, so Selenium Manager (which may download a driver) is never
used; the flags keep Chromium off the network (this machine has none). The driver and the browser
are always stopped, chromedriver by its process id if ``quit`` did not end it.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = "Debian chromium/chromium-driver not installed: apt-get install chromium chromium-driver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextmanager
def chromium(profile_dir: Path, window: str = "1200,900", prefs: dict | None = None):
    """A headless Chromium with the DevTools performance (network) log on, on ``about:blank``, log emptied."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={window}")
    opts.add_argument(f"--user-data-dir={profile_dir}")
    if prefs:
        opts.add_experimental_option("prefs", prefs)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        driver.set_page_load_timeout(60)
        driver.get("about:blank")  # the start page's own internal loads stay out of the tests' logs
        driver.get_log("performance")
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            proc = getattr(service, "process", None)
            if proc is not None and proc.poll() is None:  # chromedriver still alive: stop it by its pid
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
