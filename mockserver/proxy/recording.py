"""Record mode's inference: what the proxy's successful exchanges say about the upstream's world.

A world file needs organizations, parties, documents, blueprints, products, users and invoices;
the API never lists most of them, so each is read off the answers that name it:

* an invoice from every full answer (create, get, update, bulk update), its owner from the create
  body's `owner_uid`, else from its parties (InvoiceParties `x-client-by-invoice-type`);
  line-item answers change its lines, a bulk delete removes it: the file is the world as it
  was last seen;
* the owner organization and the target party from the invoice's `parties`; a party is billable
  by every owner seen invoicing it;
* a document from `document_uid` (its filename once a list shows its `parent_contract`, as a
  blueprint's `is_active` once a list shows it);
* a blueprint from a create that named one: the answer's lines, fields and notes are the
  blueprint's (P46, P52), less what the request sent;
* a product from a line-item create that named a `sku` and no `unit_price` (P68);
* a user per bearer token that got a 2xx, with the organizations it acted for. The token is
  never kept: the recording holds a SHA-256 of it, the file a placeholder (`recorded-1`, …).

What cannot be read off an answer is a placeholder that says so (a document's filename, a
blueprint's name, a user's name). Each exchange becomes one `Change`: everything is read off the
answer first, the new entries are checked against the world file's schema, and only then kept,
all together. So no answer, however malformed, leaves the recording half-changed or makes the
file the mock reads invalid: it is refused whole (`WorldError`, or the error reading it raised).
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from contract.facts import ContractFacts
from contract.worldfile import WorldError, check_normal_world_data

logger = logging.getLogger("mockserver.proxy")
Entry = dict[str, Any]
PLACEHOLDER_TOKEN = "recorded-{n}"
# The world file's sections, in its order; a section's entries are keyed by uid (products by
# owner and sku, users by the token's digest).
KINDS = ("organizations", "parties", "users", "documents", "invoice_blueprints", "products", "invoices")
BLUEPRINT_LINE_KEYS = ("context_type_uid", "context_type", "context_name", "quantity", "unit_price")


def _contact(data: Entry) -> Entry:
    contact = {key: data[key] for key in ("uid", "name", "email")}
    contact.update({key: data[key] for key in ("title", "phone") if data.get(key) is not None})
    return contact


def _entity(party: Entry) -> Entry:
    """An organization or party entry (world-file form) from an answer's `Party`."""
    entry: Entry = {"uid": party["uid"], "name": party["name"]}
    if party.get("address") is not None:
        entry["address"] = party["address"]
    entry["billing_contact"] = _contact(party["billing_contact"])
    return entry


def _line(line: Entry, sku: str | None = None) -> Entry:
    entry = {key: line[key] for key in ("uid", "context_type_uid", "context_type", "context_name")}
    entry.update(quantity=line["quantity"], unit_price=line["unit_price"])
    if sku is not None:
        entry["sku"] = sku
    return entry


def _fields(fields: list[Entry]) -> Entry:
    """The answer's field list in the request's map form: the type as it was sent (P13)."""
    return {f["key"]: {"type": f["value"]["original_type"], "value": f["value"]["value"]} for f in fields}


def _notes(notes: Entry | None) -> Entry:
    return {key: value for key, value in (notes or {}).items() if value is not None}


def _product(owner: str, sku: str, line: Entry) -> Entry:
    """A product entry from the line a `sku` made (the answer's major units, in cents)."""
    return {
        "sku": sku,
        "organization_uid": owner,
        "context_type": line["context_type"],
        "context_type_uid": line["context_type_uid"],
        "name": line["context_name"],
        "unit_price": round(line["unit_price"] * 100),
    }


def _number(invoice: Entry) -> tuple[str, str]:
    return (invoice["owner_uid"], invoice["invoice_number"])


def _listed(value: Any) -> list[Any]:
    """A request or answer that is one object or an array of them, as a list."""
    return value if isinstance(value, list) else [value]


