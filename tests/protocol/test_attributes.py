"""The 1.x and 2.x attribute models and their conversion to the internal form (kmipd.protocol.attributes)."""

from __future__ import annotations

import pytest

from kmipd.errors import InvalidField
from kmipd.protocol.attributes import (
    Attribute,
    AttributeRef,
    defined_in,
    encode_attribute,
    encode_attributes_2x,
    is_custom,
    parse_attribute_1x,
    parse_attribute_reference,
    parse_attributes_2x,
    parse_template_attribute,
    reference_item,
    search_key,
)
from kmipd.protocol.enums import Tag
from kmipd.protocol.names import attribute_rule
from kmipd.protocol.versions import V1_0, V1_1, V1_2, V1_4, V2_0, V2_1, ProtocolVersion
from kmipd.ttlv.item import Item, ItemType, byte_string, date_time, enumeration, integer, structure, text

AV = Tag.ATTRIBUTE_VALUE


def _attr(name: str, value: Item | None = None, index: int | None = None, vendor: str | None = None) -> Item:
    return structure(
        Tag.ATTRIBUTE,
        text(Tag.VENDOR_IDENTIFICATION, vendor) if vendor is not None else None,
        text(Tag.ATTRIBUTE_NAME, name),
        integer(Tag.ATTRIBUTE_INDEX, index) if index is not None else None,
        Item(AV, value.type, value.value) if value is not None else None,
    )


def test_parse_1x_standard_attribute_retagged():
    attribute, index = parse_attribute_1x(_attr("Cryptographic Length", integer(0, 128), index=2))
    assert attribute == Attribute("Cryptographic Length", integer(Tag.CRYPTOGRAPHIC_LENGTH, 128))
    assert index == 2


def test_parse_1x_text_name_alias():
    attribute, _ = parse_attribute_1x(_attr("CryptographicLength", integer(0, 128)))
    assert attribute.name == "Cryptographic Length"


def test_parse_1x_custom_attribute_keeps_attribute_value_tag():
    attribute, index = parse_attribute_1x(_attr("x-Foo", byte_string(0, b"ab")))
    assert attribute == Attribute("x-Foo", byte_string(AV, b"ab"))
    assert index is None
    assert is_custom("x-Foo") and not is_custom("Name")


def test_parse_vendor_attribute_joins_vendor_and_name():
    attribute, _ = parse_attribute_1x(_attr("Foo", text(0, "v"), vendor="x"))
    assert attribute == Attribute("x-Foo", text(AV, "v"))


@pytest.mark.parametrize(
    "item",
    [
        _attr("Cryptographic Length", text(0, "128")),
        _attr("State", integer(0, 1)),
        _attr("Flavour", text(0, "x")),
        structure(Tag.ATTRIBUTE, Item(AV, ItemType.TEXT_STRING, "x")),
        structure(Tag.ATTRIBUTE, integer(Tag.ATTRIBUTE_NAME, 1)),
    ],
    ids=["wrong-type", "enum-as-int", "unknown-name", "no-name", "name-not-text"],
)
def test_parse_1x_invalid(item):
    with pytest.raises(InvalidField):
        parse_attribute_1x(item)


def test_parse_1x_attribute_without_value_is_refused():
    # An Attribute structure always carries a value; references use Attribute Name alone.
    with pytest.raises(InvalidField, match="no Attribute Value"):
        parse_attribute_1x(_attr("Name", index=1))


def test_parse_1x_attribute_index_must_be_a_non_negative_integer():
    with pytest.raises(InvalidField, match="Attribute Index"):
        parse_attribute_1x(_attr("Object Group", text(0, "g"), index=-1))


def test_parse_template_attribute():
    template = structure(Tag.TEMPLATE_ATTRIBUTE, _attr("Object Group", text(0, "g")), _attr("x-a", integer(0, 1)))
    assert parse_template_attribute(template) == [
        Attribute("Object Group", text(Tag.OBJECT_GROUP, "g")),
        Attribute("x-a", integer(AV, 1)),
    ]
    with pytest.raises(InvalidField):
        parse_template_attribute(structure(Tag.TEMPLATE_ATTRIBUTE, structure(Tag.NAME, text(Tag.NAME_VALUE, "t"))))


def test_parse_attributes_2x():
    attrs = structure(
        Tag.ATTRIBUTES,
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, 3),
        structure(Tag.NAME, text(Tag.NAME_VALUE, "n"), enumeration(Tag.NAME_TYPE, 1)),
        _attr("Bar", integer(0, 5), vendor="y"),
    )
    parsed = parse_attributes_2x(attrs)
    assert [a.name for a in parsed] == ["Cryptographic Algorithm", "Name", "y-Bar"]
    assert parsed[0].value == enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, 3)
    assert parsed[2].value == integer(AV, 5)


@pytest.mark.parametrize(
    "child",
    [integer(Tag.BATCH_COUNT, 1), text(Tag.CRYPTOGRAPHIC_LENGTH, "x")],
    ids=["not-an-attribute", "wrong-type"],
)
def test_parse_attributes_2x_invalid(child):
    with pytest.raises(InvalidField):
        parse_attributes_2x(structure(Tag.ATTRIBUTES, child))


