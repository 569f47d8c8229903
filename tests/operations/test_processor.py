"""Processor: message-level errors, versions, batches, continuation options, ID placeholder, reason mapping."""

from __future__ import annotations

import pytest

from kmipd.protocol.enums import (
    BatchErrorContinuationOption,
    CryptographicAlgorithm,
    ObjectType,
    Operation,
    QueryFunction,
    ResultReason,
    ResultStatus,
    Tag,
)
from kmipd.ttlv.codec import encode
from kmipd.ttlv.item import Item, ItemType, enumeration, integer, structure, text
from tests.conftest import T0
from tests.kmip_helpers import (
    ALL_VERSIONS,
    V1_0,
    V1_2,
    V1_4,
    V2_0,
    V2_1,
    WRONG_STATE_1X,
    Client,
    decode_response,
    not_found_reason,
    op,
    request_message,
    run,
    run_raw,
)

NOT_FOUND_21 = not_found_reason(V2_1)


def _create_op(*, batch_id: bytes | None = None, length: int = 128):
    return op(
        Operation.CREATE,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(
            Tag.ATTRIBUTES,
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
        ),
        batch_id=batch_id,
    )


def _get_op(uid: str | None = None, *, batch_id: bytes | None = None):
    return op(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, uid) if uid else None, batch_id=batch_id)


def _query_op(batch_id: bytes | None = None):
    return op(Operation.QUERY, enumeration(Tag.QUERY_FUNCTION, QueryFunction.QUERY_OBJECTS), batch_id=batch_id)


# ------------------------------------------------------------------------- message-level errors


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00" * 3, b"garbage that is not TTLV at all", encode(text(Tag.REQUEST_MESSAGE, "x"))[:-1]],
    ids=["empty", "short", "text", "truncated"],
)
def test_undecodable_bytes_answer_invalid_message(processor, raw):
    response = run_raw(processor, raw)
    assert response.version == V1_0
    assert response.time_stamp == T0
    result = response.only
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.INVALID_MESSAGE
    assert result.message
    assert result.operation is None


def test_wrong_top_level_tag_is_invalid_message(processor):
    message = request_message(V1_4, [_query_op()])
    wrong = Item(Tag.RESPONSE_MESSAGE, ItemType.STRUCTURE, message.value)
    response = run_raw(processor, encode(wrong))
    assert response.only.reason == ResultReason.INVALID_MESSAGE
    assert response.only.status == ResultStatus.OPERATION_FAILED


def test_top_level_not_a_structure_is_invalid_message(processor):
    response = run_raw(processor, encode(text(Tag.REQUEST_MESSAGE, "hello")))
    assert response.only.reason == ResultReason.INVALID_MESSAGE


@pytest.mark.parametrize("count", [0, 2, 5])
def test_batch_count_mismatch_is_invalid_message(processor, count):
    response = run(processor, V2_1, [_query_op()], batch_count=count)
    assert response.version == V2_1, "an invalid message is answered in the request's version when readable"
    assert response.only.status == ResultStatus.OPERATION_FAILED
    assert response.only.reason == ResultReason.INVALID_MESSAGE
    assert "Batch Count" in (response.only.message or "")


def test_missing_protocol_version_is_invalid_message(processor):
    message = structure(
        Tag.REQUEST_MESSAGE,
        structure(Tag.REQUEST_HEADER, integer(Tag.BATCH_COUNT, 1)),
        structure(Tag.BATCH_ITEM, enumeration(Tag.OPERATION, Operation.QUERY), structure(Tag.REQUEST_PAYLOAD)),
    )
    response = run_raw(processor, encode(message))
    assert response.only.reason == ResultReason.INVALID_MESSAGE


def test_unsupported_version_3_0_answered_in_2_1(processor):
    response = run(processor, (3, 0), [_query_op()])
    assert response.version == V2_1
    assert response.only.status == ResultStatus.OPERATION_FAILED
    assert response.only.reason == ResultReason.UNSUPPORTED_PROTOCOL_VERSION


def test_unsupported_version_1_9_answered_in_1_4_with_invalid_message(processor):
    response = run(processor, (1, 9), [_query_op()])
    assert response.version == V1_4
    assert response.only.status == ResultStatus.OPERATION_FAILED
    assert response.only.reason == ResultReason.INVALID_MESSAGE, "1.x has no Unsupported Protocol Version"


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_response_version_equals_request_version(processor, version):
    response = run(processor, version, [_query_op()])
    assert response.version == version
    assert response.time_stamp == T0
    assert response.only.status == ResultStatus.SUCCESS
    assert response.only.operation == Operation.QUERY
    types = [int(i.value) for i in response.only.find_all(Tag.OBJECT_TYPE)]
    assert ObjectType.SYMMETRIC_KEY in types


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_create_and_get_in_every_version(processor, version):
    client = Client(processor, version)
    uid = client.create_uid(length=128)
    got = client.get(uid).expect_ok()
    assert got.uid == uid
    assert int(got.find(Tag.OBJECT_TYPE).value) == ObjectType.SYMMETRIC_KEY


