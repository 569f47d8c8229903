"""The PKCS#11 operation: a session per client, C_GetInfo describing kmipd, other calls not supported."""

from __future__ import annotations

from kmipd.operations.pkcs11 import CKR_CRYPTOKI_NOT_INITIALIZED, CKR_FUNCTION_NOT_SUPPORTED, CKR_OK, ck_info
from kmipd.protocol.enums import Operation, PKCS11Function, ResultReason, Tag
from kmipd.ttlv.item import Item, byte_string, enumeration
from tests.kmip_helpers import V1_4, V2_1, Client


def _call(client: Client, function: int, session: bytes | None = None) -> tuple[int, Item | None, Item | None]:
    result = client.call(
        Operation.PKCS_11,
        enumeration(Tag.PKCS_11_FUNCTION, function),
        byte_string(Tag.CORRELATION_VALUE, session) if session is not None else None,
    ).expect_ok()
    code = result.find(Tag.PKCS_11_RETURN_CODE)
    assert code is not None
    return int(code.value), result.find(Tag.CORRELATION_VALUE), result.find(Tag.PKCS_11_OUTPUT_PARAMETERS)  # type: ignore[arg-type]


def test_session_lifecycle(processor) -> None:  # type: ignore[no-untyped-def]
    alice = Client(processor, V2_1, "alice")
    code, session_item, _ = _call(alice, PKCS11Function.C_INITIALIZE)
    assert code == CKR_OK and session_item is not None
    session = bytes(session_item.value)  # type: ignore[arg-type]
    code, _, info = _call(alice, PKCS11Function.C_GETINFO, session)
    assert code == CKR_OK and info is not None
    raw = bytes(info.value)  # type: ignore[arg-type]
    assert raw == ck_info() and len(raw) == 2 + 32 + 8 + 32 + 2
    assert raw[:2] == bytes((3, 0)) and raw[2:34].rstrip(b" ") == b"kmipd"
    # Another client cannot use alice's session.
    assert _call(alice.as_(name="bob"), PKCS11Function.C_GETINFO, session)[0] == CKR_CRYPTOKI_NOT_INITIALIZED
    assert _call(alice, PKCS11Function.C_FINALIZE, session)[0] == CKR_OK
    assert _call(alice, PKCS11Function.C_GETINFO, session)[0] == CKR_CRYPTOKI_NOT_INITIALIZED


def test_without_a_session_and_unsupported_functions(processor) -> None:  # type: ignore[no-untyped-def]
    alice = Client(processor, V2_1, "alice")
    assert _call(alice, PKCS11Function.C_GETINFO)[0] == CKR_CRYPTOKI_NOT_INITIALIZED
    assert _call(alice, PKCS11Function.C_GETSLOTLIST)[0] == CKR_FUNCTION_NOT_SUPPORTED


def test_pkcs11_is_a_kmip_2_1_operation(processor) -> None:  # type: ignore[no-untyped-def]
    old = Client(processor, V1_4, "alice")
    result = old.call(Operation.PKCS_11, enumeration(Tag.PKCS_11_FUNCTION, PKCS11Function.C_INITIALIZE))
    assert result.failure()[0] == ResultReason.OPERATION_NOT_SUPPORTED
