"""Every malformed input of tests/data/malformed/ through ``run.py validate`` and ``run.py run``/``sweep``.

    python benchmarks/robustness_corpus.py                 # this checkout
    python benchmarks/robustness_corpus.py --root DIR      # another checkout (e.g. an older commit), same corpus

Prints one row per case and command: exit code, seconds, peak memory of the process, whether stderr
holds a traceback, and the first line of stderr. Each process is limited to ``--timeout`` seconds
and ``--memory-mb`` of address space. Scenario cases run with ``--days 2`` on a 5x5 city of 1,200
workers (unless the case itself sets the city or the population), so a case the loader accepts
shows what the run then does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CORPUS = HERE / "tests" / "data" / "malformed"
TINY = ["--set", "city.grid_size=5", "--set", "population.workers_internal=1000",
        "--set", "population.workers_inbound=200"]


def run(cmd: list[str], cwd: Path, timeout_s: float, memory_mb: int) -> dict:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))

    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit,
                                env={**os.environ, "PYTHONPATH": str(cwd)}, start_new_session=True)
        status = rusage = None
        while time.monotonic() - t0 < timeout_s:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # its pool workers too (older versions orphan them)
            _, status, rusage = os.wait4(proc.pid, 0)
            status = None
        seconds = time.monotonic() - t0
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("INFO")]
    first = next((ln for ln in lines if ln.startswith("error:")), lines[-1] if lines else "")
    code = "timeout" if status is None else os.waitstatus_to_exitcode(status)
    return {"exit": code, "seconds": seconds, "peak_mb": rusage.ru_maxrss / 1024, "traceback": "Traceback" in text,
            "first": first[:160]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=HERE, help="checkout whose run.py is tried (default: this one)")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--memory-mb", type=int, default=4000)
    p.add_argument("--only", help="substring of the case names to run")
    args = p.parse_args()
    cases = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    root = args.root.resolve()
    print("| case | command | exit | s | peak MB | traceback | stderr |")
    print("|---|---|---|---|---|---|---|")
    for name, case in sorted(cases.items()):
        if args.only and args.only not in name:
            continue
        path = str(CORPUS / name)
        with tempfile.TemporaryDirectory() as tmp:
            if case["kind"] == "sweep":
                cmds = [("validate", ["validate", path]),
                        ("sweep", ["sweep", path, "--out", f"{tmp}/o", "--quiet", "--workers", "1"])]
            else:
                text = (CORPUS / name).read_bytes()
                tiny = [] if b"grid_size" in text or b"workers_" in text else TINY
                days = [] if b"days:" in text else ["--days", "2"]
                cmds = [("validate", ["validate", path]),
                        ("run", ["run", path, "--out", f"{tmp}/o", "--quiet", *days, *tiny])]
            for label, cmd in cmds:
                r = run([sys.executable, str(root / "run.py"), *cmd], root, args.timeout, args.memory_mb)
                written = "yes" if any(Path(tmp).iterdir()) else "no"
                print(f"| {name} | {label} | {r['exit']} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | "
                      f"{'yes' if r['traceback'] else 'no'} | {r['first'].replace('|', '/')} (written: {written}) |",
                      flush=True)


if __name__ == "__main__":
    main()
