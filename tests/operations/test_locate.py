"""Locate filters, paging, destroyed objects, date ranges; and access control across clients."""

from __future__ import annotations

import pytest

from kmipd.protocol.enums import (
    CryptographicAlgorithm,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    State,
    StorageStatusMask,
    Tag,
)
from kmipd.ttlv.item import date_time, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    V1_0,
    V1_2,
    V1_3,
    V1_4,
    V2_0,
    V2_1,
    Client,
    name_value,
    not_found_reason,
    op,
    run,
    symmetric_key,
)

vid = lambda v: f"{v[0]}.{v[1]}"  # noqa: E731


@pytest.fixture(params=[V1_4, V2_1], ids=vid)
def client(request, processor) -> Client:
    return Client(processor, request.param)


def _asi(namespace: str, data: str):
    return structure(Tag.APPLICATION_SPECIFIC_INFORMATION, text(Tag.APPLICATION_NAMESPACE, namespace),
                     text(Tag.APPLICATION_DATA, data))


def test_locate_by_name(client):
    a = client.create_uid(attrs=[("Name", name_value("alpha"))])
    client.create_uid(attrs=[("Name", name_value("beta"))])
    c = client.create_uid(attrs=[("Name", name_value("other")), ("Name", name_value("gamma"))])
    assert client.locate_uids([("Name", name_value("alpha"))]) == [a]
    assert client.locate_uids([("Name", name_value("gamma"))]) == [c]
    assert client.locate_uids([("Name", name_value("other"))]) == [c]
    assert client.locate_uids([("Name", name_value("delta"))]) == []


def test_name_is_unique_per_owner(client):
    client.create_uid(attrs=[("Name", name_value("only-one"))])
    again = client.create(attrs=[("Name", name_value("only-one"))])
    expected = ResultReason.NON_UNIQUE_NAME_ATTRIBUTE if client.version >= V2_0 else ResultReason.INVALID_FIELD
    assert again.reason == expected
    assert len(client.locate_uids()) == 1
    # Another owner has a namespace of its own.
    assert client.as_(name="bob").create(attrs=[("Name", name_value("only-one"))]).ok


def test_locate_by_object_type(client):
    key = client.create_uid()
    secret = client.register(ObjectType.SECRET_DATA, structure(
        Tag.SECRET_DATA, enumeration(Tag.SECRET_DATA_TYPE, 1),
        structure(Tag.KEY_BLOCK, enumeration(Tag.KEY_FORMAT_TYPE, 2),
                  structure(Tag.KEY_VALUE, _bytes(b"pw"))))).expect_ok().uid
    assert client.locate_uids([("Object Type", enumeration(0, ObjectType.SECRET_DATA))]) == [secret]
    assert client.locate_uids([("Object Type", enumeration(0, ObjectType.SYMMETRIC_KEY))]) == [key]
    assert client.locate_uids([("Object Type", enumeration(0, ObjectType.CERTIFICATE))]) == []


def _bytes(b: bytes):
    from kmipd.ttlv.item import byte_string

    return byte_string(Tag.KEY_MATERIAL, b)


def test_locate_by_state(client, clock):
    pre = client.create_uid()
    active = client.create_uid()
    client.activate(active).expect_ok()
    future = client.create_uid(attrs=[("Activation Date", date_time(0, T0 + 100))])
    compromised = client.create_uid()
    client.revoke(compromised, RevocationReasonCode.KEY_COMPROMISE).expect_ok()

    def by_state(state):
        return client.locate_uids([("State", enumeration(0, state))])

    assert by_state(State.PRE_ACTIVE) == [pre, future]
    assert by_state(State.ACTIVE) == [active]
    assert by_state(State.COMPROMISED) == [compromised]
    clock.advance(100)
    # The date-driven transition shows in Locate without anyone touching the object.
    assert by_state(State.PRE_ACTIVE) == [pre]
    assert by_state(State.ACTIVE) == [active, future]


