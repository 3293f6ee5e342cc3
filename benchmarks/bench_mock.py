#!/usr/bin/env python3
"""Benchmark of the invoice mock: start-up time, throughput and latency under wrk, memory per invoice.

It answers four questions the project has targets for, each measured the way a user meets it:

* **time to first 200** — how long after `python -m mockserver` a frontend's first create
  succeeds. Measured from just before the process is spawned (interpreter start and imports
  count) by polling `POST /api/invoices` every few ms; median of several fresh launches.
* **throughput and latency** — wrk, 1 thread, 32 connections, `POST /api/invoices` with the
  minimal valid body (no invoice_number, so every request creates an invoice). On a shared
  2-core machine an absolute req/s is noise-prone, so the same load is run, in the same
  invocation and alternately, against a bare Starlette+uvicorn baseline (baseline_app.py) doing
  the same JSON work; the ratio is what the target is about. Each load runs on a fresh process,
  after a warm-up, so every run starts with an empty store. The server's own CPU time per
  request (from /proc) is reported too: it is far less sensitive to neighbours than req/s.
* **non-2xx** — a fast wrong answer is not a result: wrk's count of responses with status
  >= 400 is reported and, for the mock, cross-checked against the invoices it stored.
* **memory** — peak RSS (VmHWM) and RSS per stored invoice: RSS after a warm-up versus after
  creating a known number of invoices (counted by the mock itself, `_meta.total_items`).

`--profile` instead runs one load with the mock under py-spy (or, where py-spy cannot attach,
under cProfile inside a uvicorn child) and prints where the time goes, plus a start-up breakdown.

What is measured is a copy of mockserver/ and openapi.yaml taken at the start (or, with `--ref`,
a committed version): others edit the tree while benchmarks run, and every run must measure the
same code. Only 127.0.0.1 is contacted; every load is bounded by `--duration`; only processes
this script started are stopped, by their pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

# The targets the lead compares against (the script reports them; it does not tune for them).
TARGET_THROUGHPUT_RATIO = 0.40
TARGET_P99_MS = 15.0
TARGET_RSS_PER_INVOICE_BYTES = 4096
TARGET_FIRST_RESPONSE_S = 0.5

WRK_INSTALL_HINT = "wrk is not installed; on Debian/Ubuntu: apt-get update && apt-get install -y wrk"
LOAD_RUN_MAX_INVOICES = 10_000_000  # load runs must never meet the store's cap (507)
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A run is flagged as disturbed when other processes used more than half a core during it, or the
# (single-threaded) server got less than 80 % of a core although wrk kept 32 requests in flight.
DISTURBED_OTHERS_CORES = 0.5
DISTURBED_SERVER_SHARE = 0.8


class BenchError(RuntimeError):
    """A measurement could not be taken; the message says which and why."""


def log(message: str) -> None:
    """Progress goes to stderr so that `--json` output on stdout stays machine-readable."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The request under test


@dataclass(frozen=True)
class Sample:
    """A valid create request taken from the mock's default fixtures (as the banner's `curl`)."""

    token: str
    body: dict[str, str]

    @classmethod
    def from_fixtures(cls) -> Sample:
        from mockserver.fixtures import load_world

        world = load_world()
        user = next(iter(world.users.values()))
        owner = sorted(user.organizations)[0]
        party = next(p for p in world.parties.values() if owner in p.billable_by)
        document = next(d for d in world.documents.values() if d.organization_uid == owner)
        body = {"owner_uid": owner, "target_party_uid": party.uid, "document_uid": document.uid}
        return cls(token=user.token, body=body)

    @property
    def body_bytes(self) -> bytes:
        return json.dumps(self.body).encode()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def raw_post(self, port: int) -> bytes:
        """The whole keep-alive HTTP/1.1 request, for the asyncio creator."""
        head = "".join(
            [
                "POST /api/invoices HTTP/1.1\r\n",
                f"Host: 127.0.0.1:{port}\r\n",
                *(f"{name}: {value}\r\n" for name, value in self.headers.items()),
                f"Content-Length: {len(self.body_bytes)}\r\n\r\n",
            ]
        )
        return head.encode() + self.body_bytes


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, bytes]:
    """One request on a fresh connection (http.client: no extra dependency, exact status)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def count_invoices(port: int, sample: Sample) -> int:
    """The mock's own count (receivable is both the list's default filter and the create default)."""
    status, body = http_call(port, "GET", "/api/invoices?per_page=1", None, sample.headers)
    if status != 200:
        raise BenchError(f"GET /api/invoices answered {status}: {body[:200]!r}")
    return int(json.loads(body)["data"]["_meta"]["total_items"])


# --------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_kib(pid: int, key: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS: resident now, VmHWM: peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process: its own CPU, whatever the neighbours do."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU-seconds all cores spent busy in processes since boot (/proc/stat), to measure the neighbours.

    Interrupt and softirq time is left out: on loopback it is mostly this benchmark's own TCP
    processing (charged to no process), which would otherwise pass for neighbours. Steal (the
    hypervisor's) counts: it is CPU the server did not get.
    """
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = values[:8]
    return (user + nice + system + steal) / CLK_TCK


