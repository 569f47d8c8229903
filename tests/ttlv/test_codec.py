"""Byte-exact TTLV examples from the KMIP specification, plus strict-decoding failures."""

from __future__ import annotations

import struct

import pytest

from kmipd.ttlv import Item, ItemType, Limits, TTLVError, decode, encode
from kmipd.ttlv.codec import decode_header
from kmipd.ttlv.item import (
    big_integer,
    boolean,
    byte_string,
    date_time,
    enumeration,
    integer,
    interval,
    long_integer,
    structure,
    text,
)

TAG = 0x420020


def _hex(spec: str) -> bytes:
    """Bytes from the spec's notation: hex pairs, with '|' between Tag, Type, Length and Value."""
    return bytes.fromhex(spec.replace("|", " "))


def _header(tag: int, type_byte: int, length: int) -> bytes:
    return struct.pack(">IL", (tag << 8) | type_byte, length)


# KMIP 1.4 (kmip-spec-v1.4-os) section 9.1.2 "Examples": "These examples are assumed to be encoding a
# Protocol Object whose tag is 420020." The hex strings below are copied verbatim from that section.
# (The KMIP 2.1 specification's TTLV section 10.1 carries no byte examples of its own.)
SPEC_1_4_EXAMPLES = [
    # "An Integer containing the decimal value 8"
    ("integer-8", integer(TAG, 8), "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"),
    # "A Long Integer containing the decimal value 123456789000000000"
    (
        "long-integer",
        long_integer(TAG, 123456789000000000),
        "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
    ),
    # "A Big Integer containing the decimal value 1234567890000000000000000000"
    (
        "big-integer",
        big_integer(TAG, 1234567890000000000000000000),
        "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
    ),
    # "An Enumeration with value 255"
    ("enumeration-255", enumeration(TAG, 255), "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00"),
    # "A Boolean with the value True"
    ("boolean-true", boolean(TAG, True), "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01"),
    # 'A Text String with the value "Hello World"'
    (
        "text-hello-world",
        text(TAG, "Hello World"),
        "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
    ),
    # "A Byte String with the value { 0x01, 0x02, 0x03 }"
    (
        "byte-string",
        byte_string(TAG, b"\x01\x02\x03"),
        "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00",
    ),
    # "A Date-Time, containing the value for Friday, March 14, 2008, 11:56:40 GMT" (POSIX 1205495800)
    ("date-time", date_time(TAG, 1205495800), "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8"),
    # "An Interval, containing the value for 10 days" (864000 seconds)
    ("interval-10-days", interval(TAG, 10 * 86400), "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00"),
    # "A Structure containing an Enumeration, value 254, followed by an Integer, value 255, having tags
    # 420004 and 420005 respectively"
    (
        "structure",
        structure(TAG, enumeration(0x420004, 254), integer(0x420005, 255)),
        "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00"
        " | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
    ),
]

# Date-Time Extended has no byte example in either spec text; this one is built from the KMIP 2.1
# section 10.1.2/10.1.3 rules (type 0x0B, length 8, signed 64-bit big-endian microseconds since the
# epoch): 2008-03-14 11:56:40.123456 UTC = 1205495800123456 us = 0x000448645CF1D040.
DERIVED_EXAMPLES = [
    (
        "date-time-extended",
        Item(TAG, ItemType.DATE_TIME_EXTENDED, 1205495800123456),
        "42 00 20 | 0B | 00 00 00 08 | 00 04 48 64 5C F1 D0 40",
    ),
]

EXAMPLES = SPEC_1_4_EXAMPLES + DERIVED_EXAMPLES


@pytest.mark.parametrize(
    ("item", "spec_hex"), [(i, h) for _, i, h in EXAMPLES], ids=[n for n, _, _ in EXAMPLES]
)
def test_encode_matches_spec_bytes(item: Item, spec_hex: str) -> None:
    assert encode(item) == _hex(spec_hex)


@pytest.mark.parametrize(
    ("item", "spec_hex"), [(i, h) for _, i, h in EXAMPLES], ids=[n for n, _, _ in EXAMPLES]
)
def test_decode_matches_spec_item(item: Item, spec_hex: str) -> None:
    decoded = decode(_hex(spec_hex))
    assert decoded == item
    assert decoded.type is item.type
    assert type(decoded.value) is type(item.value)


