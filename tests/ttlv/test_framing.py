"""Framer: splitting a TTLV byte stream into whole messages, refusing bad headers early."""

from __future__ import annotations

import struct

import pytest

from kmipd.ttlv import Framer, FramingError, TTLVError, decode, encode
from kmipd.ttlv.item import enumeration, integer, structure, text

# KMIP 1.4 section 9.1.2, the Structure example (an Enumeration 254 and an Integer 255).
SPEC_STRUCTURE = bytes.fromhex(
    "42 00 20 01 00 00 00 20 42 00 04 05 00 00 00 04 00 00 00 FE 00 00 00 00"
    " 42 00 05 02 00 00 00 04 00 00 00 FF 00 00 00 00"
)
OTHER = encode(structure(0x420078, text(0x420094, "a request"), integer(0x42000D, 1)))


def _header(tag: int, type_byte: int, length: int) -> bytes:
    return struct.pack(">IL", (tag << 8) | type_byte, length)


def test_spec_structure_is_what_we_think() -> None:
    assert decode(SPEC_STRUCTURE) == structure(0x420020, enumeration(0x420004, 254), integer(0x420005, 255))


def test_byte_at_a_time_yields_message_once_at_last_byte() -> None:
    framer = Framer()
    for i, byte in enumerate(SPEC_STRUCTURE):
        out = framer.feed(bytes([byte]))
        if i < len(SPEC_STRUCTURE) - 1:
            assert out == []
            assert framer.buffered == i + 1
        else:
            assert out == [SPEC_STRUCTURE]
    assert framer.buffered == 0
    assert framer.feed(b"") == []


def test_two_messages_in_one_feed() -> None:
    framer = Framer()
    assert framer.feed(SPEC_STRUCTURE + OTHER) == [SPEC_STRUCTURE, OTHER]
    assert framer.buffered == 0


def test_two_messages_and_a_partial_third() -> None:
    framer = Framer()
    assert framer.feed(SPEC_STRUCTURE + OTHER + OTHER[:13]) == [SPEC_STRUCTURE, OTHER]
    assert framer.buffered == 13
    assert framer.feed(OTHER[13:]) == [OTHER]
    assert framer.buffered == 0


@pytest.mark.parametrize("cut", [1, 7, 8, 9, 16, len(SPEC_STRUCTURE) - 1])
def test_message_split_across_feeds(cut: int) -> None:
    framer = Framer()
    assert framer.feed(SPEC_STRUCTURE[:cut]) == []
    assert framer.buffered == cut
    assert framer.feed(SPEC_STRUCTURE[cut:]) == [SPEC_STRUCTURE]
    assert framer.buffered == 0


def test_empty_structure_message() -> None:
    empty = _header(0x420078, 0x01, 0)
    assert Framer().feed(empty + empty) == [empty, empty]


def test_oversize_length_rejected_from_header_alone() -> None:
    framer = Framer(max_message_size=1024)
    with pytest.raises(FramingError, match="message of 1032 bytes exceeds the limit of 1024"):
        framer.feed(_header(0x420078, 0x01, 1024))  # only the 8 header bytes, no body


def test_oversize_huge_length_rejected_from_header_alone() -> None:
    with pytest.raises(FramingError, match="exceeds the limit of 1048576"):
        Framer().feed(_header(0x420078, 0x01, 0xFFFFFFF8))


def test_max_size_is_inclusive_of_header() -> None:
    message = _header(0x420078, 0x01, 16) + bytes(16)
    assert Framer(max_message_size=24).feed(message) == [message]
    with pytest.raises(FramingError, match="message of 24 bytes exceeds the limit of 23"):
        Framer(max_message_size=23).feed(message[:8])


def test_oversize_second_message_after_good_one() -> None:
    framer = Framer(max_message_size=64)
    with pytest.raises(FramingError, match="exceeds the limit"):
        framer.feed(SPEC_STRUCTURE + _header(0x420078, 0x01, 4096))


@pytest.mark.parametrize("type_byte", [0x02, 0x07, 0x08, 0x00, 0x0C, 0xFF])
def test_non_structure_type_raises(type_byte: int) -> None:
    with pytest.raises(FramingError, match=f"message item type 0x{type_byte:02x} is not a Structure"):
        Framer().feed(_header(0x420078, type_byte, 8))


@pytest.mark.parametrize("length", [1, 4, 7, 12, 33])
def test_length_not_multiple_of_8_raises(length: int) -> None:
    with pytest.raises(FramingError, match=f"message length {length} is not a multiple of 8"):
        Framer().feed(_header(0x420078, 0x01, length))


def test_framing_error_is_a_ttlv_error() -> None:
    assert issubclass(FramingError, TTLVError)
    with pytest.raises(TTLVError):
        Framer().feed(_header(0x420078, 0x02, 4))


def test_buffered_counts_partial_header_and_body() -> None:
    framer = Framer()
    assert framer.buffered == 0
    framer.feed(OTHER[:3])
    assert framer.buffered == 3
    framer.feed(OTHER[3:20])
    assert framer.buffered == 20
    assert framer.feed(OTHER[20:] + SPEC_STRUCTURE[:5]) == [OTHER]
    assert framer.buffered == 5


def test_short_header_is_only_buffered() -> None:
    framer = Framer(max_message_size=8)
    # Seven bytes of a header that would be refused: nothing can be decided yet.
    assert framer.feed(_header(0x420078, 0x02, 4)[:7]) == []
    assert framer.buffered == 7


def test_accepts_bytearray_and_memoryview() -> None:
    framer = Framer()
    assert framer.feed(bytearray(SPEC_STRUCTURE[:10])) == []
    assert framer.feed(memoryview(SPEC_STRUCTURE)[10:]) == [SPEC_STRUCTURE]


def test_returned_messages_are_bytes_and_independent_of_buffer() -> None:
    framer = Framer()
    (message,) = framer.feed(SPEC_STRUCTURE + OTHER[:8])
    assert type(message) is bytes
    framer.feed(OTHER[8:])
    assert message == SPEC_STRUCTURE
