"""`python -m mockserver`: binds 127.0.0.1, prints where it listens, its tokens and a curl that works."""

from __future__ import annotations

import copy
import os
import queue
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mockserver.domain.fixtures import DEFAULT_FIXTURES
from tests.given_spec import REFUSED, bill_numbers, edited_spec
from tests.mockserver.support import REPO_ROOT, SPEC, USER_A, WORLD, auth, body_for

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mock:
    """A `python -m mockserver` process, its port and what it printed so far (both pipes drained)."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port
        self.base_url = f"http://127.0.0.1:{port}"
        self._lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(process.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(process.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _read(pipe: Any, sink: Callable[[str], None]) -> None:
        for line in pipe:
            sink(line.rstrip("\n"))

    def output_until(self, marker: str, timeout: float = 30) -> list[str]:
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while not lines or marker not in lines[-1]:
            lines.append(self._lines.get(timeout=max(0.1, deadline - time.monotonic())))
        return lines


def start(*args: str, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", str(port), *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answers_or_exits(process: subprocess.Popen[str], base_url: str, timeout: float = 30) -> bool:
    """Poll until the mock answers (True) or its process ends (False)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            httpx.get(f"{base_url}/api/invoices", timeout=2)
            return True
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the mock neither answers nor exits"
            time.sleep(0.05)
    return False


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def mock_process(*args: str) -> Iterator[Mock]:
    port = free_port()
    process = start(*args, port=port)
    try:
        mock = Mock(process, port)
        assert answers_or_exits(process, mock.base_url), "\n".join(mock.stderr)
        yield mock
    finally:
        stop(process)


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def curl_request(lines: list[str]) -> tuple[str, str, dict[str, str], str]:
    """The printed curl command as (method, url, headers, body)."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    words = shlex.split(" ".join(line.rstrip("\\").strip() for line in lines[start:]))
    url, headers, body = "", {}, ""
    it = iter(words[1:])
    for word in it:
        if word == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            body = next(it)
        elif not word.startswith("-"):
            url = word
    return ("POST" if body else "GET"), url, headers, body


def test_cli_binds_127_0_0_1_and_prints_address_tokens_and_a_working_curl():
    with mock_process() as mock:
        lines = mock.output_until(" -d ")
        text = "\n".join(lines)
        assert mock.base_url in text
        for token in WORLD.users:
            assert token in text
        method, url, headers, body = curl_request(lines)
        assert url.startswith(mock.base_url)
        response = httpx.request(method, url, headers=headers, content=body)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "success"
        if os.path.exists("/proc/net/tcp"):
            assert listening_addresses(mock.port) == {"0100007F"}  # 127.0.0.1 only


def broken_spec(tmp_path: Path) -> Path:
    """openapi.yaml with one more required Invoice field, which the mock never sends."""
    spec = copy.deepcopy(SPEC)
    invoice = spec["components"]["schemas"]["Invoice"]
    invoice["required"].append("never_sent")
    invoice["properties"]["never_sent"] = {"type": "string"}
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_validate_responses_flag_checks_answers_against_the_spec(tmp_path):
    with mock_process("--validate-responses", "--spec", str(broken_spec(tmp_path))) as mock:
        response = httpx.post(f"{mock.base_url}/api/invoices", json=body_for(), headers=auth(USER_A))
        listed = httpx.get(f"{mock.base_url}/api/invoices", headers=auth(USER_A))
    assert response.status_code == 500
    assert response.json()["status_code"] == 500
    assert listed.status_code == 200  # InvoiceSummary was not touched


def test_without_the_flag_answers_are_not_checked(make_client, tmp_path):
    client = make_client(spec_path=broken_spec(tmp_path), validate_responses=False)
    assert client.post("/api/invoices", json=body_for(), headers=auth(USER_A)).status_code == 200


def test_cli_starts_on_a_valid_world_whose_first_user_has_no_document(tmp_path):
    """A loadable world must not crash the banner: start (or refuse with exit 2), never a traceback."""
    raw = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    first_org = raw["users"][0]["organizations"][0]
    raw["documents"] = [d for d in raw["documents"] if d["organization_uid"] != first_org]
    path = tmp_path / "fixtures.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    port = free_port()
    process = start("--fixtures", str(path), port=port)
    try:
        serving = answers_or_exits(process, f"http://127.0.0.1:{port}")
    finally:
        stop(process)
    stderr = process.stderr.read() if process.stderr else ""
    assert "Traceback" not in stderr
    assert serving or process.returncode == 2


# -- issue 21 items 1, 6: a refused start is one line and exit 2; the banner comes after the bind --


def run_to_exit(*args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m mockserver` that must exit by itself (a refused start), never left running."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", str(port or free_port()), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_spec_the_mock_cannot_serve_is_refused_in_one_line_before_anything_listens(tmp_path, name):
    """Before: `openapi: 3.1.0` started (then /openapi.json answered 500), the renamed enum value
    and the removed document_uid started and answered 500 at the first create."""
    edit, pointer, _word = REFUSED[name]
    spec = edited_spec(tmp_path, edit)
    port = free_port()
    completed = run_to_exit("--spec", str(spec), port=port)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == "", "no banner"
    (line,) = completed.stderr.strip().splitlines()
    assert str(spec) in line and pointer in line
    with socket.socket() as probe:  # nothing half-started: the port was never bound
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("text", ["openapi: [3.0.3\n", None])
def test_invalid_yaml_or_a_missing_spec_is_refused_in_one_line(tmp_path, text):
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text, encoding="utf-8")
    completed = run_to_exit("--spec", str(spec))
    assert completed.returncode == 2 and completed.stdout == ""
    (line,) = completed.stderr.strip().splitlines()
    assert str(spec) in line and ("not YAML" in line if text else "no such file" in line)


@pytest.mark.parametrize("port", ["0", "99999", "-1", "http"])
def test_a_port_outside_1_to_65535_is_a_usage_error(port):
    """Before: `--port 99999` printed `:99999` and served on another port."""
    completed = subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", port],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert "--port" in completed.stderr.splitlines()[-1]


def test_a_taken_port_is_one_line_and_exit_2_without_a_banner():
    """Before: the banner, the tokens and a curl were printed, then uvicorn's bind error."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        completed = run_to_exit(port=port)
    assert completed.returncode == 2
    assert completed.stdout == "", "no banner for a mock that does not listen"
    (line,) = completed.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in line and "cannot listen" in line


def test_the_banner_names_the_spec_and_the_state_file_and_comes_once_it_listens(tmp_path):
    spec = edited_spec(tmp_path, bill_numbers)
    state = tmp_path / "state.sqlite"
    with mock_process("--spec", str(spec), "--state-file", str(state)) as mock:
        lines = mock.output_until("listening on")
        assert f":{mock.port}" in lines[-1]
        header = mock.output_until("tokens:")
        assert f"spec: {spec}" in header and f"state file: {state}" in header
        answer = httpx.post(f"{mock.base_url}/api/invoices", headers=auth(USER_A), json=body_for())
        assert answer.json()["data"]["invoice_number"].startswith("BILL-")
