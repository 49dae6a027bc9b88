"""The sweep store: results stream to disk as runs finish, and survive being killed at any moment.

Layout of a sweep folder::

    sweep.json                 the sweep (file, spec, fingerprint); a folder belongs to one sweep
    parts/<tag>-<session>-<k>.arrows    a writer's journal while it runs (Arrow IPC stream)
    parts/<tag>-<session>-<k>.parquet   the same rows once the journal is closed (one file per
                                        writer session, rolled every ``rows_per_file`` rows)
    results.parquet, results.csv        the merged table (``collect``), sorted by point id

Each writer (the driver of a local or Dask sweep, or one shard of a SLURM array) appends one
record batch per finished run to its own journal and flushes it to disk, holding an exclusive
``flock`` on the journal while it lives. A journal killed mid-write (``kill -9``) keeps every
complete batch: reading stops at the torn one. On close the journal becomes a Parquet file
(written to a hidden temporary name, fsynced, renamed) and is removed. A journal whose lock is
free belongs to a dead writer: the next session (or ``collect``) converts it the same way. Hidden
files (``.*``) are never read, and a Parquet file that cannot be read is reported and ignored, so a
torn file never corrupts the store; its runs simply count as missing and run again.

Rows hold the run's ``point_id`` (hash of parameter values and seed), its index, design index,
seed, parameter values (canonical JSON), status (``ok`` / ``failed``), error, the flattened KPIs
and the run's wall time.
"""

from __future__ import annotations

import csv
import fcntl
import json
import logging
import os
import re
import socket
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sim.outputs.results import lock_free, pid_alive

log = logging.getLogger(__name__)

