"""The kit's vocabulary: a named property, its outcome, and the context every property runs in.

A *property* is one rule of the contract, checked with Hypothesis against the live server. It
raises `Violation` (carrying the exchanges that show the break) when the rule does not hold, or
`NotRun` when the target profile lacks the data the rule needs: a property that could not look
is never reported as passed.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings

from conformance.client import Client, Exchange
from conformance.profile import Profile

DEFAULT_MAX_EXAMPLES = 50
E = TypeVar("E", bound=BaseException)


class Violation(AssertionError):
    """The server broke the rule; `exchanges` are the requests that show it, in order."""

    def __init__(self, message: str, *exchanges: Exchange) -> None:
        super().__init__(message)
        self.message = message
        self.exchanges = list(exchanges)
        self.details: list[str] = []
        # Reproductions made elsewhere (Schemathesis cases): (what, curl, response excerpt).
        self.reproductions: list[tuple[str, str, str]] = []


class NotRun(Exception):
    """The property cannot be checked with this profile; the message says what is missing."""


@dataclass(frozen=True)
class Property:
    """One rule of the contract: its name and its check, whose docstring says what must hold
    (first paragraph) and where the contract states it (the paragraph starting `Rule:`)."""

    name: str
    kind: str
    check: Callable[[Context], None]

    def _paragraphs(self) -> list[str]:
        doc = inspect.getdoc(self.check) or ""
        return [" ".join(part.split()) for part in doc.split("\n\n") if part.strip()]

    @property
    def summary(self) -> str:
        paragraphs = self._paragraphs()
        return paragraphs[0] if paragraphs else self.name

    @property
    def rule(self) -> str:
        for paragraph in self._paragraphs():
            if paragraph.startswith("Rule:"):
                return paragraph.removeprefix("Rule:").strip()
        return "(no rule cited)"


class Registry:
    """Properties in declaration order, by name."""

    def __init__(self) -> None:
        self._items: dict[str, Property] = {}

    def register(self, name: str, *, kind: str) -> Callable[[Callable[[Context], None]], Property]:
        def decorator(check: Callable[[Context], None]) -> Property:
            if name in self._items:
                raise ValueError(f"property {name!r} is registered twice")
            if "Rule:" not in (check.__doc__ or ""):
                raise ValueError(
                    f"property {name!r} must cite its rule in its docstring (a 'Rule:' paragraph)"
                )
            item = Property(name=name, kind=kind, check=check)
            self._items[name] = item
            return item

        return decorator

    def __iter__(self) -> Iterator[Property]:
        return iter(self._items.values())

    def __getitem__(self, name: str) -> Property:
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items)


PROPERTIES = Registry()
prop = PROPERTIES.register


@dataclass
class RunSettings:
    """How hard to look: examples per property (scaled per property) and the run's seed."""

    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0

    def examples(self, weight: float = 1.0) -> int:
        return max(1, round(self.max_examples * weight))

    def seed_for(self, name: str) -> int:
        """Each property draws from its own seed, so running one alone reproduces its failure."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).hexdigest()
        return int(digest[:16], 16)


@dataclass
class Context:
    """What a property gets: the client, the target's profile, the contract and the settings."""

    client: Client
    profile: Profile
    spec: dict[str, Any]
    settings: RunSettings
    # Invoice numbers this run has seen created, per owner organization (uniqueness checks).
    numbers: dict[str, dict[str, str]] = field(default_factory=dict)
    # Results shared between properties (the one Schemathesis run behind the schema:* properties).
    cache: dict[str, Any] = field(default_factory=dict)

    def remember_number(self, owner: str, number: str, invoice_uid: str) -> None:
        self.numbers.setdefault(owner, {})[number] = invoice_uid

    def hypothesis(self, name: str, test: Callable[[], None], *, weight: float = 1.0) -> None:
        """Run a `@given` test with the run's settings and this property's seed.

        Shrinking stays on (the report's `curl` is the minimal falsifying request); the example
        database is off, because a server is not a pure function and the seed reproduces a run.
        """
        configured = settings(
            max_examples=self.settings.examples(weight),
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
            verbosity=Verbosity.normal,  # normal: the falsifying example is attached as a note
            print_blob=False,
        )(test)
        run_seeded(seed(self.settings.seed_for(name))(configured))


def run_seeded(test: Callable[[], None]) -> None:
    """Run a Hypothesis test; a flaky failure still surfaces its `Violation`."""
    try:
        test()
    except Violation:
        raise
    except BaseExceptionGroup as group:  # Hypothesis's FlakyFailure wraps what it saw
        violation = _find(group, Violation)
        if violation is None:
            transport = _find(group, httpx.HTTPError)
            if transport is not None:
                raise transport from None  # the server stopped answering: not the kit's failure
            raise
        violation.details.append(
            "Hypothesis could not reproduce this failure on replay: the server answered differently "
            "to the same request (the break may depend on its state or timing)."
        )
        raise violation from None


def _find(group: BaseExceptionGroup, kind: type[E]) -> E | None:
    for error in group.exceptions:
        if isinstance(error, kind):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _find(error, kind)
            if found is not None:
                return found
    return None
