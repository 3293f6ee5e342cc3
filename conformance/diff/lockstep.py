"""The differential run's sequences: one Hypothesis state machine driving two servers in lockstep.

Each step renders one request, sends it to the reference as drawn and to the candidate as the
`Pairing` translates it (its tokens, its uids, its numbers), and compares the two answers with
the `Comparer`. There is no model of what either answer should be: the reference is the model.
A step whose answers differ raises `Divergent`, keyed `<operation> <pointer>`, unless the run
already reported that key (`ignored`): the command re-runs with the keys found so far left out,
so each divergence is reported once. An invoice whose answers differed in an ignored key is no
longer used: every later read of it would only repeat the same difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, precondition, rule

from conformance import expect
from conformance import strategies as gen
from conformance.client import Client, Exchange
from conformance.core import Context, Violation, hypothesis_settings, run_seeded
from conformance.diff.compare import Comparer, Divergence
from conformance.diff.pairing import Pairing
from conformance.profile import Combination
from conformance.properties.lifecycle import changes, line_requests, quantities
from contract.spec import iter_operations

ITEM_INDEX = re.compile(r"/\d+(?=/|$)")
MAX_PER_PAGE = 100


class Divergent(Violation):
    """The two servers answered one request differently; `keys` name each new difference."""

    def __init__(self, keys: list[str], found: list[Divergence], reference: Exchange, candidate: Exchange):
        lines = "; ".join(str(d) for d in found)
        super().__init__(f"{keys[0].split(' ', 1)[0]}: {lines}", reference, candidate)
        self.keys = keys
        self.divergences = found


@dataclass
class Twin:
    """An invoice both servers made in the same step, named by the reference's uid."""

    uid: str
    combo: Combination
    data: dict[str, Any]  # the reference's last answer for it
    deleted: bool = False
    freed: str = ""  # the candidate's number of a deleted invoice (free again on both, P67)


@dataclass
class Lockstep:
    """The two servers and what pairs their worlds; `ctx.client` is the reference."""

    ctx: Context
    candidate: Client
    pairing: Pairing
    ignored: frozenset[str] = frozenset()
    comparer: Comparer = field(init=False)

    def __post_init__(self) -> None:
        self.comparer = Comparer(self.ctx.spec, self.pairing)

    def both(
        self,
        operation: str,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        *,
        uid: str = "",
        view: Any = None,
        owner: str = "",
        theirs: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Exchange, Exchange, bool]:
        """Send one request to both servers; (reference, candidate, whether they differed at all).

        `view` (a function of the two parsed bodies) narrows what is compared (a list's page to
        this run's invoices); `owner` is the organization of an invoice the answer makes (its
        number pairs within it); `theirs` is the candidate's body when `translate` cannot make it."""
        translate = self.pairing.translate
        options: dict[str, Any] = {"params": params} if body is None else {"json": body, "params": params}
        reference = self.ctx.client.request(method, path.format(uid=uid), token=token, **options)
        if body is not None:
            options["json"] = translate(body) if theirs is None else theirs
        candidate = self.candidate.request(
            method, path.format(uid=translate(uid)), token=translate(token), **options
        )
        bodies = (reference.json, candidate.json) if view is None else view(reference.json, candidate.json)
        self.comparer.scope = owner
        found = self.comparer.answers((reference.status, candidate.status), bodies)
        new = [d for d in found if key(operation, d) not in self.ignored]
        if new:
            raise Divergent([key(operation, d) for d in new], new, reference, candidate)
        return reference, candidate, bool(found)


def documents(ctx: Context, operation_id: str) -> bool:
    """Whether the contract has the operation. Both servers get every operation it has: one that
    does not serve it answers another status than the other, which is the divergence to report
    (no probe: it would create an invoice on the reference only)."""
    return any(op.get("operationId") == operation_id for _path, _method, op in iter_operations(ctx.spec))


def key(operation: str, divergence: Divergence) -> str:
    """How a divergence is named once: the operation and the JSON pointer (or `status`), its
    array indices made general (`/data/items/*/uid`): the same difference in the third item of a
    page is not another one."""
    return f"{operation} {ITEM_INDEX.sub('/*', divergence.pointer) or 'status'}"


