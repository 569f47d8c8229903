"""KMIP key material <-> ``cryptography`` key objects (KMIP 1.4 sections 2.1.3, 2.1.7; 2.1 section 2.1.3).

A public or private key is stored in the format it arrived in (Register) or
was generated in (CreateKeyPair); Get re-expresses it in whatever Key Format
Type the client asks for by loading it here and serialising it again. DER
containers (PKCS#1, PKCS#8, SEC1 "EC Private Key", X.509 SubjectPublicKeyInfo)
and the Transparent structures are supported for RSA, EC and DSA; Ed25519 and
Ed448 also come as Raw bytes. Messages never include key material.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from kmipd.crypto.asymmetric import CURVES, PrivateKey, PublicKey
from kmipd.errors import CryptographicFailure, InvalidField, KeyFormatTypeNotSupported
from kmipd.protocol.enums import CryptographicAlgorithm, KeyFormatType, Tag
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, integer, structure

_DER = serialization.Encoding.DER
_NO_ENCRYPTION = serialization.NoEncryption()
_KFT = KeyFormatType

#: Transparent EC structures: the 1.3+ generic one and the deprecated per-algorithm ones (same layout).
EC_PRIVATE_TRANSPARENT = frozenset(
    {
        _KFT.TRANSPARENT_EC_PRIVATE_KEY,
        _KFT.TRANSPARENT_ECDSA_PRIVATE_KEY,
        _KFT.TRANSPARENT_ECDH_PRIVATE_KEY,
        _KFT.TRANSPARENT_ECMQV_PRIVATE_KEY,
    }
)
EC_PUBLIC_TRANSPARENT = frozenset(
    {
        _KFT.TRANSPARENT_EC_PUBLIC_KEY,
        _KFT.TRANSPARENT_ECDSA_PUBLIC_KEY,
        _KFT.TRANSPARENT_ECDH_PUBLIC_KEY,
        _KFT.TRANSPARENT_ECMQV_PUBLIC_KEY,
    }
)
_PRIVATE_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    dsa.DSAPrivateKey,
)
_PUBLIC_TYPES = (
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
    dsa.DSAPublicKey,
)
_CURVE_NAMES = {cls().name: curve for curve, cls in CURVES.items()}


def _big(tag: int, value: int) -> Item:
    return Item(tag, ItemType.BIG_INTEGER, value)


def _int_field(material: Item, tag: int, required: bool = True) -> int | None:
    item = material.find(tag)
    if item is None or item.type not in (ItemType.BIG_INTEGER, ItemType.INTEGER, ItemType.LONG_INTEGER):
        if required:
            raise InvalidField("the transparent key structure lacks a required field")
        return None
    return int(item.value)  # type: ignore[arg-type]


def _curve_of(material: Item) -> ec.EllipticCurve:
    item = material.find(Tag.RECOMMENDED_CURVE)
    if item is None or item.type is not ItemType.ENUMERATION:
        raise InvalidField("a transparent EC key needs a Recommended Curve")
    cls = CURVES.get(int(item.value))  # type: ignore[arg-type]
    if cls is None:
        raise CryptographicFailure("kmipd does not support keys on that curve")
    return cls()


def _material(block: Item) -> tuple[int, Item]:
    """The Key Format Type and Key Material of an unwrapped Key Block."""
    key_format = block.find(Tag.KEY_FORMAT_TYPE)
    value = block.find(Tag.KEY_VALUE)
    if key_format is None or value is None:
        raise InvalidField("the Key Block needs a Key Format Type and a Key Value")
    if value.type is not ItemType.STRUCTURE or block.find(Tag.KEY_WRAPPING_DATA) is not None:
        raise KeyFormatTypeNotSupported("wrapped key material cannot be used or converted")
    material = value.find(Tag.KEY_MATERIAL)
    if material is None:
        raise InvalidField("the Key Value has no Key Material")
    return int(key_format.value), material  # type: ignore[arg-type]


def _der(material: Item) -> bytes:
    if material.type is not ItemType.BYTE_STRING:
        raise InvalidField("this Key Format Type carries its Key Material as a Byte String")
    return bytes(material.value)  # type: ignore[arg-type]


def _algorithm(block: Item) -> int | None:
    item = block.find(Tag.CRYPTOGRAPHIC_ALGORITHM)
    return None if item is None else int(item.value)  # type: ignore[arg-type]


def _rsa_private(material: Item) -> rsa.RSAPrivateKey:
    n = _int_field(material, Tag.MODULUS)
    e = _int_field(material, Tag.PUBLIC_EXPONENT, required=False)
    d = _int_field(material, Tag.PRIVATE_EXPONENT, required=False)
    p = _int_field(material, Tag.P, required=False)
    q = _int_field(material, Tag.Q, required=False)
    assert n is not None
    if e is None:
        raise CryptographicFailure("kmipd needs the Public Exponent of a transparent RSA private key")
    if p is None or q is None:
        if d is None:
            raise CryptographicFailure("a transparent RSA private key needs the Private Exponent or P and Q")
        p, q = rsa.rsa_recover_prime_factors(n, e, d)
    if p * q != n:
        raise CryptographicFailure("P and Q are not the factors of the Modulus")
    if d is None:
        d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n)
    )
    return numbers.private_key()


def _dsa_parameters(material: Item) -> dsa.DSAParameterNumbers:
    p, q, g = (_int_field(material, tag) for tag in (Tag.P, Tag.Q, Tag.G))
    assert p is not None and q is not None and g is not None
    return dsa.DSAParameterNumbers(p, q, g)


def load_private_key(block: Item) -> PrivateKey:
    """The private key of a Private Key's Key Block.

    Raises:
        KeyFormatTypeNotSupported: wrapped material, or a format kmipd cannot read.
        InvalidField: the material does not have the shape its format requires.
        CryptographicFailure: the material is not a valid key.
    """
    key_format, material = _material(block)
    try:
        key: object
        if key_format in (_KFT.PKCS_1, _KFT.PKCS_8, _KFT.ECPRIVATEKEY):
            key = serialization.load_der_private_key(_der(material), password=None)
            if key_format == _KFT.PKCS_1 and not isinstance(key, rsa.RSAPrivateKey):
                raise CryptographicFailure("PKCS#1 key material must be an RSA key")
            if key_format == _KFT.ECPRIVATEKEY and not isinstance(key, ec.EllipticCurvePrivateKey):
                raise CryptographicFailure("EC Private Key material must be an EC key")
        elif key_format == _KFT.TRANSPARENT_RSA_PRIVATE_KEY:
            key = _rsa_private(material)
        elif key_format in EC_PRIVATE_TRANSPARENT:
            d = _int_field(material, Tag.D)
            assert d is not None
            key = ec.derive_private_key(d, _curve_of(material))
        elif key_format == _KFT.TRANSPARENT_DSA_PRIVATE_KEY:
            parameters = _dsa_parameters(material)
            x = _int_field(material, Tag.X)
            assert x is not None
            y = pow(parameters.g, x, parameters.p)
            key = dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(y, parameters)).private_key()
        elif key_format == _KFT.RAW and _algorithm(block) == CryptographicAlgorithm.ED25519:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(_der(material))
        elif key_format == _KFT.RAW and _algorithm(block) == CryptographicAlgorithm.ED448:
            key = ed448.Ed448PrivateKey.from_private_bytes(_der(material))
        else:
            raise KeyFormatTypeNotSupported("kmipd cannot read private keys in this Key Format Type")
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CryptographicFailure("the key material is not a valid private key in its Key Format Type") from None
    if not isinstance(key, _PRIVATE_TYPES):
        raise CryptographicFailure("kmipd does not support this kind of private key")
    return key


def load_public_key(block: Item) -> PublicKey:
    """The public key of a Public Key's Key Block.

    Raises:
        KeyFormatTypeNotSupported: wrapped material, or a format kmipd cannot read.
        InvalidField: the material does not have the shape its format requires.
        CryptographicFailure: the material is not a valid key.
    """
    key_format, material = _material(block)
    try:
        key: object
        if key_format == _KFT.PKCS_1:
            key = serialization.load_der_public_key(_der(material))
            if not isinstance(key, rsa.RSAPublicKey):
                raise CryptographicFailure("PKCS#1 key material must be an RSA key")
        elif key_format == _KFT.X_509:
            key = serialization.load_der_public_key(_der(material))
        elif key_format == _KFT.TRANSPARENT_RSA_PUBLIC_KEY:
            n, e = _int_field(material, Tag.MODULUS), _int_field(material, Tag.PUBLIC_EXPONENT)
            assert n is not None and e is not None
            key = rsa.RSAPublicNumbers(e, n).public_key()
        elif key_format in EC_PUBLIC_TRANSPARENT:
            point = material.find(Tag.Q_STRING)
            if point is None or point.type is not ItemType.BYTE_STRING:
                raise InvalidField("a transparent EC public key needs a Q String")
            key = ec.EllipticCurvePublicKey.from_encoded_point(_curve_of(material), bytes(point.value))  # type: ignore[arg-type]
        elif key_format == _KFT.TRANSPARENT_DSA_PUBLIC_KEY:
            y = _int_field(material, Tag.Y)
            assert y is not None
            key = dsa.DSAPublicNumbers(y, _dsa_parameters(material)).public_key()
        elif key_format == _KFT.RAW and _algorithm(block) == CryptographicAlgorithm.ED25519:
            key = ed25519.Ed25519PublicKey.from_public_bytes(_der(material))
        elif key_format == _KFT.RAW and _algorithm(block) == CryptographicAlgorithm.ED448:
            key = ed448.Ed448PublicKey.from_public_bytes(_der(material))
        else:
            raise KeyFormatTypeNotSupported("kmipd cannot read public keys in this Key Format Type")
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CryptographicFailure("the key material is not a valid public key in its Key Format Type") from None
    return _checked_public(key)


def _checked_public(key: object) -> PublicKey:
    if isinstance(key, _PUBLIC_TYPES):
        return key
    raise CryptographicFailure("kmipd does not support this kind of public key")


def public_key_from_certificate(body: Item) -> PublicKey:
    """The subject public key of a Certificate object (X.509, DER).

    Raises:
        InvalidField: no Certificate Value, or not a DER X.509 certificate.
        CryptographicFailure: a key type kmipd does not support.
    """
    value = body.find(Tag.CERTIFICATE_VALUE)
    if value is None or value.type is not ItemType.BYTE_STRING:
        raise InvalidField("a Certificate needs a Certificate Value")
    try:
        certificate = x509.load_der_x509_certificate(bytes(value.value))  # type: ignore[arg-type]
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidField("the Certificate Value is not a usable DER X.509 certificate") from None
    return _checked_public(key)


# --------------------------------------------------------------------------- serialising


def _ec_curve_item(curve: ec.EllipticCurve) -> Item:
    if curve.name not in _CURVE_NAMES:
        raise KeyFormatTypeNotSupported("the key's curve has no KMIP Recommended Curve")
    return enumeration(Tag.RECOMMENDED_CURVE, _CURVE_NAMES[curve.name])


def private_key_material(key: PrivateKey, key_format: int) -> Item:
    """The Key Material of ``key`` in ``key_format``.

    Raises:
        KeyFormatTypeNotSupported: the format does not exist for this kind of key.
    """
    if key_format == _KFT.PKCS_8:
        return byte_string(Tag.KEY_MATERIAL, key.private_bytes(_DER, serialization.PrivateFormat.PKCS8, _NO_ENCRYPTION))
    if isinstance(key, rsa.RSAPrivateKey):
        if key_format == _KFT.PKCS_1:
            der = key.private_bytes(_DER, serialization.PrivateFormat.TraditionalOpenSSL, _NO_ENCRYPTION)
            return byte_string(Tag.KEY_MATERIAL, der)
        if key_format == _KFT.TRANSPARENT_RSA_PRIVATE_KEY:
            numbers = key.private_numbers()
            return structure(
                Tag.KEY_MATERIAL,
                _big(Tag.MODULUS, numbers.public_numbers.n),
                _big(Tag.PRIVATE_EXPONENT, numbers.d),
                _big(Tag.PUBLIC_EXPONENT, numbers.public_numbers.e),
                _big(Tag.P, numbers.p),
                _big(Tag.Q, numbers.q),
                _big(Tag.PRIME_EXPONENT_P, numbers.dmp1),
                _big(Tag.PRIME_EXPONENT_Q, numbers.dmq1),
                _big(Tag.CRT_COEFFICIENT, numbers.iqmp),
            )
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        if key_format == _KFT.ECPRIVATEKEY:
            der = key.private_bytes(_DER, serialization.PrivateFormat.TraditionalOpenSSL, _NO_ENCRYPTION)
            return byte_string(Tag.KEY_MATERIAL, der)
        if key_format in EC_PRIVATE_TRANSPARENT:
            return structure(
                Tag.KEY_MATERIAL, _ec_curve_item(key.curve), _big(Tag.D, key.private_numbers().private_value)
            )
    elif isinstance(key, dsa.DSAPrivateKey):
        if key_format == _KFT.TRANSPARENT_DSA_PRIVATE_KEY:
            dsa_numbers = key.private_numbers()
            parameters = dsa_numbers.public_numbers.parameter_numbers
            return structure(
                Tag.KEY_MATERIAL,
                _big(Tag.P, parameters.p),
                _big(Tag.Q, parameters.q),
                _big(Tag.G, parameters.g),
                _big(Tag.X, dsa_numbers.x),
            )
    elif key_format == _KFT.RAW:
        raw = key.private_bytes(_DER.Raw, serialization.PrivateFormat.Raw, _NO_ENCRYPTION)
        return byte_string(Tag.KEY_MATERIAL, raw)
    raise KeyFormatTypeNotSupported("this private key cannot be expressed in the requested Key Format Type")


def public_key_material(key: PublicKey, key_format: int) -> Item:
    """The Key Material of ``key`` in ``key_format``.

    Raises:
        KeyFormatTypeNotSupported: the format does not exist for this kind of key.
    """
    if key_format == _KFT.X_509:
        der = key.public_bytes(_DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return byte_string(Tag.KEY_MATERIAL, der)
    if isinstance(key, rsa.RSAPublicKey):
        if key_format == _KFT.PKCS_1:
            return byte_string(Tag.KEY_MATERIAL, key.public_bytes(_DER, serialization.PublicFormat.PKCS1))
        if key_format == _KFT.TRANSPARENT_RSA_PUBLIC_KEY:
            numbers = key.public_numbers()
            return structure(Tag.KEY_MATERIAL, _big(Tag.MODULUS, numbers.n), _big(Tag.PUBLIC_EXPONENT, numbers.e))
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key_format in EC_PUBLIC_TRANSPARENT:
            point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            return structure(Tag.KEY_MATERIAL, _ec_curve_item(key.curve), byte_string(Tag.Q_STRING, point))
    elif isinstance(key, dsa.DSAPublicKey):
        if key_format == _KFT.TRANSPARENT_DSA_PUBLIC_KEY:
            parameters = key.parameters().parameter_numbers()
            return structure(
                Tag.KEY_MATERIAL,
                _big(Tag.P, parameters.p),
                _big(Tag.Q, parameters.q),
                _big(Tag.G, parameters.g),
                _big(Tag.Y, key.public_numbers().y),
            )
    elif key_format == _KFT.RAW:
        return byte_string(Tag.KEY_MATERIAL, key.public_bytes(_DER.Raw, serialization.PublicFormat.Raw))
    raise KeyFormatTypeNotSupported("this public key cannot be expressed in the requested Key Format Type")


def recommended_curve(key: PrivateKey | PublicKey) -> int | None:
    """The Recommended Curve of an EC key (None for other keys)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return _CURVE_NAMES.get(key.curve.name)
    return None