def test_discover_versions_lists_supported(processor):
    result = run(processor, V1_4, [op(Operation.DISCOVER_VERSIONS)]).only
    versions = [
        (int(v.find(Tag.PROTOCOL_VERSION_MAJOR).value), int(v.find(Tag.PROTOCOL_VERSION_MINOR).value))
        for v in result.find_all(Tag.PROTOCOL_VERSION)
    ]
    assert versions == [V2_1, V2_0, (1, 4), (1, 3), (1, 2), (1, 1), V1_0]


# ------------------------------------------------------------------------- batches


def test_unique_batch_item_id_is_echoed(processor):
    response = run(processor, V2_1, [_query_op(b"\x01\x02"), _create_op(batch_id=b"second")])
    assert [r.batch_id for r in response.items] == [b"\x01\x02", b"second"]
    assert [r.operation for r in response.items] == [Operation.QUERY, Operation.CREATE]
    assert all(r.ok for r in response.items)


def test_single_item_without_batch_id_has_none_in_response(processor):
    response = run(processor, V2_1, [_query_op()])
    assert response.only.batch_id is None


def test_batch_id_echoed_on_failure(processor):
    response = run(processor, V2_1, [_get_op("nope", batch_id=b"id-1")])
    assert response.only.batch_id == b"id-1"
    assert response.only.reason == NOT_FOUND_21


def test_multi_item_batch_without_batch_ids_fails_every_item(processor):
    response = run(processor, V1_4, [_create_op(), _create_op()])
    assert len(response.items) == 2
    for result in response.items:
        assert result.status == ResultStatus.OPERATION_FAILED
        assert result.reason == ResultReason.INVALID_MESSAGE
    # Nothing was created.
    client = Client(processor, V1_4)
    assert client.locate_uids() == []


def _failing_batch(option: int | None):
    ops = [
        _create_op(batch_id=b"a"),
        _get_op("does-not-exist", batch_id=b"b"),
        _create_op(batch_id=b"c"),
    ]
    return ops, option


def test_stop_is_the_default_and_stops_after_the_failure(processor):
    ops, _ = _failing_batch(None)
    response = run(processor, V2_1, ops)
    assert [r.batch_id for r in response.items] == [b"a", b"b"]
    assert response.items[0].ok
    assert response.items[1].reason == NOT_FOUND_21
    assert len(Client(processor).locate_uids()) == 1, "completed items are not undone"


def test_explicit_stop(processor):
    ops, _ = _failing_batch(None)
    response = run(processor, V2_1, ops, continuation=BatchErrorContinuationOption.STOP)
    assert [r.batch_id for r in response.items] == [b"a", b"b"]
    assert response.batch_count == 2


def test_continue_runs_every_item(processor):
    ops, _ = _failing_batch(None)
    response = run(processor, V2_1, ops, continuation=BatchErrorContinuationOption.CONTINUE)
    assert [r.batch_id for r in response.items] == [b"a", b"b", b"c"]
    assert [r.ok for r in response.items] == [True, False, True]
    assert response.items[1].reason == NOT_FOUND_21
    assert len(Client(processor).locate_uids()) == 2


def test_undo_rolls_back_the_whole_batch(processor):
    ops, _ = _failing_batch(None)
    response = run(processor, V2_1, ops, continuation=BatchErrorContinuationOption.UNDO)
    assert [r.batch_id for r in response.items] == [b"a", b"b"], "items after the failure are not processed"
    assert response.items[0].status == ResultStatus.OPERATION_UNDONE
    assert response.items[1].status == ResultStatus.OPERATION_FAILED
    assert response.items[1].reason == NOT_FOUND_21
    assert Client(processor).locate_uids() == [], "the Create before the failure was undone"


def test_undo_batch_without_failure_commits(processor):
    response = run(processor, V2_1, [_create_op(batch_id=b"1"), _create_op(batch_id=b"2")],
                   continuation=BatchErrorContinuationOption.UNDO)
    assert [r.status for r in response.items] == [ResultStatus.SUCCESS, ResultStatus.SUCCESS]
    assert Client(processor).locate_uids() == [r.uid for r in response.items]


