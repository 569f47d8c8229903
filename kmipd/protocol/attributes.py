"""The two KMIP attribute models, converted to one internal form.

KMIP 1.x wraps every attribute in ``Attribute{Attribute Name, Attribute
Index?, Attribute Value}`` (and a ``Template-Attribute`` around lists of them);
KMIP 2.x writes each attribute as an item with its own tag inside an
``Attributes`` structure, and custom attributes as ``Attribute{Vendor
Identification, Attribute Name, Attribute Value}``. Internally an attribute is
its spec display name plus a value item carrying the attribute's own tag, and a
custom attribute is ``"<vendor>-<name>"`` (so 1.x "x-Barcode" and 2.x vendor
"x", name "Barcode" are the same attribute) with its value tagged Attribute
Value. Responses are written back in the client's model, and only with the
attributes its version defines.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmipd.errors import InvalidField
from kmipd.protocol.enums import Tag
from kmipd.protocol.names import attribute_rule, attribute_rule_by_tag
from kmipd.protocol.spec_tables import AttributeRule
from kmipd.protocol.versions import ProtocolVersion
from kmipd.ttlv.codec import encode
from kmipd.ttlv.item import Item, ItemType, integer, structure, text

__all__ = [
    "Attribute",
    "AttributeRef",
    "defined_in",
    "encode_attribute",
    "encode_attributes_2x",
    "is_custom",
    "parse_attribute_1x",
    "parse_attribute_reference",
    "parse_attributes_2x",
    "parse_template_attribute",
    "search_key",
]


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute instance in internal form."""

    name: str
    value: Item


@dataclass(frozen=True, slots=True)
class AttributeRef:
    """A reference to an attribute (by name), with an optional instance index."""

    name: str
    index: int | None = None


def is_custom(name: str) -> bool:
    """Custom ("x-", "y-") and vendor attributes are not in the spec tables."""
    return attribute_rule(name) is None


def rule_for(name: str) -> AttributeRule | None:
    """The spec's rules for a standard attribute."""
    return attribute_rule(name)


def _version_text(version: ProtocolVersion) -> str:
    return f"{version.major}.{version.minor}"


def defined_in(name: str, version: ProtocolVersion) -> bool:
    """True when ``version`` of KMIP defines attribute ``name`` (custom ones always are)."""
    rule = attribute_rule(name)
    if rule is None:
        return True
    current = (version.major, version.minor)
    if current < ProtocolVersion.parse(rule.since):
        return False
    return rule.until is None or current <= ProtocolVersion.parse(rule.until)


def _standard(name: str, value: Item) -> Attribute:
    rule = attribute_rule(name)
    if rule is None:
        if not name or "-" not in name:
            raise InvalidField(f"unknown attribute '{name}'")
        return Attribute(name, Item(Tag.ATTRIBUTE_VALUE, value.type, value.value))
    if rule.item_type and value.type != rule.item_type:
        raise InvalidField(f"attribute '{name}' must be of type {ItemType(rule.item_type).name}")
    return Attribute(rule.name, Item(rule.tag, value.type, value.value))


def parse_attribute_1x(item: Item) -> tuple[Attribute, int | None]:
    """Read a 1.x ``Attribute`` structure: the attribute and its Attribute Index, if any.

    Raises:
        InvalidField: name or value missing, or a standard attribute of the wrong type.
    """
    name_item = item.find(Tag.ATTRIBUTE_NAME)
    if name_item is None or name_item.type is not ItemType.TEXT_STRING:
        raise InvalidField("an Attribute has no Attribute Name")
    value = item.find(Tag.ATTRIBUTE_VALUE)
    index_item = item.find(Tag.ATTRIBUTE_INDEX)
    index: int | None = None
    if index_item is not None:
        if index_item.type is not ItemType.INTEGER or int(index_item.value) < 0:  # type: ignore[arg-type]
            raise InvalidField("Attribute Index must be a non-negative Integer")
        index = int(index_item.value)  # type: ignore[arg-type]
    vendor = item.find(Tag.VENDOR_IDENTIFICATION)
    if vendor is not None and vendor.type is not ItemType.TEXT_STRING:
        raise InvalidField("Vendor Identification must be a Text String")
    name = str(name_item.value)
    if vendor is not None:
        name = f"{vendor.value!s}-{name}"
    if value is None:
        raise InvalidField(f"the attribute '{name[:64]}' has no Attribute Value")
    return _standard(name, value), index


def parse_template_attribute(item: Item) -> list[Attribute]:
    """Read the attributes of a 1.x Template-Attribute (or Common/Private/Public variants).

    Raises:
        InvalidField: a malformed attribute, or a reference to a named Template (not supported).
    """
    attributes: list[Attribute] = []
    for child in item.children:
        if child.tag == Tag.ATTRIBUTE:
            attributes.append(parse_attribute_1x(child)[0])
        elif child.tag == Tag.NAME:
            raise InvalidField("named Templates are not supported; send the attributes instead")
    return attributes


