"""Request and response messages (KMIP 1.4 section 7, KMIP 2.1 section 8), typed.

Parsing is strict about what the server needs and tolerant of what it can
ignore: unknown optional header fields are skipped, but a missing Protocol
Version, a Batch Count that does not match the batch items, or a batch item
without an Operation makes the message invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmipd.errors import InvalidMessage
from kmipd.protocol.enums import BatchErrorContinuationOption, ResultReason, ResultStatus, Tag
from kmipd.protocol.versions import ProtocolVersion
from kmipd.ttlv.item import Item, ItemType, byte_string, date_time, enumeration, integer, structure, text

__all__ = [
    "RequestBatchItem",
    "RequestHeader",
    "RequestMessage",
    "ResponseBatchItem",
    "ResponseHeader",
    "encode_response",
    "parse_request",
    "read_version",
]


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """The fields of a Request Header that change how the server answers."""

    version: ProtocolVersion
    batch_count: int
    maximum_response_size: int | None = None
    batch_error_continuation: int = BatchErrorContinuationOption.STOP
    attestation_capable: bool = False
    attestation_types: tuple[int, ...] = ()
    credentials: tuple[Item, ...] = ()
    client_correlation_value: str | None = None
    server_correlation_value: str | None = None
    asynchronous: bool = False
    time_stamp: int | None = None


@dataclass(frozen=True, slots=True)
class RequestBatchItem:
    """One operation of a request."""

    operation: int
    payload: Item | None
    unique_batch_item_id: bytes | None = None
    message_extensions: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestMessage:
    """A decoded request."""

    header: RequestHeader
    batch_items: tuple[RequestBatchItem, ...]


@dataclass(slots=True)
class ResponseBatchItem:
    """One result. ``operation`` is echoed when the request named one."""

    operation: int | None
    result_status: int = ResultStatus.SUCCESS
    result_reason: int | None = None
    result_message: str | None = None
    payload: Item | None = None
    unique_batch_item_id: bytes | None = None


@dataclass(slots=True)
class ResponseHeader:
    """The Response Header; ``extra`` carries optional fields such as a Nonce."""

    version: ProtocolVersion
    time_stamp: int
    batch_count: int
    client_correlation_value: str | None = None
    server_correlation_value: str | None = None
    extra: list[Item] = field(default_factory=list)


def read_version(item: Item) -> ProtocolVersion:
    """Read a Protocol Version structure.

    Raises:
        InvalidMessage: fields missing or of the wrong type.
    """
    major = item.find(Tag.PROTOCOL_VERSION_MAJOR)
    minor = item.find(Tag.PROTOCOL_VERSION_MINOR)
    if major is None or minor is None or major.type is not ItemType.INTEGER or minor.type is not ItemType.INTEGER:
        raise InvalidMessage("Protocol Version needs integer major and minor fields")
    return ProtocolVersion(int(major.value), int(minor.value))  # type: ignore[arg-type]


def version_item(version: ProtocolVersion) -> Item:
    """Encode a Protocol Version structure."""
    return structure(
        Tag.PROTOCOL_VERSION,
        integer(Tag.PROTOCOL_VERSION_MAJOR, version.major),
        integer(Tag.PROTOCOL_VERSION_MINOR, version.minor),
    )


def peek_version(message: Item) -> ProtocolVersion | None:
    """The request's protocol version if it can be read at all (for answering errors in kind)."""
    header = message.find(Tag.REQUEST_HEADER)
    if header is None:
        return None
    version = header.find(Tag.PROTOCOL_VERSION)
    if version is None:
        return None
    try:
        return read_version(version)
    except InvalidMessage:
        return None


def _expect(item: Item, item_type: ItemType, what: str) -> Item:
    if item.type is not item_type:
        raise InvalidMessage(f"{what} must be of type {item_type.name}")
    return item


def parse_request(message: Item) -> RequestMessage:
    """Turn a decoded Request Message into typed form.

    Raises:
        InvalidMessage: the tree is not a Request Message of the expected shape.
    """
    if message.tag != Tag.REQUEST_MESSAGE or message.type is not ItemType.STRUCTURE:
        raise InvalidMessage("the message is not a Request Message")
    header_item = message.find(Tag.REQUEST_HEADER)
    if header_item is None or header_item.type is not ItemType.STRUCTURE:
        raise InvalidMessage("the Request Header is missing")
    header = _parse_header(header_item)
    items = tuple(_parse_batch_item(b) for b in message.children if b.tag == Tag.BATCH_ITEM)
    if not items:
        raise InvalidMessage("the request has no Batch Item")
    if header.batch_count != len(items):
        raise InvalidMessage(f"Batch Count is {header.batch_count} but the request has {len(items)} items")
    return RequestMessage(header, items)


