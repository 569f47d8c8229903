"""Create, Register, ReKey, Activate, Revoke and Destroy (KMIP 1.4 sections 4.1–4.4, 4.19–4.21; 2.1 section 6.1).

New objects start Pre-Active unless the request carries an Activation Date
that has already passed. Destroy removes the key material and keeps the
metadata, so that GetAttributes still answers for a destroyed object.
"""

from __future__ import annotations

from kmipd.errors import InvalidField, KMIPError, MissingData
from kmipd.operations import rules
from kmipd.operations.certificates import certificate_attributes
from kmipd.operations.context import Context
from kmipd.operations.keygen import generate_symmetric_key
from kmipd.operations.objects import (
    ACTIVATION_DATE,
    COMPROMISE_DATE,
    COMPROMISE_OCCURRENCE_DATE,
    DEACTIVATION_DATE,
    DESTROY_DATE,
    REVOCATION_REASON,
    ManagedObject,
    load,
    require,
    resolve_uid,
    save,
)
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.operations.unwrapping import unwrap_body
from kmipd.protocol.attributes import Attribute
from kmipd.protocol.enums import LinkType, ObjectType, Operation, ResultReason, RevocationReasonCode, State, Tag
from kmipd.store.interface import StoredObject
from kmipd.ttlv.codec import encode
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, integer, structure, text

#: Object types Register accepts, with the tag of the structure that carries each.
REGISTRABLE: dict[int, int] = {
    ObjectType.SYMMETRIC_KEY: Tag.SYMMETRIC_KEY,
    ObjectType.SECRET_DATA: Tag.SECRET_DATA,
    ObjectType.OPAQUE_OBJECT: Tag.OPAQUE_OBJECT,
    ObjectType.PUBLIC_KEY: Tag.PUBLIC_KEY,
    ObjectType.PRIVATE_KEY: Tag.PRIVATE_KEY,
    ObjectType.CERTIFICATE: Tag.CERTIFICATE,
}

_COMPROMISE = {RevocationReasonCode.KEY_COMPROMISE, RevocationReasonCode.CA_COMPROMISE}


class QuantumSafeViolation(KMIPError):
    """A Quantum Safe object was asked for with an algorithm or length that is not (KMIP 2.1 QS-M-2-21)."""

    result_reason = ResultReason.GENERAL_FAILURE


def new_uid(ctx: Context) -> str:
    """A random (version 4) UUID from the injected entropy source."""
    raw = bytearray(ctx.entropy.token_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def symmetric_key_body(algorithm: int, length: int, material: bytes) -> Item:
    """The Symmetric Key structure of a raw key."""
    return structure(
        Tag.SYMMETRIC_KEY,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, 1),  # Raw
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, material)),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ),
    )


def insert_object(
    ctx: Context,
    uid: str,
    object_type: int,
    body: Item,
    attributes: list[Attribute],
    *,
    server_extra: tuple[Attribute, ...] = (),
    owner: str | None = None,
) -> ManagedObject:
    """Store a new object with the server-maintained attributes added; it belongs to the caller unless
    ``owner`` says otherwise (a replacement key keeps the owner of the key it replaces)."""
    stored = StoredObject(
        uid=uid, object_type=object_type, owner=owner or ctx.identity.name, state=State.PRE_ACTIVE, body=None
    )
    obj = ManagedObject(stored)
    obj._attributes = []  # a new object has no stored attributes to decode
    obj.attributes.extend(rules.server_attributes(uid, object_type, ctx.now, body))
    obj.attributes.extend(server_extra)
    set_by_server = {a.name for a in obj.attributes}
    for attribute in attributes:
        if attribute.name in rules.CLIENT_OVERRIDABLE:
            obj.set(attribute.name, attribute.value)
        elif attribute.name not in rules.SERVER_ONLY_ON_CREATE and attribute.name not in set_by_server:
            obj.attributes.append(attribute)
    # What a key "always" or "never" was is fixed by what it is at birth.
    if (sensitive := obj.first("Sensitive")) is not None:
        obj.set("Always Sensitive", Item(Tag.ALWAYS_SENSITIVE, ItemType.BOOLEAN, bool(sensitive.value)))
    if (extractable := obj.first("Extractable")) is not None:
        obj.set("Never Extractable", Item(Tag.NEVER_EXTRACTABLE, ItemType.BOOLEAN, not extractable.value))
    activation = obj.first(ACTIVATION_DATE)
    if activation is not None and int(activation.value) <= ctx.now:  # type: ignore[arg-type]
        obj.set_state(State.ACTIVE)
    obj.stored.body = encode(body)
    ctx.tx.insert(obj.flush())
    ctx.message.id_placeholder = uid
    return obj


