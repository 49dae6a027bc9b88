"""Running a sweep: the run function, the executors (local pool, Dask, SLURM shards) and the driver.

Every executor calls the same :func:`run_task` on plain data (the resolved base scenario and a run's
parameters and seed), so a run's numbers depend only on its parameters and seed, wherever it runs.
The driver (this process) keeps at most a few runs per worker in flight, writes each finished run
to its own store journal at once (:mod:`sim.sweep.store`), and shows a progress bar. A shard
(``--shard i/n``) runs the runs with ``index % n == i``, with no scheduler, so a SLURM job array
runs a sweep; ``run.py sweep collect DIR`` merges the shards.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import shlex
import shutil
import socket
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as cf_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sim.sweep.spec import Sweep, build_scenario
from sim.sweep.store import Store, StoreError

log = logging.getLogger(__name__)
FAULT_ENV = "SMARTCOMMUTE_SWEEP_FAIL_INDICES"  # testing hook: comma-separated run indices that raise
CRASH_ENV = "SMARTCOMMUTE_SWEEP_CRASH_INDICES"  # testing hook: run indices whose worker process exits


PARENT_POLL_S = 1.0  # how often a worker checks that its driver is alive


class SweepError(Exception):
    """Bad sweep command-line input (exit 2)."""


def _exit_with_driver(driver_pid: int) -> None:
    """Worker initializer: a daemon thread ends this worker when the driver process is gone.

    A driver killed with SIGKILL runs no cleanup; its pool workers would otherwise live on (each
    holding a model's memory) until killed by hand. Their parent then becomes another process.
    """
    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != driver_pid:
                os._exit(1)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def run_task(payload: dict, task: dict) -> dict:
    """Run one point with one seed; never raises: a failure becomes a row with its error."""
    t0 = time.perf_counter()
    row = {"point_id": task["point_id"], "index": task["index"], "design_index": task["design_index"],
           "seed": task["seed"], "params": _canonical(task["params"]), "status": "ok", "error": None,
           "kpis": None, "wall_s": 0.0}
    try:
        fault = os.environ.get(FAULT_ENV, "")
        if fault and str(task["index"]) in fault.split(","):
            raise RuntimeError(f"injected failure ({FAULT_ENV})")
        crash = os.environ.get(CRASH_ENV, "")
        if crash and str(task["index"]) in crash.split(","):
            os._exit(1)  # a worker process dying (as under the OOM killer)
        from sim.outputs.replications import flatten_kpis
        from sim.runner import simulate
        scenario = build_scenario(payload["base"], task["params"], seed=task["seed"])
        _, summary = simulate(scenario, counterfactual=payload["counterfactual"])
        row["kpis"] = flatten_kpis(summary)
        overrides = payload.get("baseline_overrides")
        if overrides is not None:  # the point's own baseline (same parameters and seed): its appraisal figures
            from sim.outputs.appraisal import FIGURES, appraise
            base_sc = build_scenario(payload["base"], {**task["params"], **overrides}, seed=task["seed"])
            _, base_summary = simulate(base_sc, counterfactual=payload["counterfactual"])
            a = appraise(base=base_summary, run=summary, scenario=scenario, base_scenario=base_sc)
            row["kpis"].update({f"appraisal.{k}": float(a[k]) for k in FIGURES if a[k] is not None})
    except Exception as exc:  # noqa: BLE001 - a failed point is recorded and the sweep goes on
        row["status"] = "failed"
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["wall_s"] = time.perf_counter() - t0
    return row


def _canonical(params: dict) -> str:
    from sim.sweep.spec import canonical
    return canonical(params)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SweepError(f"--shard {text}: expected I/N with integers, e.g. --shard 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise SweepError(f"--shard {text}: expected 0 <= I < N and N >= 1")
    return i, n


# --------------------------------------------------------------------------------------- executors
class LocalExecutor:
    """A pool of worker processes on this machine ('spawn': nothing inherited but the arguments)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool = None

    def __enter__(self):
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_exit_with_driver, initargs=(os.getpid(),))
        return self

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def wait_any(self, futures):
        done, _ = cf_wait(futures, return_when=FIRST_COMPLETED)
        return done

    def broken(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.__enter__()

    def __exit__(self, *exc):
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """dask.distributed: a LocalCluster on 127.0.0.1, a scheduler address, or a dask-jobqueue cluster."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, cluster=None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SweepError("--executor dask needs dask.distributed: pip install -e '.[cluster]'") from None
        self.workers = workers
        self.scheduler = scheduler
        self.cluster_cfg = cluster
        self._cluster = None
        self._client = None

    def __enter__(self):
        from distributed import Client, LocalCluster
        logging.getLogger("distributed").setLevel(logging.WARNING)
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise SweepError(f"--scheduler {self.scheduler}: cannot connect to the Dask scheduler ({exc})") from None
        elif self.cluster_cfg is not None:
            self._cluster = _jobqueue_cluster(self.cluster_cfg)
            self._cluster.scale(jobs=self.cluster_cfg.jobs)
            self._client = Client(self._cluster)
        else:
            n = max(1, self.workers or os.cpu_count() or 1)
            self._cluster = LocalCluster(host="127.0.0.1", n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    @property
    def slots(self) -> int:
        try:
            n = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        except Exception:  # noqa: BLE001
            n = 0
        expected = self.cluster_cfg.jobs * self.cluster_cfg.processes if self.cluster_cfg is not None else 0
        return max(n, self.workers or 0, expected, 1)

    def submit(self, fn, *args):
        return self._client.submit(fn, *args, pure=False)

    def wait_any(self, futures):
        from distributed import wait
        done, _ = wait(list(futures), return_when="FIRST_COMPLETED")
        return done

    def broken(self, exc: BaseException) -> bool:
        return False

    def __exit__(self, *exc):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _jobqueue_cluster(cfg):
    try:
        import dask_jobqueue
    except ImportError:
        raise SweepError("cluster: needs dask-jobqueue: pip install -e '.[cluster]'") from None
    kwargs = {"cores": cfg.cores, "processes": cfg.processes, "memory": cfg.memory}
    for key in ("walltime", "queue", "account", "interface"):
        if getattr(cfg, key) is not None:
            kwargs[key] = getattr(cfg, key)
    if cfg.job_extra_directives:
        kwargs["job_extra_directives"] = list(cfg.job_extra_directives)
    if cfg.job_script_prologue:
        kwargs["job_script_prologue"] = list(cfg.job_script_prologue)
    if cfg.scheduler_options:
        kwargs["scheduler_options"] = dict(cfg.scheduler_options)
    if cfg.worker_extra_args:
        kwargs["worker_extra_args"] = list(cfg.worker_extra_args)
    cls = dask_jobqueue.SLURMCluster if cfg.kind == "slurm" else dask_jobqueue.PBSCluster
    return cls(**kwargs)


# --------------------------------------------------------------------------------------- driver
@dataclass
class SweepReport:
    out: Path
    total: int                 # runs of the sweep (or of this shard)
    skipped: int               # already in the store
    ran: int = 0
    ok: int = 0
    failed: int = 0            # failed in this session
    failed_in_store: int = 0   # runs of the sweep (or shard) whose row in the store is a failure, after the session
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def select_runs(sweep: Sweep, status: dict[str, str], shard: tuple[int, int] | None, retry_failed: bool):
    """The runs of this shard that the store lacks (and its failed ones with ``retry_failed``)."""
    mine = [r for r in sweep.runs() if shard is None or r.index % shard[1] == shard[0]]
    todo = [r for r in mine if status.get(r.point_id) is None or (retry_failed and status[r.point_id] == "failed")]
    return mine, todo


def run_sweep(sweep: Sweep, out: str | Path, executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, shard: tuple[int, int] | None = None, retry_failed: bool = False,
              progress: bool = True, collect: bool | None = None) -> SweepReport:
    """Run the runs of ``sweep`` missing from the store at ``out`` (see the module docstring).

    ``collect`` (default: True unless sharded) writes results.parquet/results.csv at the end.
    """
    t0 = time.perf_counter()
    if executor not in ("local", "dask"):
        raise SweepError(f"--executor {executor}: expected local or dask (SLURM arrays use --shard)")
    if executor == "dask" and scheduler:
        check_scheduler(scheduler)  # before the folder is created
    store = Store(out)
    created = not store.root.exists()
    store.init(sweep.describe())
    tag = f"shard{shard[0]}of{shard[1]}" if shard else executor
    locks = []
    try:
        # a full session excludes every other session; shards exclude only the same shard
        locks.append(_lock(store.root / ".lock-driver", shared=shard is not None, out=out,
                           other="a full session of this sweep" if shard else "another session of this sweep"))
        if shard:
            locks.append(_lock(store.root / f".lock-{tag}", shared=False, out=out,
                               other="another session of this sweep shard"))
        try:
            return _run_locked(sweep, store, executor, workers, scheduler, shard, retry_failed, progress, collect,
                               t0, tag)
        except SweepError:
            if created and next(store.tables(), None) is None:
                shutil.rmtree(store.root, ignore_errors=True)  # nothing ran: leave no folder behind
            raise
    finally:
        for lock in locks:
            lock.close()


def _lock(path: Path, shared: bool, out, other: str):
    fh = open(path, "a")
    try:
        fcntl.flock(fh.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise StoreError(f"{out}: {other} is running here; wait for it or stop it") from None
    return fh


def check_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """SweepError unless a TCP connection to the scheduler ``address`` (tcp://host:port) opens in time."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise SweepError(f"--scheduler {address}: expected an address tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    if parts.scheme not in ("tcp", "tls"):
        return  # other transports (inproc, ucx): the client says if it cannot connect
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise SweepError(f"--scheduler {address}: cannot connect to {host}:{port} "
                         f"({exc.strerror or exc}); is the Dask scheduler running there?") from None


def _run_locked(sweep, store, executor, workers, scheduler, shard, retry_failed, progress, collect, t0, tag):
    out = store.root
    recovered = store.recover()
    if recovered:
        log.info("%s: recovered %d journal(s) of interrupted sessions", out, recovered)
    mine, todo = select_runs(sweep, store.status(), shard, retry_failed)
    report = SweepReport(out=Path(out), total=len(mine), skipped=len(mine) - len(todo))
    if executor == "local":
        ex = LocalExecutor(workers)
    else:
        ex = DaskExecutor(workers, scheduler, sweep.spec.cluster)
    bar = None
    if progress:
        from tqdm import tqdm
        desc = sweep.name + (f" shard {shard[0]}/{shard[1]}" if shard else "")
        bar = tqdm(total=len(todo), desc=desc, unit="run", file=sys.stderr, mininterval=0.5, smoothing=0.1)
        bar.set_postfix(done=report.skipped, failed=0, refresh=False)
    if todo:
        writer = store.writer(tag)
        try:
            with ex:
                _drive(ex, sweep.payload(), todo, writer, report, bar)
        finally:
            writer.close()
            if bar is not None:
                bar.close()
    elif bar is not None:
        bar.close()
    if collect if collect is not None else shard is None:
        store.collect()
    status = store.status()
    report.failed_in_store = sum(status.get(r.point_id) == "failed" for r in mine)
    report.wall_s = time.perf_counter() - t0
    return report


def _drive(ex, payload: dict, todo, writer, report: SweepReport, bar) -> None:
    queue = list(reversed(todo))       # pop() from the end: runs go in index order
    running: dict = {}

    def record(row: dict) -> None:
        writer.append(row)
        report.ran += 1
        if row["status"] == "ok":
            report.ok += 1
        else:
            report.failed += 1
            if len(report.errors) < 20:
                report.errors.append(f"run {row['index']} ({row['point_id']}): {row['error']}")
        if bar is not None:
            bar.set_postfix(done=report.skipped + report.ok, failed=report.failed, refresh=False)
            bar.update(1)

    def failed_row(run, error: str) -> dict:
        return {"point_id": run.point_id, "index": run.index, "design_index": run.design_index, "seed": run.seed,
                "params": _canonical(run.params), "status": "failed", "error": error, "kpis": None, "wall_s": 0.0}

    # A worker process that dies (OOM killer, segfault) breaks the local pool and every run in flight
    # with it. Those runs become suspects and run again one at a time: the one that breaks the pool
    # alone is recorded as failed, the others give their results.
    # ``submit`` itself raises BrokenProcessPool when a worker died since the last one (right after
    # taking a task): the run not submitted goes back where it came from, the ones in flight are
    # collected as broken below.
    suspects: list = []

    def submit(run, back: list) -> bool:
        try:
            running[ex.submit(run_task, payload, run.task())] = run
        except Exception as exc:  # noqa: BLE001
            if not ex.broken(exc):
                raise
            back.append(run)
            return False
        return True

    fruitless = 0  # restarts in a row with nothing submitted: a pool that cannot start at all

    def restart_empty(back: list) -> None:
        nonlocal fruitless
        fruitless += 1
        if fruitless > 3:
            run = back.pop()
            record(failed_row(run, "the worker pool broke before the run could start (4 tries)"))
            fruitless = 0
        ex.restart()

    while queue or running or suspects:
        if suspects:
            if not running and not submit(suspects.pop(), suspects):
                restart_empty(suspects)
                continue
        else:
            in_flight_max = max(2, 2 * (getattr(ex, "slots", None) or ex.workers))  # dask clusters grow and shrink
            while queue and len(running) < in_flight_max:
                if not submit(queue.pop(), queue):
                    break
            if not running:  # broken before anything was taken
                restart_empty(queue)
                continue
        fruitless = 0
        alone = len(running) == 1
        broken = False
        for fut in ex.wait_any(list(running)):
            run = running.pop(fut)
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - the worker died, or the cluster gave up on the task
                if not ex.broken(exc):
                    record(failed_row(run, f"worker lost: {type(exc).__name__}: {exc}"))
                elif alone:
                    broken = True
                    record(failed_row(run, f"worker process died running it: {type(exc).__name__}: {exc}"))
                else:
                    broken = True
                    suspects.append(run)
                continue
            record(row)
        if broken:
            suspects.extend(running.values())  # broken too, not yet seen as done
            running.clear()
            ex.restart()


# --------------------------------------------------------------------------------------- SLURM array
def slurm_script(sweep: Sweep, out: Path, shards: int | None = None, python: str | None = None) -> str:
    """A ready sbatch script: a job array 0..N-1, task i runs ``run.py sweep FILE --shard i/N``."""
    cfg = sweep.spec.slurm
    n = shards or cfg.shards
    root = Path(__file__).resolve().parents[2]
    run_py = root / "run.py"
    python = python or sys.executable
    out = Path(out).resolve()
    array = f"0-{n - 1}" + (f"%{cfg.max_parallel}" if cfg.max_parallel else "")
    lines = ["#!/bin/bash",
             f"#SBATCH --job-name=sweep-{sweep.name}",
             f"#SBATCH --array={array}",
             f"#SBATCH --cpus-per-task={cfg.cpus_per_task}",
             f"#SBATCH --output={out}/logs/slurm-%A_%a.out"]
    for key in ("time", "mem", "partition", "account"):
        value = getattr(cfg, key)
        if value:
            lines.append(f"#SBATCH --{key}={value}")
    lines += [f"#SBATCH {d}" for d in cfg.extra_directives]
    lines += ["# Each task runs its share of the points (index % N == task id) and writes its own part files;",
              "# when all tasks are done, merge them:",
              f"#   {shlex.quote(python)} {shlex.quote(str(run_py))} sweep collect {shlex.quote(str(out))}",
              "# (e.g. sbatch --dependency=afterany:<array job id> --wrap '<that command>').",
              "# Re-submitting the script runs only the points still missing.",
              "set -euo pipefail",
              f"cd {shlex.quote(str(root))}"]
    lines += list(cfg.setup)
    lines.append(f"exec {shlex.quote(python)} {shlex.quote(str(run_py))} sweep {shlex.quote(str(sweep.path))} "
                 f"--shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --out {shlex.quote(str(out))} "
                 f"--workers \"${{SLURM_CPUS_PER_TASK:-{cfg.cpus_per_task}}}\" --quiet")
    return "\n".join(lines) + "\n"