def test_undo_batch_uses_the_id_placeholder(processor):
    response = run(processor, V2_1, [_create_op(batch_id=b"1"), _get_op(batch_id=b"2")],
                   continuation=BatchErrorContinuationOption.UNDO)
    assert all(r.ok for r in response.items)
    assert response.items[1].uid == response.items[0].uid


def test_undo_with_a_single_item_just_runs_it(processor):
    response = run(processor, V2_1, [_create_op()], continuation=BatchErrorContinuationOption.UNDO)
    assert response.only.ok


# ------------------------------------------------------------------------- operations


@pytest.mark.parametrize("operation", [Operation.CERTIFY, Operation.RECOVER, Operation.ARCHIVE, 0x7FFF])
def test_unknown_or_unimplemented_operation(processor, operation):
    result = run(processor, V2_1, [op(operation)]).only
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.OPERATION_NOT_SUPPORTED
    assert result.operation == operation


def test_set_attribute_is_not_a_1_4_operation(processor):
    uid = Client(processor, V2_1).create_uid()
    client = Client(processor, V1_4)
    result = client.call(Operation.SET_ATTRIBUTE, text(Tag.UNIQUE_IDENTIFIER, uid),
                         structure(Tag.NEW_ATTRIBUTE, text(Tag.CONTACT_INFORMATION, "ops")))
    assert result.reason == ResultReason.OPERATION_NOT_SUPPORTED
    assert Client(processor, V2_0).set_attribute(uid, "Contact Information",
                                                 text(Tag.CONTACT_INFORMATION, "ops")).ok


def test_maximum_response_size_too_small(processor):
    client = Client(processor, V2_1)
    uid = client.create_uid()
    response = run(processor, V2_1, [_get_op(uid)], max_response_size=64)
    result = response.only
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.RESPONSE_TOO_LARGE
    assert result.payload is None
    # Large enough: the same request succeeds.
    assert run(processor, V2_1, [_get_op(uid)], max_response_size=4096).only.ok


def test_id_placeholder_within_a_message(processor):
    response = run(processor, V2_1, [_create_op(batch_id=b"1"), _get_op(batch_id=b"2")])
    create, get = response.items
    assert create.ok and get.ok, get.message
    assert get.uid == create.uid
    assert len(get.find(Tag.SYMMETRIC_KEY).find(Tag.KEY_BLOCK).find(Tag.KEY_VALUE)
               .find(Tag.KEY_MATERIAL).value) == 16


def test_id_placeholder_does_not_cross_messages(processor):
    assert run(processor, V2_1, [_create_op()]).only.ok
    result = run(processor, V2_1, [_get_op()]).only
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.MISSING_DATA


def test_wrong_lifecycle_state_mapped_for_1x(processor):
    assert WRONG_STATE_1X in (ResultReason.PERMISSION_DENIED, ResultReason.ILLEGAL_OPERATION)
    for version, expected in ((V2_1, ResultReason.WRONG_KEY_LIFECYCLE_STATE),
                              (V2_0, ResultReason.WRONG_KEY_LIFECYCLE_STATE),
                              (V1_4, WRONG_STATE_1X),
                              (V1_0, WRONG_STATE_1X)):
        client = Client(processor, version)
        uid = client.create_uid(length=128)
        assert client.activate(uid).ok
        second = client.activate(uid)
        assert second.status == ResultStatus.OPERATION_FAILED
        assert second.reason == expected, version


def test_destroyed_object_reason_mapped_for_1x(processor):
    for version, expected in ((V2_1, ResultReason.OBJECT_DESTROYED), (V1_4, ResultReason.KEY_VALUE_NOT_PRESENT)):
        client = Client(processor, version)
        uid = client.create_uid()
        assert client.destroy(uid).ok
        assert client.get(uid).reason == expected


@pytest.mark.parametrize(("version", "expected"), [(V1_2, ResultReason.INVALID_FIELD),
                                                     (V2_1, ResultReason.ATTRIBUTE_SINGLE_VALUED)])
def test_attribute_single_valued_mapped_for_1x(processor, version, expected):
    client = Client(processor, version)
    uid = client.create_uid()
    assert client.add_attribute(uid, "Contact Information", text(Tag.CONTACT_INFORMATION, "a")).ok
    again = client.add_attribute(uid, "Contact Information", text(Tag.CONTACT_INFORMATION, "b"))
    assert again.status == ResultStatus.OPERATION_FAILED
    assert again.reason == expected


def test_response_is_decodable_and_batch_count_matches(processor):
    raw = processor.process(encode(request_message(V2_1, [_query_op(b"q"), _create_op(batch_id=b"c")])), "alice")
    response = decode_response(raw)
    assert response.batch_count == 2
