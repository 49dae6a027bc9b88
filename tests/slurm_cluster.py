"""A throwaway single-node SLURM cluster for the tests (Debian's slurm-wlm and munge, run as root).

:func:`single_node_slurm` starts munged (if no munge daemon answers), slurmctld and slurmd with a
configuration, state and logs in a temporary folder, yields the environment that points ``sbatch``
and ``squeue`` at it, and stops the daemons it started by their process ids.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "sbatch", "squeue", "munged", "munge")


class Unavailable(Exception):
    """SLURM cannot run here (the reason is the message)."""


def _have() -> bool:
    return all(shutil.which(d) or Path(f"/usr/sbin/{d}").exists() for d in DAEMONS)


def ensure_installed() -> None:
    """slurm-wlm and munge present, installing them with apt-get when root (Debian); else Unavailable."""
    if _have():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable("slurm-wlm and munge are not installed and cannot be installed here "
                          "(needs root and apt-get: apt-get install -y slurm-wlm munge)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "slurm-wlm", "munge"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise Unavailable(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")
    if not _have():
        raise Unavailable("slurm-wlm and munge installed but their programs are not found")


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _munge_ok() -> bool:
    try:
        enc = subprocess.run([_exe("munge"), "-n"], capture_output=True, timeout=10)
        if enc.returncode != 0:
            return False
        dec = subprocess.run([_exe("unmunge")], input=enc.stdout, capture_output=True, timeout=10)
        return dec.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _start_munged() -> int | None:
    """Start munged as the munge user if none answers; its pid (None if one was already running)."""
    if _munge_ok():
        return None
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        if shutil.which("mungekey") or Path("/usr/sbin/mungekey").exists():
            subprocess.run([_exe("mungekey"), "--create", f"--keyfile={key}"], check=True, timeout=30)
        else:
            key.write_bytes(os.urandom(1024))
    shutil.chown(key, "munge", "munge")
    os.chmod(key, 0o400)
    for d in (Path("/run/munge"), Path("/var/log/munge"), Path("/var/lib/munge")):
        d.mkdir(parents=True, exist_ok=True)
        shutil.chown(d, "munge", "munge")
    pidfile = Path("/run/munge/munged.pid")
    proc = subprocess.run(["runuser", "-u", "munge", "--", _exe("munged")], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise Unavailable(f"munged did not start: {proc.stderr.strip()[-300:]}")
    for _ in range(100):
        if _munge_ok() and pidfile.exists():
            return int(pidfile.read_text().strip())
        time.sleep(0.1)
    raise Unavailable("munged started but munge -n | unmunge fails")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(pid: int | None, name: str) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def single_node_slurm(folder: Path, cpus: int = 2):
    """Run a one-node SLURM cluster whose files live in ``folder``; yields the environment for sbatch."""
    ensure_installed()
    if os.geteuid() != 0:
        raise Unavailable("the single-node SLURM test runs the daemons as root (SlurmUser=root)")
    host = socket.gethostname().split(".")[0]
    folder = Path(folder)
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(f"""\
ClusterName=sweeptest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
InactiveLimit=0
KillWait=5
MinJobAge=30
NodeName={host} CPUs={cpus} RealMemory=512 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    munged = ctld = slurmd = None
    try:
        munged = _start_munged()
        ctld = subprocess.Popen([_exe("slurmctld"), "-D", "-i", "-f", str(conf)], env=env,
                                stdout=subprocess.DEVNULL, stderr=open(folder / "slurmctld.err", "w"))
        slurmd = subprocess.Popen([_exe("slurmd"), "-D", "-f", str(conf)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(folder / "slurmd.err", "w"))
        deadline = time.time() + 60
        while time.time() < deadline:
            if ctld.poll() is not None or slurmd.poll() is not None:
                raise Unavailable(f"slurm daemons exited: {(folder / 'slurmctld.log').read_text()[-500:] if (folder / 'slurmctld.log').exists() else ''}"
                                  f"{(folder / 'slurmd.err').read_text()[-500:]}")
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env, timeout=20)
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mixed", "allocated"):
                break
            time.sleep(0.5)
        else:
            raise Unavailable("the SLURM node did not become idle within 60 s")
        yield env
    finally:
        _stop(slurmd.pid if slurmd else None, "slurmd")
        _stop(ctld.pid if ctld else None, "slurmctld")
        for p in (slurmd, ctld):
            if p is not None:
                with contextlib.suppress(Exception):
                    p.wait(timeout=10)
        _stop(munged, "munged")


@contextlib.contextmanager
def slurm_or_skip(folder: Path):
    """:func:`single_node_slurm`, or skip the calling test with the reason the cluster cannot start."""
    import pytest

    cluster = single_node_slurm(folder)
    try:
        env = cluster.__enter__()
    except Unavailable as exc:
        pytest.skip(f"no SLURM here: {exc}")
    try:
        yield env
    finally:
        cluster.__exit__(None, None, None)
