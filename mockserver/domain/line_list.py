"""An invoice's line items as a persistent sequence: every version stays as it was, the newest is cheap.

Why not a tuple: adding a line to a tuple copies all the others, so on an invoice of thousands
of lines each POST …/line_items cost its invoice's size. Why not a shared mutable list: a
`Draft` (store.py) must be able to drop a change, and an undone journal write must put the
invoice back exactly as it was; an old `Invoice` must keep its old lines.

How (Baker's "rerooting" of persistent arrays): the versions of one invoice's lines share one
mutable array. The version that array shows is the *root*; every other version keeps the short
list of edits that turn its base version's array into its own. Changing the root — what the
store does, change after change — edits the array in place (the cost of the change, not of the
invoice) and turns the old root into a diff against the new one. Reading or changing an older
version (rare: an undo) first walks the array back to it, at the cost of the edits in between.

Lines keep the slot they were created in (order of creation, P76); a deleted line leaves a hole
until the holes outnumber the lines, when the array is compacted (amortized over the deletes).
A version no change was ever made from keeps a plain tuple (no array, no index: a stored
invoice stays small). One lock for all families: every operation is short and the GIL
serializes them anyway; it makes an old version safe to read while another thread changes its
family.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar


class HasUid(Protocol):
    @property
    def uid(self) -> str: ...


T = TypeVar("T", bound=HasUid)

_LOCK = threading.Lock()
_COMPACT_AT = 64  # holes tolerated before they must also outnumber the lines to compact

# An edit of a family's array, and what `_edit` returns: the edit that undoes it.
#   ("append", item) | ("pop", uid) | ("set", slot, item or None) | ("swap", slots, index, holes)
_Edit = tuple[Any, ...]


class _Array(Generic[T]):
    """The one mutable array of a family: items in slots (None: a deleted one), uid -> slot."""

    __slots__ = ("holes", "index", "slots")

    def __init__(self, items: Iterable[T]) -> None:
        self.slots: list[T | None] = list(items)
        self.index: dict[str, int] = {}
        for slot, item in enumerate(self.slots):  # distinct uids: LineList checked them
            assert item is not None
            self.index[item.uid] = slot
        self.holes = 0

    def edit(self, edit: _Edit) -> _Edit:
        kind = edit[0]
        if kind == "append":
            item = edit[1]
            self.index[item.uid] = len(self.slots)
            self.slots.append(item)
            return ("pop", item.uid)
        if kind == "pop":
            del self.index[edit[1]]
            return ("append", self.slots.pop())
        if kind == "set":
            slot, item = edit[1], edit[2]
            old = self.slots[slot]
            self.slots[slot] = item
            self.holes += (item is None) - (old is None)
            return ("set", slot, old)
        undo = ("swap", self.slots, self.index, self.holes)
        self.slots, self.index, self.holes = edit[1], edit[2], edit[3]
        return undo

    def slot_of(self, uid: str) -> int | None:
        slot = self.index.get(uid)
        return slot if slot is not None and self.slots[slot] is not None else None

    def compaction(self) -> _Edit:
        slots = [item for item in self.slots if item is not None]
        index = {item.uid: slot for slot, item in enumerate(slots)}
        return ("swap", slots, index, 0)


class LineList(Generic[T]):
    """An immutable sequence of items with distinct `uid`s, in order of creation.

    `appended`, `replaced` and `without` return a new version and leave this one as it was;
    each costs the number of items it names when made from the newest version of its family.
    """

    __slots__ = ("_array", "_base", "_count", "_diff", "_tuple")

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._tuple: tuple[T, ...] | None = tuple(items)
        self._array: _Array[T] | None = None
        self._base: LineList[T] | None = None  # None: this version is the root (or a tuple)
        self._diff: Sequence[_Edit] = ()  # the edits that turn `_base`'s array into this version's
        self._count = len(self._tuple)
        if len({item.uid for item in self._tuple}) != self._count:
            raise ValueError("a line item uid twice on one invoice")

    # --- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())

    def items(self) -> tuple[T, ...] | list[T]:
        """The items, in order (a copy: safe to keep while the family changes)."""
        if self._tuple is not None:
            return self._tuple
        with _LOCK:
            array = self._rooted()
            if not array.holes:
                return list(array.slots)  # type: ignore[arg-type]  # no holes: no None
            return [item for item in array.slots if item is not None]

    def get(self, uid: str) -> T | None:
        """The item `uid`, or None (the first look-up builds the family's index)."""
        with _LOCK:
            array = self._rooted()
            slot = array.slot_of(uid)
            return array.slots[slot] if slot is not None else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineList):
            return NotImplemented
        return list(self.items()) == list(other.items())

    __hash__ = None  # type: ignore[assignment]  # equal by content, and that content is a list

    def __repr__(self) -> str:
        return f"LineList({list(self.items())!r})"

    # --- new versions ------------------------------------------------------------------------

    def appended(self, items: Iterable[T]) -> LineList[T]:
        """This version with `items` after its own; ValueError if a uid is already used."""
        new = list(items)
        with _LOCK:
            array = self._rooted()
            uids = {item.uid for item in new}
            if len(uids) != len(new) or any(uid in array.index for uid in uids):
                raise ValueError("a line item uid twice on one invoice")
            return self._changed(array, [("append", item) for item in new], self._count + len(new))

    def replaced(self, items: Iterable[T]) -> LineList[T]:
        """This version with each of `items` in the place of the item of its uid; KeyError if none."""
        new = list(items)
        with _LOCK:
            array = self._rooted()
            edits = [("set", self._slot(array, item.uid), item) for item in new]
            return self._changed(array, edits, self._count)

    def without(self, uids: Iterable[str]) -> LineList[T]:
        """This version without the items `uids`; KeyError if one is not in it."""
        with _LOCK:
            array = self._rooted()
            slots = {self._slot(array, uid) for uid in uids}
            edits: list[_Edit] = [("set", slot, None) for slot in sorted(slots)]
            return self._changed(array, edits, self._count - len(slots), compact=True)

    # --- the family's array ------------------------------------------------------------------

    @staticmethod
    def _slot(array: _Array[T], uid: str) -> int:
        slot = array.slot_of(uid)
        if slot is None:
            raise KeyError(uid)
        return slot

    def _changed(
        self, array: _Array[T], edits: list[_Edit], count: int, *, compact: bool = False
    ) -> LineList[T]:
        """Apply `edits` (checked already: none can fail) to the root, the array of a new version."""
        undo = [array.edit(edit) for edit in edits]
        if compact and array.holes > max(_COMPACT_AT, count):
            undo.append(array.edit(array.compaction()))
        undo.reverse()
        new: LineList[T] = LineList.__new__(LineList)
        new._tuple, new._array, new._base, new._diff, new._count = None, array, None, (), count
        self._base, self._diff = new, undo
        return new

    def _rooted(self) -> _Array[T]:
        """Make this version the root of its family (under `_LOCK`) and return the array."""
        if self._tuple is not None:  # the first change: the tuple becomes the array
            self._array, self._tuple = _Array(self._tuple), None
        path: list[LineList[T]] = []
        node = self
        while node._base is not None:
            path.append(node)
            node = node._base
        array = node._array
        assert array is not None
        for version in reversed(path):  # version._base is the root now: step back onto `version`
            root = version._base
            assert root is not None
            redo = [array.edit(edit) for edit in version._diff]
            redo.reverse()
            root._base, root._diff = version, redo
            version._base, version._diff = None, ()
        return array