class _Twins(RuleBasedStateMachine):
    lock: Lockstep  # set by `machine_for`

    def __init__(self) -> None:
        super().__init__()
        self.twins: dict[str, Twin] = {}
        # A create or delete that one server did and the other did not (a divergence reported
        # earlier) moves every later invoice to other places of the lists: they are not compared.
        self.apart = False

    def alive(self, owner: str | None = None) -> list[str]:
        """Live invoices in creation order (never sorted by uid: see properties/machine.py)."""
        return [u for u, t in self.twins.items() if not t.deleted and owner in (None, t.combo.owner)]

    def known_numbers(self) -> list[str]:
        """Invoices whose number a create may name: every live one, and a deleted one whose number
        was the same on both servers (the kit supplied it). A deleted invoice's *generated* number
        may have been issued again by either generator since (P67 open): 409 on one side only."""
        return [
            uid
            for uid, twin in self.twins.items()
            if not twin.deleted or twin.freed == twin.data.get("invoice_number")
        ]

    def made(self, combo: Combination, reference: Exchange, _candidate: Exchange, differed: bool) -> None:
        """Both servers made an invoice alike: it joins the twins."""
        data = expect.mapping(expect.mapping(reference.json).get("data"))
        uid = data.get("uid")
        self.apart = self.apart or differed
        if reference.status == 200 and not differed and isinstance(uid, str):
            self.twins[uid] = Twin(uid, combo, data)
            self.lock.comparer.owners[uid] = combo.owner

    def keep(self, twin: Twin, reference: Exchange, differed: bool) -> None:
        """The reference's answer is what the invoice now is; after a tolerated-away difference
        the invoice is dropped (later steps would only repeat it)."""
        if differed:
            self.twins.pop(twin.uid, None)
        elif reference.status == 200:
            twin.data = expect.mapping(expect.mapping(reference.json).get("data"))

    def lines_then_read(self, twin: Twin, operation: str, method: str, body: Any) -> None:
        """A line-item request, then a read of its invoice: the money it shows now (P70)."""
        path = "/api/invoices/{uid}/line_items"
        _, _, differed = self.lock.both(operation, method, path, twin.combo.token, body, uid=twin.uid)
        if differed:
            self.twins.pop(twin.uid, None)
            return
        self.read(twin, twin.combo.token)

    def read(self, twin: Twin, token: str) -> None:
        reference, _, differed = self.lock.both(
            "get_invoice", "GET", "/api/invoices/{uid}", token, uid=twin.uid
        )
        if token == twin.combo.token:
            self.keep(twin, reference, differed)


def machine_for(lock: Lockstep) -> type[RuleBasedStateMachine]:
    """The lockstep machine for one run: only the operations the contract serves get rules."""
    bases = (_create_rules(lock), _read_rules(lock), _change_rules(lock), _line_rules(lock), _Twins)
    return type("Lockstep", bases, {"lock": lock, "__doc__": "Two servers, one sequence."})


def _create_rules(lock: Lockstep) -> type:
    ctx, profile = lock.ctx, lock.ctx.profile
    defects = gen.body_defects(ctx.spec)
    plans = gen.create_plans(profile, ctx.spec)  # drawn through `deferred`: its repr holds the spec

    class CreateRules(_Twins):
        @rule(plan=st.deferred(lambda: plans))
        def create(self, plan: gen.CreatePlan) -> None:
            body = plan.body()
            owner = plan.combo.owner
            reference, _, differed = lock.both(
                "create_invoice", "POST", "/api/invoices", plan.combo.token, body, owner=owner
            )
            self.made(plan.combo, reference, _, differed)

        @precondition(lambda self: bool(self.known_numbers()))
        @rule(data=st.data())
        def create_with_a_known_number(self, data: st.DataObject) -> None:
            """A number a live invoice of the owner has is 409 (P33); a deleted one's is free (P67)."""
            twin = self.twins[data.draw(st.sampled_from(self.known_numbers()), "invoice")]
            number = str(twin.data["invoice_number"])
            body = {**twin.combo.body(), "invoice_number": number}
            theirs = lock.pairing.translate(body) | {
                "invoice_number": twin.freed or lock.pairing.number(twin.combo.owner, number)
            }
            owner = twin.combo.owner
            made = lock.both(
                "create_invoice", "POST", "/api/invoices", twin.combo.token, body, owner=owner, theirs=theirs
            )
            self.made(twin.combo, *made)

        @rule(combo=st.sampled_from(profile.combinations()), data=st.data())
        def create_refused(self, combo: Combination, data: st.DataObject) -> None:
            """A schema break (422 naming its field) or a party the owner may not bill (403)."""
            unbillable = profile.unbillable_parties(combo.owner)
            body = combo.body()
            if bool(unbillable) and data.draw(st.booleans(), "unbillable party"):
                body["target_party_uid"] = data.draw(st.sampled_from(unbillable), "party").uid
            elif defects:
                body = gen.apply_defect(body, data.draw(st.sampled_from(defects), "defect"))
            lock.both("create_invoice", "POST", "/api/invoices", combo.token, body)

    return CreateRules


