"""The store interface the operations layer is written against.

Operations never see SQL: they open a :class:`Transaction`, read and write
:class:`StoredObject` records, and the transaction commits durably before the
response leaves the server (or rolls back when the operation fails).
Attribute values are kept as encoded TTLV so that any attribute, custom ones of
any type included, round-trips exactly; ``search`` and ``number`` are derived
keys that let Locate filter in the database instead of in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True)
class StoredAttribute:
    """One attribute instance: its canonical name, its TTLV-encoded value and derived search keys."""

    name: str
    value: bytes
    search: str
    number: int | None = None


@dataclass(slots=True)
class StoredObject:
    """A managed object as persisted.

    ``body`` is the TTLV encoding of the object's own structure (e.g. the
    Symmetric Key structure with its Key Block); it is ``None`` once the object
    is destroyed, while the metadata stays.
    """

    uid: str
    object_type: int
    owner: str
    state: int
    body: bytes | None
    attributes: list[StoredAttribute] = field(default_factory=list)
    revision: int = 0

    def values(self, name: str) -> list[StoredAttribute]:
        """All instances of attribute ``name``, in index order."""
        return [a for a in self.attributes if a.name == name]


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """Match objects having attribute ``name`` whose search key equals ``search``,
    or, for ranges (dates), whose number lies in ``[low, high]``."""

    name: str
    search: str | None = None
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True, slots=True)
class LocateQuery:
    """A Locate translated to store terms. ``owners`` None means every owner (admin)."""

    owners: frozenset[str] | None
    object_type: int | None = None
    state: int | None = None
    filters: tuple[AttributeFilter, ...] = ()
    offset: int = 0
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class LocatedRow:
    """A Locate match with what is needed to compute its current state without loading it."""

    uid: str
    state: int
    activation_date: int | None
    deactivation_date: int | None


class Transaction(Protocol):
    """One unit of work. Everything read or written inside it commits together."""

    def get(self, uid: str, *, for_update: bool = False) -> StoredObject | None:
        """The object ``uid`` or None; ``for_update`` locks it against concurrent writers."""

    def insert(self, obj: StoredObject) -> None:
        """Add a new object."""

    def update(self, obj: StoredObject) -> None:
        """Replace the state, body and attributes of an existing object.

        Raises:
            ConcurrentUpdate: another writer changed the object since it was read.
        """

    def locate(self, query: LocateQuery) -> list[LocatedRow]:
        """Objects matching ``query``, oldest first (a stable order for paging)."""


class Store(Protocol):
    """A durable store of managed objects."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Transaction]:
        """Open a unit of work; it commits when the block exits normally."""

    def close(self) -> None:
        """Release connections."""


class ConcurrentUpdate(RuntimeError):
    """An optimistic update lost a race; the caller retries or fails the request."""


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or refused the work; the request fails cleanly."""


def iter_names(obj: StoredObject) -> Iterator[str]:
    """Distinct attribute names of ``obj`` in first-seen order."""
    seen: set[str] = set()
    for attr in obj.attributes:
        if attr.name not in seen:
            seen.add(attr.name)
            yield attr.name
