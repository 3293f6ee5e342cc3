"""From runs to figures: medians per server kind, ratios side by side, and the targets' verdicts
(the create load's, and the same bar for every extra scenario of the mock).

Pure functions of the measured data (no process, no clock), so the report's arithmetic can be
checked on its own. Ratios are given two ways: of the medians, and per round (the two kinds run
back to back in the same round, the pairing least disturbed by a neighbour's burst).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any

from bench import targets
from bench.launches import Launches
from bench.memory import RssResult
from bench.probe import ProbeResult
from bench.rounds import LoadRun
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM
from bench.wrk import WrkResult

LATENCY_KEYS = ("rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")


def median_of(results: list[WrkResult], key: str) -> float:
    return float(statistics.median(float(getattr(r, key)) for r in results))


def summarise(runs: list[LoadRun], kind: str) -> dict[str, Any] | None:
    """Medians of one kind's create loads (None when the kind was not run)."""
    mine = [r for r in runs if r.server == kind]
    if not mine:
        return None
    posts = [r.post for r in mine]
    summary: dict[str, Any] = {key: median_of(posts, key) for key in LATENCY_KEYS}
    summary["cpu_ms_per_request"] = statistics.median(p.cpu_ms_per_request for p in posts)
    summary["server_cpu_share"] = statistics.median(p.server_cpu_share for p in posts)
    summary["non_2xx"] = sum(p.non_2xx for p in posts)
    summary["socket_errors"] = sum(p.socket_errors + p.timeouts for p in posts)
    summary["requests"] = sum(p.requests for p in posts)
    summary["peak_rss_kib"] = max(r.peak_rss_kib for r in mine)
    summary["implementation"] = sorted({r.implementation for r in mine})
    probes = [r.probe for r in mine if r.probe is not None]
    summary["probe"] = ProbeResult.pooled(probes).summary() if probes else None
    summary["scenarios"] = {}
    for name in sorted({name for r in mine for name in r.scenarios}):
        loads = [r.scenarios[name] for r in mine if name in r.scenarios]
        summary["scenarios"][name] = {key: median_of(loads, key) for key in ("rps", "p50_ms", "p99_ms")}
        summary["scenarios"][name]["non_2xx"] = sum(load.non_2xx for load in loads)
        # Against this kind's create load: of the medians, and per round (the same process, back to back).
        summary["scenarios"][name]["create_ratio"] = summary["scenarios"][name]["rps"] / summary["rps"]
        # Server CPU per request: far less sensitive to busy neighbours than req/s.
        summary["scenarios"][name]["cpu_ms_per_request"] = statistics.median(
            load.cpu_ms_per_request for load in loads
        )
        summary["scenarios"][name]["cpu_ratio"] = (
            summary["scenarios"][name]["cpu_ms_per_request"] / summary["cpu_ms_per_request"]
        )
        summary["scenarios"][name]["create_ratio_per_run"] = [
            r.scenarios[name].rps / r.post.rps for r in mine if name in r.scenarios
        ]
    return summary


