"""Key derivation functions for Derive Key (KMIP 1.4 section 4.6; 2.1 sections 6.1.14, 7.12), over `cryptography`.

Each function takes the base key (or password) and the request's inputs and returns
exactly ``length`` bytes, or raises one of the version-neutral
:mod:`kmipd.crypto.errors`. KMIP says a server "SHALL return an error" when the
requested length exceeds what the method outputs, so the fixed-output methods
(Hash, HMAC, AWS Signature Version 4) truncate but never stretch.

Lengths are bytes here; the operation converts the Cryptographic Length from bits.
Output is bounded (:data:`MAX_OUTPUT_BYTES`) and so is PBKDF2's work
(:data:`MAX_PBKDF2_WORK`): a client that may derive keys must not be able to pin a
server thread for minutes with one request.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, KBKDFHMAC, CounterLocation, Mode
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from kmipd.crypto.digests import HASHES, HMACS
from kmipd.crypto.errors import BadParameters, UnsupportedParameters
from kmipd.protocol.enums import CryptographicAlgorithm, HashingAlgorithm

#: Most bytes one derivation produces (4096 bits): several keys and IVs fit in one Secret Data.
MAX_OUTPUT_BYTES = 512

#: Most PRF iterations one PBKDF2 request may cost (Iteration Count x output blocks): about a
#: second of one core, well above the 600,000 iterations OWASP recommends for PBKDF2-HMAC-SHA256.
MAX_PBKDF2_WORK = 4_000_000

#: Hashes KMIP names that kmipd will not derive keys with (MD5 is offered for Hash and MAC only).
_REFUSED_FOR_DERIVATION = frozenset({HashingAlgorithm.MD5, CryptographicAlgorithm.HMAC_MD5})

#: The counter and the length field of the SP 800-108 fixed input are 32 bits (r = 32, [L]2 in 4 bytes).
_KBKDF_FIELD_BYTES = 4


def _check_length(length: int, most: int = MAX_OUTPUT_BYTES, what: str = "this derivation method") -> None:
    if length <= 0:
        raise BadParameters("the derived length must be at least one byte")
    if length > most:
        raise BadParameters(f"the requested length exceeds the {most * 8}-bit output of {what}")


def hash_by_hashing_algorithm(hashing_algorithm: int) -> hashes.HashAlgorithm:
    """The `cryptography` hash a KMIP Hashing Algorithm names.

    Raises:
        UnsupportedParameters: kmipd does not derive keys with this hash.
    """
    factory = HASHES.get(hashing_algorithm)
    if factory is None or hashing_algorithm in _REFUSED_FOR_DERIVATION:
        raise UnsupportedParameters("this Hashing Algorithm is not offered for key derivation")
    return factory()


def hash_of_hmac(algorithm: int) -> hashes.HashAlgorithm | None:
    """The hash of a KMIP HMAC Cryptographic Algorithm (HMAC-SHA256 -> SHA-256); None for other algorithms.

    Raises:
        UnsupportedParameters: the HMAC is one kmipd does not derive keys with (HMAC-MD5).
    """
    factory = HMACS.get(algorithm)
    if factory is None:
        return None
    if algorithm in _REFUSED_FOR_DERIVATION:
        raise UnsupportedParameters("HMAC-MD5 is not offered for key derivation")
    return factory()


def pbkdf2(password: bytes, *, salt: bytes, iterations: int, length: int, algorithm: hashes.HashAlgorithm) -> bytes:
    """PBKDF2 with HMAC-``algorithm`` as its PRF (PKCS #5 v2.1, RFC 8018 section 5.2).

    Raises:
        BadParameters: no iterations, an empty password, or more work than :data:`MAX_PBKDF2_WORK`.
    """
    _check_length(length)
    if iterations < 1:
        raise BadParameters("the PBKDF2 Iteration Count must be at least 1")
    blocks = -(-length // algorithm.digest_size)
    if iterations * blocks > MAX_PBKDF2_WORK:
        raise BadParameters(
            f"Iteration Count x output blocks may be at most {MAX_PBKDF2_WORK}; ask for fewer iterations or bits"
        )
    if not password:
        raise BadParameters("PBKDF2 needs a non-empty password")
    return PBKDF2HMAC(algorithm, length, salt, iterations).derive(password)


def hkdf(key: bytes, *, salt: bytes | None, info: bytes | None, length: int, algorithm: hashes.HashAlgorithm) -> bytes:
    """HKDF extract-then-expand (RFC 5869): at most 255 hash outputs.

    Raises:
        BadParameters: the length is beyond what HKDF can expand to.
    """
    _check_length(length, min(MAX_OUTPUT_BYTES, 255 * algorithm.digest_size), "HKDF with this hash")
    return HKDF(algorithm, length, salt or None, info or None).derive(key)


def hmac_derive(key: bytes, data: bytes, *, length: int, algorithm: hashes.HashAlgorithm) -> bytes:
    """The leftmost ``length`` bytes of HMAC(key, data): KMIP's HMAC method has one MAC of output.

    Raises:
        BadParameters: an empty key, or a length beyond the MAC's size.
    """
    _check_length(length, algorithm.digest_size, "this HMAC")
    if not key:
        raise BadParameters("an HMAC key cannot be empty")
    mac = hmac.HMAC(key, algorithm)
    mac.update(data)
    return mac.finalize()[:length]


def hash_derive(data: bytes, *, length: int, algorithm: hashes.HashAlgorithm) -> bytes:
    """The leftmost ``length`` bytes of the hash of ``data`` (KMIP's Hash method).

    Raises:
        BadParameters: a length beyond the hash's size.
    """
    _check_length(length, algorithm.digest_size, "this hash")
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()[:length]


def _fixed_input(label_and_context: bytes, length: int) -> bytes:
    """SP 800-108's fixed input: KMIP's Derivation Data (Label || 0x00 || Context) followed by [L]2, L in bits."""
    return label_and_context + (length * 8).to_bytes(_KBKDF_FIELD_BYTES, "big")


def kbkdf_counter_hmac(key: bytes, label_and_context: bytes, *, length: int, algorithm: hashes.HashAlgorithm) -> bytes:
    """NIST SP 800-108 KDF in counter mode with HMAC-``algorithm``: K(i) = PRF(key, [i]2 || fixed input).

    Raises:
        BadParameters: an empty key, or a length out of range.
    """
    _check_length(length)
    if not key:
        raise BadParameters("the SP 800-108 key cannot be empty")
    kdf = KBKDFHMAC(
        algorithm,
        Mode.CounterMode,
        length,
        _KBKDF_FIELD_BYTES,
        None,
        CounterLocation.BeforeFixed,
        None,
        None,
        _fixed_input(label_and_context, length),
    )
    return kdf.derive(key)


def kbkdf_counter_cmac(key: bytes, label_and_context: bytes, *, length: int) -> bytes:
    """NIST SP 800-108 KDF in counter mode with CMAC-AES as the PRF.

    Raises:
        BadParameters: the key is not an AES key, or the length is out of range.
    """
    _check_length(length)
    if len(key) not in (16, 24, 32):
        raise BadParameters("a CMAC-AES key is 128, 192 or 256 bits")
    kdf = KBKDFCMAC(
        algorithms.AES,
        Mode.CounterMode,
        length,
        _KBKDF_FIELD_BYTES,
        None,
        CounterLocation.BeforeFixed,
        None,
        None,
        _fixed_input(label_and_context, length),
    )
    return kdf.derive(key)


def aws_sigv4_signing_key(secret: bytes, date: bytes, region: bytes, service: bytes, *, length: int) -> bytes:
    """The AWS Signature Version 4 signing key: an HMAC-SHA256 chain over the date, region and service.

    kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" || secret, date), region), service), "aws4_request").

    Raises:
        BadParameters: a length beyond 256 bits, or an empty secret.
    """
    _check_length(length, 32, "AWS Signature Version 4")
    if not secret:
        raise BadParameters("the AWS secret access key cannot be empty")
    key = b"AWS4" + secret
    for part in (date, region, service, b"aws4_request"):
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(part)
        key = mac.finalize()
    return key[:length]
