"""GetAttributes, GetAttributeList, AddAttribute, ModifyAttribute, DeleteAttribute, SetAttribute.

KMIP 1.4 sections 4.12–4.16 and 2.1 sections 6.1.22–6.1.25, 6.1.47. Responses
carry only the attributes the client's protocol version defines, so a 1.0
client never receives a 2.x attribute it cannot parse.
"""

from __future__ import annotations

from kmipd.errors import AttributeNotFound, AttributeSingleValued, IndexOutOfBounds, InvalidField, MissingData
from kmipd.operations import rules
from kmipd.operations.context import Context
from kmipd.operations.objects import ManagedObject, load, names, resolve_uid, save
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.protocol.attributes import (
    Attribute,
    defined_in,
    encode_attribute,
    encode_attributes_2x,
    parse_attribute_1x,
    parse_attribute_reference,
    parse_attributes_2x,
    reference_item,
)
from kmipd.protocol.enums import Operation, State, Tag
from kmipd.protocol.names import attribute_rule
from kmipd.protocol.versions import V2_0
from kmipd.ttlv.item import Item, text


def _visible(ctx: Context, obj: ManagedObject) -> list[Attribute]:
    return [a for a in obj.attributes if defined_in(a.name, ctx.version)]


def _with_indices(attributes: list[Attribute]) -> list[tuple[Attribute, int]]:
    counts: dict[str, int] = {}
    result = []
    for attribute in attributes:
        index = counts.get(attribute.name, 0)
        counts[attribute.name] = index + 1
        result.append((attribute, index))
    return result


@handler(Operation.GET_ATTRIBUTES, mutates=False)
def get_attributes(ctx: Context, payload: Payload) -> list[Item]:
    """The named attributes (all when none are named); names the object lacks are skipped."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    wanted = [
        parse_attribute_reference(i).name
        for i in payload.find_all(Tag.ATTRIBUTE_NAME) + payload.find_all(Tag.ATTRIBUTE_REFERENCE)
    ]
    selected = _visible(ctx, obj)
    if wanted:
        # Answer in the order the client asked, each name once, every instance of it.
        order = {name: position for position, name in enumerate(dict.fromkeys(wanted))}
        selected = sorted((a for a in selected if a.name in order), key=lambda a: order[a.name])
    uid = text(Tag.UNIQUE_IDENTIFIER, obj.uid)
    if ctx.version >= V2_0:
        return [uid, encode_attributes_2x(selected)]
    return [uid, *(encode_attribute(a, ctx.version, i) for a, i in _with_indices(selected))]


@handler(Operation.GET_ATTRIBUTE_LIST, mutates=False)
def get_attribute_list(ctx: Context, payload: Payload) -> list[Item]:
    """The names of the object's attributes."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    return [
        text(Tag.UNIQUE_IDENTIFIER, obj.uid),
        *(reference_item(name, ctx.version) for name in names(_visible(ctx, obj))),
    ]


def _one_attribute(payload: Payload, tag_2x: int) -> tuple[Attribute, int | None]:
    """The attribute of an Add/Modify/Set request: 1.x ``Attribute`` or 2.x wrapper (New Attribute ...)."""
    item = payload.structure(Tag.ATTRIBUTE)
    if item is not None:
        return parse_attribute_1x(item)
    wrapper = payload.structure(tag_2x)
    if wrapper is None:
        raise MissingData("the request names no attribute")
    attributes = parse_attributes_2x(wrapper)
    if len(attributes) != 1:
        raise InvalidField("exactly one attribute is expected")
    return attributes[0], None


#: Date attributes that cannot change once the state they announce has been reached (KMIP 1.4 section 3).
_FROZEN_AFTER = {
    "Activation Date": (State.PRE_ACTIVE,),
    "Process Start Date": (State.PRE_ACTIVE,),
    "Deactivation Date": (State.PRE_ACTIVE, State.ACTIVE),
    "Protect Stop Date": (State.PRE_ACTIVE, State.ACTIVE),
}


def _check_date_change(ctx: Context, obj: ManagedObject, name: str) -> None:
    """Refuse changing a lifecycle date once the object has passed the state it governs."""
    allowed = _FROZEN_AFTER.get(name)
    if allowed is not None and obj.state not in allowed:
        raise rules.wrong_state(ctx, f"the {name} can no longer be changed in the object's current state")


def _respond(ctx: Context, obj: ManagedObject, attribute: Attribute, index: int) -> list[Item]:
    uid = text(Tag.UNIQUE_IDENTIFIER, obj.uid)
    if ctx.version >= V2_0:
        return [uid]
    return [uid, encode_attribute(attribute, ctx.version, index)]


