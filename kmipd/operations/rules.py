"""Attribute rules shared by the operations: who may set what, and what the server sets itself.

The rules come from the spec's attribute tables (``spec_tables.ATTRIBUTES``):
an attribute "initially set by the server" cannot be supplied by a client,
one not "modifiable by client" cannot be changed with ModifyAttribute, and
so on. A few server-maintained attributes that clients commonly echo back
(Object Type, Unique Identifier) are tolerated on create and ignored.
"""

from __future__ import annotations

import hashlib

from kmipd.errors import (
    AttributeReadOnly,
    InvalidField,
    KMIPError,
    NonUniqueName,
    PermissionDenied,
    WrongKeyLifecycleState,
)
from kmipd.operations.context import Context
from kmipd.operations.objects import ManagedObject
from kmipd.operations.payload import Payload
from kmipd.protocol.attributes import Attribute, defined_in, parse_attributes_2x, parse_template_attribute, search_key
from kmipd.protocol.enums import CryptographicAlgorithm, KeyFormatType, LinkType, ObjectType, State, Tag
from kmipd.protocol.names import attribute_rule
from kmipd.store.interface import AttributeFilter, LocateQuery
from kmipd.ttlv.item import Item, ItemType, boolean, date_time, enumeration, integer, structure, text

#: Attributes a create request may carry but the server sets itself (ignored when sent).
SERVER_ONLY_ON_CREATE = frozenset(
    {
        "Unique Identifier",
        "Short Unique Identifier",
        "Object Type",
        "State",
        "Initial Date",
        "Last Change Date",
        "Original Creation Date",
        "Key Format Type",
        "Fresh",
        "Digest",
        "Always Sensitive",
        "Never Extractable",
        "Random Number Generator",
        "Lease Time",
        "Certificate Type",
        "Protection Storage Mask",
    }
)

#: Attributes only the server may ever change, whatever the tables allow.
PROTECTED = frozenset(
    {
        "Unique Identifier",
        "Short Unique Identifier",
        "Object Type",
        "State",
        "Initial Date",
        "Last Change Date",
        "Destroy Date",
        "Compromise Date",
        "Compromise Occurrence Date",
        "Revocation Reason",
        "Original Creation Date",
        "Key Value Present",
        "Fresh",
        "Digest",
        "Key Format Type",
        "Always Sensitive",
        "Never Extractable",
        "Lease Time",
        "Random Number Generator",
        "Certificate Type",
        "Protection Storage Mask",
    }
)

#: Seconds a client may retain a key it obtained (the Lease Time attribute).
LEASE_TIME = 3600

#: Server defaults a create request may override.
CLIENT_OVERRIDABLE = frozenset({"Sensitive", "Extractable"})

_DATES_COPIED_ON_REKEY = ("Activation Date", "Process Start Date", "Protect Stop Date", "Deactivation Date")
_NOT_COPIED_ON_REKEY = frozenset(
    {
        "Unique Identifier",
        "Short Unique Identifier",
        "Initial Date",
        "Destroy Date",
        "Compromise Occurrence Date",
        "Compromise Date",
        "Revocation Reason",
        "State",
        "Last Change Date",
        "Link",
        "Digest",
        "Original Creation Date",
        "Fresh",
        "Object Type",
        "Usage Limits",
        "Random Number Generator",
        *_DATES_COPIED_ON_REKEY,
    }
)


def wrong_state(ctx: Context, message: str) -> KMIPError:
    """The lifecycle error in the client's dialect: Wrong Key Lifecycle State (2.x) or Permission Denied (1.x).

    The OASIS 1.4 test cases (SKLC-M-2-14: Destroy of an Active key) expect Permission Denied."""
    if ctx.version.major >= 2:
        return WrongKeyLifecycleState(message)
    return PermissionDenied(message)


