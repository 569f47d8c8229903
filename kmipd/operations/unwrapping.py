"""Register of wrapped key material: unwrap it with the client's key and store the plaintext Key Value.

A Key Block whose Key Value is a Byte String carries Key Wrapping Data (KMIP
1.4 section 2.1.5) naming the keys that wrapped it. kmipd stores keys in
plaintext and uses them itself, so it unwraps on Register: AES key wrap
(RFC 3394 / RFC 5649) under a Symmetric Key, or RSA-OAEP / PKCS#1 v1.5 with a
Private Key (a Public Key named instead stands for its linked Private Key,
since that is what Get reports after wrapping under it). A MAC or signature
is checked first when it covers what was sent (Encrypt then MAC/sign), after
decryption when it covers the plaintext (MAC/sign, MAC/sign then encrypt).

Every key must belong to a client whose objects the caller may use, and allow
Unwrap Key / MAC Verify / Verify now. Any failure to unwrap or authenticate is
Cryptographic Failure with one fixed message, so that an attacker learns
nothing about which check failed; nothing is stored then.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import rsa

from kmipd.crypto.aead import key_wrap
from kmipd.crypto.asymmetric import rsa_decrypt
from kmipd.crypto.errors import AuthenticationFailed, CryptoError
from kmipd.crypto.formats import load_private_key
from kmipd.errors import CryptographicFailure, IllegalOperation, InvalidField, MissingData
from kmipd.operations.context import Context
from kmipd.operations.cryptoparams import effective_parameters, key_block, kmip_errors, symmetric_key
from kmipd.operations.objects import load
from kmipd.operations.usage import require_usable
from kmipd.operations.wrapping import KeyWrapTypeNotSupported, key_value_item, parse_wrapping
from kmipd.operations.wrapping_mac import linked_key, prepare_verifier
from kmipd.protocol.enums import (
    BlockCipherMode,
    CryptographicUsageMask,
    KeyFormatType,
    LinkType,
    ObjectType,
    Tag,
    WrappingMethod,
)
from kmipd.ttlv.item import Item, ItemType

_FAILED = "the wrapped key could not be unwrapped or authenticated"


def _aes_unwrap(kek: bytes, mode: int | None, iv: bytes | None, data: bytes) -> bytes:
    """RFC 3394 or RFC 5649 as the mode says; without a mode, whichever the data authenticates under."""
    if mode not in (None, BlockCipherMode.NISTKEYWRAP, BlockCipherMode.AESKEYWRAPPADDING):
        raise KeyWrapTypeNotSupported("symmetric key unwrapping uses NIST Key Wrap or AES Key Wrap with Padding")
    choices = [mode == BlockCipherMode.AESKEYWRAPPADDING] if mode is not None else [False, True]
    for padded in choices:
        try:
            transform = key_wrap(kek, padded=padded, wrap=False, iv=iv)
            return transform.update(data) + transform.finalize()
        except CryptoError:
            # Both modes carry a 64-bit integrity check: trying the other one cannot accept a forgery.
            if padded == choices[-1]:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _prepare_decryptor(ctx: Context, info: Item, iv: bytes | None) -> Callable[[bytes], bytes]:
    """Load the unwrapping key and check it may Unwrap Key now; return the decryption alone."""
    obj = load(ctx, str(info.find(Tag.UNIQUE_IDENTIFIER).value))  # type: ignore[union-attr]
    if obj.object_type == ObjectType.PUBLIC_KEY:
        private = linked_key(ctx, obj, LinkType.PRIVATE_KEY_LINK)
        if private is None:
            raise IllegalOperation("the Public Key has no Private Key to unwrap with")
        obj = private
    if obj.object_type not in (ObjectType.SYMMETRIC_KEY, ObjectType.PRIVATE_KEY):
        raise IllegalOperation("the unwrapping key must be a Symmetric Key or an RSA Private Key")
    require_usable(ctx, obj, CryptographicUsageMask.UNWRAP_KEY, protect=False)
    params = effective_parameters(info.find(Tag.CRYPTOGRAPHIC_PARAMETERS), obj)
    if obj.object_type == ObjectType.SYMMETRIC_KEY:
        kek = symmetric_key(obj).material
        return lambda data: _aes_unwrap(kek, params.block_cipher_mode, iv, data)
    private_key = load_private_key(key_block(obj))
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise KeyWrapTypeNotSupported("asymmetric key unwrapping uses RSA private keys")
    return lambda data: rsa_decrypt(
        private_key,
        data,
        padding_method=params.padding_method,
        hashing_algorithm=params.hashing_algorithm,
        mgf_hashing_algorithm=params.mask_generator_hashing_algorithm,
        label=params.p_source,
    )


def _bytes_field(item: Item, tag: int) -> bytes | None:
    child = item.find(tag)
    if child is None:
        return None
    if child.type is not ItemType.BYTE_STRING:
        raise InvalidField("MAC/Signature and IV/Counter/Nonce are Byte Strings")
    return bytes(child.value)  # type: ignore[arg-type]


def unwrap_body(ctx: Context, body: Item) -> Item:
    """``body`` with a wrapped Key Block replaced by its plaintext one (unchanged when not wrapped).

    Raises:
        InvalidField: a Byte String Key Value without Key Wrapping Data, or the reverse.
        MissingData: the Wrapping Method authenticates but no MAC/Signature is given.
        KeyWrapTypeNotSupported: TR-31, or a mode or key kmipd cannot unwrap with.
        ItemNotFound: a named key is not visible to the client.
        IncompatibleCryptographicUsageMask / WrongKeyLifecycleState: a key may not be used now.
        CryptographicFailure: the key does not unwrap, or its MAC/signature does not verify.
        EncodingOptionError: the unwrapped bytes are not what the Encoding Option says.
    """
    block = body.find(Tag.KEY_BLOCK)
    if block is None or block.type is not ItemType.STRUCTURE:
        return body
    value = block.find(Tag.KEY_VALUE)
    data_item = block.find(Tag.KEY_WRAPPING_DATA)
    wrapped_value = value is not None and value.type is ItemType.BYTE_STRING
    if data_item is None:
        if wrapped_value:
            raise InvalidField("a Byte String Key Value needs Key Wrapping Data")
        return body
    if value is None or not wrapped_value:
        raise InvalidField("wrapped key material is a Byte String Key Value")
    spec = parse_wrapping(data_item)
    presented = _bytes_field(data_item, Tag.MAC_SIGNATURE)
    if spec.authenticates and presented is None:
        raise MissingData("this Wrapping Method needs the MAC/Signature")
    iv = _bytes_field(data_item, Tag.IV_COUNTER_NONCE)
    # Every key is loaded and checked before anything is computed.
    decryptor = _prepare_decryptor(ctx, spec.encryption, iv) if spec.encryption is not None else None
    verifier = prepare_verifier(ctx, spec.authentication) if spec.authentication is not None else None
    sent = bytes(value.value)  # type: ignore[arg-type]
    try:
        with kmip_errors():
            # Encrypt then MAC/sign covers what was sent: check it before decrypting anything.
            mac_first = spec.method == WrappingMethod.ENCRYPT_THEN_MAC_SIGN
            if verifier is not None and mac_first and not verifier(sent, presented or b""):
                raise AuthenticationFailed(_FAILED)
            plain = decryptor(sent) if decryptor is not None else sent
            if verifier is not None and not mac_first and not verifier(plain, presented or b""):
                raise AuthenticationFailed(_FAILED)
    except CryptographicFailure:
        raise CryptographicFailure(_FAILED) from None
    key_format = block.find(Tag.KEY_FORMAT_TYPE)
    structured = key_format is not None and key_format.value == KeyFormatType.TRANSPARENT_SYMMETRIC_KEY
    plain_value = key_value_item(plain, spec.encoding, structured)
    children = tuple(
        plain_value if c.tag == Tag.KEY_VALUE else c for c in block.children if c.tag != Tag.KEY_WRAPPING_DATA
    )
    new_block = Item(block.tag, block.type, children)
    return Item(body.tag, body.type, tuple(new_block if c.tag == Tag.KEY_BLOCK else c for c in body.children))


__all__ = ["unwrap_body"]