def _after_change(ctx: Context, obj: ManagedObject, name: str) -> None:
    """Effects of a changed attribute on the object (Activation Date may activate it)."""
    if name in ("Activation Date", "Deactivation Date"):
        obj.refresh_state(ctx.now)
    obj.touch(ctx.now)
    save(ctx, obj)


@handler(Operation.ADD_ATTRIBUTE)
def add_attribute(ctx: Context, payload: Payload) -> list[Item]:
    """Add an instance of an attribute."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    attribute, _ = _one_attribute(payload, Tag.NEW_ATTRIBUTE)
    rules.check_defined(ctx, [attribute])
    rules.check_modifiable(attribute.name)
    _check_date_change(ctx, obj, attribute.name)
    rules.ensure_unique_names(ctx, [attribute])
    rule = attribute_rule(attribute.name)
    if rule is not None and not rule.multi_instance and obj.values(attribute.name):
        raise AttributeSingleValued(f"the object already has a '{attribute.name}'")
    index = obj.add(attribute.name, attribute.value)
    _after_change(ctx, obj, attribute.name)
    return _respond(ctx, obj, attribute, index)


@handler(Operation.SET_ATTRIBUTE, since=V2_0)
def set_attribute(ctx: Context, payload: Payload) -> list[Item]:
    """Set a single-instance attribute, creating or replacing it (2.x)."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    attribute, _ = _one_attribute(payload, Tag.NEW_ATTRIBUTE)
    rules.check_defined(ctx, [attribute])
    rules.check_modifiable(attribute.name)
    _check_date_change(ctx, obj, attribute.name)
    rule = attribute_rule(attribute.name)
    if rule is not None and rule.multi_instance:
        raise InvalidField(f"'{attribute.name}' has several instances; use Add or Modify Attribute")
    obj.set(attribute.name, attribute.value)
    _after_change(ctx, obj, attribute.name)
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]


@handler(Operation.MODIFY_ATTRIBUTE)
def modify_attribute(ctx: Context, payload: Payload) -> list[Item]:
    """Change an existing instance (1.x: by Attribute Index; 2.x: the Current Attribute, or the first)."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    attribute, index = _one_attribute(payload, Tag.NEW_ATTRIBUTE)
    rules.check_defined(ctx, [attribute])
    rules.check_modifiable(attribute.name)
    _check_date_change(ctx, obj, attribute.name)
    rules.ensure_unique_names(ctx, [attribute], exclude=obj.uid)
    existing = obj.values(attribute.name)
    current = payload.structure(Tag.CURRENT_ATTRIBUTE)
    if current is not None:
        old = parse_attributes_2x(current)
        if len(old) != 1 or old[0].name != attribute.name or old[0].value not in existing:
            raise IndexOutOfBounds("the Current Attribute does not match an instance of the object")
        index = existing.index(old[0].value)
    index = index or 0
    if index >= len(existing):
        if not existing:
            raise _attribute_not_found(ctx, attribute.name)
        raise IndexOutOfBounds(f"'{attribute.name}' has no instance {index}")
    obj.replace(attribute.name, index, attribute.value)
    _after_change(ctx, obj, attribute.name)
    return _respond(ctx, obj, attribute, index)


def _attribute_not_found(ctx: Context, name: str) -> AttributeNotFound:
    del ctx
    return AttributeNotFound(f"the object has no attribute '{name}'")


@handler(Operation.DELETE_ATTRIBUTE)
def delete_attribute(ctx: Context, payload: Payload) -> list[Item]:
    """Delete an instance (1.x: Attribute Name + Index; 2.x: Current Attribute or Attribute Reference)."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    index: int | None = None
    name_item = payload.find(Tag.ATTRIBUTE_NAME)
    current = payload.structure(Tag.CURRENT_ATTRIBUTE)
    reference = payload.find(Tag.ATTRIBUTE_REFERENCE)
    if name_item is not None:
        name = parse_attribute_reference(name_item).name
        index = payload.integer(Tag.ATTRIBUTE_INDEX) or 0
    elif current is not None:
        old = parse_attributes_2x(current)
        if len(old) != 1:
            raise InvalidField("Current Attribute must hold one attribute")
        name = old[0].name
        values = obj.values(name)
        if old[0].value not in values:
            raise _attribute_not_found(ctx, name)
        index = values.index(old[0].value)
    elif reference is not None:
        name = parse_attribute_reference(reference).name
        index = 0
    else:
        raise MissingData("DeleteAttribute needs an attribute name or reference")
    rules.check_modifiable(name, deleting=True)
    _check_date_change(ctx, obj, name)
    if not obj.values(name):
        raise _attribute_not_found(ctx, name)
    removed = obj.remove(name, index)
    if not removed:
        raise IndexOutOfBounds(f"'{name}' has no instance {index}")
    _after_change(ctx, obj, name)
    return _respond(ctx, obj, removed[0], index or 0)
