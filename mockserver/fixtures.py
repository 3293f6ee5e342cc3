"""The mock's world, loaded from one YAML file (`fixtures/default.yaml` unless told otherwise).

The file is checked as a whole at start: a malformed or inconsistent file (an unknown
organization referenced, a duplicate uid or token) is refused with a message naming the entry,
because a mock that starts on a broken world fails later in ways nobody can trace back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from contract.spec import default_fixtures_path

DEFAULT_FIXTURES = default_fixtures_path()
DEFAULT_APP_URL = "https://dev.exante.app"


class FixtureError(ValueError):
    """The fixtures file cannot be used; the message names the entry and the problem."""


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
class World:
    """Everything the fixtures say, indexed by uid (and users by token)."""

    organizations: dict[str, Organization]
    parties: dict[str, Party]
    users: dict[str, User]
    documents: dict[str, Document]
    blueprints: dict[str, Blueprint]
    app_url: str = DEFAULT_APP_URL
    source: str = field(default="", compare=False)


class _Reader:
    """Reads one entry, turning every shape problem into a FixtureError that names the entry."""

    def __init__(self, where: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise FixtureError(f"{where}: must be a mapping, got {type(entry).__name__}")
        self.where, self.entry = where, entry

    def get(
        self, key: str, kind: type | tuple[type, ...], *, optional: bool = False, default: Any = None
    ) -> Any:
        if key not in self.entry:
            if optional:
                return default
            raise FixtureError(f"{self.where}: missing key '{key}'")
        value = self.entry[key]
        if value is None and optional:
            return default
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise FixtureError(f"{self.where}.{key}: expected {_kind_name(kind)}, got {value!r}")
        return value

    def uids(self, key: str) -> frozenset[str]:
        """A list of uuid strings (organization references)."""
        values = self.get(key, list)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise FixtureError(f"{self.where}.{key}[{index}]: expected a uuid string, got {value!r}")
            try:
                uuid.UUID(value)
            except ValueError:
                raise FixtureError(f"{self.where}.{key}[{index}]: {value!r} is not a uuid") from None
        return frozenset(values)

    def uid(self, key: str = "uid") -> str:
        value = self.get(key, str)
        try:
            uuid.UUID(value)
        except ValueError:
            raise FixtureError(f"{self.where}.{key}: {value!r} is not a uuid") from None
        return value

    def decimal(self, key: str) -> Decimal:
        value = self.get(key, (int, float, str))
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise FixtureError(f"{self.where}.{key}: {value!r} is not a number") from None
        if not number.is_finite() or number < 0:
            raise FixtureError(f"{self.where}.{key}: must be a number >= 0, got {value!r}")
        return number


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))


def _contact(where: str, entry: Any) -> Contact:
    read = _Reader(where, entry)
    return Contact(
        uid=read.uid(),
        name=read.get("name", str),
        title=read.get("title", str, optional=True),
        email=read.get("email", str),
        phone=read.get("phone", str, optional=True),
    )


def _section(raw: dict[str, Any], key: str, *, optional: bool = False) -> list[Any]:
    value = raw.get(key)
    if value is None:
        if optional:
            return []
        raise FixtureError(f"missing top-level key '{key}'")
    if not isinstance(value, list):
        raise FixtureError(f"{key}: must be a list, got {type(value).__name__}")
    return value


def _index(items: list[Any], where: str, key: str = "uid") -> dict[str, Any]:
    indexed: dict[str, Any] = {}
    for item in items:
        ident = getattr(item, key)
        if ident in indexed:
            raise FixtureError(f"{where}: duplicate {key} {ident!r}")
        indexed[ident] = item
    return indexed


def parse_world(raw: Any, source: str = "<fixtures>") -> World:
    """Build and cross-check a World from parsed YAML."""
    if not isinstance(raw, dict):
        raise FixtureError(f"{source}: the fixtures file must be a mapping of sections")

    organizations = [
        Organization(
            uid=(read := _Reader(f"organizations[{i}]", entry)).uid(),
            name=read.get("name", str),
            address=read.get("address", str, optional=True),
            billing_contact=_contact(
                f"organizations[{i}].billing_contact", read.get("billing_contact", dict)
            ),
        )
        for i, entry in enumerate(_section(raw, "organizations"))
    ]
    parties = [
        Party(
            uid=(read := _Reader(f"parties[{i}]", entry)).uid(),
            name=read.get("name", str),
            address=read.get("address", str, optional=True),
            billing_contact=_contact(f"parties[{i}].billing_contact", read.get("billing_contact", dict)),
            billable_by=read.uids("billable_by"),
        )
        for i, entry in enumerate(_section(raw, "parties"))
    ]
    users = [
        User(
            token=(read := _Reader(f"users[{i}]", entry)).get("token", str),
            id=read.get("id", int),
            fullname=read.get("fullname", str),
            email=read.get("email", str),
            organizations=read.uids("organizations"),
            avatar=read.get("avatar", str, optional=True),
        )
        for i, entry in enumerate(_section(raw, "users"))
    ]
    documents = [
        Document(
            uid=(read := _Reader(f"documents[{i}]", entry)).uid(),
            organization_uid=read.uid("organization_uid"),
            filename=read.get("filename", str),
            is_archived=read.get("is_archived", bool, optional=True, default=False),
        )
        for i, entry in enumerate(_section(raw, "documents"))
    ]
    blueprints = [
        _blueprint(f"invoice_blueprints[{i}]", entry)
        for i, entry in enumerate(_section(raw, "invoice_blueprints", optional=True))
    ]

    world = World(
        organizations=_index(organizations, "organizations"),
        parties=_index(parties, "parties"),
        users=_index(users, "users", key="token"),
        documents=_index(documents, "documents"),
        blueprints=_index(blueprints, "invoice_blueprints"),
        app_url=str(raw.get("app_url") or DEFAULT_APP_URL).rstrip("/"),
        source=source,
    )
    _cross_check(world)
    return world


def _blueprint(where: str, entry: Any) -> Blueprint:
    read = _Reader(where, entry)
    lines = []
    for j, line in enumerate(read.get("line_items", list, optional=True, default=[])):
        line_read = _Reader(f"{where}.line_items[{j}]", line)
        lines.append(
            BlueprintLine(
                context_type_uid=line_read.uid("context_type_uid"),
                context_type=line_read.get("context_type", str),
                context_name=line_read.get("context_name", str),
                quantity=line_read.decimal("quantity"),
                unit_price=line_read.decimal("unit_price"),
            )
        )
    fields = read.get("invoice_fields", dict, optional=True, default={})
    for key, value in fields.items():
        field_read = _Reader(f"{where}.invoice_fields.{key}", value)
        field_read.get("type", str)
        if "value" not in value:
            raise FixtureError(f"{where}.invoice_fields.{key}: missing key 'value'")
    notes = read.get("invoice_notes", dict, optional=True, default={})
    notes_read = _Reader(f"{where}.invoice_notes", notes)
    return Blueprint(
        uid=read.uid(),
        organization_uid=read.uid("organization_uid"),
        name=read.get("name", str),
        is_active=read.get("is_active", bool, optional=True, default=True),
        line_items=tuple(lines),
        invoice_fields={
            key: {"type": value["type"], "value": value["value"]} for key, value in fields.items()
        },
        invoice_notes={
            "invoice_memo": notes_read.get("invoice_memo", str, optional=True),
            "invoice_footer": notes_read.get("invoice_footer", str, optional=True),
        },
    )


def _cross_check(world: World) -> None:
    """Every reference names something that exists, and uids are unique across kinds."""
    known_orgs = world.organizations.keys()

    def require_org(where: str, org_uid: str) -> None:
        if org_uid not in known_orgs:
            raise FixtureError(f"{where}: unknown organization {org_uid!r}")

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

    seen: dict[str, str] = {}
    for kind in ("organizations", "parties", "documents", "blueprints"):
        for uid in getattr(world, kind):
            if uid in seen:
                raise FixtureError(f"{kind}: uid {uid!r} is already used by {seen[uid]}")
            seen[uid] = kind


def load_world(path: str | Path | None = None) -> World:
    """Read, parse and check a fixtures file."""
    resolved = Path(path) if path is not None else DEFAULT_FIXTURES
    try:
        text = resolved.read_text(encoding="utf-8")
    except OSError as error:
        raise FixtureError(f"{resolved}: cannot read the fixtures file ({error.strerror})") from None
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise FixtureError(f"{resolved}: not valid YAML ({error})") from None
    try:
        return parse_world(raw, source=str(resolved))
    except FixtureError as error:
        raise FixtureError(f"{resolved}: {error}") from None