@dataclass
class Change:
    """What one exchange changes: entries to put (by section and key) and to remove."""

    puts: list[tuple[str, Any, Entry]] = field(default_factory=list)
    removes: list[tuple[str, Any]] = field(default_factory=list)

    def put(self, kind: str, key: Any, entry: Entry) -> None:
        self.puts.append((kind, key, entry))

    def fragment(self) -> Entry:
        """The entries put, as a world file of their own (to check them against the schema)."""
        sections: Entry = {kind: [] for kind in KINDS}
        for kind, _key, entry in self.puts:
            sections[kind].append(entry)
        return sections


class Recording:
    """The world the proxy has seen so far, in the world file's form (`document()`)."""

    def __init__(self, facts: ContractFacts, start: Entry | None = None) -> None:
        self.facts = facts
        start = copy.deepcopy(start) if start else {}
        self.sections: dict[str, dict[Any, Entry]] = {kind: {} for kind in KINDS}
        self.numbers: dict[tuple[str, str], str] = {}  # (owner, invoice number) -> invoice uid
        for kind in KINDS:
            for entry in start.get(kind, []):
                self._keep(kind, self._key(kind, entry), entry)
        self.changes = 0  # how many exchanges changed the recording (the writer's cue)

    @staticmethod
    def _key(kind: str, entry: Entry) -> Any:
        if kind == "products":
            return (entry["organization_uid"], entry["sku"])
        if kind == "users":  # a continued file's users keep their placeholders
            return f"file:{entry['token']}"
        return entry["uid"]

    def document(self) -> Entry:
        """The recording as a world file's data: safe to dump on another thread while recording
        goes on, as a kept entry is never changed (a change puts a new one), and cheap (no copy
        of the entries: a deep copy of a large recording stalled the proxy's loop for 100 ms)."""
        return {kind: list(entries.values()) for kind, entries in self.sections.items()}

    def apply(self, operation: str, invoice_uid: str, token: str | None, request: Any, data: Any) -> bool:
        """Record one successful exchange of `operation`; False if it shows nothing to keep.

        Raises (KeyError, TypeError, ValueError, …) for an answer it cannot read, and WorldError
        for one whose entries the world file would refuse; the recording is then as it was.
        """
        change = Change()
        if operation == "create_invoice":
            self.invoice(change, data, request["owner_uid"], token)
            if request.get("invoice_blueprint_uid"):
                self.blueprint_from_create(change, request, data)
        elif operation in {"get_invoice", "update_invoice"}:
            self.invoice(change, data, self.owner_of(data), token)
        elif operation == "bulk_update_invoices":
            for invoice in _listed(data):
                self.invoice(change, invoice, self.owner_of(invoice), token)
        elif operation == "bulk_delete_invoices":
            change.removes += [("invoices", uid) for uid in _listed(request) if isinstance(uid, str)]
        elif operation in {"create_line_items", "update_line_items", "delete_line_items"}:
            self.lines(change, operation, invoice_uid, request, data)
        elif operation == "list_invoices":
            self.listed(change, data["items"])
        else:
            return False
        check_normal_world_data(change.fragment())
        for kind, key in change.removes:
            self._keep(kind, key, None)
        for kind, key, entry in change.puts:
            self._keep(kind, key, entry)
        self.changes += 1
        return True

    def _keep(self, kind: str, key: Any, entry: Entry | None) -> None:
        """Put (or, with None, remove) one entry, and keep the index of invoice numbers."""
        old = self.sections[kind].pop(key, None) if entry is None else self.sections[kind].get(key)
        if kind == "invoices" and old is not None:
            self.numbers.pop(_number(old), None)
        if entry is not None:
            self.sections[kind][key] = entry
            if kind == "invoices":
                self.numbers[_number(entry)] = key

    def _latest(self, change: Change, kind: str, key: Any) -> Entry | None:
        """The entry as this change leaves it so far (a bulk answer may name one party twice)."""
        for put_kind, put_key, entry in reversed(change.puts):
            if (put_kind, put_key) == (kind, key):
                return entry
        return self.sections[kind].get(key)

    def user(self, change: Change, token: str, owner: str) -> None:
        """The token's user acts for `owner` (the token itself is kept only as its digest)."""
        key = "sha256:" + hashlib.sha256(token.encode()).hexdigest()
        user = self._latest(change, "users", key)
        if user is None:
            n = len(self.sections["users"]) + 1
            user = {
                "token": PLACEHOLDER_TOKEN.format(n=n),
                "id": n,
                "fullname": f"Recorded user {n}",
                "email": f"recorded-user-{n}@example.invalid",
                "organizations": [],
            }
        change.put("users", key, {**user, "organizations": sorted({*user["organizations"], owner})})

    def owner_of(self, invoice: Entry) -> str:
        """The owner organization: as recorded, else the party `x-client-by-invoice-type` names."""
        known = self.sections["invoices"].get(invoice["uid"])
        if known is not None:
            return str(known["owner_uid"])
        owner_role = "service_provider" if self.facts.client_is_target(invoice["invoice_type"]) else "client"
        return str(invoice["parties"][owner_role]["uid"])

    def invoice(self, change: Change, answer: Entry, owner: str, token: str | None) -> None:
        """A full invoice as answered, and what it names (owner, party, document, blueprint)."""
        target_role = "client" if self.facts.client_is_target(answer["invoice_type"]) else "service_provider"
        owner_role = "service_provider" if target_role == "client" else "client"
        organization = _entity(answer["parties"][owner_role])
        if organization["uid"] != owner:  # a world names an organization by its own uid
            raise WorldError(f"invoice {answer['uid']}: its parties name {organization['uid']}, not {owner}")
        change.put("organizations", owner, organization)
        party = _entity(answer["parties"][target_role])
        known = self._latest(change, "parties", party["uid"]) or {"billable_by": []}
        change.put("parties", party["uid"], {**party, "billable_by": sorted({*known["billable_by"], owner})})
        document = answer["document_uid"]
        if self._latest(change, "documents", document) is None:
            filename = f"(recorded: document {document})"
            change.put(
                "documents", document, {"uid": document, "organization_uid": owner, "filename": filename}
            )
        blueprint = answer.get("invoice_blueprint_uid")
        if blueprint is not None and self._latest(change, "invoice_blueprints", blueprint) is None:
            entry = {
                "uid": blueprint,
                "organization_uid": owner,
                "name": f"(recorded: blueprint {blueprint})",
            }
            change.put("invoice_blueprints", blueprint, entry)
        for kind, uid in (("documents", document), ("invoice_blueprints", blueprint)):
            named = self._latest(change, kind, uid)
            if named is not None and named["organization_uid"] != owner:  # the mock would refuse the file
                raise WorldError(
                    f"invoice {answer['uid']}: {kind} {uid} is {named['organization_uid']}'s, not {owner}'s"
                )
        entry = self.invoice_entry(answer, owner)
        self.renumbered(change, entry)
        change.put("invoices", entry["uid"], entry)
        if token is not None:
            self.user(change, token, owner)

    def renumbered(self, change: Change, entry: Entry) -> None:
        """An invoice answered with a number another recorded invoice of its owner holds: that one
        was renumbered since it was seen (P19, numbers are unique per owner), its entry is stale and
        goes (a world names each number once)."""
        number = (entry["owner_uid"], entry["invoice_number"])
        holders = [self.numbers.get(number)]
        holders += [key for kind, key, put in change.puts if kind == "invoices" and _number(put) == number]
        for holder in holders:
            if holder is not None and holder != entry["uid"]:
                logger.warning(
                    "recording: invoice %s dropped: its number %s is now %s's",
                    holder,
                    number[1],
                    entry["uid"],
                )
                change.puts = [put for put in change.puts if put[:2] != ("invoices", holder)]
                change.removes.append(("invoices", holder))

    def invoice_entry(self, answer: Entry, owner: str) -> Entry:
        """A full invoice answer in the world file's `invoices` form (money is the lines')."""
        kept = self.sections["invoices"].get(answer["uid"], {})
        skus = {line["uid"]: line["sku"] for line in kept.get("line_items", []) if "sku" in line}
        entry: Entry = {"uid": answer["uid"], "owner_uid": owner}
        for key in ("target_party_uid", "document_uid", "invoice_blueprint_uid", "invoice_number"):
            entry[key] = answer[key]
        for key in ("invoice_type", "status", "currency", "collection_method"):
            entry[key] = answer[key]
        for key in ("issue_date", "due_date", "paid_date"):
            entry[key] = answer[key]
        entry["invoice_fields"] = _fields(answer["invoice_fields"])
        entry["invoice_notes"] = _notes(answer["invoice_notes"])
        entry["line_items"] = [_line(line, skus.get(line["uid"])) for line in answer["line_items"]]
        return {key: value for key, value in entry.items() if value is not None}

    def blueprint_from_create(self, change: Change, request: Entry, answer: Entry) -> None:
        """A create that named a blueprint shows its content: lines, fields (less the request's), notes."""
        uid = request["invoice_blueprint_uid"]
        sent = request.get("invoice_fields") or {}
        entry = {**(self._latest(change, "invoice_blueprints", uid) or {})}
        entry["line_items"] = [
            {key: line[key] for key in BLUEPRINT_LINE_KEYS} for line in answer["line_items"]
        ]
        entry["invoice_fields"] = {
            k: v for k, v in _fields(answer["invoice_fields"]).items() if k not in sent
        }
        entry["invoice_notes"] = _notes(answer["invoice_notes"])
        change.put("invoice_blueprints", uid, entry)

    def lines(self, change: Change, operation: str, invoice_uid: str, request: Any, answer: Any) -> None:
        """A line-item answer changes the lines of a recorded invoice (one never seen whole: nothing)."""
        invoice = self.sections["invoices"].get(invoice_uid)
        if invoice is None:
            return
        lines, owner = invoice["line_items"], invoice["owner_uid"]
        if operation == "create_line_items":
            pairs = list(zip(_listed(request), _listed(answer), strict=True))
            # A line already there came with a read answered first (concurrent requests): replaced.
            added = {line["uid"]: _line(line, item.get("sku")) for item, line in pairs}
            there = {line["uid"] for line in lines}
            lines = [added.get(line["uid"], line) for line in lines]
            lines += [line for uid, line in added.items() if uid not in there]
            for item, line in pairs:  # a line without unit_price shows its product's own price (P68)
                if "unit_price" not in item:
                    change.put("products", (owner, item["sku"]), _product(owner, item["sku"], line))
        elif operation == "update_line_items":
            sent = {item["uid"]: item for item in _listed(request)}
            made = {line["uid"]: line for line in _listed(answer)}
            lines = [
                _line(made[line["uid"]], sent.get(line["uid"], {}).get("sku", line.get("sku")))
                if line["uid"] in made
                else line
                for line in lines
            ]
        else:
            gone = {uid for uid in _listed(request) if isinstance(uid, str)}
            lines = [line for line in lines if line["uid"] not in gone]
        change.put("invoices", invoice_uid, {**invoice, "line_items": lines})

    def listed(self, change: Change, items: list[Entry]) -> None:
        """A list page shows each invoice's document (`parent_contract`) and its blueprint's `is_active`."""
        for item in items:
            contract = item["parent_contract"]
            document = self._latest(change, "documents", contract["uid"])
            if document is not None:
                shown = {"filename": contract["filename"], "is_archived": contract["is_archived"]}
                change.put("documents", contract["uid"], {**document, **shown})
            blueprint_uid = self.sections["invoices"].get(item["uid"], {}).get("invoice_blueprint_uid")
            blueprint = self._latest(change, "invoice_blueprints", blueprint_uid)
            if blueprint is not None and item.get("blueprint") is not None:
                is_active = item["blueprint"]["is_active"]
                change.put("invoice_blueprints", blueprint_uid, {**blueprint, "is_active": is_active})
