"""Typed request parsing and response encoding (kmipd.protocol.messages)."""

from __future__ import annotations

import pytest

from kmipd.errors import InvalidMessage
from kmipd.protocol.enums import BatchErrorContinuationOption, Operation, ResultReason, ResultStatus, Tag
from kmipd.protocol.messages import (
    ResponseBatchItem,
    ResponseHeader,
    encode_response,
    failure,
    parse_request,
    peek_version,
    read_version,
    version_item,
)
from kmipd.protocol.versions import SUPPORTED, V1_4, V2_1, ProtocolVersion, fallback_version
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import (
    Item,
    ItemType,
    boolean,
    byte_string,
    date_time,
    enumeration,
    integer,
    structure,
    text,
)


def _header(*children: Item | None) -> Item:
    return structure(Tag.REQUEST_HEADER, *children)


def _pv(major: int, minor: int) -> Item:
    return structure(Tag.PROTOCOL_VERSION, integer(Tag.PROTOCOL_VERSION_MAJOR, major),
                     integer(Tag.PROTOCOL_VERSION_MINOR, minor))


def _item(operation: int = Operation.QUERY, *extra: Item) -> Item:
    return structure(Tag.BATCH_ITEM, enumeration(Tag.OPERATION, operation), *extra)


def _message(header: Item, *items: Item) -> Item:
    return structure(Tag.REQUEST_MESSAGE, header, *items)


def test_parse_full_header():
    cred = structure(Tag.CREDENTIAL, enumeration(Tag.CREDENTIAL_TYPE, 1))
    message = _message(
        _header(
            _pv(1, 4),
            integer(Tag.MAXIMUM_RESPONSE_SIZE, 4096),
            enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, BatchErrorContinuationOption.CONTINUE),
            boolean(Tag.ATTESTATION_CAPABLE_INDICATOR, True),
            enumeration(Tag.ATTESTATION_TYPE, 1),
            enumeration(Tag.ATTESTATION_TYPE, 2),
            structure(Tag.AUTHENTICATION, cred),
            text(Tag.CLIENT_CORRELATION_VALUE, "cc"),
            text(Tag.SERVER_CORRELATION_VALUE, "sc"),
            boolean(Tag.ASYNCHRONOUS_INDICATOR, False),
            date_time(Tag.TIME_STAMP, 1234),
            integer(Tag.BATCH_COUNT, 2),
        ),
        _item(Operation.CREATE, byte_string(Tag.UNIQUE_BATCH_ITEM_ID, b"\x01"),
              structure(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "u"))),
        _item(Operation.GET, byte_string(Tag.UNIQUE_BATCH_ITEM_ID, b"\x02"),
              structure(Tag.MESSAGE_EXTENSION, text(Tag.VENDOR_IDENTIFICATION, "v"))),
    )
    request = parse_request(message)
    h = request.header
    assert h.version == ProtocolVersion(1, 4)
    assert h.batch_count == 2
    assert h.maximum_response_size == 4096
    assert h.batch_error_continuation == BatchErrorContinuationOption.CONTINUE
    assert h.attestation_capable is True
    assert h.attestation_types == (1, 2)
    assert h.credentials == (cred,)
    assert (h.client_correlation_value, h.server_correlation_value) == ("cc", "sc")
    assert h.asynchronous is False
    assert h.time_stamp == 1234
    first, second = request.batch_items
    assert first.operation == Operation.CREATE and first.unique_batch_item_id == b"\x01"
    assert first.payload == structure(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "u"))
    assert second.payload is None
    assert len(second.message_extensions) == 1


def test_defaults():
    request = parse_request(_message(_header(_pv(2, 1), integer(Tag.BATCH_COUNT, 1)), _item()))
    h = request.header
    assert h.maximum_response_size is None
    assert h.batch_error_continuation == BatchErrorContinuationOption.STOP
    assert h.credentials == () and h.attestation_types == ()
    assert request.batch_items[0].unique_batch_item_id is None


def test_unknown_header_fields_are_ignored():
    request = parse_request(_message(_header(_pv(2, 0), text(Tag.SERVER_NAME, "?"), integer(Tag.BATCH_COUNT, 1)),
                                     _item()))
    assert request.header.version == (2, 0)


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (structure(Tag.RESPONSE_MESSAGE, _header(_pv(1, 4), integer(Tag.BATCH_COUNT, 1)), _item()),
         "not a Request Message"),
        (text(Tag.REQUEST_MESSAGE, "x"), "not a Request Message"),
        (_message(_item()), "Request Header"),
        (_message(_header(integer(Tag.BATCH_COUNT, 1)), _item()), "Protocol Version"),
        (_message(_header(_pv(1, 4)), _item()), "Batch Count"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 0))), "no Batch Item"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 2)), _item()), "Batch Count"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 1)), structure(Tag.BATCH_ITEM)), "Operation"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 1)), text(Tag.BATCH_ITEM, "x")), "Structure"),
        (_message(_header(_pv(1, 4), enumeration(Tag.BATCH_COUNT, 1)), _item()), "Batch Count"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 1)),
                  structure(Tag.BATCH_ITEM, integer(Tag.OPERATION, 1))), "Operation"),
        (_message(_header(structure(Tag.PROTOCOL_VERSION, integer(Tag.PROTOCOL_VERSION_MAJOR, 1)),
                          integer(Tag.BATCH_COUNT, 1)), _item()), "Protocol Version"),
        (_message(_header(_pv(1, 4), integer(Tag.BATCH_COUNT, 1)),
                  _item(Operation.GET, text(Tag.UNIQUE_BATCH_ITEM_ID, "id"))), "Unique Batch Item ID"),
    ],
    ids=["response-tag", "not-structure", "no-header", "no-version", "no-count", "no-items", "count-mismatch",
         "no-operation", "item-not-structure", "count-wrong-type", "operation-wrong-type", "version-no-minor",
         "batch-id-wrong-type"],
)
def test_invalid_requests(message, fragment):
    with pytest.raises(InvalidMessage) as info:
        parse_request(message)
    assert fragment in info.value.message
    assert info.value.result_reason == ResultReason.INVALID_MESSAGE


