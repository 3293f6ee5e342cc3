"""Time to first 200: how long after a server is spawned a frontend's first create succeeds.

Measured from just before the spawn (interpreter start and imports count) by polling a valid
`POST /api/invoices` every few ms, on several fresh launches; the server's own CPU time until then
is kept too, because on a busy machine the wall time grows and the CPU time does not.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field

from bench.context import Bench
from bench.errors import log
from bench.procfs import machine_busy_seconds
from bench.servers import MOCK


@dataclass
class Launches:
    seconds: list[float]  # wall time, spawn to first 200
    cpu_seconds: list[float] = field(default_factory=list)  # the server's own CPU until then
    others_cores: list[float] = field(default_factory=list)  # the neighbours' CPU meanwhile

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure_launches(bench: Bench, kind: str, count: int) -> Launches:
    """Fresh launches, each timed from spawn to its first 200; the mock's first answer is kept."""
    launches = Launches([])
    for index in range(count):
        busy0, own0 = machine_busy_seconds(), sum(os.times()[:2])
        with bench.launcher(kind).start() as server:
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
        if kind == MOCK and bench.template is None:
            bench.template = bench.workdir / "mock-response.json"
            bench.template.write_bytes(body)
    return launches
