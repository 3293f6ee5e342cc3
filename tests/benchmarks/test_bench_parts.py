"""A smoke test of the benchmark's code: its requests fit the contract, its arithmetic and report add up.

Nothing here measures or asserts a timing (that is the benchmark's job, not the suite's): the
figures below are made up, and what is checked is what the code does with them.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench import summary
from bench.cli import build_parser, usage_error
from bench.client import add_line, create_invoice, http_call
from bench.launches import Launches
from bench.probe import ProbeResult, StallProbe, percentile
from bench.report import bars_table, main_table, runs_table, scenarios_table
from bench.rounds import LoadRun, round_order
from bench.sample import Sample
from bench.scenarios import CREATE, LIFECYCLE, SCENARIOS, Target
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM
from bench.source import snapshot_tree
from bench.wrk import WrkResult, parse_done, write_lua

from contract.spec import compile_validator, iter_operations, request_body_schema
from tests.servers import serve
from tests.world import create_app

# Stand-ins for the uids a run creates just before a scenario's load (any uuid fits the schemas).
SOME_INVOICE, SOME_LINE = "99999999-9999-4999-8999-999999999991", "99999999-9999-4999-8999-999999999992"


@pytest.fixture(scope="module")
def sample() -> Sample:
    return Sample.from_fixtures()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_is_an_operation_of_the_spec_with_a_valid_body(
    name: str, spec: dict[str, Any], sample: Sample
) -> None:
    scenario = SCENARIOS[name]
    operations = {(path, method.upper()): op for path, method, op in iter_operations(spec)}
    assert (scenario.path, scenario.method) in operations, f"{name}: not an operation of openapi.yaml"
    body = scenario.body_bytes(Target(sample, SOME_INVOICE, SOME_LINE))
    if body is not None:
        schema = request_body_schema(spec, operations[(scenario.path, scenario.method)]["operationId"])
        errors = [e.message for e in compile_validator(schema).iter_errors(json.loads(body))]
        assert errors == [], f"{name}: the body breaks the request schema: {errors}"


def test_every_scenario_is_answered_200_by_the_mock_again_and_again(sample: Sample) -> None:
    """What wrk sends for the whole load: each scenario's request, prepared as a run prepares it,
    answered 200 by a real mock three times in a row (a scenario that fails once is no load)."""
    with serve(create_app()) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        for scenario in SCENARIOS.values():
            invoice_uid = create_invoice(port, sample)
            target = Target(
                sample, invoice_uid, add_line(port, sample, invoice_uid) if scenario.needs_line else ""
            )
            for _ in range(3):
                status, body = http_call(
                    port,
                    scenario.method,
                    scenario.path_for(invoice_uid),
                    scenario.body_bytes(target),
                    sample.headers,
                )
                assert status == 200, (scenario.name, body[:300])


def test_the_lifecycle_scenarios_are_issue_13s_repeatable_operations() -> None:
    assert LIFECYCLE == ["update", "bulk_update", "line_items_create", "line_items_update"]
    assert all(
        MOCK in SCENARIOS[name].servers and BASELINE not in SCENARIOS[name].servers for name in LIFECYCLE
    )


def test_the_create_scenario_is_loaded_on_every_server_kind() -> None:
    assert set(CREATE.servers) == {MOCK, MOCK_STATE_FILE, BASELINE, PRISM}
    assert CREATE.creates


def test_rounds_alternate_two_kinds_and_rotate_more() -> None:
    assert [round_order([MOCK, BASELINE], n) for n in (1, 2, 3)] == [
        [MOCK, BASELINE],
        [BASELINE, MOCK],
        [MOCK, BASELINE],
    ]
    kinds = [MOCK, BASELINE, PRISM, MOCK_STATE_FILE]
    firsts = [round_order(kinds, n)[0] for n in range(1, 5)]
    assert firsts == kinds


def test_wrk_script_and_its_done_lines(tmp_path: Path, sample: Sample) -> None:
    script = write_lua(tmp_path / "create.lua", "POST", sample.body_bytes, sample.token).read_text()
    assert 'wrk.method = "POST"' in script
    assert sample.body_bytes.decode() in script
    assert f"Bearer {sample.token}" in script
    assert "function done(" in script and "function response(" not in script
    get = write_lua(tmp_path / "read.lua", "GET", None, sample.token).read_text()
    assert "wrk.body" not in get
    values = parse_done(
        "Running 10s test\nBENCH requests=100 duration_us=2000000 bytes=5 status_errors=3 connect=0 "
        "read=1 write=0 timeout=2\nBENCH p50=1500 p90=2000 p99=9000 p999=9500 max=12000 mean=1600.5\n"
    )
    assert values["requests"] == 100 and values["status_errors"] == 3 and values["p99"] == 9000


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.50) == 50.0
    assert percentile([7.0], 0.99) == 7.0
    pooled = ProbeResult.pooled([ProbeResult([1.0, 2.0], 1), ProbeResult([30.0], 0)])
    assert pooled.count == 3 and pooled.errors == 1 and pooled.max_ms == 30.0


class _Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the probe expects
    status = 200

    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class _NotFound(_Answer):
    status = 404


@pytest.fixture(params=[_Answer, _NotFound], ids=["200", "404"])
def tiny_server(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], request.param.status
    finally:
        server.shutdown()
        server.server_close()


def test_the_probe_is_bounded_in_count_and_counts_non_200_as_errors(tiny_server: tuple[int, int]) -> None:
    port, status = tiny_server
    with StallProbe(port, "/api/invoices/x", {}, interval_s=0.01, limit_s=0.2) as probe:
        assert probe.wait(timeout=30), "the probe did not stop at its own limits"
    assert 1 <= probe.result.count <= probe.max_requests == 20
    assert probe.result.errors == (0 if status == 200 else probe.result.count)


def _wrk(rps: float, cpu_ms: float, **extra: Any) -> WrkResult:
    requests = int(rps * 10)
    return WrkResult(
        requests=requests,
        duration_s=10.0,
        rps=rps,
        p50_ms=4.0,
        p90_ms=6.0,
        p99_ms=9.0,
        p999_ms=12.0,
        max_ms=20.0,
        mean_ms=5.0,
        non_2xx=0,
        socket_errors=0,
        timeouts=0,
        server_cpu_s=requests * cpu_ms / 1000,
        wrk_cpu_s=2.0,
        others_cores=0.1,
        wall_s=10.0,
        irq_cores=0.2,
        **extra,
    )


def _runs(kinds: list[str]) -> list[LoadRun]:
    rps = {MOCK: 6000.0, BASELINE: 10000.0, PRISM: 2000.0, MOCK_STATE_FILE: 4500.0}
    runs = []
    for n in (1, 2, 3):
        for kind in round_order(kinds, n):
            post = _wrk(rps[kind] + 100 * n, 0.1, created=None if kind in (BASELINE, PRISM) else 0)
            if post.created is not None:
                post.created = post.requests
            probe = ProbeResult([1.0, 2.0, 50.0 if kind == MOCK_STATE_FILE else 3.0])
            run = LoadRun(n, kind, "node" if kind == PRISM else "loop=uvloop http=httptools", post, probe)
            if kind == MOCK:  # an update load at half the create's rate, p99 9 ms (see _wrk)
                run.scenarios["update"] = _wrk(post.rps / 2, 0.2)
            runs.append(run)
    return runs


def _report(kinds: list[str]) -> dict[str, Any]:
    launches = {k: Launches([0.3, 0.4, 0.35], [0.2] * 3, [0.0] * 3) for k in kinds if k != MOCK_STATE_FILE}
    res = summary.results(_runs(kinds), launches, None, connections=32)
    return {"results": res, "targets": summary.verdicts(res), "config": {"connections": 32}}


def test_ratios_are_of_medians_and_paired_by_round() -> None:
    report = _report([MOCK, BASELINE, PRISM, MOCK_STATE_FILE])
    res = report["results"]
    assert res["throughput_ratio"] == pytest.approx(6200 / 10200)
    assert res["prism_multiple"] == pytest.approx(6200 / 2200)
    assert res["state_file_ratio"] == pytest.approx(4700 / 6200)
    assert res["throughput_ratio_per_run"] == pytest.approx([6100 / 10100, 6200 / 10200, 6300 / 10300])
    assert res["mock_state_file"]["probe"]["max_ms"] == 50.0
    assert res["prism_cpu_multiple"] == pytest.approx(1.0)  # the made-up runs all cost 0.1 ms
    assert res["stored_matches"] is True
    verdicts = report["targets"]
    assert verdicts["throughput_ratio"] is True and verdicts["prism_multiple"] is True
    assert verdicts["rss_per_invoice"] is None  # not measured in this run
    assert verdicts["state_file_ratio"] is True  # 76 % of in-memory against the 60 % bar
    assert summary.verdicts({**res, "state_file_ratio": 0.59})["state_file_ratio"] is False
    assert _report([MOCK, BASELINE])["targets"]["state_file_ratio"] is None


def test_the_report_is_a_markdown_table_with_a_column_per_server_run() -> None:
    full = main_table(_report([MOCK, BASELINE, PRISM, MOCK_STATE_FILE])).splitlines()
    assert full[0] == (
        "| figure | mock | mock --state-file | bare | Prism | mock/bare | mock/Prism | target |"
    )
    assert all(line.count("|") == full[0].count("|") for line in full)
    throughput = next(line for line in full if line.startswith("| throughput"))
    assert "60.8%" in throughput and "2.82x" in throughput
    without = main_table(_report([MOCK, BASELINE])).splitlines()
    assert without[0] == "| figure | mock | bare | mock/bare | target |"
    rows = runs_table(_report([MOCK, BASELINE]))
    assert len(rows.splitlines()) == 2 + 6


def test_the_readme_commands_parse() -> None:
    parser = build_parser()
    for argv in (
        ["--runs", "3", "--duration", "10"],
        ["--json"],
        ["--profile"],
        ["--profile", "--profile-target", "baseline"],
        ["--validate-responses", "--get-load", "--invoices", "0", "--launches", "2", "--warmup", "1"],
        ["--connections", "64", "--keep", "/tmp/x", "--ref", "HEAD~1", "--no-prism", "--no-state-file"],
        ["--probe-ms", "0", "--scenario", "read"],
        ["--lifecycle", "--no-prism", "--invoices", "0"],
        ["--scenario", "update", "--scenario", "line_items_update"],
    ):
        assert usage_error(parser.parse_args(argv)) is None, argv
    assert usage_error(parser.parse_args(["--runs", "0"])) is not None
    assert usage_error(parser.parse_args(["--probe-ms", "-1"])) is not None


def test_the_snapshot_serves_its_own_contract(tmp_path: Path) -> None:
    """The measured copy must import its own `contract` and spec, not the working tree's."""
    source = snapshot_tree(tmp_path / "source")
    assert {p.name for p in source.iterdir()} >= {"mockserver", "contract", "openapi.yaml"}
    done = subprocess.run(
        [sys.executable, "-c", "import contract.spec as s; print(s.__file__); print(s.default_spec_path())"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    module, spec = done.stdout.split()
    assert Path(module).is_relative_to(source) and Path(spec) == source / "openapi.yaml"


def test_every_scenario_is_held_to_the_create_loads_bar() -> None:
    report = _report([MOCK, BASELINE, PRISM, MOCK_STATE_FILE])
    res = report["results"]
    update = res["mock"]["scenarios"]["update"]
    assert update["rps"] == pytest.approx(6200 / 2)
    assert update["create_ratio"] == pytest.approx(0.5)
    assert update["create_ratio_per_run"] == pytest.approx([0.5, 0.5, 0.5])
    assert update["cpu_ms_per_request"] == pytest.approx(0.2) and update["cpu_ratio"] == pytest.approx(2.0)
    bar = res["scenario_bars"]["update"]
    assert bar["bare_ratio"] == pytest.approx(3100 / 10200)
    assert bar["verdicts"] == {"throughput_ratio": False, "p99_ms": True, "non_2xx": True}
    table = bars_table(report)
    assert table is not None
    lines = table.splitlines()
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert lines[2].startswith("| create | 6,200 | 100.0% | 60.8% PASS |")
    assert lines[3].startswith("| update | 3,100 | 50.0% | 30.4% FAIL | 9.00 PASS | 0 PASS |")
    extra = scenarios_table(report)
    assert extra is not None
    assert (
        "| update | mock | 3,100 | 6,200 | 50.0% | 50%, 50%, 50% | 4.00 | 9.00 | 0 | 0.200 | x2.00 |" in extra
    )
    assert bars_table(_report([MOCK, BASELINE])) is not None
