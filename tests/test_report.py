"""``run.py report`` and the report.html of every run: self-contained (no http(s) src/href, every image a
PNG data URI, no script), the expected sections, the levers that differ, and bad input (exit 2, nothing
written)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.cli import main
from sim.outputs.difference import DIFFERENCE_METRICS
from sim.outputs.kpis import HEADLINE, format_value
from sim.outputs.report import ReportError, scenario_diff, write_report

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = ("What was run", "Headline results", "Plots", "Calibration", "Assumptions and sources", "Run details")


class _Page(HTMLParser):
    """Tags, attributes and headings of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[str] = []
        self._in_h = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3"):
            self._in_h = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self._in_h = False

    def handle_data(self, data):
        if self._in_h:
            self.headings[-1] += data


def check_self_contained(path: Path) -> _Page:
    text = path.read_text(encoding="utf-8")
    page = _Page(text)
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            v = (attrs.get(name) or "").strip().lower()
            assert not v.startswith(("http://", "https://", "//", "ftp:")), (tag, name, v[:80])
        assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
    imgs = [a for t, a in page.tags if t == "img"]
    assert imgs
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,"), a["src"][:40]
        assert a.get("alt")
    hrefs = [a["href"] for t, a in page.tags if "href" in a]
    assert all(h.startswith("#") for h in hrefs), hrefs
    style = "".join(re.findall(r"<style>(.*?)</style>", text, re.DOTALL))
    assert "@import" not in style and "url(" not in style and "@font-face" not in style
    for h in HEADINGS:
        assert any(x.startswith(h) for x in page.headings), (h, page.headings)
    for k in HEADLINE:
        assert f'<span class="key">{k}</span>' in text, k
    return page


def test_every_run_folder_has_its_report(report_runs):
    base, sme = report_runs
    report = base / "report.html"
    page = check_self_contained(report)
    n_plots = len(list((base / "plots").glob("*.png")))
    assert n_plots >= 9 and len([t for t, _ in page.tags if t == "img"]) == n_plots
    text = report.read_text(encoding="utf-8")
    assert "None: every policy lever is at its default value" in text
    assert ".tmp-" not in text  # the report names the final folder, not the temporary one
    assert f"{base.name} (the folder of this report)" in text
    # a single policy run lists its levers against the schema defaults
    text = (sme / "report.html").read_text(encoding="utf-8")
    # the lever in plain words (sim/i18n/en.yaml), its key beside
    assert ("Support for small firms (SME programme)<span class=key>policy.sme_support.enabled</span>" in text
            and "Policy levers changed from the defaults" in text)


def test_two_run_report(report_runs, tmp_path):
    base, sme = report_runs
    out = write_report([base, sme], tmp_path / "r.html")
    assert out == tmp_path / "r.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary file left
    page = check_self_contained(out)
    assert any(h.startswith("Comparison with the baseline") for h in page.headings)
    assert any(h.startswith("The levers that differ from the baseline") for h in page.headings)
    text = out.read_text(encoding="utf-8")
    levers = text[text.index("The levers that differ"):text.index('id="kpis"')]
    assert ("Support for small firms (SME programme)<span class=key>policy.sme_support.enabled</span>" in levers
            and "false &rarr; <strong>true</strong>" in levers)
    assert levers.count("<span class=key>") == 1  # the only setting that differs
    n_imgs = len([t for t, _ in page.tags if t == "img"])
    # comparison plots + each run's + the difference maps by home zone
    assert n_imgs == 2 + 2 * len(list((base / "plots").glob("*.png"))) + len(DIFFERENCE_METRICS)


def test_scenario_diff_and_interval_text():
    base = {"name": "a", "seed": 1, "policy": {"x": {"enabled": False, "k": [1, 2]}, "fare": 2.2}, "city": {"n": 15}}
    other = {"name": "b", "seed": 1, "policy": {"x": {"enabled": True, "k": [1, 2]}, "fare": 2.2}, "city": {"n": 9}}
    assert scenario_diff(base, other) == [("policy.x.enabled", False, True), ("city.n", 15, 9)]
    assert format_value("mean_stress", 1.23, (1.10, 1.36)) == "1.23 (1.10 to 1.36)"
    assert format_value("mean_stress", 1.23, (1.2291, 1.2312)) == "1.230 (1.229 to 1.231)"  # a narrow interval
    assert format_value("remote_share", 0.0645) == "6.45%"
    assert format_value("car_vkm", 1234567.0) == "1,234,567"


def test_replication_intervals_shown(report_runs, tmp_path):
    base, _ = report_runs
    run = tmp_path / "with_reps"
    shutil.copytree(base, run)
    summary = json.loads((run / "summary.json").read_text())
    summary["replications"] = {"n": 3, "seeds": [42, 43, 44], "kpis": {
        "mean_stress": {"mean": 1.23, "sd": 0.05, "ci95_low": 1.10, "ci95_high": 1.36, "values": [1.2, 1.23, 1.26]}}}
    (run / "summary.json").write_text(json.dumps(summary))
    text = write_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1.23 (1.10 to 1.36)" in text
    assert "3 replications with seeds 42 to 44" in text


def test_cli_report(report_runs, tmp_path, capsys):
    base, sme = report_runs
    out = tmp_path / "cli.html"
    assert main(["report", str(base), str(sme), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {out}"
    check_self_contained(out)
    out.write_text("old")  # an existing file is replaced
    assert main(["report", str(base), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["missing", "no_summary", "file", "missing_parent", "out_is_dir"])
def test_cli_report_bad_input(report_runs, tmp_path, capsys, case):
    base, _ = report_runs
    work = tmp_path / "work"
    work.mkdir()
    empty = work / "empty"
    empty.mkdir()
    out = work / "r.html"
    args = {"missing": [str(work / "nope")], "no_summary": [str(empty)], "file": [str(base / "summary.json")],
            "missing_parent": [str(base)], "out_is_dir": [str(base)]}[case]
    if case == "missing_parent":
        out = work / "no" / "r.html"
    if case == "out_is_dir":
        out = empty
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    assert main(["report", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before  # nothing written
    with pytest.raises(ReportError):
        write_report([Path(a) for a in args], out)


def test_run_py_report_missing_folder_exits_2(tmp_path):
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "run.py", "report", str(tmp_path / "nope"), "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope'}: no such run folder"
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []
