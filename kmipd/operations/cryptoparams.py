"""What the cryptographic operations share: Cryptographic Parameters, key material, error translation.

The primitives in :mod:`kmipd.crypto` raise version-neutral exceptions; this
module is where they become the Result Reason a client of the request's
protocol version expects. Where the OASIS test cases pin a reason, it follows
them: a missing IV is Invalid Message and a tag length out of range General
Failure in both 1.4 and 2.1 (CS-BC-M-11, CS-BC-M-GCM-1), a wrong tag
Cryptographic Failure. An unknown Correlation Value is Item Not Found for 1.x
clients, as KMIP 1.4 Table 353 says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kmipd.crypto.errors import (
    AuthenticationFailed,
    BadParameters,
    CryptoError,
    DataLengthError,
    InvalidTagLength,
    MissingIV,
    MissingTag,
    StreamLimit,
)
from kmipd.crypto.symmetric import CipherSpec
from kmipd.errors import (
    CryptographicFailure,
    FeatureNotSupported,
    InvalidField,
    InvalidMessage,
    ItemNotFound,
    KMIPError,
    MissingData,
)
from kmipd.operations.context import Context
from kmipd.operations.objects import ManagedObject
from kmipd.protocol.enums import CryptographicAlgorithm, KeyFormatType, ResultReason, Tag
from kmipd.ttlv.codec import decode
from kmipd.ttlv.item import Item, ItemType

#: Algorithms that share one 256-bit key: a ChaCha20 key may run ChaCha20-Poly1305 and back.
_CHACHA = frozenset({CryptographicAlgorithm.CHACHA20, CryptographicAlgorithm.CHACHA20POLY1305})


# --------------------------------------------------------------------------- errors


class BadCryptographicParameters(KMIPError):
    """The parameters cannot work with this key or data (KMIP 2.x)."""

    result_reason = ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS


class UnsupportedCryptographicParameters(KMIPError):
    """The algorithm, mode, padding or hash is not offered (KMIP 2.x)."""

    result_reason = ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS


class InvalidCorrelationValue(KMIPError):
    """No open multi-part operation has this Correlation Value for this client (KMIP 2.x)."""

    result_reason = ResultReason.INVALID_CORRELATION_VALUE


class InvalidObjectType(KMIPError):
    """The object is not a kind of key this operation can use (KMIP 2.x)."""

    result_reason = ResultReason.INVALID_OBJECT_TYPE


class ServerLimitExceeded(KMIPError):
    """A bound of the server (open multi-part operations, buffered bytes) was reached (KMIP 2.x)."""

    result_reason = ResultReason.SERVER_LIMIT_EXCEEDED


class CryptographicGeneralFailure(KMIPError):
    """A parameter error the OASIS test cases expect as General Failure (an AEAD tag length out of range)."""

    result_reason = ResultReason.GENERAL_FAILURE


def translate(exc: CryptoError) -> KMIPError:
    """The KMIP error for ``exc`` (the message is the primitive's own).

    The 2.x reasons are raised as such; the processor tells 1.x clients the 1.x reason it maps
    them to (Bad and Unsupported Cryptographic Parameters become Cryptographic Failure).
    """
    message = str(exc)
    if isinstance(exc, AuthenticationFailed | DataLengthError):
        return CryptographicFailure(message)
    if isinstance(exc, InvalidTagLength):
        return CryptographicGeneralFailure(message)
    if isinstance(exc, MissingIV):
        return InvalidMessage(message)
    if isinstance(exc, MissingTag):
        return MissingData(message)
    if isinstance(exc, StreamLimit):
        return ServerLimitExceeded(message)
    if isinstance(exc, BadParameters):
        return BadCryptographicParameters(message)
    return UnsupportedCryptographicParameters(message)


@contextmanager
def kmip_errors() -> Iterator[None]:
    """Run primitives, turning their exceptions into KMIP errors."""
    try:
        yield
    except CryptoError as exc:
        raise translate(exc) from None


def unknown_stream(ctx: Context) -> KMIPError:
    """No such multi-part operation: Invalid Correlation Value (2.x), Item Not Found (1.x, Table 353)."""
    message = "no open multi-part operation has this Correlation Value"
    return InvalidCorrelationValue(message) if ctx.version.major >= 2 else ItemNotFound(message)


def wrong_object_type(what: str) -> KMIPError:
    """The object is not a key the operation can use: Invalid Object Type (1.x clients get Invalid Field)."""
    return InvalidObjectType(f"this object cannot be used for {what}")


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True, slots=True)
class Parameters:
    """The fields of a Cryptographic Parameters structure the cryptographic operations read."""

    block_cipher_mode: int | None = None
    padding_method: int | None = None
    hashing_algorithm: int | None = None
    cryptographic_algorithm: int | None = None
    random_iv: bool | None = None
    iv_length: int | None = None
    tag_length: int | None = None
    initial_counter_value: int | None = None
    mask_generator_hashing_algorithm: int | None = None
    p_source: bytes | None = None


def _field(item: Item, tag: int, kind: ItemType) -> Item | None:
    child = item.find(tag)
    if child is not None and child.type is not kind:
        raise InvalidField(f"Cryptographic Parameters field 0x{tag:06x} must be of type {kind.name}")
    return child


def _number(item: Item, tag: int, kind: ItemType = ItemType.ENUMERATION) -> int | None:
    child = _field(item, tag, kind)
    return None if child is None else int(child.value)  # type: ignore[arg-type]


def parse_parameters(item: Item | None) -> Parameters:
    """Read a Cryptographic Parameters structure (None reads as all fields absent).

    Raises:
        InvalidField: a field has the wrong type, or a length is negative.
    """
    if item is None:
        return Parameters()
    if item.type is not ItemType.STRUCTURE:
        raise InvalidField("Cryptographic Parameters must be a structure")
    random_iv = _field(item, Tag.RANDOM_IV, ItemType.BOOLEAN)
    p_source = _field(item, Tag.P_SOURCE, ItemType.BYTE_STRING)
    params = Parameters(
        block_cipher_mode=_number(item, Tag.BLOCK_CIPHER_MODE),
        padding_method=_number(item, Tag.PADDING_METHOD),
        hashing_algorithm=_number(item, Tag.HASHING_ALGORITHM),
        cryptographic_algorithm=_number(item, Tag.CRYPTOGRAPHIC_ALGORITHM),
        random_iv=None if random_iv is None else bool(random_iv.value),
        iv_length=_number(item, Tag.IV_LENGTH, ItemType.INTEGER),
        tag_length=_number(item, Tag.TAG_LENGTH, ItemType.INTEGER),
        initial_counter_value=_number(item, Tag.INITIAL_COUNTER_VALUE, ItemType.INTEGER),
        mask_generator_hashing_algorithm=_number(item, Tag.MASK_GENERATOR_HASHING_ALGORITHM),
        p_source=None if p_source is None else bytes(p_source.value),  # type: ignore[arg-type]
    )
    for value in (params.iv_length, params.tag_length, params.initial_counter_value):
        if value is not None and value < 0:
            raise InvalidField("lengths and counters in Cryptographic Parameters cannot be negative")
    return params


def effective_parameters(request: Item | None, obj: ManagedObject | None) -> Parameters:
    """The request's Cryptographic Parameters, else the object's first instance of the attribute.

    The request's structure replaces the attribute as a whole, as KMIP 1.4 section 4.29 says
    ("if omitted then the Cryptographic Parameters associated with the object ... SHALL be
    used"): mixing fields of both would make, say, a request for ECB inherit the key's
    PKCS#5 padding. An empty structure counts as omitted (PyKMIP's client sends one for
    "no parameters").
    """
    if (request is not None and request.children) or obj is None:
        return parse_parameters(request)
    return parse_parameters(obj.first("Cryptographic Parameters"))


def cipher_spec(params: Parameters, key_algorithm: int | None) -> CipherSpec:
    """The cipher a request means for a key of ``key_algorithm``.

    Raises:
        BadCryptographicParameters / InvalidField: the parameters name an algorithm the key is
            not for, or an IV Length that is not whole bytes.
    """
    algorithm = params.cryptographic_algorithm if params.cryptographic_algorithm is not None else key_algorithm
    if algorithm is None:
        raise InvalidField("neither the key nor the Cryptographic Parameters name a Cryptographic Algorithm")
    if key_algorithm is not None and algorithm != key_algorithm and not {algorithm, key_algorithm} <= _CHACHA:
        raise BadParameters("the Cryptographic Parameters name another algorithm than the key's")
    iv_bytes = None
    if params.iv_length is not None:
        if params.iv_length % 8 or params.iv_length == 0:
            raise BadParameters("the IV Length must be a positive whole number of bytes (it is given in bits)")
        iv_bytes = params.iv_length // 8
    return CipherSpec(
        algorithm=algorithm,
        mode=params.block_cipher_mode,
        padding=params.padding_method,
        tag_length=params.tag_length,
        iv_length=iv_bytes,
        initial_counter=params.initial_counter_value,
    )


# --------------------------------------------------------------------------- key material


@dataclass(frozen=True, slots=True)
class SymmetricKey:
    """Usable key bytes and the algorithm the key was made or registered for."""

    algorithm: int | None
    material: bytes


def key_block(obj: ManagedObject) -> Item:
    """The Key Block of the object's stored body.

    Raises:
        FeatureNotSupported: the body has no Key Block, or its material is stored wrapped.
    """
    body = decode(obj.stored.body) if obj.stored.body is not None else None
    block = body.find(Tag.KEY_BLOCK) if body is not None else None
    if block is None:
        raise FeatureNotSupported("this object carries no key")
    value = block.find(Tag.KEY_VALUE)
    if block.find(Tag.KEY_WRAPPING_DATA) is not None or value is None or value.type is not ItemType.STRUCTURE:
        raise FeatureNotSupported("the key is stored wrapped; kmipd cannot use wrapped key material")
    return block


def symmetric_key(obj: ManagedObject) -> SymmetricKey:
    """The bytes of a Symmetric Key, from Raw/Opaque or Transparent Symmetric Key material.

    Raises:
        FeatureNotSupported: the key is wrapped or in another format.
    """
    block = key_block(obj)
    fmt = block.find(Tag.KEY_FORMAT_TYPE)
    material = block.find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL)  # type: ignore[union-attr]
    key: bytes | None = None
    if fmt is not None and material is not None:
        if fmt.value in (KeyFormatType.RAW, KeyFormatType.OPAQUE) and material.type is ItemType.BYTE_STRING:
            key = bytes(material.value)  # type: ignore[arg-type]
        elif fmt.value == KeyFormatType.TRANSPARENT_SYMMETRIC_KEY and (inner := material.find(Tag.KEY)) is not None:
            key = bytes(inner.value)  # type: ignore[arg-type]
    if key is None:
        raise FeatureNotSupported("symmetric keys are used from Raw or Transparent Symmetric Key material")
    algorithm = block.find(Tag.CRYPTOGRAPHIC_ALGORITHM) or obj.first("Cryptographic Algorithm")
    return SymmetricKey(None if algorithm is None else int(algorithm.value), key)  # type: ignore[arg-type]