def request_attributes(payload: Payload) -> list[Attribute]:
    """Attributes of a Create/Register/ReKey request, in either model."""
    attributes: list[Attribute] = []
    for tag in (Tag.TEMPLATE_ATTRIBUTE, Tag.COMMON_TEMPLATE_ATTRIBUTE):
        item = payload.structure(tag)
        if item is not None:
            attributes.extend(parse_template_attribute(item))
    item = payload.structure(Tag.ATTRIBUTES)
    if item is not None:
        attributes.extend(parse_attributes_2x(item))
    return attributes


def check_defined(ctx: Context, attributes: list[Attribute]) -> None:
    """Refuse attributes the client's protocol version does not define (it could never read them back).

    Raises:
        InvalidField: an attribute introduced after, or removed before, the client's version.
    """
    for attribute in attributes:
        if not defined_in(attribute.name, ctx.version):
            raise InvalidField(f"KMIP {ctx.version} does not define the attribute '{attribute.name}'")


def check_client_settable(attributes: list[Attribute], *, creating: bool) -> None:
    """Refuse attributes a client may not supply, and duplicates of single-instance ones.

    Raises:
        InvalidField: a server-only attribute, or two values of a single-instance attribute.
    """
    seen: set[str] = set()
    for attribute in attributes:
        name = attribute.name
        rule = attribute_rule(name)
        if rule is None:
            continue
        if creating and name in SERVER_ONLY_ON_CREATE:
            continue
        if name in PROTECTED or (
            rule.initially_set_by_server_only and name not in ("Cryptographic Algorithm", "Cryptographic Length")
        ):
            raise InvalidField(f"the attribute '{name}' is set by the server")
        if not rule.multi_instance:
            if name in seen:
                raise InvalidField(f"the attribute '{name}' takes a single value")
            seen.add(name)


def check_modifiable(name: str, *, deleting: bool = False) -> None:
    """Refuse changes a client may not make to an existing object's attribute.

    Raises:
        PermissionDenied: the attribute is read-only (or not deletable) for clients.
    """
    rule = attribute_rule(name)
    if rule is None:
        return
    if name in PROTECTED:
        raise AttributeReadOnly(f"the attribute '{name}' is read-only")
    if deleting and not rule.deletable_by_client:
        raise AttributeReadOnly(f"the attribute '{name}' cannot be deleted by a client")
    if not deleting and not rule.modifiable_by_client:
        raise AttributeReadOnly(f"the attribute '{name}' cannot be changed by a client")


def ensure_unique_names(ctx: Context, attributes: list[Attribute], *, exclude: str | None = None) -> None:
    """A Name must not already belong to a live object the client can see (KMIP 1.4 section 3.2).

    Uniqueness is checked within what the client can see: checking across
    owners would tell a client that another tenant's object exists.

    Raises:
        NonUniqueName: the name is taken (by another object, or already by this one).
    """
    for attribute in attributes:
        if attribute.name != "Name":
            continue
        search, _ = search_key(attribute)
        query = LocateQuery(
            owners=ctx.access.visible_owners(ctx.identity),
            filters=(AttributeFilter("Name", search=search),),
        )
        for row in ctx.tx.locate(query):
            if row.uid != exclude and row.state not in (State.DESTROYED, State.DESTROYED_COMPROMISED):
                raise NonUniqueName(f"the name '{search}' is already in use")


def _key_block(body: Item) -> Item | None:
    return body.find(Tag.KEY_BLOCK)


