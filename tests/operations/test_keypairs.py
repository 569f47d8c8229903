"""CreateKeyPair, ReKeyKeyPair, Sign and SignatureVerify through the Processor, in KMIP 1.4 and 2.1."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kmipd.protocol.enums import (
    CryptographicAlgorithm,
    CryptographicUsageMask,
    HashingAlgorithm,
    KeyFormatType,
    LinkType,
    ObjectType,
    Operation,
    PaddingMethod,
    RecommendedCurve,
    ResultReason,
    State,
    Tag,
    ValidityIndicator,
)
from kmipd.ttlv.item import Item, ItemType, byte_string, date_time, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    V1_4,
    V2_0,
    V2_1,
    Client,
    Result,
    attr_1x,
    attr_2x,
    av,
    name_value,
    op,
    wrong_state_reason,
)

Attrs = Sequence[tuple[str, Item]]
DATA = bytes(range(1, 17))
SIGN, VERIFY = CryptographicUsageMask.SIGN, CryptographicUsageMask.VERIFY


@pytest.fixture(params=[V1_4, V2_1], ids=["1.4", "2.1"])
def client(request, processor) -> Client:  # type: ignore[no-untyped-def]
    return Client(processor, request.param)


def _container(client: Client, which: int, attrs: Attrs) -> Item | None:
    if not attrs:
        return None
    if client.version >= V2_0:
        tag = (Tag.COMMON_ATTRIBUTES, Tag.PRIVATE_KEY_ATTRIBUTES, Tag.PUBLIC_KEY_ATTRIBUTES)[which]
        return structure(tag, *(attr_2x(n, v) for n, v in attrs))
    tag = (Tag.COMMON_TEMPLATE_ATTRIBUTE, Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE)[which]
    return structure(tag, *(attr_1x(n, v) for n, v in attrs))


def a(name: str, value: object) -> tuple[str, Item]:
    return name, av(name, value)


def create_pair(client: Client, common: Attrs, private: Attrs = (), public: Attrs = ()) -> Result:
    return client.call(
        Operation.CREATE_KEY_PAIR,
        _container(client, 0, common),
        _container(client, 1, private),
        _container(client, 2, public),
    )


def rsa_common(length: int = 2048) -> Attrs:
    return [a("Cryptographic Algorithm", CryptographicAlgorithm.RSA), a("Cryptographic Length", length)]


def pss_params(hashing: int = HashingAlgorithm.SHA_256) -> Item:
    return structure(
        Tag.CRYPTOGRAPHIC_PARAMETERS,
        enumeration(Tag.PADDING_METHOD, PaddingMethod.PSS),
        enumeration(Tag.HASHING_ALGORITHM, hashing),
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.RSA),
    )


def uids(result: Result) -> tuple[str, str]:
    result.expect_ok()
    private, public = result.find(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER), result.find(Tag.PUBLIC_KEY_UNIQUE_IDENTIFIER)
    assert private is not None and public is not None
    return str(private.value), str(public.value)


def active_rsa_pair(client: Client) -> tuple[str, str]:
    past = [a("Activation Date", date_time(0, T0 - 60))]
    return uids(
        create_pair(
            client,
            [*rsa_common(), *past],
            [a("Cryptographic Usage Mask", SIGN)],
            [a("Cryptographic Usage Mask", VERIFY)],
        )
    )


def key_block(result: Result, tag: int) -> Item:
    body = result.find(tag)
    assert body is not None
    block = body.find(Tag.KEY_BLOCK)
    assert block is not None
    return block


def material(block: Item) -> Item:
    value = block.find(Tag.KEY_VALUE)
    assert value is not None
    found = value.find(Tag.KEY_MATERIAL)
    assert found is not None
    return found


def links(client: Client, uid: str) -> dict[int, str]:
    return {
        int(link.find(Tag.LINK_TYPE).value): str(link.find(Tag.LINKED_OBJECT_IDENTIFIER).value)  # type: ignore[union-attr, arg-type]
        for link in client.attributes(uid, "Link").get("Link", [])
    }


def name_of(client: Client, uid: str) -> str | None:
    names = client.attributes(uid, "Name").get("Name", [])
    assert len(names) <= 1
    return None if not names else str(names[0].find(Tag.NAME_VALUE).value)  # type: ignore[union-attr]


def sign(client: Client, uid: str, *extra: Item | None, data: bytes = DATA) -> Result:
    return client.call(Operation.SIGN, text(Tag.UNIQUE_IDENTIFIER, uid), *extra, byte_string(Tag.DATA, data))


def verify(client: Client, uid: str, signature: bytes, *extra: Item | None, data: bytes = DATA) -> Result:
    return client.call(
        Operation.SIGNATURE_VERIFY,
        text(Tag.UNIQUE_IDENTIFIER, uid),
        *extra,
        byte_string(Tag.DATA, data),
        byte_string(Tag.SIGNATURE_DATA, signature),
    )


def validity(result: Result) -> int:
    item = result.expect_ok().find(Tag.VALIDITY_INDICATOR)
    assert item is not None
    return int(item.value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CreateKeyPair


def test_create_rsa_pair_makes_two_linked_pre_active_objects(client: Client) -> None:
    private, public = uids(
        create_pair(
            client,
            rsa_common(),
            [a("Name", name_value("k-private")), a("Cryptographic Usage Mask", SIGN)],
            [a("Name", name_value("k-public")), a("Cryptographic Usage Mask", VERIFY)],
        )
    )
    assert client.attribute(private, "Object Type") == ObjectType.PRIVATE_KEY
    assert client.attribute(public, "Object Type") == ObjectType.PUBLIC_KEY
    for uid, mask in ((private, SIGN), (public, VERIFY)):
        assert client.state(uid) == State.PRE_ACTIVE
        assert client.attribute(uid, "Cryptographic Algorithm") == CryptographicAlgorithm.RSA
        assert client.attribute(uid, "Cryptographic Length") == 2048
        assert client.attribute(uid, "Cryptographic Usage Mask") == mask
        if client.version >= V2_0:  # an attribute since KMIP 2.0
            assert client.attribute(uid, "Key Format Type") == KeyFormatType.PKCS_1
    assert links(client, private) == {LinkType.PUBLIC_KEY_LINK: public}
    assert links(client, public) == {LinkType.PRIVATE_KEY_LINK: private}
    assert name_of(client, private) == "k-private"
    assert name_of(client, public) == "k-public"


def test_the_two_keys_belong_together(client: Client) -> None:
    private, public = active_rsa_pair(client)
    private_block = key_block(client.get(private).expect_ok(), Tag.PRIVATE_KEY)
    public_block = key_block(client.get(public).expect_ok(), Tag.PUBLIC_KEY)
    # Veeam refuses 1.x Attribute items inside a Key Value.
    assert private_block.find(Tag.KEY_VALUE).find(Tag.ATTRIBUTE) is None  # type: ignore[union-attr]
    private_key = serialization.load_der_private_key(bytes(material(private_block).value), None)  # type: ignore[arg-type]
    public_key = serialization.load_der_public_key(bytes(material(public_block).value))  # type: ignore[arg-type]
    assert isinstance(private_key, rsa.RSAPrivateKey) and isinstance(public_key, rsa.RSAPublicKey)
    assert private_key.public_key().public_numbers() == public_key.public_numbers()
    assert private_key.key_size == 2048


def test_id_placeholder_names_the_private_key(client: Client) -> None:
    response = client.batch(
        [
            op(
                Operation.CREATE_KEY_PAIR,
                _container(client, 0, [*rsa_common(), a("Cryptographic Usage Mask", SIGN)]),
                batch_id=b"1",
            ),
            op(Operation.ACTIVATE, batch_id=b"2"),
        ]
    )
    private, public = uids(response.items[0])
    assert response.items[1].expect_ok().uid == private
    assert client.state(private) == State.ACTIVE
    assert client.state(public) == State.PRE_ACTIVE


def test_past_activation_date_makes_both_active(client: Client) -> None:
    private, public = active_rsa_pair(client)
    assert client.state(private) == State.ACTIVE
    assert client.state(public) == State.ACTIVE


def test_own_attributes_win_over_common_ones(client: Client) -> None:
    private, public = uids(
        create_pair(
            client,
            [*rsa_common(), a("Cryptographic Usage Mask", SIGN | VERIFY)],
            [a("Cryptographic Usage Mask", SIGN)],
        )
    )
    assert client.attribute(private, "Cryptographic Usage Mask") == SIGN
    assert client.attribute(public, "Cryptographic Usage Mask") == SIGN | VERIFY


@pytest.mark.parametrize(
    ("common", "curve_name", "length"),
    [
        ([a("Cryptographic Length", 384)], "secp384r1", 384),
        (
            [
                a(
                    "Cryptographic Domain Parameters",
                    structure(0, enumeration(Tag.RECOMMENDED_CURVE, RecommendedCurve.P_256)),
                )
            ],
            "secp256r1",
            256,
        ),
    ],
)
def test_ec_pair(client: Client, common: Attrs, curve_name: str, length: int) -> None:
    private, public = uids(create_pair(client, [a("Cryptographic Algorithm", CryptographicAlgorithm.ECDSA), *common]))
    assert client.attribute(private, "Cryptographic Length") == length
    result = client.get(public, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.TRANSPARENT_EC_PUBLIC_KEY)).expect_ok()
    point = material(key_block(result, Tag.PUBLIC_KEY)).find(Tag.Q_STRING)
    assert point is not None
    der = material(key_block(client.get(private).expect_ok(), Tag.PRIVATE_KEY))
    private_key = serialization.load_der_private_key(bytes(der.value), None)  # type: ignore[arg-type]
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert private_key.curve.name == curve_name
    assert point.value == private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def test_get_converts_private_key_formats(client: Client) -> None:
    private, _ = active_rsa_pair(client)
    pkcs1 = material(key_block(client.get(private).expect_ok(), Tag.PRIVATE_KEY))
    key = serialization.load_der_private_key(bytes(pkcs1.value), None)  # type: ignore[arg-type]
    assert isinstance(key, rsa.RSAPrivateKey)
    wanted = enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.PKCS_8)
    pkcs8 = key_block(client.get(private, wanted).expect_ok(), Tag.PRIVATE_KEY)
    assert pkcs8.find(Tag.KEY_FORMAT_TYPE) == enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.PKCS_8)
    assert material(pkcs8).value == key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    wanted = enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.TRANSPARENT_RSA_PRIVATE_KEY)
    transparent = material(key_block(client.get(private, wanted).expect_ok(), Tag.PRIVATE_KEY))
    modulus = transparent.find(Tag.MODULUS)
    assert modulus is not None and modulus.type is ItemType.BIG_INTEGER
    assert modulus.value == key.private_numbers().public_numbers.n
    refused = client.get(private, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.X_509))
    assert refused.failure()[0] == ResultReason.KEY_FORMAT_TYPE_NOT_SUPPORTED


def test_get_converts_public_key_to_x509(client: Client) -> None:
    _, public = active_rsa_pair(client)
    result = client.get(public, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.X_509)).expect_ok()
    key = serialization.load_der_public_key(bytes(material(key_block(result, Tag.PUBLIC_KEY)).value))  # type: ignore[arg-type]
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


@pytest.mark.parametrize(
    ("common", "reason"),
    [
        ([a("Cryptographic Length", 2048)], ResultReason.MISSING_DATA),
        (rsa_common(1024), ResultReason.CRYPTOGRAPHIC_FAILURE),
        (
            [a("Cryptographic Algorithm", CryptographicAlgorithm.AES), a("Cryptographic Length", 256)],
            ResultReason.INVALID_FIELD,
        ),
    ],
)
def test_create_pair_refuses(client: Client, common: Attrs, reason: int) -> None:
    assert create_pair(client, common).failure()[0] == reason


def test_both_keys_cannot_share_a_name(client: Client) -> None:
    result = create_pair(client, [*rsa_common(), a("Name", name_value("same"))])
    assert result.failure()[0] == ResultReason.INVALID_FIELD
    assert client.locate_uids([("Name", av("Name", name_value("same")))]) == []


# --------------------------------------------------------------------------- Sign / SignatureVerify


def test_sign_and_verify_pss(client: Client) -> None:
    private, public = active_rsa_pair(client)
    signature = bytes(sign(client, private, pss_params()).expect_ok().find(Tag.SIGNATURE_DATA).value)  # type: ignore[union-attr, arg-type]
    assert len(signature) == 256
    public_der = material(
        key_block(client.get(public, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.X_509)).expect_ok(), Tag.PUBLIC_KEY)
    )
    public_key = serialization.load_der_public_key(bytes(public_der.value))  # type: ignore[arg-type]
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, DATA, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    assert validity(verify(client, public, signature, pss_params())) == ValidityIndicator.VALID
    assert (
        validity(verify(client, public, signature, pss_params(), data=b"\xff" + DATA[1:])) == ValidityIndicator.INVALID
    )
    assert validity(verify(client, public, signature, pss_params(HashingAlgorithm.SHA_1))) == ValidityIndicator.INVALID


def test_parameters_default_to_the_objects_attribute(client: Client) -> None:
    private, public = active_rsa_pair(client)
    assert client.add_attribute(private, "Cryptographic Parameters", pss_params()).ok
    assert client.add_attribute(public, "Cryptographic Parameters", pss_params()).ok
    signature = bytes(sign(client, private).expect_ok().find(Tag.SIGNATURE_DATA).value)  # type: ignore[union-attr, arg-type]
    assert validity(verify(client, public, signature)) == ValidityIndicator.VALID


def test_sign_without_parameters_is_refused(client: Client) -> None:
    private, _ = active_rsa_pair(client)
    expected = (
        ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS if client.version >= V2_0 else ResultReason.CRYPTOGRAPHIC_FAILURE
    )
    assert sign(client, private).failure()[0] == expected


def test_sign_needs_an_active_private_key_with_sign_usage(client: Client) -> None:
    private, public = uids(
        create_pair(
            client, rsa_common(), [a("Cryptographic Usage Mask", SIGN)], [a("Cryptographic Usage Mask", VERIFY)]
        )
    )
    assert sign(client, private, pss_params()).failure()[0] == wrong_state_reason(client.version)
    wrong_type = ResultReason.INVALID_OBJECT_TYPE if client.version >= V2_0 else ResultReason.INVALID_FIELD
    assert sign(client, public, pss_params()).failure()[0] == wrong_type
    client.activate(private).expect_ok()
    client.activate(public).expect_ok()
    no_sign = (
        ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK if client.version >= V2_0 else ResultReason.INVALID_FIELD
    )
    signature = bytes(sign(client, private, pss_params()).expect_ok().find(Tag.SIGNATURE_DATA).value)  # type: ignore[union-attr, arg-type]
    assert verify(client, private, signature, pss_params()).failure()[0] == wrong_type
    assert validity(verify(client, public, signature, pss_params())) == ValidityIndicator.VALID
    client.revoke(private).expect_ok()
    assert sign(client, private, pss_params()).failure()[0] == wrong_state_reason(client.version)
    other, _ = uids(create_pair(client, [*rsa_common(), a("Activation Date", date_time(0, T0 - 1))]))
    assert sign(client, other, pss_params()).failure()[0] == no_sign


def test_protect_stop_and_process_start_dates(client: Client) -> None:
    dates = [a("Activation Date", date_time(0, T0 - 60)), a("Protect Stop Date", date_time(0, T0 - 1))]
    private, public = uids(
        create_pair(
            client,
            [*rsa_common(), *dates, a("Process Start Date", date_time(0, T0 + 3600))],
            [a("Cryptographic Usage Mask", SIGN)],
            [a("Cryptographic Usage Mask", VERIFY)],
        )
    )
    assert sign(client, private, pss_params()).failure()[0] == wrong_state_reason(client.version)
    assert verify(client, public, bytes(256), pss_params()).failure()[0] == wrong_state_reason(client.version)


def test_digested_data(client: Client) -> None:
    private, public = active_rsa_pair(client)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(DATA)
    digested = byte_string(Tag.DIGESTED_DATA, digest.finalize())
    signed = client.call(Operation.SIGN, text(Tag.UNIQUE_IDENTIFIER, private), pss_params(), digested).expect_ok()
    signature = bytes(signed.find(Tag.SIGNATURE_DATA).value)  # type: ignore[union-attr, arg-type]
    assert validity(verify(client, public, signature, pss_params())) == ValidityIndicator.VALID
    both = client.call(
        Operation.SIGN, text(Tag.UNIQUE_IDENTIFIER, private), pss_params(), digested, byte_string(Tag.DATA, DATA)
    )
    assert both.failure()[0] == ResultReason.INVALID_FIELD


def test_ecdsa_sign_and_verify_with_registered_keys(client: Client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    params = structure(
        Tag.CRYPTOGRAPHIC_PARAMETERS,
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.ECDSA),
        enumeration(Tag.HASHING_ALGORITHM, HashingAlgorithm.SHA_256),
    )
    body = structure(
        Tag.PRIVATE_KEY,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.PKCS_8),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, der)),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.ECDSA),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, 256),
        ),
    )
    attrs = [a("Cryptographic Usage Mask", SIGN), a("Activation Date", date_time(0, T0 - 1))]
    uid = client.register(ObjectType.PRIVATE_KEY, body, attrs).expect_ok().uid
    signature = bytes(sign(client, uid, params).expect_ok().find(Tag.SIGNATURE_DATA).value)  # type: ignore[union-attr, arg-type]
    key.public_key().verify(signature, DATA, ec.ECDSA(hashes.SHA256()))


# --------------------------------------------------------------------------- ReKeyKeyPair


def test_rekey_key_pair(client: Client) -> None:
    private, public = uids(
        create_pair(
            client,
            [*rsa_common(), a("Activation Date", date_time(0, T0 - 60))],
            [a("Name", name_value("rk-private")), a("Cryptographic Usage Mask", SIGN)],
            [a("Name", name_value("rk-public")), a("Cryptographic Usage Mask", VERIFY)],
        )
    )
    result = client.call(Operation.RE_KEY_KEY_PAIR, text(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER, private))
    new_private, new_public = uids(result)
    assert {new_private, new_public}.isdisjoint({private, public})
    assert links(client, new_private) == {LinkType.PUBLIC_KEY_LINK: new_public, LinkType.REPLACED_OBJECT_LINK: private}
    assert links(client, new_public) == {LinkType.PRIVATE_KEY_LINK: new_private, LinkType.REPLACED_OBJECT_LINK: public}
    assert links(client, private)[LinkType.REPLACEMENT_OBJECT_LINK] == new_private
    assert links(client, public)[LinkType.REPLACEMENT_OBJECT_LINK] == new_public
    assert name_of(client, new_private) == "rk-private"
    assert name_of(client, new_public) == "rk-public"
    assert name_of(client, private) is None
    assert client.attribute(new_private, "Cryptographic Usage Mask") == SIGN
    assert client.attribute(new_public, "Cryptographic Length") == 2048
    assert client.state(new_private) == State.ACTIVE
    old_material = material(key_block(client.get(private).expect_ok(), Tag.PRIVATE_KEY)).value
    assert material(key_block(client.get(new_private).expect_ok(), Tag.PRIVATE_KEY)).value != old_material
    assert client.call(Operation.RE_KEY_KEY_PAIR, text(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER, public)).failure()[0] in (
        ResultReason.INVALID_OBJECT_TYPE,
        ResultReason.INVALID_FIELD,
    )
