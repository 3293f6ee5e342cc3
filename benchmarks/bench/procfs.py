"""CPU and memory figures read from /proc: the server's own cost, the neighbours', wrk's.

On a 2-core machine shared with other work, req/s alone says little; a process's own CPU time per
request hardly moves with the neighbours, and the neighbours' share says how disturbed a run was.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from bench.errors import BenchError

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid: int, key: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS: resident now, VmHWM: peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads): its own CPU, whatever the neighbours do."""
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
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
