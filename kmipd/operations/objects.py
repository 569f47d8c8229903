"""Managed objects in operation terms: decoded attributes, the state machine, access checks.

Stored attribute values are TTLV bytes; this module is where they become
:class:`~kmipd.protocol.attributes.Attribute` values and back, and where the
date-driven state transitions of the KMIP lifecycle are applied.
"""

from __future__ import annotations

from collections.abc import Iterable

from kmipd.errors import ItemNotFound, MissingData
from kmipd.operations.context import Context
from kmipd.protocol.attributes import Attribute, search_key
from kmipd.protocol.enums import State, Tag
from kmipd.store.interface import StoredAttribute, StoredObject
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import Item, ItemType, date_time, enumeration

#: Attribute names the server maintains itself.
UNIQUE_IDENTIFIER = "Unique Identifier"
OBJECT_TYPE = "Object Type"
STATE = "State"
INITIAL_DATE = "Initial Date"
ACTIVATION_DATE = "Activation Date"
DEACTIVATION_DATE = "Deactivation Date"
DESTROY_DATE = "Destroy Date"
COMPROMISE_DATE = "Compromise Date"
COMPROMISE_OCCURRENCE_DATE = "Compromise Occurrence Date"
LAST_CHANGE_DATE = "Last Change Date"
REVOCATION_REASON = "Revocation Reason"

DESTROYED_STATES = frozenset({State.DESTROYED, State.DESTROYED_COMPROMISED})


def to_stored(attribute: Attribute) -> StoredAttribute:
    """Encode an attribute for the store, with its Locate keys."""
    search, number = search_key(attribute)
    return StoredAttribute(attribute.name, encode(attribute.value), search, number)


def from_stored(stored: StoredAttribute) -> Attribute:
    """Decode a stored attribute."""
    return Attribute(stored.name, decode(stored.value))


class ManagedObject:
    """A stored object opened for reading or changing within one transaction."""

    __slots__ = ("_attributes", "stored")

    def __init__(self, stored: StoredObject) -> None:
        self.stored = stored
        self._attributes: list[Attribute] | None = None

    @property
    def uid(self) -> str:
        """The Unique Identifier."""
        return self.stored.uid

    @property
    def object_type(self) -> int:
        """The Object Type enumeration value."""
        return self.stored.object_type

    @property
    def state(self) -> int:
        """The State enumeration value."""
        return self.stored.state

    @property
    def attributes(self) -> list[Attribute]:
        """All attributes, decoded on first use."""
        if self._attributes is None:
            self._attributes = [from_stored(a) for a in self.stored.attributes]
        return self._attributes

    def values(self, name: str) -> list[Item]:
        """The values of every instance of ``name``, in index order."""
        return [a.value for a in self.attributes if a.name == name]

    def first(self, name: str) -> Item | None:
        """The value of instance 0 of ``name`` (decoding only that one while nothing has changed)."""
        if self._attributes is None:
            for stored in self.stored.attributes:
                if stored.name == name:
                    return decode(stored.value)
            return None
        for attribute in self._attributes:
            if attribute.name == name:
                return attribute.value
        return None

    def number(self, name: str) -> int | None:
        """The integer value of a numeric single-instance attribute."""
        for stored in self.stored.attributes:
            if stored.name == name:
                return stored.number
        return None

    def set(self, name: str, value: Item) -> None:
        """Replace every instance of ``name`` with one value."""
        attributes = self.attributes
        position = next((i for i, a in enumerate(attributes) if a.name == name), len(attributes))
        kept = [a for a in attributes if a.name != name]
        kept.insert(min(position, len(kept)), Attribute(name, value))
        self._attributes = kept

    def add(self, name: str, value: Item) -> int:
        """Append an instance; return its index."""
        index = len(self.values(name))
        self.attributes.append(Attribute(name, value))
        return index

    def replace(self, name: str, index: int, value: Item) -> None:
        """Replace instance ``index`` of ``name``.

        Raises:
            IndexError: there is no such instance.
        """
        if index < 0:
            raise IndexError(index)
        seen = -1
        for position, attribute in enumerate(self.attributes):
            if attribute.name == name:
                seen += 1
                if seen == index:
                    self.attributes[position] = Attribute(name, value)
                    return
        raise IndexError(index)

    def remove(self, name: str, index: int | None = None) -> list[Attribute]:
        """Remove instance ``index`` of ``name`` (all instances when None); return what was removed."""
        removed: list[Attribute] = []
        kept: list[Attribute] = []
        seen = -1
        for attribute in self.attributes:
            if attribute.name == name:
                seen += 1
                if index is None or seen == index:
                    removed.append(attribute)
                    continue
            kept.append(attribute)
        self._attributes = kept
        return removed

    def set_state(self, state: int) -> None:
        """Move to ``state`` (the caller has checked the transition)."""
        self.stored.state = state
        self.set(STATE, enumeration(Tag.STATE, state))

    def set_date(self, name: str, tag: int, when: int) -> None:
        """Set a Date-Time attribute."""
        self.set(name, date_time(tag, when))

    def touch(self, now: int) -> None:
        """Record a change (Last Change Date)."""
        self.set_date(LAST_CHANGE_DATE, Tag.LAST_CHANGE_DATE, now)

    def flush(self) -> StoredObject:
        """Write decoded attributes back into the stored record."""
        if self._attributes is not None:
            self.stored.attributes = [to_stored(a) for a in self._attributes]
        return self.stored

    def refresh_state(self, now: int) -> bool:
        """Apply date-driven transitions (KMIP 1.4 section 3.22); True when the state changed.

        An Activation Date that has been reached makes a Pre-Active object
        Active; a Deactivation Date that has been reached makes a Pre-Active or
        Active object Deactivated.
        """
        state = self.stored.state
        current = effective_state(state, self.number(ACTIVATION_DATE), self.number(DEACTIVATION_DATE), now)
        if current == state:
            return False
        self.set_state(current)
        return True