def _parse_header(header: Item) -> RequestHeader:
    version: ProtocolVersion | None = None
    values: dict[str, object] = {}
    batch_count: int | None = None
    attestation_types: list[int] = []
    credentials: list[Item] = []
    for child in header.children:
        tag = child.tag
        if tag == Tag.PROTOCOL_VERSION:
            version = read_version(_expect(child, ItemType.STRUCTURE, "Protocol Version"))
        elif tag == Tag.BATCH_COUNT:
            batch_count = int(_expect(child, ItemType.INTEGER, "Batch Count").value)  # type: ignore[arg-type]
        elif tag == Tag.MAXIMUM_RESPONSE_SIZE:
            values["maximum_response_size"] = int(_expect(child, ItemType.INTEGER, "Maximum Response Size").value)  # type: ignore[arg-type]
        elif tag == Tag.BATCH_ERROR_CONTINUATION_OPTION:
            values["batch_error_continuation"] = int(
                _expect(child, ItemType.ENUMERATION, "Batch Error Continuation Option").value  # type: ignore[arg-type]
            )
        elif tag == Tag.ATTESTATION_CAPABLE_INDICATOR:
            values["attestation_capable"] = bool(
                _expect(child, ItemType.BOOLEAN, "Attestation Capable Indicator").value
            )
        elif tag == Tag.ATTESTATION_TYPE:
            kind = _expect(child, ItemType.ENUMERATION, "Attestation Type").value
            attestation_types.append(int(kind))  # type: ignore[arg-type]
        elif tag == Tag.AUTHENTICATION:
            credentials.extend(c for c in child.children if c.tag == Tag.CREDENTIAL)
        elif tag == Tag.CLIENT_CORRELATION_VALUE:
            values["client_correlation_value"] = str(
                _expect(child, ItemType.TEXT_STRING, "Client Correlation Value").value
            )
        elif tag == Tag.SERVER_CORRELATION_VALUE:
            values["server_correlation_value"] = str(
                _expect(child, ItemType.TEXT_STRING, "Server Correlation Value").value
            )
        elif tag == Tag.ASYNCHRONOUS_INDICATOR:
            values["asynchronous"] = bool(_expect(child, ItemType.BOOLEAN, "Asynchronous Indicator").value)
        elif tag == Tag.TIME_STAMP:
            values["time_stamp"] = int(_expect(child, ItemType.DATE_TIME, "Time Stamp").value)  # type: ignore[arg-type]
    if version is None:
        raise InvalidMessage("the Request Header has no Protocol Version")
    if batch_count is None:
        raise InvalidMessage("the Request Header has no Batch Count")
    return RequestHeader(
        version=version,
        batch_count=batch_count,
        attestation_types=tuple(attestation_types),
        credentials=tuple(credentials),
        **values,  # type: ignore[arg-type]
    )


def _parse_batch_item(item: Item) -> RequestBatchItem:
    if item.type is not ItemType.STRUCTURE:
        raise InvalidMessage("a Batch Item must be a Structure")
    operation: int | None = None
    payload: Item | None = None
    batch_id: bytes | None = None
    extensions: list[Item] = []
    for child in item.children:
        if child.tag == Tag.OPERATION:
            operation = int(_expect(child, ItemType.ENUMERATION, "Operation").value)  # type: ignore[arg-type]
        elif child.tag == Tag.REQUEST_PAYLOAD:
            payload = _expect(child, ItemType.STRUCTURE, "Request Payload")
        elif child.tag == Tag.UNIQUE_BATCH_ITEM_ID:
            batch_id = bytes(_expect(child, ItemType.BYTE_STRING, "Unique Batch Item ID").value)  # type: ignore[arg-type]
        elif child.tag == Tag.MESSAGE_EXTENSION:
            extensions.append(child)
    if operation is None:
        raise InvalidMessage("a Batch Item has no Operation")
    return RequestBatchItem(operation, payload, batch_id, tuple(extensions))


def encode_response(header: ResponseHeader, items: list[ResponseBatchItem]) -> Item:
    """Build the Response Message tree."""
    head = structure(
        Tag.RESPONSE_HEADER,
        version_item(header.version),
        date_time(Tag.TIME_STAMP, header.time_stamp),
        *header.extra,
        text(Tag.CLIENT_CORRELATION_VALUE, header.client_correlation_value)
        if header.client_correlation_value is not None
        else None,
        text(Tag.SERVER_CORRELATION_VALUE, header.server_correlation_value)
        if header.server_correlation_value is not None
        else None,
        integer(Tag.BATCH_COUNT, header.batch_count),
    )
    return structure(Tag.RESPONSE_MESSAGE, head, *(_batch_item(b) for b in items))


def _batch_item(item: ResponseBatchItem) -> Item:
    return structure(
        Tag.BATCH_ITEM,
        enumeration(Tag.OPERATION, item.operation) if item.operation is not None else None,
        byte_string(Tag.UNIQUE_BATCH_ITEM_ID, item.unique_batch_item_id)
        if item.unique_batch_item_id is not None
        else None,
        enumeration(Tag.RESULT_STATUS, item.result_status),
        enumeration(Tag.RESULT_REASON, item.result_reason) if item.result_reason is not None else None,
        text(Tag.RESULT_MESSAGE, item.result_message) if item.result_message is not None else None,
        item.payload,
    )


def failure(operation: int | None, reason: int, message: str, batch_id: bytes | None = None) -> ResponseBatchItem:
    """A failed batch item."""
    return ResponseBatchItem(
        operation=operation,
        result_status=ResultStatus.OPERATION_FAILED,
        result_reason=reason,
        result_message=message,
        unique_batch_item_id=batch_id,
    )


GENERAL_FAILURE = ResultReason.GENERAL_FAILURE
