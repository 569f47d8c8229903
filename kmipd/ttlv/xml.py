"""The KMIP XML encoding of a TTLV tree (KMIP Profiles 1.4 section 5.5, 2.1 "XML Encoding").

Each item is one element named after its tag (``<TTLV tag="0x540001">`` when
the tag has no name) with ``type`` and ``value`` attributes; a Structure has no
``value`` and holds its children as elements. Values use the profile's text
forms: names for enumerations and bit masks, hex for byte strings and big
integers, ISO 8601 for dates.

The value helpers below are shared with :mod:`kmipd.ttlv.jsonenc`, whose rules
differ only in a few places (see there), so both encodings read and write the
same forms and reject the same malformed input.

Decoding is meant for untrusted input: the XML is parsed with expat directly so
that any DOCTYPE (and with it every entity declaration, the route to external
entities and entity-expansion bombs) is refused before it takes effect, element
depth and count are bounded by :class:`~kmipd.ttlv.codec.Limits`, and every
malformed value raises :class:`~kmipd.ttlv.errors.TTLVError` naming the element
path. Conformance test vectors contain harness placeholders such as ``$NOW``;
a ``placeholder`` hook may substitute them, without one they are errors
(except in Text Strings, where ``$...`` is ordinary text a client may send).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.parsers import expat

from kmipd.ttlv.codec import DEFAULT_LIMITS, Limits
from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.item import Item, ItemType, Value
from kmipd.ttlv.names import TagNames

__all__ = ["Placeholder", "decode_xml", "encode_xml", "normalize_name"]

Placeholder = Callable[[int, ItemType, str], Value]
"""Hook for test-harness placeholders: (tag, type, "$NAME") -> the value to use."""

TYPE_NAMES = {
    ItemType.STRUCTURE: "Structure",
    ItemType.INTEGER: "Integer",
    ItemType.LONG_INTEGER: "LongInteger",
    ItemType.BIG_INTEGER: "BigInteger",
    ItemType.ENUMERATION: "Enumeration",
    ItemType.BOOLEAN: "Boolean",
    ItemType.TEXT_STRING: "TextString",
    ItemType.BYTE_STRING: "ByteString",
    ItemType.DATE_TIME: "DateTime",
    ItemType.INTERVAL: "Interval",
    ItemType.DATE_TIME_EXTENDED: "DateTimeExtended",
}
TYPES_BY_NAME = {name: item_type for item_type, name in TYPE_NAMES.items()}

ATTRIBUTE_NAME = 0x42000A
ATTRIBUTE_VALUE = 0x42000B

_INT64 = (-(1 << 63), (1 << 63) - 1)
RANGES = {
    ItemType.INTEGER: (-(1 << 31), (1 << 31) - 1),
    ItemType.LONG_INTEGER: _INT64,
    ItemType.ENUMERATION: (0, (1 << 32) - 1),
    ItemType.INTERVAL: (0, (1 << 32) - 1),
    ItemType.DATE_TIME: _INT64,
    ItemType.DATE_TIME_EXTENDED: _INT64,
}
_HEX_DIGITS = {ItemType.INTEGER: 8, ItemType.ENUMERATION: 8, ItemType.INTERVAL: 8}  # others: 16

_DECIMAL = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"0[xX]([0-9a-fA-F]+)")
_HEX_BYTES = re.compile(r"(?:[0-9a-fA-F]{2})*")
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_PLACEHOLDER = re.compile(r"\$[A-Z][A-Z0-9_]*(?:[+-][0-9]+)?")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


# ---------------------------------------------------------------- shared value helpers


def fail(path: str, message: str) -> TTLVError:
    """A TTLVError locating the problem by its element path."""
    return TTLVError(f"{path or '<root>'}: {message}")


def normalize_name(text: str) -> str:
    """A KMIP display name in the text-encoding form ("Cryptographic Usage Mask" -> "CryptographicUsageMask").

    Follows the profile's normalization steps: brackets become spaces, other
    punctuation before a word becomes a space and elsewhere an underscore,
    leading digits move to the end of the first word, words are capitalized and joined.
    """
    text = re.sub(r"[()]", " ", text)
    text = re.sub(r"[^\w\s](?=[A-Za-z][a-z])", " ", text, flags=re.ASCII)
    text = re.sub(r"[^\w\s]", "_", text, flags=re.ASCII)
    words = text.split()
    if words and words[0][0].isdigit():
        digits = re.match(r"\d+", words[0])
        assert digits is not None
        words[0] = words[0][digits.end() :] + digits.group()
    return "".join(word[:1].upper() + word[1:] for word in words)


def tag_text(tag: int, names: TagNames) -> tuple[str, bool]:
    """The name of ``tag`` and True, or its hex form and False when it has no usable name."""
    name = names.tag_name(tag)
    if name is not None and _XML_NAME.fullmatch(name) and name != "TTLV":
        return name, True
    return f"0x{tag:06x}", False


def parse_tag(text: str, names: TagNames, path: str) -> int:
    """A tag from its name or its 0x-prefixed six hex digits."""
    match = _HEX.fullmatch(text)
    if match:
        if len(match.group(1)) != 6:
            raise fail(path, f"tag {text!r} is not 0x followed by six hex digits")
        tag = int(match.group(1), 16)
        if tag >> 16 not in (0x42, 0x54):
            raise fail(path, f"tag {text} is outside the KMIP and extension ranges")
        return tag
    tag_value = names.tag_value(text)
    if tag_value is None:
        raise fail(path, f"unknown tag name {text!r}")
    return tag_value


def value_tag(tag: int, attribute_tag: int | None) -> int:
    """The tag whose enumeration and mask names apply to an item.

    An Attribute Value inside a KMIP 1.x Attribute takes the names of the
    attribute its sibling Attribute Name names, as the profile requires.
    """
    return attribute_tag if tag == ATTRIBUTE_VALUE and attribute_tag is not None else tag


def attribute_tag_of(item: Item, names: TagNames) -> int | None:
    """For an Attribute Name item, the tag of the attribute it names (None if unknown)."""
    if isinstance(item.value, str):
        return names.tag_value(normalize_name(item.value))
    return None


def check_value(tag: int, item_type: ItemType, value: object, path: str) -> Value:
    """``value`` if it is a valid value of ``item_type`` (see kmipd.ttlv.item), else TTLVError."""
    if item_type is ItemType.STRUCTURE:
        if isinstance(value, tuple):
            return value
    elif item_type is ItemType.BOOLEAN:
        if isinstance(value, bool):
            return value
    elif item_type is ItemType.TEXT_STRING:
        if isinstance(value, str):
            return value
    elif item_type is ItemType.BYTE_STRING:
        if isinstance(value, bytes):
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        bounds = RANGES.get(item_type)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            raise fail(path, f"{TYPE_NAMES[item_type]} value {value} is out of range")
        return value
    raise fail(path, f"{TYPE_NAMES[item_type]} 0x{tag:06x} cannot hold {type(value).__name__} {value!r}")


def format_hex(value: int, item_type: ItemType) -> str:
    """0x and the fixed-width two's complement hex of a numeric value."""
    digits = _HEX_DIGITS.get(item_type, 16)
    return f"0x{value & ((1 << (4 * digits)) - 1):0{digits}x}"


