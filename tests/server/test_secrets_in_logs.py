"""Key material never reaches the server's logs, even at DEBUG level and on failures."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from kmipd.protocol.enums import ObjectType, Operation, ResultStatus, Tag
from kmipd.ttlv.item import Item, ItemType, byte_string, enumeration, integer, structure, text
from tests.integration.conftest import batch_item, kmip_call, kmip_request, results, running_server, tls_connect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = bytes(range(0xA0, 0xC0))  # 32 recognisable bytes


def _forms(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(), repr(secret)[2:-1]]


def test_registered_key_bytes_are_not_logged(tmp_path: Path) -> None:
    with running_server(tmp_path, server_extra="workers = 1", log_level="DEBUG") as server:
        key = structure(
            Tag.SYMMETRIC_KEY,
            structure(
                Tag.KEY_BLOCK,
                enumeration(Tag.KEY_FORMAT_TYPE, 1),
                structure(Tag.KEY_VALUE, byte_string(Tag.KEY_MATERIAL, SECRET)),
                enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, 3),
                integer(Tag.CRYPTOGRAPHIC_LENGTH, 256),
            ),
        )
        with tls_connect(server, "alice") as sock:
            [registered] = results(kmip_call(sock, kmip_request(
                (2, 1), batch_item(Operation.REGISTER, enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
                                   structure(Tag.ATTRIBUTES), key))))
            assert registered.status == ResultStatus.SUCCESS
            uid = str(registered.payload.find(Tag.UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
            [got] = results(kmip_call(sock, kmip_request((2, 1), batch_item(
                Operation.GET, text(Tag.UNIQUE_IDENTIFIER, uid)))))
            assert SECRET in _raw_bytes(got.payload)
            # A failing request that carries the secret: a malformed Register.
            broken = Item(Tag.SYMMETRIC_KEY, ItemType.STRUCTURE, (byte_string(Tag.KEY_MATERIAL, SECRET),))
            [failed] = results(kmip_call(sock, kmip_request((2, 1), batch_item(
                Operation.REGISTER, enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY), broken))))
            assert failed.status == ResultStatus.OPERATION_FAILED
            assert not any(form in (failed.message or "") for form in _forms(SECRET))
    logs = server.logs()
    assert "KMIP 2.1 operation" in logs, "the server did not log the requests at DEBUG"
    for form in _forms(SECRET):
        assert not re.search(re.escape(form), logs), "key material appears in the server log"


def _raw_bytes(item: Item | None) -> bytes:
    if item is None:
        return b""
    if item.type is ItemType.BYTE_STRING:
        return bytes(item.value)  # type: ignore[arg-type]
    return b"".join(_raw_bytes(child) for child in item.children)
