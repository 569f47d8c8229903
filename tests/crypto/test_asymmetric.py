"""Key generation, signatures and RSA encryption, checked against ``cryptography`` used directly."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from kmipd.crypto import asymmetric
from kmipd.crypto.asymmetric import SignatureParameters
from kmipd.crypto.errors import AuthenticationFailed, BadParameters, DataLengthError, UnsupportedParameters
from kmipd.protocol.enums import (
    CryptographicAlgorithm,
    DigitalSignatureAlgorithm,
    HashingAlgorithm,
    PaddingMethod,
    RecommendedCurve,
)

DATA = bytes(range(1, 17))
PSS_SHA256 = SignatureParameters(padding_method=PaddingMethod.PSS, hashing_algorithm=HashingAlgorithm.SHA_256)
PKCS1_SHA256 = SignatureParameters(padding_method=PaddingMethod.PKCS1_V1_5, hashing_algorithm=HashingAlgorithm.SHA_256)
ECDSA_SHA384 = SignatureParameters(
    cryptographic_algorithm=CryptographicAlgorithm.ECDSA, hashing_algorithm=HashingAlgorithm.SHA_384
)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


# --------------------------------------------------------------------------- generation


def test_rsa_generation_uses_the_requested_modulus_and_f4() -> None:
    key, length = asymmetric.generate_private_key(CryptographicAlgorithm.RSA, 2048, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert (length, key.key_size, key.public_key().public_numbers().e) == (2048, 2048, 65537)


@pytest.mark.parametrize(
    ("length", "curve", "name"),
    [(256, None, "secp256r1"), (None, RecommendedCurve.P_384, "secp384r1"), (521, RecommendedCurve.P_521, "secp521r1")],
)
def test_ec_generation_picks_the_curve(length: int | None, curve: int | None, name: str) -> None:
    key, size = asymmetric.generate_private_key(CryptographicAlgorithm.ECDSA, length, curve)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == name
    assert size == key.curve.key_size


def test_ed25519_generation() -> None:
    key, length = asymmetric.generate_private_key(CryptographicAlgorithm.ED25519, None, None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert length == 256


@pytest.mark.parametrize(
    ("algorithm", "length", "curve", "error"),
    [
        (CryptographicAlgorithm.RSA, 1024, None, BadParameters),
        (CryptographicAlgorithm.RSA, None, None, BadParameters),
        (CryptographicAlgorithm.EC, 300, None, BadParameters),
        (CryptographicAlgorithm.EC, 384, RecommendedCurve.P_256, BadParameters),
        (CryptographicAlgorithm.EC, None, RecommendedCurve.P_192, BadParameters),
        (CryptographicAlgorithm.EC, None, None, BadParameters),
        (CryptographicAlgorithm.AES, 256, None, UnsupportedParameters),
        (CryptographicAlgorithm.DSA, 2048, None, UnsupportedParameters),
    ],
)
def test_generation_refuses(algorithm: int, length: int | None, curve: int | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        asymmetric.generate_private_key(algorithm, length, curve)


# --------------------------------------------------------------------------- signatures


def test_pss_signature_verifies_with_cryptography(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = asymmetric.sign(rsa_key, PSS_SHA256, DATA)
    rsa_key.public_key().verify(
        signature, DATA, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH), hashes.SHA256()
    )


def test_pss_verification_accepts_any_salt_unless_one_is_named(rsa_key: rsa.RSAPrivateKey) -> None:
    scheme = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH)
    signature = rsa_key.sign(DATA, scheme, hashes.SHA256())
    public = rsa_key.public_key()
    assert asymmetric.verify(public, PSS_SHA256, signature, DATA)
    maximal = 2048 // 8 - 32 - 2
    assert asymmetric.verify(
        public,
        SignatureParameters(
            padding_method=PaddingMethod.PSS, hashing_algorithm=HashingAlgorithm.SHA_256, salt_length=maximal
        ),
        signature,
        DATA,
    )
    named = SignatureParameters(
        padding_method=PaddingMethod.PSS, hashing_algorithm=HashingAlgorithm.SHA_256, salt_length=32
    )
    assert not asymmetric.verify(public, named, signature, DATA)


def test_pss_mgf_hash_defaults_to_the_hashing_algorithm(rsa_key: rsa.RSAPrivateKey) -> None:
    sha1_mgf = padding.PSS(padding.MGF1(hashes.SHA1()), 32)
    signature = rsa_key.sign(DATA, sha1_mgf, hashes.SHA256())
    assert not asymmetric.verify(rsa_key.public_key(), PSS_SHA256, signature, DATA)
    explicit = SignatureParameters(
        padding_method=PaddingMethod.PSS,
        hashing_algorithm=HashingAlgorithm.SHA_256,
        mask_generator_hashing_algorithm=HashingAlgorithm.SHA_1,
    )
    assert asymmetric.verify(rsa_key.public_key(), explicit, signature, DATA)


def test_pkcs1v15_is_deterministic_and_matches_cryptography(rsa_key: rsa.RSAPrivateKey) -> None:
    expected = rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA256())
    assert asymmetric.sign(rsa_key, PKCS1_SHA256, DATA) == expected
    by_name = SignatureParameters(digital_signature_algorithm=DigitalSignatureAlgorithm.SHA_256_WITH_RSA_ENCRYPTION)
    assert asymmetric.sign(rsa_key, by_name, DATA) == expected


def test_digested_data_signs_like_the_data(rsa_key: rsa.RSAPrivateKey) -> None:
    digest = hashlib.sha256(DATA).digest()
    assert asymmetric.sign(rsa_key, PKCS1_SHA256, digest, prehashed=True) == asymmetric.sign(
        rsa_key, PKCS1_SHA256, DATA
    )
    with pytest.raises(BadParameters):
        asymmetric.sign(rsa_key, PKCS1_SHA256, digest[:-1], prehashed=True)


def test_tampered_data_or_signature_is_invalid(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = asymmetric.sign(rsa_key, PSS_SHA256, DATA)
    public = rsa_key.public_key()
    assert asymmetric.verify(public, PSS_SHA256, signature, DATA)
    assert not asymmetric.verify(public, PSS_SHA256, signature, b"\xff" + DATA[1:])
    assert not asymmetric.verify(public, PSS_SHA256, b"\xff" + signature[1:], DATA)
    assert not asymmetric.verify(public, PSS_SHA256, signature[:-1], DATA)


def test_ecdsa_signatures_are_der_and_interoperate(ec_key: ec.EllipticCurvePrivateKey) -> None:
    signature = asymmetric.sign(ec_key, ECDSA_SHA384, DATA)
    r, s = utils.decode_dss_signature(signature)
    assert r > 0 and s > 0
    ec_key.public_key().verify(signature, DATA, ec.ECDSA(hashes.SHA384()))
    theirs = ec_key.sign(DATA, ec.ECDSA(hashes.SHA384()))
    assert asymmetric.verify(ec_key.public_key(), ECDSA_SHA384, theirs, DATA)
    by_name = SignatureParameters(digital_signature_algorithm=DigitalSignatureAlgorithm.ECDSA_WITH_SHA384)
    assert asymmetric.verify(ec_key.public_key(), by_name, theirs, DATA)


def test_ed25519_matches_cryptography() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    assert asymmetric.sign(key, SignatureParameters(), DATA) == key.sign(DATA)
    assert asymmetric.verify(key.public_key(), SignatureParameters(), key.sign(DATA), DATA)
    with pytest.raises(UnsupportedParameters):
        asymmetric.sign(key, SignatureParameters(), hashlib.sha512(DATA).digest(), prehashed=True)
    with pytest.raises(BadParameters):
        asymmetric.sign(key, SignatureParameters(hashing_algorithm=HashingAlgorithm.SHA_256), DATA)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (SignatureParameters(hashing_algorithm=HashingAlgorithm.SHA_256), BadParameters),
        (SignatureParameters(padding_method=PaddingMethod.PSS), BadParameters),
        (
            SignatureParameters(padding_method=PaddingMethod.OAEP, hashing_algorithm=HashingAlgorithm.SHA_256),
            BadParameters,
        ),
        (
            SignatureParameters(padding_method=PaddingMethod.PSS, hashing_algorithm=HashingAlgorithm.MD5),
            UnsupportedParameters,
        ),
        (
            SignatureParameters(
                padding_method=PaddingMethod.PSS,
                hashing_algorithm=HashingAlgorithm.SHA_256,
                cryptographic_algorithm=CryptographicAlgorithm.ECDSA,
            ),
            BadParameters,
        ),
        (SignatureParameters(digital_signature_algorithm=DigitalSignatureAlgorithm.ECDSA_WITH_SHA256), BadParameters),
        (
            SignatureParameters(
                digital_signature_algorithm=DigitalSignatureAlgorithm.SHA_256_WITH_RSA_ENCRYPTION,
                hashing_algorithm=HashingAlgorithm.SHA_1,
            ),
            BadParameters,
        ),
        (
            SignatureParameters(digital_signature_algorithm=DigitalSignatureAlgorithm.MD5_WITH_RSA_ENCRYPTION),
            UnsupportedParameters,
        ),
    ],
)
def test_unusable_rsa_parameters_are_refused(
    rsa_key: rsa.RSAPrivateKey, params: SignatureParameters, error: type[Exception]
) -> None:
    with pytest.raises(error):
        asymmetric.sign(rsa_key, params, DATA)
    with pytest.raises(error):
        asymmetric.verify(rsa_key.public_key(), params, b"\x00" * 256, DATA)


# --------------------------------------------------------------------------- RSA encryption


def test_oaep_decrypts_what_cryptography_encrypted(rsa_key: rsa.RSAPrivateKey) -> None:
    scheme = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA384(), None)
    ciphertext = rsa_key.public_key().encrypt(DATA, scheme)
    plain = asymmetric.rsa_decrypt(
        rsa_key,
        ciphertext,
        padding_method=PaddingMethod.OAEP,
        hashing_algorithm=HashingAlgorithm.SHA_384,
        mgf_hashing_algorithm=HashingAlgorithm.SHA_256,
    )
    assert plain == DATA
    with pytest.raises(AuthenticationFailed):
        asymmetric.rsa_decrypt(
            rsa_key, ciphertext, padding_method=PaddingMethod.OAEP, hashing_algorithm=HashingAlgorithm.SHA_384
        )


def test_oaep_encryption_round_trips_with_cryptography(rsa_key: rsa.RSAPrivateKey) -> None:
    ciphertext = asymmetric.rsa_encrypt(
        rsa_key.public_key(),
        DATA,
        padding_method=PaddingMethod.OAEP,
        hashing_algorithm=HashingAlgorithm.SHA_256,
        label=b"L",
    )
    assert len(ciphertext) == 256
    scheme = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), b"L")
    assert rsa_key.decrypt(ciphertext, scheme) == DATA


def test_oaep_defaults_to_sha1(rsa_key: rsa.RSAPrivateKey) -> None:
    ciphertext = asymmetric.rsa_encrypt(rsa_key.public_key(), DATA, padding_method=PaddingMethod.OAEP)
    assert rsa_key.decrypt(ciphertext, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)) == DATA


def test_pkcs1v15_encryption_round_trips(rsa_key: rsa.RSAPrivateKey) -> None:
    ciphertext = asymmetric.rsa_encrypt(rsa_key.public_key(), DATA, padding_method=PaddingMethod.PKCS1_V1_5)
    assert rsa_key.decrypt(ciphertext, padding.PKCS1v15()) == DATA
    assert asymmetric.rsa_decrypt(rsa_key, ciphertext, padding_method=PaddingMethod.PKCS1_V1_5) == DATA


def test_rsa_encryption_refuses(rsa_key: rsa.RSAPrivateKey) -> None:
    public = rsa_key.public_key()
    with pytest.raises(UnsupportedParameters):
        asymmetric.rsa_encrypt(public, DATA, padding_method=None)
    with pytest.raises(UnsupportedParameters):
        asymmetric.rsa_encrypt(public, DATA, padding_method=PaddingMethod.PSS)
    with pytest.raises(BadParameters):
        asymmetric.rsa_encrypt(public, DATA, padding_method=PaddingMethod.PKCS1_V1_5, label=b"L")
    with pytest.raises(DataLengthError):
        asymmetric.rsa_encrypt(public, bytes(300), padding_method=PaddingMethod.OAEP)
