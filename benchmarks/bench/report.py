"""The human-readable report: Markdown tables, so a run pastes straight into an issue or a README.

Columns appear for the servers this run loaded (Prism and `--state-file` can be left out); every
figure names its unit, and the notes under the tables say how disturbed the machine was, because
on a shared 2-core machine the absolute req/s mean little without that.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import targets
from bench.servers import BASELINE, LABELS, MOCK, MOCK_STATE_FILE, PRISM
from bench.source import describe_source
from bench.wrk import DISTURBED_OTHERS_CORES, DISTURBED_SERVER_SHARE

KEYS = {MOCK: "mock", MOCK_STATE_FILE: "mock_state_file", BASELINE: "baseline", PRISM: "prism"}


def markdown_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A pipe table; columns in `right` (default: all but the first) are right-aligned."""
    right = set(range(1, len(header))) if right is None else right
    rule = ["--:" if i in right else "---" for i in range(len(header))]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def main_table(report: dict[str, Any]) -> str:
    res, verdicts = report["results"], report["targets"]
    kinds = [k for k in (MOCK, MOCK_STATE_FILE, BASELINE, PRISM) if res[KEYS[k]] is not None]
    cols = {k: res[KEYS[k]] for k in kinds}
    has_prism = PRISM in cols
    header = ["figure", *(LABELS[k] for k in kinds), "mock/bare"]
    header += ["mock/Prism"] if has_prism else []
    header.append("target")

    def row(
        name: str,
        key: str,
        spec: str,
        scale: float = 1.0,
        base: str = "",
        prism: str = "",
        target: str = "",
    ) -> list[str]:
        cells = [
            name,
            *(fmt(cols[k][key] * scale if scale != 1 else cols[k][key], spec) for k in kinds),
            base,
        ]
        return cells + ([prism] if has_prism else []) + [target]

    def target(key: str) -> str:
        return f"{targets.TEXT[key]} {targets.verdict(verdicts[key])}"

    first = res["first_200_s"]
    probe_cells = []
    for k in kinds:
        p = cols[k]["probe"]
        probe_cells.append("-" if p is None else f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} / {p['max_ms']:.1f}")
    rows = [
        row(
            "throughput (req/s)",
            "rps",
            ",.0f",
            base=fmt(res["throughput_ratio"], ".1%"),
            prism=fmt(res["prism_multiple"], ".2f", "x"),
            target=f"{target('throughput_ratio')}" + (f"; {target('prism_multiple')}" if has_prism else ""),
        ),
        row("latency p50 (ms)", "p50_ms", ".2f"),
        row("latency p90 (ms)", "p90_ms", ".2f"),
        row("latency p99 (ms)", "p99_ms", ".2f", target=target("p99_ms")),
        row("latency max (ms)", "max_ms", ".1f"),
        row("non-2xx (all runs)", "non_2xx", "d", target=target("non_2xx")),
        row("socket errors + timeouts", "socket_errors", "d"),
        row(
            "server CPU per request (ms)",
            "cpu_ms_per_request",
            ".3f",
            base=f"x{res['cpu_per_request_ratio']:.2f} (capacity {1 / res['cpu_per_request_ratio']:.1%})",
            prism=fmt(res["prism_cpu_multiple"], ".1f", "x capacity"),
        ),
        row("server CPU use (cores)", "server_cpu_share", ".2f"),
        row("peak RSS, load run (MiB)", "peak_rss_kib", ".1f", scale=1 / 1024),
        [
            "time to first 200, median (s)",
            *(fmt(first[k]["median"], ".3f") if k in first else "-" for k in kinds),
            "",
            *([""] if has_prism else []),
            target("first_200_s"),
        ],
        ["stall probe p50 / p99 / max (ms)", *probe_cells, "", *([""] if has_prism else []), ""],
    ]
    return markdown_table(header, rows, right=set(range(1, len(header) - 1)))