def test_decode_accepts_bytearray_and_memoryview() -> None:
    raw = _hex(SPEC_1_4_EXAMPLES[-1][2])
    assert decode(bytearray(raw)) == SPEC_1_4_EXAMPLES[-1][1]
    assert decode(memoryview(raw)) == SPEC_1_4_EXAMPLES[-1][1]


def test_decode_header() -> None:
    assert decode_header(_hex("42 00 20 | 01 | 00 00 00 20")) == (TAG, ItemType.STRUCTURE, 0x20)
    with pytest.raises(TTLVError, match="truncated item header"):
        decode_header(b"\x42\x00\x20\x01\x00\x00\x00")
    with pytest.raises(TTLVError, match="unknown item type 0x0c"):
        decode_header(_hex("42 00 20 | 0C | 00 00 00 08"))


# --- values at the edges of each type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value_hex"),
    [
        (integer(TAG, -1), "FF FF FF FF 00 00 00 00"),
        (integer(TAG, -(2**31)), "80 00 00 00 00 00 00 00"),
        (integer(TAG, 2**31 - 1), "7F FF FF FF 00 00 00 00"),
        (long_integer(TAG, -1), "FF FF FF FF FF FF FF FF"),
        (long_integer(TAG, -(2**63)), "80 00 00 00 00 00 00 00"),
        (long_integer(TAG, 2**63 - 1), "7F FF FF FF FF FF FF FF"),
        (date_time(TAG, -1), "FF FF FF FF FF FF FF FF"),
        (Item(TAG, ItemType.DATE_TIME_EXTENDED, -(2**63)), "80 00 00 00 00 00 00 00"),
        (enumeration(TAG, 2**32 - 1), "FF FF FF FF 00 00 00 00"),
        (enumeration(TAG, 0x80000001), "80 00 00 01 00 00 00 00"),  # extension enumeration values
        # Interval is an unsigned 32-bit number: FFFFFFFF is 4294967295 seconds, not -1.
        (interval(TAG, 2**32 - 1), "FF FF FF FF 00 00 00 00"),
        (interval(TAG, 0), "00 00 00 00 00 00 00 00"),
        (boolean(TAG, False), "00 00 00 00 00 00 00 00"),
        # Big Integers: two's complement, sign-extended to a multiple of 8 bytes.
        (big_integer(TAG, 0), "00 00 00 00 00 00 00 00"),
        (big_integer(TAG, -1), "FF FF FF FF FF FF FF FF"),
        (big_integer(TAG, 255), "00 00 00 00 00 00 00 FF"),
        (big_integer(TAG, -256), "FF FF FF FF FF FF FF 00"),
        (big_integer(TAG, 2**63), "00 00 00 00 00 00 00 00 80 00 00 00 00 00 00 00"),
        (big_integer(TAG, -(2**63) - 1), "FF FF FF FF FF FF FF FF 7F FF FF FF FF FF FF FF"),
        (big_integer(TAG, -(2**128)), "FF FF FF FF FF FF FF FF" + " 00" * 16),
        (text(TAG, ""), ""),
        (byte_string(TAG, b""), ""),
        (text(TAG, "12345678"), "31 32 33 34 35 36 37 38"),
        (text(TAG, "é€😀"), "C3 A9 E2 82 AC F0 9F 98 80 00 00 00 00 00 00 00"),
        (structure(TAG), ""),
    ],
    ids=lambda x: repr(x.value)[:24] if isinstance(x, Item) else None,
)
def test_edge_values_round_trip(item: Item, value_hex: str) -> None:
    raw = encode(item)
    value = _hex(value_hex)
    assert raw[:4] == _hex("42 00 20") + bytes([item.type])
    assert raw[8:] == value
    assert len(raw) % 8 == 0
    assert decode(raw) == item


def test_interval_decodes_unsigned() -> None:
    assert decode(_hex("42 00 20 | 0A | 00 00 00 04 | FF FF FF FF 00 00 00 00")).value == 2**32 - 1


def test_enumeration_decodes_unsigned() -> None:
    assert decode(_hex("42 00 20 | 05 | 00 00 00 04 | FF FF FF FE 00 00 00 00")).value == 2**32 - 2


