"""Command line: ``run.py run | compare | report | export | validate | schema | sweep | analyze | elasticities | app``.

Bad input prints one clear message on stderr (file, key, value, what was expected) and exits
with code 2, before any work and without creating a results folder. A sweep (or ``sweep collect``)
that finished with failed runs exits with code 3 and says how many failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sim.i18n import LANGUAGES, t
from sim.outputs.kpis import HEADLINE, format_with_unit, label
from sim.outputs.advice import read_daily, run_warnings
from sim.outputs.results import OutputError, check_output_dir
from sim.scenario.load import ScenarioError, load_scenario

EXIT_BAD_INPUT = 2
EXIT_RUNS_FAILED = 3  # a sweep finished, but some of its runs failed (recorded in its store)
log = logging.getLogger("sim")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="Commuting, CO2 and stress under smart working (Milan).")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one scenario and write a results folder")
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument("--seed", type=int, help="random seed (overrides the file)")
    r.add_argument("--days", type=int, help="simulated workdays (overrides the file's days and years)")
    r.add_argument("--years", type=int, help="simulated whole years, 1-10, on the Italian calendar (overrides the file's days and years)")
    r.add_argument("--scale", type=float, help="sampling rate of the population, 0 < scale <= 1")
    r.add_argument("--out", type=Path, help="results folder (default results/<name>-<timestamp>)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override one scenario value (YAML syntax), repeatable")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--trace-worker", type=int, metavar="ID", help="write trace_worker_<ID>.csv for this worker")
    r.add_argument("--replications", type=int, default=1, metavar="N",
                   help="run seeds seed..seed+N-1 in parallel processes; summary.json gains mean and 95%% CI "
                        "of every KPI (default 1)")
    r.add_argument("--no-cache", action="store_true", help="calibrate afresh (do not read or write the calibration cache)")
    r.add_argument("--lang", choices=LANGUAGES, help="language of the report and of these lines (default: the "
                   "scenario's report.lang)")
    r.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    c = sub.add_parser("compare", help="compare runs against the first (run folders or scenario files)")
    c.add_argument("runs", nargs="+", metavar="RUN",
                   help="run folder (with summary.json) or scenario YAML file; the first is the baseline")
    c.add_argument("-o", "--out", type=Path, help="output folder (default results/compare-<timestamp>)")
    c.add_argument("--seed", type=int, help="seed of the scenario files (default: the baseline's)")
    c.add_argument("--days", type=int, help="simulated workdays of the scenario files (default: each file's)")
    c.add_argument("--years", type=int, help="simulated whole years of the scenario files, 1-10 (default: each file's)")
    c.add_argument("--scale", type=float, help="sampling rate of the scenario files (default: each file's)")
    c.add_argument("--replications", type=int, metavar="N",
                   help="seeds per scenario file (default: the baseline run folder's, else 1)")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.add_argument("--no-decompose", action="store_true",
                   help="skip the decomposition of each effect into direct, departure-time and mode responses "
                        "(it runs each scenario file twice more, with travel choices held)")
    c.add_argument("--no-cache", action="store_true", help="calibrate afresh (do not read or write the calibration cache)")
    c.add_argument("--lang", choices=LANGUAGES, help="language of the table and plots (default: the baseline "
                   "scenario's report.lang)")
    c.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    rp = sub.add_parser("report", help="one self-contained HTML report of run folders (the first is the baseline)")
    rp.add_argument("runs", nargs="+", metavar="RUN_DIR", help="results folder (with summary.json)")
    rp.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                    help="HTML file to write (its folder must exist; an existing file is replaced)")
    rp.add_argument("--lang", choices=LANGUAGES, help="language of the report (default: the baseline scenario's "
                    "report.lang, else en)")

    x = sub.add_parser("export", help="the runs' figures as a spreadsheet (.xlsx) or CSV files (the first is the baseline)")
    x.add_argument("runs", nargs="+", metavar="RUN_DIR", help="results folder (with summary.json)")
    x.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                   help="FILE.xlsx (sheets KPI, comparison, by_zone, by_size_class, by_group, yearly) or FILE.csv "
                        "(the KPI sheet; the others beside it as FILE_<sheet>.csv)")
    x.add_argument("--csv-locale", choices=("it", "en"), default="en",
                   help="CSV for an Excel set to Italian (';' and decimal comma) or English (',' and '.'; default)")
    x.add_argument("--lang", choices=LANGUAGES, help="language of the KPI labels (default: the baseline's report.lang)")

    v = sub.add_parser("validate", help="check scenario (and sweep) files; writes nothing; exit 0 or 2")
    v.add_argument("scenarios", nargs="+")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")

    w = sub.add_parser("sweep", help="run a parameter sweep (or 'sweep collect DIR': merge the shards)",
                       description="run.py sweep FILE [options]  |  run.py sweep collect DIR")
    w.add_argument("target", nargs="+", metavar="FILE | collect DIR",
                   help="sweep YAML file (scenarios/sweeps/*.yaml), or 'collect DIR' to merge a sweep folder")
    w.add_argument("--executor", choices=("local", "dask", "slurm"), default="local",
                   help="local: process pool (default); dask: LocalCluster on 127.0.0.1, --scheduler ADDRESS, or "
                        "the file's cluster: block (dask-jobqueue); slurm: same as --slurm-script")
    w.add_argument("--workers", type=int, help="worker processes (default: CPUs)")
    w.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address (tcp://host:8786)")
    w.add_argument("--out", type=Path, help="sweep folder (default results/sweep-<name>); rerun to resume")
    w.add_argument("--shard", metavar="I/N", help="run only the runs with index %% N == I (a SLURM array task)")
    w.add_argument("--slurm-script", action="store_true", help="print an sbatch job-array script and exit")
    w.add_argument("--shards", type=int, metavar="N", help="array size for --slurm-script (default: slurm.shards)")
    w.add_argument("--retry-failed", action="store_true", help="run failed points again")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.add_argument("--no-cache", action="store_true", help="calibrate afresh (do not read or write the calibration cache)")
    w.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    e = sub.add_parser("elasticities", help="measure the baseline's car-time and fare elasticities by paired one-year runs "
                       "and check them against their sourced ranges (exit 0 inside, 1 outside)")
    e.add_argument("scenario", help="scenario YAML file")
    e.add_argument("--seed", type=int, help="random seed (overrides the file)")
    e.add_argument("--days", type=int, help="simulated workdays of each run (default: the file's)")
    e.add_argument("--scale", type=float, help="sampling rate of the population, 0 < scale <= 1")
    e.add_argument("--out", type=Path, help="folder for elasticities.json (default results/elasticities-<name>-<timestamp>; "
                   "a results folder of the same scenario: its report then shows them)")
    e.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override one scenario value (YAML syntax), repeatable")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.add_argument("--no-cache", action="store_true", help="calibrate afresh (do not read or write the calibration cache)")
    e.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    a = sub.add_parser("analyze", help="Sobol indices and response plots of a sweep folder")
    a.add_argument("folder", type=Path, help="sweep folder (with sweep.json)")

    ap = sub.add_parser("app", help="the planners' web app on http://127.0.0.1:PORT (runs until stopped)")
    ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    ap.add_argument("--results", type=Path, default=Path("results"),
                    help="folder of run folders: where the app writes runs and finds earlier ones (default results)")

    s = sub.add_parser("schema", help="every scenario key with type, unit, default, range and meaning")
    s.add_argument("--markdown", action="store_true", help="print a Markdown table (docs/parameters.md)")
    return p


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_run(args) -> int:
    try:
        scenario = load_scenario(args.scenario, args.overrides, seed=args.seed, days=args.days, years=args.years,
                                 scale=args.scale)
    except ScenarioError as exc:
        return _fail(str(exc))
    if args.lang is not None:  # like --seed: the run's report follows the command line
        scenario = scenario.model_copy(update={"report": scenario.report.model_copy(update={"lang": args.lang})})
    lang = scenario.report.lang
    if args.replications < 1:
        return _fail(f"--replications: expected an integer >= 1, got {args.replications}")
    from sim.model import TraceWorkerError
    from sim.runner import default_out_dir, progress_days, run_and_write
    out = args.out if args.out is not None else default_out_dir(scenario)
    try:
        check_output_dir(out)
    except OutputError as exc:
        return _fail(str(exc))
    log.info("scenario %s: %d days, scale %g, seed %d", scenario.name, scenario.days, scenario.scale, scenario.seed)
    bar = None
    if not args.quiet:
        from tqdm import tqdm
        desc = scenario.name if scenario.policy.smart_working == "off" else \
            f"{scenario.name} ({t('cli.counterfactual', lang)})"
        if args.replications > 1:
            desc += " " + t("cli.seeds", lang, n=args.replications)
        bar = tqdm(total=progress_days(scenario, args.replications), unit="day", file=sys.stderr, mininterval=1.0,
                   desc=f"{desc}: {t('cli.calibrating', lang)}", bar_format="{desc}: {elapsed}")
    try:
        path, summary = run_and_write(scenario, out, argv=sys.argv, trace_worker=args.trace_worker,
                                      progress=_days_after_calibration(bar, desc) if bar else None,
                                      replications=args.replications)
    except (TraceWorkerError, OutputError) as exc:
        return _fail(str(exc))
    finally:
        if bar:
            bar.close()
    print(t("cli.results", lang, path=path))
    if (Path(path) / "report.html").is_file():
        print(t("cli.report", lang, path=Path(path) / "report.html"))
    for w in run_warnings(scenario.model_dump(mode="json"), read_daily(Path(path)), lang):
        print(t("cli.warning", lang, text=w))
    reps = summary.get("replications")
    if reps:
        print("  " + t("cli.replications", lang, n=reps["n"], first=reps["seeds"][0], last=reps["seeds"][-1]))
    for k in HEADLINE:
        v = (reps or {}).get("kpis", {}).get(k)
        if v is not None:
            print(f"  {label(k, lang)}: {format_with_unit(k, v['mean'], (v['ci95_low'], v['ci95_high']), lang)}")
        elif k in summary:
            print(f"  {label(k, lang)}: {format_with_unit(k, summary[k], lang=lang)}")
    return 0


def _days_after_calibration(bar, desc: str):
    """A progress callback that says "calibrating" until the first simulated day, then counts days with
    a clock started at that day (the set-up is not a day: it would make the first estimate of the time
    left hours long)."""
    started = [False]

    def update(days: int) -> None:
        if not started[0]:
            started[0] = True
            bar.bar_format = None  # tqdm's default bar from now on
            bar.set_description(desc, refresh=False)
            bar.reset(total=bar.total)
        bar.update(days)

    return update


def cmd_compare(args) -> int:
    from sim.orchestrate import compare, language_of
    from sim.outputs.compare import CompareError
    try:
        path, table = compare(args.runs, out=args.out, seed=args.seed, days=args.days, years=args.years, scale=args.scale,
                              replications=args.replications, quiet=args.quiet, argv=sys.argv, lang=args.lang,
                              decompose=not args.no_decompose)
    except CompareError as exc:
        return _fail(str(exc))
    print(table)
    print(t("cli.comparison", args.lang or language_of(args.runs[0]), path=path))
    return 0


def cmd_report(args) -> int:
    from sim.outputs.report import ReportError, report_language, write_report
    from sim.outputs.results import read_run, unfinished
    for arg in args.runs:
        if unfinished(Path(arg)):
            return _fail(f"{arg}: a hidden temporary folder, still being written or left by a killed run; "
                         "give the finished results folder (without the leading '.' and '.tmp-<pid>')")
    try:
        path = write_report(args.runs, args.out, lang=args.lang)
    except ReportError as exc:
        return _fail(str(exc))
    print(t("cli.report", args.lang or report_language(read_run(Path(args.runs[0]))), path=path))
    return 0


def cmd_export(args) -> int:
    from sim.orchestrate import language_of
    from sim.outputs.export import ExportError, write_export
    lang = args.lang or language_of(args.runs[0])
    try:
        files = write_export(args.runs, args.out, lang=lang, csv_locale=args.csv_locale)
    except ExportError as exc:
        return _fail(str(exc))
    for f in files:
        print(t("cli.export", lang, path=f))
    return 0


def _is_sweep_file(path) -> bool:
    """A sweep file has top-level 'parameters' and 'design' (scenario files never do)."""
    from sim.scenario.yaml_input import YamlInputError, read_yaml_file
    try:
        data = read_yaml_file(Path(path))
    except (OSError, YamlInputError):
        return False  # the scenario loader says what is wrong
    return isinstance(data, dict) and "parameters" in data and "design" in data


def cmd_validate(args) -> int:
    bad = 0
    for f in args.scenarios:
        try:
            if _is_sweep_file(f):
                from sim.sweep.spec import load_sweep
                sw = load_sweep(f)
                print(f"ok: {f} (sweep {sw.name}: {len(sw.runs())} runs, {sw.spec.design.type} design)")
                continue
            sc = load_scenario(f, args.overrides)
            print(f"ok: {f} ({sc.name})")
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
    return EXIT_BAD_INPUT if bad else 0


def _sweep_out(args, sweep) -> Path:
    return args.out if args.out is not None else Path("results") / f"sweep-{sweep.name}"


def cmd_sweep(args) -> int:
    from sim.sweep.executors import SweepError, parse_shard, run_sweep, slurm_script
    from sim.sweep.spec import load_sweep
    from sim.sweep.store import Store, StoreError
    if args.target[0] == "collect":
        if len(args.target) != 2:
            return _fail("sweep collect: expected exactly one sweep folder: run.py sweep collect DIR")
        store = Store(args.target[1])
        if store.meta() is None:
            return _fail(f"{args.target[1]}: not a sweep folder (no sweep.json)")
        path, table = store.collect()
        n_ok = table.column("status").to_pylist().count("ok") if table.num_rows else 0
        meta = store.meta()
        n_failed = table.num_rows - n_ok
        print(f"collected {table.num_rows} of {meta.get('n_runs')} runs ({n_ok} ok, {n_failed} failed): {path}")
        if n_failed:
            print(f"error: {n_failed} of {meta.get('n_runs')} runs failed (their errors are in the table); "
                  f"exit code {EXIT_RUNS_FAILED}", file=sys.stderr)
            return EXIT_RUNS_FAILED
        return 0
    if len(args.target) != 1:
        return _fail(f"sweep: expected one sweep file, got {' '.join(args.target)} (or: run.py sweep collect DIR)")
    try:
        sweep = load_sweep(args.target[0])
    except ScenarioError as exc:
        return _fail(str(exc))
    if args.workers is not None and args.workers < 1:
        return _fail(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.shards is not None and args.shards < 1:
        return _fail(f"--shards: expected an integer >= 1, got {args.shards}")
    if args.scheduler and args.executor != "dask":
        return _fail("--scheduler goes with --executor dask")
    out = _sweep_out(args, sweep)
    try:
        shard = parse_shard(args.shard) if args.shard else None
        Store(out).check(sweep.describe())
    except (SweepError, StoreError) as exc:
        return _fail(str(exc))
    if args.slurm_script or (args.executor == "slurm" and shard is None):
        if shard is not None:
            return _fail("--slurm-script prints the array script; --shard is for the array tasks")
        (out / "logs").mkdir(parents=True, exist_ok=True)  # sbatch does not create the --output folder
        print(slurm_script(sweep, out, shards=args.shards), end="")
        return 0
    n_runs = len(sweep.runs())
    log.info("sweep %s: %d runs (%s design, %d seed(s) per point) -> %s", sweep.name, n_runs,
             sweep.spec.design.type, len(sweep.seeds), out)
    try:
        executor = "local" if args.executor == "slurm" else args.executor  # a shard runs on its node's CPUs
        rep = run_sweep(sweep, out, executor=executor, workers=args.workers, scheduler=args.scheduler,
                        shard=shard, retry_failed=args.retry_failed, progress=not args.quiet)
    except (SweepError, StoreError) as exc:
        return _fail(str(exc))
    print(f"sweep {sweep.name}: {rep.total} runs{' in this shard' if shard else ''}, {rep.skipped} already done, "
          f"{rep.ran} run now ({rep.ok} ok, {rep.failed} failed) in {rep.wall_s:.1f} s: {out}")
    for e in rep.errors[:5]:
        print(f"  failed: {e}")
    if shard is None:
        print(f"  results: {out / 'results.parquet'}; analyse with: run.py analyze {out}")
    if rep.failed_in_store:
        print(f"error: {rep.failed_in_store} of {rep.total} runs{' of this shard' if shard else ''} failed "
              f"(recorded in the store; --retry-failed runs them again); exit code {EXIT_RUNS_FAILED}", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return 0


def cmd_elasticities(args) -> int:
    try:
        scenario = load_scenario(args.scenario, args.overrides, seed=args.seed, days=args.days, scale=args.scale)
    except ScenarioError as exc:
        return _fail(str(exc))
    out = args.out
    if out is None:
        import datetime as dt
        out = Path("results") / f"elasticities-{scenario.name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not out.is_dir():
        return _fail(f"--out: '{out}' exists and is not a folder")
    from sim import elasticities
    from sim.scenario.schema import WORKDAYS_PER_YEAR
    bar = None
    if not args.quiet:
        from tqdm import tqdm
        bar = tqdm(total=3 * scenario.days, unit="day", file=sys.stderr, mininterval=1.0,
                   desc=f"{scenario.name} elasticities: {t('cli.calibrating', scenario.report.lang)}",
                   bar_format="{desc}: {elapsed}")
    try:
        result = elasticities.measure(scenario, progress=_days_after_calibration(bar, f"{scenario.name} elasticities")
                                      if bar else None)
    finally:
        if bar:
            bar.close()
    print(f"elasticities of {scenario.name} (seed {scenario.seed}, scale {scenario.scale:g}, {scenario.days} days, "
          f"{result['workers_sampled']} workers; paired runs on the baseline's calibration):")
    for name, e in result["elasticities"].items():
        value = "n/a" if e["elasticity"] is None else f"{e['elasticity']:+.3f}"
        print(f"  {name:20s} {value:>7s}  range [{e['low']:+.2f}, {e['high']:+.2f}]  {'inside' if e['inside'] else 'OUTSIDE'}"
              f"  (logit at start beta*X*(1-P): {e['analytic_start']:+.3f}; +{100 * e['step']:.0f}%: "
              f"{e['quantity']} {e['q0']:,.0f} -> {e['q1']:,.0f})")
        print(f"  {'':20s} source: {e['source']}")
    if scenario.days < WORKDAYS_PER_YEAR:
        print(f"  note: {scenario.days} days is less than a working year ({WORKDAYS_PER_YEAR}): habits have not adjusted, "
              "so the figures are smaller in size than the one-year elasticities the ranges are for")
    path = elasticities.write(result, out)
    print(f"written: {path}")
    if not elasticities.all_inside(result):
        print("error: an elasticity is outside its range (calibration.elasticities); exit code 1", file=sys.stderr)
        return 1
    return 0


def cmd_analyze(args) -> int:
    from sim.sweep.analyze import analyze
    from sim.sweep.store import StoreError
    try:
        res = analyze(args.folder)
    except StoreError as exc:
        return _fail(str(exc))
    print(f"{res['runs']} runs ({res['ok']} ok, {res['failed']} failed), {res['design']} design: {res['folder']}")
    if res["sobol"]:
        print(f"  {'output':28s} {'parameter':36s} {'S1':>7s} {'±95%':>6s} {'ST':>7s} {'±95%':>6s}")
        for r in res["sobol"]:
            print(f"  {r['output']:28s} {r['parameter']:36s} {r['S1']:7.3f} {r['S1_conf']:6.3f} "
                  f"{r['ST']:7.3f} {r['ST_conf']:6.3f}")
    for note in res["notes"]:
        print(f"  note: {note}")
    for p in res["plots"]:
        print(f"  plot: {p}")
    print(f"  report: {res['report']}")
    return 0


def cmd_schema(args) -> int:
    from sim.scenario.docs import schema_rows
    rows = schema_rows()
    if args.markdown:
        print("| key | type | unit | default | range | meaning | source |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(str(r[k]).replace("|", "/") for k in ("key", "type", "unit", "default", "range", "meaning", "source")) + " |")
    else:
        for r in rows:
            print(f"{r['key']}  ({r['type']}, {r['unit']})  default={r['default']}  range={r['range']}\n    {r['meaning']}  [source: {r['source']}]")
    return 0


def cmd_app(args) -> int:
    if not 1 <= args.port <= 65535:
        return _fail(f"--port: expected a port number 1-65535, got {args.port}")
    if args.results.exists() and not args.results.is_dir():
        return _fail(f"--results: '{args.results}' exists and is not a folder")
    # no "This website runs on Solara" banner: it sat over the KPI cards' last row (bottom right);
    # Solara reads its settings when it is imported
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    try:
        from solara.__main__ import cli as solara_cli
    except ImportError:
        return _fail("app: Solara is not installed; install the app extra: pip install -e '.[app]' (make run does)")
    import socket
    with socket.socket() as probe:  # a taken port is an error now, not a traceback from the server later
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closing socket is no obstacle
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError as exc:
            return _fail(f"--port: 127.0.0.1:{args.port} is not free ({exc.strerror})")
    import warnings
    # plain http on 127.0.0.1 (no iframe): Solara's fallback to samesite=lax cookies is what we want
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    os.environ["SMARTCOMMUTE_RESULTS"] = str(args.results.resolve())
    print(f"app: http://127.0.0.1:{args.port}  (results in {args.results.resolve()}; Ctrl-C stops it)", flush=True)
    # in this process (stopping it by its pid stops the server); 127.0.0.1 only; no browser, no version check
    solara_cli.main(["run", "sim.app.page", "--host", "127.0.0.1", "--port", str(args.port), "--production",
                     "--no-open", "--no-check-version", "--log-level", "warning"], standalone_mode=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    if getattr(args, "no_cache", False):  # in the environment: replication and sweep workers inherit it
        os.environ["SMARTCOMMUTE_NO_CACHE"] = "1"
    try:
        return {"run": cmd_run, "compare": cmd_compare, "report": cmd_report, "export": cmd_export,
                "validate": cmd_validate,
                "schema": cmd_schema, "sweep": cmd_sweep, "elasticities": cmd_elasticities, "analyze": cmd_analyze, "app": cmd_app}[args.command](args)
    except BrokenPipeError:  # stdout closed by the reader (`run.py schema | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit flush
        return 1