def test_locate_by_state_after_deactivation_date(client, clock):
    uid = client.create_uid(attrs=[("Activation Date", date_time(0, T0)),
                                   ("Deactivation Date", date_time(0, T0 + 5))])
    assert client.locate_uids([("State", enumeration(0, State.ACTIVE))]) == [uid]
    clock.advance(5)
    assert client.locate_uids([("State", enumeration(0, State.ACTIVE))]) == []
    assert client.locate_uids([("State", enumeration(0, State.DEACTIVATED))]) == [uid]


def test_locate_by_algorithm_and_length(client):
    aes128 = client.create_uid(length=128)
    aes256 = client.create_uid(length=256)
    hmac = client.create_uid(algorithm=CryptographicAlgorithm.HMAC_SHA256, length=256)
    alg = "Cryptographic Algorithm"
    length = "Cryptographic Length"
    assert client.locate_uids([(alg, enumeration(0, CryptographicAlgorithm.AES))]) == [aes128, aes256]
    assert client.locate_uids([(length, integer(0, 256))]) == [aes256, hmac]
    assert client.locate_uids([(alg, enumeration(0, CryptographicAlgorithm.AES)), (length, integer(0, 256))]) == [
        aes256
    ]
    assert client.locate_uids([(alg, enumeration(0, CryptographicAlgorithm.TRIPLE_DES))]) == []


def test_locate_by_object_group(client):
    a = client.create_uid(attrs=[("Object Group", text(0, "g1"))])
    b = client.create_uid(attrs=[("Object Group", text(0, "g2")), ("Object Group", text(0, "g1"))])
    client.create_uid()
    assert client.locate_uids([("Object Group", text(0, "g1"))]) == [a, b]
    assert client.locate_uids([("Object Group", text(0, "g2"))]) == [b]
    assert client.locate_uids([("Object Group", text(0, "g1")), ("Object Group", text(0, "g2"))]) == [b]


def test_locate_by_application_specific_information(client):
    a = client.create_uid(attrs=[("Application Specific Information", _asi("ssl", "www.example.com"))])
    client.create_uid(attrs=[("Application Specific Information", _asi("ssl", "other.example.com"))])
    found = client.locate_uids([("Application Specific Information", _asi("ssl", "www.example.com"))])
    assert found == [a]


def test_locate_by_custom_attribute(client):
    a = client.create_uid(attrs=[("x-Team", text(0, "blue"))])
    client.create_uid(attrs=[("x-Team", text(0, "red"))])
    n = client.create_uid(attrs=[("x-Count", integer(0, 7))])
    assert client.locate_uids([("x-Team", text(0, "blue"))]) == [a]
    assert client.locate_uids([("x-Count", integer(0, 7))]) == [n]
    assert client.locate_uids([("x-Team", text(0, "green"))]) == []


def test_custom_attribute_added_in_1x_located_in_2x(processor):
    uid = Client(processor, V1_4).create_uid(attrs=[("x-Env", text(0, "prod"))])
    assert Client(processor, V2_1).locate_uids([("x-Env", text(0, "prod"))]) == [uid]


def test_locate_everything_in_creation_order(client):
    uids = [client.create_uid() for _ in range(5)]
    assert client.locate_uids() == uids


@pytest.mark.parametrize("version", [V1_3, V1_4, V2_1], ids=vid)
def test_paging_with_located_items(processor, version):
    client = Client(processor, version)
    uids = [client.create_uid(attrs=[("Object Group", text(0, "p"))]) for _ in range(7)]
    client.create_uid()  # not in the group
    group = [("Object Group", text(0, "p"))]
    pages = []
    for offset in range(0, 8, 3):
        result = client.locate(group, maximum=3, offset=offset).expect_ok()
        located = result.find(Tag.LOCATED_ITEMS)
        assert located is not None and located.value == 7, "Located Items counts all matches, not the page"
        pages.append([str(i.value) for i in result.find_all(Tag.UNIQUE_IDENTIFIER)])
    assert pages == [uids[0:3], uids[3:6], uids[6:7]]
    # Stable: the same page twice.
    assert client.locate_uids(group, maximum=3, offset=3) == uids[3:6]
    assert client.locate_uids(group, offset=5) == uids[5:]
    assert client.locate_uids(group, maximum=0) == []
    assert client.locate_uids(group, offset=100) == []


