"""Running several scenarios for one question: ``run.py compare`` with scenario files, and the app.

:mod:`sim.outputs.compare` only reads results folders. Here, a scenario file given to
``run.py compare`` is run first (its folder goes under ``OUT/runs/<name>/``), all with the same
seeds so that the differences are paired: ``--seed`` and ``--replications`` default to the
baseline's (its file, or its run folder's ``summary.json``), ``--days`` and ``--scale`` to each
file's own values. The comparison folder ``OUT`` (default ``results/compare-<timestamp>``) is
written atomically: ``runs/`` plus what :func:`sim.outputs.compare.write_comparison` writes.

Bad input (fewer than two arguments, a path that is neither a run folder nor a scenario file, a
run folder without ``summary.json``, an invalid scenario, an existing ``OUT``) raises
:class:`~sim.outputs.compare.CompareError` before any work; ``run.py`` prints it and exits with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from sim.outputs.compare import CompareError, Source, default_out_dir, read_source, unique_labels, write_comparison
from sim.outputs.decomposition import HELD_RUNS, read_held
from sim.outputs.report import report_language
from sim.i18n import DEFAULT_LANGUAGE
from sim.outputs.results import OutputError, RunFolderError, atomic_dir, check_output_dir, read_run
from sim.runner import progress_days, run_and_write
from sim.scenario.load import ScenarioError, close_file_hint, load_scenario, resolved_dict
from sim.scenario.schema import Scenario


def run_scenarios(jobs: Sequence[tuple[Scenario, Path]], *, replications: int = 1, argv: list[str] | None = None,
                  progress: Callable[[int, int], None] | None = None, held: bool = False) -> list[tuple[Path, dict]]:
    """Run each scenario into its results folder, one after the other; returns (folder, summary) per job.

    Args:
        jobs: (validated scenario, output folder) pairs.
        replications: seeds per scenario (see :func:`sim.runner.replicate`).
        argv: the command line recorded in each manifest (default ``sys.argv``).
        progress: called as ``progress(job_index, days)``: once with ``days=0`` when the job starts
            (its set-up: city, population, calibration), then with the days it simulated, which add
            up to :func:`sim.runner.progress_days` of the job.
        held: also run each scenario with travel choices held (``held_choices.json``, for the decomposition).
    """
    out = []
    for i, (scenario, folder) in enumerate(jobs):
        if progress is not None:
            progress(i, 0)
        tick = (lambda days, i=i: progress(i, days)) if progress is not None else None
        out.append(run_and_write(scenario, folder, argv=argv or sys.argv, progress=tick, replications=replications,
                                 held=held))
    return out


def _load(arg: str, **top) -> Scenario:
    try:
        return load_scenario(arg, (), **top)
    except ScenarioError as exc:
        raise CompareError(str(exc)) from None


def plan(args: list[str], seed: int | None = None, days: int | None = None, scale: float | None = None,
         replications: int | None = None, years: int | None = None) -> tuple[list[Source], dict[int, Scenario], int]:
    """Check every argument of ``run.py compare``: read the run folders, load the scenario files.

    Returns the sources (in argument order, unique labels; a scenario's has no summary yet), the
    scenario of each source to run (by position) and the replications to run them with. Raises
    :class:`CompareError` on bad input.
    """
    if len(args) < 2:
        got = f"only '{args[0]}'" if args else "none"
        raise CompareError(f"compare: needs a baseline and at least one other run folder or scenario file; got {got}")
    if replications is not None and replications < 1:
        raise CompareError(f"--replications: expected an integer >= 1, got {replications}")
    sources = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            sources.append(read_source(arg))
        elif p.is_file() and p.suffix.lower() in (".yaml", ".yml"):
            sources.append(Source(arg, "scenario"))
        elif p.exists():
            raise CompareError(f"{arg}: neither a run folder (with summary.json) nor a scenario file (.yaml/.yml)")
        else:
            hint = close_file_hint(p) if p.suffix.lower() in (".yaml", ".yml") else ""
            raise CompareError(f"{arg}: no such run folder or scenario file{hint}")
    base = sources[0]
    if base.kind == "run folder":
        base_seed = base.summary.get("seed")
        base_reps = (base.summary.get("replications") or {}).get("n", 1)
    else:
        base_seed = _load(base.arg, seed=seed, days=days, years=years, scale=scale).seed
        base_reps = 1
    common_seed = seed if seed is not None else base_seed
    scenarios = {}
    for i, src in enumerate(sources):
        if src.kind == "scenario":
            scenarios[i] = _load(src.arg, seed=common_seed, days=days, years=years, scale=scale)
            src.label = scenarios[i].name
    return unique_labels(sources), scenarios, replications if replications is not None else base_reps


def language_of(arg: str) -> str:
    """The language a run folder's or scenario file's ``report.lang`` asks for (English if unreadable)."""
    try:
        if Path(arg).is_dir():
            return report_language(read_run(Path(arg)))
        return load_scenario(arg, ()).report.lang
    except (ScenarioError, RunFolderError, OSError):
        return DEFAULT_LANGUAGE


def compare(args: list[str], out: Path | None = None, seed: int | None = None, days: int | None = None,
            scale: float | None = None, replications: int | None = None, quiet: bool = False,
            argv: list[str] | None = None, years: int | None = None, lang: str | None = None,
            decompose: bool = True) -> tuple[Path, str]:
    """``run.py compare``: check the arguments, run the scenario files, write ``out``; returns (folder, table).

    ``decompose``: also run each scenario file with travel choices held (2 more runs each, no counterfactual),
    so that the comparison splits each run's effect (:mod:`sim.outputs.decomposition`).

    ``lang`` (``it``/``en``) is the language of the table and plots; by default the baseline scenario's
    ``report.lang``.

    Raises:
        CompareError: bad input, before any work and before anything is written.
    """
    sources, scenarios, n_reps = plan(args, seed=seed, days=days, scale=scale, replications=replications, years=years)
    lang = lang or (scenarios[0].report.lang if 0 in scenarios else report_language(read_run(sources[0].folder)))
    out = Path(out) if out is not None else default_out_dir()
    try:
        check_output_dir(out)
    except OutputError as exc:
        raise CompareError(str(exc)) from None
    order = sorted(scenarios)
    bars: dict[int, object] = {}

    def progress(job: int, days: int) -> None:
        if days == 0:  # a job starts: a bar of its own
            src, sc = sources[order[job]], scenarios[order[job]]
            for bar in bars.values():
                bar.close()
            bars[job] = tqdm(total=progress_days(sc, n_reps, held=len(HELD_RUNS) if decompose else 0), unit="day", file=sys.stderr, mininterval=1.0,
                             desc=src.label + (f" x{n_reps} seeds" if n_reps > 1 else ""))
        else:
            bars[job].update(days)

    with atomic_dir(out) as tmp:
        try:
            done = run_scenarios([(scenarios[i], tmp / "runs" / sources[i].label) for i in order],
                                 replications=n_reps, argv=argv, progress=None if quiet else progress,
                                 held=decompose)
        finally:
            for bar in bars.values():
                bar.close()
        for i, (_, summary) in zip(order, done):
            sources[i].summary = summary
            sources[i].folder = out / "runs" / sources[i].label
            sources[i].scenario = resolved_dict(scenarios[i])
            sources[i].held = read_held(tmp / "runs" / sources[i].label)
        table = write_comparison(tmp, sources, lang)
    return out, table