def test_integer_decodes_signed() -> None:
    assert decode(_hex("42 00 20 | 02 | 00 00 00 04 | FF FF FF FE 00 00 00 00")).value == -2


@pytest.mark.parametrize(
    ("value_hex", "expected"),
    [
        ("80 00 00 00 00 00 00 00", -(2**63)),
        ("FF FF FF FF FF FF FF FF 80 00 00 00 00 00 00 00", -(2**63)),  # redundant sign extension
        ("00 00 00 00 00 00 00 00 7F FF FF FF FF FF FF FF", 2**63 - 1),
        ("FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF", -1),
    ],
)
def test_big_integer_decode_sign_extension(value_hex: str, expected: int) -> None:
    value = _hex(value_hex)
    assert decode(_header(TAG, 0x04, len(value)) + value) == big_integer(TAG, expected)



@pytest.mark.parametrize(
    ("value", "length"),
    [
        (0, 8),
        (2**55, 8),
        (-(2**55) - 1, 8),
        (2**56, 8),
        (2**62, 8),
        (2**63 - 1, 8),
        (-(2**63), 8),
        (2**63, 16),
        (2**119, 16),
        (2**120, 16),
        (2**127 - 1, 16),
        (-(2**127), 16),
        (2**127, 24),
    ],
)
def test_big_integer_encoding_is_minimal(value: int, length: int) -> None:
    # KMIP 1.4 9.1.1.4 / 2.1 10.1.2: Big Integers "SHALL be padded with the minimal number of leading
    # sign-extended bytes to make the length a multiple of eight bytes".
    raw = encode(big_integer(TAG, value))
    assert decode(raw).value == value
    assert struct.unpack(">L", raw[4:8])[0] == length


# --- encode errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        integer(TAG, 2**31),
        integer(TAG, -(2**31) - 1),
        long_integer(TAG, 2**63),
        long_integer(TAG, -(2**63) - 1),
        enumeration(TAG, -1),
        enumeration(TAG, 2**32),
        interval(TAG, -1),
        interval(TAG, 2**32),
        date_time(TAG, 2**63),
        Item(TAG, ItemType.DATE_TIME_EXTENDED, -(2**63) - 1),
        Item(TAG, ItemType.TEXT_STRING, 5),
    ],
    ids=lambda item: f"{item.type.name}-{item.value}",
)
def test_encode_out_of_range_raises(item: Item) -> None:
    with pytest.raises(TTLVError, match=item.type.name):
        encode(item)


def test_encode_out_of_range_integer_inside_structure() -> None:
    with pytest.raises(TTLVError, match=r"INTEGER 0x420005 does not fit"):
        encode(structure(TAG, integer(0x420004, 1), integer(0x420005, 2**31)))


# --- strict decoding ---------------------------------------------------------------------------------

INTEGER_8 = _hex("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00")


@pytest.mark.parametrize("cut", [0, 1, 4, 7])
def test_truncated_header(cut: int) -> None:
    with pytest.raises(TTLVError, match="truncated item header"):
        decode(INTEGER_8[:cut])


def test_structure_claiming_more_than_the_message_holds() -> None:
    data = _header(TAG, 0x01, 32) + INTEGER_8
    with pytest.raises(TTLVError, match="0x420020 of length 32 runs past its container") as info:
        decode(data)
    assert info.value.offset == 0


def test_truncated_value() -> None:
    with pytest.raises(TTLVError, match="runs past its container"):
        decode(INTEGER_8[:12])


def test_length_past_container() -> None:
    # A structure of length 16 whose child Text String claims 11 bytes (needs 8 + 16 = 24).
    data = _header(TAG, 0x01, 16) + _header(0x420021, 0x07, 11) + b"Hello Wo"
    with pytest.raises(TTLVError, match=r"0x420021 of length 11 runs past its container") as info:
        decode(data)
    assert info.value.offset == 8


def test_child_longer_than_its_structure_even_if_message_is_long_enough() -> None:
    # The inner Integer fits in the message but not in the 8-byte structure that claims it.
    data = _header(TAG, 0x01, 8) + INTEGER_8
    with pytest.raises(TTLVError, match="runs past its container"):
        decode(data)


def test_huge_length() -> None:
    with pytest.raises(TTLVError, match="runs past its container"):
        decode(_header(TAG, 0x07, 0xFFFFFFFF) + b"abcdefgh")


@pytest.mark.parametrize(
    ("type_byte", "name", "length", "expected"),
    [
        (0x02, "INTEGER", 8, 4),
        (0x02, "INTEGER", 0, 4),
        (0x03, "LONG_INTEGER", 4, 8),
        (0x03, "LONG_INTEGER", 16, 8),
        (0x05, "ENUMERATION", 8, 4),
        (0x06, "BOOLEAN", 4, 8),
        (0x06, "BOOLEAN", 1, 8),
        (0x09, "DATE_TIME", 4, 8),
        (0x0A, "INTERVAL", 8, 4),
        (0x0B, "DATE_TIME_EXTENDED", 4, 8),
    ],
)
def test_wrong_fixed_length(type_byte: int, name: str, length: int, expected: int) -> None:
    padded = (length + 7) // 8 * 8
    data = _header(TAG, type_byte, length) + bytes(padded)
    with pytest.raises(TTLVError, match=rf"{name} 0x420020 has length {length}, expected {expected}"):
        decode(data)


def test_nonzero_padding_integer() -> None:
    data = _hex("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01")
    with pytest.raises(TTLVError, match="non-zero padding in 0x420020") as info:
        decode(data)
    assert info.value.offset == 12


def test_nonzero_padding_text_string() -> None:
    data = _hex("42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 20 00 00")
    with pytest.raises(TTLVError, match="non-zero padding in 0x420020") as info:
        decode(data)
    assert info.value.offset == 8 + 11


def test_nonzero_padding_byte_string_and_interval_and_enum() -> None:
    for spec in (
        "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 FF",
        "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 80 00 00 00",
        "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 01 00",
    ):
        with pytest.raises(TTLVError, match="non-zero padding"):
            decode(_hex(spec))


@pytest.mark.parametrize("raw", [2, 0x100, -1, 2**63 - 1, 0x0100000000000000])
def test_boolean_value_not_zero_or_one(raw: int) -> None:
    data = _header(TAG, 0x06, 8) + struct.pack(">q", raw)
    with pytest.raises(TTLVError, match=rf"boolean 0x420020 has value {raw}, expected 0 or 1"):
        decode(data)


@pytest.mark.parametrize(
    "payload",
    [b"\xff", b"abc\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"],
    ids=["ff", "truncated-2-byte", "bad-continuation", "surrogate", "overlong", "above-10ffff"],
)
def test_invalid_utf8(payload: bytes) -> None:
    pad = (8 - len(payload) % 8) % 8
    data = _header(TAG, 0x07, len(payload)) + payload + bytes(pad)
    with pytest.raises(TTLVError, match="text string 0x420020 is not UTF-8") as info:
        decode(data)
    assert 8 <= info.value.offset < 8 + len(payload)


def test_byte_string_accepts_any_bytes() -> None:
    data = _header(TAG, 0x08, 2) + b"\xff\xfe" + bytes(6)
    assert decode(data) == byte_string(TAG, b"\xff\xfe")


@pytest.mark.parametrize("length", [4, 12, 20, 31])
def test_structure_length_not_multiple_of_8(length: int) -> None:
    padded = (length + 7) // 8 * 8
    data = _header(TAG, 0x01, length) + bytes(padded)
    with pytest.raises(TTLVError, match=rf"structure 0x420020 length {length} is not a multiple of 8"):
        decode(data)


@pytest.mark.parametrize("length", [0, 3, 9, 15])
def test_big_integer_length_not_multiple_of_8(length: int) -> None:
    padded = (length + 7) // 8 * 8
    data = _header(TAG, 0x04, length) + bytes(padded)
    with pytest.raises(TTLVError, match=rf"big integer 0x420020 length {length} is not a positive multiple"):
        decode(data)


@pytest.mark.parametrize("type_byte", [0x00, 0x0C, 0x0D, 0x80, 0xFF])
def test_unknown_item_type(type_byte: int) -> None:
    data = _header(TAG, type_byte, 4) + bytes(8)
    with pytest.raises(TTLVError, match=f"unknown item type 0x{type_byte:02x}") as info:
        decode(data)
    assert info.value.offset == 3


