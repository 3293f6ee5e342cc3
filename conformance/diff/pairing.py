"""Which candidate value stands for which reference value.

Two servers never generate the same uids or numbers, and a real server's test data is not the
mock's. A value is therefore matched by its *role*: the profiles' data pair by position (the
first organization of one with the first of the other, and so on), and a generated value pairs
with the value the other server generated in the same place of the same answer, the first time
it is seen. From then on the pair is fixed both ways: a later answer naming another value in its
place is a divergence.
"""

from __future__ import annotations

from typing import Any

from conformance.profile import Profile


class PairingError(ValueError):
    """The two profiles do not describe the same world (another count of organizations, ...)."""


class Pairing:
    def __init__(self) -> None:
        self.forward: dict[str, str] = {}  # reference value -> candidate value
        self.backward: dict[str, str] = {}

    @classmethod
    def of_profiles(cls, reference: Profile, candidate: Profile) -> Pairing:
        """Each piece of test data of the reference profile paired with the candidate's at its place."""
        pairing = cls()
        for kind, ref, cand in _profile_values(reference, candidate):
            if len(ref) != len(cand):
                raise PairingError(
                    f"the reference profile has {len(ref)} {kind}, the candidate's {len(cand)}: "
                    "the two profiles must describe the same world, in the same order"
                )
            for left, right in zip(ref, cand, strict=True):
                pairing.pair(left, right)
        return pairing

    def pair(self, reference: str, candidate: str) -> str | None:
        """Pair two values; the conflict, if one of them is already paired otherwise, else None."""
        known = self.forward.get(reference)
        if known is not None:
            return None if known == candidate else f"stands for {known!r} on the candidate"
        other = self.backward.get(candidate)
        if other is not None:
            return f"the candidate's {candidate!r} already stands for {other!r}"
        self.forward[reference], self.backward[candidate] = candidate, reference
        return None

    @staticmethod
    def number_key(owner: str, number: str) -> str:
        """How an invoice number is paired: with its owner organization, as numbers are unique
        per owner only (P19: two owners' first generated numbers may both be INV-2026-0001)."""
        return f"{owner} {number}"

    def number(self, owner: str, number: str) -> str:
        """The candidate's number for a reference number of `owner` (as it is, when unpaired: a
        number the kit supplied is the same on both sides)."""
        paired = self.forward.get(self.number_key(owner, number))
        return paired.split(" ", 1)[1] if paired else number

    def forget(self, reference: str) -> None:
        """Unpair a value that is free again (a deleted invoice's number: either server may issue
        it again to another invoice, P67)."""
        candidate = self.forward.pop(reference, None)
        if candidate is not None:
            self.backward.pop(candidate, None)

    def translate(self, value: Any) -> Any:
        """A reference request (body, path part) rewritten for the candidate."""
        if isinstance(value, str):
            return self.forward.get(value, value)
        if isinstance(value, list):
            return [self.translate(item) for item in value]
        if isinstance(value, dict):
            return {key: self.translate(item) for key, item in value.items()}
        return value


def _profile_values(reference: Profile, candidate: Profile) -> list[tuple[str, list[str], list[str]]]:
    def users(profile: Profile) -> list[str]:
        return [user.token for user in profile.users]

    def organizations(profile: Profile) -> list[str]:
        return list(profile.all_organizations)

    def uids(items: Any) -> list[str]:
        return [item.uid for item in items]

    return [
        ("users", users(reference), users(candidate)),
        ("organizations", organizations(reference), organizations(candidate)),
        ("parties", uids(reference.parties), uids(candidate.parties)),
        ("documents", uids(reference.documents), uids(candidate.documents)),
        ("blueprints", uids(reference.blueprints), uids(candidate.blueprints)),
    ]