def runs_table(report: dict[str, Any]) -> str:
    header = ["round", "server", "req/s", "p50 ms", "p99 ms", "non-2xx", "requests", "stored"]
    header += ["CPU/req ms", "server", "wrk", "irq", "others", "probe p99 ms", "probe max ms"]
    rows = []
    for run in report["results"]["runs"]:
        post, probe = run["post"], run["probe"]
        rows.append(
            [
                str(run["run"]),
                LABELS[run["server"]],
                f"{'! ' if post['disturbed'] else ''}{post['rps']:,.0f}",
                f"{post['p50_ms']:.2f}",
                f"{post['p99_ms']:.2f}",
                str(post["non_2xx"]),
                f"{post['requests']:,}",
                "" if post["created"] is None else f"{post['created']:,}",
                f"{post['cpu_ms_per_request']:.3f}",
                f"{post['server_cpu_share']:.2f}",
                f"{post['wrk_cpu_s'] / post['wall_s']:.2f}",
                f"{post['irq_cores']:.2f}",
                f"{post['others_cores']:.2f}",
                "" if probe is None else f"{probe['p99_ms']:.1f}",
                "" if probe is None else f"{probe['max_ms']:.1f}",
            ]
        )
    return markdown_table(header, rows, right=set(range(2, len(header))))


def scenarios_table(report: dict[str, Any]) -> str | None:
    """Every extra scenario on every server, beside that server's create load (medians)."""
    res = report["results"]
    rows = []
    for kind in (MOCK, MOCK_STATE_FILE, BASELINE, PRISM):
        summary = res[KEYS[kind]]
        for name, figures in (summary or {}).get("scenarios", {}).items():
            rows.append(
                [
                    name,
                    LABELS[kind],
                    f"{figures['rps']:,.0f}",
                    f"{summary['rps']:,.0f}",
                    f"{figures['create_ratio']:.1%}",
                    ", ".join(f"{r:.0%}" for r in figures["create_ratio_per_run"]),
                    f"{figures['p50_ms']:.2f}",
                    f"{figures['p99_ms']:.2f}",
                    str(figures["non_2xx"]),
                    f"{figures['cpu_ms_per_request']:.3f}",
                    f"x{figures['cpu_ratio']:.2f}",
                ]
            )
    if not rows:
        return None
    header = ["scenario", "server", "req/s", "create req/s", "÷ create", "per round", "p50 ms", "p99 ms"]
    header += ["non-2xx", "CPU/req ms", "CPU ÷ create"]
    return markdown_table(header, sorted(rows), right=set(range(2, len(header))))


def bars_table(report: dict[str, Any]) -> str | None:
    """The mock's extra scenarios held to the create load's targets (throughput vs bare create)."""
    res = report["results"]
    bars = res.get("scenario_bars") or {}
    if not bars:
        return None
    create = res["mock"]
    rows = [
        [
            "create",
            f"{create['rps']:,.0f}",
            "100.0%",
            f"{res['throughput_ratio']:.1%} {targets.verdict(report['targets']['throughput_ratio'])}",
            f"{create['p99_ms']:.2f} {targets.verdict(create['p99_ms'] <= targets.P99_MS)}",
            f"{create['non_2xx']} {targets.verdict(create['non_2xx'] == 0)}",
        ]
    ]
    for name, bar in sorted(bars.items()):
        figures, verdicts = create["scenarios"][name], bar["verdicts"]
        rows.append(
            [
                name,
                f"{figures['rps']:,.0f}",
                f"{bar['create_ratio']:.1%}",
                f"{bar['bare_ratio']:.1%} {targets.verdict(verdicts['throughput_ratio'])}",
                f"{figures['p99_ms']:.2f} {targets.verdict(verdicts['p99_ms'])}",
                f"{figures['non_2xx']} {targets.verdict(verdicts['non_2xx'])}",
            ]
        )
    header = [
        "mock (in memory)",
        "req/s",
        "÷ mock create",
        f"÷ bare create ({targets.TEXT['throughput_ratio']})",
        f"p99 ms ({targets.TEXT['p99_ms']})",
        "non-2xx (0)",
    ]
    return markdown_table(header, rows)


