"""The naming interface the text encodings (XML, JSON) need from the protocol layer.

The codec stays free of KMIP tables: whoever encodes or decodes text passes an
object implementing :class:`TagNames` (``kmipd.protocol.names.spec_names()`` for KMIP).
Names are the KMIP text-encoding forms: tag names without spaces
("ActivationDate"), enumeration value names without spaces ("SymmetricKey").
"""

from __future__ import annotations

from typing import Protocol


class TagNames(Protocol):
    """Name lookups for tags, enumeration values and bit masks."""

    def tag_name(self, tag: int) -> str | None:
        """The text name of ``tag`` ("ActivationDate"), or None when unknown."""

    def tag_value(self, name: str) -> int | None:
        """The tag value named ``name``, or None when unknown."""

    def enum_name(self, tag: int, value: int) -> str | None:
        """The name of enumeration ``value`` of the item tagged ``tag``, or None."""

    def enum_value(self, tag: int, name: str) -> int | None:
        """The value of enumeration ``name`` for the item tagged ``tag``, or None."""

    def mask_names(self, tag: int, value: int) -> list[str] | None:
        """The flag names set in integer bit mask ``value`` of ``tag``, or None when ``tag`` is no mask."""

    def mask_value(self, tag: int, names: list[str]) -> int | None:
        """The integer value of the flag names for mask ``tag``, or None when a name is unknown."""
