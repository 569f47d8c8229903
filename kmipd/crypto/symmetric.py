"""Symmetric encryption and decryption as KMIP describes it, over `cryptography` only.

A :class:`CipherSpec` is what a request's Cryptographic Parameters (merged with
the key's) say: algorithm, Block Cipher Mode, Padding Method, Tag Length,
Initial Counter Value. :func:`encryptor` and :func:`decryptor` turn it, a key
and an IV into a :class:`~kmipd.crypto.transform.Transform`, the same shape
for single-part and multi-part requests.

Supported: AES in ECB, CBC, CFB, OFB, CTR and GCM; Triple-DES in ECB, CBC,
CFB and OFB; ChaCha20 (8-, 12- or 16-byte nonce) and ChaCha20-Poly1305; AES
key wrap (RFC 3394) and key wrap with padding (RFC 5649). ECB and CBC take
PKCS#5 (that is, PKCS#7 to the block size), ANSI X9.23 or no padding. CFB and OFB
come from `cryptography`'s "decrepit" namespace: kept for interoperability, not recommended.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography.hazmat.decrepit.ciphers import modes as legacy_modes
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kmipd.crypto import aead
from kmipd.crypto.errors import BadParameters, MissingIV, UnsupportedParameters
from kmipd.crypto.transform import CipherTransform, Transform, block_algorithm
from kmipd.protocol.enums import BlockCipherMode, CryptographicAlgorithm, PaddingMethod

_BLOCK_CIPHERS = frozenset({CryptographicAlgorithm.AES, CryptographicAlgorithm.TRIPLE_DES})
#: Modes whose IV is one cipher block.
_BLOCK_IV_MODES = frozenset({BlockCipherMode.CBC, BlockCipherMode.CFB, BlockCipherMode.OFB, BlockCipherMode.CTR})
_PADDED_MODES = frozenset({BlockCipherMode.ECB, BlockCipherMode.CBC})
_KEY_WRAP_MODES = frozenset({BlockCipherMode.NISTKEYWRAP, BlockCipherMode.AESKEYWRAPPADDING})
_NO_PADDING = frozenset({None, PaddingMethod.NONE})
_CHACHA20_NONCE_LENGTHS = frozenset({8, 12, 16})


@dataclass(frozen=True, slots=True)
class CipherSpec:
    """What to run. Lengths are in bytes; None means "not given"."""

    algorithm: int
    mode: int | None = None
    padding: int | None = None
    tag_length: int | None = None
    iv_length: int | None = None
    initial_counter: int | None = None


def with_defaults(spec: CipherSpec) -> CipherSpec:
    """Fill in what a client may leave out.

    A block cipher without a mode runs CBC with PKCS#5 padding and a server-generated IV,
    because that is what clients that send no parameters at all expect (MongoDB's KMIP
    client sends none and reads the IV back). ChaCha20-Poly1305 is always AEAD.
    """
    if spec.algorithm in _BLOCK_CIPHERS and spec.mode is None:
        return replace(spec, mode=BlockCipherMode.CBC, padding=spec.padding or PaddingMethod.PKCS5)
    if spec.algorithm == CryptographicAlgorithm.CHACHA20POLY1305 and spec.mode is None:
        return replace(spec, mode=BlockCipherMode.AEAD)
    return spec


def _block_bytes(algorithm: int) -> int:
    return 8 if algorithm == CryptographicAlgorithm.TRIPLE_DES else 16


def iv_length(spec: CipherSpec) -> int:
    """How many bytes of IV/Counter/Nonce the server generates for ``spec``; 0 when it uses none.

    Raises:
        BadParameters: the IV Length asked for is not one the mode takes (checked before any
            random bytes are drawn, so a huge IV Length cannot make the server allocate them).
    """
    mode = spec.mode
    if spec.algorithm == CryptographicAlgorithm.CHACHA20:
        size = spec.iv_length or 12
        if size not in _CHACHA20_NONCE_LENGTHS:
            raise BadParameters(f"a ChaCha20 nonce is 8, 12 or 16 bytes, not {size}")
        return size
    if spec.algorithm == CryptographicAlgorithm.CHACHA20POLY1305:
        return aead.CHACHA20POLY1305_NONCE_LENGTH
    if mode == BlockCipherMode.GCM:
        size = spec.iv_length or aead.GCM_IV_LENGTH
        if not aead.GCM_IV_MIN <= size <= aead.GCM_IV_MAX:
            raise BadParameters(f"a GCM IV is {aead.GCM_IV_MIN} to {aead.GCM_IV_MAX} bytes, not {size}")
        return size
    if mode in _BLOCK_IV_MODES:
        return _block_bytes(spec.algorithm)
    return 0


def _padder(spec: CipherSpec) -> padding.PKCS7 | padding.ANSIX923 | None:
    if spec.padding in _NO_PADDING:
        return None
    if spec.mode not in _PADDED_MODES:
        raise UnsupportedParameters("padding applies to the ECB and CBC modes only")
    bits = _block_bytes(spec.algorithm) * 8
    if spec.padding == PaddingMethod.PKCS5:
        return padding.PKCS7(bits)
    if spec.padding == PaddingMethod.ANSI_X9_23:
        return padding.ANSIX923(bits)
    raise UnsupportedParameters("the Padding Method must be None, PKCS5 or ANSI X9.23")


def _counter_block(spec: CipherSpec, iv: bytes) -> bytes:
    """CTR's initial counter block: the IV itself, or a shorter nonce followed by the Initial Counter Value."""
    if len(iv) == 16:
        return iv
    if not 0 < len(iv) < 16:
        raise BadParameters(f"a CTR IV/Counter/Nonce is at most 16 bytes, not {len(iv)}")
    try:
        return iv + (spec.initial_counter or 0).to_bytes(16 - len(iv), "big")
    except OverflowError:
        raise BadParameters("the Initial Counter Value does not fit the counter") from None


