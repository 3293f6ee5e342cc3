"""The load generator: wrk, one thread, closed loop, with exact percentiles printed by a Lua `done()`.

wrk (Debian's package) is used rather than a Python client because a Python load generator would
need as much CPU as the server it measures, on a 2-core machine where both compete.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.procfs import children_cpu_seconds, machine_busy_seconds, machine_irq_seconds
from bench.servers import ServerProcess

INSTALL_HINT = "wrk is not installed; on Debian/Ubuntu: apt-get update && apt-get install -y wrk"
# A run is flagged as disturbed when other processes used more than half a core during it, or the
# (single-threaded) server got less than 80 % of a core although wrk kept 32 requests in flight.
DISTURBED_OTHERS_CORES = 0.5
DISTURBED_SERVER_SHARE = 0.8

LUA_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("BENCH p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f\\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def write_lua(path: Path, method: str, body: bytes | None, token: str) -> Path:
    """A wrk script: the request, and `done()` printing exact percentiles (µs) and error counts.

    No `response()` hook: defining one makes wrk hand every response to Lua, which costs wrk
    CPU on a 2-core machine where wrk and the server compete; wrk counts status >= 400 itself.
    """
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = [==[{body.decode()}]==]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    path.write_text("\n".join(lines) + "\n" + LUA_DONE, encoding="utf-8")
    return path


@dataclass
class WrkResult:
    """One wrk run; latencies in ms, `server_cpu_s` etc. measured around it."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    socket_errors: int
    timeouts: int
    server_cpu_s: float = 0.0
    wrk_cpu_s: float = 0.0
    others_cores: float = 0.0
    wall_s: float = 0.0  # wall time around wrk, over which the CPU figures were taken
    irq_cores: float = 0.0  # interrupts + softirqs (loopback TCP), charged to no process
    created: int | None = None

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.requests if self.requests else float("nan")

    @property
    def server_cpu_share(self) -> float:
        return self.server_cpu_s / self.wall_s if self.wall_s else float("nan")

    @property
    def disturbed(self) -> bool:
        """Neighbours took a core's share, or the server did not get one: req/s and p99 suffer."""
        return self.others_cores > DISTURBED_OTHERS_CORES or self.server_cpu_share < DISTURBED_SERVER_SHARE


def parse_done(stdout: str) -> dict[str, float]:
    """The `BENCH key=value …` lines the Lua `done()` prints."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            for item in line.split()[1:]:
                key, _, value = item.partition("=")
                values[key] = float(value)
    return values


def run_wrk(
    port: int, path: str, script: Path, duration: int, connections: int, server: ServerProcess | None = None
) -> WrkResult:
    """`wrk -t1 -cC -dDs --latency -s script`; the server's and the neighbours' CPU measured around it."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script)]
    argv.append(f"http://127.0.0.1:{port}{path}")
    cpu0 = server.cpu_seconds() if server else 0.0
    busy0, irq0, wrk0 = machine_busy_seconds(), machine_irq_seconds(), children_cpu_seconds()
    wall0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    wall = time.perf_counter() - wall0
    server_cpu = (server.cpu_seconds() - cpu0) if server else 0.0
    wrk_cpu = children_cpu_seconds() - wrk0
    others = max(0.0, machine_busy_seconds() - busy0 - server_cpu - wrk_cpu) / wall
    irq = (machine_irq_seconds() - irq0) / wall
    values = parse_done(done.stdout)
    if done.returncode != 0 or "requests" not in values or "p99" not in values:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    duration_s = values["duration_us"] / 1e6
    requests = int(values["requests"])
    return WrkResult(
        requests=requests,
        duration_s=duration_s,
        rps=requests / duration_s,
        p50_ms=values["p50"] / 1000,
        p90_ms=values["p90"] / 1000,
        p99_ms=values["p99"] / 1000,
        p999_ms=values["p999"] / 1000,
        max_ms=values["max"] / 1000,
        mean_ms=values["mean"] / 1000,
        non_2xx=int(values["status_errors"]),
        socket_errors=int(values["connect"] + values["read"] + values["write"]),
        timeouts=int(values["timeout"]),
        server_cpu_s=server_cpu,
        wrk_cpu_s=wrk_cpu,
        others_cores=others,
        wall_s=wall,
        irq_cores=irq,
    )
