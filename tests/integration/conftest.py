"""A real kmipd server, started as a subprocess with a development PKI, for integration tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kmip.core.enums import KMIPVersion
from kmip.pie.client import ProxyKmipClient

from kmipd.cli.devcerts import Issued, create_ca, issue
from kmipd.protocol.enums import Tag
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import Item, byte_string, enumeration, integer, structure

IDENTITIES = ("alice", "bob", "carol", "admin", "dave")
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

VERSIONS = {"1.2": KMIPVersion.KMIP_1_2, "2.0": KMIPVersion.KMIP_2_0}


@dataclass
class ServerHandle:
    """A running kmipd subprocess and the files a client needs to talk to it."""

    host: str
    port: int
    data_dir: Path
    config: Path
    ca: Path
    certs: dict[str, Issued]
    stdout: Path
    stderr: Path
    process: subprocess.Popen[bytes] | None = None
    extra: dict[str, Issued] = field(default_factory=dict)
    https_port: int = 0
    server_extra: str = ""
    log_level: str = "INFO"
    tls_extra: str = ""

    def cert(self, identity: str) -> Path:
        return self.certs[identity].certificate

    def key(self, identity: str) -> Path:
        return self.certs[identity].private_key

    def logs(self) -> str:
        out = self.stdout.read_text(errors="replace") if self.stdout.exists() else ""
        err = self.stderr.read_text(errors="replace") if self.stderr.exists() else ""
        return f"--- stdout ---\n{out}\n--- stderr ---\n{err}"


def make_pki(directory: Path, identities: tuple[str, ...] = IDENTITIES) -> tuple[Issued, Issued, dict[str, Issued]]:
    """A dev CA, a server certificate and one client certificate per identity."""
    ca = create_ca(directory)
    server = issue(ca, directory, "localhost", server=True, stem="server")
    clients = {name: issue(ca, directory, name, server=False) for name in identities}
    return ca, server, clients


def write_config(directory: Path, port: int, *, admins: tuple[str, ...] = ("admin",),
                 groups: dict[str, tuple[str, ...]] | None = None, https_port: int | None = None,
                 server_extra: str = "", log_level: str = "INFO", tls_extra: str = "") -> Path:
    groups = {"team": ("bob", "carol")} if groups is None else groups
    group_lines = "\n".join(f"{name} = {json.dumps(list(members))}" for name, members in groups.items())
    text = f"""\
[server]
host = "{HOST}"
port = {port}
threads = 4
shutdown_timeout = 5
{server_extra}

[tls]
certificate = "server.pem"
private_key = "server.key"
ca = "ca.pem"
{tls_extra}

[store]
url = "sqlite:///kmipd.db"

[access]
admins = {json.dumps(list(admins))}

[access.groups]
{group_lines}

[logging]
level = "{log_level}"
"""
    if https_port is not None:
        text += f"\n[https]\nport = {https_port}\n"
    path = directory / "kmipd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def launch(handle: ServerHandle, *, attempts: int = 5) -> None:
    """Start (or restart) the server of ``handle``; a new port is picked if the chosen one is taken.

    When ``handle.port`` is already set (a restart) that port is tried first.
    """
    errors: list[str] = []
    for attempt in range(attempts):
        if attempt > 0 or not handle.port:
            handle.port = free_port()
            handle.https_port = free_port()
        handle.config = write_config(handle.data_dir, handle.port, https_port=handle.https_port,
                                     server_extra=handle.server_extra, log_level=handle.log_level,
                                     tls_extra=handle.tls_extra)
        with open(handle.stdout, "ab") as out, open(handle.stderr, "ab") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "kmipd", "serve", "--config", str(handle.config)],
                stdout=out, stderr=err, cwd=handle.data_dir, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _accepts(handle.host, handle.port) and _accepts(handle.host, handle.https_port):
                handle.process = process
                return
            time.sleep(0.05)
        if process.poll() is None:
            stop(process)
            pytest.fail(f"kmipd did not accept connections within {START_TIMEOUT} s\n{handle.logs()}")
        errors.append(f"attempt {attempt + 1}: exit code {process.returncode}")
    pytest.fail(f"kmipd failed to start ({'; '.join(errors)})\n{handle.logs()}")


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM, wait, SIGKILL after ``timeout``; return the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


@contextlib.contextmanager
def running_server(directory: Path, server_extra: str = "", log_level: str = "INFO", tls_extra: str = "",
                   prepare: Callable[[Path], None] | None = None) -> Iterator[ServerHandle]:
    """A server with its own PKI and data in ``directory``, stopped on exit.

    ``server_extra`` and ``tls_extra`` are added to the ``[server]`` and ``[tls]`` sections of its
    configuration; ``prepare`` runs after the PKI is made and before the server starts.
    """
    ca, _server, clients = make_pki(directory)
    if prepare is not None:
        prepare(directory)
    handle = ServerHandle(host=HOST, port=0, data_dir=directory, config=directory / "kmipd.toml", ca=ca.certificate,
                          certs=clients, stdout=directory / "stdout.log", stderr=directory / "stderr.log",
                          server_extra=server_extra, log_level=log_level, tls_extra=tls_extra)
    launch(handle)
    try:
        yield handle
    finally:
        if handle.process is not None:
            stop(handle.process)


@pytest.fixture(scope="session")
def kmipd_server() -> Iterator[ServerHandle]:
    """The shared server: identities alice, bob and carol (group "team": bob, carol) and admin."""
    directory = Path(tempfile.mkdtemp(prefix="kmipd-it-"))
    try:
        with running_server(directory) as handle:
            other = directory / "other-ca"
            other_ca = create_ca(other, cn="some other CA")
            handle.extra["foreign-alice"] = issue(other_ca, other, "alice", server=False)
            yield handle
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def tmp_server_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="kmipd-it-own-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def kmip_client(server: ServerHandle, identity: str, version: KMIPVersion) -> ProxyKmipClient:
    """An unopened pykmip client for ``identity`` speaking ``version`` (use it as a context manager)."""
    return ProxyKmipClient(
        hostname=server.host,
        port=server.port,
        cert=str(server.cert(identity)),
        key=str(server.key(identity)),
        ca=str(server.ca),
        kmip_version=version,
        config_file=os.devnull,
    )


@pytest.fixture
def make_client(kmipd_server: ServerHandle):  # type: ignore[no-untyped-def]
    """Open pykmip clients on demand; all are closed after the test."""
    opened: list[ProxyKmipClient] = []

    def make(identity: str, version: KMIPVersion) -> ProxyKmipClient:
        client = kmip_client(kmipd_server, identity, version)
        client.open()
        opened.append(client)
        return client

    yield make
    for client in opened:
        with contextlib.suppress(Exception):
            client.close()


def tls_context(server: ServerHandle, identity: str | None = "alice", *,
                cert: Issued | None = None) -> ssl.SSLContext:
    """A client TLS context trusting the dev CA, presenting ``identity``'s certificate (or none)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(server.ca))
    chosen = cert if cert is not None else (server.certs[identity] if identity is not None else None)
    if chosen is not None:
        context.load_cert_chain(str(chosen.certificate), str(chosen.private_key))
    return context


