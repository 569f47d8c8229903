"""Asymmetric key generation, signatures and RSA encryption, on ``cryptography`` only.

Everything here is a pure function of its arguments: KMIP enumeration values
in, ``cryptography`` key objects and bytes out. The operations layer parses
requests and attributes; this module decides which primitive a combination of
KMIP parameters means and refuses combinations that are unsafe or ambiguous
instead of guessing.

Two defaults deviate from the letter of KMIP 2.1 Table 59 on purpose:

* the MGF1 hash defaults to the Hashing Algorithm, not SHA-1: the OASIS test
  case CS-AC-M-2 carries a PSS signature (SHA-256, no Mask Generator Hashing
  Algorithm) that verifies only with MGF1-SHA-256, as every deployed client
  produces them;
* a PSS signature is verified with any salt length unless the parameters name
  one (that same signature uses the maximal salt), and made with a salt as long
  as the digest, as RFC 8017 recommends.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, utils

from kmipd.crypto.digests import HASHES
from kmipd.crypto.errors import AuthenticationFailed, BadParameters, CryptoError, DataLengthError, UnsupportedParameters
from kmipd.protocol.enums import (
    CryptographicAlgorithm,
    DigitalSignatureAlgorithm,
    HashingAlgorithm,
    PaddingMethod,
    RecommendedCurve,
)

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | dsa.DSAPrivateKey
)
PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | dsa.DSAPublicKey
)

#: RSA modulus sizes kmipd generates: below 2048 bits is no longer acceptable (SP 800-131A).
RSA_LENGTHS = frozenset({2048, 3072, 4096})
RSA_PUBLIC_EXPONENT = 65537

#: The curves ``cryptography`` implements, by KMIP Recommended Curve.
CURVES: dict[int, type[ec.EllipticCurve]] = {
    RecommendedCurve.P_192: ec.SECP192R1,
    RecommendedCurve.P_224: ec.SECP224R1,
    RecommendedCurve.P_256: ec.SECP256R1,
    RecommendedCurve.P_384: ec.SECP384R1,
    RecommendedCurve.P_521: ec.SECP521R1,
    RecommendedCurve.SECP256K1: ec.SECP256K1,
    RecommendedCurve.BRAINPOOLP256R1: ec.BrainpoolP256R1,
    RecommendedCurve.BRAINPOOLP384R1: ec.BrainpoolP384R1,
    RecommendedCurve.BRAINPOOLP512R1: ec.BrainpoolP512R1,
}
#: Curves generated when a request gives only a Cryptographic Length (the NIST prime curves).
_CURVE_BY_LENGTH = {
    224: RecommendedCurve.P_224,
    256: RecommendedCurve.P_256,
    384: RecommendedCurve.P_384,
    521: RecommendedCurve.P_521,
}
#: P-192 can be used (registered keys) but not generated: it is below 112-bit security.
_GENERATED_CURVES = frozenset(CURVES) - {RecommendedCurve.P_192}

EC_ALGORITHMS = frozenset({CryptographicAlgorithm.EC, CryptographicAlgorithm.ECDSA, CryptographicAlgorithm.ECDH})

#: The hashes signatures and RSA padding may use: those digests offers, less MD5.
_HASHES = {algorithm: factory for algorithm, factory in HASHES.items() if algorithm != HashingAlgorithm.MD5}

_DSA = DigitalSignatureAlgorithm
#: Digital Signature Algorithm -> (key family, padding, hash). MD2/MD5 variants are refused.
_SIGNATURE_ALGORITHMS: dict[int, tuple[str, int | None, int | None]] = {
    _DSA.SHA_1_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA_1),
    _DSA.SHA_224_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA_224),
    _DSA.SHA_256_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA_256),
    _DSA.SHA_384_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA_384),
    _DSA.SHA_512_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA_512),
    _DSA.SHA3_256_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA3_256),
    _DSA.SHA3_384_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA3_384),
    _DSA.SHA3_512_WITH_RSA_ENCRYPTION: ("rsa", PaddingMethod.PKCS1_V1_5, HashingAlgorithm.SHA3_512),
    _DSA.RSASSA_PSS: ("rsa", PaddingMethod.PSS, None),
    _DSA.DSA_WITH_SHA_1: ("dsa", None, HashingAlgorithm.SHA_1),
    _DSA.DSA_WITH_SHA224: ("dsa", None, HashingAlgorithm.SHA_224),
    _DSA.DSA_WITH_SHA256: ("dsa", None, HashingAlgorithm.SHA_256),
    _DSA.ECDSA_WITH_SHA_1: ("ec", None, HashingAlgorithm.SHA_1),
    _DSA.ECDSA_WITH_SHA224: ("ec", None, HashingAlgorithm.SHA_224),
    _DSA.ECDSA_WITH_SHA256: ("ec", None, HashingAlgorithm.SHA_256),
    _DSA.ECDSA_WITH_SHA384: ("ec", None, HashingAlgorithm.SHA_384),
    _DSA.ECDSA_WITH_SHA512: ("ec", None, HashingAlgorithm.SHA_512),
}
#: Cryptographic Algorithm values that name a key family in Cryptographic Parameters.
_ALGORITHM_FAMILY: dict[int, str] = {
    CryptographicAlgorithm.RSA: "rsa",
    CryptographicAlgorithm.DSA: "dsa",
    CryptographicAlgorithm.EC: "ec",
    CryptographicAlgorithm.ECDSA: "ec",
    CryptographicAlgorithm.ED25519: "ed25519",
    CryptographicAlgorithm.ED448: "ed448",
}


@dataclass(frozen=True, slots=True)
class SignatureParameters:
    """The signature-related fields of a KMIP Cryptographic Parameters structure (enumeration values)."""

    digital_signature_algorithm: int | None = None
    cryptographic_algorithm: int | None = None
    padding_method: int | None = None
    hashing_algorithm: int | None = None
    mask_generator_hashing_algorithm: int | None = None
    salt_length: int | None = None


# --------------------------------------------------------------------------- generation


def curve_for(length: int | None, curve: int | None) -> int:
    """The Recommended Curve a request for an EC key pair means.

    Raises:
        BadParameters: neither a curve nor a length, a length that names no curve, a curve kmipd
            does not generate, or one that contradicts the length.
    """
    if curve is None:
        if length is None:
            raise BadParameters("an EC key pair needs a Recommended Curve or a Cryptographic Length")
        chosen = _CURVE_BY_LENGTH.get(length)
        if chosen is None:
            raise BadParameters(f"no NIST curve has {length}-bit keys; name a Recommended Curve")
        return chosen
    if curve not in _GENERATED_CURVES:
        raise BadParameters("kmipd does not generate keys on that curve")
    if length is not None and length != CURVES[curve]().key_size:
        raise BadParameters("the Cryptographic Length does not match the Recommended Curve")
    return curve


def generate_private_key(algorithm: int, length: int | None, curve: int | None) -> tuple[PrivateKey, int]:
    """A new private key, and the Cryptographic Length to record for the pair.

    Raises:
        UnsupportedParameters: the algorithm is not one kmipd generates key pairs for.
        BadParameters: the length or curve is missing or not allowed.
    """
    if algorithm == CryptographicAlgorithm.RSA:
        if length is None:
            raise BadParameters("an RSA key pair needs a Cryptographic Length")
        if length not in RSA_LENGTHS:
            raise BadParameters(f"RSA keys are 2048, 3072 or 4096 bits, not {length}")
        return rsa.generate_private_key(RSA_PUBLIC_EXPONENT, length), length
    if algorithm in EC_ALGORITHMS:
        chosen = CURVES[curve_for(length, curve)]()
        return ec.generate_private_key(chosen), chosen.key_size
    if algorithm == CryptographicAlgorithm.ED25519:
        if length not in (None, 255, 256):
            raise BadParameters("Ed25519 keys are 256 bits")
        return ed25519.Ed25519PrivateKey.generate(), 256
    if algorithm == CryptographicAlgorithm.ED448:
        if length not in (None, 448, 456):
            raise BadParameters("Ed448 keys are 448 bits")
        return ed448.Ed448PrivateKey.generate(), 448
    raise UnsupportedParameters("key pairs are RSA, EC (ECDSA, ECDH), Ed25519 or Ed448")


def key_length(key: PrivateKey | PublicKey) -> int:
    """The Cryptographic Length KMIP records for a key: modulus or curve bits, or the EdDSA size."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return 256
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return 448
    return key.key_size


