"""Italian and English: catalogues with the same keys, numbers in the language's conventions, an Italian
report with no English sentence of the catalogue left, the Comune's scenarios in Italian by default."""

from __future__ import annotations

import base64
import html
import re

import pytest

from sim.app.levers import levers
from sim.cli import main
from sim.i18n import LANGUAGES, catalogue, number, t
from sim.outputs import kpis
from sim.outputs.advice import SME_MIN_DAYS, run_warnings
from sim.outputs.compare import noise_verdict
from sim.outputs.figtext import png_language
from sim.outputs.report import write_report
from sim.scenario.load import load_scenario

from .conftest import BASELINE, ROOT, TINY


def test_every_catalogue_key_has_both_languages():
    en, it = catalogue("en"), catalogue("it")
    assert set(en) == set(it), f"only in en: {sorted(set(en) - set(it))}; only in it: {sorted(set(it) - set(en))}"
    for key in en:  # the same {fields} in both: a translation cannot drop or rename a figure
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", it[key])), key
        assert it[key].strip(), key


def test_every_kpi_and_lever_has_words_in_both_languages():
    for k in kpis.KPIS.values():
        for lang in LANGUAGES:
            assert k.label.get(lang) and k.unit.get(lang), f"{k.key}: no {lang} label or unit in sim/outputs/kpis.py"
        assert k.label["it"] != k.label["en"] or k.key in ("mean_stress",), k.key
    for kind, words in kpis.WORDS["en"].items():
        assert set(kpis.WORDS["it"][kind]) == set(words), kind
    for lever in levers():
        for lang in LANGUAGES:
            assert t(f"lever.{lever.path}.label", lang) and t(f"lever.{lever.path}.help", lang), lever.path
    # and no lever in the catalogue that the schema no longer has
    paths = {lv.path for lv in levers()}
    assert {k.split(".", 1)[1].rsplit(".", 1)[0] for k in catalogue("en") if k.startswith("lever.")} == paths


def test_numbers_in_each_language():
    assert kpis.format_value("remote_share", 0.0668, lang="it") == "6,68%"
    assert kpis.format_value("remote_share", 0.0668, lang="en") == "6.68%"
    assert kpis.format_value("car_vkm", 1_210_000.0, lang="it") == "1.210.000"
    assert kpis.format_value("car_vkm", 1_210_000.0, lang="en") == "1,210,000"
    assert kpis.format_value("mean_stress", 1.23, (1.10, 1.36), lang="it") == "1,23 (da 1,10 a 1,36)"
    assert kpis.format_diff("remote_share", -0.00806, lang="it") == "-0,81 p.p."
    assert kpis.format_diff("co2_net_t", -0.00001, lang="it") == "0,0"  # never -0, never an exponent
    assert kpis.format_pct_change(-0.004, lang="it") == "-0,0040%"
    assert kpis.format_with_unit("car_vkm", 1.21e9, lang="it") == "1.210.000.000 veicoli-km, totale del periodo"
    assert kpis.format_value("remote_share", None, lang="it") == "n.d."
    assert number(-1234.5, 1, "it", sign=True) == "-1.234,5"


def test_noise_verdict_follows_the_interval():
    assert noise_verdict(-58.8, 118.0) == "within"
    assert noise_verdict(-22409.0, 6386.0) == "within"
    assert noise_verdict(0.5, 2.0) == "beyond" and noise_verdict(-3.0, -0.1) == "beyond"
    assert noise_verdict(None, None) is None


def test_horizon_and_season_warnings():
    sme = {"days": 60, "policy": {"sme_support": {"enabled": True}}}
    winter = {"day": [0, 1], "date": ["2025-01-06", "2025-01-07"], "heating_season": [True, True]}
    year = {"day": [0, 1], "date": ["2025-01-06", "2025-06-02"], "heating_season": [True, False]}
    words = run_warnings(sme, year, "en")
    assert len(words) == 1 and "60 workdays" in words[0] and str(SME_MIN_DAYS) in words[0]
    assert run_warnings({**sme, "days": SME_MIN_DAYS}, year, "en") == []
    assert run_warnings({"days": 60, "policy": {"sme_support": {"enabled": False}}}, year, "en") == []
    heat = run_warnings({"days": 2}, winter, "it")
    assert len(heat) == 1 and "stagione di riscaldamento" in heat[0] and "6 gennaio 2025" in heat[0]


def test_comune_scenarios_ask_for_italian():
    for name in ("milan_baseline.yaml", "sme_support.yaml", "corporate_welfare.yaml", "staggered_hours.yaml"):
        assert load_scenario(ROOT / "scenarios" / name).report.lang == "it", name
    assert load_scenario(BASELINE, ["report.lang=en"]).report.lang == "en"