def server_attributes(uid: str, object_type: int, now: int, body: Item) -> list[Attribute]:
    """What the server records on every new object."""
    attributes = [
        Attribute("Unique Identifier", text(Tag.UNIQUE_IDENTIFIER, uid)),
        # KMIP 2.x: "SHOULD be generated as a SHA-256 hash of the Unique Identifier".
        Attribute(
            "Short Unique Identifier",
            Item(Tag.SHORT_UNIQUE_IDENTIFIER, ItemType.BYTE_STRING, hashlib.sha256(uid.encode()).digest()),
        ),
        Attribute("Object Type", enumeration(Tag.OBJECT_TYPE, object_type)),
        Attribute("State", enumeration(Tag.STATE, State.PRE_ACTIVE)),
        Attribute("Initial Date", date_time(Tag.INITIAL_DATE, now)),
        Attribute("Last Change Date", date_time(Tag.LAST_CHANGE_DATE, now)),
        Attribute("Original Creation Date", date_time(Tag.ORIGINAL_CREATION_DATE, now)),
    ]
    attributes.append(
        # kmipd keeps objects in software (its database), not in an HSM.
        Attribute("Protection Storage Mask", Item(Tag.PROTECTION_STORAGE_MASK, ItemType.INTEGER, 1))
    )
    certificate_type = body.find(Tag.CERTIFICATE_TYPE) if object_type == ObjectType.CERTIFICATE else None
    if certificate_type is not None:
        attributes.append(Attribute("Certificate Type", certificate_type))
    block = _key_block(body)
    if block is not None:
        for tag, name in (
            (Tag.CRYPTOGRAPHIC_ALGORITHM, "Cryptographic Algorithm"),
            (Tag.CRYPTOGRAPHIC_LENGTH, "Cryptographic Length"),
        ):
            item = block.find(tag)
            if item is not None:
                attributes.append(Attribute(name, item))
        key_format = block.find(Tag.KEY_FORMAT_TYPE)
        if key_format is not None:
            attributes.append(Attribute("Key Format Type", key_format))
        material = _material_bytes(block)
        if material is not None:
            attributes.append(
                Attribute(
                    "Digest",
                    structure(
                        Tag.DIGEST,
                        enumeration(Tag.HASHING_ALGORITHM, 6),  # SHA-256
                        Item(Tag.DIGEST_VALUE, ItemType.BYTE_STRING, hashlib.sha256(material).digest()),
                        key_format,
                    ),
                )
            )
    attributes.append(Attribute("Fresh", boolean(Tag.FRESH, True)))
    if block is not None:
        # Key-protection attributes (KMIP 1.4): kmipd does not mark keys sensitive by itself.
        attributes += [
            # kmipd grants every client the same lease: it may keep the key for an hour.
            Attribute("Lease Time", Item(Tag.LEASE_TIME, ItemType.INTERVAL, LEASE_TIME)),
            Attribute("Sensitive", boolean(Tag.SENSITIVE, False)),
            Attribute("Always Sensitive", boolean(Tag.ALWAYS_SENSITIVE, False)),
            Attribute("Extractable", boolean(Tag.EXTRACTABLE, True)),
            Attribute("Never Extractable", boolean(Tag.NEVER_EXTRACTABLE, False)),
        ]
    return attributes


def quantum_safe(algorithm: int, length: int) -> bool:
    """Whether a symmetric key keeps at least 128-bit security against a quantum adversary (Grover halves it)."""
    return algorithm != CryptographicAlgorithm.TRIPLE_DES and length >= 256


def rng_attribute(algorithm: int, length: int) -> Attribute:
    """The Random Number Generator that made a server-generated key.

    Key bytes come from the operating system's CSPRNG, which is not one of the
    generators KMIP can name precisely, so the algorithm is "Unspecified".
    """
    return Attribute(
        "Random Number Generator",
        structure(
            Tag.RANDOM_NUMBER_GENERATOR,
            enumeration(Tag.RNG_ALGORITHM, 1),  # Unspecified
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ),
    )


def _material_bytes(block: Item) -> bytes | None:
    value = block.find(Tag.KEY_VALUE)
    if value is None:
        return None
    if value.type is ItemType.BYTE_STRING:  # wrapped key material
        return bytes(value.value)  # type: ignore[arg-type]
    material = value.find(Tag.KEY_MATERIAL)
    if material is not None and material.type is ItemType.BYTE_STRING:
        return bytes(material.value)  # type: ignore[arg-type]
    return None


