"""DiscoverVersions and Query (KMIP 1.4 sections 4.26, 4.25; 2.1 sections 6.1.18, 6.1.37)."""

from __future__ import annotations

import logging

from kmipd import __version__
from kmipd.errors import InvalidField
from kmipd.operations.context import Context
from kmipd.operations.payload import Payload
from kmipd.operations.registry import default_registry, handler
from kmipd.protocol.enums import InteropFunction, ObjectType, Operation, QueryFunction, Tag
from kmipd.protocol.messages import read_version, version_item
from kmipd.protocol.versions import SUPPORTED, V2_0, V2_1, ProtocolVersion
from kmipd.ttlv.item import Item, ItemType, boolean, enumeration, structure, text

_log = logging.getLogger("kmipd.client_log")

VENDOR = "kmipd"

#: Object types kmipd stores, in the order Query lists them.
OBJECT_TYPES = (
    ObjectType.SYMMETRIC_KEY,
    ObjectType.SECRET_DATA,
    ObjectType.OPAQUE_OBJECT,
    ObjectType.PUBLIC_KEY,
    ObjectType.PRIVATE_KEY,
    ObjectType.CERTIFICATE,
)


@handler(Operation.DISCOVER_VERSIONS, mutates=False)
def discover_versions(ctx: Context, payload: Payload) -> list[Item]:
    """The versions both sides speak, in the server's order of preference."""
    del ctx
    offered = {read_version(v) for v in payload.find_all(Tag.PROTOCOL_VERSION)}
    versions: tuple[ProtocolVersion, ...] = SUPPORTED
    if offered:
        versions = tuple(v for v in SUPPORTED if v in offered)
    return [version_item(v) for v in versions]


def _operations(version: ProtocolVersion) -> list[Item]:
    return [enumeration(Tag.OPERATION, op) for op, h in sorted(default_registry().items()) if version >= h.since]


def _server_information(version: ProtocolVersion) -> Item:
    if version < V2_0:
        return structure(Tag.SERVER_INFORMATION)
    return structure(
        Tag.SERVER_INFORMATION,
        text(Tag.SERVER_NAME, VENDOR),
        text(Tag.SERVER_VERSION, __version__),
        text(Tag.PRODUCT_NAME, VENDOR),
    )


def _capabilities() -> Item:
    return structure(
        Tag.CAPABILITY_INFORMATION,
        boolean(Tag.STREAMING_CAPABILITY, True),  # Init/Final Indicator streams for Encrypt, Decrypt, MAC, Hash
        boolean(Tag.ASYNCHRONOUS_CAPABILITY, False),
        boolean(Tag.ATTESTATION_CAPABILITY, False),
        boolean(Tag.BATCH_UNDO_CAPABILITY, False),
        boolean(Tag.BATCH_CONTINUE_CAPABILITY, True),
        enumeration(Tag.DESTROY_ACTION, 2),  # Key Material Deleted: metadata is kept
    )


@handler(Operation.INTEROP, since=V2_1, mutates=False)
def interop(ctx: Context, payload: Payload) -> list[Item]:
    """Acknowledge a test harness's Begin/End/Reset marker (KMIP 2.1 section 6.1.29); kmipd keeps no test state."""
    del ctx
    function = payload.enum(Tag.INTEROP_FUNCTION, required=True)
    if function not in (InteropFunction.BEGIN, InteropFunction.END, InteropFunction.RESET):
        raise InvalidField("Interop Function must be Begin, End or Reset")
    payload.text(Tag.INTEROP_IDENTIFIER, required=True)
    return []


@handler(Operation.QUERY, mutates=False)
def query(ctx: Context, payload: Payload) -> list[Item]:
    """Answer the Query Functions kmipd implements; others are ignored, as the spec allows."""
    functions = []
    for item in payload.find_all(Tag.QUERY_FUNCTION):
        if item.type is not ItemType.ENUMERATION:
            raise InvalidField("Query Function must be an Enumeration")
        functions.append(int(item.value))  # type: ignore[arg-type]
    response: list[Item] = []
    if QueryFunction.QUERY_OPERATIONS in functions:
        response.extend(_operations(ctx.version))
    if QueryFunction.QUERY_OBJECTS in functions:
        response.extend(enumeration(Tag.OBJECT_TYPE, t) for t in OBJECT_TYPES)
    if QueryFunction.QUERY_SERVER_INFORMATION in functions:
        response.append(text(Tag.VENDOR_IDENTIFICATION, VENDOR))
        response.append(_server_information(ctx.version))
    if QueryFunction.QUERY_CAPABILITIES in functions and ctx.version >= V2_0:
        response.append(_capabilities())
    return response


@handler(Operation.LOG, since=V2_1, mutates=False)
def log_message(ctx: Context, payload: Payload) -> list[Item]:
    """Accept a client's Log Message (KMIP 2.1 section 6.1.31); it is recorded in the server log as text."""
    message = payload.text(Tag.LOG_MESSAGE, required=True) or ""
    _log.info("client %s logged: %s", ctx.identity.name, message[:1024].encode("unicode_escape").decode("ascii"))
    return []
