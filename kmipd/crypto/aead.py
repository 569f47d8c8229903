"""Authenticated encryption (AES-GCM, ChaCha20-Poly1305) and AES key wrap (RFC 3394, RFC 5649).

Everything cryptographic is `cryptography`'s; this module only adapts it to
KMIP's parameters: tag lengths in bytes (KMIP's Tag Length), truncated tags,
IVs of any length GCM allows, and multi-part use. Decryption never releases
plaintext before the tag has been checked.
"""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import keywrap
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from kmipd.crypto.errors import (
    AuthenticationFailed,
    BadParameters,
    DataLengthError,
    InvalidTagLength,
    MissingTag,
    UnsupportedParameters,
)
from kmipd.crypto.transform import BufferedTransform, CipherTransform, Transform, block_algorithm
from kmipd.protocol.enums import CryptographicAlgorithm

#: Tag lengths (bytes) accepted for AES-GCM, after NIST SP 800-38D section 5.2.1.2 (128 to 96 bits,
#: and 64 and 32 bits for the applications that can afford them); the same bounds for ChaCha20-Poly1305.
ALLOWED_TAG_LENGTHS = frozenset({4, 8, 12, 13, 14, 15, 16})
DEFAULT_TAG_LENGTH = 16
#: The IV length GCM is designed around (SP 800-38D section 8.2), used when the server makes one.
GCM_IV_LENGTH = 12
#: The IV lengths `cryptography`'s GCM accepts.
GCM_IV_MIN, GCM_IV_MAX = 8, 128
CHACHA20POLY1305_NONCE_LENGTH = 12
_FULL_TAG = 16
#: The alternative initial values of RFC 3394 section 2.2.3.1 and RFC 5649 section 3.
_KW_IV = bytes.fromhex("a6a6a6a6a6a6a6a6")
_KWP_IV_PREFIX = bytes.fromhex("a65959a6")


def check_tag_length(length: int) -> int:
    """``length`` when it is an allowed tag length.

    Raises:
        InvalidTagLength: it is not.
    """
    if length not in ALLOWED_TAG_LENGTHS:
        allowed = ", ".join(str(n) for n in sorted(ALLOWED_TAG_LENGTHS))
        raise InvalidTagLength(f"the Tag Length must be one of {allowed} bytes, not {length}")
    return length


def _gcm_mode(iv: bytes, tag: bytes | None = None) -> modes.GCM:
    try:
        return modes.GCM(iv, tag, min_tag_length=len(tag) if tag is not None else _FULL_TAG)
    except ValueError:
        raise BadParameters(f"a GCM IV is {GCM_IV_MIN} to {GCM_IV_MAX} bytes, not {len(iv)}") from None


def gcm_encryptor(key: bytes, iv: bytes, aad: bytes | None, tag_length: int | None) -> Transform:
    """AES-GCM encryption; the transform's ``tag`` holds the (possibly truncated) tag once finalized."""
    length = check_tag_length(DEFAULT_TAG_LENGTH if tag_length is None else tag_length)
    context = Cipher(block_algorithm(CryptographicAlgorithm.AES, key), _gcm_mode(iv)).encryptor()
    if aad:
        context.authenticate_additional_data(aad)
    return CipherTransform(context, tag_length=length)


def _expected_tag(tag: bytes | None, tag_length: int | None) -> bytes:
    if tag is None:
        raise MissingTag("authenticated decryption needs the Authenticated Encryption Tag")
    if tag_length is not None:
        check_tag_length(tag_length)
        if len(tag) != tag_length:
            raise AuthenticationFailed("the data is not authentic")
    check_tag_length(len(tag))
    return tag


def gcm_decryptor(key: bytes, iv: bytes, aad: bytes | None, tag: bytes | None, tag_length: int | None) -> Transform:
    """AES-GCM decryption against ``tag``; the plaintext is released by ``finalize`` once the tag checks out."""
    tag = _expected_tag(tag, tag_length)
    context = Cipher(block_algorithm(CryptographicAlgorithm.AES, key), _gcm_mode(iv, tag)).decryptor()
    if aad:
        context.authenticate_additional_data(aad)
    return CipherTransform(context, hold=True)