def validate_body(object_type: int, body: Item) -> Item:
    """Check the shape of a registered object and drop what must not be stored with it.

    Key Value structures may carry 1.x attributes; they are removed (clients
    such as Veeam reject them on Get, and attributes live beside the object).

    Raises:
        InvalidField: the object lacks the fields its type requires.
    """
    if object_type == ObjectType.CERTIFICATE:
        if body.find(Tag.CERTIFICATE_VALUE) is None:
            raise InvalidField("a Certificate needs a Certificate Value")
        return body
    if object_type == ObjectType.OPAQUE_OBJECT:
        if body.find(Tag.OPAQUE_DATA_TYPE) is None or body.find(Tag.OPAQUE_DATA_VALUE) is None:
            raise InvalidField("an Opaque Object needs Opaque Data Type and Opaque Data Value")
        return body
    if object_type == ObjectType.SECRET_DATA and body.find(Tag.SECRET_DATA_TYPE) is None:
        raise InvalidField("Secret Data needs a Secret Data Type")
    block = _key_block(body)
    if block is None or block.type is not ItemType.STRUCTURE:
        raise InvalidField("the object needs a Key Block")
    key_format = block.find(Tag.KEY_FORMAT_TYPE)
    value = block.find(Tag.KEY_VALUE)
    if key_format is None or key_format.type is not ItemType.ENUMERATION or value is None:
        raise InvalidField("the Key Block needs a Key Format Type and a Key Value")
    if object_type == ObjectType.SYMMETRIC_KEY and key_format.value in (
        KeyFormatType.RAW,
        KeyFormatType.OPAQUE,
    ):
        material = value.find(Tag.KEY_MATERIAL) if value.type is ItemType.STRUCTURE else None
        if value.type is ItemType.STRUCTURE and (material is None or material.type is not ItemType.BYTE_STRING):
            raise InvalidField("a Raw symmetric key needs Key Material bytes")
    if value.type is ItemType.STRUCTURE:
        kept = tuple(c for c in value.children if c.tag != Tag.ATTRIBUTE)
        value = Item(value.tag, value.type, kept)
        children = tuple(
            value if c.tag == Tag.KEY_VALUE else c
            for c in block.children
            if c.tag != Tag.KEY_COMPRESSION_TYPE or body.tag != Tag.SYMMETRIC_KEY
        )
        block = Item(block.tag, block.type, children)
        body = Item(body.tag, body.type, tuple(block if c.tag == Tag.KEY_BLOCK else c for c in body.children))
    return body


def attributes_from_body(object_type: int, body: Item, attributes: list[Attribute]) -> list[Attribute]:
    """Client attributes, minus the algorithm and length the Key Block already states."""
    block = _key_block(body)
    if block is None:
        return attributes
    stated = {
        name
        for tag, name in (
            (Tag.CRYPTOGRAPHIC_ALGORITHM, "Cryptographic Algorithm"),
            (Tag.CRYPTOGRAPHIC_LENGTH, "Cryptographic Length"),
        )
        if block.find(tag)
    }
    return [a for a in attributes if a.name not in stated]


def link(kind: int, target: str) -> Item:
    """A Link attribute value of type ``kind`` (a Link Type) pointing at ``target``."""
    return structure(Tag.LINK, enumeration(Tag.LINK_TYPE, kind), text(Tag.LINKED_OBJECT_IDENTIFIER, target))


def rekey_attributes(old: ManagedObject, now: int, offset: int | None) -> list[Attribute]:
    """The replacement key's attributes (KMIP 1.4 section 4.4): copied, with dates shifted by ``offset``."""
    attributes = [a for a in old.attributes if a.name not in _NOT_COPIED_ON_REKEY]
    attributes.append(Attribute("Link", link(LinkType.REPLACED_OBJECT_LINK, old.uid)))
    old_activation = old.number("Activation Date")
    old_initial = old.number("Initial Date")
    for name in _DATES_COPIED_ON_REKEY:
        value = old.number(name)
        if value is None:
            continue
        if offset is not None and old_activation is not None:
            # New date = new initial date + offset + (old date - old activation date).
            value = now + offset + (value - old_activation)
        elif offset is not None and old_initial is not None:
            value = now + offset + (value - old_initial)
        tag = attribute_rule(name).tag  # type: ignore[union-attr]
        attributes.append(Attribute(name, date_time(tag, value)))
    if offset is not None and old_activation is None:
        attributes.append(Attribute("Activation Date", date_time(Tag.ACTIVATION_DATE, now + offset)))
    return attributes