def effective_state(state: int, activation: int | None, deactivation: int | None, now: int) -> int:
    """The state an object is in at ``now`` once its Activation and Deactivation Dates are applied."""
    if state not in (State.PRE_ACTIVE, State.ACTIVE):
        return state
    if deactivation is not None and deactivation <= now:
        return State.DEACTIVATED
    if state == State.PRE_ACTIVE and activation is not None and activation <= now:
        return State.ACTIVE
    return state


def resolve_uid(ctx: Context, uid_item: Item | None) -> str:
    """The object a request names: its Unique Identifier, else the message's ID Placeholder.

    Raises:
        MissingData: neither is available.
    """
    if uid_item is not None and uid_item.type is ItemType.TEXT_STRING:
        return str(uid_item.value)
    if ctx.message.id_placeholder is None:
        raise MissingData("no Unique Identifier and no ID Placeholder in this request")
    return ctx.message.id_placeholder


def load(ctx: Context, uid: str, *, for_update: bool = False) -> ManagedObject:
    """Open an object the client may use.

    Raises:
        ItemNotFound: it does not exist, or belongs to someone the client cannot see; the two are
            indistinguishable on purpose.
    """
    stored = ctx.tx.get(uid, for_update=for_update)
    if stored is None or not ctx.access.may_access(ctx.identity, stored.owner):
        raise ItemNotFound(f"no object with Unique Identifier '{uid}'" if len(uid) <= 128 else "no such object")
    obj = ManagedObject(stored)
    obj.refresh_state(ctx.now)
    return obj


def save(ctx: Context, obj: ManagedObject) -> None:
    """Persist a changed object."""
    ctx.tx.update(obj.flush())


def require(item: Item | None, what: str) -> Item:
    """``item``, or MissingData naming ``what``."""
    if item is None:
        raise MissingData(f"{what} is required")
    return item


def names(attributes: Iterable[Attribute]) -> list[str]:
    """Distinct names in first-seen order."""
    seen: dict[str, None] = {}
    for attribute in attributes:
        seen.setdefault(attribute.name, None)
    return list(seen)
