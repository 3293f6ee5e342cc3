"""The kit's vocabulary: a named property, its outcome, and the context every property runs in.

A *property* is one rule of the contract, checked with Hypothesis against the live server. It
raises `Violation` (carrying the exchanges that show the break) when the rule does not hold, or
`NotRun` when the target profile lacks the data the rule needs: a property that could not look
is never reported as passed.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings

from conformance.client import Client, Exchange, RateLimited
from conformance.profile import Profile
from contract.facts import ContractFacts, read_facts

DEFAULT_MAX_EXAMPLES = 50
E = TypeVar("E", bound=BaseException)


class _FirstViolation(threading.local):
    value: Violation | None = None


# The first violation of the Hypothesis run in progress (see `run_seeded`).
_FIRST = _FirstViolation()


class Violation(AssertionError):
    """The server broke the rule; `exchanges` are the requests that show it, in order.

    Every violation made during a Hypothesis run is remembered (the first one), whatever Hypothesis
    makes of it afterwards. Hypothesis replays a failing example to confirm and shrink it, assuming
    the test is a pure function of its draws. A server is not: on replay it may fail at another
    step or not at all, and Hypothesis then raises `FlakyFailure`, or `FlakyStrategyDefinition` when
    the replay draws differently (a state machine whose rules depend on what the server answered)
    instead of the failure (Hypothesis docs, "Flaky failures"). The first violation is the server's
    break, so `run_seeded` reports it, with a note that the replay differed.
    """

    def __init__(self, message: str, *exchanges: Exchange) -> None:
        super().__init__(message)
        if _FIRST.value is None:
            _FIRST.value = self
        self.message = message
        self.exchanges = list(exchanges)
        self.details: list[str] = []
        # Reproductions made elsewhere (Schemathesis cases): (what, curl, response excerpt).
        self.reproductions: list[tuple[str, str, str]] = []


class NotRun(Exception):
    """The property could not look, and the message says why: the profile lacks the data, the
    server kept answering 429 (`RateLimited`), or the answers cannot decide (`CannotDecide`)."""


class CannotDecide(NotRun):
    """The server's answers neither prove nor refute the rule (e.g. other traffic changed the list
    while the kit paged through it): reported as not run with the reason, never as a violation."""


@dataclass(frozen=True)
class Property:
    """One rule of the contract: its name and its check, whose docstring says what must hold
    (first paragraph) and where the contract states it (the paragraph starting `Rule:`)."""

    name: str
    kind: str
    check: Callable[[Context], None]
    rows: tuple[str, ...] = ()  # the precision-table rows (openapi.yaml info.description) it follows

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

    def register(
        self, name: str, *, kind: str, rows: tuple[str, ...] = ()
    ) -> Callable[[Callable[[Context], None]], Property]:
        def decorator(check: Callable[[Context], None]) -> Property:
            if name in self._items:
                raise ValueError(f"property {name!r} is registered twice")
            if "Rule:" not in (check.__doc__ or ""):
                raise ValueError(
                    f"property {name!r} must cite its rule in its docstring (a 'Rule:' paragraph)"
                )
            item = Property(name=name, kind=kind, check=check, rows=tuple(rows))
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

    @functools.cached_property
    def facts(self) -> ContractFacts:
        """Facts the contract states in `x-` extensions (body limit, number format, …), read from the
        spec this run checks against, never restated by the kit."""
        return read_facts(self.spec)

    def hypothesis(self, name: str, test: Callable[..., None], *, weight: float = 1.0) -> None:
        """Run a `@given` test with the run's settings and this property's seed."""
        configured = hypothesis_settings(self.settings.examples(weight))(test)
        run_seeded(seed(self.settings.seed_for(name))(configured))


def hypothesis_settings(max_examples: int, *, shrink: bool = True, **extra: Any) -> settings:
    """The one Hypothesis configuration of the kit (properties and the state machine alike).

    Shrinking stays on where a step is cheap (the report's `curl` is the minimal falsifying
    request); the example database is off, because a server is not a pure function and the seed
    reproduces a run; health checks are off because every draw is a round trip to a server.
    """
    phases = (Phase.explicit, Phase.generate, Phase.shrink) if shrink else (Phase.explicit, Phase.generate)
    options: dict[str, Any] = {
        "max_examples": max_examples,
        "database": None,
        "deadline": None,
        "derandomize": False,
        "suppress_health_check": list(HealthCheck),
        "phases": phases,
        "report_multiple_bugs": False,
        "verbosity": Verbosity.normal,  # normal: the falsifying example is attached as a note
        "print_blob": False,
    }
    return settings(**(options | extra))


def run_seeded(test: Callable[[], None]) -> None:
    """Run a Hypothesis test; the server's first `Violation` surfaces even when the replay differs.

    What Hypothesis raises around a non-deterministic server (a flaky failure, inconsistent data
    generation on replay, a group of errors) is unwrapped: a violation seen during the run is the
    result; a transport error means the server stopped answering; a rate limit means not run.
    """
    _FIRST.value = None
    try:
        test()
    except Violation:
        raise  # reproduced (and shrunk) by Hypothesis: the minimal example is the report's
    except (httpx.HTTPError, NotRun, RateLimited):
        first = _FIRST.value
        if first is not None:
            raise first from None
        raise
    except BaseException as error:
        if not isinstance(error, Exception):
            raise  # KeyboardInterrupt, SystemExit: never swallowed
        first = _FIRST.value
        if first is not None:
            first.details.append(
                "Hypothesis could not reproduce this failure on replay: the server answered differently "
                f"to the same requests ({type(error).__name__}; the break may depend on its state or timing)."
            )
            raise first from None
        if isinstance(error, BaseExceptionGroup):
            for kind in (NotRun, RateLimited, httpx.HTTPError):
                found = _find(error, kind)
                if found is not None:
                    raise found from None
        raise
    finally:
        _FIRST.value = None


def _find(group: BaseExceptionGroup, kind: type[E]) -> E | None:
    for error in group.exceptions:
        if isinstance(error, kind):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _find(error, kind)
            if found is not None:
                return found
    return None
