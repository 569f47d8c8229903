"""The generic TTLV tree: one immutable :class:`Item` per Tag-Type-Length-Value.

Items are NamedTuples rather than dataclasses because the codec builds
hundreds of thousands of them per second and tuple construction is the
cheapest immutable record Python has.

Value representation by type:

* Structure: ``tuple[Item, ...]``
* Integer, Long Integer, Big Integer, Enumeration, Interval: ``int``
* Boolean: ``bool``
* Text String: ``str``; Byte String: ``bytes``
* Date-Time: ``int`` seconds since the POSIX epoch (KMIP's own definition)
* Date-Time Extended: ``int`` microseconds since the POSIX epoch
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class ItemType(IntEnum):
    """The TTLV item types of KMIP 1.0 to 2.1 (Date-Time Extended since 2.0)."""

    STRUCTURE = 0x01
    INTEGER = 0x02
    LONG_INTEGER = 0x03
    BIG_INTEGER = 0x04
    ENUMERATION = 0x05
    BOOLEAN = 0x06
    TEXT_STRING = 0x07
    BYTE_STRING = 0x08
    DATE_TIME = 0x09
    INTERVAL = 0x0A
    DATE_TIME_EXTENDED = 0x0B


Value = tuple["Item", ...] | int | bool | str | bytes


class Item(NamedTuple):
    """One TTLV item. ``tag`` is the 24-bit tag value, e.g. ``0x420078``."""

    tag: int
    type: ItemType
    value: Value

    # Small accessors used throughout the protocol layer. They stay cheap:
    # structures in KMIP messages have few children, so a linear scan wins
    # over building a dict per structure.

    @property
    def children(self) -> tuple[Item, ...]:
        """The children of a Structure (empty for any other type)."""
        value = self.value
        return value if isinstance(value, tuple) else ()

    def find(self, tag: int) -> Item | None:
        """The first child with ``tag``, or None."""
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: int) -> list[Item]:
        """Every child with ``tag``, in order."""
        return [child for child in self.children if child.tag == tag]


def structure(tag: int, *children: Item | None) -> Item:
    """Build a Structure, leaving out ``None`` children (optional fields)."""
    return Item(tag, ItemType.STRUCTURE, tuple(c for c in children if c is not None))


def integer(tag: int, value: int) -> Item:
    """Build an Integer item."""
    return Item(tag, ItemType.INTEGER, value)


def long_integer(tag: int, value: int) -> Item:
    """Build a Long Integer item."""
    return Item(tag, ItemType.LONG_INTEGER, value)


def big_integer(tag: int, value: int) -> Item:
    """Build a Big Integer item."""
    return Item(tag, ItemType.BIG_INTEGER, value)


def enumeration(tag: int, value: int) -> Item:
    """Build an Enumeration item."""
    return Item(tag, ItemType.ENUMERATION, int(value))


def boolean(tag: int, value: bool) -> Item:
    """Build a Boolean item."""
    return Item(tag, ItemType.BOOLEAN, bool(value))


def text(tag: int, value: str) -> Item:
    """Build a Text String item."""
    return Item(tag, ItemType.TEXT_STRING, value)


def byte_string(tag: int, value: bytes) -> Item:
    """Build a Byte String item."""
    return Item(tag, ItemType.BYTE_STRING, bytes(value))


def date_time(tag: int, seconds: int) -> Item:
    """Build a Date-Time item from POSIX seconds."""
    return Item(tag, ItemType.DATE_TIME, int(seconds))


def interval(tag: int, seconds: int) -> Item:
    """Build an Interval item (unsigned 32-bit seconds)."""
    return Item(tag, ItemType.INTERVAL, int(seconds))
