"""CreateKeyPair, ReKeyKeyPair, Sign, SignatureVerify (KMIP 1.4 sections 4.2, 4.5, 4.31, 4.32; 2.1 section 6.1).

A key pair is two managed objects linked both ways (Public Key Link on the
private key, Private Key Link on the public key). Attributes come from the
Common, Private Key and Public Key Template-Attributes (1.x) or Attributes
(2.x); a key's own list wins over the common one for single-instance
attributes, multi-instance ones are united. Key material is made by
:mod:`kmipd.crypto.asymmetric` and serialised by :mod:`kmipd.crypto.formats`.
"""

from __future__ import annotations

from kmipd.crypto import asymmetric, formats
from kmipd.crypto.errors import BadParameters, CryptoError, UnsupportedParameters
from kmipd.errors import CryptographicFailure, FeatureNotSupported, InvalidField, KMIPError, MissingData
from kmipd.operations import rules
from kmipd.operations.context import Context
from kmipd.operations.lifecycle import insert_object, new_uid
from kmipd.operations.objects import ManagedObject, load, resolve_uid, save
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.operations.usage import require_usable
from kmipd.protocol.attributes import Attribute, parse_attributes_2x, parse_template_attribute
from kmipd.protocol.enums import (
    CryptographicUsageMask,
    LinkType,
    ObjectType,
    Operation,
    ResultReason,
    State,
    Tag,
    ValidityIndicator,
)
from kmipd.protocol.names import attribute_rule
from kmipd.ttlv.codec import decode
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, structure, text

#: (common, private, public) attribute containers of KMIP 1.x and 2.x requests.
_CONTAINERS_1X = (Tag.COMMON_TEMPLATE_ATTRIBUTE, Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE)
_CONTAINERS_2X = (Tag.COMMON_ATTRIBUTES, Tag.PRIVATE_KEY_ATTRIBUTES, Tag.PUBLIC_KEY_ATTRIBUTES)
#: Attributes both keys of a pair SHALL share (KMIP 1.4 Table 168, 2.1 Table 191).
_SHARED = ("Cryptographic Algorithm", "Cryptographic Length", "Cryptographic Domain Parameters")
_DEAD = frozenset({State.DESTROYED, State.DESTROYED_COMPROMISED, State.COMPROMISED})


class BadCryptographicParameters(KMIPError):
    """The Cryptographic Parameters cannot work with this key (1.x clients get Cryptographic Failure)."""

    result_reason = ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS


class UnsupportedCryptographicParameters(KMIPError):
    """The Cryptographic Parameters name something kmipd does not offer (1.x: Cryptographic Failure)."""

    result_reason = ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS


class InvalidObjectType(KMIPError):
    """The object is of a type the operation cannot use (1.x clients get Invalid Field)."""

    result_reason = ResultReason.INVALID_OBJECT_TYPE


def _parameter_error(ctx: Context, exc: CryptoError) -> KMIPError:
    """A signature failure in the client's dialect: 2.x has specific reasons, 1.x only Cryptographic Failure."""
    if ctx.version.major < 2:
        return CryptographicFailure(str(exc))
    if isinstance(exc, UnsupportedParameters):
        return UnsupportedCryptographicParameters(str(exc))
    if isinstance(exc, BadParameters):
        return BadCryptographicParameters(str(exc))
    return CryptographicFailure(str(exc))


def _wrong_type(ctx: Context, message: str) -> KMIPError:
    return InvalidObjectType(message) if ctx.version.major >= 2 else InvalidField(message)


# --------------------------------------------------------------------------- attributes


def _merge(common: list[Attribute], own: list[Attribute]) -> list[Attribute]:
    """The key's own single-instance attributes replace common ones; multi-instance ones are united."""
    own_single = {a.name for a in own if (rule := attribute_rule(a.name)) is not None and not rule.multi_instance}
    return [a for a in common if a.name not in own_single] + own


def _pair_attributes(ctx: Context, payload: Payload) -> tuple[list[Attribute], list[Attribute]]:
    """The private and public key attributes a request asks for, checked like Create's."""
    lists: list[list[Attribute]] = [[], [], []]
    for containers, parse in ((_CONTAINERS_1X, parse_template_attribute), (_CONTAINERS_2X, parse_attributes_2x)):
        for index, tag in enumerate(containers):
            item = payload.structure(tag)
            if item is not None:
                lists[index].extend(parse(item))
    common, private_own, public_own = lists
    private, public = _merge(common, private_own), _merge(common, public_own)
    for attributes in (private, public):
        rules.check_defined(ctx, attributes)
        rules.check_client_settable(attributes, creating=True)
        rules.ensure_unique_names(ctx, attributes)
    if _names(private) & _names(public):
        raise InvalidField("the private and the public key cannot have the same Name")
    for name in _SHARED:
        if [a.value for a in private if a.name == name] != [a.value for a in public if a.name == name]:
            raise InvalidField(f"both keys of a pair need the same {name}")
    return private, public


