"""Interoperability with the PyKMIP 0.11 client (ProxyKmipClient) over KMIP 1.2 and 2.0.

Notes on what the pykmip client cannot do here (checked with raw TTLV instead):

* In KMIP 2.0 mode, pykmip cannot decode a GetAttributes response that carries
  ``Original Creation Date`` (its attribute value factory raises ValueError),
  so the "all attributes" form is checked over a raw TLS socket for 2.0.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from kmip.core import enums
from kmip.core.enums import KMIPVersion
from kmip.pie import objects
from kmip.pie.exceptions import KmipOperationFailure

from kmipd.protocol.enums import Operation, ResultStatus, Tag
from kmipd.protocol.enums import State as KState
from kmipd.ttlv.item import text
from tests.integration.conftest import (
    VERSIONS,
    batch_item,
    kmip_call,
    kmip_request,
    results,
    tls_connect,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Usage = enums.CryptographicUsageMask


@pytest.fixture(params=list(VERSIONS), ids=[f"kmip{v}" for v in VERSIONS])
def version(request: pytest.FixtureRequest) -> KMIPVersion:
    return VERSIONS[request.param]


@pytest.fixture
def alice(make_client, version):  # type: ignore[no-untyped-def]
    return make_client("alice", version)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def attrs(attributes: list[Any]) -> dict[str, list[Any]]:
    """pykmip Attribute objects -> name -> list of values (simple values unwrapped)."""
    out: dict[str, list[Any]] = {}
    for attribute in attributes:
        value = attribute.attribute_value
        if hasattr(value, "name_value"):
            value = value.name_value.value
        elif hasattr(value, "value") and not hasattr(value, "hashing_algorithm"):
            value = value.value
        out.setdefault(attribute.attribute_name.value, []).append(value)
    return out


def get_attrs(client: Any, uid: str, names: list[str]) -> dict[str, list[Any]]:
    got_uid, attributes = client.get_attributes(uid, names)
    assert got_uid == uid
    return attrs(attributes)


def state_of(client: Any, uid: str) -> enums.State:
    return get_attrs(client, uid, ["State"])["State"][0]


def masks_value(masks: list[enums.CryptographicUsageMask]) -> int:
    total = 0
    for mask in masks:
        total |= mask.value
    return total


# --- create ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [128, 256])
def test_create_aes_key(alice: Any, length: int) -> None:
    name = unique("aes")
    masks = [Usage.ENCRYPT, Usage.DECRYPT]
    uid = alice.create(enums.CryptographicAlgorithm.AES, length, name=name, cryptographic_usage_mask=masks)
    assert isinstance(uid, str) and uid

    key = alice.get(uid)
    assert isinstance(key, objects.SymmetricKey)
    assert key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES
    assert key.cryptographic_length == length
    assert len(key.value) == length // 8
    assert key.value != bytes(length // 8)

    got = get_attrs(alice, uid, ["State", "Name", "Cryptographic Algorithm", "Cryptographic Length",
                                 "Object Type", "Cryptographic Usage Mask"])
    assert got["State"] == [enums.State.PRE_ACTIVE]
    assert got["Name"] == [name]
    assert got["Cryptographic Algorithm"] == [enums.CryptographicAlgorithm.AES]
    assert got["Cryptographic Length"] == [length]
    assert got["Object Type"] == [enums.ObjectType.SYMMETRIC_KEY]
    assert got["Cryptographic Usage Mask"] == [masks_value(masks)]


def test_created_keys_differ(alice: Any) -> None:
    first = alice.create(enums.CryptographicAlgorithm.AES, 256)
    second = alice.create(enums.CryptographicAlgorithm.AES, 256)
    assert first != second
    assert alice.get(first).value != alice.get(second).value


# --- register -------------------------------------------------------------------------------------------------

def _certificate_der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "interop test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _make_object(kind: str, name: str) -> tuple[Any, enums.ObjectType]:
    if kind == "symmetric":
        return (objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, os.urandom(32),
                                     masks=[Usage.ENCRYPT, Usage.DECRYPT], name=name),
                enums.ObjectType.SYMMETRIC_KEY)
    if kind == "secret":
        return (objects.SecretData(b"correct horse battery staple " + os.urandom(8),
                                   enums.SecretDataType.PASSWORD, masks=[Usage.DERIVE_KEY], name=name),
                enums.ObjectType.SECRET_DATA)
    if kind == "opaque":
        return (objects.OpaqueObject(os.urandom(40), enums.OpaqueDataType.NONE, name=name),
                enums.ObjectType.OPAQUE_DATA)
    if kind == "certificate":
        return (objects.X509Certificate(_certificate_der(), masks=[Usage.VERIFY], name=name),
                enums.ObjectType.CERTIFICATE)
    if kind == "public":
        der = _RSA.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        return (objects.PublicKey(enums.CryptographicAlgorithm.RSA, 2048, der, enums.KeyFormatType.PKCS_1,
                                  masks=[Usage.VERIFY], name=name),
                enums.ObjectType.PUBLIC_KEY)
    if kind == "private":
        der = _RSA.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
        return (objects.PrivateKey(enums.CryptographicAlgorithm.RSA, 2048, der, enums.KeyFormatType.PKCS_8,
                                   masks=[Usage.SIGN], name=name),
                enums.ObjectType.PRIVATE_KEY)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["symmetric", "secret", "opaque", "certificate", "public", "private"])
def test_register_and_get(alice: Any, kind: str) -> None:
    name = unique(kind)
    obj, object_type = _make_object(kind, name)
    uid = alice.register(obj)
    assert isinstance(uid, str) and uid

    got = alice.get(uid)
    assert type(got) is type(obj)
    assert got.value == obj.value
    if kind in ("symmetric", "public", "private"):
        assert got.cryptographic_algorithm == obj.cryptographic_algorithm
        assert got.cryptographic_length == obj.cryptographic_length
    if kind in ("public", "private"):
        assert got.key_format_type == obj.key_format_type
    if kind == "secret":
        assert got.data_type == enums.SecretDataType.PASSWORD
    if kind == "opaque":
        assert got.opaque_type == enums.OpaqueDataType.NONE

    listed = get_attrs(alice, uid, ["Object Type", "State", "Name"])
    assert listed["Object Type"] == [object_type]
    assert listed["Name"] == [name]
    assert listed["State"] == [enums.State.PRE_ACTIVE]
    assert alice.locate(attributes=[_name_attr(alice, name)]) == [uid]


# --- attributes -----------------------------------------------------------------------------------------------

def _name_attr(client: Any, name: str) -> Any:
    return client.attribute_factory.create_attribute(enums.AttributeType.NAME, name)


def _length_attr(client: Any, length: int) -> Any:
    return client.attribute_factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, length)


def _type_attr(client: Any, object_type: enums.ObjectType) -> Any:
    return client.attribute_factory.create_attribute(enums.AttributeType.OBJECT_TYPE, object_type)


EXPECTED_NAMES = {"Unique Identifier", "Object Type", "State", "Initial Date", "Last Change Date",
                  "Cryptographic Algorithm", "Cryptographic Length", "Cryptographic Usage Mask", "Name"}


def test_get_attribute_list(alice: Any) -> None:
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128, name=unique("list"),
                       cryptographic_usage_mask=[Usage.ENCRYPT])
    names = alice.get_attribute_list(uid)
    assert set(names) >= EXPECTED_NAMES, names
    assert len(names) == len(set(names))
    assert "Activation Date" not in names
    alice.activate(uid)
    assert "Activation Date" in alice.get_attribute_list(uid)


def test_get_attributes_answers_in_request_order(alice: Any) -> None:
    uid = alice.create(enums.CryptographicAlgorithm.AES, 192, name=unique("order"),
                       cryptographic_usage_mask=[Usage.ENCRYPT])
    wanted = ["Cryptographic Length", "Name", "State", "Object Type", "Cryptographic Algorithm"]
    got_uid, attributes = alice.get_attributes(uid, wanted)
    assert got_uid == uid
    assert [a.attribute_name.value for a in attributes] == wanted
    # Names the object lacks are skipped, repeated names answered once.
    _, attributes = alice.get_attributes(uid, ["State", "Activation Date", "State", "Name"])
    assert [a.attribute_name.value for a in attributes] == ["State", "Name"]


def test_get_all_attributes(kmipd_server: Any, alice: Any, version: KMIPVersion) -> None:
    name = unique("all")
    uid = alice.create(enums.CryptographicAlgorithm.AES, 256, name=name, cryptographic_usage_mask=[Usage.ENCRYPT])
    if version == KMIPVersion.KMIP_1_2:
        got_uid, attributes = alice.get_attributes(uid)
        assert got_uid == uid
        got = attrs(attributes)
        assert set(got) >= EXPECTED_NAMES
        assert got["Unique Identifier"] == [uid]
        assert got["State"] == [enums.State.PRE_ACTIVE]
        assert got["Name"] == [name]
        assert got["Cryptographic Length"] == [256]
        assert set(got) == set(alice.get_attribute_list(uid))
        return
    # pykmip 0.11 cannot parse this 2.0 response (Original Creation Date): read it over raw TTLV.
    with pytest.raises(ValueError, match="Unrecognized attribute type"):
        alice.get_attributes(uid)
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request((2, 0), batch_item(Operation.GET_ATTRIBUTES,
                                                                   text(Tag.UNIQUE_IDENTIFIER, uid))))
    [result] = results(response)
    assert result.status == ResultStatus.SUCCESS, result
    assert result.payload is not None
    assert result.payload.find(Tag.UNIQUE_IDENTIFIER).value == uid  # type: ignore[union-attr]
    attributes_2x = result.payload.find(Tag.ATTRIBUTES)
    assert attributes_2x is not None
    tags = {child.tag for child in attributes_2x.children}
    assert {Tag.UNIQUE_IDENTIFIER, Tag.OBJECT_TYPE, Tag.STATE, Tag.CRYPTOGRAPHIC_ALGORITHM,
            Tag.CRYPTOGRAPHIC_LENGTH, Tag.NAME, Tag.INITIAL_DATE} <= tags
    assert attributes_2x.find(Tag.STATE).value == KState.PRE_ACTIVE  # type: ignore[union-attr]
    assert attributes_2x.find(Tag.CRYPTOGRAPHIC_LENGTH).value == 256  # type: ignore[union-attr]
    assert attributes_2x.find(Tag.NAME).find(Tag.NAME_VALUE).value == name  # type: ignore[union-attr]


# --- locate ---------------------------------------------------------------------------------------------------

def test_locate_by_name(alice: Any) -> None:
    name = unique("find-me")
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128, name=name)
    alice.create(enums.CryptographicAlgorithm.AES, 128, name=unique("other"))
    assert alice.locate(attributes=[_name_attr(alice, name)]) == [uid]
    assert alice.locate(attributes=[_name_attr(alice, unique("nobody"))]) == []


def test_locate_by_object_type(alice: Any) -> None:
    key = alice.create(enums.CryptographicAlgorithm.AES, 128)
    secret = alice.register(_make_object("secret", unique("s"))[0])
    keys = alice.locate(attributes=[_type_attr(alice, enums.ObjectType.SYMMETRIC_KEY)])
    secrets = alice.locate(attributes=[_type_attr(alice, enums.ObjectType.SECRET_DATA)])
    assert key in keys and secret not in keys
    assert secret in secrets and key not in secrets
    for uid in keys:
        assert get_attrs(alice, uid, ["Object Type"])["Object Type"] == [enums.ObjectType.SYMMETRIC_KEY]


def test_locate_paging(make_client: Any, version: KMIPVersion) -> None:
    # Names are unique per client, so page over the 192-bit AES keys of "dave", who shares with nobody
    # and whom no other test uses.
    dave = make_client("dave", version)
    created = [dave.create(enums.CryptographicAlgorithm.AES, 192, name=unique("paged")) for _ in range(5)]
    criteria = [_length_attr(dave, 192)]
    everything = dave.locate(attributes=criteria)
    assert everything[-5:] == created, "Locate answers oldest first"
    offset = len(everything) - 5
    pages = [dave.locate(maximum_items=2, offset_items=offset + start, attributes=criteria) for start in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [uid for page in pages for uid in page] == created
    assert dave.locate(maximum_items=1, attributes=criteria) == everything[:1]
    assert dave.locate(offset_items=len(everything), attributes=criteria) == []


def test_names_are_unique_per_client(make_client: Any, version: KMIPVersion) -> None:
    alice = make_client("alice", version)
    bob = make_client("bob", version)
    name = unique("only-once")
    alice.create(enums.CryptographicAlgorithm.AES, 128, name=name)
    refused = _failure(lambda: alice.create(enums.CryptographicAlgorithm.AES, 128, name=name))
    expected = (enums.ResultReason.INVALID_FIELD if version == KMIPVersion.KMIP_1_2
                else enums.ResultReason.NON_UNIQUE_NAME_ATTRIBUTE)
    assert refused.reason == expected
    # Another client's names are not visible, so they cannot collide.
    assert bob.create(enums.CryptographicAlgorithm.AES, 128, name=name)


# --- lifecycle ------------------------------------------------------------------------------------------------

def _not_found(version: KMIPVersion) -> enums.ResultReason:
    # KMIP 2.x names a missing object Object Not Found; 1.x calls it Item Not Found.
    return enums.ResultReason.ITEM_NOT_FOUND if version == KMIPVersion.KMIP_1_2 else enums.ResultReason.OBJECT_NOT_FOUND


def _wrong_state_reason(version: KMIPVersion) -> enums.ResultReason:
    # kmipd's documented choice (docs/protocol.md): 1.x clients get Permission Denied, as the OASIS 1.4 cases expect.
    return (enums.ResultReason.PERMISSION_DENIED if version == KMIPVersion.KMIP_1_2
            else enums.ResultReason.WRONG_KEY_LIFECYCLE_STATE)


def test_activate_revoke_destroy(alice: Any, version: KMIPVersion) -> None:
    name = unique("life")
    uid = alice.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    assert alice.locate(attributes=[_name_attr(alice, name)]) == [uid]
    material = alice.get(uid).value
    assert state_of(alice, uid) == enums.State.PRE_ACTIVE

    alice.activate(uid)
    assert state_of(alice, uid) == enums.State.ACTIVE
    assert "Activation Date" in get_attrs(alice, uid, ["Activation Date"])
    with pytest.raises(KmipOperationFailure) as again:
        alice.activate(uid)
    assert again.value.reason == _wrong_state_reason(version)

    # An Active key cannot be destroyed, and stays usable.
    with pytest.raises(KmipOperationFailure) as refused:
        alice.destroy(uid)
    assert refused.value.reason == _wrong_state_reason(version)
    assert state_of(alice, uid) == enums.State.ACTIVE
    assert alice.get(uid).value == material

    alice.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
    assert state_of(alice, uid) == enums.State.DEACTIVATED
    assert alice.get(uid).value == material

    alice.destroy(uid)
    assert state_of(alice, uid) == enums.State.DESTROYED
    with pytest.raises(KmipOperationFailure) as gone:
        alice.get(uid)
    expected = (enums.ResultReason.KEY_VALUE_NOT_PRESENT if version == KMIPVersion.KMIP_1_2
                else enums.ResultReason.OBJECT_DESTROYED)
    assert gone.value.status == enums.ResultStatus.OPERATION_FAILED
    assert gone.value.reason == expected
    assert "destroy" in gone.value.message.lower()
    # The metadata stays.
    kept = get_attrs(alice, uid, ["State", "Cryptographic Length", "Destroy Date"])
    assert kept["State"] == [enums.State.DESTROYED]
    assert kept["Cryptographic Length"] == [256]
    assert "Destroy Date" in kept
    with pytest.raises(KmipOperationFailure) as twice:
        alice.destroy(uid)
    assert twice.value.reason == _wrong_state_reason(version)
    # Destroyed objects are not located by default.
    assert alice.locate(attributes=[_name_attr(alice, name)]) == []
    # A compromise found later is still recorded.
    alice.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, uid)
    assert state_of(alice, uid) == enums.State.DESTROYED_COMPROMISED


def test_revoke_compromised(alice: Any) -> None:
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128)
    alice.activate(uid)
    alice.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, uid,
                 compromise_occurrence_date=int(dt.datetime.now(dt.UTC).timestamp()) - 3600)
    got = get_attrs(alice, uid, ["State", "Compromise Date", "Compromise Occurrence Date"])
    assert got["State"] == [enums.State.COMPROMISED]
    assert got["Compromise Occurrence Date"][0] < got["Compromise Date"][0]
    alice.destroy(uid)
    assert state_of(alice, uid) == enums.State.DESTROYED_COMPROMISED


def test_revoke_pre_active_for_cessation_fails(alice: Any, version: KMIPVersion) -> None:
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128)
    with pytest.raises(KmipOperationFailure) as failed:
        alice.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
    assert failed.value.reason == _wrong_state_reason(version)
    assert state_of(alice, uid) == enums.State.PRE_ACTIVE


# --- isolation between identities -----------------------------------------------------------------------------

def _normalised(failure: KmipOperationFailure, uid: str) -> tuple[Any, Any, str]:
    return failure.status, failure.reason, failure.message.replace(uid, "<UID>")


def _failure(call: Any) -> KmipOperationFailure:
    with pytest.raises(KmipOperationFailure) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("operation", ["get", "get_attributes", "get_attribute_list", "activate", "destroy",
                                       "revoke"])
def test_foreign_key_looks_missing(make_client: Any, version: KMIPVersion, operation: str) -> None:
    alice = make_client("alice", version)
    bob = make_client("bob", version)
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128, name=unique("private"))
    missing = str(uuid.uuid4())
    assert len(missing) == len(uid)

    def call(client: Any, target: str) -> Any:
        if operation == "get_attributes":
            return lambda: client.get_attributes(target, ["State"])
        if operation == "revoke":
            return lambda: client.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, target)
        return lambda: getattr(client, operation)(target)

    foreign = _failure(call(bob, uid))
    absent = _failure(call(bob, missing))
    assert foreign.reason == _not_found(version)
    assert _normalised(foreign, uid) == _normalised(absent, missing)
    # Nothing happened to alice's key.
    assert state_of(alice, uid) == enums.State.PRE_ACTIVE
    assert len(alice.get(uid).value) == 16


def test_locate_does_not_reveal_foreign_keys(make_client: Any, version: KMIPVersion) -> None:
    alice = make_client("alice", version)
    bob = make_client("bob", version)
    name = unique("secret-name")
    uid = alice.create(enums.CryptographicAlgorithm.AES, 128, name=name)
    assert bob.locate(attributes=[_name_attr(bob, name)]) == []
    assert uid not in bob.locate(attributes=[_type_attr(bob, enums.ObjectType.SYMMETRIC_KEY)])
    assert uid not in bob.locate()
    assert alice.locate(attributes=[_name_attr(alice, name)]) == [uid]


def test_group_members_share_keys(make_client: Any, version: KMIPVersion) -> None:
    alice = make_client("alice", version)
    bob = make_client("bob", version)
    carol = make_client("carol", version)
    name = unique("team")
    bobs = bob.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    # Group members share one namespace: carol cannot reuse bob's name.
    assert _failure(lambda: carol.create(enums.CryptographicAlgorithm.AES, 128, name=name))
    carols = carol.create(enums.CryptographicAlgorithm.AES, 128, name=name + "-c")
    assert carol.get(bobs).value == bob.get(bobs).value
    assert bob.get(carols).value == carol.get(carols).value
    assert bob.locate(attributes=[_name_attr(bob, name)]) == [bobs]
    assert carol.locate(attributes=[_name_attr(carol, name + "-c")]) == [carols]
    assert alice.locate(attributes=[_name_attr(alice, name)]) == []
    carol.activate(bobs)
    assert state_of(bob, bobs) == enums.State.ACTIVE
    assert _failure(lambda: alice.get(bobs)).reason == _not_found(version)


def test_admin_sees_everything(make_client: Any, version: KMIPVersion) -> None:
    alice = make_client("alice", version)
    admin = make_client("admin", version)
    name = unique("audited")
    uid = alice.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    assert admin.get(uid).value == alice.get(uid).value
    assert admin.locate(attributes=[_name_attr(admin, name)]) == [uid]
    assert get_attrs(admin, uid, ["Name"])["Name"] == [name]
    admin.activate(uid)
    assert state_of(alice, uid) == enums.State.ACTIVE