def parse_attributes_2x(item: Item) -> list[Attribute]:
    """Read a 2.x ``Attributes`` structure (also accepts 1.x-style Attribute children).

    Raises:
        InvalidField: an unknown tag or a standard attribute of the wrong type.
    """
    attributes: list[Attribute] = []
    for child in item.children:
        if child.tag == Tag.ATTRIBUTE:
            attributes.append(parse_attribute_1x(child)[0])
            continue
        rule = attribute_rule_by_tag(child.tag)
        if rule is None:
            raise InvalidField(f"tag 0x{child.tag:06x} is not an attribute")
        attributes.append(_standard(rule.name, child))
    return attributes


def parse_attribute_reference(item: Item) -> AttributeRef:
    """Read a 2.x Attribute Reference (a Tag enumeration or a vendor structure), or a 1.x Attribute Name.

    Raises:
        InvalidField: the reference names nothing kmipd knows.
    """
    if item.type is ItemType.TEXT_STRING:
        name = str(item.value)
        rule = attribute_rule(name)
        return AttributeRef(rule.name if rule else name)
    if item.type is ItemType.ENUMERATION:
        rule = attribute_rule_by_tag(int(item.value))  # type: ignore[arg-type]
        if rule is None:
            raise InvalidField(f"tag 0x{int(item.value):06x} is not an attribute")  # type: ignore[arg-type]
        return AttributeRef(rule.name)
    if item.type is ItemType.STRUCTURE:
        vendor = item.find(Tag.VENDOR_IDENTIFICATION)
        label = item.find(Tag.ATTRIBUTE_NAME)
        if vendor is None or label is None:
            raise InvalidField("a vendor Attribute Reference needs Vendor Identification and Attribute Name")
        return AttributeRef(f"{vendor.value!s}-{label.value!s}")
    raise InvalidField("unreadable Attribute Reference")


def encode_attribute(attribute: Attribute, version: ProtocolVersion, index: int | None = None) -> Item:
    """One attribute in the client's model: a 1.x ``Attribute`` or a 2.x tagged item."""
    value = attribute.value
    if version.major >= 2:
        if attribute.value.tag == Tag.ATTRIBUTE_VALUE:
            vendor, _, name = attribute.name.partition("-")
            return structure(
                Tag.ATTRIBUTE,
                text(Tag.VENDOR_IDENTIFICATION, vendor),
                text(Tag.ATTRIBUTE_NAME, name),
                Item(Tag.ATTRIBUTE_VALUE, value.type, value.value),
            )
        return value
    return structure(
        Tag.ATTRIBUTE,
        text(Tag.ATTRIBUTE_NAME, attribute.name),
        integer(Tag.ATTRIBUTE_INDEX, index) if index else None,
        Item(Tag.ATTRIBUTE_VALUE, value.type, value.value),
    )


def encode_attributes_2x(attributes: list[Attribute], tag: int = Tag.ATTRIBUTES) -> Item:
    """A 2.x ``Attributes`` structure."""
    v2 = ProtocolVersion(2, 0)
    return structure(tag, *(encode_attribute(a, v2) for a in attributes))


def reference_item(name: str, version: ProtocolVersion) -> Item:
    """How a response names an attribute: 1.x Attribute Name, 2.x Attribute Reference."""
    if version.major < 2:
        return text(Tag.ATTRIBUTE_NAME, name)
    rule = attribute_rule(name)
    if rule is not None:
        return Item(Tag.ATTRIBUTE_REFERENCE, ItemType.ENUMERATION, rule.tag)
    vendor, _, rest = name.partition("-")
    return structure(
        Tag.ATTRIBUTE_REFERENCE,
        text(Tag.VENDOR_IDENTIFICATION, vendor),
        text(Tag.ATTRIBUTE_NAME, rest),
    )


def search_key(attribute: Attribute) -> tuple[str, int | None]:
    """The keys Locate matches on: a text key for equality and a number for ranges.

    Names match on their Name Value (the Name Type is part of identity only
    through the value itself), text on its content, numbers and enumerations on
    their value, anything else on its canonical TTLV encoding.
    """
    value = attribute.value
    if value.tag == Tag.NAME:
        name_value = value.find(Tag.NAME_VALUE)
        if name_value is None or name_value.type is not ItemType.TEXT_STRING:
            raise InvalidField("a Name needs a Text String Name Value")
        return str(name_value.value), None
    kind = value.type
    if kind is ItemType.TEXT_STRING:
        return str(value.value), None
    if kind is ItemType.BOOLEAN:
        return ("1" if value.value else "0"), int(bool(value.value))
    if kind in (
        ItemType.INTEGER,
        ItemType.LONG_INTEGER,
        ItemType.ENUMERATION,
        ItemType.DATE_TIME,
        ItemType.INTERVAL,
        ItemType.DATE_TIME_EXTENDED,
    ):
        number = int(value.value)  # type: ignore[arg-type]
        return str(number), number if -(1 << 63) <= number < (1 << 63) else None
    if kind is ItemType.BYTE_STRING:
        return bytes(value.value).hex(), None  # type: ignore[arg-type]
    return encode(Item(0x420000, value.type, value.value)).hex(), None
