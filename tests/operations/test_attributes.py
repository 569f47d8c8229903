"""GetAttributes, GetAttributeList, Add/Modify/Delete/SetAttribute in the 1.x and 2.x models."""

from __future__ import annotations

import pytest

from kmipd.protocol.enums import ObjectType, Operation, ResultReason, ResultStatus, State, Tag
from kmipd.protocol.names import attribute_rule, attribute_rule_by_tag
from kmipd.protocol.versions import ProtocolVersion
from kmipd.ttlv.item import Item, ItemType, byte_string, date_time, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    ALL_VERSIONS,
    V1_0,
    V1_1,
    V1_4,
    V2_0,
    V2_1,
    Client,
    attr_1x,
    name_value,
    parse_attributes,
    read_only_reason,
    symmetric_key,
    wrong_state_reason,
)

vid = lambda v: f"{v[0]}.{v[1]}"  # noqa: E731


@pytest.fixture(params=[V1_4, V2_1], ids=vid)
def client(request, processor) -> Client:
    return Client(processor, request.param)


def _defined(name: str, version: tuple[int, int]) -> bool:
    rule = attribute_rule(name)
    if rule is None:
        return True
    since = ProtocolVersion.parse(rule.since)
    until = ProtocolVersion.parse(rule.until) if rule.until else None
    return since <= version and (until is None or version <= until)


# ------------------------------------------------------------------------- GetAttributes


def test_get_all_attributes_2x_form(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid(attrs=[("Name", name_value("a")), ("Name", name_value("b"))])
    result = client.get_attributes(uid).expect_ok()
    assert result.uid == uid
    attrs_item = result.find(Tag.ATTRIBUTES)
    assert attrs_item is not None and attrs_item.type is ItemType.STRUCTURE
    # Every child is a standard attribute carrying its own tag.
    tags = [c.tag for c in attrs_item.children]
    assert all(attribute_rule_by_tag(t) is not None for t in tags)
    assert Tag.UNIQUE_IDENTIFIER in tags and Tag.STATE in tags and Tag.CRYPTOGRAPHIC_ALGORITHM in tags
    assert [c.find(Tag.NAME_VALUE).value for c in attrs_item.find_all(Tag.NAME)] == ["a", "b"]
    assert attrs_item.find(Tag.UNIQUE_IDENTIFIER).value == uid
    assert attrs_item.find(Tag.STATE) == enumeration(Tag.STATE, State.PRE_ACTIVE)
    assert attrs_item.find(Tag.INITIAL_DATE) == date_time(Tag.INITIAL_DATE, T0)


def test_get_all_attributes_1x_form(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Name", name_value("a")), ("Name", name_value("b"))])
    result = client.get_attributes(uid).expect_ok()
    assert result.find(Tag.ATTRIBUTES) is None
    items = result.find_all(Tag.ATTRIBUTE)
    by_name: dict[str, list[Item]] = {}
    for item in items:
        assert item.find(Tag.ATTRIBUTE_VALUE).tag == Tag.ATTRIBUTE_VALUE
        by_name.setdefault(item.find(Tag.ATTRIBUTE_NAME).value, []).append(item)
    names = by_name["Name"]
    assert [n.find(Tag.ATTRIBUTE_VALUE).find(Tag.NAME_VALUE).value for n in names] == ["a", "b"]
    # Index 0 may be omitted; the second instance must say 1.
    second = names[1].find(Tag.ATTRIBUTE_INDEX)
    assert second is not None and second.value == 1
    first = names[0].find(Tag.ATTRIBUTE_INDEX)
    assert first is None or first.value == 0
    state = by_name["State"][0].find(Tag.ATTRIBUTE_VALUE)
    assert state == Item(Tag.ATTRIBUTE_VALUE, ItemType.ENUMERATION, State.PRE_ACTIVE)


def test_get_named_attributes_1x(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid()
    attrs = client.attributes(uid, "State", "Cryptographic Length", "Name")
    assert set(attrs) == {"State", "Cryptographic Length"}, "names the object lacks are skipped"
    assert attrs["Cryptographic Length"][0].value == 256


def test_get_named_attributes_by_tag_reference_2x(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    result = client.call(Operation.GET_ATTRIBUTES, text(Tag.UNIQUE_IDENTIFIER, uid),
                         enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.STATE),
                         enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.CRYPTOGRAPHIC_ALGORITHM)).expect_ok()
    attrs = result.find(Tag.ATTRIBUTES)
    assert sorted(c.tag for c in attrs.children) == sorted([Tag.STATE, Tag.CRYPTOGRAPHIC_ALGORITHM])


def test_get_attributes_unknown_reference_tag_is_invalid_field(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    result = client.call(Operation.GET_ATTRIBUTES, text(Tag.UNIQUE_IDENTIFIER, uid),
                         enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.BATCH_COUNT))
    assert result.reason == ResultReason.INVALID_FIELD


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=vid)
def test_version_gating_of_get_attributes(processor, version):
    creator = Client(processor, V2_1)
    uid = creator.create_uid(attrs=[("Description", text(0, "d")), ("Comment", text(0, "c")),
                                    ("Alternative Name", structure(
                                        Tag.ALTERNATIVE_NAME, text(Tag.ALTERNATIVE_NAME_VALUE, "alt"),
                                        enumeration(Tag.ALTERNATIVE_NAME_TYPE, 1)))])
    client = Client(processor, version)
    attrs = client.attributes(uid)
    for name in attrs:
        assert _defined(name, version), f"{name} is not a KMIP {version} attribute"
    expectations = {
        "Original Creation Date": _defined("Original Creation Date", version),
        "Fresh": _defined("Fresh", version),
        "Key Format Type": _defined("Key Format Type", version),
        "Description": _defined("Description", version),
        "Alternative Name": _defined("Alternative Name", version),
    }
    for name, present in expectations.items():
        assert (name in attrs) == present, (name, version)
    assert "State" in attrs and "Unique Identifier" in attrs


def test_version_1_0_never_sees_later_attributes(processor):
    uid = Client(processor, V2_1).create_uid()
    attrs = Client(processor, V1_0).attributes(uid)
    assert attribute_rule("Original Creation Date").since != "1.0"
    assert "Original Creation Date" not in attrs
    assert "Key Format Type" not in attrs
    assert "Fresh" not in attrs
    # Asking by name does not leak it either.
    assert Client(processor, V1_0).attributes(uid, "Original Creation Date", "Key Format Type") == {}


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=vid)
def test_version_gating_of_get_attribute_list(processor, version):
    uid = Client(processor, V2_1).create_uid()
    client = Client(processor, version)
    result = client.get_attribute_list(uid).expect_ok()
    if version >= V2_0:
        refs = result.find_all(Tag.ATTRIBUTE_REFERENCE)
        assert result.find_all(Tag.ATTRIBUTE_NAME) == []
        names = [attribute_rule_by_tag(int(r.value)).name for r in refs]
    else:
        assert result.find_all(Tag.ATTRIBUTE_REFERENCE) == []
        names = [str(n.value) for n in result.find_all(Tag.ATTRIBUTE_NAME)]
    assert len(names) == len(set(names)), "each name once"
    for name in names:
        assert _defined(name, version), (name, version)
    assert {"Unique Identifier", "State", "Cryptographic Algorithm", "Initial Date"} <= set(names)
    assert ("Key Format Type" in names) == (version >= V2_0)


