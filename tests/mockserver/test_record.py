"""Record mode (issue 20 item 2): `--proxy URL --record FILE` keeps what the upstream answered as
a world file, and `--world FILE` serves it: the same invoices, answered the same way, offline.

The upstream is a mock on the default fixtures, so what was inferred can be held against what is
known: the recorded product, blueprint and parties are the fixtures' own, and every invoice read
back from a mock started on the recording is the upstream's answer, field for field.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.world import load_world, parse_world
from mockserver.proxy.app import create_proxy_app
from mockserver.proxy.recorder import RecordFileError, YamlTexts, dump
from mockserver.proxy.recording import Recording
from tests.conformance.faults import FAULTS
from tests.mockserver.support import (
    NOW,
    ORG_A,
    ORG_B,
    SPEC_PATH,
    USER_A,
    WORLD,
    auth,
    blueprint_of,
    body_for,
    bulk_delete,
    bulk_update,
    create_app,
    created,
    lines_ok,
    product_of,
    read,
    updated,
    user_of,
)
from tests.servers import ServerProcess, refused_at_start, serve
from tests.world import FACTS

USER_B = user_of(ORG_B)


Exchange = tuple[str, str, "str | None", Any, Any]  # operation, invoice uid, token, request, data


@contextlib.contextmanager
def recording_proxy(
    upstream: Any, record: Path, seen: list[Exchange] | None = None
) -> Iterator[httpx.Client]:
    """A client of a recording proxy (uvicorn, 127.0.0.1) in front of `upstream` (an ASGI app);
    `seen` collects what the recorder was handed.

    Leaving the block stops the proxy as uvicorn does (its lifespan's shutdown writes the file).
    """
    with serve(upstream) as upstream_url:
        proxy = create_proxy_app(upstream_url, SPEC_PATH, record=record)
        recorder = proxy.recorder
        assert recorder is not None
        if seen is not None:
            observe = recorder.observe

            def keep(
                operation: str,
                invoice_uid: str,
                headers: dict[str, str],
                request: Any,
                status: int,
                answer: Any,
            ) -> None:
                if 200 <= status < 300:  # what the recorder reads (not the servers' start-up probe)
                    token = headers.get("authorization", " ").split(" ", 1)[1]
                    seen.append((operation, invoice_uid, token, request, answer.get("data")))
                observe(operation, invoice_uid, headers, request, status, answer)

            recorder.observe = keep  # type: ignore[method-assign]
        with serve(proxy) as proxy_url, httpx.Client(base_url=proxy_url, timeout=30) as client:
            yield client


def a_morning(client: httpx.Client) -> dict[str, Any]:
    """What a frontend does in a morning: creates, line items, updates, a bulk change, a delete,
    a list, a read by another organization. Returns the uids of what should be kept, and of the
    one deleted."""
    plain = created(client, body_for(status="SENT", invoice_fields={"po": {"type": "str", "value": "PO-7"}}))
    priced = created(client, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid))
    product = product_of(ORG_A, "PRODUCT")
    added = lines_ok(
        client, "POST", plain["uid"], [{"context_type": "PRODUCT", "sku": product.sku, "quantity": 2}]
    )
    lines_ok(  # its own price: the line shows nothing of the product's
        client,
        "POST",
        plain["uid"],
        {"context_type": "PRODUCT", "sku": product.sku, "quantity": 1, "unit_price": 7},
    )
    lines_ok(client, "PUT", plain["uid"], [{"uid": added[0]["uid"], "quantity": 3}])
    lines_ok(client, "DELETE", priced["uid"], [priced["line_items"][0]["uid"]])
    updated(client, priced["uid"], {"status": "SENT", "due_date": "2026-06-30T00:00:00Z"})
    assert bulk_update(client, [{"uid": plain["uid"], "currency": "EUR"}]).status_code == 200
    gone = created(client, body_for())
    assert bulk_delete(client, [gone["uid"]]).status_code == 200
    other = created(client, body_for(ORG_B), USER_B)
    assert client.get("/api/invoices", headers=auth(USER_A)).status_code == 200
    return {"kept": [plain["uid"], priced["uid"], other["uid"]], "gone": gone["uid"]}


def test_a_recorded_morning_is_served_again_offline_as_the_upstream_answered(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    upstream = create_app(clock=NOW)
    with recording_proxy(upstream, record) as client:
        morning = a_morning(client)
        answers = {
            uid: read(client, uid, USER_B if i == 2 else USER_A) for i, uid in enumerate(morning["kept"])
        }

    text = record.read_text(encoding="utf-8")
    assert USER_A.token not in text and USER_B.token not in text, "tokens are never written"
    world = load_world(record)  # the world file's schema and cross-checks, as the mock reads it
    assert [entry["uid"] for entry in world.invoices] == morning["kept"]
    assert {user.token for user in world.users.values()} == {"recorded-1", "recorded-2"}
    recorded_a = next(user for user in world.users.values() if ORG_A in user.organizations)

    replay = create_app(fixtures_path=record, clock=NOW, validate_responses=True).test_client()
    for uid, answer in answers.items():
        token = recorded_a.token if answer["uid"] != morning["kept"][2] else "recorded-2"
        again = replay.get(f"/api/invoices/{uid}", headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200, again.text
        assert again.json()["data"] == answer, "the recorded invoice reads back as the upstream answered it"
    gone = replay.get(
        f"/api/invoices/{morning['gone']}", headers={"Authorization": f"Bearer {recorded_a.token}"}
    )
    assert gone.status_code == 404, "an invoice deleted while recording is not in the world"


def test_what_the_answers_name_is_inferred_as_the_upstream_has_it(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        a_morning(client)
    world = load_world(record)
    product = product_of(ORG_A, "PRODUCT")
    assert list(world.products.values()) == [product], "a sku line without unit_price shows its product"
    expected = blueprint_of(ORG_A)
    blueprint = world.blueprints[expected.uid]
    assert (blueprint.line_items, blueprint.invoice_fields, blueprint.invoice_notes) == (
        expected.line_items,
        expected.invoice_fields,
        expected.invoice_notes,
    ), "a create that named the blueprint shows its lines, fields and notes"
    for uid, organization in world.organizations.items():
        assert organization == WORLD.organizations[uid]
    for uid, party in world.parties.items():
        known = WORLD.parties[uid]
        assert (party.name, party.billing_contact) == (known.name, known.billing_contact)
        assert party.billable_by <= known.billable_by and party.billable_by
    document = next(iter(world.documents.values()))
    assert document.filename == WORLD.documents[document.uid].filename, "a list shows a document's filename"


def test_a_recorded_world_makes_new_invoices_as_the_upstream_would(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    upstream = create_app(clock=NOW).test_client()
    with recording_proxy(create_app(clock=NOW), record) as client:
        first = created(client, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid))
    replay = create_app(fixtures_path=record, clock=NOW).test_client()
    token = {"Authorization": "Bearer recorded-1"}
    made = replay.post(
        "/api/invoices", json=body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid), headers=token
    )
    assert made.status_code == 200, made.text
    created(upstream, body_for())  # the upstream's second number, for comparison
    expected = created(upstream, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid))
    assert made.json()["data"]["invoice_number"] == expected["invoice_number"] != first["invoice_number"]
    money = ("subtotal_cents", "discount_cents", "tax_cents", "total_cents")
    assert {k: made.json()["data"][k] for k in money} == {k: expected[k] for k in money}


def test_every_fresh_session_starts_with_the_world_s_invoices_and_a_reset_brings_them_back(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        uid = created(client, body_for())["uid"]
    replay = create_app(fixtures_path=record, clock=NOW).test_client()
    token = {"Authorization": "Bearer recorded-1"}
    in_session = {**token, "X-Mock-Session": "alice"}
    assert replay.request("DELETE", "/api/invoices", json=[uid], headers=in_session).status_code == 200
    assert replay.get(f"/api/invoices/{uid}", headers=in_session).status_code == 404
    assert replay.get(f"/api/invoices/{uid}", headers=token).status_code == 200, "other sessions keep it"
    assert replay.post("/__mock/reset", headers={"X-Mock-Session": "alice"}).status_code == 200
    assert replay.get(f"/api/invoices/{uid}", headers=in_session).status_code == 200, "a reset brings it back"


@pytest.mark.e2e
def test_a_changed_seed_survives_a_restart_with_a_state_file(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        kept, gone = (created(client, body_for())["uid"] for _ in range(2))
    token = {"Authorization": "Bearer recorded-1"}
    state = tmp_path / "state.db"
    with ServerProcess.mock(tmp_path, "--world", str(record), "--state-file", str(state)) as mock:
        changed = httpx.put(f"{mock.base_url}/api/invoices/{kept}", json={"status": "PAID"}, headers=token)
        assert changed.status_code == 200, changed.text
        deleted = httpx.request("DELETE", f"{mock.base_url}/api/invoices", json=[gone], headers=token)
        assert deleted.status_code == 200, deleted.text
    with ServerProcess.mock(tmp_path, "--world", str(record), "--state-file", str(state)) as mock:
        again = httpx.get(f"{mock.base_url}/api/invoices/{kept}", headers=token)
        assert (again.status_code, again.json()["data"]["status"]) == (200, "PAID")
        assert httpx.get(f"{mock.base_url}/api/invoices/{gone}", headers=token).status_code == 404
        fresh = {**token, "X-Mock-Session": "new"}
        assert httpx.get(f"{mock.base_url}/api/invoices/{gone}", headers=fresh).status_code == 200


def test_an_answer_that_breaks_the_contract_is_not_recorded(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    fault = FAULTS["total-as-string"]
    fault.memory, fault.app = {}, create_app(clock=NOW)
    with recording_proxy(fault, record) as client:
        answer = client.post("/api/invoices", json=body_for(), headers=auth(USER_A))
        assert answer.headers["x-contract-violations"] != "0"
    assert load_world(record).invoices == ()


def test_a_second_recording_continues_the_file(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        first = created(client, body_for())["uid"]
    with recording_proxy(create_app(clock=NOW), record) as client:
        second = created(client, body_for(invoice_number="MORNING-2"))["uid"]
        created(client, body_for(ORG_B), USER_B)
    world = load_world(record)
    assert [entry["uid"] for entry in world.invoices][:2] == [first, second]
    assert sorted(world.users) == ["recorded-1", "recorded-2", "recorded-3"], (
        "a token of the second run is new to the recording: its placeholders cannot be matched"
    )


def test_a_record_file_that_is_not_a_world_is_refused_and_left_alone(tmp_path: Path):
    record = tmp_path / "notes.yaml"
    record.write_text("shopping: [milk]\n", encoding="utf-8")
    with pytest.raises(RecordFileError, match="unknown key 'shopping'"):
        create_proxy_app("http://127.0.0.1:1", SPEC_PATH, record=record)
    assert record.read_text(encoding="utf-8") == "shopping: [milk]\n"


def test_a_world_s_invoice_must_name_what_the_world_has(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        created(client, body_for())
    data = yaml.safe_load(record.read_text(encoding="utf-8"))
    data["invoices"][0]["document_uid"] = "99999999-9999-4999-8999-999999999999"
    record.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = refused_at_start("--world", str(record))
    assert result.returncode == 2, result
    assert "invoices[0].document_uid: no document '99999999-9999-4999-8999-999999999999'" in result.stderr


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--record", "x.yaml"], "--record FILE records what a --proxy URL answers: add --proxy"),
        (
            ["--proxy", "http://127.0.0.1:1", "--record", "/no/such/folder/x.yaml"],
            "cannot write the recording",
        ),
    ],
)
def test_record_options_that_cannot_work_are_one_line_and_exit_2(args: list[str], complaint: str):
    result = refused_at_start(*args)
    assert result.returncode == 2, result
    assert complaint in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_put_fixtures_brings_a_world_s_invoices_or_refuses_it_whole(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with recording_proxy(create_app(clock=NOW), record) as client:
        uid = created(client, body_for())["uid"]
    world = yaml.safe_load(record.read_text(encoding="utf-8"))
    mock = create_app(clock=NOW).test_client()
    loaded = mock.put("/__mock/fixtures", json=world)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["data"]["loaded"]["invoices"] == 1
    assert mock.get(f"/api/invoices/{uid}", headers={"Authorization": "Bearer recorded-1"}).status_code == 200
    line = {
        "uid": "99999999-9999-4999-8999-999999999999",
        "context_type_uid": uid,
        "context_type": "DISCOUNT",
    }
    world["invoices"][0]["line_items"] = [
        {**line, "context_name": "more off than on", "quantity": 1, "unit_price": 5}
    ]
    refused = mock.put("/__mock/fixtures", json=world)
    assert refused.status_code == 422, refused.text
    assert "invoices[0]: discounts exceed subtotal plus tax" in refused.json()["message"]


@pytest.mark.e2e
def test_the_record_command_in_front_of_the_mock(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    with (
        ServerProcess.mock(tmp_path) as upstream,
        ServerProcess.mock(tmp_path, "--proxy", upstream.base_url, "--record", str(record)) as proxy,
    ):
        assert f"recording to {record}" in proxy.stdout
        made = httpx.post(f"{proxy.base_url}/api/invoices", json=body_for(), headers=auth(USER_A), timeout=30)
        assert made.status_code == 200, made.text
    assert [entry["uid"] for entry in load_world(record).invoices] == [made.json()["data"]["uid"]]


def test_an_invoice_renumbered_unseen_gives_its_old_number_up(tmp_path: Path):
    record = tmp_path / "staging.yaml"
    upstream = create_app(clock=NOW)
    with serve(upstream) as upstream_url, recording_proxy(upstream, record) as client:
        first = created(client, body_for())
        behind = httpx.put(  # straight to the upstream: the proxy does not see the renumbering
            f"{upstream_url}/api/invoices/{first['uid']}",
            json={"invoice_number": "RENAMED-1"},
            headers=auth(USER_A),
        )
        assert behind.status_code == 200, behind.text
        second = created(client, body_for(invoice_number=first["invoice_number"]))
    world = load_world(record)  # one number, one invoice: the file is still a world the mock reads
    assert [entry["uid"] for entry in world.invoices] == [second["uid"]]


@pytest.fixture(scope="module")
def exchanges(tmp_path_factory: pytest.TempPathFactory) -> list[Exchange]:
    """What the recorder is handed in a morning against the mock."""
    seen: list[Exchange] = []
    with recording_proxy(create_app(clock=NOW), tmp_path_factory.mktemp("record") / "w.yaml", seen) as client:
        a_morning(client)
    return seen


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _mutated(draw: Any, data: Any, uids: list[str]) -> Any:
    """`data` with one node deleted, or replaced by any JSON value or a uid from elsewhere."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(list(_paths(data))))
    if not path:
        return draw(JSON)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON | st.sampled_from(uids))
    return data


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_answer_leaves_the_recording_half_changed_or_crashes_it(exchanges: list[Exchange], data: Any):
    """Bounded fuzz: sequences of the morning's exchanges, one in three answers mutated. Each is
    recorded whole or refused whole (with one of the errors the recorder catches), and the
    recording of unmutated answers is always a world the mock reads."""
    uids = sorted(
        {
            value
            for ex in exchanges
            for path in _paths(ex[4])
            if isinstance(value := _at(ex[4], path), str) and len(value) == 36
        }
    )
    recording = Recording(FACTS)
    mutated_any = False
    for _ in range(data.draw(st.integers(1, 8))):
        operation, uid, token, request, answer = data.draw(st.sampled_from(exchanges))
        if data.draw(st.integers(0, 2)) == 0:
            answer, mutated_any = _mutated(data.draw, answer, uids), True
        before = copy.deepcopy(recording.document())  # a kept entry is never changed in place
        try:
            recording.apply(operation, uid, token, request, answer)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            assert recording.document() == before, "a refused answer changed nothing"
        if not mutated_any:
            parse_world(recording.document())


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def test_the_file_is_the_yaml_of_the_whole_recording_made_entry_by_entry(exchanges: list[Exchange]):
    recording, texts = Recording(FACTS), YamlTexts()
    for operation, uid, token, request, answer in exchanges:
        recording.apply(operation, uid, token, request, answer)
        document = recording.document()
        assert texts.document(document) == dump(document)