def test_unknown_item_type_0x0c_nested() -> None:
    data = _header(TAG, 0x01, 16) + _header(0x420004, 0x0C, 8) + bytes(8)
    with pytest.raises(TTLVError, match="unknown item type 0x0c") as info:
        decode(data)
    assert info.value.offset == 8 + 3


@pytest.mark.parametrize("tag", [0x000000, 0x410000, 0x43FFFF, 0x530001, 0x550000, 0xFFFFFF, 0x024200])
def test_tag_outside_kmip_and_extension_ranges(tag: int) -> None:
    with pytest.raises(TTLVError, match=f"tag 0x{tag:06x} is outside the KMIP and extension ranges"):
        decode(_header(tag, 0x02, 4) + bytes(8))


@pytest.mark.parametrize("tag", [0x420000, 0x42FFFF, 0x540000, 0x54FFFF])
def test_tags_at_range_edges_accepted(tag: int) -> None:
    assert decode(encode(integer(tag, 1))) == integer(tag, 1)


def test_tag_outside_ranges_nested() -> None:
    data = encode(structure(TAG, integer(0x550000, 1)))
    with pytest.raises(TTLVError, match="tag 0x550000 is outside"):
        decode(data)


@pytest.mark.parametrize("extra", [b"\x00", bytes(8), INTEGER_8])
def test_trailing_bytes(extra: bytes) -> None:
    with pytest.raises(TTLVError, match=f"{len(extra)} trailing bytes after the message") as info:
        decode(INTEGER_8 + extra)
    assert info.value.offset == len(INTEGER_8)


def _nested(levels: int) -> Item:
    """``levels`` structures nested in each other, the innermost holding one Integer."""
    item = integer(0x420004, 1)
    for _ in range(levels):
        item = structure(TAG, item)
    return item



@pytest.mark.parametrize("max_depth", [1, 3])
def test_nesting_exactly_max_depth_is_accepted(max_depth: int) -> None:
    item = _nested(max_depth)
    assert decode(encode(item), Limits(max_depth=max_depth)) == item


@pytest.mark.parametrize("max_depth", [1, 2, 3, 8])
def test_nesting_deeper_than_max_depth(max_depth: int) -> None:
    data = encode(_nested(max_depth + 1))
    with pytest.raises(TTLVError, match=f"nesting deeper than {max_depth}"):
        decode(data, Limits(max_depth=max_depth))


def test_nesting_well_below_max_depth_is_accepted() -> None:
    item = _nested(3)
    assert decode(encode(item), Limits(max_depth=5)) == item


def test_default_depth_limit_stops_deep_nesting_without_recursion_error() -> None:
    # Built by hand: encode() itself recurses, and 5000 levels would exceed Python's recursion limit.
    levels = 5000
    data = b"".join(_header(TAG, 0x01, 8 * (levels - k) + 8) for k in range(levels)) + _header(TAG, 0x02, 4)
    data += bytes(8)
    with pytest.raises(TTLVError, match="nesting deeper than 32"):
        decode(data)


def test_too_many_items() -> None:
    item = structure(TAG, *(integer(0x420004, i) for i in range(9)))  # 10 items in all
    data = encode(item)
    assert decode(data, Limits(max_items=10)) == item
    with pytest.raises(TTLVError, match="too many items in one message"):
        decode(data, Limits(max_items=9))


def test_too_many_items_counts_all_levels() -> None:
    item = structure(
        TAG, structure(0x420021, integer(0x420004, 1)), structure(0x420022, integer(0x420004, 2))
    )
    data = encode(item)  # 5 items
    assert decode(data, Limits(max_items=5)) == item
    with pytest.raises(TTLVError, match="too many items"):
        decode(data, Limits(max_items=4))


def test_message_bigger_than_max_message_size() -> None:
    item = structure(TAG, text(0x420004, "x" * 100))
    data = encode(item)
    assert decode(data, Limits(max_message_size=len(data))) == item
    with pytest.raises(TTLVError, match=f"message of {len(data)} bytes exceeds the limit of {len(data) - 1}"):
        decode(data, Limits(max_message_size=len(data) - 1))


def test_ttlv_error_is_value_error_with_offset() -> None:
    with pytest.raises(ValueError, match=r"\(at byte 12\)"):
        decode(_hex("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01"))
