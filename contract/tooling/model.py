"""What the spec tooling reports: a `Problem` in one spec, a `Change` between two.

Both carry a JSON pointer into the spec, because a spec author fixes a spec by finding the place;
every check and every diff rule speaks in these two types so the formatters need to know nothing
else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from contract.pointers import escape, join, unescape

__all__ = ["escape", "join", "unescape"]

Side = Literal["request", "response"]


@dataclass(frozen=True)
class Problem:
    """Something `spec check` finds wrong with one spec, at `pointer`."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


@dataclass
class Tally:
    """The result of one check: how many things it looked at, and what it found wrong.

    The count lets an OK line say how much was covered, so "OK" is never silently "checked nothing".
    """

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))


@dataclass(frozen=True)
class Change:
    """One difference between two specs, as a client of the API would feel it.

    `side` says whose code is affected (what clients send, or what they receive); `rule` is a
    short stable name for the diff rule that produced it, for machines (JSON, JUnit).
    """

    pointer: str
    side: Side
    breaking: bool
    rule: str
    reason: str


def operation_pointer(path: str, method: str) -> str:
    return join("#/paths", path, method)
