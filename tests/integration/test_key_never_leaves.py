"""The "key never leaves" scenario against a real kmipd, over mutual TLS.

A KMS in the style of Constellation keeps one key-encryption key (KEK) in the
key server and never holds it: it creates an AES-256 KEK marked
non-extractable, and wraps and unwraps its 32-byte data keys with Encrypt and
Decrypt (AES key wrap, or AES-GCM). The KEK must then stay inside the server:
Get refuses it in plain and in wrapped form, and no other client can use it.

Requests are built with kmipd's own codec (KMIP 1.4 and 2.1), and the same
KEK is also exercised through PyKMIP 0.11's ProxyKmipClient (KMIP 1.2 and 2.0),
since real KMS clients are built on such libraries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from kmip.core import enums
from kmip.pie.exceptions import KmipOperationFailure

from kmipd.protocol.enums import BlockCipherMode as Mode
from kmipd.protocol.enums import CryptographicAlgorithm as Alg
from kmipd.protocol.enums import CryptographicUsageMask as Usage
from kmipd.protocol.enums import (
    EncodingOption,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    Tag,
    WrappingMethod,
)
from kmipd.ttlv.item import Item, boolean, byte_string, enumeration, integer, structure, text
from tests.integration.conftest import (
    VERSIONS,
    Result,
    ServerHandle,
    batch_item,
    kmip_call,
    kmip_request,
    results,
    tls_connect,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

KEK_USAGE = Usage.ENCRYPT | Usage.DECRYPT | Usage.WRAP_KEY | Usage.UNWRAP_KEY


class Session:
    """One client's persistent TLS connection speaking one KMIP version with hand-built messages."""

    def __init__(self, server: ServerHandle, identity: str, version: tuple[int, int]) -> None:
        self.sock = tls_connect(server, identity)
        self.version = version

    def call(self, operation: int, *payload: Item | None) -> Result:
        (result,) = results(kmip_call(self.sock, kmip_request(self.version, batch_item(operation, *payload))))
        return result

    def ok(self, operation: int, *payload: Item | None) -> Item:
        result = self.call(operation, *payload)
        assert result.status == ResultStatus.SUCCESS, f"{operation}: {result.reason} {result.message}"
        assert result.payload is not None
        return result.payload

    def attributes(self, *attrs: tuple[str, Item]) -> Item:
        """Create attributes: a 2.x Attributes structure or a 1.x Template-Attribute."""
        if self.version >= (2, 0):
            return structure(Tag.ATTRIBUTES, *(value for _, value in attrs))
        return structure(
            Tag.TEMPLATE_ATTRIBUTE,
            *(
                structure(
                    Tag.ATTRIBUTE,
                    text(Tag.ATTRIBUTE_NAME, name),
                    Item(Tag.ATTRIBUTE_VALUE, value.type, value.value),
                )
                for name, value in attrs
            ),
        )

    def create_kek(self, *, extractable: bool) -> str:
        payload = self.ok(
            Operation.CREATE,
            enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
            self.attributes(
                ("Cryptographic Algorithm", enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, Alg.AES)),
                ("Cryptographic Length", integer(Tag.CRYPTOGRAPHIC_LENGTH, 256)),
                ("Cryptographic Usage Mask", integer(Tag.CRYPTOGRAPHIC_USAGE_MASK, KEK_USAGE)),
                ("Extractable", boolean(Tag.EXTRACTABLE, extractable)),
            ),
        )
        uid = str(payload.find(Tag.UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
        self.ok(Operation.ACTIVATE, text(Tag.UNIQUE_IDENTIFIER, uid))
        return uid

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=[(1, 4), (2, 1)], ids=["1.4", "2.1"])
def alice(request: pytest.FixtureRequest, kmipd_server: ServerHandle) -> Iterator[Session]:
    session = Session(kmipd_server, "alice", request.param)
    yield session
    session.close()


@pytest.fixture
def bob(alice: Session, kmipd_server: ServerHandle) -> Iterator[Session]:
    """Not in a group with alice: her objects do not exist for him."""
    session = Session(kmipd_server, "bob", alice.version)
    yield session
    session.close()


def params(mode: int, *extra: Item) -> Item:
    return structure(
        Tag.CRYPTOGRAPHIC_PARAMETERS,
        enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, Alg.AES),
        enumeration(Tag.BLOCK_CIPHER_MODE, mode),
        *extra,
    )


def _bytes(payload: Item, tag: int) -> bytes:
    item = payload.find(tag)
    assert item is not None, hex(tag)
    return bytes(item.value)  # type: ignore[arg-type]


def not_found(version: tuple[int, int]) -> int:
    return ResultReason.OBJECT_NOT_FOUND if version >= (2, 0) else ResultReason.ITEM_NOT_FOUND


def test_data_keys_are_wrapped_with_aes_key_wrap(alice: Session) -> None:
    kek = alice.create_kek(extractable=False)
    uid = text(Tag.UNIQUE_IDENTIFIER, kek)
    for _ in range(3):
        data_key = os.urandom(32)
        wrapped = _bytes(
            alice.ok(Operation.ENCRYPT, uid, params(Mode.NISTKEYWRAP), byte_string(Tag.DATA, data_key)), Tag.DATA
        )
        assert len(wrapped) == 40 and data_key not in wrapped
        unwrapped = alice.ok(Operation.DECRYPT, uid, params(Mode.NISTKEYWRAP), byte_string(Tag.DATA, wrapped))
        assert _bytes(unwrapped, Tag.DATA) == data_key


