"""The differential run over real servers: two correct servers agree (the mock with itself over
three seeds, the mock with the independent second server), and each injected divergence is found
and named by the operation and the JSON pointer where it shows."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import yaml

from conformance.__main__ import main
from conformance.diff.cli import DiffConfig, diff
from conformance.diff.compare import Comparer
from conformance.diff.pairing import Pairing
from conformance.report import ConsoleHandler
from conformance.runner import FAILED, PASSED, RunResult
from contract.spec import default_fixtures_path, default_spec_path, load_spec

SPEC_PATH = str(default_spec_path())


def run_diff(
    reference: str, candidate: str, seed: int, examples: int = 30, *, shrink: bool = True, rounds: int = 8
) -> RunResult:
    """A diff on a mock session of its own (so the mock can be both sides). The faulty servers each
    wrap a mock of their own, and some faults' extra requests do not carry a session: the
    candidate gets a session only when it is the reference's server."""
    session = uuid.uuid4().hex[:12]
    headers = {"reference": {"X-Mock-Session": f"ref-{session}"}}
    if candidate == reference:
        headers["candidate"] = {"X-Mock-Session": f"cand-{session}"}
    config = DiffConfig(
        reference,
        candidate,
        SPEC_PATH,
        seed=seed,
        max_examples=examples,
        headers=headers,
        shrink=shrink,
        max_rounds=rounds,
    )
    return diff(config, [ConsoleHandler(io.StringIO())])


def found(result: RunResult) -> list[str]:
    return [r.name.removeprefix("diff:") for r in result.results if r.status == FAILED]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_mock_agrees_with_itself(mock_url: str, seed: int) -> None:
    result = run_diff(mock_url, mock_url, seed, examples=20)
    assert result.fatal is None and found(result) == []
    assert [r.status for r in result.results] == [PASSED]
    assert result.requests > 300  # the sequences ran: 20 of up to 20 steps, both sides


@pytest.mark.parametrize("seed", [0, 1])
def test_the_mock_and_the_second_server_differ_only_where_the_table_leaves_it_open(
    mock_url: str, second_url: str, seed: int
) -> None:
    """P13 (stored field type), P19 (number sequence), P62/P70 (which item an error names), P67
    (a freed number reissued) differ between these two servers: tolerated, none reported."""
    result = run_diff(mock_url, second_url, seed)
    assert result.fatal is None and found(result) == [], [r.message for r in result.results]


# (fault of tests/conformance/faults, the key it must be found under, the seed): the kinds.
# A property run finds what its draws reach: each fault is checked at a seed whose 20 sequences
# reach the step that shows it (seeds fixed, so the test is deterministic, never by chance).
INJECTED = [
    ("default-not-applied", "create_invoice /data/currency", 1),  # a default
    ("unit-price-major-units", "create_line_items /data/*/unit_price", 1),  # a unit / rounding
    ("list-oldest-first", "list_invoices /data/items/*/uid", 0),  # an order the table fixes (P04)
    ("fields-as-map", "create_invoice /data/invoice_fields", 1),  # a field's documented shape
    ("party-refusal-as-422", "create_invoice status", 1),  # a status
    ("error-field-names-the-body", "create_invoice /errors", 1),  # an error's field
    ("own-page-size-default", "list_invoices /data/_links/self", 1),  # paging: the page size
    ("page-overlap", "list_invoices /data/items/*/uid", 0),  # paging: the second page
    ("line-money-stale", "get_invoice /data/subtotal_cents", 1),  # totals after a line-item change
    ("line-delete-money-stale", "get_invoice /data/subtotal_cents", 1),
    ("leaks-invoices", "get_invoice status", 0),  # isolation
    ("duplicate-accepted", "create_invoice status", 1),  # a 409
    ("update-ignores-status", "update_invoice /data/status", 1),
    ("bulk-answer-reversed", "bulk_update_invoices /data/*/uid", 1),
]


