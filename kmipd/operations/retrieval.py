"""Get, Check and Locate (KMIP 1.4 sections 4.9, 4.10, 4.11; 2.1 sections 6.1.20, 6.1.27, 6.1.9)."""

from __future__ import annotations

from kmipd.crypto import formats
from kmipd.crypto.formats import replace_material
from kmipd.errors import (
    CryptographicFailure,
    FeatureNotSupported,
    IncompatibleCryptographicUsageMask,
    InvalidField,
    KeyCompressionTypeNotSupported,
    KeyFormatTypeNotSupported,
    NotExtractable,
    ObjectDestroyed,
    Sensitive,
)
from kmipd.operations import rules
from kmipd.operations.context import Context
from kmipd.operations.objects import DESTROYED_STATES, ManagedObject, effective_state, load, resolve_uid, save
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.operations.wrapping import wrap_body
from kmipd.protocol.attributes import Attribute, parse_attribute_1x, parse_attributes_2x, search_key
from kmipd.protocol.enums import KeyFormatType, ObjectType, Operation, StorageStatusMask, Tag
from kmipd.store.interface import AttributeFilter, LocateQuery
from kmipd.ttlv.codec import decode
from kmipd.ttlv.item import Item, ItemType, boolean, byte_string, enumeration, integer, structure, text

_OBJECT_TAGS = {
    ObjectType.CERTIFICATE: Tag.CERTIFICATE,
    ObjectType.SYMMETRIC_KEY: Tag.SYMMETRIC_KEY,
    ObjectType.PUBLIC_KEY: Tag.PUBLIC_KEY,
    ObjectType.PRIVATE_KEY: Tag.PRIVATE_KEY,
    ObjectType.SECRET_DATA: Tag.SECRET_DATA,
    ObjectType.OPAQUE_OBJECT: Tag.OPAQUE_OBJECT,
}
_DATE_NAMES = frozenset(
    {
        "Initial Date",
        "Activation Date",
        "Deactivation Date",
        "Destroy Date",
        "Compromise Date",
        "Compromise Occurrence Date",
        "Last Change Date",
        "Original Creation Date",
        "Process Start Date",
        "Protect Stop Date",
        "Archive Date",
    }
)


def _convert_symmetric(block: Item, wanted: int) -> Item:
    """Re-express a symmetric Key Block as Raw or Transparent Symmetric Key."""
    current = int(block.find(Tag.KEY_FORMAT_TYPE).value)  # type: ignore[union-attr, arg-type]
    if current == wanted:
        return block
    value = block.find(Tag.KEY_VALUE)
    if value is None or value.type is not ItemType.STRUCTURE:
        raise KeyFormatTypeNotSupported("wrapped key material cannot be converted")
    material = value.find(Tag.KEY_MATERIAL)
    if material is None:
        raise KeyFormatTypeNotSupported("the key has no material to convert")
    if current in (KeyFormatType.RAW, KeyFormatType.OPAQUE) and material.type is ItemType.BYTE_STRING:
        key = bytes(material.value)  # type: ignore[arg-type]
    elif current == KeyFormatType.TRANSPARENT_SYMMETRIC_KEY and (inner := material.find(Tag.KEY)) is not None:
        key = bytes(inner.value)  # type: ignore[arg-type]
    else:
        raise KeyFormatTypeNotSupported("this key cannot be converted to the requested format")
    if wanted == KeyFormatType.RAW:
        new_material = byte_string(Tag.KEY_MATERIAL, key)
    elif wanted == KeyFormatType.TRANSPARENT_SYMMETRIC_KEY:
        new_material = structure(Tag.KEY_MATERIAL, byte_string(Tag.KEY, key))
    else:
        raise KeyFormatTypeNotSupported("symmetric keys are served as Raw or Transparent Symmetric Key")
    return replace_material(block, new_material, wanted)


