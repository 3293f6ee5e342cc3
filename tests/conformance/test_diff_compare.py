"""The differential run's comparison: two answers field by field, generated values by role, the
precision table's open rows tolerated (and only those), over real answers of two servers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.diff.compare import TOLERATED, Comparer
from conformance.diff.pairing import Pairing, PairingError
from conformance.profile import load_profile, profile_from_dict
from contract.facts import read_facts
from contract.precision import precision_rows
from contract.spec import default_spec_path, load_spec

SPEC = load_spec(default_spec_path())
FACTS = read_facts(SPEC)
PROFILE = load_profile(None, FACTS)
A, B = "10000000-0000-4000-8000-00000000000a", "20000000-0000-4000-8000-00000000000b"


def compare(
    ref: Any, cand: Any, status: tuple[int, int] = (200, 200), pairing: Pairing | None = None
) -> list[str]:
    comparer = Comparer(SPEC, pairing or Pairing())
    return [d.pointer for d in comparer.answers(status, (ref, cand))]


def test_every_tolerance_is_an_open_row_of_the_table() -> None:
    rows = precision_rows(SPEC)
    assert all(rows[row].open for row in TOLERATED), [r for r in TOLERATED if not rows[r].open]


def test_a_different_status_is_one_divergence_and_nothing_else_is_compared() -> None:
    assert compare({"a": 1}, {"b": 2}, (200, 404)) == [""]


def test_a_documented_field_missing_diverges_an_undocumented_extra_does_not_p25() -> None:
    assert compare({"data": {"currency": "USD"}}, {"data": {}}) == ["/data/currency"]
    assert compare({"data": {}}, {"data": {"x_vendor_extension": 1}}) == []


def test_generated_values_pair_by_role_once_and_for_all_p19() -> None:
    pairing = Pairing()
    first = {"data": {"uid": A, "invoice_number": "INV-2026-0001"}}
    other = {"data": {"uid": B, "invoice_number": "INV-2026-0042"}}
    assert compare(first, other, pairing=pairing) == []
    assert pairing.translate({"uids": [A]}) == {"uids": [B]}
    # the same reference invoice answered as another candidate invoice later: a divergence
    assert compare(
        first, {"data": {"uid": B.replace("b", "c"), "invoice_number": "INV-2026-0042"}}, pairing=pairing
    ) == ["/data/uid"]


def test_line_items_compare_as_a_multiset_p15() -> None:
    one, two = {"uid": A, "quantity": 1}, {"uid": B, "quantity": 2}
    assert compare({"line_items": [one, two]}, {"line_items": [two, one]}) == []
    assert compare({"line_items": [one, two]}, {"line_items": [two, two]}) != []


def test_instants_and_numbers_compare_by_value_not_text_p23_p39() -> None:
    assert (
        compare({"d": "2026-01-02T03:04:05Z", "t": 1680}, {"d": "2026-01-02T03:04:05.000+00:00", "t": 1680.0})
        == []
    )
    assert compare({"d": "2026-01-02T03:04:05Z"}, {"d": "2026-01-02T03:04:06Z"}) == ["/d"]
    assert compare({"t": True}, {"t": 1}) == ["/t"]


def test_errors_match_on_a_common_field_in_either_form_p11_p47_p48() -> None:
    ref = {"message": "Invalid.", "errors": [{"field": "/invoice_fields/terms/value", "code": "type"}]}
    cand = {
        "message": "Bad.",
        "errors": [{"field": "invoice_fields.terms.value", "code": "E42"}, {"field": "/x"}],
    }
    assert compare(ref, cand, (422, 422)) == []
    assert compare(ref, {"message": "Bad.", "errors": [{"field": "/currency"}]}, (422, 422)) == ["/errors"]


def test_links_compare_by_page_parameters_and_prev_past_the_end_is_open_p10_p49() -> None:
    ref = {"items": [], "_links": {"self": "/api/invoices?page=9&per_page=2", "next": None, "prev": None}}
    cand: dict[str, Any] = {
        "items": [],
        "_links": {"self": "http://h/api/invoices?per_page=2&page=9", "next": None, "prev": "/x?page=8"},
    }
    assert compare(ref, cand) == []
    cand["_links"]["self"] = "/api/invoices?page=8&per_page=2"
    assert compare(ref, cand) == ["/_links/self"]


def test_profiles_of_different_worlds_cannot_be_paired() -> None:
    small = profile_from_dict({"organizations": [], "parties": [], "users": [], "documents": []}, FACTS)
    with pytest.raises(PairingError, match="users"):
        Pairing.of_profiles(PROFILE, small)
    assert Pairing.of_profiles(PROFILE, PROFILE).translate(PROFILE.tokens[0]) == PROFILE.tokens[0]


def _create_and_read(base_url: str, body: dict[str, Any], token: str) -> list[tuple[int, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        created = client.post("/api/invoices", json=body)
        answers = [(created.status_code, created.json())]
        uid = created.json().get("data", {}).get("uid", "00000000-0000-4000-8000-000000000000")
        read = client.get(f"/api/invoices/{uid}")
        answers.append((read.status_code, read.json()))
        refused = client.post("/api/invoices", json={**body, "currency": 5})
        answers.append((refused.status_code, refused.json()))
    return answers


def _divergences(reference: str, candidate: str) -> list[str]:
    """Create, read and a refused create on both servers; the divergences of the three answers."""
    combo = next(c for c in PROFILE.combinations() if c.owner)
    body = {
        **combo.body(),
        "issue_date": "2026-03-01T10:00:00Z",
        "invoice_fields": {"terms": {"type": "String", "value": "net 30"}},
    }
    comparer = Comparer(SPEC, Pairing.of_profiles(PROFILE, PROFILE))
    answers = _create_and_read(reference, body, combo.token)
    assert [status for status, _ in answers] == [200, 200, 422]  # the reference served the sequence
    pairs = zip(
        answers,
        _create_and_read(candidate, body, combo.token),
        strict=True,
    )
    return [str(d) for ref, cand in pairs for d in comparer.answers((ref[0], cand[0]), (ref[1], cand[1]))]


def test_the_mock_and_the_second_server_agree_on_create_read_and_a_refusal(
    mock_url: str, second_url: str
) -> None:
    assert _divergences(mock_url, second_url) == []
    assert _divergences(mock_url, mock_url) == []


@pytest.mark.parametrize(
    ("fault", "pointer"),
    [
        ("default-not-applied", "/data/currency"),
        ("date-not-echoed", "/data/issue_date"),
        ("fields-as-map", "/data/invoice_fields"),
    ],
)
def test_an_injected_divergence_is_found_where_it_is(
    mock_url: str, faulty_url: str, fault: str, pointer: str
) -> None:
    found = _divergences(mock_url, f"{faulty_url}/{fault}")
    assert found and all(pointer in line for line in found[:1]), found
