"""The report printed to PDF by headless Chromium: A4 portrait, no column lost (three runs, Italian).

Page.printToPDF with the report's own @page size; then, under print media at the A4 page's content
width (210 mm less the 11 mm margins, 188 mm = 710 CSS px), no table reaches past the page's right
edge. Skipped without Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import base64
import re
import shutil

import pytest

from sim.outputs.report import write_report
from tests.chromium import MISSING, available, chromium

if not available():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver", reason="selenium not installed: pip install -e '.[test]'")

A4_PT = (595.28, 841.89)  # 210 x 297 mm in points
CONTENT_PX = round((210 - 2 * 11) / 25.4 * 96)  # the @page margins of sim/outputs/report.py's CSS


def test_three_run_italian_report_prints_on_a4_with_every_column(report_runs, tmp_path):
    base, sme = report_runs
    third = tmp_path / "sme_copy"
    shutil.copytree(sme, third)
    report = write_report([base, sme, third], tmp_path / "r.html", lang="it")
    with chromium(tmp_path / "profile", window=f"{CONTENT_PX},1000") as d:
        d.get(report.resolve().as_uri())
        pdf = base64.b64decode(d.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True,
                                                                     "printBackground": True})["data"])
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        width, wide = d.execute_script("""
            const w = document.documentElement.clientWidth, out = [];
            for (const t of document.querySelectorAll('table')) {
              const r = t.getBoundingClientRect();
              if (r.width > 0 && (r.right > w + 1 || t.scrollWidth > t.clientWidth + 1))
                out.push([t.className, Math.round(r.width)]);
            }
            return [w, out];""")
    boxes = {tuple(float(x) for x in m.decode().split()[2:4]) for m in re.findall(rb"/MediaBox \[([^\]]*)\]", pdf)}
    assert boxes and all(abs(w - A4_PT[0]) < 2 and abs(h - A4_PT[1]) < 2 for w, h in boxes), boxes  # A4 portrait
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 6, pages  # one chapter per page at least (what, comparison, maps, plots, calibration, ...)
    assert width <= CONTENT_PX and wide == [], (width, wide)  # no table wider than the page: no column lost