def _read_rules(lock: Lockstep) -> type:
    profile, types = lock.ctx.profile, gen.invoice_types(lock.ctx.spec)

    class ReadRules(_Twins):
        @precondition(lambda self: bool(self.twins))
        @rule(data=st.data())
        def get(self, data: st.DataObject) -> None:
            """As a member, an outsider or after a delete: the same status and the same invoice."""
            twin = self.twins[data.draw(st.sampled_from(list(self.twins)), "invoice")]
            self.read(twin, data.draw(st.sampled_from(profile.tokens), "token"))

        @precondition(lambda self: bool(self.twins) and not self.apart)
        @rule(
            token=st.sampled_from(profile.tokens),
            kind=st.sampled_from([None, *types]),
            per_page=st.sampled_from([None, 1, 2, 5, MAX_PER_PAGE]),
            page=st.sampled_from([None, 2]),
        )
        def list_a_page(self, token: str, kind: str | None, per_page: int | None, page: int | None) -> None:
            """The first or second page: this run's invoices are the newest on both servers (P04),
            so they fill the same places of the first pages, whatever older data either holds."""
            mine = set(self.twins)
            lock.both(
                "list_invoices",
                "GET",
                "/api/invoices",
                token,
                params={"invoice_type": kind, "per_page": per_page, "page": page},
                view=lambda ref, cand: (
                    _page_of(ref, mine),
                    _page_of(cand, lock.pairing.translate(sorted(mine))),
                ),
            )

    return ReadRules


