"""One error hierarchy that maps onto KMIP Result Reasons.

Operations raise these; the processor is the only place that turns them into
failed batch items. Messages are written for the client: they never contain
key material, and a missing object and another client's object produce the
same error with the same text.
"""

from __future__ import annotations

from typing import ClassVar

from kmipd.protocol.enums import ResultReason, ResultStatus


class KMIPError(Exception):
    """A request that fails with a KMIP Result Reason."""

    result_reason: ClassVar[ResultReason] = ResultReason.GENERAL_FAILURE
    result_status: ClassVar[ResultStatus] = ResultStatus.OPERATION_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ItemNotFound(KMIPError):
    """No object with that identifier is visible to the client."""

    result_reason = ResultReason.ITEM_NOT_FOUND


class InvalidMessage(KMIPError):
    """The message is not a well-formed KMIP request."""

    result_reason = ResultReason.INVALID_MESSAGE


class InvalidField(KMIPError):
    """A field has a value the server cannot accept."""

    result_reason = ResultReason.INVALID_FIELD


class MissingData(KMIPError):
    """A required field is absent."""

    result_reason = ResultReason.MISSING_DATA


class OperationNotSupported(KMIPError):
    """The operation is not implemented by this server."""

    result_reason = ResultReason.OPERATION_NOT_SUPPORTED


class FeatureNotSupported(KMIPError):
    """A recognised feature this server does not offer (e.g. batch Undo)."""

    result_reason = ResultReason.FEATURE_NOT_SUPPORTED


class PermissionDenied(KMIPError):
    """The client may not perform this operation (on this object)."""

    result_reason = ResultReason.PERMISSION_DENIED


class IllegalOperation(KMIPError):
    """The operation is not allowed in the object's current state (KMIP 1.x reason)."""

    result_reason = ResultReason.ILLEGAL_OPERATION


class WrongKeyLifecycleState(KMIPError):
    """The object's state forbids the operation.

    A KMIP 2.x reason; 1.x clients get Permission Denied, as the OASIS 1.4 test cases expect.
    """

    result_reason = ResultReason.WRONG_KEY_LIFECYCLE_STATE


class KeyFormatTypeNotSupported(KMIPError):
    """The requested key format cannot be produced for this object."""

    result_reason = ResultReason.KEY_FORMAT_TYPE_NOT_SUPPORTED


class KeyCompressionTypeNotSupported(KMIPError):
    """The requested key compression cannot be produced."""

    result_reason = ResultReason.KEY_COMPRESSION_TYPE_NOT_SUPPORTED


class KeyValueNotPresent(KMIPError):
    """The object has no key material (destroyed)."""

    result_reason = ResultReason.KEY_VALUE_NOT_PRESENT


class CryptographicFailure(KMIPError):
    """Cryptographic parameters are unusable (e.g. an unsupported key length)."""

    result_reason = ResultReason.CRYPTOGRAPHIC_FAILURE


class IndexOutOfBounds(KMIPError):
    """An Attribute Index names an instance that does not exist."""

    result_reason = ResultReason.INDEX_OUT_OF_BOUNDS


class ResponseTooLarge(KMIPError):
    """The response would exceed the client's Maximum Response Size."""

    result_reason = ResultReason.RESPONSE_TOO_LARGE


class UnsupportedProtocolVersion(KMIPError):
    """The request's protocol version is not one this server speaks."""

    result_reason = ResultReason.UNSUPPORTED_PROTOCOL_VERSION


class ServerBusy(KMIPError):
    """The store is unavailable; the client may retry."""

    result_reason = ResultReason.GENERAL_FAILURE


class ObjectDestroyed(KMIPError):
    """The object's key material is gone (Destroy keeps only metadata); 1.x clients get Key Value Not Present."""

    result_reason = ResultReason.OBJECT_DESTROYED


class Sensitive(KMIPError):
    """The key is marked Sensitive: it may leave the server only wrapped."""

    result_reason = ResultReason.SENSITIVE


class NotExtractable(KMIPError):
    """The key is not Extractable: it never leaves the server."""

    result_reason = ResultReason.NOT_EXTRACTABLE


class AttributeReadOnly(KMIPError):
    """A client tried to change an attribute only the server sets (1.x clients get Permission Denied)."""

    result_reason = ResultReason.ATTRIBUTE_READ_ONLY


class AttributeNotFound(KMIPError):
    """The object has no such attribute (1.x clients get Invalid Field)."""

    result_reason = ResultReason.ATTRIBUTE_NOT_FOUND


class AttributeSingleValued(KMIPError):
    """A second instance of a single-instance attribute (1.x clients get Invalid Field)."""

    result_reason = ResultReason.ATTRIBUTE_SINGLE_VALUED


class IncompatibleCryptographicUsageMask(KMIPError):
    """The object's usage mask does not allow the use (1.x clients get Invalid Field)."""

    result_reason = ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK


class NonUniqueName(KMIPError):
    """Another live object of the client already has this Name (1.x clients get Invalid Field)."""

    result_reason = ResultReason.NON_UNIQUE_NAME_ATTRIBUTE