def _chacha20poly1305(key: bytes, nonce: bytes) -> ChaCha20Poly1305:
    if len(nonce) != CHACHA20POLY1305_NONCE_LENGTH:
        raise BadParameters(f"a ChaCha20-Poly1305 nonce is 12 bytes, not {len(nonce)}")
    try:
        return ChaCha20Poly1305(key)
    except ValueError:
        raise BadParameters(f"a ChaCha20-Poly1305 key is 32 bytes, not {len(key)}") from None


def chacha20poly1305_encryptor(key: bytes, nonce: bytes, aad: bytes | None, tag_length: int | None) -> Transform:
    """ChaCha20-Poly1305 (RFC 8439) encryption; the tag is truncated to ``tag_length`` when asked."""
    length = check_tag_length(DEFAULT_TAG_LENGTH if tag_length is None else tag_length)
    aead = _chacha20poly1305(key, nonce)

    def run(data: bytes) -> tuple[bytes, bytes | None]:
        sealed = aead.encrypt(nonce, data, aad or None)
        return sealed[:-_FULL_TAG], sealed[-_FULL_TAG:][:length]

    return BufferedTransform(run)


def chacha20poly1305_decryptor(
    key: bytes, nonce: bytes, aad: bytes | None, tag: bytes | None, tag_length: int | None
) -> Transform:
    """ChaCha20-Poly1305 decryption against a full or truncated tag.

    `cryptography`'s AEAD only checks full 16-byte tags. A truncated tag is checked by
    recomputing the full tag with the same AEAD over the recovered plaintext (the RFC 8439
    keystream starts at block counter 1) and comparing its prefix in constant time.
    """
    expected = _expected_tag(tag, tag_length)
    aead = _chacha20poly1305(key, nonce)

    def run(data: bytes) -> tuple[bytes, bytes | None]:
        if len(expected) == _FULL_TAG:
            try:
                return aead.decrypt(nonce, data + expected, aad or None), None
            except InvalidTag:
                raise AuthenticationFailed("the data is not authentic") from None
        stream = Cipher(algorithms.ChaCha20(key, (1).to_bytes(4, "little") + nonce), mode=None).decryptor()
        plaintext = stream.update(data) + stream.finalize()
        full = aead.encrypt(nonce, plaintext, aad or None)[-_FULL_TAG:]
        if not hmac.compare_digest(full[: len(expected)], expected):
            raise AuthenticationFailed("the data is not authentic")
        return plaintext, None

    return BufferedTransform(run)


def key_wrap(kek: bytes, *, padded: bool, wrap: bool, iv: bytes | None) -> Transform:
    """AES key wrap (RFC 3394, Block Cipher Mode NISTKeyWrap) or with padding (RFC 5649, AESKeyWrapPadding).

    Only the standard initial values are supported: `cryptography` does not take another.

    Raises:
        UnsupportedParameters: a non-default IV was given.
    """
    block_algorithm(CryptographicAlgorithm.AES, kek)  # validates the key length
    if iv is not None and not (iv.startswith(_KWP_IV_PREFIX) if padded else iv == _KW_IV):
        raise UnsupportedParameters("AES key wrap runs with the standard initial value only")

    def run(data: bytes) -> tuple[bytes, bytes | None]:
        try:
            if wrap:
                out = keywrap.aes_key_wrap_with_padding(kek, data) if padded else keywrap.aes_key_wrap(kek, data)
            else:
                out = keywrap.aes_key_unwrap_with_padding(kek, data) if padded else keywrap.aes_key_unwrap(kek, data)
        except keywrap.InvalidUnwrap:
            raise AuthenticationFailed("the data is not authentic") from None
        except ValueError:
            raise DataLengthError("the data has a length this key wrap mode cannot take") from None
        return out, None

    return BufferedTransform(run)
