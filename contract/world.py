"""The test world as typed data: the strict reading of a world file (the mock's fixtures).

`contract.worldfile` checks the file against its schema; this module turns the checked data into
frozen dataclasses indexed by uid (users by token) and cross-checks what a schema cannot say:
every organization referenced exists, uids are unique across kinds, tokens are unique. A mock that
starts on a broken world fails later in ways nobody can trace back, so a broken file is refused
whole, with the entry named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from contract.spec import default_fixtures_path
from contract.worldfile import WorldError, check_world_data, read_world_file


@dataclass(frozen=True)
class Contact:
    uid: str
    name: str
    title: str | None
    email: str
    phone: str | None


@dataclass(frozen=True)
class Organization:
    uid: str
    name: str
    address: str | None
    billing_contact: Contact


@dataclass(frozen=True)
class Party:
    uid: str
    name: str
    address: str | None
    billing_contact: Contact
    billable_by: frozenset[str]


@dataclass(frozen=True)
class User:
    token: str
    id: int
    fullname: str
    email: str
    organizations: frozenset[str]
    avatar: str | None = None
    scopes: frozenset[str] | None = None  # None: a key without scopes, which may do everything
    rate_limit: RateLimit | None = None

    def may(self, scopes: frozenset[str]) -> bool:
        """Whether the key has one of `scopes` (an operation's `x-scopes`; P74)."""
        return self.scopes is None or not scopes or bool(self.scopes & scopes)


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` requests per `window_seconds`, a fixed window (the mock's clock)."""

    requests: int
    window_seconds: int


@dataclass(frozen=True)
class Document:
    uid: str
    organization_uid: str
    filename: str
    is_archived: bool


@dataclass(frozen=True)
class BlueprintLine:
    context_type_uid: str
    context_type: str
    context_name: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class Blueprint:
    uid: str
    organization_uid: str
    name: str
    is_active: bool
    line_items: tuple[BlueprintLine, ...]
    invoice_fields: dict[str, dict[str, Any]]
    invoice_notes: dict[str, str | None]


@dataclass(frozen=True)
class Product:
    """What a line item's `sku` names within its organization (openapi.yaml P68)."""

    sku: str
    organization_uid: str
    context_type: str
    context_type_uid: str
    name: str
    unit_price_cents: int


@dataclass(frozen=True)
class World:
    """Everything the fixtures say, indexed by uid (and users by token)."""

    organizations: dict[str, Organization]
    parties: dict[str, Party]
    users: dict[str, User]
    documents: dict[str, Document]
    blueprints: dict[str, Blueprint]
    app_url: str
    products: dict[tuple[str, str], Product] = field(default_factory=dict)  # (organization_uid, sku)
    # Invoices every fresh session starts with, as the file writes them (checked, cross-checked):
    # the mock makes its own invoices of them (mockserver.domain.seeds), the kit does not use them.
    invoices: tuple[dict[str, Any], ...] = ()
    source: str = field(default="", compare=False)

    def sample_create(self, owner: str, *, priced: bool = True) -> dict[str, str] | None:
        """A create body `owner` may send (None if it has no billable party or no document).

        The party is one only `owner` may bill if there is one (else any it may bill), the document
        its first unarchived one: the body a reader of the world would pick by hand. `priced` adds
        one of its blueprints with line items, so the invoice created shows money.
        """
        parties = [party for party in self.parties.values() if owner in party.billable_by]
        parties.sort(key=lambda party: party.billable_by != {owner})  # stable: file order otherwise
        documents = [doc for doc in self.documents.values() if doc.organization_uid == owner]
        documents.sort(key=lambda doc: doc.is_archived)
        if not parties or not documents:
            return None
        body = {"owner_uid": owner, "target_party_uid": parties[0].uid, "document_uid": documents[0].uid}
        blueprints = [bp for bp in self.blueprints.values() if bp.organization_uid == owner and bp.line_items]
        blueprints.sort(key=lambda bp: not bp.is_active)
        if priced and blueprints:
            body["invoice_blueprint_uid"] = blueprints[0].uid
        return body


def load_world(path: str | Path | None = None) -> World:
    """Read, check and cross-check a fixtures file (default: `contract/fixtures/default.yaml`)."""
    resolved = Path(path) if path is not None else default_fixtures_path()
    data = read_world_file(resolved, "strict", "fixtures file")
    try:
        return _build(data, source=str(resolved))
    except WorldError as error:
        raise WorldError(f"{resolved}: {error}") from None


def parse_world(raw: Any, source: str = "<fixtures>") -> World:
    """Check, cross-check and build a World from parsed YAML or JSON (`PUT /__mock/fixtures`)."""
    return _build(check_world_data(raw, "strict"), source=source)


def _contact(data: dict[str, Any]) -> Contact:
    return Contact(data["uid"], data["name"], data.get("title"), data["email"], data.get("phone"))


def _line(data: dict[str, Any], where: str) -> BlueprintLine:
    amounts = {}
    for key in ("quantity", "unit_price"):
        amount = Decimal(str(data[key]))
        if not amount.is_finite():  # YAML's .inf / .nan: numbers to YAML, not amounts
            raise WorldError(f"{where}.{key}: must be a finite number, got {data[key]!r}")
        amounts[key] = amount
    return BlueprintLine(data["context_type_uid"], data["context_type"], data["context_name"], **amounts)


def _blueprint(data: dict[str, Any], where: str) -> Blueprint:
    notes = data.get("invoice_notes", {})
    return Blueprint(
        uid=data["uid"],
        organization_uid=data["organization_uid"],
        name=data["name"],
        is_active=data["is_active"],
        line_items=tuple(
            _line(line, f"{where}.line_items[{j}]") for j, line in enumerate(data.get("line_items", []))
        ),
        invoice_fields={
            key: {"type": value["type"], "value": value["value"]}
            for key, value in data.get("invoice_fields", {}).items()
        },
        invoice_notes={key: notes.get(key) for key in ("invoice_memo", "invoice_footer")},
    )


def _build(data: dict[str, Any], source: str) -> World:
    organizations = [
        Organization(item["uid"], item["name"], item.get("address"), _contact(item["billing_contact"]))
        for item in data["organizations"]
    ]
    parties = [
        Party(
            item["uid"],
            item["name"],
            item.get("address"),
            _contact(item["billing_contact"]),
            frozenset(item["billable_by"]),
        )
        for item in data["parties"]
    ]
    users = [
        User(
            item["token"],
            item["id"],
            item["fullname"],
            item["email"],
            frozenset(item["organizations"]),
            item.get("avatar"),
            frozenset(item["scopes"]) if "scopes" in item else None,
            RateLimit(**item["rate_limit"]) if "rate_limit" in item else None,
        )
        for item in data["users"]
    ]
    products = [
        Product(
            item["sku"],
            item["organization_uid"],
            item["context_type"],
            item["context_type_uid"],
            item["name"],
            item["unit_price"],
        )
        for item in data.get("products", [])
    ]
    documents = [
        Document(item["uid"], item["organization_uid"], item["filename"], item["is_archived"])
        for item in data["documents"]
    ]
    blueprints = [
        _blueprint(item, f"invoice_blueprints[{i}]")
        for i, item in enumerate(data.get("invoice_blueprints", []))
    ]
    world = World(
        organizations=_index(organizations, "organizations"),
        parties=_index(parties, "parties"),
        users=_index(users, "users", key="token"),
        documents=_index(documents, "documents"),
        blueprints=_index(blueprints, "invoice_blueprints"),
        app_url=data["app_url"].rstrip("/"),
        products=_index_products(products),
        invoices=tuple(data.get("invoices", [])),
        source=source,
    )
    _cross_check(world)
    _cross_check_invoices(world)
    return world


def _index(items: list[Any], where: str, key: str = "uid") -> dict[str, Any]:
    indexed: dict[str, Any] = {}
    for item in items:
        ident = getattr(item, key)
        if ident in indexed:
            raise WorldError(f"{where}: duplicate {key} {ident!r}")
        indexed[ident] = item
    return indexed


def _index_products(products: list[Product]) -> dict[tuple[str, str], Product]:
    indexed: dict[tuple[str, str], Product] = {}
    for product in products:
        key = (product.organization_uid, product.sku)
        if key in indexed:
            raise WorldError(
                f"products: duplicate sku {product.sku!r} in organization {product.organization_uid!r}"
            )
        indexed[key] = product
    return indexed


def _cross_check(world: World) -> None:
    """Every reference names an organization that exists, and uids are unique across kinds."""
    known_orgs = world.organizations.keys()

    def require_org(where: str, org_uid: str) -> None:
        if org_uid not in known_orgs:
            raise WorldError(f"{where}: unknown organization {org_uid!r}")

    for party in world.parties.values():
        for org_uid in sorted(party.billable_by):
            require_org(f"parties[uid={party.uid}].billable_by", org_uid)
    for user in world.users.values():
        for org_uid in sorted(user.organizations):
            require_org(f"users[token={user.token}].organizations", org_uid)
    for document in world.documents.values():
        require_org(f"documents[uid={document.uid}].organization_uid", document.organization_uid)
    for blueprint in world.blueprints.values():
        require_org(f"invoice_blueprints[uid={blueprint.uid}].organization_uid", blueprint.organization_uid)
    for product in world.products.values():
        require_org(f"products[sku={product.sku}].organization_uid", product.organization_uid)

    seen: dict[str, str] = {}
    for kind in ("organizations", "parties", "documents", "blueprints"):
        for uid in getattr(world, kind):
            if uid in seen:
                raise WorldError(f"{kind}: uid {uid!r} is already used by {seen[uid]}")
            seen[uid] = kind


def _cross_check_invoices(world: World) -> None:
    """What a stored invoice must name (P19: numbers are unique per owner): what the mock would
    have accepted at create, less the rules of who may do it (a recording keeps what was)."""
    uids: set[str] = set()
    numbers: set[tuple[str, str]] = set()
    others = world.organizations.keys() | world.parties.keys()
    for index, invoice in enumerate(world.invoices):
        where = f"invoices[{index}]"
        if invoice["uid"] in uids or invoice["uid"] in others:
            raise WorldError(f"{where}: uid {invoice['uid']!r} is used twice")
        uids.add(invoice["uid"])
        owner = invoice["owner_uid"]
        if owner not in world.organizations:
            raise WorldError(f"{where}.owner_uid: unknown organization {owner!r}")
        if invoice["target_party_uid"] not in world.parties:
            raise WorldError(f"{where}.target_party_uid: unknown party {invoice['target_party_uid']!r}")
        document = world.documents.get(invoice["document_uid"])
        if document is None or document.organization_uid != owner:
            raise WorldError(f"{where}.document_uid: no document {invoice['document_uid']!r} of {owner!r}")
        blueprint_uid = invoice.get("invoice_blueprint_uid")
        blueprint = world.blueprints.get(blueprint_uid) if blueprint_uid is not None else None
        if blueprint_uid is not None and (blueprint is None or blueprint.organization_uid != owner):
            raise WorldError(
                f"{where}.invoice_blueprint_uid: no invoice blueprint {blueprint_uid!r} of {owner!r}"
            )
        if (owner, invoice["invoice_number"]) in numbers:
            raise WorldError(
                f"{where}.invoice_number: {invoice['invoice_number']!r} is used twice by {owner!r}"
            )
        numbers.add((owner, invoice["invoice_number"]))
        for line in invoice.get("line_items", []):
            if line["uid"] in uids:
                raise WorldError(f"{where}.line_items: uid {line['uid']!r} is used twice")
            uids.add(line["uid"])
