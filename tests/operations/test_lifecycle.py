"""Create, Register, Activate, Revoke, Destroy, ReKey and the date-driven state machine."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kmipd.protocol.enums import (
    CryptographicAlgorithm,
    KeyFormatType,
    LinkType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    SecretDataType,
    State,
    Tag,
)
from kmipd.ttlv.item import Item, byte_string, date_time, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    V1_0,
    V1_4,
    V2_0,
    V2_1,
    Client,
    attr_1x,
    av,
    key_material,
    name_value,
    not_found_reason,
    symmetric_key,
    wrong_state_reason,
)

VERSIONS = [V1_4, V2_1]
vid = lambda v: f"{v[0]}.{v[1]}"  # noqa: E731


@pytest.fixture(params=VERSIONS, ids=vid)
def client(request, processor) -> Client:
    return Client(processor, request.param)


# ------------------------------------------------------------------------- Create


@pytest.mark.parametrize(
    ("algorithm", "length", "size"),
    [
        (CryptographicAlgorithm.AES, 128, 16),
        (CryptographicAlgorithm.AES, 192, 24),
        (CryptographicAlgorithm.AES, 256, 32),
        (CryptographicAlgorithm.TRIPLE_DES, 168, 24),
        (CryptographicAlgorithm.HMAC_SHA256, 256, 32),
    ],
    ids=["AES-128", "AES-192", "AES-256", "3DES-168", "HMAC-SHA256-256"],
)
def test_create_symmetric_key(client, algorithm, length, size):
    created = client.create(algorithm=algorithm, length=length).expect_ok()
    assert int(created.find(Tag.OBJECT_TYPE).value) == ObjectType.SYMMETRIC_KEY
    got = client.get(created.uid).expect_ok()
    material = key_material(got)
    assert len(material) == size
    block = got.find(Tag.SYMMETRIC_KEY).find(Tag.KEY_BLOCK)
    assert block.find(Tag.KEY_FORMAT_TYPE).value == KeyFormatType.RAW
    assert block.find(Tag.CRYPTOGRAPHIC_ALGORITHM).value == algorithm
    assert block.find(Tag.CRYPTOGRAPHIC_LENGTH).value == length
    attrs = client.attributes(created.uid)
    assert attrs["Cryptographic Algorithm"][0].value == algorithm
    assert attrs["Cryptographic Length"][0].value == length
    assert attrs["State"][0].value == State.PRE_ACTIVE
    assert attrs["Object Type"][0].value == ObjectType.SYMMETRIC_KEY
    assert attrs["Initial Date"][0].value == T0
    if algorithm == CryptographicAlgorithm.TRIPLE_DES:
        assert all(bin(b).count("1") % 2 == 1 for b in material), "DES keys have odd parity"


def test_two_creates_give_different_uids_and_material(client):
    a = client.create_uid()
    b = client.create_uid()
    assert a != b
    assert key_material(client.get(a)) != key_material(client.get(b))


@pytest.mark.parametrize(
    ("algorithm", "length"),
    [(CryptographicAlgorithm.AES, 100), (CryptographicAlgorithm.AES, 512),
     (CryptographicAlgorithm.TRIPLE_DES, 64), (CryptographicAlgorithm.HMAC_SHA256, 7)],
)
def test_create_with_bad_length_is_cryptographic_failure(client, algorithm, length):
    result = client.create(algorithm=algorithm, length=length)
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.CRYPTOGRAPHIC_FAILURE
    assert client.locate_uids() == []


def test_create_without_algorithm_is_missing_data(client):
    result = client.create(algorithm=None, length=128)
    assert result.reason == ResultReason.MISSING_DATA
    assert "Cryptographic Algorithm" in result.message


def test_create_without_length_is_missing_data(client):
    result = client.create(length=None)
    assert result.reason == ResultReason.MISSING_DATA


def test_create_without_object_type_is_missing_data(client):
    result = client.call(Operation.CREATE)
    assert result.reason == ResultReason.MISSING_DATA


@pytest.mark.parametrize("object_type", [ObjectType.SECRET_DATA, ObjectType.PRIVATE_KEY, ObjectType.CERTIFICATE])
def test_create_non_symmetric_is_invalid_field(client, object_type):
    result = client.create(object_type=object_type)
    assert result.reason == ResultReason.INVALID_FIELD


def test_create_with_server_only_attribute_is_invalid_field(processor):
    client = Client(processor, V2_1)
    result = client.create(attrs=[("Destroy Date", date_time(0, T0))])
    assert result.reason == ResultReason.INVALID_FIELD


def test_create_with_name_and_group(client):
    uid = client.create_uid(attrs=[("Name", name_value("k1")), ("Object Group", text(0, "g"))])
    attrs = client.attributes(uid, "Name", "Object Group")
    assert attrs["Name"][0].find(Tag.NAME_VALUE).value == "k1"
    assert attrs["Object Group"][0].value == "g"


# ------------------------------------------------------------------------- Register


def _ec_key():
    private = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kmipd test")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    return pkcs8, spki, cert.public_bytes(serialization.Encoding.DER)


def _key_body(tag: int, fmt: int, material: bytes, algorithm: int, length: int) -> Item:
    return structure(
        tag,
        structure(
            Tag.KEY_BLOCK,
            enumeration(Tag.KEY_FORMAT_TYPE, fmt),
            structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, material)),
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ),
    )


def _bodies() -> list[tuple[str, int, Item]]:
    pkcs8, spki, der_cert = _ec_key()
    return [
        ("SymmetricKey", ObjectType.SYMMETRIC_KEY, symmetric_key(bytes(range(32)))),
        ("SecretData", ObjectType.SECRET_DATA, structure(
            Tag.SECRET_DATA,
            enumeration(Tag.SECRET_DATA_TYPE, SecretDataType.PASSWORD),
            structure(Tag.KEY_BLOCK, enumeration(Tag.KEY_FORMAT_TYPE, KeyFormatType.OPAQUE),
                      structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, b"correct horse"))),
        )),
        ("OpaqueObject", ObjectType.OPAQUE_OBJECT, structure(
            Tag.OPAQUE_OBJECT,
            enumeration(Tag.OPAQUE_DATA_TYPE, 0x80000001),
            byte_string(Tag.OPAQUE_DATA_VALUE, b"\x00\x01opaque\xff"),
        )),
        ("Certificate", ObjectType.CERTIFICATE, structure(
            Tag.CERTIFICATE,
            enumeration(Tag.CERTIFICATE_TYPE, 1),  # X.509
            byte_string(Tag.CERTIFICATE_VALUE, der_cert),
        )),
        ("PublicKey", ObjectType.PUBLIC_KEY,
         _key_body(Tag.PUBLIC_KEY, KeyFormatType.X_509, spki, CryptographicAlgorithm.EC, 256)),
        ("PrivateKey", ObjectType.PRIVATE_KEY,
         _key_body(Tag.PRIVATE_KEY, KeyFormatType.PKCS_8, pkcs8, CryptographicAlgorithm.EC, 256)),
    ]


BODIES = _bodies()


@pytest.mark.parametrize(("object_type", "body"), [(t, b) for _, t, b in BODIES], ids=[n for n, _, _ in BODIES])
def test_register_then_get_returns_the_same_body(client, object_type, body):
    registered = client.register(object_type, body, attrs=[("Name", name_value("reg"))]).expect_ok()
    got = client.get(registered.uid).expect_ok()
    assert got.uid == registered.uid
    assert int(got.find(Tag.OBJECT_TYPE).value) == object_type
    assert got.find(body.tag) == body
    attrs = client.attributes(registered.uid, "Object Type", "State", "Name")
    assert attrs["Object Type"][0].value == object_type
    assert attrs["State"][0].value == State.PRE_ACTIVE
    assert attrs["Name"][0].find(Tag.NAME_VALUE).value == "reg"


def test_register_records_algorithm_and_length_from_the_key_block(client):
    uid = client.register(ObjectType.SYMMETRIC_KEY, symmetric_key(bytes(24))).expect_ok().uid
    attrs = client.attributes(uid, "Cryptographic Algorithm", "Cryptographic Length")
    assert attrs["Cryptographic Algorithm"][0].value == CryptographicAlgorithm.AES
    assert attrs["Cryptographic Length"][0].value == 192


def test_register_strips_1x_attributes_inside_key_value(client):
    extra = [attr_1x("Cryptographic Usage Mask", integer(0, 12)), attr_1x("x-inner", text(0, "v"))]
    body = symmetric_key(bytes(range(16)), key_value_extra=extra)
    uid = client.register(ObjectType.SYMMETRIC_KEY, body).expect_ok().uid
    got = client.get(uid).expect_ok()
    value = got.find(Tag.SYMMETRIC_KEY).find(Tag.KEY_BLOCK).find(Tag.KEY_VALUE)
    assert value.find_all(Tag.ATTRIBUTE) == []
    assert value.children == (byte_string(Tag.KEY_MATERIAL, bytes(range(16))),)
    assert got.find(Tag.SYMMETRIC_KEY) == symmetric_key(bytes(range(16)))


def test_register_mismatched_body_is_missing_data(client):
    result = client.register(ObjectType.SECRET_DATA, symmetric_key(bytes(16)))
    assert result.reason == ResultReason.MISSING_DATA


def test_register_certificate_that_is_not_der_is_invalid_field(client):
    body = structure(Tag.CERTIFICATE, enumeration(Tag.CERTIFICATE_TYPE, 1),
                     byte_string(Tag.CERTIFICATE_VALUE, b"not a certificate"))
    assert client.register(ObjectType.CERTIFICATE, body).reason == ResultReason.INVALID_FIELD


def test_register_certificate_without_value_is_invalid_field(client):
    body = structure(Tag.CERTIFICATE, enumeration(Tag.CERTIFICATE_TYPE, 1))
    assert client.register(ObjectType.CERTIFICATE, body).reason == ResultReason.INVALID_FIELD


# ------------------------------------------------------------------------- state machine


def _wrong_state(client: Client) -> int:
    return wrong_state_reason(client.version)


def test_activate_pre_active(client, clock):
    uid = client.create_uid()
    clock.advance(10)
    assert client.activate(uid).expect_ok().uid == uid
    assert client.state(uid) == State.ACTIVE
    assert client.attribute(uid, "Activation Date") == T0 + 10
    assert client.attribute(uid, "Last Change Date") == T0 + 10


def test_revoke_cessation_deactivates_active(client, clock):
    uid = client.create_uid()
    client.activate(uid).expect_ok()
    clock.advance(5)
    client.revoke(uid, RevocationReasonCode.CESSATION_OF_OPERATION).expect_ok()
    assert client.state(uid) == State.DEACTIVATED
    assert client.attribute(uid, "Deactivation Date") == T0 + 5
    reason = client.attributes(uid, "Revocation Reason")["Revocation Reason"][0]
    assert reason.find(Tag.REVOCATION_REASON_CODE).value == RevocationReasonCode.CESSATION_OF_OPERATION


def test_revoke_cessation_of_pre_active_fails(client):
    uid = client.create_uid()
    result = client.revoke(uid, RevocationReasonCode.CESSATION_OF_OPERATION)
    assert result.reason == _wrong_state(client)
    assert client.state(uid) == State.PRE_ACTIVE


@pytest.mark.parametrize("start", ["pre-active", "active", "deactivated"])
def test_revoke_key_compromise(client, clock, start):
    uid = client.create_uid()
    if start in ("active", "deactivated"):
        client.activate(uid).expect_ok()
    if start == "deactivated":
        client.revoke(uid).expect_ok()
    clock.advance(100)
    client.revoke(uid, RevocationReasonCode.KEY_COMPROMISE, occurrence=T0 + 1).expect_ok()
    assert client.state(uid) == State.COMPROMISED
    assert client.attribute(uid, "Compromise Date") == T0 + 100
    assert client.attribute(uid, "Compromise Occurrence Date") == T0 + 1
    # Compromised keys can still be fetched (e.g. to decrypt old data).
    assert client.get(uid).ok


def test_revoke_compromised_again_fails(client):
    uid = client.create_uid()
    client.revoke(uid, RevocationReasonCode.KEY_COMPROMISE).expect_ok()
    assert client.revoke(uid, RevocationReasonCode.KEY_COMPROMISE).reason == _wrong_state(client)


def test_revoke_without_reason_is_missing_data(client):
    uid = client.create_uid()
    result = client.call(Operation.REVOKE, text(Tag.UNIQUE_IDENTIFIER, uid))
    assert result.reason == ResultReason.MISSING_DATA


def test_destroy_active_fails(client):
    uid = client.create_uid()
    client.activate(uid).expect_ok()
    result = client.destroy(uid)
    assert result.reason == _wrong_state(client)
    assert client.state(uid) == State.ACTIVE
    assert client.get(uid).ok


@pytest.mark.parametrize("start", ["pre-active", "deactivated"])
def test_destroy(client, clock, start):
    uid = client.create_uid()
    if start == "deactivated":
        client.activate(uid).expect_ok()
        client.revoke(uid).expect_ok()
    clock.advance(42)
    assert client.destroy(uid).expect_ok().uid == uid
    assert client.state(uid) == State.DESTROYED
    assert client.attribute(uid, "Destroy Date") == T0 + 42
    got = client.get(uid)
    assert got.status == ResultStatus.OPERATION_FAILED
    expected = ResultReason.OBJECT_DESTROYED if client.version >= V2_0 else ResultReason.KEY_VALUE_NOT_PRESENT
    assert got.reason == expected
    assert got.find(Tag.SYMMETRIC_KEY) is None
    # Metadata survives.
    attrs = client.attributes(uid)
    assert attrs["Unique Identifier"][0].value == uid
    assert attrs["Cryptographic Length"][0].value == 256
    # Destroying again fails.
    assert client.destroy(uid).reason == _wrong_state(client)


def test_destroy_removes_body_from_store(processor, store):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    client.destroy(uid).expect_ok()
    with store.transaction(write=False) as tx:
        stored = tx.get(uid)
    assert stored is not None
    assert stored.body is None
    assert stored.state == State.DESTROYED


def test_destroyed_then_compromised(client):
    uid = client.create_uid()
    client.destroy(uid).expect_ok()
    client.revoke(uid, RevocationReasonCode.KEY_COMPROMISE).expect_ok()
    assert client.state(uid) == State.DESTROYED_COMPROMISED


def test_compromised_then_destroyed(client):
    uid = client.create_uid()
    client.revoke(uid, RevocationReasonCode.CA_COMPROMISE).expect_ok()
    client.destroy(uid).expect_ok()
    assert client.state(uid) == State.DESTROYED_COMPROMISED


def test_destroyed_cannot_be_activated(client):
    uid = client.create_uid()
    client.destroy(uid).expect_ok()
    assert client.activate(uid).reason == _wrong_state(client)


def test_activation_date_in_the_past_means_active(client):
    uid = client.create_uid(attrs=[("Activation Date", date_time(0, T0 - 60))])
    assert client.state(uid) == State.ACTIVE
    assert client.attribute(uid, "Activation Date") == T0 - 60


def test_activation_date_now_means_active(client):
    uid = client.create_uid(attrs=[("Activation Date", date_time(0, T0))])
    assert client.state(uid) == State.ACTIVE


def test_activation_date_in_the_future(client, clock):
    uid = client.create_uid(attrs=[("Activation Date", date_time(0, T0 + 3600))])
    assert client.state(uid) == State.PRE_ACTIVE
    clock.advance(3599)
    assert client.state(uid) == State.PRE_ACTIVE
    clock.advance(1)
    assert client.state(uid) == State.ACTIVE
    # The date-driven transition sticks: an Activate now is refused as for any Active key.
    assert client.activate(uid).reason == _wrong_state(client)
    # And the key can be revoked as an Active one.
    client.revoke(uid).expect_ok()
    assert client.state(uid) == State.DEACTIVATED


def test_deactivation_date_reached(client, clock):
    uid = client.create_uid(attrs=[("Activation Date", date_time(0, T0 - 10)),
                                   ("Deactivation Date", date_time(0, T0 + 100))])
    assert client.state(uid) == State.ACTIVE
    clock.advance(100)
    assert client.state(uid) == State.DEACTIVATED
    # Now destroyable.
    client.destroy(uid).expect_ok()
    assert client.state(uid) == State.DESTROYED


def test_deactivation_date_set_later_with_add_attribute(client, clock):
    uid = client.create_uid()
    client.activate(uid).expect_ok()
    client.add_attribute(uid, "Deactivation Date", date_time(Tag.DEACTIVATION_DATE, T0 + 50)).expect_ok()
    assert client.state(uid) == State.ACTIVE
    clock.advance(60)
    assert client.state(uid) == State.DEACTIVATED


def test_operations_on_missing_uid(client):
    for result in (client.get("nope"), client.activate("nope"), client.destroy("nope"),
                   client.revoke("nope"), client.rekey("nope")):
        assert result.reason == not_found_reason(client.version)


# ------------------------------------------------------------------------- ReKey


def _links(client: Client, uid: str) -> list[tuple[int, str]]:
    values = client.attributes(uid, "Link").get("Link", [])
    return [(int(v.find(Tag.LINK_TYPE).value), str(v.find(Tag.LINKED_OBJECT_IDENTIFIER).value)) for v in values]


def test_rekey(client, clock):
    old = client.create_uid(algorithm=CryptographicAlgorithm.AES, length=192,
                            attrs=[("Name", name_value("payroll")), ("Object Group", text(0, "hr"))])
    client.activate(old).expect_ok()
    clock.advance(1000)
    new = client.rekey(old).expect_ok().uid
    assert new != old
    old_attrs = client.attributes(old)
    new_attrs = client.attributes(new)
    assert new_attrs["Cryptographic Algorithm"][0].value == CryptographicAlgorithm.AES
    assert new_attrs["Cryptographic Length"][0].value == 192
    assert len(key_material(client.get(new))) == 24
    assert key_material(client.get(new)) != key_material(client.get(old))
    assert new_attrs["Initial Date"][0].value == T0 + 1000
    # Links both ways.
    assert _links(client, old) == [(LinkType.REPLACEMENT_OBJECT_LINK, new)]
    assert _links(client, new) == [(LinkType.REPLACED_OBJECT_LINK, old)]
    # The Name moves to the replacement; other client attributes are copied.
    assert "Name" not in old_attrs
    assert [v.find(Tag.NAME_VALUE).value for v in new_attrs["Name"]] == ["payroll"]
    assert [v.value for v in new_attrs["Object Group"]] == ["hr"]
    assert [v.value for v in old_attrs["Object Group"]] == ["hr"]
    # Locate by name finds only the new key.
    assert client.locate_uids([("Name", name_value("payroll"))]) == [new]


def test_rekey_with_offset(client, clock):
    old = client.create_uid(attrs=[("Activation Date", date_time(0, T0)),
                                   ("Deactivation Date", date_time(0, T0 + 10_000))])
    clock.advance(500)
    new = client.rekey(old, offset=3600).expect_ok().uid
    now = T0 + 500
    assert client.attribute(new, "Activation Date") == now + 3600
    assert client.attribute(new, "Deactivation Date") == now + 3600 + 10_000
    assert client.state(new) == State.PRE_ACTIVE
    clock.advance(3600)
    assert client.state(new) == State.ACTIVE


def test_rekey_with_zero_offset_is_active_at_once(client, clock):
    old = client.create_uid()
    client.activate(old).expect_ok()
    clock.advance(7)
    new = client.rekey(old, offset=0).expect_ok().uid
    assert client.attribute(new, "Activation Date") == T0 + 7
    assert client.state(new) == State.ACTIVE


def test_rekey_of_pre_active_without_dates_stays_pre_active(client):
    old = client.create_uid()
    new = client.rekey(old).expect_ok().uid
    assert client.state(new) == State.PRE_ACTIVE
    assert client.attribute(new, "Activation Date") is None


def test_rekey_of_destroyed_key_fails(client):
    old = client.create_uid()
    client.destroy(old).expect_ok()
    assert client.rekey(old).reason == _wrong_state(client)


def test_rekey_of_non_symmetric_fails(client):
    uid = client.register(ObjectType.SECRET_DATA, BODIES[1][2]).expect_ok().uid
    assert client.rekey(uid).reason == ResultReason.INVALID_FIELD


def test_version_1_0_lifecycle(processor):
    client = Client(processor, V1_0)
    uid = client.create_uid(length=128)
    client.activate(uid).expect_ok()
    client.revoke(uid, RevocationReasonCode.KEY_COMPROMISE).expect_ok()
    client.destroy(uid).expect_ok()
    assert client.state(uid) == State.DESTROYED_COMPROMISED
    assert client.get(uid).reason == ResultReason.KEY_VALUE_NOT_PRESENT


def test_av_helper_builds_tagged_values():
    # Sanity check of the helper used above: the value carries the attribute's own tag and type.
    assert av("Activation Date", 5) == date_time(Tag.ACTIVATION_DATE, 5)
    assert dt.datetime.fromtimestamp(T0, dt.UTC).year == 2026