def checked_request_attributes(ctx: Context, payload: Payload) -> list[Attribute]:
    """The new object's attributes from a create-style request, checked for version, settability, names."""
    attributes = rules.request_attributes(payload)
    rules.check_defined(ctx, attributes)
    rules.check_client_settable(attributes, creating=True)
    rules.ensure_unique_names(ctx, attributes)
    return attributes


@handler(Operation.CREATE)
def create(ctx: Context, payload: Payload) -> list[Item]:
    """Create a symmetric key from its Cryptographic Algorithm and Length attributes."""
    object_type = payload.enum(Tag.OBJECT_TYPE, required=True)
    if object_type != ObjectType.SYMMETRIC_KEY:
        raise InvalidField("Create makes Symmetric Keys; use CreateKeyPair or Register for other objects")
    attributes = checked_request_attributes(ctx, payload)
    by_name = {a.name: a.value for a in attributes}
    algorithm_item = by_name.get("Cryptographic Algorithm")
    length_item = by_name.get("Cryptographic Length")
    if algorithm_item is None:
        raise MissingData("Create needs a Cryptographic Algorithm attribute")
    if length_item is None:
        raise MissingData("Create needs a Cryptographic Length attribute")
    algorithm = int(algorithm_item.value)  # type: ignore[arg-type]
    length = int(length_item.value)  # type: ignore[arg-type]
    quantum_safe = by_name.get("Quantum Safe")
    if quantum_safe is not None and quantum_safe.value and not rules.quantum_safe(algorithm, length):
        raise QuantumSafeViolation("the requested key is not quantum safe")
    material = generate_symmetric_key(algorithm, length, ctx.entropy)
    uid = new_uid(ctx)
    body = symmetric_key_body(algorithm, length, material)
    insert_object(
        ctx, uid, ObjectType.SYMMETRIC_KEY, body, attributes, server_extra=(rules.rng_attribute(algorithm, length),)
    )
    return [enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY), text(Tag.UNIQUE_IDENTIFIER, uid)]


@handler(Operation.REGISTER)
def register(ctx: Context, payload: Payload) -> list[Item]:
    """Store an object the client supplies; wrapped key material is unwrapped first and stored in plaintext."""
    object_type = payload.enum(Tag.OBJECT_TYPE, required=True) or 0
    tag = REGISTRABLE.get(object_type)
    if tag is None:
        raise InvalidField(
            "Register accepts Symmetric Key, Secret Data, Opaque Object, Public Key, "
            "Private Key and Certificate objects"
        )
    body = payload.structure(tag)
    if body is None:
        raise MissingData("the object to register is missing or does not match the Object Type")
    body = rules.validate_body(object_type, body)
    attributes = checked_request_attributes(ctx, payload)
    # kmipd keeps and uses keys in plaintext: a wrapped Key Block is unwrapped with the client's key
    # (after the attributes are checked, so that no cryptography is spent on a request refused anyway),
    # and the plaintext one is checked like any other.
    body = rules.validate_body(object_type, unwrap_body(ctx, body))
    attributes = rules.attributes_from_body(object_type, body, attributes)
    derived = certificate_attributes(body) if object_type == ObjectType.CERTIFICATE else []
    uid = new_uid(ctx)
    insert_object(ctx, uid, object_type, body, attributes, server_extra=tuple(derived))
    return [text(Tag.UNIQUE_IDENTIFIER, uid)]