@pytest.mark.parametrize("version", [V1_0, V1_2], ids=vid)
def test_no_located_items_before_1_3(processor, version):
    client = Client(processor, version)
    uids = [client.create_uid() for _ in range(3)]
    result = client.locate(maximum=2).expect_ok()
    assert result.find(Tag.LOCATED_ITEMS) is None
    assert [i.value for i in result.find_all(Tag.UNIQUE_IDENTIFIER)] == uids[:2]


def test_negative_paging_is_invalid_field(client):
    assert client.locate(maximum=-1).reason == ResultReason.INVALID_FIELD
    assert client.locate(offset=-1).reason == ResultReason.INVALID_FIELD


def test_destroyed_objects_excluded_by_default(client):
    group = [("Object Group", text(0, "n"))]
    live = client.create_uid(attrs=group)
    dead = client.create_uid(attrs=group)
    client.destroy(dead).expect_ok()
    assert client.locate_uids(group) == [live]
    assert client.locate_uids() == [live]
    # Asked for explicitly, they are found.
    assert client.locate_uids([("State", enumeration(0, State.DESTROYED))]) == [dead]
    mask = int(StorageStatusMask.ON_LINE_STORAGE | StorageStatusMask.DESTROYED_STORAGE)
    assert client.locate_uids(group, storage_mask=mask) == [live, dead]


def test_storage_status_mask_on_line_only_excludes_destroyed(client):
    live = client.create_uid()
    dead = client.create_uid()
    client.destroy(dead).expect_ok()
    assert client.locate_uids(storage_mask=int(StorageStatusMask.ON_LINE_STORAGE)) == [live]


def test_storage_status_mask_destroyed_only(client):
    client.create_uid()
    dead = client.create_uid()
    client.destroy(dead).expect_ok()
    assert client.locate_uids(storage_mask=int(StorageStatusMask.DESTROYED_STORAGE)) == [dead]


def test_locate_initial_date_range(client, clock):
    first = client.create_uid()
    clock.advance(100)
    second = client.create_uid()
    clock.advance(100)
    third = client.create_uid()
    rng = [("Initial Date", date_time(0, T0 + 50)), ("Initial Date", date_time(0, T0 + 200))]
    assert client.locate_uids(rng) == [second, third]
    rng_rev = [("Initial Date", date_time(0, T0 + 200)), ("Initial Date", date_time(0, T0 + 50))]
    assert client.locate_uids(rng_rev) == [second, third], "the two instances may come in either order"
    assert client.locate_uids([("Initial Date", date_time(0, T0 - 1)), ("Initial Date", date_time(0, T0))]) == [
        first
    ]
    # One instance means that exact date.
    assert client.locate_uids([("Initial Date", date_time(0, T0 + 100))]) == [second]