def tls_connect(server: ServerHandle, identity: str | None = "alice", *, context: ssl.SSLContext | None = None,
                timeout: float = 10.0) -> ssl.SSLSocket:
    """A connected, handshaken TLS socket to the server."""
    context = context or tls_context(server, identity)
    raw = socket.create_connection((server.host, server.port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


# --- hand-built KMIP messages over raw TLS sockets ----------------------------------------------------------

def kmip_request(version: tuple[int, int], *items: Item, batch_error: int | None = None,
                 header_extra: tuple[Item, ...] = ()) -> Item:
    """A Request Message with ``items`` as its batch items."""
    header = structure(
        Tag.REQUEST_HEADER,
        structure(Tag.PROTOCOL_VERSION, integer(Tag.PROTOCOL_VERSION_MAJOR, version[0]),
                  integer(Tag.PROTOCOL_VERSION_MINOR, version[1])),
        *header_extra,
        enumeration(Tag.BATCH_ERROR_CONTINUATION_OPTION, batch_error) if batch_error is not None else None,
        integer(Tag.BATCH_COUNT, len(items)),
    )
    return structure(Tag.REQUEST_MESSAGE, header, *items)


def batch_item(operation: int, *payload: Item | None, batch_id: bytes | None = None,
               with_payload: bool = True) -> Item:
    """A request Batch Item."""
    return structure(
        Tag.BATCH_ITEM,
        enumeration(Tag.OPERATION, operation),
        byte_string(Tag.UNIQUE_BATCH_ITEM_ID, batch_id) if batch_id is not None else None,
        structure(Tag.REQUEST_PAYLOAD, *payload) if with_payload else None,
    )


def send_message(sock: ssl.SSLSocket, data: bytes) -> None:
    sock.sendall(data)


def _recv_exactly(sock: ssl.SSLSocket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(chunks)} of {size} bytes")
        chunks += chunk
    return bytes(chunks)


def recv_message(sock: ssl.SSLSocket) -> Item:
    """Read one whole TTLV message and decode it."""
    header = _recv_exactly(sock, 8)
    length = int.from_bytes(header[4:8], "big")
    return decode(header + _recv_exactly(sock, length))


def kmip_call(sock: ssl.SSLSocket, message: Item) -> Item:
    send_message(sock, encode(message))
    return recv_message(sock)


@dataclass(frozen=True)
class Result:
    """One response batch item, unpacked."""

    operation: int | None
    status: int
    reason: int | None
    message: str | None
    batch_id: bytes | None
    payload: Item | None


def response_version(response: Item) -> tuple[int, int]:
    header = response.find(Tag.RESPONSE_HEADER)
    assert header is not None
    version = header.find(Tag.PROTOCOL_VERSION)
    assert version is not None
    return (int(version.find(Tag.PROTOCOL_VERSION_MAJOR).value),  # type: ignore[union-attr, arg-type]
            int(version.find(Tag.PROTOCOL_VERSION_MINOR).value))  # type: ignore[union-attr, arg-type]


def results(response: Item) -> list[Result]:
    """The batch items of a Response Message (checking the Batch Count agrees)."""
    assert response.tag == Tag.RESPONSE_MESSAGE, hex(response.tag)
    header = response.find(Tag.RESPONSE_HEADER)
    assert header is not None
    out = []
    for item in response.find_all(Tag.BATCH_ITEM):
        def value(tag: int, item: Item = item) -> object:
            found = item.find(tag)
            return None if found is None else found.value
        out.append(Result(
            operation=value(Tag.OPERATION),  # type: ignore[arg-type]
            status=value(Tag.RESULT_STATUS),  # type: ignore[arg-type]
            reason=value(Tag.RESULT_REASON),  # type: ignore[arg-type]
            message=value(Tag.RESULT_MESSAGE),  # type: ignore[arg-type]
            batch_id=value(Tag.UNIQUE_BATCH_ITEM_ID),  # type: ignore[arg-type]
            payload=item.find(Tag.RESPONSE_PAYLOAD),
        ))
    count = header.find(Tag.BATCH_COUNT)
    assert count is not None and count.value == len(out)
    return out