def test_data_keys_are_wrapped_with_aes_gcm(alice: Session) -> None:
    kek = alice.create_kek(extractable=False)
    uid = text(Tag.UNIQUE_IDENTIFIER, kek)
    data_key, aad = os.urandom(32), b"constellation/state-disk"
    gcm = params(Mode.GCM, boolean(Tag.RANDOM_IV, True), integer(Tag.TAG_LENGTH, 16))
    sealed = alice.ok(
        Operation.ENCRYPT,
        uid,
        gcm,
        byte_string(Tag.DATA, data_key),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, aad),
    )
    ciphertext, nonce = _bytes(sealed, Tag.DATA), _bytes(sealed, Tag.IV_COUNTER_NONCE)
    tag = _bytes(sealed, Tag.AUTHENTICATED_ENCRYPTION_TAG)
    opened = alice.ok(
        Operation.DECRYPT,
        uid,
        params(Mode.GCM, integer(Tag.TAG_LENGTH, 16)),
        byte_string(Tag.DATA, ciphertext),
        byte_string(Tag.IV_COUNTER_NONCE, nonce),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, aad),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, tag),
    )
    assert _bytes(opened, Tag.DATA) == data_key
    tampered = alice.call(
        Operation.DECRYPT,
        uid,
        params(Mode.GCM, integer(Tag.TAG_LENGTH, 16)),
        byte_string(Tag.DATA, ciphertext),
        byte_string(Tag.IV_COUNTER_NONCE, nonce),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, b"another disk"),
        byte_string(Tag.AUTHENTICATED_ENCRYPTION_TAG, tag),
    )
    assert tampered.reason == ResultReason.CRYPTOGRAPHIC_FAILURE


def test_the_kek_is_refused_plain_and_wrapped(alice: Session) -> None:
    kek = alice.create_kek(extractable=False)
    other = alice.create_kek(extractable=True)  # a key that may wrap, to ask for the KEK wrapped
    plain = alice.call(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, kek))
    assert (plain.status, plain.reason) == (ResultStatus.OPERATION_FAILED, ResultReason.NOT_EXTRACTABLE)
    for encoding in (EncodingOption.NO_ENCODING, EncodingOption.TTLV_ENCODING):
        specification = structure(
            Tag.KEY_WRAPPING_SPECIFICATION,
            enumeration(Tag.WRAPPING_METHOD, WrappingMethod.ENCRYPT),
            structure(
                Tag.ENCRYPTION_KEY_INFORMATION,
                text(Tag.UNIQUE_IDENTIFIER, other),
                structure(Tag.CRYPTOGRAPHIC_PARAMETERS, enumeration(Tag.BLOCK_CIPHER_MODE, Mode.NISTKEYWRAP)),
            ),
            enumeration(Tag.ENCODING_OPTION, encoding),
        )
        wrapped = alice.call(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, kek), specification)
        assert (wrapped.status, wrapped.reason) == (ResultStatus.OPERATION_FAILED, ResultReason.NOT_EXTRACTABLE)
    # The server still reports what the key is, and that it never was extractable.
    attrs = alice.call(Operation.GET_ATTRIBUTES, text(Tag.UNIQUE_IDENTIFIER, kek))
    assert attrs.status == ResultStatus.SUCCESS


def test_another_client_cannot_use_the_kek(alice: Session, bob: Session) -> None:
    kek = alice.create_kek(extractable=False)
    uid = text(Tag.UNIQUE_IDENTIFIER, kek)
    wrapped = _bytes(
        alice.ok(Operation.ENCRYPT, uid, params(Mode.NISTKEYWRAP), byte_string(Tag.DATA, os.urandom(32))), Tag.DATA
    )
    attempts = [
        bob.call(Operation.ENCRYPT, uid, params(Mode.NISTKEYWRAP), byte_string(Tag.DATA, os.urandom(32))),
        bob.call(Operation.DECRYPT, uid, params(Mode.NISTKEYWRAP), byte_string(Tag.DATA, wrapped)),
        bob.call(Operation.GET, uid),
        bob.call(Operation.GET_ATTRIBUTES, uid),
    ]
    for attempt in attempts:
        assert (attempt.status, attempt.reason) == (ResultStatus.OPERATION_FAILED, not_found(bob.version))
        assert wrapped.hex() not in (attempt.message or "")


@pytest.mark.parametrize("version", list(VERSIONS))
def test_pykmip_client_wraps_with_the_kek_but_cannot_get_it(
    version: str, kmipd_server: ServerHandle, make_client: Any
) -> None:
    session = Session(kmipd_server, "alice", (2, 1))
    try:
        kek = session.create_kek(extractable=False)
    finally:
        session.close()
    client = make_client("alice", VERSIONS[version])
    wrap = {
        "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
        "block_cipher_mode": enums.BlockCipherMode.NIST_KEY_WRAP,
    }
    data_key = os.urandom(32)
    wrapped, _ = client.encrypt(data_key, uid=kek, cryptographic_parameters=wrap)
    assert client.decrypt(wrapped, uid=kek, cryptographic_parameters=wrap) == data_key
    with pytest.raises(KmipOperationFailure) as refused:
        client.get(kek)
    assert refused.value.reason == enums.ResultReason.NOT_EXTRACTABLE
    with pytest.raises(KmipOperationFailure):
        make_client("bob", VERSIONS[version]).decrypt(wrapped, uid=kek, cryptographic_parameters=wrap)