def _names(attributes: list[Attribute]) -> set[str]:
    values = (a.value.find(Tag.NAME_VALUE) for a in attributes if a.name == "Name")
    return {str(v.value) for v in values if v is not None}


def _first(attributes: list[Attribute], name: str) -> Item | None:
    return next((a.value for a in attributes if a.name == name), None)


def _pair_link(kind: int, target: str) -> Attribute:
    return Attribute("Link", rules.link(kind, target))


def _rng() -> Attribute:
    """Key pairs come from OpenSSL's generator, which KMIP cannot name more precisely than Unspecified."""
    return Attribute(
        "Random Number Generator", structure(Tag.RANDOM_NUMBER_GENERATOR, enumeration(Tag.RNG_ALGORITHM, 1))
    )


def _store_pair(
    ctx: Context,
    key: asymmetric.PrivateKey,
    algorithm: int,
    length: int,
    attributes: tuple[list[Attribute], list[Attribute]],
    owner: str | None = None,
) -> tuple[str, str]:
    """Insert the two objects of ``key``, linked both ways; the ID Placeholder names the private key."""
    private_uid, public_uid = new_uid(ctx), new_uid(ctx)
    private_format, public_format = formats.default_formats(key)
    private_body = structure(
        Tag.PRIVATE_KEY,
        formats.key_block(formats.private_key_material(key, private_format), private_format, algorithm, length),
    )
    public_body = structure(
        Tag.PUBLIC_KEY,
        formats.key_block(
            formats.public_key_material(key.public_key(), public_format), public_format, algorithm, length
        ),
    )
    private_attributes = [*attributes[0], _pair_link(LinkType.PUBLIC_KEY_LINK, public_uid)]
    public_attributes = [*attributes[1], _pair_link(LinkType.PRIVATE_KEY_LINK, private_uid)]
    insert_object(
        ctx, public_uid, ObjectType.PUBLIC_KEY, public_body, public_attributes, server_extra=(_rng(),), owner=owner
    )
    insert_object(
        ctx, private_uid, ObjectType.PRIVATE_KEY, private_body, private_attributes, server_extra=(_rng(),), owner=owner
    )
    ctx.message.id_placeholder = private_uid
    return private_uid, public_uid


def _generate(algorithm: int, length: int | None, curve: int | None) -> tuple[asymmetric.PrivateKey, int]:
    try:
        return asymmetric.generate_private_key(algorithm, length, curve)
    except UnsupportedParameters as exc:
        raise InvalidField(str(exc)) from None
    except BadParameters as exc:
        raise CryptographicFailure(str(exc)) from None


def _curve(domain: Item | None) -> int | None:
    item = None if domain is None else domain.find(Tag.RECOMMENDED_CURVE)
    return None if item is None else int(item.value)  # type: ignore[arg-type]


def _pair_response(private_uid: str, public_uid: str) -> list[Item]:
    return [
        text(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER, private_uid),
        text(Tag.PUBLIC_KEY_UNIQUE_IDENTIFIER, public_uid),
    ]


@handler(Operation.CREATE_KEY_PAIR)
def create_key_pair(ctx: Context, payload: Payload) -> list[Item]:
    """Generate a key pair from the algorithm, length and curve the templates ask for."""
    private, public = _pair_attributes(ctx, payload)
    algorithm_item = _first(private, "Cryptographic Algorithm")
    if algorithm_item is None:
        raise MissingData("CreateKeyPair needs a Cryptographic Algorithm attribute")
    length_item = _first(private, "Cryptographic Length")
    algorithm = int(algorithm_item.value)  # type: ignore[arg-type]
    length = None if length_item is None else int(length_item.value)  # type: ignore[arg-type]
    key, length = _generate(algorithm, length, _curve(_first(private, "Cryptographic Domain Parameters")))
    return _pair_response(*_store_pair(ctx, key, algorithm, length, (private, public)))


# --------------------------------------------------------------------------- re-key


