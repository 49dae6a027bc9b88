"""The results folder: written to a hidden temporary sibling, renamed into place when complete.

A run killed at any moment (SIGKILL included) leaves at most a ``.<name>.tmp-<pid>`` folder, never
a folder at the final path that looks complete.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml


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
