"""How the runner reaches a server: mutual TLS to any KMIP server, or a function (tests)."""

from __future__ import annotations

import http.client
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


class HTTPSTransport:
    """KMIP over HTTPS (``POST /kmip``) in one of the three message encodings.

    The runner speaks TTLV bytes; for the XML and JSON encodings this transport
    converts each request to text and each answer back, so the comparison is
    the same whatever travelled on the wire.
    """

    CONTENT_TYPES = {"ttlv": "application/octet-stream", "xml": "text/xml", "json": "application/json"}

    def __init__(
        self, host: str, port: int, *, ca: Path, cert: Path, key: Path, encoding: str = "ttlv", timeout: float = 30.0
    ) -> None:
        if encoding not in self.CONTENT_TYPES:
            raise ValueError(f"unknown encoding {encoding!r}")
        self.host, self.port, self.timeout, self.encoding = host, port, timeout, encoding
        self.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
        self.context.load_cert_chain(str(cert), str(key))
        self.context.check_hostname = False
        self.connection: http.client.HTTPSConnection | None = None

    def __call__(self, request: bytes) -> bytes:
        """POST one message; return the answer as TTLV bytes."""
        from kmipd.protocol.names import spec_names
        from kmipd.ttlv.codec import decode, encode
        from kmipd.ttlv.jsonenc import decode_json, encode_json
        from kmipd.ttlv.xml import decode_xml, encode_xml

        names = spec_names()
        if self.encoding == "ttlv":
            body = request
        elif self.encoding == "xml":
            body = encode_xml(decode(request), names).encode()
        else:
            body = encode_json(decode(request), names).encode()
        content_type = self.CONTENT_TYPES[self.encoding]
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=self.timeout
            )
        try:
            self.connection.request("POST", "/kmip", body=body, headers={"Content-Type": content_type})
            response = self.connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(f"HTTPS request failed: {exc}") from None
        if response.status != 200:
            raise TransportError(f"HTTP {response.status}: {answer[:200]!r}")
        received = (response.getheader("content-type") or "").split(";")[0].strip()
        if received != content_type:
            raise TransportError(f"the answer has Content-Type {received!r}, expected {content_type!r}")
        if self.encoding == "ttlv":
            return answer
        text = answer.decode("utf-8")
        tree = decode_xml(text, names) if self.encoding == "xml" else decode_json(text, names)
        return encode(tree)

    def close(self) -> None:
        """Drop the connection (a later call reconnects)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None