def default_formats(key: PrivateKey) -> tuple[int, int]:
    """The (private, public) Key Format Types a generated key pair is stored in.

    RSA keys are PKCS#1, as the OASIS test cases (AKLC-M-1) expect of a server;
    every other kind uses the algorithm-neutral PKCS#8 and SubjectPublicKeyInfo.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        return _KFT.PKCS_1, _KFT.PKCS_1
    return _KFT.PKCS_8, _KFT.X_509


def key_block(material: Item, key_format: int, algorithm: int, length: int) -> Item:
    """A plain (unwrapped) Key Block around ``material``."""
    return structure(
        Tag.KEY_BLOCK,
        enumeration(Tag.KEY_FORMAT_TYPE, key_format),
        structure(Tag.KEY_VALUE, material),
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
        integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
    )


def convert_block(block: Item, wanted: int, *, private: bool) -> Item:
    """``block`` with its Key Material re-expressed in ``wanted``; other fields are kept as they are.

    Raises:
        KeyFormatTypeNotSupported: wrapped material, or a conversion that does not exist.
        CryptographicFailure: the stored material cannot be read.
    """
    current = block.find(Tag.KEY_FORMAT_TYPE)
    if current is not None and current.value == wanted:
        return block
    material = (
        private_key_material(load_private_key(block), wanted)
        if private
        else public_key_material(load_public_key(block), wanted)
    )
    return replace_material(block, material, wanted)


def replace_material(block: Item, material: Item, key_format: int) -> Item:
    """``block`` with new Key Material in ``key_format``; every other field of the block is kept."""
    value = block.find(Tag.KEY_VALUE)
    kept = () if value is None else tuple(c for c in value.children if c.tag != Tag.KEY_MATERIAL)
    new_value = Item(Tag.KEY_VALUE, ItemType.STRUCTURE, (material, *kept))
    children = []
    for child in block.children:
        if child.tag == Tag.KEY_FORMAT_TYPE:
            children.append(enumeration(Tag.KEY_FORMAT_TYPE, key_format))
        elif child.tag == Tag.KEY_VALUE:
            children.append(new_value)
        else:
            children.append(child)
    return Item(block.tag, block.type, tuple(children))