def machine_irq_seconds() -> float:
    """CPU-seconds spent in interrupts and softirqs since boot (loopback TCP processing)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (values[5] + values[6]) / CLK_TCK


def children_cpu_seconds() -> float:
    """CPU of reaped children (wrk), from getrusage."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ServerProcess:
    """One server started by this script: spawn, time its first 200, read /proc, stop it by pid."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path, cwd: Path) -> None:
        self.name, self.argv, self.port, self.log_path, self.cwd = name, argv, port, log_path, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.launched = 0.0
        self._log: TextIO | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.name} is not running")
        return self.proc.pid

    def start(self) -> ServerProcess:
        self._log = self.log_path.open("a", encoding="utf-8")
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_first_200(
        self, sample: Sample, timeout: float = 30.0, poll_s: float = 0.005
    ) -> tuple[float, bytes]:
        """Seconds from spawn to the first 200 to a valid create, and that response's body."""
        assert self.proc is not None
        deadline = self.launched + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = http_call(
                    self.port, "POST", "/api/invoices", sample.body_bytes, sample.headers
                )
            except (OSError, http.client.HTTPException):
                status, body = 0, b""  # not listening yet
            if status == 200:
                return time.perf_counter() - self.launched, body
            if status:
                raise BenchError(f"{self.name} answered {status} to a valid create: {body[:300]!r}")
            if time.perf_counter() > deadline:
                raise BenchError(f"{self.name}: no 200 within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(poll_s)

    def rss_kib(self) -> int:
        return proc_status_kib(self.pid, "VmRSS")

    def hwm_kib(self) -> int:
        return proc_status_kib(self.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def implementation(self) -> str:
        """The event loop and HTTP parser uvicorn really loaded (the fairness of the comparison)."""
        maps = Path(f"/proc/{self.pid}/maps").read_text()
        loop = "uvloop" if "/uvloop/" in maps else "asyncio"
        parser = "httptools" if "/httptools/" in maps else "h11"
        return f"loop={loop} http={parser}"

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(
                self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            )
        return ""

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful stop), then SIGKILL; only this process, by its pid."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Creating a known number of invoices (for RSS per invoice)


async def _read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise BenchError("a response without Content-Length")
    await reader.readexactly(length)
    return status


async def _create(port: int, request: bytes, count: int, concurrency: int) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                writer.write(request)
                status = await _read_status(reader)
                if status != 200:
                    raise BenchError(f"create answered {status} while filling the store")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def create_invoices(port: int, sample: Sample, count: int, concurrency: int = 8) -> None:
    """Exactly `count` creates over keep-alive connections (wrk runs by time, not by count)."""
    asyncio.run(_create(port, sample.raw_post(port), count, concurrency))


# --------------------------------------------------------------------------------------------
# wrk

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


def write_lua(directory: Path, name: str, sample: Sample, method: str) -> Path:
    """A wrk script: the request, and `done()` printing exact percentiles (µs) and error counts.

    No `response()` hook: defining one makes wrk hand every response to Lua, which costs wrk
    CPU on a 2-core machine where wrk and the server compete; wrk counts status >= 400 itself.
    """
    lines = [f'wrk.method = "{method}"']
    if method == "POST":
        lines.append(f"wrk.body = [==[{sample.body_bytes.decode()}]==]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines.append(f'wrk.headers["Authorization"] = "Bearer {sample.token}"')
    path = directory / name
    path.write_text("\n".join(lines) + "\n" + LUA_DONE, encoding="utf-8")
    return path


@dataclass
class WrkResult:
    """One wrk run; latencies in ms, `server_cpu_s` etc. filled in by the caller."""

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
    values: dict[str, float] = {}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            for item in line.split()[1:]:
                key, _, value = item.partition("=")
                values[key] = float(value)
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


# --------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class LoadRun:
    run: int
    server: str
    implementation: str
    post: WrkResult
    get: WrkResult | None = None
    peak_rss_kib: int = 0


@dataclass
class Launches:
    seconds: list[float]  # wall time, spawn to first 200
    cpu_seconds: list[float] = field(default_factory=list)  # the server's own CPU until then
    others_cores: list[float] = field(default_factory=list)  # the neighbours' CPU meanwhile

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class RssResult:
    invoices: int
    rss_start_kib: int
    rss_warm_kib: int
    rss_end_kib: int
    count_warm: int
    count_end: int
    peak_rss_kib: int

    @property
    def bytes_per_invoice(self) -> float:
        return (self.rss_end_kib - self.rss_warm_kib) * 1024 / max(1, self.count_end - self.count_warm)


@dataclass
class Bench:
    """Everything one invocation needs: options, the sample request, a scratch directory."""

    args: argparse.Namespace
    sample: Sample
    workdir: Path
    source: Path
    template: Path | None = None
    lua: dict[str, Path] = field(default_factory=dict)

    def mock(self, *extra: str) -> ServerProcess:
        port = free_port()
        argv = [self.args.python, "-m", "mockserver", "--port", str(port), *extra]
        if self.args.validate_responses:
            argv.append("--validate-responses")
        return ServerProcess("mock", argv, port, self.workdir / "mock.log", self.source)

    def baseline(self) -> ServerProcess:
        if self.template is None:
            raise BenchError("the baseline needs a response captured from the mock first")
        port = free_port()
        argv = [self.args.python, str(BENCH_DIR / "baseline_app.py"), "--port", str(port)]
        argv += ["--template", str(self.template)]
        return ServerProcess("baseline", argv, port, self.workdir / "baseline.log", self.source)

    def server(self, kind: str) -> ServerProcess:
        return self.mock("--max-invoices", str(LOAD_RUN_MAX_INVOICES)) if kind == "mock" else self.baseline()


def prime(bench: Bench) -> None:
    """One untimed import of everything the servers import, so that .pyc files exist.

    Otherwise the first timed launch after an edit (or of a `--ref` export) also compiles the
    sources; a pip-installed mock has its .pyc compiled at install time.
    """
    imports = "import uvicorn, starlette.applications, mockserver.__main__, mockserver.app"
    subprocess.run([bench.args.python, "-c", imports], cwd=bench.source, capture_output=True, check=False)


def measure_launches(bench: Bench, kind: str, count: int) -> Launches:
    """Fresh launches, each timed from spawn to its first 200; the mock's first answer is kept."""
    launches = Launches([])
    for index in range(count):
        busy0, own0 = machine_busy_seconds(), sum(os.times()[:2])
        with (bench.mock() if kind == "mock" else bench.baseline()).start() as server:
            elapsed, body = server.wait_first_200(bench.sample, poll_s=bench.args.poll_ms / 1000)
            cpu = server.cpu_seconds()
            polling = sum(os.times()[:2]) - own0
            others = max(0.0, machine_busy_seconds() - busy0 - cpu - polling) / elapsed
        launches.seconds.append(elapsed)
        launches.cpu_seconds.append(cpu)
        launches.others_cores.append(others)
        log(
            f"{kind} launch {index + 1}/{count}: first 200 after {elapsed:.3f}s "
            f"(server CPU {cpu:.2f}s, others {others:.2f} cores)"
        )
        if kind == "mock" and bench.template is None:
            bench.template = bench.workdir / "mock-response.json"
            bench.template.write_bytes(body)
    return launches


def load_run(bench: Bench, kind: str, run: int) -> LoadRun:
    """A fresh server, a warm-up, then the measured POST run (and the optional GET run)."""
    args = bench.args
    with bench.server(kind).start() as server:
        _, body = server.wait_first_200(bench.sample)
        run_wrk(server.port, "/api/invoices", bench.lua["post"], args.warmup, args.connections)
        time.sleep(0.3)  # let the warm-up's in-flight requests finish before counting
        before = count_invoices(server.port, bench.sample) if kind == "mock" else 0
        post = run_wrk(
            server.port, "/api/invoices", bench.lua["post"], args.duration, args.connections, server
        )
        if kind == "mock":
            time.sleep(0.3)
            post.created = count_invoices(server.port, bench.sample) - before
        get = None
        if kind == "mock" and args.get_load:
            uid = json.loads(body)["data"]["uid"]
            get = run_wrk(
                server.port, f"/api/invoices/{uid}", bench.lua["get"], args.duration, args.connections, server
            )
        result = LoadRun(run, kind, server.implementation(), post, get, server.hwm_kib())
    log(
        f"run {run} {kind:8}: {post.rps:8.0f} req/s  p50 {post.p50_ms:6.2f} ms  p99 {post.p99_ms:6.2f} ms  "
        f"non-2xx {post.non_2xx}  CPU/req {post.cpu_ms_per_request:.3f} ms  "
        f"others {post.others_cores:.2f} cores"
    )
    return result


def rss_phase(bench: Bench) -> RssResult:
    """RSS after a 1,000-invoice warm-up versus after `--invoices` more, on a fresh mock."""
    target, warm = bench.args.invoices, 1000
    extra = ["--max-invoices", str(target + warm + 100)] if target + warm + 100 > 100_000 else []
    with bench.mock(*extra).start() as server:
        server.wait_first_200(bench.sample)
        rss_start = server.rss_kib()
        create_invoices(server.port, bench.sample, warm)
        count_warm, rss_warm = count_invoices(server.port, bench.sample), server.rss_kib()
        started = time.perf_counter()
        create_invoices(server.port, bench.sample, target)
        count_end, rss_end = count_invoices(server.port, bench.sample), server.rss_kib()
        log(f"stored {count_end - count_warm:,} invoices in {time.perf_counter() - started:.1f}s")
        return RssResult(target, rss_start, rss_warm, rss_end, count_warm, count_end, server.hwm_kib())


def median_of(results: list[WrkResult], key: str) -> float:
    return float(statistics.median(float(getattr(r, key)) for r in results))


def summarise(runs: list[LoadRun], kind: str) -> dict[str, Any]:
    posts = [r.post for r in runs if r.server == kind]
    summary: dict[str, Any] = {
        key: median_of(posts, key) for key in ("rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")
    }
    summary["cpu_ms_per_request"] = statistics.median(p.cpu_ms_per_request for p in posts)
    summary["server_cpu_share"] = statistics.median(p.server_cpu_share for p in posts)
    summary["non_2xx"] = sum(p.non_2xx for p in posts)
    summary["socket_errors"] = sum(p.socket_errors + p.timeouts for p in posts)
    summary["requests"] = sum(p.requests for p in posts)
    summary["peak_rss_kib"] = max(r.peak_rss_kib for r in runs if r.server == kind)
    summary["implementation"] = sorted({r.implementation for r in runs if r.server == kind})
    gets = [r.get for r in runs if r.server == kind and r.get is not None]
    if gets:
        summary["get"] = {key: median_of(gets, key) for key in ("rps", "p50_ms", "p99_ms")}
        summary["get"]["non_2xx"] = sum(g.non_2xx for g in gets)
    return summary


def git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return done.stdout.rstrip()


def export_ref(ref: str, directory: Path) -> Path:
    """The mock and its contract as committed at `ref`, in a scratch directory (`git archive`).

    Others edit mockserver/ while benchmarks run; a committed version is a fixed, coherent target
    (and two refs can be compared). Read-only for the repository: no checkout, no worktree.
    """
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "--", "mockserver", "openapi.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise BenchError(f"git archive {ref}: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def snapshot_tree(directory: Path) -> Path:
    """A copy of the working tree's mock and contract, taken once at the start.

    Every load runs on a fresh process; without a snapshot, an edit someone saves mid-benchmark
    would make the runs measure different code (or a half-written file).
    """
    shutil.copytree(
        REPO_ROOT / "mockserver", directory / "mockserver", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(REPO_ROOT / "openapi.yaml", directory / "openapi.yaml")
    return directory


def source_state(root: Path, ref: str | None) -> dict[str, Any]:
    """Which mock was measured: the commit, uncommitted changes, a hash of the served sources.

    Others edit mockserver/ while benchmarks run; a figure without this is not attributable.
    """
    digest = hashlib.sha256()
    sources = sorted((root / "mockserver").rglob("*.py")) + sorted((root / "mockserver").rglob("*.yaml"))
    for path in [*sources, root / "openapi.yaml"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    if ref is not None:
        commit = git("rev-parse", "--short", ref)
        return {"commit": commit, "ref": ref, "dirty": [], "sources_sha256": digest.hexdigest()[:12]}
    dirty = git("status", "--porcelain", "--", "mockserver", "openapi.yaml").splitlines()
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": dirty,
        "sources_sha256": digest.hexdigest()[:12],
    }


def environment() -> dict[str, Any]:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "loadavg_start": [round(v, 2) for v in os.getloadavg()],
        "python": sys.version.split()[0],
        "wrk": " ".join((wrk.stdout + wrk.stderr).split()[:2]) or "?",
    }


def run_benchmark(bench: Bench) -> dict[str, Any]:
    args = bench.args
    report: dict[str, Any] = {
        "config": {
            "runs": args.runs,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "threads": 1,
            "launches": args.launches,
            "invoices": args.invoices,
            "validate_responses": args.validate_responses,
            "request": {"method": "POST", "path": "/api/invoices", "body": bench.sample.body},
        },
        "environment": environment(),
        "source": source_state(bench.source, bench.args.ref),
    }
    log(f"mock sources {report['source']}")
    prime(bench)
    mock_launches = measure_launches(bench, "mock", args.launches)
    baseline_launches = measure_launches(bench, "baseline", args.launches)
    bench.lua["post"] = write_lua(bench.workdir, "post.lua", bench.sample, "POST")
    bench.lua["get"] = write_lua(bench.workdir, "get.lua", bench.sample, "GET")

    runs: list[LoadRun] = []
    for run in range(1, args.runs + 1):
        order = ("mock", "baseline") if run % 2 else ("baseline", "mock")  # alternate who goes first
        for kind in order:
            runs.append(load_run(bench, kind, run))
    rss = rss_phase(bench) if args.invoices > 0 else None

    mock, baseline = summarise(runs, "mock"), summarise(runs, "baseline")
    paired = [
        m.post.rps / b.post.rps
        for m, b in zip(
            [r for r in runs if r.server == "mock"], [r for r in runs if r.server == "baseline"], strict=True
        )
    ]
    ratio = mock["rps"] / baseline["rps"]
    stored_matches = all(
        0 <= r.post.created - (r.post.requests - r.post.non_2xx) <= args.connections
        for r in runs
        if r.post.created is not None
    )
    peak = max(mock["peak_rss_kib"], rss.peak_rss_kib if rss else 0)
    report["environment"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["results"] = {
        "mock": mock,
        "baseline": baseline,
        "throughput_ratio": ratio,
        "throughput_ratio_per_run": paired,
        "stored_matches": stored_matches,
        "cpu_per_request_ratio": mock["cpu_ms_per_request"] / baseline["cpu_ms_per_request"],
        "disturbed_runs": sum(r.post.disturbed for r in runs),
        "first_200_s": {
            "mock": summary_of(mock_launches.seconds)
            | {"cpu_s": mock_launches.cpu_seconds, "others_cores": mock_launches.others_cores},
            "baseline": summary_of(baseline_launches.seconds)
            | {"cpu_s": baseline_launches.cpu_seconds, "others_cores": baseline_launches.others_cores},
        },
        "peak_rss_kib": peak,
        "rss": (asdict(rss) | {"bytes_per_invoice": rss.bytes_per_invoice}) if rss else None,
        "runs": [run_dict(r) for r in runs],
    }
    report["targets"] = {
        "throughput_ratio >= 0.40": ratio >= TARGET_THROUGHPUT_RATIO,
        "p99_ms <= 15": mock["p99_ms"] <= TARGET_P99_MS,
        "rss_per_invoice <= 4 KiB": None
        if rss is None
        else rss.bytes_per_invoice <= TARGET_RSS_PER_INVOICE_BYTES,
        "first_200_median_s <= 0.5": mock_launches.median <= TARGET_FIRST_RESPONSE_S,
        "non_2xx == 0": mock["non_2xx"] == 0 and baseline["non_2xx"] == 0 and stored_matches,
    }
    return report


def summary_of(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "all": values}


def run_dict(run: LoadRun) -> dict[str, Any]:
    result = asdict(run)
    for key, wrk in (("post", run.post), ("get", run.get)):
        if wrk is not None:
            result[key] |= {
                "cpu_ms_per_request": wrk.cpu_ms_per_request,
                "server_cpu_share": wrk.server_cpu_share,
                "disturbed": wrk.disturbed,
            }
    return result


# --------------------------------------------------------------------------------------------
# The human-readable report


def describe_source(src: dict[str, Any]) -> str:
    """`commit abc1234, uncommitted: a.py b.py; sources sha256 …` for report headers."""
    dirty = f", uncommitted: {' '.join(line.split()[-1] for line in src['dirty'])}" if src["dirty"] else ""
    ref = f" ({src['ref']})" if src.get("ref") else ""
    return f"commit {src['commit']}{ref}{dirty}; sources sha256 {src['sources_sha256']}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(report: dict[str, Any]) -> None:
    cfg, env, src, res = report["config"], report["environment"], report["source"], report["results"]
    mock, base = res["mock"], res["baseline"]
    print(
        f"\ninvoice mock benchmark: POST /api/invoices, "
        f"wrk -t1 -c{cfg['connections']} -d{cfg['duration_s']:g}s "
        f"after a {cfg['warmup_s']:g}s warm-up, {cfg['runs']} alternating runs, medians"
    )
    print(f"mock: {describe_source(src)}")
    print(
        f"validate responses: {cfg['validate_responses']}; "
        f"servers: mock {', '.join(mock['implementation'])}; ",
        end="",
    )
    print(f"baseline {', '.join(base['implementation'])}")
    print(
        f"machine: {env['cpus']} cpus, load average {env['loadavg_start']} -> {env['loadavg_end']}; "
        f"{env['wrk']}\n"
    )

    rows = [
        ("", "mock", "baseline", "mock/base", "target"),
        (
            "throughput (req/s)",
            f"{mock['rps']:,.0f}",
            f"{base['rps']:,.0f}",
            f"{res['throughput_ratio']:.1%}",
            f">= 40 %  {verdict(report['targets']['throughput_ratio >= 0.40'])}",
        ),
        ("latency p50 (ms)", f"{mock['p50_ms']:.2f}", f"{base['p50_ms']:.2f}", "", ""),
        ("latency p90 (ms)", f"{mock['p90_ms']:.2f}", f"{base['p90_ms']:.2f}", "", ""),
        (
            "latency p99 (ms)",
            f"{mock['p99_ms']:.2f}",
            f"{base['p99_ms']:.2f}",
            "",
            f"<= 15 ms {verdict(report['targets']['p99_ms <= 15'])}",
        ),
        ("latency max (ms)", f"{mock['max_ms']:.1f}", f"{base['max_ms']:.1f}", "", ""),
        (
            "non-2xx (all runs)",
            str(mock["non_2xx"]),
            str(base["non_2xx"]),
            "",
            f"0        {verdict(report['targets']['non_2xx == 0'])}",
        ),
        ("socket errors+timeouts", str(mock["socket_errors"]), str(base["socket_errors"]), "", ""),
        (
            "server CPU per request (ms)",
            f"{mock['cpu_ms_per_request']:.3f}",
            f"{base['cpu_ms_per_request']:.3f}",
            f"x{res['cpu_per_request_ratio']:.1f}",
            f"(capacity {1 / res['cpu_per_request_ratio']:.1%})",
        ),
        (
            "server CPU use (cores)",
            f"{mock['server_cpu_share']:.2f}",
            f"{base['server_cpu_share']:.2f}",
            "",
            "",
        ),
        (
            "peak RSS, load run (MiB)",
            f"{mock['peak_rss_kib'] / 1024:.1f}",
            f"{base['peak_rss_kib'] / 1024:.1f}",
            "",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
            )
        )
    if "get" in mock:
        get = mock["get"]
        print(
            f"GET /api/invoices/{{uid}} (mock): {get['rps']:,.0f} req/s, p50 {get['p50_ms']:.2f} ms, "
            f"p99 {get['p99_ms']:.2f} ms, non-2xx {get['non_2xx']}"
        )

    print(
        "\nper run (fresh process each; in cores: 'server', 'wrk', 'irq' = interrupts/softirqs, mostly "
        "loopback TCP, 'others' = processes other than the server and wrk):"
    )
    print(
        "  run server       req/s  p50 ms  p99 ms non-2xx  requests   stored  CPU/req ms  server  wrk  "
        "irq  others"
    )
    for run in res["runs"]:
        post = run["post"]
        created = "" if post["created"] is None else f"{post['created']:,}"
        print(
            f"  {run['run']:>3} {run['server']:<8} {'!' if post['disturbed'] else ' '}{post['rps']:>9,.0f} "
            f"{post['p50_ms']:>7.2f} "
            f"{post['p99_ms']:>7.2f} {post['non_2xx']:>7} {post['requests']:>9,} {created:>8} "
            f"{post['cpu_ms_per_request']:>11.3f} "
            f"{post['server_cpu_share']:>7.2f} {post['wrk_cpu_s'] / post['wall_s']:>4.2f} "
            f"{post['irq_cores']:>4.2f} "
            f"{post['others_cores']:>7.2f}"
        )
    ratios = ", ".join(f"{r:.1%}" for r in res["throughput_ratio_per_run"])
    print(f"  throughput ratio per run: {ratios}")
    if res["disturbed_runs"]:
        print(
            f"  ! {res['disturbed_runs']} disturbed run(s): others > {DISTURBED_OTHERS_CORES} cores "
            f"or server < {DISTURBED_SERVER_SHARE:.0%} of a core; their req/s and p99 say more about "
            "the neighbours"
        )
    print(
        "  ('stored' = invoices the mock counted over the run; it may exceed 'requests' by the <= "
        f"{cfg['connections']} requests in flight when wrk stopped: {verdict(res['stored_matches'])})"
    )

    first = res["first_200_s"]
    m, b = first["mock"], first["baseline"]
    print(
        f"\ntime to first 200 after launch (s, n={len(m['all'])}): mock median {m['median']:.3f} "
        f"(min {m['min']:.3f}, max {m['max']:.3f})  target <= 0.5 "
        f"{verdict(report['targets']['first_200_median_s <= 0.5'])}; "
        f"baseline median {b['median']:.3f} (min {b['min']:.3f}, max {b['max']:.3f})"
    )
    print(f"  mock launches (s): {', '.join(f'{s:.3f}' for s in m['all'])}")
    print(
        f"  mock CPU to first 200 (s, robust to neighbours): median {statistics.median(m['cpu_s']):.2f}; "
        f"others during launches (cores): {', '.join(f'{c:.2f}' for c in m['others_cores'])}"
    )
    rss = res["rss"]
    if rss:
        print(
            f"RSS per stored invoice: {rss['bytes_per_invoice']:,.0f} B "
            f"({rss['count_end'] - rss['count_warm']:,} invoices: {rss['rss_warm_kib'] / 1024:.1f} -> "
            f"{rss['rss_end_kib'] / 1024:.1f} MiB after {rss['count_warm']:,} (warm-up); "
            f"{rss['rss_start_kib'] / 1024:.1f} MiB at first 200)  target <= 4 KiB "
            f"{verdict(report['targets']['rss_per_invoice <= 4 KiB'])}"
        )
    print(
        f"peak RSS (VmHWM) of the mock: {res['peak_rss_kib'] / 1024:.1f} MiB "
        f"(load runs {mock['peak_rss_kib'] / 1024:.1f}, "
        f"store filled {rss['peak_rss_kib'] / 1024 if rss else 0:.1f})"
    )


# --------------------------------------------------------------------------------------------
# --profile


@dataclass
class ProfileRow:
    function: str
    own: float  # share of profiled time spent in the function itself
    cumulative: float  # share of profiled time with the function on the stack


@dataclass
class Profile:
    tool: str
    samples: float
    rows: list[ProfileRow]
    by_module: list[tuple[str, float]]
    omitted: int = 0
    # The request's path through the layers: (frame, cumulative share, [(side branch, share)]).
    hot_path: list[tuple[str, float, list[tuple[str, float]]]] = field(default_factory=list)


# Frames on at least this share of the stacks (runpy, uvicorn.run, the asyncio runner) say nothing.
ENVELOPE_SHARE = 0.99


def short_path(location: str) -> str:
    """A file path relative to site-packages, the standard library or the measured tree."""
    path = location
    if "site-packages/" in path:
        path = path.split("site-packages/")[-1]
    elif "/mockserver/" in path:
        path = "mockserver/" + path.split("/mockserver/")[-1]
    elif "/python3." in path:  # the standard library
        path = path.split("/python3.", 1)[1].partition("/")[2]
    return path


def module_of(location: str) -> str:
    """A coarse layer name from a file path: `connexion.middleware.security`, `starlette.routing`…"""
    if location == "~":
        return "builtins"  # cProfile's C functions
    path = short_path(location)
    path = re.sub(r"\.py$", "", path).replace("<frozen ", "").rstrip(">")
    parts = [p for p in path.split("/") if p]
    if not parts:
        return location
    keep = 3 if parts[0] == "connexion" else 2
    if parts[0] in ("json", "asyncio", "uuid", "http", "email", "re", "enum", "typing", "abc", "functools"):
        keep = 1
    return ".".join(parts[:keep])


def parse_pyspy_raw(text: str, top: int) -> Profile:
    """Collapsed stacks (`f1;f2;…;fN count`, frames `func (file)`) to own / cumulative shares."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    stacks: list[tuple[str, int]] = []
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        stacks.append((stack, count))
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count
        leaf_file = frames[-1].rpartition("(")[2].rstrip(")")
        modules[module_of(leaf_file)] += count
    if not total:
        raise BenchError("py-spy recorded no samples")
    # Frames on (nearly) every stack are the interpreter's and uvicorn's entry points: no information.
    envelope = {frame for frame, count in cumulative.items() if count >= ENVELOPE_SHARE * total}
    ranked = sorted((f for f in cumulative if f not in envelope), key=lambda f: (-cumulative[f], -own[f]))
    by_own = sorted(own, key=lambda f: -own[f])
    chosen = list(dict.fromkeys(by_own[:top] + ranked[:top]))
    rows = [ProfileRow(f, own[f] / total, cumulative[f] / total) for f in chosen]
    by_module = [(name, count / total) for name, count in modules.most_common()]
    hot_path = heaviest_path([(s.split(";"), n) for s, n in stacks], total, envelope)
    return Profile("py-spy", total, rows, by_module, omitted=len(envelope), hot_path=hot_path)


def heaviest_path(
    stacks: list[tuple[list[str], int]], total: int, skip: set[str]
) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """From the root, follow the heaviest child down: the middleware onion of a request, layer by
    layer. The drop from one layer to the next is what that layer costs itself; side branches
    over 1 % (a validator, the handler, the JSON encoder) are listed where they leave the path.
    """
    path: list[tuple[str, float, list[tuple[str, float]]]] = []
    prefix: list[str] = []
    while True:
        children: Counter[str] = Counter()
        depth = len(prefix)
        for frames, count in stacks:
            if len(frames) > depth and frames[:depth] == prefix:
                children[frames[depth]] += count
        if not children:
            return path
        (child, count), *others = children.most_common()
        if count < 0.01 * total:
            return path
        prefix.append(child)
        branches = [(name, n / total) for name, n in others if n >= 0.01 * total]
        if child not in skip:
            path.append((child, count / total, branches))


def parse_cprofile(stats_path: Path, top: int) -> Profile:
    """pstats to the same shape; cumulative of coroutines counts only their on-CPU slices."""
    import pstats

    stats = pstats.Stats(str(stats_path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values()) or 1.0
    rows = []
    modules: Counter[str] = Counter()
    for (filename, line, name), (_cc, _nc, tt, ct, _callers) in entries.items():
        label = f"{name} ({short_path(filename)}:{line})" if filename != "~" else name
        rows.append(ProfileRow(label, tt / total, min(ct / total, 1.0)))
        modules[module_of(filename)] += tt
    by_own = sorted(rows, key=lambda r: -r.own)[:top]
    envelope = [r for r in rows if r.cumulative >= ENVELOPE_SHARE]
    by_cum = sorted((r for r in rows if r.cumulative < ENVELOPE_SHARE), key=lambda r: -r.cumulative)[:top]
    chosen = list({id(r): r for r in by_own + by_cum}.values())
    by_module = [(name, seconds / total) for name, seconds in modules.most_common()]
    return Profile("cProfile", total, chosen, by_module, omitted=len(envelope))


def pyspy_path() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile_with_pyspy(bench: Bench, pyspy: str, server: ServerProcess, load: Any) -> Profile:
    """Attach py-spy to the running mock for exactly the load window (no restart, no root tricks)."""
    raw = bench.workdir / "pyspy.txt"
    argv = [pyspy, "record", "--pid", str(server.pid), "--rate", str(bench.args.profile_rate)]
    argv += ["--format", "raw", "--nolineno", "-o", str(raw)]
    with (bench.workdir / "pyspy.log").open("w") as out:
        spy = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        if spy.poll() is not None:
            raise BenchError(f"py-spy could not attach: {(bench.workdir / 'pyspy.log').read_text()}")
        try:
            load()
        finally:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            spy.wait(timeout=30)
    if not raw.exists():
        raise BenchError(f"py-spy wrote nothing: {(bench.workdir / 'pyspy.log').read_text()}")
    return parse_pyspy_raw(raw.read_text(), bench.args.top)


def serve_cprofile(stats_path: Path, port: int, validate_responses: bool, source: Path) -> int:
    """Child mode: the mock under uvicorn as `python -m mockserver` runs it, with cProfile toggled by SIGUSR1.

    The first SIGUSR1 starts profiling (after the warm-up), the second stops it and writes the
    stats, so imports, start-up and warm-up stay out of the figures.
    """
    import cProfile

    import uvicorn

    sys.path.insert(0, str(source))
    from mockserver.app import create_app

    app = create_app(validate_responses=validate_responses, max_invoices=LOAD_RUN_MAX_INVOICES)
    profiler = cProfile.Profile()
    active = False

    def toggle(_signum: int, _frame: object) -> None:
        nonlocal active
        if not active:
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(str(stats_path))
        active = not active

    signal.signal(signal.SIGUSR1, toggle)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


def startup_breakdown(python: str, source: Path) -> dict[str, Any]:
    """Where the first-200 time goes: interpreter, imports (top packages), create_app."""
    script = (
        "import json, time; t0 = time.perf_counter(); import uvicorn, mockserver.app; "
        "t1 = time.perf_counter(); mockserver.app.create_app(); t2 = time.perf_counter(); "
        "print(json.dumps({'imports_s': t1 - t0, 'create_app_s': t2 - t1}))"
    )
    bare = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    timings = [
        json.loads(
            subprocess.run(
                [python, "-c", script], cwd=source, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    traced = subprocess.run(
        [python, "-X", "importtime", "-c", "import uvicorn, mockserver.app"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    imports: list[tuple[int, str, float]] = []  # (nesting depth, module, cumulative seconds)
    for line in traced.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if match:
            imports.append((len(match.group(3)) // 2, match.group(4), int(match.group(2)) / 1e6))
    return {
        "interpreter_s": statistics.median(bare),
        "imports_s": statistics.median(t["imports_s"] for t in timings),
        "create_app_s": statistics.median(t["create_app_s"] for t in timings),
        "top_imports_s": sorted(imports, key=lambda item: -item[2])[:12],
    }


def run_profile(bench: Bench) -> dict[str, Any]:
    args = bench.args
    prime(bench)
    bench.lua["post"] = write_lua(bench.workdir, "post.lua", bench.sample, "POST")
    pyspy = pyspy_path() if args.profiler in ("auto", "py-spy") else None
    if args.profiler == "py-spy" and pyspy is None:
        raise BenchError("py-spy not found: /tmp/venv/bin/pip install py-spy (or use --profiler cprofile)")
    profile: Profile | None = None
    result: WrkResult | None = None
    if args.profile_target == "baseline":
        measure_launches(bench, "mock", 1)  # the baseline answers with a response captured from the mock
    if pyspy:
        with bench.server(args.profile_target).start() as server:
            server.wait_first_200(bench.sample)
            run_wrk(server.port, "/api/invoices", bench.lua["post"], args.warmup, args.connections)
            results: list[WrkResult] = []

            def load() -> None:
                results.append(
                    run_wrk(
                        server.port,
                        "/api/invoices",
                        bench.lua["post"],
                        args.duration,
                        args.connections,
                        server,
                    )
                )

            try:
                profile = profile_with_pyspy(bench, pyspy, server, load)
                result = results[0]
            except BenchError as error:
                if args.profiler == "py-spy":
                    raise
                log(f"{error}; falling back to cProfile")
    if profile is None:
        if args.profile_target != "mock":
            raise BenchError("the cProfile fallback profiles the mock only")
        stats = bench.workdir / "mock.prof"
        port = free_port()
        argv = [
            args.python,
            str(Path(__file__).resolve()),
            "--serve-cprofile",
            str(stats),
            "--port",
            str(port),
            "--source-dir",
            str(bench.source),
        ]
        if args.validate_responses:
            argv.append("--validate-responses")
        log_path = bench.workdir / "cprofile.log"
        with ServerProcess("mock (cProfile)", argv, port, log_path, bench.source).start() as server:
            server.wait_first_200(bench.sample)
            run_wrk(server.port, "/api/invoices", bench.lua["post"], args.warmup, args.connections)
            os.kill(server.pid, signal.SIGUSR1)
            result = run_wrk(
                server.port, "/api/invoices", bench.lua["post"], args.duration, args.connections, server
            )
            os.kill(server.pid, signal.SIGUSR1)
            for _ in range(100):
                if stats.exists():
                    break
                time.sleep(0.1)
        profile = parse_cprofile(stats, args.top)
    assert result is not None
    return {
        "target": args.profile_target,
        "source": source_state(bench.source, bench.args.ref),
        "load": asdict(result) | {"cpu_ms_per_request": result.cpu_ms_per_request},
        "profile": asdict(profile),
        "startup": startup_breakdown(args.python, bench.source),
    }


def print_profile(report: dict[str, Any], top: int) -> None:
    load, profile, startup = report["load"], report["profile"], report["startup"]
    src = report["source"]
    amount = (
        f"{profile['samples']:,.0f} samples"
        if profile["tool"] == "py-spy"
        else f"{profile['samples']:.2f} CPU seconds"
    )
    print(f"\nprofile of the {report['target']} ({profile['tool']}, {amount}) under wrk -t1 -c32:")
    print(f"mock: {describe_source(src)}")
    print(
        f"load while profiled: {load['rps']:,.0f} req/s, p50 {load['p50_ms']:.2f} ms, "
        f"p99 {load['p99_ms']:.2f} ms, "
        f"non-2xx {load['non_2xx']}, server CPU {load['cpu_ms_per_request']:.3f} ms/request"
    )
    rows = [ProfileRow(**r) for r in profile["rows"]]
    for title, key in (("own time", "own"), ("cumulative time", "cumulative")):
        print(f"\ntop {top} by {title} (share of profiled time; own / cumulative):")
        for row in sorted(rows, key=lambda r: -getattr(r, key))[:top]:
            print(f"  {row.own:6.1%} {row.cumulative:6.1%}  {row.function}")
    if profile["omitted"]:
        print(
            f"  ({profile['omitted']} entry frames present in every sample omitted from the cumulative list)"
        )
    print("\nown time by module (where the CPU is actually spent):")
    for name, share in profile["by_module"][:top]:
        print(f"  {share:6.1%}  {name}")
    if profile["hot_path"]:
        per_request_us = 1000 * load["cpu_ms_per_request"]
        print(
            "\nthe request's path, outermost layer first (cumulative share, ~us of the "
            f"{per_request_us:.0f} us of server CPU per request; '+' = side branch leaving the path here):"
        )
        for frame, share, branches in profile["hot_path"]:
            print(f"  {share:6.1%} {share * per_request_us:5.0f}  {frame}")
            for name, branch in branches:
                print(f"  {'':6} {branch * per_request_us:5.0f}    + {branch:.1%} {name}")
    print(
        f"\nstart-up (medians of 3): interpreter {startup['interpreter_s']:.3f}s, imports of uvicorn + "
        f"mockserver.app {startup['imports_s']:.3f}s, create_app() {startup['create_app_s']:.3f}s"
    )
    print("  slowest imports (cumulative ms, one -X importtime run, indented by nesting depth):")
    for depth, name, seconds in startup["top_imports_s"]:
        print(f"  {seconds * 1000:7.0f}  {'  ' * depth}{name}")


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark the invoice mock against a bare Starlette+uvicorn baseline "
        "(see benchmarks/README.md)."
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="alternating mock/baseline load runs (default: 3)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured load (default: 10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured wrk seconds before each load (default: 2)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default: 32)")
    parser.add_argument(
        "--launches", type=int, default=5, help="launches timed to the first 200 (default: 5)"
    )
    parser.add_argument(
        "--poll-ms", type=float, default=5.0, help="polling interval while launching (default: 5)"
    )
    parser.add_argument(
        "--invoices",
        type=int,
        default=50_000,
        help="invoices stored for RSS per invoice; 0 skips (default: 50000)",
    )
    parser.add_argument(
        "--validate-responses", action="store_true", help="pass --validate-responses to the mock"
    )
    parser.add_argument(
        "--get-load", action="store_true", help="also load GET /api/invoices/{uid} on the mock"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument(
        "--profile", action="store_true", help="profile the mock under load instead of benchmarking"
    )
    parser.add_argument("--profiler", choices=["auto", "py-spy", "cprofile"], default="auto")
    parser.add_argument(
        "--profile-target",
        choices=["mock", "baseline"],
        default="mock",
        help="what --profile samples; the baseline shows the floor every server pays (py-spy only)",
    )
    parser.add_argument(
        "--profile-rate", type=int, default=250, help="py-spy samples per second (default: 250)"
    )
    parser.add_argument("--top", type=int, default=15, help="functions listed by --profile (default: 15)")
    parser.add_argument(
        "--keep", type=Path, help="copy wrk scripts, server logs and raw profiles (py-spy, cProfile) here"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for the servers (default: this one)"
    )
    parser.add_argument(
        "--ref",
        help="benchmark the mock as committed at this git ref (exported with git archive) "
        "instead of the working tree",
    )
    parser.add_argument("--serve-cprofile", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--source-dir", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser


@contextlib.contextmanager
def scratch_dir(keep: Path | None) -> Iterator[Path]:
    """A temporary directory for scripts, logs and profiles; copied to `keep` (if given) at the end."""
    with tempfile.TemporaryDirectory(prefix="bench-mock-") as name:
        try:
            yield Path(name)
        finally:
            if keep is not None:
                shutil.copytree(name, keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("source"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve_cprofile:
        return serve_cprofile(args.serve_cprofile, args.port, args.validate_responses, args.source_dir)
    if shutil.which("wrk") is None:
        print(WRK_INSTALL_HINT, file=sys.stderr)
        return 2
    if min(args.runs, args.duration, args.warmup, args.launches) < 1:
        print(
            "--runs, --duration, --warmup and --launches must be >= 1 (wrk takes whole seconds)",
            file=sys.stderr,
        )
        return 2
    try:
        with scratch_dir(args.keep) as workdir:
            target = workdir / "source"
            source = export_ref(args.ref, target) if args.ref else snapshot_tree(target)
            # The mock is imported (for the fixtures) from the copy being measured, not an installed one.
            sys.path.insert(0, str(source))
            bench = Bench(args, Sample.from_fixtures(), workdir, source)
            if args.profile:
                report = run_profile(bench)
                if args.json:
                    print(json.dumps(report, indent=2))
                else:
                    print_profile(report, args.top)
                return 0
            report = run_benchmark(bench)
    except BenchError as error:
        print(f"bench_mock: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
