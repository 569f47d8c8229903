"""KMIP key material <-> cryptography keys: every format round-trips and matches ``cryptography``'s own encodings."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from kmipd.crypto import formats
from kmipd.errors import CryptographicFailure, InvalidField, KeyFormatTypeNotSupported
from kmipd.protocol.enums import CryptographicAlgorithm, KeyFormatType, RecommendedCurve, Tag
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, integer, structure, text

KFT = KeyFormatType
DER = serialization.Encoding.DER
NONE = serialization.NoEncryption()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def block(material: Item, key_format: int, algorithm: int = CryptographicAlgorithm.RSA, length: int = 2048) -> Item:
    return formats.key_block(material, key_format, algorithm, length)


def big(material: Item, tag: int) -> int:
    item = material.find(tag)
    assert item is not None and item.type is ItemType.BIG_INTEGER
    return int(item.value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- RSA


def test_rsa_der_formats_are_cryptographys_encodings(rsa_key: rsa.RSAPrivateKey) -> None:
    pkcs1 = formats.private_key_material(rsa_key, KFT.PKCS_1)
    assert pkcs1.value == rsa_key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NONE)
    pkcs8 = formats.private_key_material(rsa_key, KFT.PKCS_8)
    assert pkcs8.value == rsa_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NONE)
    public = rsa_key.public_key()
    assert formats.public_key_material(public, KFT.PKCS_1).value == public.public_bytes(
        DER, serialization.PublicFormat.PKCS1
    )
    assert formats.public_key_material(public, KFT.X_509).value == public.public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("key_format", [KFT.PKCS_1, KFT.PKCS_8, KFT.TRANSPARENT_RSA_PRIVATE_KEY])
def test_rsa_private_formats_round_trip(rsa_key: rsa.RSAPrivateKey, key_format: int) -> None:
    loaded = formats.load_private_key(block(formats.private_key_material(rsa_key, key_format), key_format))
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == rsa_key.private_numbers()


@pytest.mark.parametrize("key_format", [KFT.PKCS_1, KFT.X_509, KFT.TRANSPARENT_RSA_PUBLIC_KEY])
def test_rsa_public_formats_round_trip(rsa_key: rsa.RSAPrivateKey, key_format: int) -> None:
    public = rsa_key.public_key()
    loaded = formats.load_public_key(block(formats.public_key_material(public, key_format), key_format))
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == public.public_numbers()


def test_transparent_rsa_private_key_fields(rsa_key: rsa.RSAPrivateKey) -> None:
    numbers = rsa_key.private_numbers()
    material = formats.private_key_material(rsa_key, KFT.TRANSPARENT_RSA_PRIVATE_KEY)
    assert big(material, Tag.MODULUS) == numbers.public_numbers.n
    assert big(material, Tag.PUBLIC_EXPONENT) == 65537
    assert big(material, Tag.PRIVATE_EXPONENT) == numbers.d
    assert (big(material, Tag.P), big(material, Tag.Q)) == (numbers.p, numbers.q)
    assert big(material, Tag.CRT_COEFFICIENT) == numbers.iqmp


def test_transparent_rsa_private_key_from_modulus_and_exponents_only(rsa_key: rsa.RSAPrivateKey) -> None:
    numbers = rsa_key.private_numbers()
    material = structure(
        Tag.KEY_MATERIAL,
        Item(Tag.MODULUS, ItemType.BIG_INTEGER, numbers.public_numbers.n),
        Item(Tag.PRIVATE_EXPONENT, ItemType.BIG_INTEGER, numbers.d),
        Item(Tag.PUBLIC_EXPONENT, ItemType.BIG_INTEGER, numbers.public_numbers.e),
    )
    loaded = formats.load_private_key(block(material, KFT.TRANSPARENT_RSA_PRIVATE_KEY))
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers().d == numbers.d
    assert {loaded.private_numbers().p, loaded.private_numbers().q} == {numbers.p, numbers.q}


def test_transparent_rsa_private_key_without_public_exponent_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    material = structure(
        Tag.KEY_MATERIAL,
        Item(Tag.MODULUS, ItemType.BIG_INTEGER, rsa_key.private_numbers().public_numbers.n),
        Item(Tag.PRIVATE_EXPONENT, ItemType.BIG_INTEGER, rsa_key.private_numbers().d),
    )
    with pytest.raises(CryptographicFailure):
        formats.load_private_key(block(material, KFT.TRANSPARENT_RSA_PRIVATE_KEY))


# --------------------------------------------------------------------------- EC, EdDSA, DSA


@pytest.mark.parametrize(
    "key_format", [KFT.PKCS_8, KFT.ECPRIVATEKEY, KFT.TRANSPARENT_EC_PRIVATE_KEY, KFT.TRANSPARENT_ECDSA_PRIVATE_KEY]
)
def test_ec_private_formats_round_trip(ec_key: ec.EllipticCurvePrivateKey, key_format: int) -> None:
    material = formats.private_key_material(ec_key, key_format)
    loaded = formats.load_private_key(block(material, key_format, CryptographicAlgorithm.EC, 256))
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == ec_key.private_numbers()


def test_transparent_ec_keys_carry_the_curve_and_the_point(ec_key: ec.EllipticCurvePrivateKey) -> None:
    private = formats.private_key_material(ec_key, KFT.TRANSPARENT_EC_PRIVATE_KEY)
    assert private.find(Tag.RECOMMENDED_CURVE) == enumeration(Tag.RECOMMENDED_CURVE, RecommendedCurve.P_256)
    assert big(private, Tag.D) == ec_key.private_numbers().private_value
    public = formats.public_key_material(ec_key.public_key(), KFT.TRANSPARENT_EC_PUBLIC_KEY)
    point = ec_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert public.find(Tag.Q_STRING) == byte_string(Tag.Q_STRING, point)
    loaded = formats.load_public_key(block(public, KFT.TRANSPARENT_EC_PUBLIC_KEY, CryptographicAlgorithm.EC, 256))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert loaded.public_numbers() == ec_key.public_key().public_numbers()
    assert formats.recommended_curve(loaded) == RecommendedCurve.P_256


def test_ed25519_raw_and_der() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    raw = formats.private_key_material(key, KFT.RAW)
    assert raw.value == bytes(range(32))
    loaded = formats.load_private_key(block(raw, KFT.RAW, CryptographicAlgorithm.ED25519, 256))
    assert isinstance(loaded, ed25519.Ed25519PrivateKey)
    assert loaded.private_bytes_raw() == bytes(range(32))
    spki = formats.public_key_material(key.public_key(), KFT.X_509)
    public = formats.load_public_key(block(spki, KFT.X_509, CryptographicAlgorithm.ED25519, 256))
    assert isinstance(public, ed25519.Ed25519PublicKey)
    assert public.public_bytes_raw() == key.public_key().public_bytes_raw()
    assert formats.default_formats(key) == (KFT.PKCS_8, KFT.X_509)


def test_transparent_dsa_private_key_derives_y() -> None:
    key = dsa.generate_private_key(2048)
    material = formats.private_key_material(key, KFT.TRANSPARENT_DSA_PRIVATE_KEY)
    loaded = formats.load_private_key(block(material, KFT.TRANSPARENT_DSA_PRIVATE_KEY, CryptographicAlgorithm.DSA))
    assert isinstance(loaded, dsa.DSAPrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    public = formats.public_key_material(key.public_key(), KFT.TRANSPARENT_DSA_PUBLIC_KEY)
    assert big(public, Tag.Y) == key.public_key().public_numbers().y


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("key_format", [KFT.X_509, KFT.RAW, KFT.ECPRIVATEKEY, KFT.TRANSPARENT_EC_PRIVATE_KEY])
def test_rsa_private_key_refuses_foreign_formats(rsa_key: rsa.RSAPrivateKey, key_format: int) -> None:
    with pytest.raises(KeyFormatTypeNotSupported):
        formats.private_key_material(rsa_key, key_format)


def test_ec_keys_have_no_pkcs1(ec_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(KeyFormatTypeNotSupported):
        formats.private_key_material(ec_key, KFT.PKCS_1)
    with pytest.raises(KeyFormatTypeNotSupported):
        formats.public_key_material(ec_key.public_key(), KFT.PKCS_1)
    pkcs8 = formats.private_key_material(ec_key, KFT.PKCS_8)
    with pytest.raises(CryptographicFailure):
        formats.load_private_key(block(pkcs8, KFT.PKCS_1))


def test_garbage_and_wrapped_material_are_refused() -> None:
    with pytest.raises(CryptographicFailure):
        formats.load_private_key(block(byte_string(Tag.KEY_MATERIAL, b"\x30\x03\x02\x01\x00"), KFT.PKCS_8))
    with pytest.raises(CryptographicFailure):
        formats.load_public_key(block(byte_string(Tag.KEY_MATERIAL, b"not a key"), KFT.X_509))
    with pytest.raises(InvalidField):
        formats.load_public_key(block(structure(Tag.KEY_MATERIAL), KFT.TRANSPARENT_RSA_PUBLIC_KEY))
    wrapped = structure(
        Tag.KEY_BLOCK,
        enumeration(Tag.KEY_FORMAT_TYPE, KFT.PKCS_1),
        byte_string(Tag.KEY_VALUE, b"wrapped bytes"),
        structure(Tag.KEY_WRAPPING_DATA, enumeration(Tag.WRAPPING_METHOD, 1)),
    )
    with pytest.raises(KeyFormatTypeNotSupported):
        formats.load_private_key(wrapped)
    with pytest.raises(KeyFormatTypeNotSupported):
        formats.load_public_key(block(byte_string(Tag.KEY_MATERIAL, b"x"), KFT.PKCS_12))


def test_convert_block_keeps_everything_but_the_material(rsa_key: rsa.RSAPrivateKey) -> None:
    original = structure(
        Tag.KEY_BLOCK,
        enumeration(Tag.KEY_FORMAT_TYPE, KFT.PKCS_1),
        structure(Tag.KEY_VALUE, formats.private_key_material(rsa_key, KFT.PKCS_1)),
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.RSA),
        integer(Tag.CRYPTOGRAPHIC_LENGTH, 2048),
    )
    converted = formats.convert_block(original, KFT.PKCS_8, private=True)
    assert converted.find(Tag.KEY_FORMAT_TYPE) == enumeration(Tag.KEY_FORMAT_TYPE, KFT.PKCS_8)
    assert converted.find(Tag.CRYPTOGRAPHIC_LENGTH) == integer(Tag.CRYPTOGRAPHIC_LENGTH, 2048)
    value = converted.find(Tag.KEY_VALUE)
    assert value is not None and value.find(Tag.KEY_MATERIAL) == formats.private_key_material(rsa_key, KFT.PKCS_8)
    assert formats.convert_block(original, KFT.PKCS_1, private=True) is original


def test_certificate_public_key(ec_key: ec.EllipticCurvePrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ec_key, hashes.SHA256())
    )
    body = structure(
        Tag.CERTIFICATE,
        enumeration(Tag.CERTIFICATE_TYPE, 1),
        byte_string(Tag.CERTIFICATE_VALUE, certificate.public_bytes(DER)),
    )
    key = formats.public_key_from_certificate(body)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.public_numbers() == ec_key.public_key().public_numbers()
    with pytest.raises(InvalidField):
        formats.public_key_from_certificate(structure(Tag.CERTIFICATE, text(Tag.CERTIFICATE_VALUE, "x")))
