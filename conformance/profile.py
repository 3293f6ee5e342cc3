"""The target profile: what the server under test knows (tokens, organizations, parties, documents,
blueprints), in the same YAML format as the mock's `contract/fixtures/default.yaml`.

The file is read by `contract.worldfile` in its lenient mode, on purpose: a real server's profile
names only the test data it has, so every section and every field not needed to build a request
may be missing; what is present must have the type `contract/fixtures/world.schema.yaml`
declares. The derivations below ("a combination that must succeed", "a party this owner may not
bill", …) return `None` or an empty list when the profile cannot provide them, and the property
that needs them is reported as *not run*, never as passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.facts import ContractFacts
from contract.spec import default_fixtures_path
from contract.worldfile import WorldError, check_world_data, read_world_file

# The profile cannot be used: missing, not YAML, or an entry present with the wrong type.
ProfileError = WorldError


@dataclass(frozen=True)
class RateLimit:
    """The key's rate limit as the profile states it (world file `rate_limit`)."""

    requests: int
    window_seconds: int


@dataclass(frozen=True)
class User:
    token: str
    organizations: frozenset[str] | None  # None: the profile does not say (the token is used for 401s only)
    scopes: frozenset[str] | None = None  # None: a key without scopes, which may do everything (P74)
    rate_limit: RateLimit | None = None

    def may(self, scopes: frozenset[str]) -> bool:
        """Whether the key has one of `scopes` (an operation's `x-scopes`, precision row P74)."""
        return self.scopes is None or not scopes or bool(self.scopes & scopes)


@dataclass(frozen=True)
class Product:
    """What a line item's `sku` names in an organization (world file `products`, precision P68).

    `unit_price` is in cents, as requests carry it (P69); None where the profile does not say.
    """

    sku: str
    organization_uid: str | None
    context_type: str | None = None
    context_type_uid: str | None = None
    name: str | None = None
    unit_price: int | None = None


@dataclass(frozen=True)
class Party:
    uid: str
    billable_by: frozenset[str] | None  # None: the profile does not say who may bill it
    name: str | None = None

    def billable(self, owner: str) -> bool:
        return self.billable_by is not None and owner in self.billable_by

    def unbillable(self, owner: str) -> bool:
        return self.billable_by is not None and owner not in self.billable_by


@dataclass(frozen=True)
class Document:
    uid: str
    organization_uid: str | None
    filename: str | None = None
    is_archived: bool | None = None


@dataclass(frozen=True)
class BlueprintLine:
    context_type_uid: str | None
    context_type: str | None
    context_name: str | None
    quantity: float | None
    unit_price: float | None


@dataclass(frozen=True, eq=False)
class Blueprint:
    uid: str
    organization_uid: str | None
    is_active: bool | None = None
    # None: the profile does not say (so nothing is checked); a tuple / dict: what the server has.
    line_items: tuple[BlueprintLine, ...] | None = None
    invoice_fields: dict[str, dict[str, Any]] | None = None
    invoice_notes: dict[str, Any] | None = None


@dataclass(frozen=True)
class Combination:
    """A (token, owner, party, document) the contract says must create an invoice (200)."""

    token: str
    owner: str
    party: str
    document: str
    required: tuple[tuple[str, Any], ...] = ()  # other fields the checked spec requires (and a value)

    def body(self) -> dict[str, Any]:
        body = {"owner_uid": self.owner, "target_party_uid": self.party, "document_uid": self.document}
        return body | dict(self.required)


