"""Tests of the KMIP JSON encoding: profile examples, round trips, malformed input, OASIS vectors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings

from kmipd.ttlv import Item, ItemType, Limits, TTLVError
from kmipd.ttlv.item import (
    big_integer,
    boolean,
    byte_string,
    date_time,
    enumeration,
    integer,
    long_integer,
    structure,
    text,
)
from kmipd.ttlv.jsonenc import decode_json, encode_json, to_json_object
from kmipd.ttlv.xml import decode_xml
from tests.ttlv.test_xml import (
    ALPHA,
    ATTRIBUTE,
    ATTRIBUTE_NAME,
    ATTRIBUTE_VALUE,
    BETA,
    ITEMS,
    NAMES,
    OBJECT_TYPE,
    USAGE_MASK,
    dummy,
    spec_names_or_skip,
    vector_messages,
)


def test_profile_example_encoding() -> None:
    item = structure(
        ALPHA,
        enumeration(OBJECT_TYPE, 2),
        integer(USAGE_MASK, 12),
        date_time(BETA, 1205495800),
        byte_string(0x540001, b"\x01\xab"),
        boolean(0x420003, True),
        long_integer(BETA, 1 << 60),
        big_integer(BETA, 65537),
        Item(BETA, ItemType.INTERVAL, 3600),
        text(BETA, "é\n"),
    )
    assert json.loads(encode_json(item, NAMES)) == {
        "tag": "Alpha",
        "value": [
            {"tag": "ObjectType", "type": "Enumeration", "value": "SymmetricKey"},
            {"tag": "CryptographicUsageMask", "type": "Integer", "value": "Encrypt|Decrypt"},
            {"tag": "Beta", "type": "DateTime", "value": "2008-03-14T11:56:40+00:00"},
            {"tag": "0x540001", "type": "ByteString", "value": "01ab"},
            {"tag": "0x420003", "type": "Boolean", "value": True},
            {"tag": "Beta", "type": "LongInteger", "value": "0x1000000000000000"},
            {"tag": "Beta", "type": "BigInteger", "value": "0x0000000000010001"},
            {"tag": "Beta", "type": "Interval", "value": 3600},
            {"tag": "Beta", "type": "TextString", "value": "é\n"},
        ],
    }
    assert encode_json(integer(BETA, 5), NAMES) == '{"tag":"Beta","type":"Integer","value":5}'
    assert decode_json(encode_json(item, NAMES, indent=2), NAMES) == item
    assert decode_json(to_json_object(item, NAMES), NAMES) == item


@pytest.mark.parametrize(
    ("item_type", "value", "expected"),
    [
        (ItemType.INTEGER, "0x0000000c", 12),
        (ItemType.INTEGER, "0xffffffff", -1),
        (ItemType.INTEGER, -7, -7),
        (ItemType.LONG_INTEGER, 5, 5),
        (ItemType.LONG_INTEGER, "0xffffffffffffffff", -1),
        (ItemType.BIG_INTEGER, 12345, 12345),
        (ItemType.BIG_INTEGER, "0xffffffffffffffff", -1),
        (ItemType.ENUMERATION, "0x80000001", 0x80000001),
        (ItemType.ENUMERATION, 3, 3),
        (ItemType.BOOLEAN, "0x0000000000000001", True),
        (ItemType.INTERVAL, "0x00000e10", 3600),
        (ItemType.DATE_TIME, "2000-02-02T00:00:00+10:00", 949413600),
        (ItemType.DATE_TIME, "0x0000000000000006", 6),
        (ItemType.DATE_TIME_EXTENDED, "2000-02-01T14:00:00.25Z", 949413600_250000),
        (ItemType.BYTE_STRING, "FF00", b"\xff\x00"),
    ],
)
def test_input_alternatives(item_type: ItemType, value: object, expected: object) -> None:
    obj = {"tag": "Beta", "type": _type_name(item_type), "value": value}
    assert decode_json(json.dumps(obj), NAMES) == Item(BETA, item_type, expected)  # type: ignore[arg-type]


def _type_name(item_type: ItemType) -> str:
    return "".join(part.capitalize() for part in item_type.name.split("_"))


def test_masks_and_attribute_context() -> None:
    doc = {"tag": "CryptographicUsageMask", "type": "Integer", "value": "Decrypt|0x00000100|Sign"}
    assert decode_json(json.dumps(doc), NAMES).value == 265
    item = structure(ATTRIBUTE, text(ATTRIBUTE_NAME, "Cryptographic Usage Mask"), integer(ATTRIBUTE_VALUE, 5))
    encoded = encode_json(item, NAMES)
    assert '"value":"Sign|Encrypt"' in encoded
    assert decode_json(encoded, NAMES) == item


@settings(max_examples=300, deadline=None)
@given(ITEMS)
def test_round_trip(item: Item) -> None:
    assert decode_json(encode_json(item, NAMES), NAMES) == item


def _leaf(item_type: str, value: Any, tag: str = "Beta") -> str:
    return json.dumps({"tag": tag, "type": item_type, "value": value})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "malformed JSON"),
        ('{"tag": "Alpha", "value": [], "value": []}', "duplicate keys"),
        ('{"tag": "Alpha", "value": [], "extra": 1}', "needs keys"),
        ('{"tag": "Alpha"}', "needs keys"),
        ("[]", "expected an item object"),
        ('{"tag": "Alpha", "value": {}}', "not a list"),
        ('{"tag": 5, "value": []}', "tag is not a string"),
        ('{"tag": "Gamma", "value": []}', "'Gamma'"),
        ('{"tag": "0x123456", "value": []}', "outside"),
        (_leaf("Float", 1), "unknown type"),
        (_leaf("Integer", 1.5), "not an integer"),
        (_leaf("Integer", 1e3), "not an integer"),
        ('{"tag": "Beta", "type": "Integer", "value": NaN}', "not an integer"),
        (_leaf("Integer", True), "wrong JSON type"),
        (_leaf("Integer", None), "wrong JSON type"),
        (_leaf("Integer", 1 << 31), "out of range"),
        (_leaf("Integer", "Encrypt|", "CryptographicUsageMask"), "empty flag"),
        (_leaf("Integer", "Encrypt|Fly", "CryptographicUsageMask"), "'Fly'"),
        (_leaf("LongInteger", "12"), "not a valid"),
        (_leaf("Interval", -1), "out of range"),
        (_leaf("Enumeration", "Banana", "ObjectType"), "'Banana'"),
        (_leaf("Enumeration", 1 << 32), "out of range"),
        (_leaf("Boolean", 1), "not true, false"),
        (_leaf("Boolean", "yes"), "Boolean"),
        (_leaf("ByteString", "0x01"), "hex"),
        (_leaf("ByteString", 1), "must be a string"),
        (_leaf("BigInteger", "0000000000010001"), "0x-prefixed"),
        (_leaf("BigInteger", "0x010001"), "multiple of 8"),
        (_leaf("TextString", 5), "must be a string"),
        (_leaf("DateTime", 5), "must be a string"),
        (_leaf("DateTime", "2008-03-14 11:56:40Z"), "ISO 8601"),
        (_leaf("DateTime", "$NOW"), "placeholder"),
    ],
)
def test_rejected(document: str, message: str) -> None:
    with pytest.raises(TTLVError, match=re.escape(message)):
        decode_json(document, NAMES)


def test_depth_and_item_limits() -> None:
    doc: dict[str, Any] = {"tag": "Alpha", "value": []}
    for _ in range(40):
        doc = {"tag": "Alpha", "value": [doc]}
    with pytest.raises(TTLVError, match="nesting deeper than 32"):
        decode_json(json.dumps(doc), NAMES)
    with pytest.raises(TTLVError, match="nesting deeper"):
        decode_json('{"tag":"Alpha","value":' + "[" * 100_000 + "]" * 100_000 + "}", NAMES)
    wide = json.dumps({"tag": "Alpha", "value": [{"tag": "Alpha", "value": []}] * 10})
    with pytest.raises(TTLVError, match="too many items"):
        decode_json(wide, NAMES, limits=Limits(max_items=5))


def test_placeholder_hook() -> None:
    doc = json.dumps({"tag": "Beta", "type": "DateTime", "value": "$NOW+3600"})
    assert decode_json(doc, NAMES, placeholder=lambda tag, item_type, value: 99).value == 99
    assert decode_json(_leaf("TextString", "$HOME"), NAMES).value == "$HOME"


def test_vectors_round_trip_through_json() -> None:
    names = spec_names_or_skip()
    count = 0
    for where, element in vector_messages():
        item = decode_xml(element, names, placeholder=dummy)  # type: ignore[arg-type]
        assert decode_json(encode_json(item, names), names) == item, where
        count += 1
    assert count > 1000


def test_control_characters_survive_json() -> None:
    item = text(BETA, "a\x00\x01\u2028\"\\b")
    assert decode_json(encode_json(item, NAMES), NAMES) == item
