"""Each connection limit, shown against a real server while a well-behaved client keeps being served.

The server runs with one worker process so that per-process limits are exact.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from kmipd.protocol.enums import Operation, ResultReason, ResultStatus
from tests.integration.conftest import (
    ServerHandle,
    batch_item,
    kmip_call,
    kmip_request,
    recv_message,
    results,
    running_server,
    tls_connect,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

LIMITS = """workers = 1
handshake_timeout = 1
idle_timeout = 2
max_connections_per_identity = 3
max_batch_items = 5
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with running_server(tmp_path_factory.mktemp("limits"), server_extra=LIMITS) as handle:
        yield handle


def _works(server: ServerHandle, identity: str = "bob") -> bool:
    with tls_connect(server, identity) as sock:
        [answer] = results(kmip_call(sock, kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS))))
        return answer.status == ResultStatus.SUCCESS


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the peer closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


def test_silent_peer_is_dropped_after_the_handshake_timeout(server: ServerHandle) -> None:
    raw = socket.create_connection((server.host, server.port))
    try:
        started = time.monotonic()
        assert _works(server), "other clients are served meanwhile"
        assert _closed_within(raw, 5)
        assert time.monotonic() - started < 4
    finally:
        raw.close()


def test_idle_client_is_dropped_and_others_are_not(server: ServerHandle) -> None:
    idle = tls_connect(server, "alice")
    try:
        assert _works(server)
        assert _closed_within(idle, 6)
    finally:
        idle.close()


def test_activity_keeps_a_connection_open(server: ServerHandle) -> None:
    with tls_connect(server, "carol") as sock:
        for _ in range(4):  # 4 x 1 s > the 2 s idle timeout
            [answer] = results(kmip_call(sock, kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS))))
            assert answer.status == ResultStatus.SUCCESS
            time.sleep(1)


def test_connections_per_identity_are_capped(server: ServerHandle) -> None:
    held = [tls_connect(server, "admin") for _ in range(3)]
    try:
        for sock in held:  # the three allowed connections work
            [answer] = results(kmip_call(sock, kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS))))
            assert answer.status == ResultStatus.SUCCESS
        extra = tls_connect(server, "admin")
        try:
            assert _closed_within(extra, 5), "a fourth connection of one identity is refused"
        finally:
            extra.close()
        assert _works(server, "bob"), "other identities are unaffected"
    finally:
        for sock in held:
            sock.close()


def test_batch_flood_gets_invalid_message(server: ServerHandle) -> None:
    items = [batch_item(Operation.DISCOVER_VERSIONS, batch_id=bytes([i])) for i in range(6)]
    with tls_connect(server, "bob") as sock:
        [answer] = results(kmip_call(sock, kmip_request((1, 4), *items)))
        assert answer.status == ResultStatus.OPERATION_FAILED
        assert answer.reason == ResultReason.INVALID_MESSAGE
        # The connection stays usable.
        again = results(kmip_call(sock, kmip_request((1, 4), *items[:5])))
        assert [r.status for r in again] == [ResultStatus.SUCCESS] * 5


def test_oversize_header_closes_only_that_connection(server: ServerHandle) -> None:
    with tls_connect(server, "bob") as sock:
        sock.sendall(bytes.fromhex("42007801") + (64 << 20).to_bytes(4, "big"))
        assert _closed_within(sock, 5)
    assert _works(server)


def test_deep_nesting_is_refused_in_kind(server: ServerHandle) -> None:
    # 40 nested structures: over the default depth of 32. The framing is fine, so the answer is a KMIP error.
    inner = b""
    for _ in range(40):
        inner = bytes.fromhex("42000101") + len(inner).to_bytes(4, "big") + inner
    message = bytes.fromhex("42007801") + len(inner).to_bytes(4, "big") + inner
    with tls_connect(server, "bob") as sock:
        sock.sendall(message)
        answer = results(recv_message(sock))[0]
        assert answer.reason == ResultReason.INVALID_MESSAGE