@dataclass
class Profile:
    """What the server knows. `users` are the keys that may do everything without a rate limit:
    the ones every property uses. Keys with scopes that lack some operation, or with a rate limit,
    are in `restricted` only, for the properties about scopes (P74) and limits (P22)."""

    users: tuple[User, ...] = ()
    organizations: tuple[str, ...] = ()
    parties: tuple[Party, ...] = ()
    documents: tuple[Document, ...] = ()
    blueprints: tuple[Blueprint, ...] = ()
    products: tuple[Product, ...] = ()
    restricted: tuple[User, ...] = ()
    source: str = "<memory>"
    required: tuple[tuple[str, Any], ...] = ()  # create fields the checked spec requires (Combination)
    _combinations: list[Combination] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._combinations.extend(self._derive_combinations())

    def __repr__(self) -> str:  # short: Hypothesis prints strategies that hold the profile
        return f"Profile({self.source!r})"

    # -- lookups -------------------------------------------------------------------------------------

    def user(self, token: str) -> User:
        return next(user for user in (*self.users, *self.restricted) if user.token == token)

    def party(self, uid: str) -> Party | None:
        return next((party for party in self.parties if party.uid == uid), None)

    def document(self, uid: str) -> Document | None:
        return next((doc for doc in self.documents if doc.uid == uid), None)

    def blueprint(self, uid: str) -> Blueprint | None:
        return next((bp for bp in self.blueprints if bp.uid == uid), None)

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(user.token for user in self.users)

    @property
    def all_tokens(self) -> tuple[str, ...]:
        """Every token the profile names, restricted keys included (none of them is unknown)."""
        return tuple(user.token for user in (*self.users, *self.restricted))

    @property
    def all_organizations(self) -> tuple[str, ...]:
        """Every organization uid the profile names anywhere, in a stable order."""
        seen: dict[str, None] = dict.fromkeys(self.organizations)
        for user in self.users:
            seen.update(dict.fromkeys(sorted(user.organizations or ())))
        for doc in self.documents:
            if doc.organization_uid:
                seen[doc.organization_uid] = None
        for party in self.parties:
            seen.update(dict.fromkeys(sorted(party.billable_by or ())))
        return tuple(seen)

    # -- derivations ----------------------------------------------------------------------------------

    def _derive_combinations(self) -> list[Combination]:
        found = []
        for user in self.users:
            for owner in sorted(user.organizations or ()):
                for party in self.parties:
                    if not party.billable(owner):
                        continue
                    for doc in self.documents:
                        if doc.organization_uid == owner:
                            found.append(Combination(user.token, owner, party.uid, doc.uid, self.required))
        return found

    def combinations(self) -> list[Combination]:
        """Every (token, owner, party, document) that must succeed."""
        return list(self._combinations)

    def products_for(self, owner: str) -> list[Product]:
        """The owner organization's products that a line item request can name (sku and type known)."""
        return [p for p in self.products if p.organization_uid == owner and p.context_type is not None]

    def product(self, owner: str, sku: str) -> Product | None:
        return next((p for p in self.products if p.organization_uid == owner and p.sku == sku), None)

    def limited_users(self) -> list[User]:
        """Keys whose rate limit the profile states."""
        return [user for user in self.restricted if user.rate_limit is not None]

    def scoped_users(self, lacking: frozenset[str], having: frozenset[str]) -> list[User]:
        """Keys of a member of some organization without a rate limit that lack `lacking` (an
        operation's x-scopes) but have `having`: a read-only key, when `lacking` is the write scope."""
        return [
            user
            for user in self.restricted
            if user.rate_limit is None and user.organizations and not user.may(lacking) and user.may(having)
        ]

    def blueprints_for(self, owner: str) -> list[Blueprint]:
        return [bp for bp in self.blueprints if bp.organization_uid == owner]

    def foreign_blueprints(self, owner: str) -> list[Blueprint]:
        """Blueprints that exist, but for another organization (422 when used by `owner`)."""
        return [bp for bp in self.blueprints if bp.organization_uid and bp.organization_uid != owner]

    def foreign_documents(self, owner: str) -> list[Document]:
        return [doc for doc in self.documents if doc.organization_uid and doc.organization_uid != owner]

    def unbillable_parties(self, owner: str) -> list[Party]:
        """Parties the profile names that `owner` may not bill (403)."""
        return [party for party in self.parties if party.unbillable(owner)]

    def forbidden_owner_requests(self) -> list[Combination]:
        """(token, owner, party, document) valid for `owner`, but the token's user is not in `owner`.

        Everything but the owner is right for that owner, so the only possible answer is 403.
        """
        found = []
        for user in self.users:
            for combo in self._combinations:
                if user.organizations is not None and combo.owner not in user.organizations:
                    found.append(
                        Combination(user.token, combo.owner, combo.party, combo.document, self.required)
                    )
        # Owners the profile names without any user (a real server's other tenant).
        known = {combo.owner for combo in self._combinations}
        for owner in self.all_organizations:
            if owner in known:
                continue
            parties = [p for p in self.parties if p.billable(owner)]
            docs = [d for d in self.documents if d.organization_uid == owner]
            for user in self.users:
                if user.organizations is not None and owner not in user.organizations and parties and docs:
                    found.append(Combination(user.token, owner, parties[0].uid, docs[0].uid, self.required))
        return list(dict.fromkeys(found))

    def outsider_tokens(self, owner: str) -> list[str]:
        """Tokens whose user belongs to no organization of the invoice's owner: must not see it."""
        return [
            user.token
            for user in self.users
            if user.organizations is not None and owner not in user.organizations
        ]

    def member_tokens(self, owner: str) -> list[str]:
        """Tokens whose user belongs to `owner`: must see its invoices."""
        return [
            user.token
            for user in self.users
            if user.organizations is not None and owner in user.organizations
        ]


