"""Property tests: encode/decode round-trips, and hostile bytes only ever raise TTLVError."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmipd.ttlv import Framer, FramingError, Item, ItemType, Limits, TTLVError, decode, encode

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tags = st.one_of(st.integers(0x420000, 0x42FFFF), st.integers(0x540000, 0x54FFFF))

int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
uint32 = st.integers(0, 2**32 - 1)

primitive_values = {
    ItemType.INTEGER: int32,
    ItemType.LONG_INTEGER: int64,
    ItemType.BIG_INTEGER: st.integers(-(2**1000), 2**1000),
    ItemType.ENUMERATION: uint32,
    ItemType.BOOLEAN: st.booleans(),
    ItemType.TEXT_STRING: st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    ItemType.BYTE_STRING: st.binary(),
    ItemType.DATE_TIME: int64,
    ItemType.INTERVAL: uint32,
    ItemType.DATE_TIME_EXTENDED: int64,
}


def _primitive(item_type: ItemType) -> st.SearchStrategy[Item]:
    return st.builds(Item, tags, st.just(item_type), primitive_values[item_type])


primitives = st.one_of(*(_primitive(t) for t in primitive_values))


def _items(depth: int) -> st.SearchStrategy[Item]:
    """Items whose structure nesting is at most ``depth`` (a primitive counts as depth 0)."""
    if depth == 0:
        return primitives
    structures = st.builds(
        Item, tags, st.just(ItemType.STRUCTURE), st.lists(_items(depth - 1), max_size=5).map(tuple)
    )
    return st.one_of(primitives, structures)


items = _items(5)
structures = st.builds(Item, tags, st.just(ItemType.STRUCTURE), st.lists(_items(4), max_size=5).map(tuple))

# The decoder's default depth limit is generous enough for every generated tree (depth <= 5).
LIMITS = Limits(max_depth=16)


def _same(a: Item, b: Item) -> bool:
    """Equality that also tells True from 1 (Item == compares bool and int values as equal)."""
    if a.tag != b.tag or a.type is not b.type or type(a.value) is not type(b.value):
        return False
    if a.type is ItemType.STRUCTURE:
        return len(a.children) == len(b.children) and all(map(_same, a.children, b.children))
    return a.value == b.value


@SETTINGS
@given(items)
def test_round_trip(item: Item) -> None:
    raw = encode(item)
    assert len(raw) % 8 == 0
    assert struct.unpack(">L", raw[4:8])[0] + 8 <= len(raw)
    decoded = decode(raw, LIMITS)
    assert decoded == item
    assert _same(decoded, item)
    assert encode(decoded) == raw


def test_strategy_covers_every_item_type() -> None:
    assert set(primitive_values) | {ItemType.STRUCTURE} == set(ItemType)
    assert len(ItemType) == 11


def _valid_encodings() -> st.SearchStrategy[bytes]:
    return items.map(encode)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A valid encoding with a few random flips, insertions, deletions or overwritten lengths."""
    data = bytearray(draw(_valid_encodings()))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "set", "length"]))
        if kind == "insert" or not data:
            data[draw(st.integers(0, len(data))) : 0] = draw(st.binary(min_size=1, max_size=9))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 9))]
        elif kind == "set":
            data[pos] = draw(st.integers(0, 255))
        else:  # overwrite a 32-bit word at an 8-byte boundary + 4, i.e. where lengths live
            word_at = (pos // 8) * 8 + 4
            if word_at + 4 <= len(data):
                value = draw(st.one_of(st.integers(0, 64), st.integers(0, 2**32 - 1)))
                data[word_at : word_at + 4] = struct.pack(">L", value)
    return bytes(data)


def _decode_or_ttlv_error(data: bytes, limits: Limits = LIMITS) -> None:
    try:
        result = decode(data, limits)
    except TTLVError:
        return
    assert isinstance(result, Item)
    # Whatever the decoder accepts must re-encode to a message that decodes to the same tree (the size
    # limit is relaxed: a redundantly sign-extended Big Integer may re-encode shorter or longer).
    relaxed = Limits(max_depth=limits.max_depth, max_items=limits.max_items)
    assert decode(encode(result), relaxed) == result


small_limits = st.builds(
    Limits,
    max_message_size=st.integers(0, 512),
    max_depth=st.integers(1, 6),
    max_items=st.integers(0, 20),
)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    _decode_or_ttlv_error(data)


@SETTINGS
@given(
    st.builds(
        lambda tag, type_byte, length, body: struct.pack(">IL", (tag << 8) | type_byte, length) + body,
        tags,
        st.integers(0, 255),
        st.one_of(st.integers(0, 64), st.integers(0, 2**32 - 1)),
        st.binary(max_size=72),
    )
)
def test_random_bytes_with_plausible_header_never_crash(data: bytes) -> None:
    _decode_or_ttlv_error(data)


@SETTINGS
@given(_mutated())
def test_mutated_encodings_never_crash(data: bytes) -> None:
    _decode_or_ttlv_error(data)


@SETTINGS
@given(_valid_encodings(), small_limits)
def test_limits_only_raise_ttlv_error(data: bytes, limits: Limits) -> None:
    _decode_or_ttlv_error(data, limits)


@SETTINGS
@given(st.lists(st.binary(max_size=40), max_size=10), st.integers(0, 256))
def test_framer_random_bytes_only_raise_framing_error(chunks: list[bytes], max_size: int) -> None:
    framer = Framer(max_message_size=max_size)
    try:
        for chunk in chunks:
            for message in framer.feed(chunk):
                assert len(message) <= max_size
                assert len(message) % 8 == 0
    except FramingError:
        pass


@SETTINGS
@given(st.lists(structures.map(encode), min_size=1, max_size=4), st.data())
def test_framer_recovers_messages_however_split(messages: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    framer = Framer(max_message_size=max(len(m) for m in messages))
    out: list[bytes] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        out += framer.feed(stream[start:cut])
        start = cut
    assert out == messages
    assert framer.buffered == 0
