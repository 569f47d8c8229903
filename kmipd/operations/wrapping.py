"""Key wrapping on Get: the Key Wrapping Specification (KMIP 1.4 sections 2.1.5, 2.1.6, 4.11; 2.1 section 2.1.6).

A client may ask for a key wrapped under keys it may use. Encryption is AES
key wrap (RFC 3394 "NIST Key Wrap", RFC 5649 "AES Key Wrap with Padding")
under a Symmetric Key, or RSA-OAEP / PKCS#1 v1.5 under an RSA Public Key (or
a Certificate's key). Authentication is a MAC (HMAC, or CMAC with an AES or
Triple-DES key) or a signature with a Private Key, see
:mod:`kmipd.operations.wrapping_mac`. All four Wrapping Methods but TR-31 are
offered. What is encrypted and MACed follows KMIP 1.4 section 2.1.5 ("a MAC or
signature of the Key Value"): the Key Value as it stands at that step, i.e.

* MAC/sign: the encoded plaintext Key Value, which is also what is sent;
* Encrypt then MAC/sign: the encrypted Key Value (the Byte String sent);
* MAC/sign then encrypt: the encoded plaintext Key Value, before encryption.

The MAC/Signature travels in the Key Wrapping Data's MAC/Signature field.
The Key Value is encoded as the Encoding Option says; when the option is
absent it is TTLV-encoded, as Table 9 and Table 12 require. Every key taking
part must be usable now (state, dates, usage mask) before anything is
computed, and the key's own material never leaves unencrypted on this path
except with MAC/sign only, which the caller must therefore treat as a plain
release (a Sensitive key is refused it).

The Register side (unwrapping what a client supplies) lives in
:mod:`kmipd.operations.unwrapping`; both share the parsing and key choice here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from kmipd.crypto.aead import key_wrap
from kmipd.crypto.asymmetric import PublicKey, rsa_encrypt
from kmipd.crypto.formats import load_public_key, public_key_from_certificate
from kmipd.errors import FeatureNotSupported, IllegalOperation, InvalidField, KMIPError, MissingData, Sensitive
from kmipd.operations.context import Context
from kmipd.operations.cryptoparams import effective_parameters, key_block, kmip_errors, symmetric_key
from kmipd.operations.objects import ManagedObject, load
from kmipd.operations.usage import require_usable
from kmipd.operations.wrapping_mac import prepare_signer
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicUsageMask,
    EncodingOption,
    ObjectType,
    ResultReason,
    Tag,
    WrappingMethod,
)
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, structure

#: Wrapping Methods that encrypt the Key Value, and those that MAC or sign it.
ENCRYPTING = frozenset(
    {WrappingMethod.ENCRYPT, WrappingMethod.ENCRYPT_THEN_MAC_SIGN, WrappingMethod.MAC_SIGN_THEN_ENCRYPT}
)
AUTHENTICATING = frozenset(
    {WrappingMethod.MAC_SIGN, WrappingMethod.ENCRYPT_THEN_MAC_SIGN, WrappingMethod.MAC_SIGN_THEN_ENCRYPT}
)


class KeyWrapTypeNotSupported(KMIPError):
    """A wrapping the server does not perform (2.x reason; 1.x clients get General Failure)."""

    result_reason = ResultReason.KEY_WRAP_TYPE_NOT_SUPPORTED


class EncodingOptionError(KMIPError):
    """The key cannot be given (or was not given) in the Encoding Option named (KMIP 1.4 Tables 330, 338)."""

    result_reason = ResultReason.ENCODING_OPTION_ERROR


@dataclass(frozen=True, slots=True)
class Wrapping:
    """The fields a Key Wrapping Specification and a Key Wrapping Data structure share."""

    method: int
    encryption: Item | None
    authentication: Item | None
    encoding: int
    encoding_given: bool

    @property
    def encrypts(self) -> bool:
        """Whether the Key Value is (to be) encrypted."""
        return self.method in ENCRYPTING

    @property
    def authenticates(self) -> bool:
        """Whether the Key Value is (to be) MACed or signed."""
        return self.method in AUTHENTICATING


def _key_information(item: Item | None, what: str) -> Item | None:
    if item is None:
        return None
    uid = item.find(Tag.UNIQUE_IDENTIFIER)
    if item.type is not ItemType.STRUCTURE or uid is None or uid.type is not ItemType.TEXT_STRING:
        raise InvalidField(f"{what} needs a Unique Identifier")
    return item


def parse_wrapping(item: Item) -> Wrapping:
    """Read a Key Wrapping Specification or Key Wrapping Data and check its fields fit its method.

    Raises:
        KeyWrapTypeNotSupported: TR-31, an unknown method, or attributes to wrap with the key.
        MissingData / InvalidField: the key information the method needs is absent, or superfluous.
    """
    method_item = item.find(Tag.WRAPPING_METHOD)
    if method_item is None or method_item.type is not ItemType.ENUMERATION:
        raise MissingData("key wrapping needs a Wrapping Method")
    method = int(method_item.value)  # type: ignore[arg-type]
    if method not in ENCRYPTING | AUTHENTICATING:
        raise KeyWrapTypeNotSupported("kmipd wraps keys by encryption and/or MAC/signature, not TR-31")
    if item.find(Tag.ATTRIBUTE_NAME) is not None:
        raise KeyWrapTypeNotSupported("wrapping attributes together with the key is not supported")
    encryption = _key_information(item.find(Tag.ENCRYPTION_KEY_INFORMATION), "Encryption Key Information")
    authentication = _key_information(item.find(Tag.MAC_SIGNATURE_KEY_INFORMATION), "MAC/Signature Key Information")
    wrapping = Wrapping(method, encryption, authentication, EncodingOption.TTLV_ENCODING, False)
    if wrapping.encrypts and encryption is None:
        raise MissingData("this Wrapping Method needs Encryption Key Information")
    if wrapping.authenticates and authentication is None:
        raise MissingData("this Wrapping Method needs MAC/Signature Key Information")
    if (encryption is not None and not wrapping.encrypts) or (
        authentication is not None and not wrapping.authenticates
    ):
        raise InvalidField("the key information does not fit the Wrapping Method")
    encoding = item.find(Tag.ENCODING_OPTION)
    if encoding is not None:
        if encoding.type is not ItemType.ENUMERATION or encoding.value not in set(EncodingOption):
            raise EncodingOptionError("the Encoding Option is No Encoding or TTLV Encoding")
        return Wrapping(method, encryption, authentication, int(encoding.value), True)
    return wrapping


# --------------------------------------------------------------------------- the Key Value as bytes


def key_value_bytes(block: Item, encoding: int) -> bytes:
    """What is wrapped: the raw key material (No Encoding), or the TTLV-encoded Key Value.

    Raises:
        FeatureNotSupported: the key is stored wrapped.
        EncodingOptionError: structured material cannot travel with No Encoding.
    """
    value = block.find(Tag.KEY_VALUE)
    if value is None or value.type is not ItemType.STRUCTURE:
        raise FeatureNotSupported("the key is already wrapped")
    if encoding == EncodingOption.TTLV_ENCODING:
        return encode(value)
    if any(child.tag == Tag.ATTRIBUTE for child in value.children):
        raise EncodingOptionError("a Key Value with attributes can only be wrapped TTLV-encoded")
    material = value.find(Tag.KEY_MATERIAL)
    if material is not None and material.type is ItemType.BYTE_STRING:
        return bytes(material.value)  # type: ignore[arg-type]
    if material is not None and (inner := material.find(Tag.KEY)) is not None and len(material.children) == 1:
        return bytes(inner.value)  # type: ignore[arg-type]
    raise EncodingOptionError("this key format can only be wrapped with Encoding Option TTLV Encoding")


def key_value_item(data: bytes, encoding: int, structured_material: bool) -> Item:
    """The plaintext Key Value structure that ``data`` (unwrapped bytes) encodes.

    Raises:
        EncodingOptionError: the bytes are not a TTLV Key Value although the option says so.
    """
    if encoding == EncodingOption.TTLV_ENCODING:
        try:
            value = decode(data)
        except ValueError:
            raise EncodingOptionError("the unwrapped Key Value is not TTLV-encoded") from None
        if value.tag != Tag.KEY_VALUE or value.type is not ItemType.STRUCTURE:
            raise EncodingOptionError("the unwrapped TTLV item is not a Key Value structure")
        return value
    if structured_material:  # Transparent Symmetric Key: the bytes are its Key
        return structure(Tag.KEY_VALUE, structure(Tag.KEY_MATERIAL, byte_string(Tag.KEY, data)))
    return structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, data))


# --------------------------------------------------------------------------- encryption


def _public_key(obj: ManagedObject) -> PublicKey:
    if obj.object_type == ObjectType.CERTIFICATE:
        assert obj.stored.body is not None  # require_usable refused destroyed objects
        return public_key_from_certificate(decode(obj.stored.body))
    return load_public_key(key_block(obj))


def _with_mode(info: Item, mode: int) -> Item:
    """``info`` stating the AES key wrap mode actually used, so that the receiver can unwrap."""
    params = info.find(Tag.CRYPTOGRAPHIC_PARAMETERS)
    kept = tuple(c for c in (params.children if params is not None else ()) if c.tag != Tag.BLOCK_CIPHER_MODE)
    new_params = structure(Tag.CRYPTOGRAPHIC_PARAMETERS, enumeration(Tag.BLOCK_CIPHER_MODE, mode), *kept)
    rest = tuple(c for c in info.children if c.tag != Tag.CRYPTOGRAPHIC_PARAMETERS)
    return Item(info.tag, info.type, (*rest, new_params))


def encrypt_key_value(ctx: Context, info: Item, data: bytes) -> tuple[bytes, Item]:
    """Encrypt ``data`` under the key ``info`` names; also return the Encryption Key Information to report.

    Without a Block Cipher Mode, or with NIST Key Wrap for data RFC 3394 cannot take (not a
    multiple of 8 bytes, or under 16), AES Key Wrap with Padding is used, and the reported
    Cryptographic Parameters say so.

    Raises:
        ItemNotFound: the wrapping key is not visible to the client.
        IllegalOperation: the object cannot wrap keys.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: it may not wrap now.
    """
    wrapping = load(ctx, str(info.find(Tag.UNIQUE_IDENTIFIER).value))  # type: ignore[union-attr]
    if wrapping.object_type not in (ObjectType.SYMMETRIC_KEY, ObjectType.PUBLIC_KEY, ObjectType.CERTIFICATE):
        raise IllegalOperation("the wrapping key must be a Symmetric Key, an RSA Public Key or a Certificate")
    require_usable(ctx, wrapping, CryptographicUsageMask.WRAP_KEY, protect=True)
    params = effective_parameters(info.find(Tag.CRYPTOGRAPHIC_PARAMETERS), wrapping)
    with kmip_errors():
        if wrapping.object_type == ObjectType.SYMMETRIC_KEY:
            mode = params.block_cipher_mode
            if mode not in (None, BlockCipherMode.NISTKEYWRAP, BlockCipherMode.AESKEYWRAPPADDING):
                raise KeyWrapTypeNotSupported("symmetric key wrapping uses NIST Key Wrap or AES Key Wrap with Padding")
            kek = symmetric_key(wrapping).material
            # RFC 3394 needs a multiple of 8 bytes of at least 16; anything else takes RFC 5649.
            padded = mode == BlockCipherMode.AESKEYWRAPPADDING or len(data) % 8 != 0 or len(data) < 16
            transform = key_wrap(kek, padded=padded, wrap=True, iv=None)
            used = BlockCipherMode.AESKEYWRAPPADDING if padded else BlockCipherMode.NISTKEYWRAP
            return transform.update(data) + transform.finalize(), _with_mode(info, used)
        public = _public_key(wrapping)
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyWrapTypeNotSupported("asymmetric key wrapping uses RSA public keys")
        wrapped = rsa_encrypt(
            public,
            data,
            padding_method=params.padding_method,
            hashing_algorithm=params.hashing_algorithm,
            mgf_hashing_algorithm=params.mask_generator_hashing_algorithm,
            label=params.p_source,
        )
    return wrapped, info


# --------------------------------------------------------------------------- Get


def wrap_body(ctx: Context, body: Item, specification: Item, *, sensitive: bool | None = None) -> Item:
    """``body`` (an object structure) with its Key Block wrapped as ``specification`` says.

    Args:
        sensitive: whether the object is Sensitive. MAC/sign only sends the key readable, so it
            is done only for an object the caller states is not Sensitive (None: not known).

    Raises:
        KeyWrapTypeNotSupported: TR-31, or MAC/sign only for an object not known to be non-Sensitive.
        Sensitive: MAC/sign only for a Sensitive object.
        MissingData / InvalidField: the key information does not fit the method.
        ItemNotFound: a wrapping key is not visible to the client.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: a key may not be used now.
        EncodingOptionError: the key cannot be given with the Encoding Option asked for.
    """
    spec = parse_wrapping(specification)
    block = body.find(Tag.KEY_BLOCK)
    if block is None:
        raise InvalidField("only objects with a Key Block can be wrapped")
    if not spec.encrypts and sensitive is not False:
        if sensitive:
            raise Sensitive("a Sensitive key leaves the server only encrypted, not MACed or signed alone")
        raise KeyWrapTypeNotSupported("MAC/sign only wrapping is not available for this request")
    plain = key_value_bytes(block, spec.encoding)
    # Every key is loaded and checked before anything is computed.
    signer = prepare_signer(ctx, spec.authentication) if spec.authentication is not None else None
    value, encryption_info, signature = plain, None, None
    if spec.encryption is not None:
        value, encryption_info = encrypt_key_value(ctx, spec.encryption, plain)
    if signer is not None:
        # MAC/sign then encrypt authenticates the plaintext; the other two what is sent.
        signature = signer(plain if spec.method == WrappingMethod.MAC_SIGN_THEN_ENCRYPT else value)

    wrapping_data = structure(
        Tag.KEY_WRAPPING_DATA,
        enumeration(Tag.WRAPPING_METHOD, spec.method),
        encryption_info,
        spec.authentication,
        byte_string(Tag.MAC_SIGNATURE, signature) if signature is not None else None,
        enumeration(Tag.ENCODING_OPTION, spec.encoding) if spec.encoding_given else None,
    )
    kept = []
    for child in block.children:
        if child.tag == Tag.KEY_VALUE:
            kept.append(byte_string(Tag.KEY_VALUE, value))
        elif child.tag != Tag.KEY_WRAPPING_DATA:
            kept.append(child)
    kept.append(wrapping_data)
    new_block = Item(block.tag, block.type, tuple(kept))
    return Item(body.tag, body.type, tuple(new_block if c.tag == Tag.KEY_BLOCK else c for c in body.children))


__all__ = [
    "EncodingOptionError",
    "KeyWrapTypeNotSupported",
    "Wrapping",
    "encrypt_key_value",
    "key_value_bytes",
    "key_value_item",
    "parse_wrapping",
    "wrap_body",
]
