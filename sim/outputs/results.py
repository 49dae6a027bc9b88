"""The results folder: written to a hidden temporary sibling, renamed into place when complete,
and read back (:func:`read_run`) by whoever compares, reports or shows runs.

A run killed at any moment (SIGKILL included) leaves at most a ``.<name>.tmp-<pid>`` folder, never
a folder at the final path that looks complete. A run claims its final path before it starts
(:func:`claim_output_dir`: an ``flock`` on ``.<name>.claim``), so a second run with the same
``--out`` stops at once instead of failing after its whole run, and the temporaries that killed
runs left beside it are removed then.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.outputs.kpis import ROOTS


class OutputError(Exception):
    """The output folder cannot be used (it exists, or its parent cannot be written)."""


def check_output_dir(final: Path) -> None:
    """Fail before any work if ``final`` exists or its parent cannot be created."""
    if final.exists():
        raise OutputError(f"{final}: output folder already exists; choose another --out or remove it")
    parent = final.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{parent}: is a file, expected a folder for the results")


TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")  # what atomic_dir and write_report leave


def unfinished(folder: Path) -> bool:
    """True for a hidden temporary results folder (being written, or left by a killed run)."""
    return TEMPORARY.match(Path(folder).name) is not None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def lock_free(path: Path, *, missing: bool) -> bool:
    """Whether nobody holds an flock on ``path`` (tried without waiting; released on close); ``missing`` if no file."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return missing
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _claim_free(parent: Path, name: str) -> bool:
    return lock_free(parent / f".{name}.claim", missing=True)


def clean_temporaries(parent: Path, held: str | None = None) -> list[Path]:
    """Remove the hidden temporaries in ``parent`` whose writer is dead (its pid gone, its claim free).

    ``held``: the name whose claim this process holds (its temporaries are dead by definition).
    """
    removed = []
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = TEMPORARY.match(p.name)
        if m is None or int(m["pid"]) == os.getpid() or pid_alive(int(m["pid"])):
            continue
        if m["name"] != held and not _claim_free(parent, m["name"]):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    for claim in parent.glob(".*.claim"):  # claims of finished or killed runs
        name = claim.name[1:-len(".claim")]
        if _claim_free(parent, name) and (parent / name).exists():
            claim.unlink(missing_ok=True)
    return removed


@contextmanager
def claim_output_dir(final: Path):
    """Hold ``final`` for this process from before the work until its folder is in place.

    Raises OutputError at once if the folder exists or another live run holds the claim.
    """
    final = Path(final)
    check_output_dir(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    claim = final.parent / f".{final.name}.claim"
    fh = open(claim, "a+b")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise OutputError(f"{final}: another run is writing this output folder now; choose another --out "
                          "or wait for it") from None
    try:
        check_output_dir(final)  # it may have finished between the first check and the lock
        clean_temporaries(final.parent, held=final.name)
        yield final
    finally:
        if final.exists():
            claim.unlink(missing_ok=True)  # before the unlock: a waiting run then sees the folder
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@contextmanager
def atomic_dir(final: Path):
    """Yield a temporary folder beside ``final``; rename it to ``final`` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        for f in tmp.iterdir():  # data on disk before the rename makes it visible
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")


def write_yaml(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True)


def write_parquet(path: Path, columns: dict[str, list]) -> None:
    pq.write_table(pa.table(columns), path)


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            return
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# ------------------------------------------------------------------------------------------ reading
class RunFolderError(Exception):
    """A folder is not a readable results folder; the message names it and what is wrong."""


@dataclass
class RunFolder:
    """A results folder as written by ``run.py run``: its summary, and (empty if missing) manifest and scenario."""

    folder: Path
    summary: dict
    manifest: dict
    scenario: dict


def read_summary(folder: Path, name: str | None = None) -> dict:
    """``summary.json`` of a results folder; raises :class:`RunFolderError` naming ``name`` (default: the folder)."""
    folder = Path(folder)
    name = str(folder) if name is None else name
    path = folder / "summary.json"
    if not path.is_file():
        raise RunFolderError(f"{name}: run folder has no summary.json "
                             "(expected a results folder written by 'run.py run')")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{name}: summary.json cannot be read: {exc}") from None
    if not isinstance(data, dict) or not ROOTS & set(data):
        raise RunFolderError(f"{name}: summary.json holds no KPIs (expected the summary of a 'run.py run' folder)")
    return data


def _optional(path: Path, parse) -> dict:
    try:
        data = parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def read_run(folder: Path, name: str | None = None) -> RunFolder:
    """Read a results folder: its summary (required, see :func:`read_summary`), manifest and resolved scenario."""
    folder = Path(folder)
    summary = read_summary(folder, name)
    return RunFolder(folder=folder, summary=summary, manifest=_optional(folder / "manifest.json", json.loads),
                     scenario=_optional(folder / "scenario.resolved.yaml", yaml.safe_load))