def test_read_and_write_version():
    assert read_version(_pv(2, 1)) == V2_1
    assert version_item(V1_4) == _pv(1, 4)
    with pytest.raises(InvalidMessage):
        read_version(structure(Tag.PROTOCOL_VERSION, text(Tag.PROTOCOL_VERSION_MAJOR, "1"),
                               integer(Tag.PROTOCOL_VERSION_MINOR, 0)))


def test_peek_version():
    assert peek_version(_message(_header(_pv(3, 0)), _item())) == (3, 0)
    assert peek_version(_message(_item())) is None
    assert peek_version(_message(_header(integer(Tag.BATCH_COUNT, 1)))) is None
    bad = _message(_header(structure(Tag.PROTOCOL_VERSION)))
    assert peek_version(bad) is None


def test_versions():
    assert [str(v) for v in SUPPORTED] == ["2.1", "2.0", "1.4", "1.3", "1.2", "1.1", "1.0"]
    assert ProtocolVersion.parse("1.4") == (1, 4)
    assert ProtocolVersion.parse("2") == (2, 0)
    assert ProtocolVersion(1, 10) > ProtocolVersion(1, 9), "versions compare as tuples, not floats"
    assert fallback_version(ProtocolVersion(1, 9)) == V1_4
    assert fallback_version(ProtocolVersion(3, 0)) == V2_1
    assert fallback_version(ProtocolVersion(0, 9)) == V1_4
    assert ProtocolVersion(2, 0).is_2x and not ProtocolVersion(1, 4).is_2x


def test_encode_response_round_trip():
    header = ResponseHeader(version=V1_4, time_stamp=99, batch_count=2, client_correlation_value="c",
                            extra=[byte_string(Tag.NONCE_ID, b"n")])
    items = [
        ResponseBatchItem(operation=Operation.GET, payload=structure(Tag.RESPONSE_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER,
                                                                                                  "u")),
                          unique_batch_item_id=b"\x07"),
        failure(Operation.DESTROY, ResultReason.ITEM_NOT_FOUND, "gone", b"\x08"),
    ]
    tree = decode(encode(encode_response(header, items)))
    assert tree.tag == Tag.RESPONSE_MESSAGE
    head = tree.find(Tag.RESPONSE_HEADER)
    assert [c.tag for c in head.children] == [Tag.PROTOCOL_VERSION, Tag.TIME_STAMP, Tag.NONCE_ID,
                                              Tag.CLIENT_CORRELATION_VALUE, Tag.BATCH_COUNT]
    assert head.find(Tag.TIME_STAMP) == date_time(Tag.TIME_STAMP, 99)
    assert head.find(Tag.BATCH_COUNT).value == 2
    ok, bad = tree.find_all(Tag.BATCH_ITEM)
    assert [c.tag for c in ok.children] == [Tag.OPERATION, Tag.UNIQUE_BATCH_ITEM_ID, Tag.RESULT_STATUS,
                                            Tag.RESPONSE_PAYLOAD]
    assert ok.find(Tag.RESULT_STATUS).value == ResultStatus.SUCCESS
    assert [c.tag for c in bad.children] == [Tag.OPERATION, Tag.UNIQUE_BATCH_ITEM_ID, Tag.RESULT_STATUS,
                                             Tag.RESULT_REASON, Tag.RESULT_MESSAGE]
    assert bad.find(Tag.RESULT_STATUS).value == ResultStatus.OPERATION_FAILED
    assert bad.find(Tag.RESULT_REASON).value == ResultReason.ITEM_NOT_FOUND
    assert bad.find(Tag.RESULT_MESSAGE).value == "gone"


def test_failure_without_operation_omits_it():
    tree = encode_response(ResponseHeader(V2_1, 0, 1), [failure(None, ResultReason.INVALID_MESSAGE, "x")])
    item = tree.find(Tag.BATCH_ITEM)
    assert item.find(Tag.OPERATION) is None
    assert item.find(Tag.RESULT_REASON).type is ItemType.ENUMERATION
