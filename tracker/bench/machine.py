"""What the machine is doing while the bench measures: load average, CPU used by the server, the load generator and
everyone else, waiting (bounded) for a quiet machine, and the server's peak memory."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def load1() -> float:
    return os.getloadavg()[0]


def tree(pid: int) -> list[psutil.Process]:
    """A server process and its workers (uvicorn --workers N forks children that serve)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    times = {}
    for process in processes:
        try:
            t = process.cpu_times()
            times[process.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return times


def busy_seconds() -> float:
    """CPU seconds spent by the whole machine (every core) outside idle and I/O wait."""
    t = psutil.cpu_times()
    # guest time is already inside user time on Linux, and steal is time this machine did not get
    spare = sum(getattr(t, name, 0.0) for name in ("idle", "iowait", "guest", "guest_nice", "steal"))
    return sum(t) - spare


def database_processes() -> list[psutil.Process]:
    """PostgreSQL's backends serving the bench's database (their title names it): their work is the server's too."""
    name = os.environ.get("BENCH_DATABASE_NAME")
    if not name:
        return []
    found = []
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {name} " in title:
            found.append(process)
    return found


@dataclass
class CpuShare:
    """Cores used on average during a window: the server (per process), its database backends (PostgreSQL),
    the load generator, everyone else."""

    seconds: float
    server: dict[int, float]
    database: float
    load_generator: float
    others: float
    load1_end: float

    @property
    def server_total(self) -> float:
        return sum(self.server.values())

    def spread(self) -> str:
        """How the work fell on the server's processes that served (the supervisor of several workers serves none)."""
        shares = sorted((v for v in self.server.values() if v > 0.01), reverse=True)
        total = sum(shares)
        if len(shares) < 2 or total == 0:
            return ""
        return "/".join(f"{100 * v / total:.0f}" for v in shares) + " %"


class CpuWindow:
    """Measures a window. The load generator's CPU is given at the end (from its rusage, it has exited by then)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.harness = psutil.Process()
        self.started = time.monotonic()
        self.busy = busy_seconds()
        self.server = cpu_seconds(tree(server_pid))
        self.database = cpu_seconds(database_processes())
        self.own = cpu_seconds([self.harness])[self.harness.pid]

    def stop(self, load_generator_seconds: float = 0.0) -> CpuShare:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        busy = busy_seconds() - self.busy
        server_now = cpu_seconds(tree(self.server_pid))
        server = {pid: (s - self.server.get(pid, 0.0)) / elapsed for pid, s in server_now.items()}
        database_now = cpu_seconds(database_processes())
        database = sum(s - self.database.get(pid, 0.0) for pid, s in database_now.items())  # new backends: all of it
        own = cpu_seconds([self.harness])[self.harness.pid] - self.own
        ours = sum(server_now.values()) - sum(self.server.get(pid, 0.0) for pid in server_now) + own + database
        others = max(0.0, busy - ours - load_generator_seconds) / elapsed
        return CpuShare(elapsed, server, database / elapsed, load_generator_seconds / elapsed, others, load1())


def others_now(server_pid: int, seconds: float = 1.0) -> float:
    """Cores used by everything but this bench during `seconds` (the server is idle then)."""
    window = CpuWindow(server_pid)
    time.sleep(seconds)
    return window.stop().others


def wait_for_low_load(threshold: float, limit: float) -> str:
    """Waits until the 1-minute load average is under `threshold`, at most `limit` seconds; says what happened."""
    started = time.monotonic()
    while load1() >= threshold and time.monotonic() - started < limit:
        time.sleep(2)
    waited = time.monotonic() - started
    if load1() < threshold:
        return f"charge sur 1 min {load1():.2f} < {threshold:g}" + (f" après {waited:.0f} s d’attente" if waited >= 1 else "")
    return f"charge sur 1 min encore {load1():.2f} ≥ {threshold:g} après {waited:.0f} s d’attente : mesure quand même"


def wait_for_quiet_cpu(server_pid: int, threshold: float, limit: float) -> tuple[float, float]:
    """Before one measurement: waits (at most `limit` s) until the others use under `threshold` cores over one second.
    Returns (seconds waited, the others' last reading)."""
    started = time.monotonic()
    others = others_now(server_pid)
    while others >= threshold and time.monotonic() - started < limit:
        others = others_now(server_pid)
    return time.monotonic() - started, others


def reset_peak_rss(pids: list[int]) -> bool:
    """Linux resets VmHWM (peak RSS) when "5" is written to clear_refs; False where that is not allowed."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
