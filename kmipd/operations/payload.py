"""Typed reads from a request payload, raising the KMIP error a client should see."""

from __future__ import annotations

from kmipd.errors import InvalidField, MissingData
from kmipd.protocol.names import tag_display_name
from kmipd.ttlv.item import Item, ItemType


def _label(tag: int) -> str:
    return tag_display_name(tag) or f"0x{tag:06x}"


class Payload:
    """A request payload (possibly empty) with checked accessors."""

    __slots__ = ("item",)

    def __init__(self, item: Item | None) -> None:
        self.item = item

    def find(self, tag: int) -> Item | None:
        """The first child tagged ``tag``."""
        return None if self.item is None else self.item.find(tag)

    def find_all(self, tag: int) -> list[Item]:
        """Every child tagged ``tag``."""
        return [] if self.item is None else self.item.find_all(tag)

    def _typed(self, tag: int, item_type: ItemType, required: bool) -> Item | None:
        item = self.find(tag)
        if item is None:
            if required:
                raise MissingData(f"{_label(tag)} is required")
            return None
        if item.type is not item_type:
            raise InvalidField(f"{_label(tag)} must be of type {item_type.name}")
        return item

    def text(self, tag: int, *, required: bool = False) -> str | None:
        """A Text String field."""
        item = self._typed(tag, ItemType.TEXT_STRING, required)
        return None if item is None else str(item.value)

    def integer(self, tag: int, *, required: bool = False) -> int | None:
        """An Integer field."""
        item = self._typed(tag, ItemType.INTEGER, required)
        return None if item is None else int(item.value)  # type: ignore[arg-type]

    def enum(self, tag: int, *, required: bool = False) -> int | None:
        """An Enumeration field."""
        item = self._typed(tag, ItemType.ENUMERATION, required)
        return None if item is None else int(item.value)  # type: ignore[arg-type]

    def boolean(self, tag: int) -> bool | None:
        """A Boolean field."""
        item = self._typed(tag, ItemType.BOOLEAN, False)
        return None if item is None else bool(item.value)

    def date_time(self, tag: int) -> int | None:
        """A Date-Time field in POSIX seconds."""
        item = self._typed(tag, ItemType.DATE_TIME, False)
        return None if item is None else int(item.value)  # type: ignore[arg-type]

    def interval(self, tag: int) -> int | None:
        """An Interval field in seconds."""
        item = self._typed(tag, ItemType.INTERVAL, False)
        return None if item is None else int(item.value)  # type: ignore[arg-type]

    def structure(self, tag: int, *, required: bool = False) -> Item | None:
        """A Structure field."""
        return self._typed(tag, ItemType.STRUCTURE, required)