def default_profile_path() -> Path:
    """The mock's own fixtures: the profile that fits `python -m mockserver` out of the box."""
    return default_fixtures_path()


def _known(item: dict[str, Any], key: str) -> frozenset[str] | None:
    """The uids listed under `key`; None when the entry does not have the key at all (unknown)."""
    return frozenset(item[key]) if key in item else None


def _number(raw: Any) -> float | None:
    return float(raw) if raw is not None else None  # the schema allows numbers and decimal strings


def _blueprint(item: dict[str, Any]) -> Blueprint:
    lines = None
    if "line_items" in item:
        lines = tuple(
            BlueprintLine(
                context_type_uid=line.get("context_type_uid"),
                context_type=line.get("context_type"),
                context_name=line.get("context_name"),
                quantity=_number(line.get("quantity")),
                unit_price=_number(line.get("unit_price")),
            )
            for line in item["line_items"]
        )
    return Blueprint(
        uid=item["uid"],
        organization_uid=item.get("organization_uid"),
        is_active=item.get("is_active"),
        line_items=lines,
        invoice_fields=dict(item["invoice_fields"]) if "invoice_fields" in item else None,
        invoice_notes=dict(item["invoice_notes"]) if "invoice_notes" in item else None,
    )


def _user(item: dict[str, Any]) -> User:
    limit = item.get("rate_limit")
    return User(
        item["token"],
        _known(item, "organizations"),
        frozenset(item["scopes"]) if item.get("scopes") is not None else None,
        RateLimit(int(limit["requests"]), int(limit["window_seconds"])) if isinstance(limit, dict) else None,
    )


def _product(item: dict[str, Any]) -> Product:
    price = item.get("unit_price")
    return Product(
        sku=item["sku"],
        organization_uid=item.get("organization_uid"),
        context_type=item.get("context_type"),
        context_type_uid=item.get("context_type_uid"),
        name=item.get("name"),
        unit_price=int(price) if isinstance(price, int) else None,
    )


def _ordinary(user: User, scopes: frozenset[str]) -> bool:
    """May do everything (no scopes, or every scope the contract names) and has no rate limit."""
    return user.rate_limit is None and (user.scopes is None or scopes <= user.scopes)


def _profile(data: dict[str, Any], source: str, facts: ContractFacts) -> Profile:
    """A profile from checked data; entries without the key a request needs (token, uid) are skipped.

    `facts` are the checked spec's: a user holding every scope it names (`every_scope`) may do
    everything, so is an ordinary user of the properties; every create body carries the fields
    it requires (`create_required`).
    """
    scopes = facts.every_scope

    def entries(section: str, key: str) -> list[dict[str, Any]]:
        return [item for item in data.get(section, []) if item.get(key)]

    users = [_user(item) for item in entries("users", "token")]
    return Profile(
        users=tuple(user for user in users if _ordinary(user, scopes)),
        restricted=tuple(user for user in users if not _ordinary(user, scopes)),
        products=tuple(_product(item) for item in entries("products", "sku")),
        organizations=tuple(item["uid"] for item in entries("organizations", "uid")),
        parties=tuple(
            Party(item["uid"], _known(item, "billable_by"), item.get("name"))
            for item in entries("parties", "uid")
        ),
        documents=tuple(
            Document(item["uid"], item.get("organization_uid"), item.get("filename"), item.get("is_archived"))
            for item in entries("documents", "uid")
        ),
        blueprints=tuple(_blueprint(item) for item in entries("invoice_blueprints", "uid")),
        source=source,
        required=tuple(facts.create_required.items()),
    )


def profile_from_dict(data: Any, facts: ContractFacts, source: str = "<memory>") -> Profile:
    """Build a profile from parsed YAML, checked leniently against the world file's schema."""
    try:
        return _profile(check_world_data(data, "lenient"), source, facts)
    except ProfileError as error:
        raise ProfileError(f"{source}: {error}") from None


def load_profile(path: str | Path | None, facts: ContractFacts) -> Profile:
    """Read a profile file (None: the mock's fixtures), checked leniently; `facts` as in `_profile`."""
    resolved = Path(path) if path is not None else default_profile_path()
    return _profile(read_world_file(resolved, "lenient", "profile"), str(resolved), facts)