def _page_of(body: Any, uids: set[str] | list[str]) -> Any:
    """A list answer narrowed to this run's invoices (a real server holds older ones) and to what
    does not count them: the page and its size, `_links.self` and `prev` (`next` and the totals
    count every invoice the token may see)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return body
    wanted = set(uids)
    items = [i for i in expect.sequence(data.get("items")) if isinstance(i, dict) and i.get("uid") in wanted]
    meta = expect.mapping(data.get("_meta"))
    links = {rel: url for rel, url in expect.mapping(data.get("_links")).items() if rel in ("self", "prev")}
    page = {
        "items": items,
        "_links": links,
        "_meta": {k: meta.get(k) for k in ("page", "per_page")},
    }
    return {**body, "data": page}


def _change_rules(lock: Lockstep) -> type:
    ctx = lock.ctx
    updates, deletes = documents(ctx, "update_invoice"), documents(ctx, "bulk_delete_invoices")
    bulk = documents(ctx, "bulk_update_invoices")

    class ChangeRules(_Twins):
        @precondition(lambda self: updates and bool(self.alive()))
        @rule(data=st.data())
        def update(self, data: st.DataObject) -> None:
            twin = self.twins[data.draw(st.sampled_from(self.alive()), "invoice")]
            body = data.draw(changes(ctx, twin.combo.owner), "changes")
            if data.draw(st.booleans(), "renumber"):
                body["invoice_number"] = gen.unique_number(ctx.facts.supplied_number)
            number = str(twin.data.get("invoice_number"))
            reference, _, differed = lock.both(
                "update_invoice", "PUT", "/api/invoices/{uid}", twin.combo.token, body, uid=twin.uid
            )
            self.keep(twin, reference, differed)
            if twin.data.get("invoice_number") != number:  # renumbered: the old one is free (P67)
                lock.pairing.forget(lock.pairing.number_key(twin.combo.owner, number))

        @precondition(lambda self: bulk and bool(self.alive()))
        @rule(data=st.data())
        def bulk_update(self, data: st.DataObject) -> None:
            owner = self.twins[data.draw(st.sampled_from(self.alive()), "first")].combo.owner
            uids = data.draw(
                st.lists(st.sampled_from(self.alive(owner)), min_size=1, max_size=3, unique=True)
            )
            items = [{"uid": uid, **data.draw(changes(ctx, owner, "bulk_update_invoices"))} for uid in uids]
            token = self.twins[uids[0]].combo.token
            reference, _, differed = lock.both("bulk_update_invoices", "PUT", "/api/invoices", token, items)
            answers = expect.sequence(expect.mapping(reference.json).get("data"))
            for uid, answer in zip(uids, answers + [None] * len(uids), strict=False):
                if differed or reference.status != 200 or not isinstance(answer, dict):
                    self.twins.pop(uid, None)
                else:
                    self.twins[uid].data = answer

        @precondition(lambda self: deletes and bool(self.alive()))
        @rule(data=st.data())
        def bulk_delete(self, data: st.DataObject) -> None:
            owner = self.twins[data.draw(st.sampled_from(self.alive()), "first")].combo.owner
            uids = data.draw(
                st.lists(st.sampled_from(self.alive(owner)), min_size=1, max_size=2, unique=True)
            )
            token = self.twins[uids[0]].combo.token
            reference, _, differed = lock.both("bulk_delete_invoices", "DELETE", "/api/invoices", token, uids)
            for uid in uids:
                twin = self.twins[uid]
                if reference.status == 200 and not differed:
                    number = str(twin.data.get("invoice_number"))
                    twin.deleted, twin.freed = True, lock.pairing.number(twin.combo.owner, number)
                    lock.pairing.forget(lock.pairing.number_key(twin.combo.owner, number))  # P67
                else:
                    self.twins.pop(uid, None)
                    self.apart = True

    return ChangeRules


def _line_rules(lock: Lockstep) -> type:
    """Line items added and deleted, each followed by a read of the invoice (its money, P70)."""
    ctx, profile = lock.ctx, lock.ctx.profile
    served = documents(ctx, "create_line_items") and documents(ctx, "delete_line_items")
    changes_lines = served and documents(ctx, "update_line_items")

    def sellable(machine: _Twins) -> list[str]:
        return [u for u in machine.alive() if profile.products_for(machine.twins[u].combo.owner)]

    def lined(machine: _Twins) -> list[str]:
        return [u for u in machine.alive() if expect.sequence(machine.twins[u].data.get("line_items"))]

    class LineRules(_Twins):
        @precondition(lambda self: served and bool(sellable(self)))
        @rule(data=st.data())
        def add_lines(self, data: st.DataObject) -> None:
            twin = self.twins[data.draw(st.sampled_from(sellable(self)), "invoice")]
            catalog = profile.products_for(twin.combo.owner)
            batch = data.draw(st.lists(line_requests(catalog), min_size=1, max_size=2), "lines")
            self.lines_then_read(twin, "create_line_items", "POST", batch)

        @precondition(lambda self: changes_lines and bool(lined(self)))
        @rule(data=st.data())
        def change_line(self, data: st.DataObject) -> None:
            twin = self.twins[data.draw(st.sampled_from(lined(self)), "invoice")]
            line = data.draw(st.sampled_from(expect.sequence(twin.data.get("line_items"))), "line")
            body = {"uid": expect.mapping(line).get("uid"), "quantity": data.draw(quantities(), "quantity")}
            self.lines_then_read(twin, "update_line_items", "PUT", body)

        @precondition(lambda self: served and bool(lined(self)))
        @rule(data=st.data())
        def delete_line(self, data: st.DataObject) -> None:
            twin = self.twins[data.draw(st.sampled_from(lined(self)), "invoice")]
            line = data.draw(st.sampled_from(expect.sequence(twin.data.get("line_items"))), "line")
            self.lines_then_read(twin, "delete_line_items", "DELETE", [expect.mapping(line).get("uid")])

    return LineRules


def run_round(lock: Lockstep, *, seed_value: int, max_examples: int, steps: int, shrink: bool = True) -> None:
    """One Hypothesis run of the lockstep machine; raises the first `Divergent` (shrunk when the
    two servers replay alike, else as first seen)."""
    configured = hypothesis_settings(max_examples, shrink=shrink, stateful_step_count=steps)
    test = get_state_machine_test(machine_for(lock), settings=configured)
    run_seeded(seed(seed_value)(test))