def _visible_text(page: str) -> str:
    """The words a reader sees, less code, keys, the scenario files' own descriptions and the manifest."""
    page = page[:page.index('<section id="manifest">')]
    page = re.sub(r"<style>.*?</style>|<code>.*?</code>|<span class=\"?key\"?>.*?</span>|"
                  r"<p class=\"desc\">.*?</p>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"|alt="[^"]*"', " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_italian_report_has_no_english_sentence_left(report_runs, tmp_path, capsys):
    base, sme = report_runs
    out = tmp_path / "it.html"
    assert main(["report", str(base), str(sme), "-o", str(out), "--lang", "it"]) == 0
    assert capsys.readouterr().out.strip() == f"rapporto: {out}"
    page = out.read_text(encoding="utf-8")
    assert '<html lang="it">' in page and "Lavoro agile a Milano" in page
    text = _visible_text(page)
    en, it = catalogue("en"), catalogue("it")
    left = []
    for key, words in en.items():  # every piece of the report's English text between {fields}, 3 words or more
        if key.startswith(("app.", "plot.", "map.")):  # the app's own words (some repeat the schema's English
            continue  # meanings); the figures' words are in their images: test_italian_plots_have_no_english_words
        for piece in re.split(r"\{\w+\}", words):
            piece = " ".join(piece.split()).strip(" .,:;()")
            if len(piece.split()) >= 3 and piece not in it[key] and piece in text:
                left.append(f"{key}: {piece!r}")
    for k in kpis.KPIS.values():  # and every English KPI label
        if k.label["en"] != k.label["it"] and f" {k.label['en']} " in f" {text} ":
            left.append(f"KPI {k.key}: {k.label['en']!r}")
    assert not left, left
    # the numbers are Italian too: the KPI table's remote share has a decimal comma
    assert re.search(r"Giornate lavorate da remoto.{0,400}?\d+,\d\d%", text)
    # every figure of the report was drawn in Italian (the runs' own plots are English: drawn again elsewhere)
    images = [base64.b64decode(u) for u in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]
    assert len(images) >= 10 and {png_language(d) for d in images} == {"it"}
    assert {png_language(p) for p in (base / "plots").glob("*.png")} == {"en"}  # the results folder untouched


def _english_pieces(en: dict, it: dict, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(key, piece) of every English text of the catalogue under ``prefixes``, between its {fields}, of 3
    words or more and not also in the Italian text."""
    out = []
    for key, words in en.items():
        if key.startswith(prefixes):
            for piece in re.split(r"\{\w+\}", words):
                piece = " ".join(piece.split()).strip(" .,:;()")
                if len(piece.split()) >= 3 and piece not in " ".join(it[key].split()):
                    out.append((key, piece))
    return out


def test_italian_plots_have_no_english_words(report_runs, tmp_path, monkeypatch):
    """Every word of every plot and map drawn in Italian (titles, axes, legends, notes, ticks) is from the
    Italian catalogue, and the numbers on the axes have decimal commas."""
    import pyarrow.parquet as pq

    import sim.outputs.plots as plots
    from sim.outputs.difference import DIFFERENCE_METRICS, difference_figure
    from sim.outputs.figtext import figure_texts, localise_figure
    from sim.outputs.results import read_run

    base, sme = report_runs
    texts: list[str] = []
    save = plots._save
    def collect(fig, path, lang="en"):  # the words of each figure, as they are saved
        localise_figure(fig, lang)
        texts.extend(figure_texts(fig))
        return save(fig, path, lang)

    monkeypatch.setattr(plots, "_save", collect)
    run = read_run(base)
    written = plots.make_plots(base, run.summary, "base", strict=True, lang="it", out=tmp_path / "it")
    assert len(written) >= 10 and {png_language(p) for p in written} == {"it"}
    zones = [pq.read_table(f / "by_zone.parquet").to_pydict() for f in (base, sme)]
    for key in DIFFERENCE_METRICS:
        texts.extend(figure_texts(difference_figure(*zones, key, base_label="base", other_label="sme", lang="it")))
    shown = " ".join(" ".join(x.split()) for x in texts)
    left = [f"{k}: {p!r}" for k, p in _english_pieces(catalogue("en"), catalogue("it"), ("plot.", "map."))
            if p in shown]
    left += [f"KPI {k.key}: {k.label['en']!r}" for k in kpis.KPIS.values()
             if k.label["en"] != k.label["it"] and k.label["en"] in shown]
    for words in ("workday", "workers", "remote", "Women", "Men", "mean", "without"):
        assert not re.search(rf"\b{words}\b", shown), words
    assert not left, left
    assert any(re.fullmatch(r"[−-]?\d+,\d+%?", x) for x in texts), "no decimal comma on any axis"
    points = [x for x in texts if re.fullmatch(r"[−-]?\d+\.\d{1,2}%?", x)]  # 1.000 is a thousand in Italian
    assert not points, f"a decimal point on an axis: {points[:5]}"


def test_english_report_still_english(report_runs, tmp_path):
    base, _ = report_runs
    page = write_report([base], tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Headline results" in page and "Risultati principali" not in page


def test_report_language_follows_the_scenario(report_runs, tmp_path):
    """Without --lang the report takes the baseline's report.lang (here English; the Comune's files: Italian)."""
    base, _ = report_runs
    page = write_report([base], tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page


def test_report_bad_language(report_runs, tmp_path, capsys):
    base, _ = report_runs
    with pytest.raises(SystemExit) as exc:
        main(["report", str(base), "-o", str(tmp_path / "r.html"), "--lang", "fr"])
    assert exc.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_run_prints_kpi_lines_in_italian(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", str(BASELINE), "--days", "3", "--quiet", "--out", str(out), "--lang", "it"]
    for s in TINY:
        argv += ["--set", s]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"risultati: {out}"
    line = next(x for x in lines if x.strip().startswith(kpis.label("remote_share", "it") + ":"))
    assert re.search(r": \d+,\d\d% delle giornate-lavoratore$", line), line
    assert '<html lang="it">' in (out / "report.html").read_text(encoding="utf-8")


def test_compare_suggests_a_misspelt_scenario_file(tmp_path, capsys):
    assert main(["compare", str(BASELINE), str(ROOT / "scenarios" / "sme_suport.yaml"), "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no such run folder or scenario file; did you mean" in err and "sme_support.yaml'?" in err
    assert not (tmp_path / "c").exists()