def parse_hex(text: str, item_type: ItemType, path: str) -> int | None:
    """The value of a 0x hex form (None if ``text`` is not one); signed types read two's complement."""
    match = _HEX.fullmatch(text)
    if match is None:
        return None
    digits = _HEX_DIGITS.get(item_type, 16)
    if len(match.group(1)) > digits:
        raise fail(path, f"hex value {text} is longer than {digits} digits")
    number = int(match.group(1), 16)
    if RANGES[item_type][0] < 0 and number >> (4 * digits - 1):
        number -= 1 << (4 * digits)
    return number


def parse_int(text: str, item_type: ItemType, path: str, *, decimal: bool = True) -> int:
    """A decimal or 0x hex number of ``item_type``, range-checked."""
    number = parse_hex(text, item_type, path)
    if number is None:
        # No KMIP integer type needs more than 20 decimal digits; longer strings are refused before
        # int() sees them (Python refuses very long digit strings with a ValueError of its own).
        if not (decimal and len(text) <= 21 and _DECIMAL.fullmatch(text)):
            raise fail(path, f"{text[:40]!r} is not a valid {TYPE_NAMES[item_type]}")
        number = int(text)
    check_value(0, item_type, number, path)
    return number


def format_big(value: int) -> str:
    """Big-endian two's complement hex (no 0x) in the fewest 8-byte words that hold it, as the vectors do."""
    size = ((value if value >= 0 else ~value).bit_length() + 64) // 64 * 8
    return value.to_bytes(size, "big", signed=True).hex()


