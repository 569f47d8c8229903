"""Server behaviour on the wire: TLS policy, framing, message errors, batches, restart and shutdown.

Requests are built by hand with kmipd's TTLV codec and sent over Python ssl sockets.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import pytest

from kmipd.cli.devcerts import Issued
from kmipd.protocol.enums import (
    BatchErrorContinuationOption,
    CryptographicAlgorithm,
    ObjectType,
    Operation,
    QueryFunction,
    ResultReason,
    ResultStatus,
    State,
    Tag,
)
from kmipd.ttlv.codec import encode
from kmipd.ttlv.item import Item, enumeration, integer, structure, text
from tests.integration.conftest import (
    ServerHandle,
    batch_item,
    kmip_call,
    kmip_request,
    launch,
    recv_message,
    response_version,
    results,
    running_server,
    send_message,
    stop,
    tls_connect,
    tls_context,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

V14 = (1, 4)
V20 = (2, 0)


def discover(batch_id: bytes | None = None) -> Item:
    return batch_item(Operation.DISCOVER_VERSIONS, batch_id=batch_id)


def query(batch_id: bytes | None = None) -> Item:
    return batch_item(Operation.QUERY, enumeration(Tag.QUERY_FUNCTION, QueryFunction.QUERY_OPERATIONS),
                      enumeration(Tag.QUERY_FUNCTION, QueryFunction.QUERY_OBJECTS), batch_id=batch_id)


def create_aes(length: int = 128, batch_id: bytes | None = None) -> Item:
    """A KMIP 2.0 Create of an AES key."""
    return batch_item(
        Operation.CREATE,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(Tag.ATTRIBUTES,
                  enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES),
                  integer(Tag.CRYPTOGRAPHIC_LENGTH, length)),
        batch_id=batch_id,
    )


def with_uid(operation: int, uid: str | None, batch_id: bytes | None = None) -> Item:
    return batch_item(operation, text(Tag.UNIQUE_IDENTIFIER, uid) if uid is not None else None, batch_id=batch_id)


def uid_of(result: Any) -> str:
    assert result.status == ResultStatus.SUCCESS, result
    return str(result.payload.find(Tag.UNIQUE_IDENTIFIER).value)


def key_material(result: Any) -> bytes:
    assert result.status == ResultStatus.SUCCESS, result
    body = result.payload.find(Tag.SYMMETRIC_KEY)
    material = body.find(Tag.KEY_BLOCK).find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL)
    return bytes(material.value)


def state_of(sock: ssl.SSLSocket, uid: str) -> int:
    [result] = results(kmip_call(sock, kmip_request(V20, batch_item(
        Operation.GET_ATTRIBUTES, text(Tag.UNIQUE_IDENTIFIER, uid),
        enumeration(Tag.ATTRIBUTE_REFERENCE, Tag.STATE)))))
    assert result.status == ResultStatus.SUCCESS, result
    return int(result.payload.find(Tag.ATTRIBUTES).find(Tag.STATE).value)


def assert_working(server: ServerHandle, identity: str = "alice") -> None:
    with tls_connect(server, identity) as sock:
        [result] = results(kmip_call(sock, kmip_request(V14, discover())))
    assert result.status == ResultStatus.SUCCESS
    assert result.operation == Operation.DISCOVER_VERSIONS


def no_kmip_answer(sock_factory: Any) -> str:
    """Connect, send a request, and report how the exchange failed (it must fail)."""
    try:
        sock = sock_factory()
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        return f"handshake failed: {exc!r}"
    with sock:
        try:
            send_message(sock, encode(kmip_request(V14, discover())))
            data = sock.recv(8)
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            return f"refused after handshake: {exc!r}"
        assert data == b"", f"the server answered: {data!r}"
        return "closed without an answer"


# --- (1) TLS policy -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_client_without_certificate_gets_no_answer(kmipd_server: ServerHandle, version: ssl.TLSVersion) -> None:
    context = tls_context(kmipd_server, identity=None)
    context.minimum_version = context.maximum_version = version
    how = no_kmip_answer(lambda: tls_connect(kmipd_server, context=context))
    assert "alert" in how.lower() or "closed" in how.lower(), how
    assert_working(kmipd_server)


def test_client_certificate_from_another_ca_is_refused(kmipd_server: ServerHandle) -> None:
    # Same CN ("alice") as a legitimate client, but signed by a CA the server does not trust.
    context = tls_context(kmipd_server, cert=kmipd_server.extra["foreign-alice"])
    how = no_kmip_answer(lambda: tls_connect(kmipd_server, context=context))
    assert "alert" in how.lower() or "closed" in how.lower(), how
    assert_working(kmipd_server)


def test_certificate_without_client_auth_usage_is_refused(kmipd_server: ServerHandle) -> None:
    # The server's own certificate: trusted CA, but its Extended Key Usage is serverAuth only.
    server_cert = Issued(kmipd_server.data_dir / "server.pem", kmipd_server.data_dir / "server.key")
    context = tls_context(kmipd_server, cert=server_cert)
    how = no_kmip_answer(lambda: tls_connect(kmipd_server, context=context))
    assert "alert" in how.lower() or "closed" in how.lower(), how


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13_are_accepted(kmipd_server: ServerHandle, version: ssl.TLSVersion) -> None:
    context = tls_context(kmipd_server, "alice")
    context.minimum_version = context.maximum_version = version
    with tls_connect(kmipd_server, context=context) as sock:
        assert sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        [result] = results(kmip_call(sock, kmip_request(V14, discover())))
    assert result.status == ResultStatus.SUCCESS


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_11_is_refused(kmipd_server: ServerHandle) -> None:
    context = tls_context(kmipd_server, "alice")
    try:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"the local OpenSSL cannot offer TLS 1.1: {exc}")
    with pytest.raises((ssl.SSLError, ConnectionError)) as refused:
        tls_connect(kmipd_server, context=context).close()
    text_ = str(refused.value)
    if "NO_PROTOCOLS_AVAILABLE" in text_ or "no protocols available" in text_:
        pytest.skip(f"the local OpenSSL refused to offer TLS 1.1: {text_}")
    assert "PROTOCOL_VERSION" in text_.upper() or "UNSUPPORTED_PROTOCOL" in text_.upper() or \
        isinstance(refused.value, ConnectionError), text_
    assert_working(kmipd_server)


# --- (2) many requests on one connection ----------------------------------------------------------------------

def test_many_requests_on_one_connection_in_order(kmipd_server: ServerHandle) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        # One at a time ...
        for i in range(50):
            for make in (discover, query):
                batch_id = f"{make.__name__}-{i}".encode()
                [result] = results(kmip_call(sock, kmip_request(V14, make(batch_id))))
                assert result.status == ResultStatus.SUCCESS
                assert result.batch_id == batch_id
        # ... and pipelined: 40 requests written at once, answered in order.
        burst = [kmip_request(V14, (discover if i % 2 else query)(f"burst-{i}".encode())) for i in range(40)]
        send_message(sock, b"".join(encode(m) for m in burst))
        answers = [results(recv_message(sock))[0] for _ in burst]
    assert [a.batch_id for a in answers] == [f"burst-{i}".encode() for i in range(40)]
    assert [a.operation for a in answers] == [Operation.DISCOVER_VERSIONS if i % 2 else Operation.QUERY
                                              for i in range(40)]
    assert all(a.status == ResultStatus.SUCCESS for a in answers)
    versions = [(int(v.find(Tag.PROTOCOL_VERSION_MAJOR).value), int(v.find(Tag.PROTOCOL_VERSION_MINOR).value))
                for v in answers[1].payload.find_all(Tag.PROTOCOL_VERSION)]
    assert versions[0] == (2, 1) and (1, 2) in versions and (2, 0) in versions
    operations = {int(o.value) for o in answers[0].payload.find_all(Tag.OPERATION)}
    assert {Operation.CREATE, Operation.GET, Operation.LOCATE, Operation.DISCOVER_VERSIONS} <= operations


# --- (3) unsupported protocol versions ------------------------------------------------------------------------

@pytest.mark.parametrize(("requested", "answered", "reason"), [
    ((3, 0), (2, 1), ResultReason.UNSUPPORTED_PROTOCOL_VERSION),
    ((1, 9), (1, 4), ResultReason.INVALID_MESSAGE),
])
def test_unsupported_protocol_version(kmipd_server: ServerHandle, requested: tuple[int, int],
                                      answered: tuple[int, int], reason: ResultReason) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request(requested, discover()))
        [result] = results(response)
        assert response_version(response) == answered
        assert result.status == ResultStatus.OPERATION_FAILED
        assert result.reason == reason
        assert result.message
        # The connection stays usable.
        [ok] = results(kmip_call(sock, kmip_request(V14, discover())))
        assert ok.status == ResultStatus.SUCCESS


# --- (4) garbage inside a well-framed message -----------------------------------------------------------------

def _broken_messages() -> list[bytes]:
    good = encode(kmip_request(V14, discover()))
    # Inner Request Header claims to be longer than the message.
    header_overrun = bytearray(good)
    header_overrun[12:16] = (10_000).to_bytes(4, "big")
    # Inner item of an unknown type (0x0F).
    bad_type = bytearray(good)
    bad_type[11] = 0x0F
    # A well-formed TTLV tree that is not a Request Message (wrong outer tag).
    wrong_tag = bytearray(good)
    wrong_tag[0:3] = Tag.RESPONSE_MESSAGE.to_bytes(3, "big")
    # Random body bytes.
    noise = Tag.REQUEST_MESSAGE.to_bytes(3, "big") + b"\x01" + (32).to_bytes(4, "big") + bytes(range(7, 39))
    return [bytes(header_overrun), bytes(bad_type), bytes(wrong_tag), noise]


@pytest.mark.parametrize("index", range(4), ids=["header-overrun", "unknown-type", "wrong-tag", "noise"])
def test_garbage_body_answers_invalid_message(kmipd_server: ServerHandle, index: int) -> None:
    data = _broken_messages()[index]
    with tls_connect(kmipd_server, "alice") as sock:
        send_message(sock, data)
        [result] = results(recv_message(sock))
        assert result.status == ResultStatus.OPERATION_FAILED
        assert result.reason == ResultReason.INVALID_MESSAGE
        assert result.message
        [ok] = results(kmip_call(sock, kmip_request(V14, discover())))
        assert ok.status == ResultStatus.SUCCESS


# --- (5) oversize framing header ------------------------------------------------------------------------------

def test_oversize_message_closes_connection(kmipd_server: ServerHandle) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        header = Tag.REQUEST_MESSAGE.to_bytes(3, "big") + b"\x01" + (2 << 20).to_bytes(4, "big")
        send_message(sock, header + bytes(64))
        sock.settimeout(5)
        try:
            data = sock.recv(8)
        except (ConnectionError, ssl.SSLError):
            data = b""
        assert data == b"", "the server answered instead of closing the connection"
    assert_working(kmipd_server)


# --- (6) batches ----------------------------------------------------------------------------------------------

def _batch() -> tuple[Item, ...]:
    return (discover(b"one"), with_uid(Operation.GET, "00000000-0000-4000-8000-000000000000", b"two"),
            query(b"three"))


def test_batch_continue(kmipd_server: ServerHandle) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request(V14, *_batch(),
                                                batch_error=BatchErrorContinuationOption.CONTINUE))
    first, second, third = results(response)
    assert [r.batch_id for r in (first, second, third)] == [b"one", b"two", b"three"]
    assert [r.operation for r in (first, second, third)] == [Operation.DISCOVER_VERSIONS, Operation.GET,
                                                             Operation.QUERY]
    assert first.status == ResultStatus.SUCCESS and third.status == ResultStatus.SUCCESS
    assert second.status == ResultStatus.OPERATION_FAILED
    assert second.reason == ResultReason.ITEM_NOT_FOUND


def test_batch_stop(kmipd_server: ServerHandle) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request(V14, *_batch(), batch_error=BatchErrorContinuationOption.STOP))
    items = results(response)
    assert [r.batch_id for r in items] == [b"one", b"two"]
    assert items[0].status == ResultStatus.SUCCESS
    assert items[1].status == ResultStatus.OPERATION_FAILED and items[1].reason == ResultReason.ITEM_NOT_FOUND


def test_batch_undo_rolls_back_earlier_items(kmipd_server: ServerHandle) -> None:
    """Undo: the items before the failure are undone (their changes rolled back), later ones not run."""
    with tls_connect(kmipd_server, "alice") as sock:
        [created] = results(kmip_call(sock, kmip_request(V14, create_aes(256))))
        uid = uid_of(created)
        response = kmip_call(sock, kmip_request(
            V14, with_uid(Operation.ACTIVATE, uid, b"a"), with_uid(Operation.GET, "no-such-object", b"b"),
            with_uid(Operation.ACTIVATE, uid, b"c"), batch_error=BatchErrorContinuationOption.UNDO))
        items = results(response)
        assert [r.batch_id for r in items] == [b"a", b"b"]
        assert items[0].status == ResultStatus.OPERATION_UNDONE
        assert items[1].status == ResultStatus.OPERATION_FAILED
        assert items[1].reason == ResultReason.ITEM_NOT_FOUND
        # The activation was rolled back.
        assert state_of(sock, uid) == State.PRE_ACTIVE


def test_batch_creates_are_independent_with_continue(kmipd_server: ServerHandle) -> None:
    """A failing item between two Creates does not undo them."""
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request(
            V20, create_aes(batch_id=b"c1"), with_uid(Operation.GET, "no-such-object", b"bad"),
            create_aes(256, batch_id=b"c2"), batch_error=BatchErrorContinuationOption.CONTINUE))
        first, bad, second = results(response)
        assert bad.reason == ResultReason.OBJECT_NOT_FOUND  # the 2.x name for a missing object
        for result, length in ((first, 16), (second, 32)):
            [got] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid_of(result)))))
            assert len(key_material(got)) == length


# --- (7) ID placeholder ---------------------------------------------------------------------------------------

def test_id_placeholder_within_one_message_only(kmipd_server: ServerHandle) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        response = kmip_call(sock, kmip_request(V20, create_aes(batch_id=b"create"),
                                                with_uid(Operation.ACTIVATE, None, b"activate")))
        created, activated = results(response)
        uid = uid_of(created)
        assert uid_of(activated) == uid
        assert state_of(sock, uid) == State.ACTIVE

        [later] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.ACTIVATE, None))))
        assert later.status == ResultStatus.OPERATION_FAILED
        assert later.reason == ResultReason.MISSING_DATA
        assert later.message

    # Nor does it leak to another connection.
    with tls_connect(kmipd_server, "alice") as other:
        [elsewhere] = results(kmip_call(other, kmip_request(V20, with_uid(Operation.GET, None))))
    assert elsewhere.reason == ResultReason.MISSING_DATA


# --- (8) unknown operations -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "operation"), [
    (V14, 0x0000_7777),
    (V20, 0x0000_7777),
    (V14, Operation.CANCEL),  # defined by KMIP, not implemented by kmipd
    (V14, Operation.SET_ATTRIBUTE),  # a 2.x-only operation asked for in 1.4
])
def test_unknown_operation(kmipd_server: ServerHandle, version: tuple[int, int], operation: int) -> None:
    with tls_connect(kmipd_server, "alice") as sock:
        [result] = results(kmip_call(sock, kmip_request(version, batch_item(operation, batch_id=b"x"))))
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.OPERATION_NOT_SUPPORTED
    assert result.batch_id == b"x"


# --- (9) durability across a restart --------------------------------------------------------------------------

def test_keys_survive_restart(tmp_server_dir: Path) -> None:
    with running_server(tmp_server_dir) as server:
        with tls_connect(server, "alice") as sock:
            [created] = results(kmip_call(sock, kmip_request(V20, create_aes(256))))
            uid = uid_of(created)
            [got] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid))))
            material = key_material(got)
            [activated] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.ACTIVATE, uid))))
            assert uid_of(activated) == uid
        assert server.process is not None
        assert stop(server.process) == 0, server.logs()
        server.process = None
        launch(server)
        with tls_connect(server, "alice") as sock:
            [again] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid))))
            assert key_material(again) == material
            assert state_of(sock, uid) == State.ACTIVE
        with tls_connect(server, "bob") as sock:
            [hidden] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid))))
            assert hidden.reason == ResultReason.OBJECT_NOT_FOUND  # the 2.x name for a missing object


def test_acknowledged_create_survives_sigkill(tmp_server_dir: Path) -> None:
    """Each answered request was committed: even a killed server keeps it."""
    with running_server(tmp_server_dir) as server:
        with tls_connect(server, "alice") as sock:
            [created] = results(kmip_call(sock, kmip_request(V20, create_aes(128))))
            uid = uid_of(created)
            [got] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid))))
            material = key_material(got)
        assert server.process is not None
        server.process.kill()
        server.process.wait(10)
        server.process = None
        launch(server)
        with tls_connect(server, "alice") as sock:
            [again] = results(kmip_call(sock, kmip_request(V20, with_uid(Operation.GET, uid))))
        assert key_material(again) == material


# --- (10) SIGTERM with an idle client connection --------------------------------------------------------------

def test_sigterm_with_idle_connection(tmp_server_dir: Path) -> None:
    with running_server(tmp_server_dir) as server:
        assert server.process is not None
        with tls_connect(server, "alice") as sock:
            [ok] = results(kmip_call(sock, kmip_request(V14, discover())))
            assert ok.status == ResultStatus.SUCCESS
            started = time.monotonic()
            code = stop(server.process, timeout=8)
            elapsed = time.monotonic() - started
            server.process = None
            assert code == 0, server_logs(server)
            assert elapsed < 5, f"shutdown took {elapsed:.1f} s"
            sock.settimeout(2)
            with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError, socket.timeout):
                assert sock.recv(8) == b""
        assert "stopped" in server.stderr.read_text()


def server_logs(server: ServerHandle) -> str:
    return server.logs()