def _block_mode(
    spec: CipherSpec, iv: bytes | None
) -> modes.ECB | modes.ModeWithInitializationVector | modes.ModeWithNonce:
    if spec.mode == BlockCipherMode.ECB:
        return modes.ECB()
    if iv is None:
        raise MissingIV("this mode needs an IV/Counter/Nonce")
    if spec.mode == BlockCipherMode.CTR:
        if spec.algorithm != CryptographicAlgorithm.AES:
            raise UnsupportedParameters("CTR mode is offered for AES only")
        return modes.CTR(_counter_block(spec, iv))
    size = _block_bytes(spec.algorithm)
    if len(iv) != size:
        raise BadParameters(f"this mode's IV is one block, {size} bytes, not {len(iv)}")
    if spec.mode == BlockCipherMode.CBC:
        return modes.CBC(iv)
    if spec.mode == BlockCipherMode.CFB:
        return legacy_modes.CFB(iv)
    if spec.mode == BlockCipherMode.OFB:
        return legacy_modes.OFB(iv)
    raise UnsupportedParameters("this Block Cipher Mode is not supported")


def _chacha20(spec: CipherSpec, key: bytes, nonce: bytes | None) -> Cipher[None]:
    """ChaCha20 with the nonce layouts clients use: 8 bytes (original, 64-bit counter),
    12 bytes (RFC 8439, 32-bit counter) or the full 16-byte counter-and-nonce block."""
    if nonce is None:
        raise MissingIV("ChaCha20 needs a nonce")
    if len(nonce) not in _CHACHA20_NONCE_LENGTHS:
        raise BadParameters(f"a ChaCha20 nonce is 8, 12 or 16 bytes, not {len(nonce)}")
    if len(key) != 32:
        raise BadParameters(f"a ChaCha20 key is 32 bytes, not {len(key)}")
    block = nonce
    if len(nonce) < 16:
        try:
            block = (spec.initial_counter or 0).to_bytes(16 - len(nonce), "little") + nonce
        except OverflowError:
            raise BadParameters("the Initial Counter Value does not fit the counter") from None
    return Cipher(algorithms.ChaCha20(key, block), mode=None)


def _check_plain(aad: bytes | None) -> None:
    """Refuse additional data where nothing would authenticate it (a Tag Length is merely ignored)."""
    if aad:
        raise BadParameters("Authenticated Encryption Additional Data needs an authenticated mode (GCM, AEAD)")


def encryptor(spec: CipherSpec, key: bytes, iv: bytes | None, aad: bytes | None = None) -> Transform:
    """Start encrypting with ``key``.

    Raises:
        UnsupportedParameters, BadParameters, MissingIV: ``spec``, the key or the IV cannot be used.
    """
    return _transform(spec, key, iv, aad, None, encrypt=True)