@handler(Operation.ACTIVATE)
def activate(ctx: Context, payload: Payload) -> list[Item]:
    """Pre-Active -> Active, setting the Activation Date to now."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    if obj.state != State.PRE_ACTIVE:
        raise rules.wrong_state(ctx, "only a Pre-Active object can be activated")
    obj.set_state(State.ACTIVE)
    obj.set_date(ACTIVATION_DATE, Tag.ACTIVATION_DATE, ctx.now)
    obj.touch(ctx.now)
    save(ctx, obj)
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]


@handler(Operation.REVOKE)
def revoke(ctx: Context, payload: Payload) -> list[Item]:
    """Compromise (any live state) or deactivate (Active) an object."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    reason = require(payload.structure(Tag.REVOCATION_REASON), "Revocation Reason")
    code_item = reason.find(Tag.REVOCATION_REASON_CODE)
    if code_item is None or code_item.type is not ItemType.ENUMERATION:
        raise MissingData("Revocation Reason needs a Revocation Reason Code")
    code = int(code_item.value)  # type: ignore[arg-type]
    if code in _COMPROMISE:
        if obj.state == State.DESTROYED:
            obj.set_state(State.DESTROYED_COMPROMISED)
        elif obj.state in (State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED):
            obj.set_state(State.COMPROMISED)
        else:
            raise rules.wrong_state(ctx, "the object is already compromised")
        obj.set_date(COMPROMISE_DATE, Tag.COMPROMISE_DATE, ctx.now)
        occurrence = payload.date_time(Tag.COMPROMISE_OCCURRENCE_DATE)
        obj.set_date(
            COMPROMISE_OCCURRENCE_DATE,
            Tag.COMPROMISE_OCCURRENCE_DATE,
            occurrence if occurrence is not None else ctx.now,
        )
    else:
        if obj.state != State.ACTIVE:
            raise rules.wrong_state(ctx, "only an Active object can be revoked for this reason")
        obj.set_state(State.DEACTIVATED)
        obj.set_date(DEACTIVATION_DATE, Tag.DEACTIVATION_DATE, ctx.now)
    obj.set(REVOCATION_REASON, Item(Tag.REVOCATION_REASON, ItemType.STRUCTURE, reason.value))
    obj.touch(ctx.now)
    save(ctx, obj)
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]


@handler(Operation.DESTROY)
def destroy(ctx: Context, payload: Payload) -> list[Item]:
    """Remove the key material; the metadata stays, in state Destroyed (or Destroyed Compromised)."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    if obj.state == State.ACTIVE:
        raise rules.wrong_state(ctx, "an Active object must be revoked before it is destroyed")
    if obj.state in (State.DESTROYED, State.DESTROYED_COMPROMISED):
        raise rules.wrong_state(ctx, "the object is already destroyed")
    obj.set_state(State.DESTROYED_COMPROMISED if obj.state == State.COMPROMISED else State.DESTROYED)
    obj.set_date(DESTROY_DATE, Tag.DESTROY_DATE, ctx.now)
    obj.stored.body = None
    obj.touch(ctx.now)
    save(ctx, obj)
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid)]


@handler(Operation.RE_KEY)
def rekey(ctx: Context, payload: Payload) -> list[Item]:
    """A new symmetric key replacing an existing one, linked both ways (KMIP 1.4 section 4.4)."""
    old = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)), for_update=True)
    if old.object_type != ObjectType.SYMMETRIC_KEY:
        raise InvalidField("ReKey replaces Symmetric Keys")
    if old.state in (State.DESTROYED, State.DESTROYED_COMPROMISED, State.COMPROMISED):
        raise rules.wrong_state(ctx, "a destroyed or compromised key cannot be re-keyed")
    algorithm_item = old.first("Cryptographic Algorithm")
    length_item = old.first("Cryptographic Length")
    if algorithm_item is None or length_item is None:
        raise InvalidField("the key has no Cryptographic Algorithm or Length to re-key with")
    algorithm = int(algorithm_item.value)  # type: ignore[arg-type]
    length = int(length_item.value)  # type: ignore[arg-type]
    offset = payload.interval(Tag.OFFSET)
    attributes = rules.rekey_attributes(old, ctx.now, offset)
    attributes.extend(checked_request_attributes(ctx, payload))
    uid = new_uid(ctx)
    material = generate_symmetric_key(algorithm, length, ctx.entropy)
    body = symmetric_key_body(algorithm, length, material)
    insert_object(
        ctx,
        uid,
        ObjectType.SYMMETRIC_KEY,
        body,
        attributes,
        server_extra=(rules.rng_attribute(algorithm, length),),
        owner=old.stored.owner,
    )
    old.remove("Name")
    old.add("Link", rules.link(LinkType.REPLACEMENT_OBJECT_LINK, uid))
    old.touch(ctx.now)
    save(ctx, old)
    return [text(Tag.UNIQUE_IDENTIFIER, uid)]


__all__ = ["activate", "create", "destroy", "new_uid", "register", "rekey", "revoke"]