def parse_big(text: str, path: str) -> int:
    """A Big Integer from hex (optionally 0x-prefixed) whose length is a multiple of 8 bytes."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if not digits or len(digits) % 16 or not _HEX_BYTES.fullmatch(digits):
        raise fail(path, f"BigInteger {text!r} is not hex of a positive multiple of 8 bytes")
    return int.from_bytes(bytes.fromhex(digits), "big", signed=True)


def parse_bytes(text: str, path: str) -> bytes:
    """A Byte String from hex without 0x."""
    if len(text) % 2 or not _HEX_BYTES.fullmatch(text):
        raise fail(path, f"ByteString {text[:40]!r} is not an even number of hex digits")
    return bytes.fromhex(text)


def parse_bool(text: str, path: str) -> bool:
    """A Boolean from true/false or its 16-digit hex form."""
    found = {"true": True, "false": False, "0x0000000000000001": True, "0x0000000000000000": False}.get(text)
    if found is None:
        raise fail(path, f"Boolean {text!r} is not true or false")
    return found


def format_datetime(value: int, item_type: ItemType) -> str:
    """ISO 8601 in UTC (microseconds for Date-Time Extended), or hex beyond years 1-9999."""
    extended = item_type is ItemType.DATE_TIME_EXTENDED
    try:
        moment = _EPOCH + (timedelta(microseconds=value) if extended else timedelta(seconds=value))
    except OverflowError:
        return format_hex(value, item_type)
    return moment.isoformat(timespec="microseconds" if extended else "seconds")


def parse_datetime(text: str, item_type: ItemType, path: str) -> int:
    """POSIX seconds (microseconds when extended) from ISO 8601 with a zone, or the hex form."""
    number = parse_hex(text, item_type, path)
    if number is not None:
        return number
    match = _ISO.fullmatch(text)
    if match is None:
        raise fail(path, f"{text!r} is not an ISO 8601 date-time with a time zone")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    extended = item_type is ItemType.DATE_TIME_EXTENDED
    if fraction and not extended and int(fraction):
        raise fail(path, f"DateTime {text!r} has fractional seconds")
    try:
        offset = timedelta(0)
        if zone != "Z":
            offset = int(zone[0] + "1") * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:]))
        moment = (
            datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int((fraction or "0").ljust(6, "0")),
                tzinfo=UTC,
            )
            - offset
        )
    except (ValueError, OverflowError) as exc:
        raise fail(path, f"invalid date-time {text!r}: {exc}") from None
    micros = (moment - _EPOCH) // _US
    return micros if extended else micros // 1_000_000


def format_enum(tag: int, value: int, names: TagNames) -> str:
    """The enumeration's name, or 0x and eight hex digits."""
    return names.enum_name(tag, value) or format_hex(value, ItemType.ENUMERATION)


def parse_enum(tag: int, text: str, names: TagNames, path: str) -> int:
    """An enumeration value from its name or hex form."""
    number = parse_hex(text, ItemType.ENUMERATION, path)
    if number is None:
        number = names.enum_value(tag, text)
        if number is None:
            raise fail(path, f"unknown enumeration name {text!r} for tag 0x{tag:06x}")
    return number


def format_mask(tag: int, value: int, names: TagNames, separator: str) -> str | None:
    """Flag names joined by ``separator`` (unnamed bits appended as hex), or None if ``tag`` is no mask."""
    flags = names.mask_names(tag, value) if value else None
    if not flags:
        return None
    covered = names.mask_value(tag, flags) or 0
    rest = (value & 0xFFFFFFFF) & ~(covered & 0xFFFFFFFF)
    return separator.join([*flags, format_hex(rest, ItemType.INTEGER)] if rest else flags)


def parse_mask(tag: int, text: str, names: TagNames, separator: str | None, path: str) -> int:
    """An Integer from decimal, hex, or mask flag names and hex parts separated by ``separator``."""
    if _DECIMAL.fullmatch(text):
        return parse_int(text, ItemType.INTEGER, path)
    if not text.strip():
        raise fail(path, "empty Integer value")
    bits = 0
    flags: list[str] = []
    for token in text.split(separator):
        token = token.strip()
        number = parse_hex(token, ItemType.INTEGER, path)
        if number is not None:
            bits |= number & 0xFFFFFFFF
        elif token:
            if names.mask_value(tag, [token]) is None:
                raise fail(path, f"unknown mask flag {token!r} for tag 0x{tag:06x}")
            flags.append(token)
        else:
            raise fail(path, f"empty flag in Integer {text!r}")
    if flags:
        bits |= (names.mask_value(tag, flags) or 0) & 0xFFFFFFFF
    return bits - (1 << 32) if bits >> 31 else bits


def substitute(tag: int, item_type: ItemType, text: str, hook: Placeholder | None, path: str) -> Value | None:
    """The hook's value for a harness placeholder such as ``$NOW``, or None for ordinary text."""
    if not _PLACEHOLDER.fullmatch(text):
        return None
    if hook is None:
        if item_type is ItemType.TEXT_STRING:
            return None
        raise fail(path, f"test-harness placeholder {text} given without a placeholder hook")
    return check_value(tag, item_type, hook(tag, item_type, text), path)


class Budget:
    """Counts items against Limits while decoding one message."""

    __slots__ = ("items_left", "max_depth")

    def __init__(self, limits: Limits) -> None:
        self.items_left = limits.max_items
        self.max_depth = limits.max_depth

    def enter(self, depth: int, path: str) -> None:
        """Account for one more item at ``depth`` (the message is depth 1)."""
        self.items_left -= 1
        if self.items_left < 0:
            raise fail(path, "too many items in one message")
        if depth > self.max_depth:
            raise fail(path, f"nesting deeper than {self.max_depth}")


# ---------------------------------------------------------------- XML


def encode_xml(item: Item, names: TagNames, *, indent: str = "  ") -> str:
    """The XML encoding of ``item`` (indented like the OASIS test vectors; ``indent=""`` for one line).

    Raises:
        TTLVError: a value does not fit its type, or a Text String holds characters XML cannot carry.
    """
    lines: list[str] = []
    _encode(item, names, None, lines, "", indent, "")
    return ("\n" if indent else "").join(lines)


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _encode(
    item: Item,
    names: TagNames,
    attribute_tag: int | None,
    lines: list[str],
    prefix: str,
    indent: str,
    path: str,
) -> None:
    tag, item_type, value = item
    name, named = tag_text(tag, names)
    path = f"{path}/{name}"
    value = check_value(tag, item_type, value, path)
    head = f"{prefix}<{name}" if named else f'{prefix}<TTLV tag="{name}"'
    if isinstance(value, tuple):
        if not value:
            lines.append(head + "/>")
            return
        lines.append(head + ">")
        inner: int | None = None
        for child in value:
            _encode(child, names, inner, lines, prefix + indent, indent, path)
            if child.tag == ATTRIBUTE_NAME:
                inner = attribute_tag_of(child, names)
        lines.append(f"{prefix}</{name if named else 'TTLV'}>")
        return
    text = _format_value(tag, item_type, value, names, attribute_tag, path)
    lines.append(f'{head} type="{TYPE_NAMES[item_type]}" value="{_attr(text)}"/>')


def _format_value(
    tag: int, item_type: ItemType, value: Value, names: TagNames, attribute_tag: int | None, path: str
) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        bad = _XML_INVALID.search(value)
        if bad:
            raise fail(path, f"TextString holds {bad.group()!r}, which XML cannot represent")
        return value
    if isinstance(value, bytes):
        return value.hex()
    assert isinstance(value, int)
    if item_type is ItemType.INTEGER:
        return format_mask(value_tag(tag, attribute_tag), value, names, " ") or str(value)
    if item_type is ItemType.ENUMERATION:
        return format_enum(value_tag(tag, attribute_tag), value, names)
    if item_type is ItemType.BIG_INTEGER:
        return format_big(value)
    if item_type is ItemType.DATE_TIME or item_type is ItemType.DATE_TIME_EXTENDED:
        return format_datetime(value, item_type)
    return str(value)  # Long Integer, Interval


def decode_xml(
    source: str | bytes | ET.Element,
    names: TagNames,
    *,
    placeholder: Placeholder | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Item:
    """Decode one item from XML text (or an already parsed element, e.g. a child of a vector's <KMIP>).

    Raises:
        TTLVError: the XML is malformed or unsafe (DOCTYPE, entities), exceeds ``limits``,
            names an unknown tag/enumeration/flag, or a value is malformed or out of range.
    """
    element = source if isinstance(source, ET.Element) else _parse(source, limits)
    return _decode(element, names, placeholder, Budget(limits), 1, None, "")


def _parse(source: str | bytes, limits: Limits) -> ET.Element:
    """Parse with expat, refusing DTDs and bounding depth while the tree is built."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > limits.max_depth:
            raise TTLVError(f"XML nesting deeper than {limits.max_depth}", parser.CurrentByteIndex)
        builder.start(name, attrs)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(name)

    def refuse(*_args: object) -> None:
        raise TTLVError("XML with a DOCTYPE or entity declaration is refused", parser.CurrentByteIndex)

    def refuse_external(*_args: object) -> int:
        refuse()
        return 0

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_external
    try:
        parser.Parse(source, True)
    except expat.ExpatError as exc:
        raise TTLVError(f"malformed XML: {exc}", parser.CurrentByteIndex) from None
    return builder.close()


def _decode(
    element: ET.Element,
    names: TagNames,
    hook: Placeholder | None,
    budget: Budget,
    depth: int,
    attribute_tag: int | None,
    path: str,
) -> Item:
    attrs = dict(element.attrib)
    path = f"{path}/{element.tag}"
    budget.enter(depth, path)
    if element.tag == "TTLV":
        if "tag" not in attrs:
            raise fail(path, "TTLV element without a tag attribute")
        tag = parse_tag(attrs.pop("tag"), names, path)
    else:
        tag = parse_tag(element.tag, names, path)
    type_name = attrs.pop("type", "Structure")
    item_type = TYPES_BY_NAME.get(type_name)
    if item_type is None:
        raise fail(path, f"unknown type {type_name!r}")
    text = attrs.pop("value", None)
    if attrs:
        raise fail(path, f"unexpected attributes {sorted(attrs)}")
    if element.text and element.text.strip():
        raise fail(path, "unexpected text content")
    children = [child for child in element if isinstance(child.tag, str)]  # skip comments, PIs
    if item_type is ItemType.STRUCTURE:
        if text is not None:
            raise fail(path, "Structure with a value attribute")
        items: list[Item] = []
        inner: int | None = None
        for child in children:
            if child.tail and child.tail.strip():
                raise fail(path, "unexpected text content")
            decoded = _decode(child, names, hook, budget, depth + 1, inner, path)
            items.append(decoded)
            if decoded.tag == ATTRIBUTE_NAME:
                inner = attribute_tag_of(decoded, names)
        return Item(tag, item_type, tuple(items))
    if children:
        raise fail(path, f"{type_name} with child elements")
    if text is None:
        raise fail(path, f"{type_name} without a value attribute")
    value = substitute(tag, item_type, text, hook, path)
    if value is None:
        value = _parse_value(tag, item_type, text, names, value_tag(tag, attribute_tag), path)
    return Item(tag, item_type, value)


def _parse_value(tag: int, item_type: ItemType, text: str, names: TagNames, names_tag: int, path: str) -> Value:
    if item_type is ItemType.INTEGER:
        return parse_mask(names_tag, text, names, None, path)
    if item_type is ItemType.ENUMERATION:
        return parse_enum(names_tag, text, names, path)
    if item_type is ItemType.LONG_INTEGER or item_type is ItemType.INTERVAL:
        return parse_int(text, item_type, path)
    if item_type is ItemType.BIG_INTEGER:
        return parse_big(text, path)
    if item_type is ItemType.BOOLEAN:
        return parse_bool(text, path)
    if item_type is ItemType.BYTE_STRING:
        return parse_bytes(text, path)
    if item_type is ItemType.TEXT_STRING:
        return text
    return parse_datetime(text, item_type, path)
