"""How the runner reaches a server: mutual TLS to any KMIP server, or a function (tests)."""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Callable
from pathlib import Path


class TransportError(ConnectionError):
    """The server could not be reached, or closed the connection."""


class TLSTransport:
    """One mutual-TLS connection to a KMIP server, reopened if the server closes it."""

    def __init__(self, host: str, port: int, *, ca: Path, cert: Path, key: Path, timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
        self.context.load_cert_chain(str(cert), str(key))
        self.context.check_hostname = False
        self.sock: ssl.SSLSocket | None = None

    def _connect(self) -> ssl.SSLSocket:
        try:
            raw = socket.create_connection(self.address, timeout=self.timeout)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return self.context.wrap_socket(raw, server_hostname=self.address[0])
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"cannot connect to {self.address[0]}:{self.address[1]}: {exc}") from None

    def __call__(self, request: bytes) -> bytes:
        """Send one message and read one response."""
        if self.sock is None:
            self.sock = self._connect()
        try:
            self.sock.sendall(request)
            header = self._read(8)
            length = struct.unpack(">I", header[4:8])[0]
            return header + self._read(length)
        except (OSError, TransportError) as exc:
            self.close()
            raise TransportError(f"connection lost: {exc}") from None

    def _read(self, n: int) -> bytes:
        assert self.sock is not None
        chunks = bytearray()
        while len(chunks) < n:
            chunk = self.sock.recv(n - len(chunks))
            if not chunk:
                raise TransportError("the server closed the connection")
            chunks += chunk
        return bytes(chunks)

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


Transport = Callable[[bytes], bytes]