@pytest.mark.parametrize(("fault", "key", "seed"), INJECTED, ids=[fault for fault, _, _ in INJECTED])
def test_an_injected_divergence_is_found_and_named(
    mock_url: str, faulty_url: str, fault: str, key: str, seed: int
) -> None:
    # Not shrunk and at most three rounds, to keep the suite short (shrinking and the rounds'
    # end are proven below): the key is among the first three found.
    result = run_diff(mock_url, f"{faulty_url}/{fault}", seed=seed, examples=30, shrink=False, rounds=3)
    keys = [line for r in result.results if r.status == FAILED for line in [r.name, *r.details]]
    assert any(key in line for line in keys), keys
    failed = next(r for r in result.results if r.status == FAILED)
    assert [rep.what.split(":")[0] for rep in failed.reproductions] == ["reference", "candidate"]
    assert all(rep.curl.startswith("curl ") for rep in failed.reproductions)


def test_a_divergence_is_reported_once_on_its_shortest_sequence(mock_url: str, faulty_url: str) -> None:
    result = run_diff(mock_url, f"{faulty_url}/default-not-applied", seed=0)
    assert found(result) == ["create_invoice /data/currency"]  # once, though every create shows it
    failed = result.results[0]
    assert len(failed.reproductions) == 2 and "POST" in failed.reproductions[0].what
    assert "currency" not in failed.reproductions[0].curl  # shrunk to a create that omits it


def test_the_command_exits_1_on_a_divergence_and_0_when_alike(mock_url: str, faulty_url: str) -> None:
    args = ["diff", "--reference", mock_url, "--seed", "3", "--max-examples", "5"]
    assert main([*args, "--candidate", f"{faulty_url}/default-not-applied"]) == 1
    sessions = ["--header", "reference:X-Mock-Session=cli-a", "--header", "candidate:X-Mock-Session=cli-b"]
    assert main([*args, "--candidate", mock_url, *sessions]) == 0


def test_the_command_exits_2_when_it_cannot_start(mock_url: str) -> None:
    base = ["diff", "--reference", mock_url]
    assert main([*base, "--candidate", "http://127.0.0.1:9"]) == 2  # nothing listens on port 9
    assert main([*base, "--candidate", mock_url, "--header", "sideways:X=1"]) == 2


def test_two_profiles_of_different_worlds_are_refused(
    mock_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = yaml.safe_load(default_fixtures_path().read_text())
    world["documents"] = world["documents"][:-1]  # one document fewer: not the same world
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(yaml.safe_dump(world))
    args = ["diff", "--reference", mock_url, "--candidate", mock_url, "--candidate-profile", str(smaller)]
    assert main(args) == 2
    assert "3 documents, the candidate's 2" in capsys.readouterr().out


def test_numbers_pair_per_owner_and_a_freed_number_is_unpaired_p19_p67() -> None:
    pairing = Pairing()
    comparer = Comparer(load_spec(default_spec_path()), pairing)
    a, b = "10000000-0000-4000-8000-00000000000a", "20000000-0000-4000-8000-00000000000b"
    comparer.owners = {a: "org-1", b: "org-2"}
    first = {"data": {"uid": a, "invoice_number": "INV-2026-0001"}}
    other_owner = {"data": {"uid": b, "invoice_number": "INV-2026-0001"}}
    assert (
        comparer.answers((200, 200), (first, {"data": {"uid": a, "invoice_number": "INV-2026-1000"}})) == []
    )
    # the same text for another owner is another number: no conflict with the first pair
    assert (
        comparer.answers((200, 200), (other_owner, {"data": {"uid": b, "invoice_number": "INV-2026-1000"}}))
        == []
    )
    assert pairing.number("org-1", "INV-2026-0001") == "INV-2026-1000"
    pairing.forget(pairing.number_key("org-1", "INV-2026-0001"))
    assert pairing.number("org-1", "INV-2026-0001") == "INV-2026-0001"


def test_identical_line_items_face_their_pairs_p15() -> None:
    pairing = Pairing()
    comparer = Comparer(load_spec(default_spec_path()), pairing)
    ids = [str(uuid.UUID(int=n)) for n in range(1, 5)]
    line = {"sku": "SKU-001", "quantity": 1}
    ref = {"line_items": [{"uid": ids[0], **line}, {"uid": ids[1], **line}]}
    cand = {"line_items": [{"uid": ids[2], **line}, {"uid": ids[3], **line}]}
    assert comparer.answers((200, 200), (ref, cand)) == []
    # later, in another order: each line still faces the line it was paired with
    ref["line_items"].reverse()
    assert comparer.answers((200, 200), (ref, cand)) == []
