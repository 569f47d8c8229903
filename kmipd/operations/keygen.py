"""Symmetric key generation for Create and ReKey (KMIP 1.4 section 4.1).

Key bytes come from the injected entropy source; the allowed algorithm and
length pairs are an allow-list, so a request for anything else fails cleanly
instead of producing a weak or unusable key.
"""

from __future__ import annotations

from kmipd.clock import Entropy
from kmipd.errors import CryptographicFailure, InvalidField
from kmipd.protocol.enums import CryptographicAlgorithm

_HMAC = {
    CryptographicAlgorithm.HMAC_SHA1,
    CryptographicAlgorithm.HMAC_SHA224,
    CryptographicAlgorithm.HMAC_SHA256,
    CryptographicAlgorithm.HMAC_SHA384,
    CryptographicAlgorithm.HMAC_SHA512,
}

#: Triple-DES key lengths as clients send them (with or without parity bits) -> key bytes.
_TRIPLE_DES_BYTES = {112: 16, 128: 16, 168: 24, 192: 24}


def _with_des_parity(key: bytes) -> bytes:
    """Set the odd-parity bit of every byte, as DES keys expect."""
    return bytes((b & 0xFE) | ((bin(b & 0xFE).count("1") + 1) % 2) for b in key)


def generate_symmetric_key(algorithm: int, length: int, entropy: Entropy) -> bytes:
    """New key material for ``algorithm`` of ``length`` bits.

    Raises:
        InvalidField: the algorithm is not one kmipd creates symmetric keys for.
        CryptographicFailure: the length is not valid for the algorithm.
    """
    if algorithm == CryptographicAlgorithm.AES:
        if length not in (128, 192, 256):
            raise CryptographicFailure(f"AES keys are 128, 192 or 256 bits, not {length}")
        return entropy.token_bytes(length // 8)
    if algorithm == CryptographicAlgorithm.TRIPLE_DES:
        size = _TRIPLE_DES_BYTES.get(length)
        if size is None:
            raise CryptographicFailure(f"Triple-DES keys are 112/128 or 168/192 bits, not {length}")
        return _with_des_parity(entropy.token_bytes(size))
    if algorithm in _HMAC:
        if length < 8 or length > 4096 or length % 8:
            raise CryptographicFailure(f"HMAC keys are a whole number of bytes, 8 to 4096 bits, not {length}")
        return entropy.token_bytes(length // 8)
    raise InvalidField("Create supports AES, Triple-DES and HMAC-SHA symmetric keys")
