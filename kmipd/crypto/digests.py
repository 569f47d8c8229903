"""Hashes and MACs (KMIP Hash, MAC, MAC Verify) over `cryptography`.

Each function returns a context with ``update``/``finalize``, so single-part
and multi-part requests share one path. MACs are HMAC with the hash a KMIP
HMAC algorithm names, or CMAC (NIST SP 800-38B) with an AES or Triple-DES key.
"""

from __future__ import annotations

import hmac as constant_time
from collections.abc import Callable
from typing import Protocol

from cryptography.hazmat.primitives import cmac, hashes, hmac

from kmipd.crypto.errors import BadParameters, UnsupportedParameters
from kmipd.crypto.transform import block_algorithm
from kmipd.protocol.enums import CryptographicAlgorithm, HashingAlgorithm

HashFactory = Callable[[], hashes.HashAlgorithm]

#: KMIP Hashing Algorithm -> `cryptography` hash. MD2/MD4/RIPEMD-160/Tiger/Whirlpool are not offered.
HASHES: dict[int, HashFactory] = {
    HashingAlgorithm.MD5: hashes.MD5,
    HashingAlgorithm.SHA_1: hashes.SHA1,
    HashingAlgorithm.SHA_224: hashes.SHA224,
    HashingAlgorithm.SHA_256: hashes.SHA256,
    HashingAlgorithm.SHA_384: hashes.SHA384,
    HashingAlgorithm.SHA_512: hashes.SHA512,
    HashingAlgorithm.SHA_512_224: hashes.SHA512_224,
    HashingAlgorithm.SHA_512_256: hashes.SHA512_256,
    HashingAlgorithm.SHA3_224: hashes.SHA3_224,
    HashingAlgorithm.SHA3_256: hashes.SHA3_256,
    HashingAlgorithm.SHA3_384: hashes.SHA3_384,
    HashingAlgorithm.SHA3_512: hashes.SHA3_512,
}

#: KMIP 2.x also names SHA-3 as a Cryptographic Algorithm; Hash accepts that spelling too.
HASH_ALGORITHMS: dict[int, HashFactory] = {
    CryptographicAlgorithm.SHA3_224: hashes.SHA3_224,
    CryptographicAlgorithm.SHA3_256: hashes.SHA3_256,
    CryptographicAlgorithm.SHA3_384: hashes.SHA3_384,
    CryptographicAlgorithm.SHA3_512: hashes.SHA3_512,
}

#: KMIP HMAC Cryptographic Algorithm -> its hash.
HMACS: dict[int, HashFactory] = {
    CryptographicAlgorithm.HMAC_MD5: hashes.MD5,
    CryptographicAlgorithm.HMAC_SHA1: hashes.SHA1,
    CryptographicAlgorithm.HMAC_SHA224: hashes.SHA224,
    CryptographicAlgorithm.HMAC_SHA256: hashes.SHA256,
    CryptographicAlgorithm.HMAC_SHA384: hashes.SHA384,
    CryptographicAlgorithm.HMAC_SHA512: hashes.SHA512,
    CryptographicAlgorithm.HMAC_SHA3_224: hashes.SHA3_224,
    CryptographicAlgorithm.HMAC_SHA3_256: hashes.SHA3_256,
    CryptographicAlgorithm.HMAC_SHA3_384: hashes.SHA3_384,
    CryptographicAlgorithm.HMAC_SHA3_512: hashes.SHA3_512,
}

#: Key algorithms a CMAC can be computed with.
CMAC_CIPHERS = frozenset({CryptographicAlgorithm.AES, CryptographicAlgorithm.TRIPLE_DES})


class Digest(Protocol):
    """A hash or MAC in progress."""

    def update(self, data: bytes) -> None:
        """Absorb one part."""

    def finalize(self) -> bytes:
        """The digest or MAC of everything absorbed."""


def hasher(hashing_algorithm: int | None, cryptographic_algorithm: int | None = None) -> Digest:
    """A hash by KMIP Hashing Algorithm (or, failing that, a SHA-3 Cryptographic Algorithm).

    Raises:
        BadParameters: neither names a hash.
        UnsupportedParameters: the hash is not offered.
    """
    if hashing_algorithm is not None:
        factory = HASHES.get(hashing_algorithm)
    elif cryptographic_algorithm is not None:
        factory = HASH_ALGORITHMS.get(cryptographic_algorithm)
    else:
        raise BadParameters("Hash needs a Hashing Algorithm in its Cryptographic Parameters")
    if factory is None:
        raise UnsupportedParameters("this hashing algorithm is not offered")
    return hashes.Hash(factory())


def is_mac_algorithm(algorithm: int | None) -> bool:
    """Whether ``algorithm`` names a MAC kmipd computes."""
    return algorithm in HMACS or algorithm in CMAC_CIPHERS


def mac(algorithm: int, key: bytes) -> Digest:
    """An HMAC (``algorithm`` an HMAC algorithm) or CMAC (``algorithm`` AES or Triple-DES) keyed with ``key``.

    HMAC takes keys of any length, so an HMAC can be asked of any symmetric key (the OASIS
    test case CS-AC-M-4 computes HMAC-SHA256 with a key registered as AES).

    Raises:
        UnsupportedParameters: ``algorithm`` is not a MAC kmipd computes.
        BadParameters: the key does not fit the CMAC cipher.
    """
    factory = HMACS.get(algorithm)
    if factory is not None:
        if not key:
            raise BadParameters("an HMAC key cannot be empty")
        return hmac.HMAC(key, factory())
    if algorithm in CMAC_CIPHERS:
        return cmac.CMAC(block_algorithm(algorithm, key))
    raise UnsupportedParameters("MAC supports HMAC (SHA-1, SHA-2, SHA-3, MD5) and CMAC (AES, Triple-DES)")


def matches(computed: bytes, presented: bytes) -> bool:
    """Compare a computed MAC with a presented one in constant time."""
    return constant_time.compare_digest(computed, presented)
