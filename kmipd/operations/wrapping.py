"""Key wrapping on Get: the Key Wrapping Specification (KMIP 1.4 sections 2.1.5, 4.11; 2.1 section 2.1.6).

A client may ask for a key wrapped under another key it may use: AES key wrap
(RFC 3394 "NIST Key Wrap", RFC 5649 "AES Key Wrap with Padding") under a
symmetric key, or RSA-OAEP / PKCS#1 v1.5 under a public key. The wrapping key
must be usable for Wrap Key now (state, dates, usage mask). Only the Encrypt
wrapping method is offered; MAC/sign wrapping is refused explicitly. The key's
own material never leaves the server unwrapped on this path, which is what
lets a Sensitive key be exported wrapped.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from kmipd.crypto.aead import key_wrap
from kmipd.crypto.asymmetric import rsa_encrypt
from kmipd.crypto.formats import load_public_key
from kmipd.errors import FeatureNotSupported, InvalidField, KMIPError, MissingData
from kmipd.operations.context import Context
from kmipd.operations.cryptoparams import Parameters, effective_parameters, key_block, kmip_errors, symmetric_key
from kmipd.operations.objects import ManagedObject, load
from kmipd.operations.usage import require_usable
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicUsageMask,
    EncodingOption,
    ObjectType,
    ResultReason,
    Tag,
    WrappingMethod,
)
from kmipd.ttlv.codec import encode
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, structure


class KeyWrapTypeNotSupported(KMIPError):
    """A wrapping the server does not perform (2.x reason; 1.x clients get General Failure)."""

    result_reason = ResultReason.KEY_WRAP_TYPE_NOT_SUPPORTED


def _key_bytes(block: Item, encoding: int) -> bytes:
    """What is wrapped: the raw key material, or (TTLV Encoding) the encoded Key Value."""
    value = block.find(Tag.KEY_VALUE)
    if value is None or value.type is not ItemType.STRUCTURE:
        raise FeatureNotSupported("the key is already wrapped")
    if encoding == EncodingOption.TTLV_ENCODING:
        return encode(value)
    material = value.find(Tag.KEY_MATERIAL)
    if material is not None and material.type is ItemType.BYTE_STRING:
        return bytes(material.value)  # type: ignore[arg-type]
    if material is not None and (inner := material.find(Tag.KEY)) is not None:
        return bytes(inner.value)  # type: ignore[arg-type]
    # Structured material (transparent asymmetric keys) travels TTLV-encoded.
    raise InvalidField("this key format can only be wrapped with Encoding Option TTLV Encoding")


def wrap_body(ctx: Context, body: Item, specification: Item) -> Item:
    """``body`` (an object structure) with its Key Block wrapped as ``specification`` says.

    Raises:
        KeyWrapTypeNotSupported: a wrapping method other than Encrypt, or a MAC/Signature key.
        MissingData: no Encryption Key Information.
        ItemNotFound: the wrapping key is not visible to the client.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: it may not wrap now.
    """
    method = specification.find(Tag.WRAPPING_METHOD)
    if method is None or method.value != WrappingMethod.ENCRYPT:
        raise KeyWrapTypeNotSupported("kmipd wraps keys with the Encrypt wrapping method only")
    if specification.find(Tag.MAC_SIGNATURE_KEY_INFORMATION) is not None:
        raise KeyWrapTypeNotSupported("MAC or signature over wrapped keys is not supported")
    if specification.find(Tag.ATTRIBUTE_NAME) is not None:
        raise KeyWrapTypeNotSupported("wrapping attributes together with the key is not supported")
    info = specification.find(Tag.ENCRYPTION_KEY_INFORMATION)
    uid = info.find(Tag.UNIQUE_IDENTIFIER) if info is not None else None
    if info is None or uid is None or uid.type is not ItemType.TEXT_STRING:
        raise MissingData("the Key Wrapping Specification needs Encryption Key Information")
    encoding_item = specification.find(Tag.ENCODING_OPTION)
    encoding = int(encoding_item.value) if encoding_item is not None else EncodingOption.NO_ENCODING  # type: ignore[arg-type]
    block = body.find(Tag.KEY_BLOCK)
    if block is None:
        raise InvalidField("only objects with a Key Block can be wrapped")

    wrapping = load(ctx, str(uid.value))
    require_usable(ctx, wrapping, CryptographicUsageMask.WRAP_KEY, protect=True)
    params = effective_parameters(info.find(Tag.CRYPTOGRAPHIC_PARAMETERS), wrapping)
    with kmip_errors():
        wrapped = _wrap(wrapping, params.block_cipher_mode, params, _key_bytes(block, encoding))

    wrapping_data = structure(
        Tag.KEY_WRAPPING_DATA,
        enumeration(Tag.WRAPPING_METHOD, WrappingMethod.ENCRYPT),
        info,
        enumeration(Tag.ENCODING_OPTION, encoding) if encoding_item is not None else None,
    )
    kept = []
    for child in block.children:
        if child.tag == Tag.KEY_VALUE:
            kept.append(byte_string(Tag.KEY_VALUE, wrapped))
        elif child.tag != Tag.KEY_WRAPPING_DATA:
            kept.append(child)
    kept.append(wrapping_data)
    new_block = Item(block.tag, block.type, tuple(kept))
    return Item(body.tag, body.type, tuple(new_block if c.tag == Tag.KEY_BLOCK else c for c in body.children))


def _wrap(wrapping: ManagedObject, mode: int | None, params: Parameters, data: bytes) -> bytes:
    if wrapping.object_type == ObjectType.SYMMETRIC_KEY:
        if mode not in (None, BlockCipherMode.NISTKEYWRAP, BlockCipherMode.AESKEYWRAPPADDING):
            raise KeyWrapTypeNotSupported("symmetric key wrapping uses NIST Key Wrap or AES Key Wrap with Padding")
        kek = symmetric_key(wrapping).material
        # RFC 3394 needs a multiple of 8 bytes of at least 16; anything else takes RFC 5649.
        padded = mode == BlockCipherMode.AESKEYWRAPPADDING or len(data) % 8 != 0 or len(data) < 16
        transform = key_wrap(kek, padded=padded, wrap=True, iv=None)
        return transform.update(data) + transform.finalize()
    if wrapping.object_type in (ObjectType.PUBLIC_KEY, ObjectType.CERTIFICATE):
        public = load_public_key(key_block(wrapping))
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyWrapTypeNotSupported("asymmetric key wrapping uses RSA public keys")
        return rsa_encrypt(
            public,
            data,
            padding_method=params.padding_method,
            hashing_algorithm=params.hashing_algorithm,
            mgf_hashing_algorithm=params.mask_generator_hashing_algorithm,
            label=params.p_source,
        )
    raise KeyWrapTypeNotSupported("the wrapping key must be a Symmetric Key or an RSA Public Key")
