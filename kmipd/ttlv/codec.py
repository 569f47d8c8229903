"""Binary TTLV encoding and strict decoding (KMIP 1.4 section 9.1, KMIP 2.1 section 9.1).

Decoding is strict on purpose: a key server must not guess what a malformed
message meant. Lengths must match the item type, padding bytes must be zero,
booleans must be 0 or 1, text must be valid UTF-8, structures must be filled
exactly by their children, and nesting depth and item counts are bounded so
that a hostile peer cannot make the decoder allocate or recurse without limit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.item import Item, ItemType

__all__ = ["Limits", "decode", "decode_header", "encode"]

_HEADER = struct.Struct(">I B I")  # 3-byte tag in the top of a 4-byte word, see _split_header
_TAG_TYPE_LEN = struct.Struct(">IL")  # (tag << 8 | type), length
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_ZERO_PAD = bytes(8)

_FIXED_LENGTH = {
    ItemType.INTEGER: 4,
    ItemType.LONG_INTEGER: 8,
    ItemType.ENUMERATION: 4,
    ItemType.BOOLEAN: 8,
    ItemType.DATE_TIME: 8,
    ItemType.INTERVAL: 4,
    ItemType.DATE_TIME_EXTENDED: 8,
}
_TYPES = {int(t): t for t in ItemType}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied while decoding untrusted input.

    Attributes:
        max_message_size: largest encoded message accepted, header included.
        max_depth: deepest structure nesting (the message itself is depth 1).
        max_items: most items in one message, all levels counted.
    """

    max_message_size: int = 1 << 20
    max_depth: int = 32
    max_items: int = 100_000


DEFAULT_LIMITS = Limits()


def decode_header(header: bytes) -> tuple[int, ItemType, int]:
    """Read the 8-byte TTLV header: (tag, type, length of the value).

    Raises:
        TTLVError: fewer than 8 bytes, or an unknown item type.
    """
    if len(header) < 8:
        raise TTLVError("truncated item header", 0)
    word, length = _TAG_TYPE_LEN.unpack_from(header, 0)
    type_byte = word & 0xFF
    item_type = _TYPES.get(type_byte)
    if item_type is None:
        raise TTLVError(f"unknown item type 0x{type_byte:02x}", 3)
    return word >> 8, item_type, length


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Item:
    """Decode exactly one TTLV item filling all of ``data``.

    Raises:
        TTLVError: the bytes are not one well-formed item within ``limits``.
    """
    if len(data) > limits.max_message_size:
        raise TTLVError(f"message of {len(data)} bytes exceeds the limit of {limits.max_message_size}", 0)
    decoder = _Decoder(bytes(data), limits)
    item, end = decoder.item(0, len(data), 1)
    if end != len(data):
        raise TTLVError(f"{len(data) - end} trailing bytes after the message", end)
    return item


# Item construction and type dispatch are the codec's hot path: items are built with
# tuple.__new__ (a NamedTuple's own constructor costs twice as much) and the type byte is
# compared as a plain int, avoiding an enum attribute lookup per comparison.
_new_item = tuple.__new__
_TYPE_BY_BYTE: list[ItemType | None] = [None] * 256
for _member in ItemType:
    _TYPE_BY_BYTE[_member] = _member
_STRUCTURE, _INTEGER, _LONG, _BIG, _ENUM, _BOOL, _TEXT, _BYTES, _DATE, _INTERVAL, _DATE_EXT = range(1, 12)
_FIXED_BY_BYTE = {int(k): v for k, v in _FIXED_LENGTH.items()}
_FOUR_BYTE_UNSIGNED = frozenset({_ENUM, _INTERVAL})
_STRINGS = frozenset({_TEXT, _BYTES})