def test_removed_attribute_not_shown_to_2x(processor):
    """Operation Policy Name exists up to 1.4 only: a 1.4 client sees it, a 2.x client does not."""
    assert attribute_rule("Operation Policy Name").until == "1.4"
    v14 = Client(processor, V1_4)
    uid = v14.create_uid(attrs=[("Operation Policy Name", text(0, "default"))])
    assert [v.value for v in v14.attributes(uid)["Operation Policy Name"]] == ["default"]
    assert "Operation Policy Name" not in Client(processor, V2_1).attributes(uid)
    assert "Operation Policy Name" not in Client(processor, V2_0).attributes(uid)


# ------------------------------------------------------------------------- custom attributes


CUSTOM_VALUES = [
    ("Text", text(0, "hello")),
    ("Integer", integer(0, -42)),
    ("ByteString", byte_string(0, b"\x00\xffbytes")),
]


@pytest.mark.parametrize(("kind", "value"), CUSTOM_VALUES, ids=[k for k, _ in CUSTOM_VALUES])
def test_custom_attribute_added_in_1x_read_in_2x(processor, kind, value):
    v14 = Client(processor, V1_4)
    uid = v14.create_uid()
    v14.add_attribute(uid, "x-Foo", value).expect_ok()
    # 1.x reads it back as x-Foo.
    back = v14.attributes(uid, "x-Foo")["x-Foo"]
    assert [(v.type, v.value) for v in back] == [(value.type, value.value)]
    # 2.x sees Attribute{Vendor Identification "x", Attribute Name "Foo", Attribute Value}.
    result = Client(processor, V2_1).get_attributes(uid).expect_ok()
    customs = result.find(Tag.ATTRIBUTES).find_all(Tag.ATTRIBUTE)
    assert len(customs) == 1
    custom = customs[0]
    assert custom.find(Tag.VENDOR_IDENTIFICATION) == text(Tag.VENDOR_IDENTIFICATION, "x")
    assert custom.find(Tag.ATTRIBUTE_NAME) == text(Tag.ATTRIBUTE_NAME, "Foo")
    assert custom.find(Tag.ATTRIBUTE_VALUE) == Item(Tag.ATTRIBUTE_VALUE, value.type, value.value)