def object_body(ctx: Context, obj: ManagedObject, key_format: int | None) -> Item:
    """The object structure to hand out, in the requested key format.

    Symmetric keys convert between Raw and Transparent Symmetric Key; public and
    private keys between every format :mod:`kmipd.crypto.formats` reads and writes.

    Raises:
        ObjectDestroyed: the material was destroyed.
        KeyFormatTypeNotSupported: the format cannot be produced.
    """
    if obj.stored.body is None:
        raise ObjectDestroyed("the object has been destroyed; only its attributes remain")
    body = decode(obj.stored.body)
    if key_format is None:
        return body
    block = body.find(Tag.KEY_BLOCK)
    if block is None:
        raise KeyFormatTypeNotSupported("this object has no key block to format")
    current = int(block.find(Tag.KEY_FORMAT_TYPE).value)  # type: ignore[union-attr, arg-type]
    if current == key_format:
        return body
    del ctx
    if obj.object_type == ObjectType.SYMMETRIC_KEY:
        converted = _convert_symmetric(block, key_format)
    elif obj.object_type in (ObjectType.PRIVATE_KEY, ObjectType.PUBLIC_KEY):
        try:
            converted = formats.convert_block(block, key_format, private=obj.object_type == ObjectType.PRIVATE_KEY)
        except (CryptographicFailure, InvalidField):
            # Stored material that does not load cannot be re-expressed: the format is what fails.
            raise KeyFormatTypeNotSupported("the key cannot be converted to the requested format") from None
    else:
        raise KeyFormatTypeNotSupported("this object is served in its registered format only")
    return Item(body.tag, body.type, tuple(converted if c.tag == Tag.KEY_BLOCK else c for c in body.children))


def guard_release(obj: ManagedObject, *, wrapped: bool) -> None:
    """Refuse to hand out material the object's own attributes keep inside the server.

    Raises:
        NotExtractable: Extractable is false: the key never leaves, wrapped or not.
        Sensitive: Sensitive is true and the key was asked for unwrapped.
    """
    extractable = obj.first("Extractable")
    if extractable is not None and not extractable.value:
        raise NotExtractable("the object is not extractable")
    sensitive = obj.first("Sensitive")
    if sensitive is not None and sensitive.value and not wrapped:
        raise Sensitive("the object is sensitive and cannot be returned in plain form")


@handler(Operation.GET, mutates=False)
def get(ctx: Context, payload: Payload) -> list[Item]:
    """Return the object, optionally in another key format."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    specification = payload.structure(Tag.KEY_WRAPPING_SPECIFICATION)
    wrap_type = payload.enum(Tag.KEY_WRAP_TYPE)
    if wrap_type is not None and wrap_type != 1:  # Not Wrapped; "As Registered" is not offered
        raise FeatureNotSupported("Key Wrap Type As Registered is not supported")
    if payload.enum(Tag.KEY_COMPRESSION_TYPE) is not None:
        raise KeyCompressionTypeNotSupported("key compression is not supported")
    body = object_body(ctx, obj, payload.enum(Tag.KEY_FORMAT_TYPE))
    guard_release(obj, wrapped=specification is not None)
    if specification is not None:
        sensitive = obj.first("Sensitive")
        body = wrap_body(ctx, body, specification, sensitive=bool(sensitive is not None and sensitive.value))
    fresh = obj.first("Fresh")
    if fresh is not None and fresh.value:
        # Fresh turns false once the object has been served to a client (KMIP 1.4 section 3.34).
        ctx.require_write()
        obj.set("Fresh", boolean(Tag.FRESH, False))
        save(ctx, obj)
    return [enumeration(Tag.OBJECT_TYPE, obj.object_type), text(Tag.UNIQUE_IDENTIFIER, obj.uid), body]


@handler(Operation.CHECK, mutates=False)
def check(ctx: Context, payload: Payload) -> list[Item]:
    """Check that the object may be used as described (usage mask, state)."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    mask = payload.integer(Tag.CRYPTOGRAPHIC_USAGE_MASK)
    if obj.state in DESTROYED_STATES:
        raise rules.wrong_state(ctx, "the object has been destroyed")
    if mask is not None:
        have = obj.number("Cryptographic Usage Mask") or 0
        if have & mask != mask:
            raise IncompatibleCryptographicUsageMask("the object's Cryptographic Usage Mask does not allow that use")
    result = [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]
    return result