def test_id_placeholder_set_by_locate(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid(attrs=[("Name", name_value("ph"))])
    response = run(processor, V2_1, [
        op(Operation.LOCATE, structure(Tag.ATTRIBUTES, name_value("ph")), batch_id=b"l"),
        op(Operation.GET, batch_id=b"g"),
    ])
    assert response.items[1].ok
    assert response.items[1].uid == uid


def test_locate_name_without_name_value_is_invalid_field(processor):
    client = Client(processor, V2_1)
    result = client.call(Operation.LOCATE, structure(Tag.ATTRIBUTES, structure(Tag.NAME)))
    assert result.reason == ResultReason.INVALID_FIELD


# ------------------------------------------------------------------------- owners and access


def test_other_owners_objects_never_located(processor):
    alice = Client(processor, V2_1, "alice")
    bob = Client(processor, V2_1, "bob")
    a = alice.create_uid(attrs=[("Name", name_value("shared-name"))])
    b = bob.create_uid(attrs=[("Name", name_value("shared-name"))])
    assert alice.locate_uids([("Name", name_value("shared-name"))]) == [a]
    assert bob.locate_uids([("Name", name_value("shared-name"))]) == [b]
    assert bob.locate_uids() == [b]
    result = bob.locate([("Name", name_value("shared-name"))], maximum=10).expect_ok()
    assert result.find(Tag.LOCATED_ITEMS).value == 1, "the count does not leak other owners' objects"


def test_group_members_and_admin_locate(processor):
    alice = Client(processor, V2_1, "alice")
    carol = Client(processor, V2_1, "carol")
    bob = Client(processor, V2_1, "bob")
    root = Client(processor, V2_1, "root")
    a = alice.create_uid()
    c = carol.create_uid()
    b = bob.create_uid()
    assert alice.locate_uids() == [a, c]
    assert carol.locate_uids() == [a, c]
    assert bob.locate_uids() == [b]
    assert root.locate_uids() == [a, c, b]
    # Group members and the admin can use the objects, too.
    assert carol.get(a).ok and root.get(b).ok and alice.activate(c).ok
    assert bob.get(a).reason == not_found_reason(V2_1)


def _access_operations(client: Client, uid: str):
    return {
        "Get": client.get(uid),
        "GetAttributes": client.get_attributes(uid),
        "GetAttributeList": client.get_attribute_list(uid),
        "Activate": client.activate(uid),
        "Revoke": client.revoke(uid),
        "Destroy": client.destroy(uid),
        "AddAttribute": client.add_attribute(uid, "Object Group", text(0, "intruder")),
        "ModifyAttribute": client.modify_attribute(uid, "Name", name_value("intruder")),
        "DeleteAttribute": client.delete_attribute(uid, "Name"),
        "ReKey": client.rekey(uid),
    }


@pytest.mark.parametrize("version", [V1_4, V2_1], ids=vid)
def test_foreign_object_is_indistinguishable_from_missing(processor, version):
    alice = Client(processor, version, "alice")
    bob = Client(processor, version, "bob")
    # Same UID length and shape as a real one, so even the message cannot differ by format.
    foreign = alice.create_uid(attrs=[("Name", name_value("secret"))])
    missing = "00000000-0000-4000-8000-000000000000"
    seen_foreign = _access_operations(bob, foreign)
    seen_missing = _access_operations(bob, missing)
    for name, result in seen_foreign.items():
        other = seen_missing[name]
        assert result.status == ResultStatus.OPERATION_FAILED, name
        assert result.reason == not_found_reason(version), name
        assert (result.reason, result.message.replace(foreign, "<uid>")) == (
            other.reason, other.message.replace(missing, "<uid>")), name
        assert result.payload is None, name
    # Nothing changed on alice's object.
    attrs = alice.attributes(foreign)
    assert attrs["State"][0].value == State.PRE_ACTIVE
    assert "Object Group" not in attrs
    assert [v.find(Tag.NAME_VALUE).value for v in attrs["Name"]] == ["secret"]
    assert alice.get(foreign).ok


def test_foreign_object_in_a_batch_does_not_set_the_placeholder(processor):
    alice = Client(processor, V2_1, "alice")
    foreign = alice.create_uid()
    response = run(processor, V2_1, [
        op(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, foreign), batch_id=b"1"),
        op(Operation.DESTROY, batch_id=b"2"),
    ], client="bob", continuation=1)
    assert [r.reason for r in response.items] == [not_found_reason(V2_1), ResultReason.MISSING_DATA]
    assert alice.state(foreign) == State.PRE_ACTIVE


def test_register_owned_by_registering_client(processor, store):
    bob = Client(processor, V2_1, "bob")
    uid = bob.register(ObjectType.SYMMETRIC_KEY, symmetric_key(bytes(16))).expect_ok().uid
    with store.transaction(write=False) as tx:
        assert tx.get(uid).owner == "bob"


def test_admin_rekey_keeps_the_original_owner(processor, store):
    bob = Client(processor, V2_1, "bob")
    root = Client(processor, V2_1, "root")
    old = bob.create_uid(attrs=[("Name", name_value("bobkey"))])
    new = root.rekey(old).expect_ok().uid
    with store.transaction(write=False) as tx:
        assert tx.get(new).owner == "bob"
    assert bob.get(new).ok
    assert bob.locate_uids([("Name", name_value("bobkey"))]) == [new]
