"""The PKCS#11 operation (KMIP 2.1 section 6.1.37): the library-level calls of a PKCS#11 session.

A PKCS#11 client library can run over KMIP: C_Initialize opens a session
(answered with a Correlation Value that later calls quote), C_GetInfo describes
the "library" (here, kmipd), C_Finalize closes the session. Those three are
what the PKCS#11 profile's mandatory case exercises and what kmipd implements;
every other function is answered, as PKCS#11 itself does, with the return code
CKR_FUNCTION_NOT_SUPPORTED: the KMIP operation succeeds and the PKCS#11 call
reports that it is not available. Sessions live in the serving process's
memory (bounded), so a PKCS#11 session stays on one connection.
"""

from __future__ import annotations

import struct

from kmipd import __version__
from kmipd.errors import InvalidField, MissingData
from kmipd.operations.context import Context
from kmipd.operations.payload import Payload
from kmipd.operations.registry import handler
from kmipd.protocol.enums import Operation, PKCS11Function, Tag
from kmipd.protocol.versions import V2_1
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration

#: CK_RV values (PKCS#11 3.0 pkcs11t.h) kmipd returns.
CKR_OK = 0x00000000
CKR_FUNCTION_NOT_SUPPORTED = 0x00000054
CKR_CRYPTOKI_NOT_INITIALIZED = 0x00000190
#: The PKCS#11 version the interface reports (CK_VERSION 3.0).
CRYPTOKI_VERSION = (3, 0)


def _padded(text: str) -> bytes:
    """A CK_UTF8CHAR[32] field: UTF-8, blank-padded (PKCS#11 strings are not NUL-terminated)."""
    return text.encode("utf-8")[:32].ljust(32, b" ")


def ck_info() -> bytes:
    """CK_INFO as the KMIP PKCS#11 profile encodes it: versions as two bytes, CK_FLAGS as eight."""
    major, minor = (int(p) for p in __version__.split(".")[:2])
    return (
        bytes(CRYPTOKI_VERSION)
        + _padded("kmipd")
        + struct.pack(">Q", 0)
        + _padded("kmipd KMIP key server")
        + bytes((major, minor))
    )


@handler(Operation.PKCS_11, since=V2_1, mutates=False)
def pkcs11(ctx: Context, payload: Payload) -> list[Item]:
    """Run one PKCS#11 library call."""
    function_item = payload.find(Tag.PKCS_11_FUNCTION)
    if function_item is None:
        raise MissingData("PKCS#11 Function is required")
    if function_item.type not in (ItemType.ENUMERATION, ItemType.INTEGER):
        raise InvalidField("PKCS#11 Function must be an Enumeration or an Integer")
    function = int(function_item.value)  # type: ignore[arg-type]
    correlation = payload.find(Tag.CORRELATION_VALUE)
    value = bytes(correlation.value) if correlation is not None and correlation.type is ItemType.BYTE_STRING else None  # type: ignore[arg-type]
    answer: list[Item] = [function_item]
    if function == PKCS11Function.C_INITIALIZE:
        session = ctx.entropy.token_bytes(16)
        ctx.process.pkcs11_sessions.begin(session, ctx.identity.name)
        answer.append(byte_string(Tag.CORRELATION_VALUE, session))
        code = CKR_OK
    elif function in (PKCS11Function.C_GETINFO, PKCS11Function.C_FINALIZE):
        if value is None or not ctx.process.pkcs11_sessions.owned_by(value, ctx.identity.name):
            code = CKR_CRYPTOKI_NOT_INITIALIZED
        elif function == PKCS11Function.C_GETINFO:
            answer.append(byte_string(Tag.PKCS_11_OUTPUT_PARAMETERS, ck_info()))
            code = CKR_OK
        else:
            ctx.process.pkcs11_sessions.end(value)
            code = CKR_OK
    else:
        code = CKR_FUNCTION_NOT_SUPPORTED
    answer.append(enumeration(Tag.PKCS_11_RETURN_CODE, code))
    return answer
