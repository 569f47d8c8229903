"""Request bytes in, response bytes out: the one place where errors become failed batch items.

``Processor.process`` is a plain synchronous method: the server calls it on a
worker thread, tests call it directly. Each batch item runs in its own store
transaction, committed before the response is built, so an acknowledged
change is durable; with Batch Error Continuation Option Continue, the failure
of one item does not undo the others.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from kmipd.clock import Clock, Entropy
from kmipd.errors import FeatureNotSupported, InvalidMessage, KMIPError, OperationNotSupported
from kmipd.operations.context import AccessPolicy, Context, Identity, MessageState, NeedsWrite, ProcessState
from kmipd.operations.payload import Payload
from kmipd.operations.registry import Handler, default_registry
from kmipd.protocol.enums import BatchErrorContinuationOption, ResultReason, ResultStatus, Tag
from kmipd.protocol.messages import (
    RequestBatchItem,
    RequestMessage,
    ResponseBatchItem,
    ResponseHeader,
    encode_response,
    failure,
    parse_request,
    peek_version,
)
from kmipd.protocol.versions import SUPPORTED, V1_0, ProtocolVersion, fallback_version
from kmipd.store.interface import ConcurrentUpdate, Store, StoreUnavailable, Transaction
from kmipd.ttlv.codec import Limits, decode, encode
from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.item import Item, ItemType

log = logging.getLogger("kmipd.processor")

#: Highest Result Reason value KMIP 1.x defines (besides General Failure).
_LAST_1X_REASON = ResultReason.OBJECT_ALREADY_EXISTS
#: How 2.x-only Result Reasons are told to a 1.x client.
_REASON_1X = {
    ResultReason.WRONG_KEY_LIFECYCLE_STATE: ResultReason.PERMISSION_DENIED,
    ResultReason.UNSUPPORTED_PROTOCOL_VERSION: ResultReason.INVALID_MESSAGE,
    ResultReason.OBJECT_DESTROYED: ResultReason.KEY_VALUE_NOT_PRESENT,
    ResultReason.ATTRIBUTE_NOT_FOUND: ResultReason.INVALID_FIELD,
    ResultReason.ATTRIBUTE_SINGLE_VALUED: ResultReason.INVALID_FIELD,
    ResultReason.ATTRIBUTE_READ_ONLY: ResultReason.PERMISSION_DENIED,
    ResultReason.NON_UNIQUE_NAME_ATTRIBUTE: ResultReason.INVALID_FIELD,
    ResultReason.OBJECT_NOT_FOUND: ResultReason.ITEM_NOT_FOUND,
    ResultReason.INVALID_OBJECT_TYPE: ResultReason.INVALID_FIELD,
    ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS: ResultReason.CRYPTOGRAPHIC_FAILURE,
    ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS: ResultReason.CRYPTOGRAPHIC_FAILURE,
    ResultReason.MISSING_INITIALIZATION_VECTOR: ResultReason.MISSING_DATA,
    ResultReason.INVALID_CORRELATION_VALUE: ResultReason.INVALID_FIELD,
    ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK: ResultReason.INVALID_FIELD,
}
_RETRIES_ON_CONFLICT = 3
#: How 1.x reasons read in 2.x, where the specification names them differently.
_REASON_2X = {ResultReason.ITEM_NOT_FOUND: ResultReason.OBJECT_NOT_FOUND}


class _Undo(Exception):
    """Roll back the transaction of an Undo batch."""


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    """Tunables of request processing."""

    limits: Limits = field(default_factory=Limits)
    max_batch_items: int = 1000


class Processor:
    """Turns one encoded request into one encoded response."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        entropy: Entropy,
        access: AccessPolicy,
        settings: ProcessorSettings | None = None,
        handlers: dict[int, Handler] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.entropy = entropy
        self.access = access
        self.settings = settings or ProcessorSettings()
        self.handlers = handlers if handlers is not None else default_registry()
        self.process_state = ProcessState()

    def process(self, raw: bytes, client_name: str) -> bytes:
        """Handle one request message from the authenticated client ``client_name``."""
        identity = self.access.identity(client_name)
        now = int(self.clock.now())
        try:
            tree = decode(raw, self.settings.limits)
        except TTLVError as exc:
            return self._message_error(V1_0, now, ResultReason.INVALID_MESSAGE, f"undecodable message: {exc}")
        try:
            request = parse_request(tree)
        except KMIPError as exc:
            version = peek_version(tree) or V1_0
            if version not in SUPPORTED:
                version = fallback_version(version)
            return self._message_error(version, now, exc.result_reason, exc.message)
        version = request.header.version
        if len(request.batch_items) > self.settings.max_batch_items:
            log.warning("refusing a request of %s with %d batch items", client_name, len(request.batch_items))
            return self._message_error(
                version if version in SUPPORTED else fallback_version(version),
                now,
                ResultReason.INVALID_MESSAGE,
                f"a request may carry at most {self.settings.max_batch_items} batch items",
            )
        if version not in SUPPORTED:
            answer = fallback_version(version)
            reason = ResultReason.UNSUPPORTED_PROTOCOL_VERSION if answer.major >= 2 else ResultReason.INVALID_MESSAGE
            return self._message_error(answer, now, reason, f"KMIP {version} is not supported; use DiscoverVersions")
        results = self._run_batch(request, identity, now)
        return self._encode(request, now, results)

    def _run_batch(self, request: RequestMessage, identity: Identity, now: int) -> list[ResponseBatchItem]:
        header = request.header
        ids = [b.unique_batch_item_id for b in request.batch_items]
        if len(ids) > 1 and (None in ids or len(set(ids)) != len(ids)):
            missing = InvalidMessage("each item of a batch needs its own Unique Batch Item ID")
            return [
                failure(b.operation, missing.result_reason, missing.message, b.unique_batch_item_id)
                for b in request.batch_items
            ]
        state = MessageState()
        option = header.batch_error_continuation
        if option == BatchErrorContinuationOption.UNDO and len(request.batch_items) > 1:
            return self._run_undoable(request, identity, now, state)
        results: list[ResponseBatchItem] = []
        for item in request.batch_items:
            result = self._run_item(item, header.version, identity, now, state)
            if log.isEnabledFor(logging.DEBUG):
                # Names and outcomes only: payloads (key material, plaintext) are never logged.
                log.debug(
                    "%s KMIP %s operation %s -> status %s reason %s",
                    identity.name,
                    header.version,
                    item.operation,
                    result.result_status,
                    result.result_reason,
                )
            results.append(result)
            if result.result_reason is not None and option != BatchErrorContinuationOption.CONTINUE:
                break
        return results

    def _handler(self, item: RequestBatchItem, version: ProtocolVersion) -> Handler:
        handler = self.handlers.get(item.operation)
        if handler is None or version < handler.since:
            raise OperationNotSupported("this operation is not supported by kmipd")
        if item.message_extensions and any(
            (c := e.find(Tag.CRITICALITY_INDICATOR)) is not None and c.value for e in item.message_extensions
        ):
            raise FeatureNotSupported("critical Message Extensions are not supported")
        return handler

    def _call(
        self,
        handler: Handler,
        item: RequestBatchItem,
        tx: Transaction,
        *,
        version: ProtocolVersion,
        identity: Identity,
        now: int,
        state: MessageState,
        write: bool,
    ) -> ResponseBatchItem:
        ctx = Context(
            version=version,
            identity=identity,
            access=self.access,
            now=now,
            entropy=self.entropy,
            tx=tx,
            message=state,
            writable=write,
            process=self.process_state,
        )
        children = handler.fn(ctx, Payload(item.payload))
        return ResponseBatchItem(
            operation=item.operation,
            payload=Item(Tag.RESPONSE_PAYLOAD, ItemType.STRUCTURE, tuple(children)),
            unique_batch_item_id=item.unique_batch_item_id,
        )

    def _run_item(
        self, item: RequestBatchItem, version: ProtocolVersion, identity: Identity, now: int, state: MessageState
    ) -> ResponseBatchItem:
        """One item in its own transaction: it commits before the response is built."""
        try:
            handler = self._handler(item, version)
            write = handler.mutates
            for attempt in range(_RETRIES_ON_CONFLICT):
                saved = state.id_placeholder
                try:
                    with self.store.transaction(write=write) as tx:
                        return self._call(
                            handler, item, tx, version=version, identity=identity, now=now, state=state, write=write
                        )
                except NeedsWrite:
                    # A read found something to record (e.g. Fresh on first Get): redo it as a write.
                    state.id_placeholder = saved
                    write = True
                except ConcurrentUpdate:
                    state.id_placeholder = saved
                    if attempt == _RETRIES_ON_CONFLICT - 1:
                        raise
            raise ConcurrentUpdate(item.operation)
        except Exception as exc:
            return self._failed(item, version, exc)

    def _run_undoable(
        self, request: RequestMessage, identity: Identity, now: int, state: MessageState
    ) -> list[ResponseBatchItem]:
        """Batch Error Continuation Option Undo: all items in one transaction, rolled back on the first failure.

        The items before the failure are answered Operation Undone (with what they returned),
        the failing item Operation Failed; later items are not processed.
        """
        version = request.header.version
        results: list[ResponseBatchItem] = []
        try:
            with self.store.transaction(write=True) as tx:
                for item in request.batch_items:
                    try:
                        handler = self._handler(item, version)
                        results.append(
                            self._call(
                                handler, item, tx, version=version, identity=identity, now=now, state=state, write=True
                            )
                        )
                    except Exception as exc:
                        results.append(self._failed(item, version, exc))
                        raise _Undo from None
        except _Undo:
            for result in results[:-1]:
                result.result_status = ResultStatus.OPERATION_UNDONE
        except Exception as exc:
            return [self._failed(item, version, exc) for item in request.batch_items[:1]]
        return results

    def _failed(self, item: RequestBatchItem, version: ProtocolVersion, exc: Exception) -> ResponseBatchItem:
        """The one translation of an exception into a failed batch item."""
        batch_id = item.unique_batch_item_id
        if isinstance(exc, KMIPError):
            return failure(item.operation, self._reason(exc.result_reason, version), exc.message, batch_id)
        if isinstance(exc, StoreUnavailable | ConcurrentUpdate):
            log.warning("store error on operation %s: %s", item.operation, type(exc).__name__)
            return failure(
                item.operation,
                ResultReason.GENERAL_FAILURE,
                "the key store is temporarily unavailable; retry",
                batch_id,
            )
        incident = uuid.uuid4().hex[:12]
        log.error("internal error %s while processing operation %s", incident, item.operation, exc_info=exc)
        return failure(item.operation, ResultReason.GENERAL_FAILURE, f"internal error (incident {incident})", batch_id)

    @staticmethod
    def _reason(reason: int, version: ProtocolVersion) -> int:
        if version.major >= 2:
            return int(_REASON_2X.get(ResultReason(reason), reason))
        if reason <= _LAST_1X_REASON or reason == ResultReason.GENERAL_FAILURE:
            return reason
        return int(_REASON_1X.get(ResultReason(reason), ResultReason.GENERAL_FAILURE))

    def _encode(self, request: RequestMessage, now: int, results: list[ResponseBatchItem]) -> bytes:
        header = request.header
        response_header = ResponseHeader(
            version=header.version,
            time_stamp=now,
            batch_count=len(results),
            client_correlation_value=header.client_correlation_value if header.version >= (1, 4) else None,
            server_correlation_value=header.server_correlation_value if header.version >= (1, 4) else None,
        )
        encoded = encode(encode_response(response_header, results))
        limit = header.maximum_response_size
        if limit is not None and len(encoded) > limit:
            shrunk = [
                failure(
                    r.operation,
                    ResultReason.RESPONSE_TOO_LARGE,
                    f"the response exceeds the Maximum Response Size of {limit} bytes",
                    r.unique_batch_item_id,
                )
                if r.payload is not None
                else r
                for r in results
            ]
            encoded = encode(encode_response(response_header, shrunk))
        return encoded

    def _message_error(self, version: ProtocolVersion, now: int, reason: int, message: str) -> bytes:
        """A response with one failed batch item, for messages that cannot be processed at all."""
        header = ResponseHeader(version=version, time_stamp=now, batch_count=1)
        item = failure(None, self._reason(reason, version), message)
        return encode(encode_response(header, [item]))