def print_report(report: dict[str, Any]) -> None:
    cfg, env, src, res = report["config"], report["environment"], report["source"], report["results"]
    print(
        f"\n## invoice mock benchmark: POST /api/invoices, wrk -t1 -c{cfg['connections']} "
        f"-d{cfg['duration_s']:g}s after a {cfg['warmup_s']:g}s warm-up, {cfg['runs']} rounds "
        "(order rotating), medians\n"
    )
    implementations = "; ".join(
        f"{LABELS[k]} {', '.join(res[KEYS[k]]['implementation'])}"
        for k in (MOCK, BASELINE, PRISM)
        if res[KEYS[k]] is not None
    )
    print(f"- mock: {describe_source(src)}; validate responses: {cfg['validate_responses']}")
    print(f"- servers: {implementations}")
    if cfg["prism"]:
        print(f"- Prism: {cfg['prism']}, serving {cfg['prism_spec']}'s examples (it stores nothing)")
    elif cfg["prism_missing"]:
        print(f"- Prism: not measured ({cfg['prism_missing']})")
    probe = f"GET /api/invoices/{{uid}} every {cfg['probe_ms']:g} ms" if cfg["probe_ms"] > 0 else "off"
    print(
        f"- machine: {env['cpus']} cpus, load average {env['loadavg_start']} -> {env['loadavg_end']}; "
        f"{env['wrk']}; stall probe: {probe}\n"
    )
    print(main_table(report))
    state = res["mock_state_file"]
    if state is not None:
        per_round = ", ".join(f"{r:.1%}" for r in res["state_file_ratio_per_run"])
        print(
            f"\ncreates/s with --state-file: {state['rps']:,.0f} vs in memory {res['mock']['rps']:,.0f} = "
            f"{res['state_file_ratio']:.1%} (per round: {per_round}); server CPU per create "
            f"{state['cpu_ms_per_request']:.3f} vs {res['mock']['cpu_ms_per_request']:.3f} ms "
            f"(x{res['state_file_cpu_ratio']:.2f}); target {targets.TEXT['state_file_ratio']} "
            f"{targets.verdict(report['targets']['state_file_ratio'])}"
        )
    ratios = ", ".join(f"{r:.1%}" for r in res["throughput_ratio_per_run"])
    print(f"mock/bare per round: {ratios}")
    if res["prism_multiple_per_run"]:
        print(f"mock/Prism per round: {', '.join(f'{r:.2f}x' for r in res['prism_multiple_per_run'])}")

    print(
        "\nper run (fresh process each; in cores: 'server', 'wrk', 'irq' = interrupts/softirqs, mostly "
        "loopback TCP, 'others' = processes other than the server and wrk; '!' = disturbed):\n"
    )
    print(runs_table(report))
    if res["disturbed_runs"]:
        print(
            f"\n! {res['disturbed_runs']} disturbed run(s): others > {DISTURBED_OTHERS_CORES} cores "
            f"or server < {DISTURBED_SERVER_SHARE:.0%} of a core; their req/s and p99 say more about "
            "the neighbours"
        )
    print(
        "('stored' = invoices the mock counted over the run; it may exceed 'requests' by the <= "
        f"{cfg['connections']} requests in flight when wrk stopped: {targets.verdict(res['stored_matches'])})"
    )
    extra = scenarios_table(report)
    if extra:
        print(f"\nextra scenarios (same process, after the create load; medians):\n\n{extra}")
    bars = bars_table(report)
    if bars:
        print(f"\nthe create load's bar, for every scenario of the mock (medians):\n\n{bars}")
    print_launches_and_memory(report)


def print_launches_and_memory(report: dict[str, Any]) -> None:
    res = report["results"]
    print("\ntime to first 200 after launch (s):")
    for kind, first in res["first_200_s"].items():
        print(
            f"- {LABELS[kind]}: median {first['median']:.3f} "
            f"(min {first['min']:.3f}, max {first['max']:.3f}; "
            f"all {', '.join(f'{s:.3f}' for s in first['all'])}); CPU to first 200 (robust to neighbours) "
            f"median {statistics.median(first['cpu_s']):.2f}; others during launches (cores) "
            f"{', '.join(f'{c:.2f}' for c in first['others_cores'])}"
        )
    rss = res["rss"]
    if rss:
        print(
            f"\nRSS per stored invoice: {rss['bytes_per_invoice']:,.0f} B "
            f"({rss['count_end'] - rss['count_warm']:,} invoices: {rss['rss_warm_kib'] / 1024:.1f} -> "
            f"{rss['rss_end_kib'] / 1024:.1f} MiB after {rss['count_warm']:,} (warm-up); "
            f"{rss['rss_start_kib'] / 1024:.1f} MiB at first 200)  target {targets.TEXT['rss_per_invoice']} "
            f"{targets.verdict(report['targets']['rss_per_invoice'])}"
        )
    print(
        f"peak RSS (VmHWM) of the mock: {res['peak_rss_kib'] / 1024:.1f} MiB "
        f"(load runs {res['mock']['peak_rss_kib'] / 1024:.1f}, "
        f"store filled {rss['peak_rss_kib'] / 1024 if rss else 0:.1f})"
    )