def _linked(obj: ManagedObject, kind: int) -> str | None:
    for link in obj.values("Link"):
        link_type = link.find(Tag.LINK_TYPE)
        target = link.find(Tag.LINKED_OBJECT_IDENTIFIER)
        if link_type is not None and link_type.value == kind and target is not None:
            return str(target.value)
    return None


def _replacement_attributes(
    old: ManagedObject, now: int, offset: int | None, requested: list[Attribute]
) -> list[Attribute]:
    """What the old key passes on (KMIP 1.4 Table 177), overridden by what the request says."""
    copied = rules.rekey_attributes(old, now, offset)
    merged = _merge(copied, requested)
    for name in _SHARED:
        asked = _first(requested, name)
        if asked is not None and asked != old.first(name):
            raise InvalidField(f"a replacement key pair keeps the {name} of the pair it replaces")
    return merged


def _retire(ctx: Context, old: ManagedObject, replacement: str) -> None:
    old.remove("Name")
    old.add("Link", rules.link(LinkType.REPLACEMENT_OBJECT_LINK, replacement))
    old.touch(ctx.now)
    save(ctx, old)


@handler(Operation.RE_KEY_KEY_PAIR)
def rekey_key_pair(ctx: Context, payload: Payload) -> list[Item]:
    """A new key pair like an existing one, replacing it (names move over, links both ways)."""
    old_private = load(ctx, resolve_uid(ctx, payload.find(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER)), for_update=True)
    if old_private.object_type != ObjectType.PRIVATE_KEY:
        raise _wrong_type(ctx, "Re-key Key Pair takes the Unique Identifier of a Private Key")
    public_uid = _linked(old_private, LinkType.PUBLIC_KEY_LINK)
    if public_uid is None:
        raise InvalidField("the private key has no Public Key Link to re-key with")
    old_public = load(ctx, public_uid, for_update=True)
    if old_private.state in _DEAD or old_public.state in _DEAD or old_private.stored.body is None:
        raise rules.wrong_state(ctx, "a destroyed or compromised key pair cannot be re-keyed")
    block = decode(old_private.stored.body).find(Tag.KEY_BLOCK)
    algorithm_item = old_private.first("Cryptographic Algorithm")
    if block is None or algorithm_item is None:
        raise InvalidField("the private key has no Cryptographic Algorithm to re-key with")
    old_key = formats.load_private_key(block)
    curve = formats.recommended_curve(old_key)
    algorithm = int(algorithm_item.value)  # type: ignore[arg-type]
    key, length = _generate(algorithm, None if curve is not None else asymmetric.key_length(old_key), curve)
    private_request, public_request = _pair_attributes(ctx, payload)
    offset = payload.interval(Tag.OFFSET)
    attributes = (
        _replacement_attributes(old_private, ctx.now, offset, private_request),
        _replacement_attributes(old_public, ctx.now, offset, public_request),
    )
    private_uid, new_public_uid = _store_pair(ctx, key, algorithm, length, attributes, owner=old_private.stored.owner)
    _retire(ctx, old_private, private_uid)
    _retire(ctx, old_public, new_public_uid)
    ctx.message.id_placeholder = private_uid
    return _pair_response(private_uid, new_public_uid)


# --------------------------------------------------------------------------- sign / verify


def _check_dates(ctx: Context, obj: ManagedObject, *, protect: bool) -> None:
    """Protect Stop Date ends signing; Process Start Date starts verifying (KMIP 1.4 sections 3.25, 3.26)."""
    if protect:
        stop = obj.number("Protect Stop Date")
        if stop is not None and stop <= ctx.now:
            raise rules.wrong_state(ctx, "the key's Protect Stop Date has passed")
    else:
        start = obj.number("Process Start Date")
        if start is not None and start > ctx.now:
            raise rules.wrong_state(ctx, "the key's Process Start Date has not been reached")


def _enum_field(params: Item, tag: int) -> int | None:
    item = params.find(tag)
    return None if item is None else int(item.value)  # type: ignore[arg-type]


def _signature_parameters(obj: ManagedObject, payload: Payload) -> asymmetric.SignatureParameters:
    """The request's Cryptographic Parameters, else the object's first (KMIP 1.4 section 4.31)."""
    params = payload.structure(Tag.CRYPTOGRAPHIC_PARAMETERS) or obj.first("Cryptographic Parameters")
    if params is None:
        return asymmetric.SignatureParameters()
    salt = params.find(Tag.SALT_LENGTH)
    return asymmetric.SignatureParameters(
        digital_signature_algorithm=_enum_field(params, Tag.DIGITAL_SIGNATURE_ALGORITHM),
        cryptographic_algorithm=_enum_field(params, Tag.CRYPTOGRAPHIC_ALGORITHM),
        padding_method=_enum_field(params, Tag.PADDING_METHOD),
        hashing_algorithm=_enum_field(params, Tag.HASHING_ALGORITHM),
        mask_generator_hashing_algorithm=_enum_field(params, Tag.MASK_GENERATOR_HASHING_ALGORITHM),
        salt_length=None if salt is None else int(salt.value),  # type: ignore[arg-type]
    )