def decryptor(
    spec: CipherSpec, key: bytes, iv: bytes | None, aad: bytes | None = None, tag: bytes | None = None
) -> Transform:
    """Start decrypting with ``key``; authenticated modes check ``tag`` before releasing plaintext.

    Raises:
        UnsupportedParameters, BadParameters, MissingIV, MissingTag: the request cannot be run.
    """
    return _transform(spec, key, iv, aad, tag, encrypt=False)


def _transform(
    spec: CipherSpec, key: bytes, iv: bytes | None, aad: bytes | None, tag: bytes | None, *, encrypt: bool
) -> Transform:
    algorithm, mode = spec.algorithm, spec.mode
    if algorithm == CryptographicAlgorithm.CHACHA20POLY1305 or (
        algorithm == CryptographicAlgorithm.CHACHA20 and mode == BlockCipherMode.AEAD
    ):
        if mode not in (None, BlockCipherMode.AEAD) or spec.padding not in _NO_PADDING:
            raise UnsupportedParameters("ChaCha20-Poly1305 runs as AEAD, without padding")
        if iv is None:
            raise MissingIV("ChaCha20-Poly1305 needs a nonce")
        if encrypt:
            return aead.chacha20poly1305_encryptor(key, iv, aad, spec.tag_length)
        return aead.chacha20poly1305_decryptor(key, iv, aad, tag, spec.tag_length)
    if algorithm == CryptographicAlgorithm.CHACHA20:
        if mode is not None or spec.padding not in _NO_PADDING:
            raise UnsupportedParameters("ChaCha20 is a stream cipher: no Block Cipher Mode or padding")
        _check_plain(aad)
        stream = _chacha20(spec, key, iv)
        return CipherTransform(stream.encryptor() if encrypt else stream.decryptor())
    if algorithm not in _BLOCK_CIPHERS:
        raise UnsupportedParameters("Encrypt and Decrypt support AES, Triple-DES, ChaCha20 and ChaCha20-Poly1305")
    if mode == BlockCipherMode.GCM:
        if algorithm != CryptographicAlgorithm.AES or spec.padding not in _NO_PADDING:
            raise UnsupportedParameters("GCM is offered for AES, without padding")
        if iv is None:
            raise MissingIV("GCM needs an IV")
        if encrypt:
            return aead.gcm_encryptor(key, iv, aad, spec.tag_length)
        return aead.gcm_decryptor(key, iv, aad, tag, spec.tag_length)
    if mode in _KEY_WRAP_MODES:
        if algorithm != CryptographicAlgorithm.AES or spec.padding not in _NO_PADDING:
            raise UnsupportedParameters("AES key wrap is offered for AES keys, without a Padding Method")
        _check_plain(aad)
        return aead.key_wrap(key, padded=mode == BlockCipherMode.AESKEYWRAPPADDING, wrap=encrypt, iv=iv)
    if mode not in _PADDED_MODES and mode not in _BLOCK_IV_MODES:
        raise UnsupportedParameters("this Block Cipher Mode is not supported")
    _check_plain(aad)
    pad = _padder(spec)
    cipher = Cipher(block_algorithm(algorithm, key), _block_mode(spec, iv))
    if encrypt:
        return CipherTransform(cipher.encryptor(), pad=pad.padder() if pad is not None else None)
    return CipherTransform(cipher.decryptor(), unpad=pad.unpadder() if pad is not None else None)


def encrypt(
    spec: CipherSpec, key: bytes, data: bytes, iv: bytes | None = None, aad: bytes | None = None
) -> tuple[bytes, bytes | None]:
    """Single-part encryption: the ciphertext and, for authenticated modes, the tag."""
    transform = encryptor(spec, key, iv, aad)
    out = transform.update(data) + transform.finalize()
    return out, transform.tag


def decrypt(
    spec: CipherSpec,
    key: bytes,
    data: bytes,
    iv: bytes | None = None,
    aad: bytes | None = None,
    tag: bytes | None = None,
) -> bytes:
    """Single-part decryption.

    Raises:
        AuthenticationFailed: the tag, the unwrap integrity check or the padding is wrong.
    """
    transform = decryptor(spec, key, iv, aad, tag)
    return transform.update(data) + transform.finalize()