class _Decoder:
    """One decoding pass; holds the budget of items left."""

    __slots__ = ("data", "items_left", "max_depth")

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.max_depth = limits.max_depth
        self.items_left = limits.max_items

    def item(self, pos: int, end: int, depth: int) -> tuple[Item, int]:
        data = self.data
        if end - pos < 8:
            raise TTLVError("truncated item header", pos)
        self.items_left -= 1
        if self.items_left < 0:
            raise TTLVError("too many items in one message", pos)
        word, length = _TAG_TYPE_LEN.unpack_from(data, pos)
        tag = word >> 8
        kind = word & 0xFF
        item_type = _TYPE_BY_BYTE[kind]
        if item_type is None:
            raise TTLVError(f"unknown item type 0x{kind:02x}", pos + 3)
        if tag >> 16 not in (0x42, 0x54):
            raise TTLVError(f"tag 0x{tag:06x} is outside the KMIP and extension ranges", pos)
        start = pos + 8
        padded = (length + 7) & ~7
        stop = start + padded
        if stop > end:
            raise TTLVError(f"item 0x{tag:06x} of length {length} runs past its container", pos)

        if kind == _STRUCTURE:
            if length != padded:
                raise TTLVError(f"structure 0x{tag:06x} length {length} is not a multiple of 8", pos)
            if depth > self.max_depth:
                raise TTLVError(f"nesting deeper than {self.max_depth}", pos)
            children = []
            cursor = start
            child_depth = depth + 1
            while cursor < stop:
                child, cursor = self.item(cursor, stop, child_depth)
                children.append(child)
            return _new_item(Item, (tag, item_type, tuple(children))), stop

        fixed = _FIXED_BY_BYTE.get(kind)
        if fixed is not None and length != fixed:
            raise TTLVError(f"{item_type.name} 0x{tag:06x} has length {length}, expected {fixed}", pos)
        if padded != length and data[start + length : stop] != _ZERO_PAD[: padded - length]:
            raise TTLVError(f"non-zero padding in 0x{tag:06x}", start + length)

        value: int | bool | str | bytes
        if kind in _FOUR_BYTE_UNSIGNED:
            value = _U32.unpack_from(data, start)[0]
        elif kind == _TEXT:
            try:
                value = data[start : start + length].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TTLVError(f"text string 0x{tag:06x} is not UTF-8", start + exc.start) from None
        elif kind == _INTEGER:
            value = _I32.unpack_from(data, start)[0]
        elif kind == _BYTES:
            value = data[start : start + length]
        elif kind == _BOOL:
            raw = _I64.unpack_from(data, start)[0]
            if raw != 0 and raw != 1:
                raise TTLVError(f"boolean 0x{tag:06x} has value {raw}, expected 0 or 1", start)
            value = raw == 1
        elif kind == _BIG:
            if length == 0 or length % 8:
                raise TTLVError(f"big integer 0x{tag:06x} length {length} is not a positive multiple of 8", pos)
            value = int.from_bytes(data[start:stop], "big", signed=True)
        else:  # LONG_INTEGER, DATE_TIME, DATE_TIME_EXTENDED: signed 64-bit
            value = _I64.unpack_from(data, start)[0]
        return _new_item(Item, (tag, item_type, value)), stop


def encode(item: Item) -> bytes:
    """Encode an item tree to TTLV bytes.

    Raises:
        TTLVError: a value does not fit its item type (e.g. an Integer out of 32-bit range).
    """
    parts: list[bytes] = []
    _encode_into(item, parts)
    return b"".join(parts)


_PACK_I32 = struct.Struct(">ILi4x").pack
_PACK_U32 = struct.Struct(">ILI4x").pack
_PACK_I64 = struct.Struct(">ILq").pack
_PACK_HEAD = _TAG_TYPE_LEN.pack


def _encode_into(item: Item, parts: list[bytes]) -> int:
    """Append the encoding of ``item`` to ``parts``; return its encoded size."""
    tag, item_type, value = item
    kind = int(item_type)
    head = (tag << 8) | kind
    try:
        if kind == _STRUCTURE:
            index = len(parts)
            parts.append(b"")  # placeholder for the header, filled once the length is known
            length = 0
            for child in value:  # type: ignore[union-attr]
                assert isinstance(child, Item)
                length += _encode_into(child, parts)
            parts[index] = _PACK_HEAD(head, length)
            return length + 8
        if kind in _FOUR_BYTE_UNSIGNED:
            parts.append(_PACK_U32(head, 4, value))
            return 16
        if kind in _STRINGS:
            if kind == _TEXT:
                if not isinstance(value, str):
                    raise TTLVError(f"TEXT_STRING 0x{tag:06x} needs a str, got {type(value).__name__}")
                raw = value.encode("utf-8")
            elif isinstance(value, bytes | bytearray):
                raw = bytes(value)
            else:
                raise TTLVError(f"BYTE_STRING 0x{tag:06x} needs bytes, got {type(value).__name__}")
            length = len(raw)
            pad = -length & 7
            parts.append(_PACK_HEAD(head, length) + raw + _ZERO_PAD[:pad])
            return 8 + length + pad
        if kind == _INTEGER:
            parts.append(_PACK_I32(head, 4, value))
            return 16
        if kind == _BOOL:
            parts.append(_PACK_I64(head, 8, 1 if value else 0))
            return 16
        if kind == _BIG:
            if not isinstance(value, int) or isinstance(value, bool):
                raise TTLVError(f"BIG_INTEGER 0x{tag:06x} needs an int, got {type(value).__name__}")
            size = max(8, ((value if value >= 0 else ~value).bit_length() + 1 + 63) // 64 * 8)
            parts.append(_PACK_HEAD(head, size) + value.to_bytes(size, "big", signed=True))
            return 8 + size
        # LONG_INTEGER, DATE_TIME, DATE_TIME_EXTENDED
        parts.append(_PACK_I64(head, 8, value))
        return 16
    except UnicodeEncodeError:
        raise TTLVError(f"TEXT_STRING 0x{tag:06x} is not encodable as UTF-8") from None
    except struct.error as exc:
        raise TTLVError(f"value of {item_type.name} 0x{tag:06x} does not fit: {exc}") from None
