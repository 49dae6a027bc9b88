"""The results folder: written to a hidden temporary sibling, renamed into place when complete,
and read back (:func:`read_run`) by whoever compares, reports or shows runs.

A run killed at any moment (SIGKILL included) leaves at most a ``.<name>.tmp-<pid>`` folder, never
a folder at the final path that looks complete.
"""

from __future__ import annotations

import csv
import json
import os
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
