"""The load generator: wrk (Debian's package), 8 clients, one thread and one connection each, driven by wrk.lua."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")
INSTALL_HINT = "wrk est introuvable : installez-le (Debian/Ubuntu : « apt-get install -y wrk »), puis relancez make bench."


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass
class Client:
    """One signed-in client: its headers (cookies or bearer token) and what it asks for."""

    headers: dict[str, str]
    paths: list[str] = field(default_factory=list)
    method: str = "GET"
    body: str | None = None
    # status mode: POST {prefix}{id}{suffix} for each action {id, version, status}
    actions: list[dict] = field(default_factory=list)
    csrf: str = ""
    prefix: str = ""
    suffix: str = ""
    comment: str = ""


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    changes: int
    errors: dict[str, int]
    cpu_seconds: float  # the load generator's own CPU time

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def unexpected(self, expected: int) -> str:
        """Responses other than the expected status and socket errors, or ''."""
        parts = [f"{n}×{status}" for status, n in sorted(self.statuses.items()) if status != expected]
        parts += [f"{n} {kind}" for kind, n in self.errors.items() if n]
        return ", ".join(parts)


def _lua(value) -> str:
    """A Python value as a Lua literal (strings, numbers, booleans, lists, dicts)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes (\\", \\\\, \\n) are Lua escapes too; UTF-8 passes as bytes
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(_lua(v) for v in value) + "}"


def run(base_url: str, clients: list[Client], seconds: float, *, mode: str = "paths", close: bool = False) -> Result:
    """Runs wrk for `seconds` with one thread and one connection per client; blocks until it is done."""
    plan = {
        "mode": mode,
        "close": close,
        "clients": [
            {"headers": c.headers, "paths": c.paths, "method": c.method, "body": c.body, "actions": c.actions,
             "csrf": c.csrf, "prefix": c.prefix, "suffix": c.suffix, "comment": c.comment}
            for c in clients
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-plan-", delete=False) as handle:
        handle.write("return " + _lua(plan) + "\n")
    n = len(clients)
    command = [wrk_path() or "wrk", "-t", str(n), "-c", str(n), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "120s", "-s", str(SCRIPT), base_url, "--", handle.name]
    try:
        with tempfile.TemporaryFile("w+") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            # wait4 gives the child's rusage: the load generator's CPU is reported beside the server's.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read()
    finally:
        os.unlink(handle.name)
    line = next((l for l in text.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk a échoué ({process.returncode}) :\n{text}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        statuses={int(k): v for k, v in data["statuses"].items()},
        changes=data["changes"],
        errors=data["errors"],
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )
