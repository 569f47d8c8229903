"""The KMIP JSON encoding of a TTLV tree (KMIP Profiles 1.4 section 5.4, 2.1 "JSON Encoding").

Each item is an object ``{"tag": ..., "type": ..., "value": ...}``; ``tag`` is
the tag's name or ``"0x540001"``, ``type`` is left out for a Structure, whose
value is a list of items. The text forms are those of the XML encoding (the
helpers live in :mod:`kmipd.ttlv.xml`) with the JSON differences of the profile:

* Integer, Long Integer, Interval, Enumeration and Big Integer may be JSON
  numbers or 0x hex strings; bit-mask flags are joined with ``|``
  (``"Encrypt|Decrypt"``) where XML uses spaces.
* Long Integers of 2**52 or more in magnitude are written as hex strings, since
  JSON parsers commonly read numbers as doubles; Big Integers are always
  written as ``0x`` hex of their padded two's complement bytes.
* Booleans are JSON ``true``/``false``.

Named ``jsonenc`` rather than ``json`` so it can never shadow the standard
library module. Decoding is strict like the XML decoder: unknown or duplicate
keys, floats, NaN, wrong JSON types, out-of-range numbers and nesting beyond
:class:`~kmipd.ttlv.codec.Limits` raise :class:`~kmipd.ttlv.errors.TTLVError`.
"""

from __future__ import annotations

import json
from typing import Any

from kmipd.ttlv.codec import DEFAULT_LIMITS, Limits
from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.item import Item, ItemType, Value
from kmipd.ttlv.names import TagNames
from kmipd.ttlv.xml import (
    ATTRIBUTE_NAME,
    TYPE_NAMES,
    TYPES_BY_NAME,
    Budget,
    Placeholder,
    attribute_tag_of,
    check_value,
    fail,
    format_big,
    format_datetime,
    format_enum,
    format_hex,
    format_mask,
    parse_big,
    parse_bool,
    parse_bytes,
    parse_datetime,
    parse_enum,
    parse_int,
    parse_mask,
    parse_tag,
    substitute,
    tag_text,
    value_tag,
)

__all__ = ["decode_json", "encode_json", "to_json_object"]

_JSON_SAFE = 1 << 52
_KEYS = ({"tag", "value"}, {"tag", "type", "value"})


def encode_json(item: Item, names: TagNames, *, indent: int | None = None) -> str:
    """The JSON encoding of ``item`` (compact unless ``indent`` is given).

    Raises:
        TTLVError: a value does not fit its item type.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(to_json_object(item, names), ensure_ascii=False, indent=indent, separators=separators)


def to_json_object(item: Item, names: TagNames) -> dict[str, Any]:
    """The encoding of ``item`` as plain dicts and lists, for callers embedding it in other JSON."""
    return _encode(item, names, None, "")


def _encode(item: Item, names: TagNames, attribute_tag: int | None, path: str) -> dict[str, Any]:
    tag, item_type, value = item
    name, _ = tag_text(tag, names)
    path = f"{path}/{name}"
    value = check_value(tag, item_type, value, path)
    if isinstance(value, tuple):
        children: list[dict[str, Any]] = []
        inner: int | None = None
        for child in value:
            children.append(_encode(child, names, inner, path))
            if child.tag == ATTRIBUTE_NAME:
                inner = attribute_tag_of(child, names)
        return {"tag": name, "value": children}
    out: object
    if isinstance(value, bool | str):
        out = value
    elif isinstance(value, bytes):
        out = value.hex()
    elif item_type is ItemType.INTEGER:
        out = format_mask(value_tag(tag, attribute_tag), value, names, "|") or value
    elif item_type is ItemType.ENUMERATION:
        out = format_enum(value_tag(tag, attribute_tag), value, names)
    elif item_type is ItemType.BIG_INTEGER:
        out = "0x" + format_big(value)
    elif item_type is ItemType.LONG_INTEGER:
        out = value if -_JSON_SAFE < value < _JSON_SAFE else format_hex(value, item_type)
    elif item_type is ItemType.INTERVAL:
        out = value
    else:
        out = format_datetime(value, item_type)
    return {"tag": name, "type": TYPE_NAMES[item_type], "value": out}


def decode_json(
    source: str | bytes | dict[str, Any],
    names: TagNames,
    *,
    placeholder: Placeholder | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Item:
    """Decode one item from JSON text (or an already parsed object).

    Raises:
        TTLVError: the JSON is malformed, exceeds ``limits``, names an unknown
            tag/enumeration/flag, or a value has the wrong JSON type, form or range.
    """
    if isinstance(source, dict):
        obj: object = source
    else:
        try:
            obj = json.loads(source, object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_float)
        except (ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, TTLVError):
                raise
            raise TTLVError(f"malformed JSON: {exc}") from None
        except RecursionError:
            raise TTLVError(f"JSON nesting deeper than {limits.max_depth}") from None
    return _decode(obj, names, placeholder, Budget(limits), 1, None, "")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise TTLVError(f"duplicate keys in JSON object {[key for key, _ in pairs]}")
    return obj


def _no_float(text: str) -> None:
    raise TTLVError(f"JSON number {text} is not an integer")


def _decode(
    obj: object,
    names: TagNames,
    hook: Placeholder | None,
    budget: Budget,
    depth: int,
    attribute_tag: int | None,
    path: str,
) -> Item:
    if not isinstance(obj, dict):
        raise fail(path, f"expected an item object, got {type(obj).__name__}")
    tag_name = obj.get("tag")
    path = f"{path}/{tag_name}"
    budget.enter(depth, path)
    if set(obj) not in _KEYS:
        raise fail(path, f"item object needs keys tag, value and optional type, has {sorted(obj)}")
    if not isinstance(tag_name, str):
        raise fail(path, "tag is not a string")
    tag = parse_tag(tag_name, names, path)
    type_name = obj.get("type", "Structure")
    item_type = TYPES_BY_NAME.get(type_name) if isinstance(type_name, str) else None
    if item_type is None:
        raise fail(path, f"unknown type {type_name!r}")
    raw = obj["value"]
    if item_type is ItemType.STRUCTURE:
        if not isinstance(raw, list):
            raise fail(path, "Structure value is not a list")
        items: list[Item] = []
        inner: int | None = None
        for child in raw:
            decoded = _decode(child, names, hook, budget, depth + 1, inner, path)
            items.append(decoded)
            if decoded.tag == ATTRIBUTE_NAME:
                inner = attribute_tag_of(decoded, names)
        return Item(tag, item_type, tuple(items))
    value = substitute(tag, item_type, raw, hook, path) if isinstance(raw, str) else None
    if value is None:
        value = _parse_value(item_type, raw, names, value_tag(tag, attribute_tag), path)
    return Item(tag, item_type, value)


def _parse_value(item_type: ItemType, raw: object, names: TagNames, names_tag: int, path: str) -> Value:
    type_name = TYPE_NAMES[item_type]
    if item_type is ItemType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            return parse_bool(raw, path)
        raise fail(path, f"Boolean value {raw!r} is not true, false or a hex string")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise fail(path, f"{type_name} value {raw!r} has the wrong JSON type")
    if isinstance(raw, int):
        if item_type in (
            ItemType.TEXT_STRING,
            ItemType.BYTE_STRING,
            ItemType.DATE_TIME,
            ItemType.DATE_TIME_EXTENDED,
        ):
            raise fail(path, f"{type_name} value must be a string, not the number {raw}")
        return check_value(0, item_type, raw, path)
    if item_type is ItemType.TEXT_STRING:
        return raw
    if item_type is ItemType.BYTE_STRING:
        return parse_bytes(raw, path)
    if item_type is ItemType.INTEGER:
        return parse_mask(names_tag, raw, names, "|", path)
    if item_type is ItemType.ENUMERATION:
        return parse_enum(names_tag, raw, names, path)
    if item_type is ItemType.BIG_INTEGER:
        if not raw.startswith(("0x", "0X")):
            raise fail(path, f"BigInteger string {raw[:40]!r} must be 0x-prefixed hex")
        return parse_big(raw, path)
    if item_type is ItemType.LONG_INTEGER or item_type is ItemType.INTERVAL:
        return parse_int(raw, item_type, path, decimal=False)
    return parse_datetime(raw, item_type, path)