def test_parse_attribute_reference_forms():
    assert parse_attribute_reference(text(Tag.ATTRIBUTE_NAME, "State")) == AttributeRef("State")
    assert parse_attribute_reference(text(Tag.ATTRIBUTE_NAME, "x-Foo")) == AttributeRef("x-Foo")
    assert parse_attribute_reference(enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.ACTIVATION_DATE)) == AttributeRef(
        "Activation Date")
    vendor = structure(Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, "x"), text(Tag.ATTRIBUTE_NAME, "F"))
    assert parse_attribute_reference(vendor) == AttributeRef("x-F")
    with pytest.raises(InvalidField):
        parse_attribute_reference(enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.BATCH_COUNT))
    with pytest.raises(InvalidField):
        parse_attribute_reference(structure(Tag.ATTRIBUTE_REFERENCE, text(Tag.ATTRIBUTE_NAME, "F")))
    with pytest.raises(InvalidField):
        parse_attribute_reference(integer(Tag.ATTRIBUTE_REFERENCE, 1))


def test_encode_attribute_1x_and_2x():
    standard = Attribute("Object Group", text(Tag.OBJECT_GROUP, "g"))
    assert encode_attribute(standard, V1_4) == _attr("Object Group", text(0, "g"))
    assert encode_attribute(standard, V1_4, 2) == _attr("Object Group", text(0, "g"), index=2)
    assert encode_attribute(standard, V2_1) == text(Tag.OBJECT_GROUP, "g")
    custom = Attribute("x-Foo", integer(AV, 7))
    assert encode_attribute(custom, V1_0) == _attr("x-Foo", integer(0, 7))
    assert encode_attribute(custom, V2_0) == _attr("Foo", integer(0, 7), vendor="x")
    assert encode_attributes_2x([standard, custom]) == structure(
        Tag.ATTRIBUTES, text(Tag.OBJECT_GROUP, "g"), _attr("Foo", integer(0, 7), vendor="x"))


@pytest.mark.parametrize(
    "attribute",
    [Attribute("Object Group", text(Tag.OBJECT_GROUP, "g")), Attribute("x-Foo", byte_string(AV, b"\x01")),
     Attribute("Activation Date", date_time(Tag.ACTIVATION_DATE, 10))],
    ids=["standard", "custom", "date"],
)
@pytest.mark.parametrize("version", [V1_1, V2_1], ids=["1.1", "2.1"])
def test_encode_then_parse_round_trip(attribute, version):
    encoded = encode_attribute(attribute, version)
    parsed = parse_attribute_1x(encoded)[0] if encoded.tag == Tag.ATTRIBUTE else parse_attributes_2x(
        structure(Tag.ATTRIBUTES, encoded))[0]
    assert parsed == attribute


def test_reference_item():
    assert reference_item("State", V1_2) == text(Tag.ATTRIBUTE_NAME, "State")
    assert reference_item("State", V2_0) == enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.STATE)
    assert reference_item("x-Foo", V2_1) == structure(
        Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, "x"), text(Tag.ATTRIBUTE_NAME, "Foo"))


@pytest.mark.parametrize("name", ["Original Creation Date", "Key Format Type", "Fresh", "Description",
                                  "Operation Policy Name", "Name", "x-custom"])
@pytest.mark.parametrize("version", [V1_0, V1_1, V1_2, V1_4, V2_0, V2_1], ids=str)
def test_defined_in_follows_the_spec_tables(name, version):
    rule = attribute_rule(name)
    if rule is None:
        expected = True
    else:
        expected = ProtocolVersion.parse(rule.since) <= version and (
            rule.until is None or version <= ProtocolVersion.parse(rule.until))
    assert defined_in(name, version) is expected


def test_defined_in_examples():
    assert not defined_in("Original Creation Date", V1_0)
    assert defined_in("Original Creation Date", V1_4)
    assert not defined_in("Key Format Type", V1_4)
    assert defined_in("Key Format Type", V2_0)
    assert defined_in("Operation Policy Name", V1_4)
    assert not defined_in("Operation Policy Name", V2_0)


def test_search_keys():
    name = Attribute("Name", structure(Tag.NAME, text(Tag.NAME_VALUE, "k"), enumeration(Tag.NAME_TYPE, 1)))
    assert search_key(name) == ("k", None)
    assert search_key(Attribute("Object Group", text(Tag.OBJECT_GROUP, "g"))) == ("g", None)
    assert search_key(Attribute("Cryptographic Length", integer(Tag.CRYPTOGRAPHIC_LENGTH, 256))) == ("256", 256)
    assert search_key(Attribute("x-b", byte_string(AV, b"\xab\x01"))) == ("ab01", None)
    assert search_key(Attribute("x-t", Item(AV, ItemType.BOOLEAN, True))) == ("1", 1)
    assert search_key(Attribute("Initial Date", date_time(Tag.INITIAL_DATE, 42))) == ("42", 42)
    # Structures match on their content regardless of the outer tag.
    asi = structure(Tag.APPLICATION_SPECIFIC_INFORMATION, text(Tag.APPLICATION_NAMESPACE, "n"),
                    text(Tag.APPLICATION_DATA, "d"))
    same = Item(AV, ItemType.STRUCTURE, asi.value)
    assert search_key(Attribute("Application Specific Information", asi)) == search_key(
        Attribute("Application Specific Information", same))
    other = structure(Tag.APPLICATION_SPECIFIC_INFORMATION, text(Tag.APPLICATION_NAMESPACE, "n"),
                      text(Tag.APPLICATION_DATA, "e"))
    assert search_key(Attribute("Application Specific Information", other))[0] != search_key(
        Attribute("Application Specific Information", asi))[0]
    # Numbers outside 64 bits have no range key.
    assert search_key(Attribute("x-big", Item(AV, ItemType.BIG_INTEGER, 1 << 70)))[1] is None