@pytest.mark.parametrize(("kind", "value"), CUSTOM_VALUES, ids=[k for k, _ in CUSTOM_VALUES])
def test_custom_attribute_added_in_2x_read_in_1x(processor, kind, value):
    v21 = Client(processor, V2_1)
    uid = v21.create_uid()
    v21.add_attribute(uid, "y-Bar", value).expect_ok()
    attrs = Client(processor, V1_1).attributes(uid)
    assert [(v.tag, v.type, v.value) for v in attrs["y-Bar"]] == [(Tag.ATTRIBUTE_VALUE, value.type, value.value)]
    # And by 2.x vendor reference.
    ref = structure(Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, "y"), text(Tag.ATTRIBUTE_NAME, "Bar"))
    result = v21.call(Operation.GET_ATTRIBUTES, text(Tag.UNIQUE_IDENTIFIER, uid), ref).expect_ok()
    assert parse_attributes(V2_1, result) == {"y-Bar": [Item(Tag.ATTRIBUTE_VALUE, value.type, value.value)]}


def test_custom_attribute_on_create_in_both_models(processor):
    uid1 = Client(processor, V1_4).create_uid(attrs=[("x-Owner", text(0, "team-a"))])
    uid2 = Client(processor, V2_1).create_uid(attrs=[("x-Owner", text(0, "team-b"))])
    assert Client(processor, V2_1).attributes(uid1)["x-Owner"][0].value == "team-a"
    assert Client(processor, V1_4).attributes(uid2)["x-Owner"][0].value == "team-b"


def test_custom_attribute_in_get_attribute_list_2x(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid(attrs=[("x-Foo", text(0, "v"))])
    refs = client.get_attribute_list(uid).expect_ok().find_all(Tag.ATTRIBUTE_REFERENCE)
    vendor_refs = [r for r in refs if r.type is ItemType.STRUCTURE]
    assert vendor_refs == [structure(Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, "x"),
                                     text(Tag.ATTRIBUTE_NAME, "Foo"))]
    names_1x = [n.value for n in Client(processor, V1_4).get_attribute_list(uid).find_all(Tag.ATTRIBUTE_NAME)]
    assert "x-Foo" in names_1x


def test_unknown_non_custom_attribute_name_is_invalid_field(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid()
    assert client.add_attribute(uid, "Flavour", text(0, "x")).reason == ResultReason.INVALID_FIELD


def test_standard_attribute_of_the_wrong_type_is_invalid_field(client):
    uid = client.create_uid()
    bad = attr_1x("Contact Information", integer(0, 1))
    result = client.call(Operation.ADD_ATTRIBUTE, text(Tag.UNIQUE_IDENTIFIER, uid), bad)
    assert result.reason == ResultReason.INVALID_FIELD


# ------------------------------------------------------------------------- Add / Modify / Delete / Set


def test_add_multi_instance_attribute(client):
    uid = client.create_uid()
    for group in ("a", "b", "c"):
        client.add_attribute(uid, "Object Group", text(0, group)).expect_ok()
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["a", "b", "c"]


def test_add_attribute_1x_response_echoes_attribute_with_index(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid()
    client.add_attribute(uid, "Object Group", text(0, "a")).expect_ok()
    result = client.add_attribute(uid, "Object Group", text(0, "b")).expect_ok()
    echoed = result.find(Tag.ATTRIBUTE)
    assert echoed.find(Tag.ATTRIBUTE_NAME).value == "Object Group"
    assert echoed.find(Tag.ATTRIBUTE_INDEX).value == 1
    assert echoed.find(Tag.ATTRIBUTE_VALUE).value == "b"


def test_add_single_instance_attribute_twice_fails(client):
    uid = client.create_uid()
    client.add_attribute(uid, "Contact Information", text(0, "first")).expect_ok()
    result = client.add_attribute(uid, "Contact Information", text(0, "second"))
    assert result.status == ResultStatus.OPERATION_FAILED
    expected = ResultReason.ATTRIBUTE_SINGLE_VALUED if client.version >= V2_0 else ResultReason.INVALID_FIELD
    assert result.reason == expected
    assert [v.value for v in client.attributes(uid, "Contact Information")["Contact Information"]] == ["first"]


def test_add_single_instance_server_attribute_fails(client):
    uid = client.create_uid()
    result = client.add_attribute(uid, "Cryptographic Length", integer(0, 128))
    assert result.status == ResultStatus.OPERATION_FAILED
    assert client.attribute(uid, "Cryptographic Length") == 256


def test_modify_by_index_1x(processor, clock):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Name", name_value("n0")), ("Name", name_value("n1")),
                                   ("Name", name_value("n2"))])
    clock.advance(30)
    result = client.modify_attribute(uid, "Name", name_value("changed"), index=1).expect_ok()
    echoed = result.find(Tag.ATTRIBUTE)
    assert echoed.find(Tag.ATTRIBUTE_INDEX).value == 1
    names = [v.find(Tag.NAME_VALUE).value for v in client.attributes(uid, "Name")["Name"]]
    assert names == ["n0", "changed", "n2"]
    assert client.attribute(uid, "Last Change Date") == T0 + 30