def scenario_bars(mock: dict[str, Any], baseline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each extra scenario of the mock held to the create load's bar (targets.py).

    The bare endpoint has create and read only, so a scenario's throughput is compared with the
    bare endpoint's *create*: the same share the create load must reach. p99 and non-2xx are the
    create's targets as they are.
    """
    bars: dict[str, dict[str, Any]] = {}
    for name, figures in mock["scenarios"].items():
        bare_ratio = figures["rps"] / baseline["rps"]
        bars[name] = {
            "create_ratio": figures["create_ratio"],
            "bare_ratio": bare_ratio,
            "verdicts": {
                "throughput_ratio": bare_ratio >= targets.THROUGHPUT_RATIO,
                "p99_ms": figures["p99_ms"] <= targets.P99_MS,
                "non_2xx": figures["non_2xx"] == 0,
            },
        }
    return bars


def paired(runs: list[LoadRun], numerator: str, denominator: str) -> list[float]:
    """numerator req/s ÷ denominator req/s, round by round."""
    by_round = {(r.run, r.server): r.post.rps for r in runs}
    rounds = sorted({r.run for r in runs})
    return [
        by_round[(n, numerator)] / by_round[(n, denominator)]
        for n in rounds
        if (n, numerator) in by_round and (n, denominator) in by_round
    ]


def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str = "rps") -> float | None:
    return None if a is None or b is None else float(a[key]) / float(b[key])


def summary_of(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "all": values}


def launches_dict(launches: Launches) -> dict[str, Any]:
    return summary_of(launches.seconds) | {
        "cpu_s": launches.cpu_seconds,
        "others_cores": launches.others_cores,
    }


def run_dict(run: LoadRun) -> dict[str, Any]:
    result = asdict(run)
    result["probe"] = run.probe.summary() if run.probe else None
    loads = [("post", run.post, result), *((n, w, result["scenarios"]) for n, w in run.scenarios.items())]
    for key, wrk, holder in loads:
        holder[key] |= {
            "cpu_ms_per_request": wrk.cpu_ms_per_request,
            "server_cpu_share": wrk.server_cpu_share,
            "disturbed": wrk.disturbed,
        }
    return result


def results(
    runs: list[LoadRun], launches: dict[str, Launches], rss: RssResult | None, connections: int
) -> dict[str, Any]:
    """Everything the report prints and `--json` writes."""
    kinds = {kind: summarise(runs, kind) for kind in (MOCK, BASELINE, PRISM, MOCK_STATE_FILE)}
    mock, baseline = kinds[MOCK], kinds[BASELINE]
    assert mock is not None and baseline is not None
    stored_matches = all(
        0 <= r.post.created - (r.post.requests - r.post.non_2xx) <= connections
        for r in runs
        if r.post.created is not None
    )
    return {
        "mock": mock,
        "baseline": baseline,
        "prism": kinds[PRISM],
        "mock_state_file": kinds[MOCK_STATE_FILE],
        "throughput_ratio": ratio(mock, baseline),
        "throughput_ratio_per_run": paired(runs, MOCK, BASELINE),
        "scenario_bars": scenario_bars(mock, baseline),
        "prism_multiple": ratio(mock, kinds[PRISM]),
        "prism_multiple_per_run": paired(runs, MOCK, PRISM),
        "state_file_ratio": ratio(kinds[MOCK_STATE_FILE], mock),
        "state_file_ratio_per_run": paired(runs, MOCK_STATE_FILE, MOCK),
        "stored_matches": stored_matches,
        "cpu_per_request_ratio": ratio(mock, baseline, "cpu_ms_per_request"),
        # How many of the mock's requests one Prism request costs in server CPU: the capacity multiple.
        "prism_cpu_multiple": ratio(kinds[PRISM], mock, "cpu_ms_per_request"),
        "state_file_cpu_ratio": ratio(kinds[MOCK_STATE_FILE], mock, "cpu_ms_per_request"),
        "disturbed_runs": sum(r.post.disturbed for r in runs),
        "first_200_s": {kind: launches_dict(value) for kind, value in launches.items()},
        "peak_rss_kib": max(mock["peak_rss_kib"], rss.peak_rss_kib if rss else 0),
        "rss": (asdict(rss) | {"bytes_per_invoice": rss.bytes_per_invoice}) if rss else None,
        "runs": [run_dict(r) for r in runs],
    }


def verdicts(res: dict[str, Any]) -> dict[str, bool | None]:
    """Each target (keys of `targets.TEXT`) against its figure; None when this run did not measure it."""
    mock, multiple, rss = res["mock"], res["prism_multiple"], res["rss"]
    non_2xx = sum((res[k] or {}).get("non_2xx", 0) for k in ("mock", "baseline", "prism", "mock_state_file"))
    return {
        "throughput_ratio": res["throughput_ratio"] >= targets.THROUGHPUT_RATIO,
        "prism_multiple": None if multiple is None else multiple >= targets.PRISM_MULTIPLE,
        "p99_ms": mock["p99_ms"] <= targets.P99_MS,
        "first_200_s": res["first_200_s"][MOCK]["median"] <= targets.FIRST_RESPONSE_S,
        "rss_per_invoice": None if rss is None else rss["bytes_per_invoice"] <= targets.RSS_PER_INVOICE_BYTES,
        "non_2xx": non_2xx == 0 and bool(res["stored_matches"]),
        "state_file_ratio": (
            None if res["state_file_ratio"] is None else res["state_file_ratio"] >= targets.STATE_FILE_RATIO
        ),
    }