SCHEMA = pa.schema([
    ("point_id", pa.string()),
    ("index", pa.int64()),
    ("design_index", pa.int64()),
    ("seed", pa.int64()),
    ("params", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("kpis", pa.map_(pa.string(), pa.float64())),
    ("wall_s", pa.float64()),
])
TIME_COLUMNS = ("wall_s",)   # columns that differ between identical runs
RESULTS = "results.parquet"


_TMP_PID = re.compile(r"\.tmp-(\d+)-[0-9]+$")  # _atomic_write's and init's temporaries: .<name>.tmp-<pid>-<ns>


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


class StoreError(Exception):
    """The folder cannot hold this sweep (it holds another one, or is not a sweep folder)."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(final: Path, write) -> None:
    """``write(tmp_path)`` then fsync and rename to ``final`` (hidden temporary beside it)."""
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{time.time_ns()}"
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(final.parent)


def read_journal(path: Path) -> pa.Table:
    """Every complete record batch of an Arrow IPC stream journal (a torn tail is ignored)."""
    batches = []
    try:
        with pa.OSFile(str(path), "rb") as src:
            reader = pa.ipc.open_stream(src)
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError, EOFError) as exc:
        if not batches:
            log.debug("journal %s: nothing readable (%s)", path, exc)
    return pa.Table.from_batches(batches, schema=SCHEMA)


def _journal_to_parquet(journal: Path) -> None:
    table = read_journal(journal)
    if table.num_rows:
        _atomic_write(journal.with_suffix(".parquet"), lambda tmp: pq.write_table(table, tmp))
    try:
        journal.unlink()
    except FileNotFoundError:
        pass


class Writer:
    """One writer session: appends rows to its own journal, closes it into Parquet."""

    def __init__(self, parts: Path, tag: str, rows_per_file: int = 5000):
        self.parts = parts
        self.session = f"{tag}-{socket.gethostname()}-{os.getpid()}-{time.time_ns():x}"
        self.rows_per_file = rows_per_file
        self.k = 0
        self.rows = 0
        self._open()

    def _open(self) -> None:
        self.path = self.parts / f"{self.session}-{self.k}.arrows"
        tmp = self.parts / f".{self.path.name}.new"
        self._fh = open(tmp, "wb")
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # held until closed: the writer is alive
        self._sink = pa.PythonFile(self._fh, mode="w")
        self._stream = pa.ipc.new_stream(self._sink, SCHEMA)
        self._flush()
        os.rename(tmp, self.path)  # visible only once locked
        self.rows = 0

    def _flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def append(self, row: dict) -> None:
        """Write one run's row durably (flushed and fsynced before returning)."""
        self._stream.write_batch(pa.RecordBatch.from_pylist([row], schema=SCHEMA))
        self._flush()
        self.rows += 1
        if self.rows >= self.rows_per_file:
            self._close_file()
            self.k += 1
            self._open()

    def _close_file(self) -> None:
        self._stream.close()
        self._flush()
        _journal_to_parquet(self.path)
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()

    def close(self) -> None:
        self._close_file()


class Store:
    """A sweep folder (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.parts = self.root / "parts"

    # ---------------------------------------------------------------- setup
    def meta(self) -> dict | None:
        f = self.root / "sweep.json"
        return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None

    def check(self, description: dict) -> None:
        """Fail if the folder exists and holds another sweep (or is not a sweep folder)."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: is a file, expected a sweep folder")
        meta = self.meta()
        if meta is not None and meta.get("fingerprint") != description["fingerprint"]:
            raise StoreError(f"{self.root}: holds another sweep ('{meta.get('name')}', {meta.get('n_runs')} runs, "
                             f"fingerprint {meta.get('fingerprint')}); the sweep file's design, base or seeds "
                             f"changed (fingerprint {description['fingerprint']}). Use another --out.")
        # no sweep.json yet: empty, or a parallel shard is creating it (parts/, .sweep.json.tmp-*), or logs/
        if meta is None and self.root.is_dir() and any(
                p.name not in ("logs", "parts") and not p.name.startswith(".sweep.json") for p in self.root.iterdir()):
            raise StoreError(f"{self.root}: exists and is not a sweep folder (no sweep.json); use another --out")

    def init(self, description: dict) -> None:
        """Create the folder for this sweep, or check that it holds this sweep (safe for parallel shards)."""
        self.check(description)
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / "sweep.json"
        if not final.exists():
            tmp = self.root / f".sweep.json.tmp-{os.getpid()}-{time.time_ns()}"
            tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            try:
                os.link(tmp, final)  # atomic create-if-absent: parallel shards agree on one file
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        self.check(description)
        self.parts.mkdir(exist_ok=True)

    # ---------------------------------------------------------------- writing
    def writer(self, tag: str, rows_per_file: int = 5000) -> Writer:
        return Writer(self.parts, tag, rows_per_file)

    def clean_temporaries(self) -> int:
        """Remove hidden temporaries of dead writers: ``.*.tmp-<pid>-*`` (pid gone) and ``.*.arrows.new`` (lock free)."""
        n = 0
        for folder in (self.root, self.parts):
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                if not f.name.startswith("."):
                    continue
                m = _TMP_PID.search(f.name)
                if m is not None:
                    dead = int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1)))
                elif f.name.endswith(".arrows.new"):
                    dead = lock_free(f, missing=False)
                else:
                    continue
                if dead and _age_s(f) > 60:  # an old one: never a file another writer is creating right now
                    f.unlink(missing_ok=True)
                    n += 1
        return n

    def recover(self) -> int:
        """Convert the journals of dead writers (lock free) into Parquet; returns how many."""
        n = 0
        if not self.parts.is_dir():
            return 0
        self.clean_temporaries()
        for j in sorted(self.parts.glob("*.arrows")):
            try:
                fh = open(j, "rb")
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer
                if j.exists():
                    _journal_to_parquet(j)
                    n += 1
            finally:
                fh.close()
        return n

    # ---------------------------------------------------------------- reading
    def tables(self, columns: list[str] | None = None):
        """Yield the tables of every readable part (Parquet files and live or dead journals)."""
        if not self.parts.is_dir():
            return
        for f in sorted(self.parts.iterdir()):
            if f.name.startswith("."):
                continue
            if f.suffix == ".parquet":
                try:
                    t = pq.read_table(f, columns=columns)
                except (pa.ArrowInvalid, OSError) as exc:
                    log.warning("%s: unreadable part ignored (%s); its runs count as missing", f, exc)
                    continue
            elif f.suffix == ".arrows":
                t = read_journal(f)
                if columns is not None:
                    t = t.select(columns)
            else:
                continue
            yield t

    def status(self) -> dict[str, str]:
        """point_id -> 'ok' or 'failed' ('ok' wins when a run was retried)."""
        out: dict[str, str] = {}
        for t in self.tables(["point_id", "status"]):
            for pid, st in zip(t.column("point_id").to_pylist(), t.column("status").to_pylist()):
                if out.get(pid) != "ok":
                    out[pid] = st
        return out

    def rows(self) -> list[dict]:
        """One row per run (ok preferred over failed), sorted by point id."""
        best: dict[str, dict] = {}
        for t in self.tables():
            for row in t.to_pylist():
                old = best.get(row["point_id"])
                if old is None or (old["status"] != "ok" and row["status"] == "ok"):
                    best[row["point_id"]] = row
        return [best[k] for k in sorted(best)]

    def table(self) -> pa.Table:
        """The merged table: keys, parameter columns, KPI columns, wall time; sorted by point id."""
        rows = self.rows()
        params = [json.loads(r["params"]) for r in rows]
        kpis = [dict(r["kpis"] or []) for r in rows]
        pnames: list[str] = []
        for p in params:
            pnames.extend(k for k in p if k not in pnames)
        knames: list[str] = []
        for k in kpis:
            knames.extend(n for n in k if n not in knames)
        cols: dict[str, pa.Array] = {
            "point_id": pa.array([r["point_id"] for r in rows], pa.string()),
            "index": pa.array([r["index"] for r in rows], pa.int64()),
            "design_index": pa.array([r["design_index"] for r in rows], pa.int64()),
            "seed": pa.array([r["seed"] for r in rows], pa.int64()),
            "status": pa.array([r["status"] for r in rows], pa.string()),
            "error": pa.array([r["error"] for r in rows], pa.string()),
        }
        for name in pnames:
            values = [p.get(name) for p in params]
            try:
                cols[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                cols[name] = pa.array([None if v is None else json.dumps(v) for v in values], pa.string())
        for name in knames:
            key = name if name not in cols else f"kpi.{name}"
            cols[key] = pa.array([k.get(name) for k in kpis], pa.float64())
        cols["wall_s"] = pa.array([r["wall_s"] for r in rows], pa.float64())
        if not rows:
            return pa.table({n: pa.array([], pa.string()) for n in ("point_id", "status")})
        return pa.table(cols)

    def collect(self) -> tuple[Path, pa.Table]:
        """Recover dead journals, merge every part and write results.parquet and results.csv atomically."""
        self.recover()
        table = self.table()
        final = self.root / RESULTS
        _atomic_write(final, lambda tmp: pq.write_table(table, tmp))
        def write_csv(tmp: Path) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(table.column_names)
                for row in zip(*[table.column(c).to_pylist() for c in table.column_names]):
                    w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
        _atomic_write(self.root / "results.csv", write_csv)
        return final, table


def comparable(table: pa.Table) -> pa.Table:
    """The table without wall-time columns (what must be identical across executors and sessions)."""
    return table.drop_columns([c for c in TIME_COLUMNS if c in table.column_names])