# --------------------------------------------------------------------------- signatures


def _family(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return "dsa"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    return "ed448"


def hash_for(hashing_algorithm: int | None) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash of a KMIP Hashing Algorithm.

    Raises:
        BadParameters: none given.
        UnsupportedParameters: one kmipd refuses (MD2, MD4, MD5 ...).
    """
    if hashing_algorithm is None:
        raise BadParameters("the operation needs a Hashing Algorithm")
    factory = _HASHES.get(hashing_algorithm)
    if factory is None:
        raise UnsupportedParameters("the Hashing Algorithm is not supported")
    return factory()


@dataclass(frozen=True, slots=True)
class _Scheme:
    family: str
    padding: int | None
    hashing: int | None


def _scheme(key: PrivateKey | PublicKey, params: SignatureParameters) -> _Scheme:
    """Resolve the parameters against the key; refuse contradictions instead of picking one side."""
    family = _family(key)
    padding_method, hashing = params.padding_method, params.hashing_algorithm
    if params.digital_signature_algorithm is not None:
        spec = _SIGNATURE_ALGORITHMS.get(params.digital_signature_algorithm)
        if spec is None:
            raise UnsupportedParameters("the Digital Signature Algorithm is not supported")
        named_family, named_padding, named_hash = spec
        if named_family != family:
            raise BadParameters("the Digital Signature Algorithm does not fit the key")
        if named_padding is not None and padding_method not in (None, named_padding):
            raise BadParameters("the Padding Method contradicts the Digital Signature Algorithm")
        if named_hash is not None and hashing not in (None, named_hash):
            raise BadParameters("the Hashing Algorithm contradicts the Digital Signature Algorithm")
        padding_method = named_padding if named_padding is not None else padding_method
        hashing = named_hash if named_hash is not None else hashing
    if params.cryptographic_algorithm is not None and _ALGORITHM_FAMILY.get(params.cryptographic_algorithm) != family:
        raise BadParameters("the Cryptographic Algorithm does not fit the key")
    if family == "rsa":
        if padding_method not in (PaddingMethod.PSS, PaddingMethod.PKCS1_V1_5):
            raise BadParameters("RSA signatures need Padding Method PSS or PKCS1 v1.5")
        hash_for(hashing)
    elif family in ("ec", "dsa"):
        hash_for(hashing)
    elif hashing is not None or padding_method not in (None, PaddingMethod.NONE):
        raise BadParameters("EdDSA signatures take no Hashing Algorithm or Padding Method")
    return _Scheme(family, padding_method, hashing)


def _rsa_padding(scheme: _Scheme, params: SignatureParameters, *, signing: bool) -> padding.AsymmetricPadding:
    if scheme.padding == PaddingMethod.PKCS1_V1_5:
        return padding.PKCS1v15()
    mgf = padding.MGF1(hash_for(params.mask_generator_hashing_algorithm or scheme.hashing))
    if params.salt_length is not None:
        if params.salt_length < 0:
            raise BadParameters("the Salt Length cannot be negative")
        return padding.PSS(mgf=mgf, salt_length=params.salt_length)
    return padding.PSS(mgf=mgf, salt_length=padding.PSS.DIGEST_LENGTH if signing else padding.PSS.AUTO)


def _hash_argument(scheme: _Scheme, message: bytes, prehashed: bool) -> hashes.HashAlgorithm | utils.Prehashed:
    digest = hash_for(scheme.hashing)
    if not prehashed:
        return digest
    if len(message) != digest.digest_size:
        raise BadParameters("the Digested Data does not have the Hashing Algorithm's length")
    return utils.Prehashed(digest)


def _no_prehash_for_eddsa(prehashed: bool) -> None:
    if prehashed:
        raise UnsupportedParameters("EdDSA signs the data itself; Digested Data is not supported")


def sign(key: PrivateKey, params: SignatureParameters, message: bytes, *, prehashed: bool = False) -> bytes:
    """Sign ``message`` (a digest of the data when ``prehashed``); ECDSA and DSA signatures are DER.

    Raises:
        BadParameters / UnsupportedParameters: the parameters do not fit the key.
        CryptoError: the primitive refused (e.g. a PSS salt too long for the modulus).
    """
    scheme = _scheme(key, params)
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        _no_prehash_for_eddsa(prehashed)
        return key.sign(message)
    algorithm = _hash_argument(scheme, message, prehashed)
    try:
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, _rsa_padding(scheme, params, signing=True), algorithm)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(algorithm))
        return key.sign(message, algorithm)
    except (ValueError, UnsupportedAlgorithm):
        raise CryptoError("the signature could not be computed with these parameters") from None


def verify(
    key: PublicKey, params: SignatureParameters, signature: bytes, message: bytes, *, prehashed: bool = False
) -> bool:
    """Whether ``signature`` is valid for ``message`` (a digest of the data when ``prehashed``).

    Raises:
        BadParameters / UnsupportedParameters: the parameters do not fit the key.
    """
    scheme = _scheme(key, params)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            _no_prehash_for_eddsa(prehashed)
            key.verify(signature, message)
            return True
        algorithm = _hash_argument(scheme, message, prehashed)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, _rsa_padding(scheme, params, signing=False), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(algorithm))
        else:
            key.verify(signature, message, algorithm)
    except InvalidSignature:
        return False
    except UnsupportedAlgorithm:
        raise UnsupportedParameters("the signature scheme is not supported for this key") from None
    return True


# --------------------------------------------------------------------------- RSA encryption


def _encryption_padding(
    padding_method: int | None, hashing_algorithm: int | None, mgf_hashing_algorithm: int | None, label: bytes | None
) -> padding.AsymmetricPadding:
    if padding_method == PaddingMethod.OAEP:
        digest = hash_for(hashing_algorithm if hashing_algorithm is not None else HashingAlgorithm.SHA_1)
        mgf = hash_for(mgf_hashing_algorithm) if mgf_hashing_algorithm is not None else type(digest)()
        return padding.OAEP(mgf=padding.MGF1(mgf), algorithm=digest, label=label or None)
    if padding_method == PaddingMethod.PKCS1_V1_5:
        if label:
            raise BadParameters("a P Source applies to OAEP only")
        return padding.PKCS1v15()
    raise UnsupportedParameters("RSA encryption needs Padding Method OAEP or PKCS1 v1.5")


def rsa_encrypt(
    key: rsa.RSAPublicKey,
    plaintext: bytes,
    *,
    padding_method: int | None,
    hashing_algorithm: int | None = None,
    mgf_hashing_algorithm: int | None = None,
    label: bytes | None = None,
) -> bytes:
    """RSA-OAEP or RSAES-PKCS1-v1_5 encryption.

    The OAEP hash defaults to SHA-1 (RFC 8017's default) and the MGF1 hash to the
    OAEP hash; ``label`` is KMIP's P Source.

    Raises:
        UnsupportedParameters / BadParameters: no usable padding or hash.
        DataLengthError: the plaintext is too long for the key and padding.
    """
    scheme = _encryption_padding(padding_method, hashing_algorithm, mgf_hashing_algorithm, label)
    try:
        return key.encrypt(plaintext, scheme)
    except ValueError:
        raise DataLengthError("the data is too long for this key and padding") from None


def rsa_decrypt(
    key: rsa.RSAPrivateKey,
    ciphertext: bytes,
    *,
    padding_method: int | None,
    hashing_algorithm: int | None = None,
    mgf_hashing_algorithm: int | None = None,
    label: bytes | None = None,
) -> bytes:
    """The inverse of :func:`rsa_encrypt`; every failure reads the same (no padding oracle).

    Raises:
        UnsupportedParameters / BadParameters: no usable padding or hash.
        AuthenticationFailed: the ciphertext does not decrypt under these parameters.
    """
    scheme = _encryption_padding(padding_method, hashing_algorithm, mgf_hashing_algorithm, label)
    try:
        return key.decrypt(ciphertext, scheme)
    except ValueError:
        raise AuthenticationFailed("decryption failed") from None