def _message(payload: Payload) -> tuple[bytes, bool]:
    """The Data, or the Digested Data (then True); exactly one of them, in a single-part request."""
    if payload.find(Tag.CORRELATION_VALUE) is not None or payload.boolean(Tag.INIT_INDICATOR) is False:
        raise FeatureNotSupported("multi-part signature operations are not supported")
    if payload.boolean(Tag.INIT_INDICATOR) is True and payload.boolean(Tag.FINAL_INDICATOR) is not True:
        raise FeatureNotSupported("multi-part signature operations are not supported")
    data = payload.find(Tag.DATA)
    digested = payload.find(Tag.DIGESTED_DATA)
    if data is not None and digested is not None:
        raise InvalidField("give Data or Digested Data, not both")
    chosen = data if data is not None else digested
    if chosen is None:
        raise MissingData("the operation needs Data or Digested Data")
    if chosen.type is not ItemType.BYTE_STRING:
        raise InvalidField("Data and Digested Data are Byte Strings")
    return bytes(chosen.value), digested is not None  # type: ignore[arg-type]


def _key_block(obj: ManagedObject) -> Item:
    assert obj.stored.body is not None  # require_usable refused destroyed objects
    block = decode(obj.stored.body).find(Tag.KEY_BLOCK)
    if block is None:
        raise InvalidField("the object has no Key Block")
    return block


@handler(Operation.SIGN, mutates=False)
def sign(ctx: Context, payload: Payload) -> list[Item]:
    """Sign data (or a digest) with an Active private key allowed to Sign."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    if obj.object_type != ObjectType.PRIVATE_KEY:
        raise _wrong_type(ctx, "Sign needs a Private Key")
    require_usable(ctx, obj, CryptographicUsageMask.SIGN, protect=True)
    _check_dates(ctx, obj, protect=True)
    params = _signature_parameters(obj, payload)
    message, prehashed = _message(payload)
    key = formats.load_private_key(_key_block(obj))
    try:
        signature = asymmetric.sign(key, params, message, prehashed=prehashed)
    except CryptoError as exc:
        raise _parameter_error(ctx, exc) from None
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid), byte_string(Tag.SIGNATURE_DATA, signature)]


@handler(Operation.SIGNATURE_VERIFY, mutates=False)
def signature_verify(ctx: Context, payload: Payload) -> list[Item]:
    """Check a signature with a public key (or a certificate's), answering with a Validity Indicator."""
    obj = load(ctx, resolve_uid(ctx, payload.find(Tag.UNIQUE_IDENTIFIER)))
    if obj.object_type not in (ObjectType.PUBLIC_KEY, ObjectType.CERTIFICATE):
        raise _wrong_type(ctx, "Signature Verify needs a Public Key or a Certificate")
    require_usable(ctx, obj, CryptographicUsageMask.VERIFY, protect=False)
    _check_dates(ctx, obj, protect=False)
    params = _signature_parameters(obj, payload)
    signature_item = payload.find(Tag.SIGNATURE_DATA)
    if signature_item is None or signature_item.type is not ItemType.BYTE_STRING:
        raise MissingData("Signature Verify needs Signature Data")
    message, prehashed = _message(payload)
    if obj.object_type == ObjectType.CERTIFICATE:
        assert obj.stored.body is not None
        key = formats.public_key_from_certificate(decode(obj.stored.body))
    else:
        key = formats.load_public_key(_key_block(obj))
    try:
        valid = asymmetric.verify(key, params, bytes(signature_item.value), message, prehashed=prehashed)  # type: ignore[arg-type]
    except CryptoError as exc:
        raise _parameter_error(ctx, exc) from None
    indicator = ValidityIndicator.VALID if valid else ValidityIndicator.INVALID
    return [text(Tag.UNIQUE_IDENTIFIER, obj.uid), enumeration(Tag.VALIDITY_INDICATOR, indicator)]


__all__ = ["create_key_pair", "rekey_key_pair", "sign", "signature_verify"]