def test_modify_without_index_changes_instance_0(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Name", name_value("n0")), ("Name", name_value("n1"))])
    client.modify_attribute(uid, "Name", name_value("first")).expect_ok()
    names = [v.find(Tag.NAME_VALUE).value for v in client.attributes(uid, "Name")["Name"]]
    assert names == ["first", "n1"]


def test_modify_index_out_of_bounds(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Name", name_value("n0"))])
    result = client.modify_attribute(uid, "Name", name_value("x"), index=5)
    assert result.reason == ResultReason.INDEX_OUT_OF_BOUNDS


def test_modify_missing_attribute(client):
    uid = client.create_uid()
    result = client.modify_attribute(uid, "Contact Information", text(0, "x"))
    expected = ResultReason.ATTRIBUTE_NOT_FOUND if client.version >= V2_0 else ResultReason.INVALID_FIELD
    assert result.reason == expected


def test_modify_with_current_attribute_2x(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid(attrs=[("Object Group", text(0, "g0")), ("Object Group", text(0, "g1"))])
    client.modify_attribute(uid, "Object Group", text(0, "G1"), current=text(0, "g1")).expect_ok()
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["g0", "G1"]
    bad = client.modify_attribute(uid, "Object Group", text(0, "zz"), current=text(0, "nope"))
    assert bad.status == ResultStatus.OPERATION_FAILED


def test_delete_by_name_and_index_1x(processor, clock):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Object Group", text(0, "a")), ("Object Group", text(0, "b")),
                                   ("Object Group", text(0, "c"))])
    clock.advance(77)
    result = client.delete_attribute(uid, "Object Group", index=1).expect_ok()
    echoed = result.find(Tag.ATTRIBUTE)
    assert echoed.find(Tag.ATTRIBUTE_VALUE).value == "b"
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["a", "c"]
    assert client.attribute(uid, "Last Change Date") == T0 + 77
    client.delete_attribute(uid, "Object Group").expect_ok()  # index 0
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["c"]


def test_delete_index_out_of_bounds_1x(processor):
    client = Client(processor, V1_4)
    uid = client.create_uid(attrs=[("Object Group", text(0, "a"))])
    assert client.delete_attribute(uid, "Object Group", index=3).reason == ResultReason.INDEX_OUT_OF_BOUNDS
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["a"]


def test_delete_by_current_attribute_and_reference_2x(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid(attrs=[("Object Group", text(0, "a")), ("Object Group", text(0, "b")),
                                   ("Contact Information", text(0, "ops"))])
    client.delete_attribute(uid, "Object Group", current=text(0, "b")).expect_ok()
    assert [v.value for v in client.attributes(uid, "Object Group")["Object Group"]] == ["a"]
    client.delete_attribute(uid, "Contact Information").expect_ok()
    assert "Contact Information" not in client.attributes(uid)


def test_delete_missing_attribute(client):
    uid = client.create_uid()
    result = client.delete_attribute(uid, "Contact Information")
    expected = ResultReason.ATTRIBUTE_NOT_FOUND if client.version >= V2_0 else ResultReason.INVALID_FIELD
    assert result.reason == expected


def test_delete_custom_attribute(client):
    uid = client.create_uid(attrs=[("x-Foo", text(0, "v"))])
    client.delete_attribute(uid, "x-Foo").expect_ok()
    assert "x-Foo" not in client.attributes(uid)


@pytest.mark.parametrize(
    ("name", "value"),
    [("Unique Identifier", text(0, "mine")), ("State", enumeration(0, State.ACTIVE)),
     ("Initial Date", date_time(0, 0)), ("Object Type", enumeration(0, ObjectType.SECRET_DATA))],
)
def test_read_only_attributes_cannot_be_modified(client, name, value):
    uid = client.create_uid()
    before = client.attributes(uid)
    result = client.modify_attribute(uid, name, value)
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == read_only_reason(client.version)
    assert client.attributes(uid) == before


@pytest.mark.parametrize("name", ["Unique Identifier", "State"])
def test_read_only_attributes_cannot_be_deleted_or_added(client, name):
    uid = client.create_uid()
    assert client.delete_attribute(uid, name).reason == read_only_reason(client.version)
    value = text(0, "x") if name == "Unique Identifier" else enumeration(0, State.ACTIVE)
    assert client.add_attribute(uid, name, value).reason == read_only_reason(client.version)
    assert client.state(uid) == State.PRE_ACTIVE


def test_set_read_only_is_permission_denied(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    result = client.set_attribute(uid, "State", enumeration(0, State.ACTIVE))
    assert result.reason == ResultReason.ATTRIBUTE_READ_ONLY
    assert client.state(uid) == State.PRE_ACTIVE


def test_set_attribute_2x(processor, clock):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    clock.advance(3)
    assert client.set_attribute(uid, "Contact Information", text(0, "one")).expect_ok().uid == uid
    assert client.attribute(uid, "Contact Information") == "one"
    clock.advance(3)
    client.set_attribute(uid, "Contact Information", text(0, "two")).expect_ok()
    assert client.attribute(uid, "Contact Information") == "two"
    assert client.attribute(uid, "Last Change Date") == T0 + 6


def test_set_attribute_multi_instance_refused(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    assert client.set_attribute(uid, "Object Group", text(0, "g")).reason == ResultReason.INVALID_FIELD


def test_set_activation_date_in_the_past_activates(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    client.set_attribute(uid, "Activation Date", date_time(0, T0 - 1)).expect_ok()
    assert client.state(uid) == State.ACTIVE


def test_last_change_date_moves_on_every_change(client, clock):
    uid = client.create_uid()
    assert client.attribute(uid, "Last Change Date") == T0
    clock.advance(10)
    client.add_attribute(uid, "Object Group", text(0, "a")).expect_ok()
    assert client.attribute(uid, "Last Change Date") == T0 + 10
    clock.advance(10)
    client.modify_attribute(uid, "Object Group", text(0, "b")).expect_ok()
    assert client.attribute(uid, "Last Change Date") == T0 + 20
    clock.advance(10)
    client.delete_attribute(uid, "Object Group").expect_ok()
    assert client.attribute(uid, "Last Change Date") == T0 + 30
    clock.advance(10)
    client.get(uid).expect_ok()
    client.get_attributes(uid).expect_ok()
    assert client.attribute(uid, "Last Change Date") == T0 + 30, "reads are not changes"


def test_attribute_changes_survive_in_the_store(processor, store, client):
    uid = client.create_uid()
    client.add_attribute(uid, "Object Group", text(0, "persisted")).expect_ok()
    with store.transaction(write=False) as tx:
        stored = tx.get(uid)
    assert [a.search for a in stored.values("Object Group")] == ["persisted"]


def test_registered_object_attributes(client):
    uid = client.register(ObjectType.SYMMETRIC_KEY, symmetric_key(bytes(16))).expect_ok().uid
    attrs = client.attributes(uid, "Cryptographic Length", "Object Type")
    assert attrs["Cryptographic Length"][0].value == 128


# ------------------------------------------------------------------------- lifecycle dates, version-gated writes


@pytest.mark.parametrize("version", [V1_4, V2_1], ids=vid)
def test_activation_date_cannot_change_once_active(processor, version):
    client = Client(processor, version)
    uid = client.create_uid()
    client.activate(uid).expect_ok()
    result = client.modify_attribute(uid, "Activation Date", date_time(0, T0 + 3600))
    assert result.reason == wrong_state_reason(version)
    assert client.attribute(uid, "Activation Date") == T0


@pytest.mark.parametrize(("version", "name", "value"),
                         [(V1_0, "Description", text(0, "d")), (V1_4, "Quantum Safe", Item(0, ItemType.BOOLEAN, True))],
                         ids=["1.0-Description", "1.4-QuantumSafe"])
def test_attribute_unknown_to_the_clients_version_is_refused(processor, version, name, value):
    client = Client(processor, version)
    uid = client.create_uid()
    assert not _defined(name, version)
    result = client.add_attribute(uid, name, value)
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.INVALID_FIELD