def _locate_filters(attributes: list[Attribute]) -> tuple[int | None, int | None, list[AttributeFilter]]:
    object_type: int | None = None
    state: int | None = None
    filters: list[AttributeFilter] = []
    dates: dict[str, list[int]] = {}
    for attribute in attributes:
        if attribute.name == "Object Type":
            object_type = int(attribute.value.value)  # type: ignore[arg-type]
        elif attribute.name == "State":
            state = int(attribute.value.value)  # type: ignore[arg-type]
        elif attribute.name in _DATE_NAMES and attribute.value.type is ItemType.DATE_TIME:
            dates.setdefault(attribute.name, []).append(int(attribute.value.value))  # type: ignore[arg-type]
        else:
            search, _ = search_key(attribute)
            if attribute.name == "Name" and attribute.value.find(Tag.NAME_VALUE) is None:
                raise InvalidField("a Name in Locate needs a Name Value")
            filters.append(AttributeFilter(attribute.name, search=search))
    for name, values in dates.items():
        if len(values) == 1:
            filters.append(AttributeFilter(name, low=values[0], high=values[0]))
        else:
            filters.append(AttributeFilter(name, low=min(values[:2]), high=max(values[:2])))
    return object_type, state, filters


@handler(Operation.LOCATE, mutates=False)
def locate(ctx: Context, payload: Payload) -> list[Item]:
    """Find the client's objects matching every given attribute, oldest first, paged."""
    attributes: list[Attribute] = []
    for item in payload.find_all(Tag.ATTRIBUTE):
        attributes.append(parse_attribute_1x(item)[0])
    template = payload.structure(Tag.TEMPLATE_ATTRIBUTE)
    if template is not None:  # 1.0-style filters wrapped in a Template-Attribute (FortiGate)
        attributes.extend(parse_attribute_1x(a)[0] for a in template.find_all(Tag.ATTRIBUTE))
    attrs_2x = payload.structure(Tag.ATTRIBUTES)
    if attrs_2x is not None:
        attributes.extend(parse_attributes_2x(attrs_2x))
    maximum = payload.integer(Tag.MAXIMUM_ITEMS)
    offset = payload.integer(Tag.OFFSET_ITEMS) or 0
    if (maximum is not None and maximum < 0) or offset < 0:
        raise InvalidField("Maximum Items and Offset Items cannot be negative")
    storage = payload.integer(Tag.STORAGE_STATUS_MASK)
    object_type, state, filters = _locate_filters(attributes)

    query = LocateQuery(
        owners=ctx.access.visible_owners(ctx.identity),
        object_type=object_type,
        filters=tuple(filters),
    )
    # The Storage Status Mask chooses where to search: on-line objects by default; destroyed
    # objects (2.x) only when asked for, by the mask or by naming a destroyed State.
    if storage is None:
        include_live, include_destroyed = True, state in DESTROYED_STATES
    else:
        include_live = bool(storage & StorageStatusMask.ON_LINE_STORAGE)
        include_destroyed = bool(storage & StorageStatusMask.DESTROYED_STORAGE) or state in DESTROYED_STATES
    matches: list[str] = []
    for row in ctx.tx.locate(query):
        current = effective_state(row.state, row.activation_date, row.deactivation_date, ctx.now)
        if state is not None and current != state:
            continue
        destroyed = current in DESTROYED_STATES
        if (destroyed and not include_destroyed) or (not destroyed and not include_live):
            continue
        matches.append(row.uid)
    page = matches[offset:] if maximum is None else matches[offset : offset + maximum]
    ctx.message.id_placeholder = page[0] if page else ctx.message.id_placeholder
    response: list[Item] = []
    paging = maximum is not None or payload.find(Tag.OFFSET_ITEMS) is not None
    if ctx.version >= (1, 3) and paging:
        response.append(integer(Tag.LOCATED_ITEMS, len(matches)))
    response.extend(text(Tag.UNIQUE_IDENTIFIER, uid) for uid in page)
    return response


__all__ = ["check", "get", "locate", "object_body"]
