"""The "ceiling" for a KMIP server on this stack: a minimal Twisted + pyOpenSSL mutual-TLS responder.

It does what every KMIP server on Twisted must do and nothing else: accept a
TLS 1.2 connection that presents a client certificate signed by the CA
(``VERIFY_PEER | VERIFY_FAIL_IF_NO_PEER_CERT``, ECDHE + AES-GCM like kmipd),
turn Nagle off (TCP_NODELAY), frame requests by the 8-byte TTLV header and
answer each one with a fixed, pre-encoded response. No KMIP is decoded, no
storage is touched, no cryptography beyond TLS runs.

The responses come from ``--pairs FILE``: a sequence of records
``u32 len(request) | request | u32 len(response) | response`` (big-endian).
A request is answered with the response recorded for exactly those bytes, so
one process serves every benchmark scenario with the response size kmipd
returns for it. An unknown request closes the connection.

It prints ``echo listening on HOST:PORT`` once listening and stops on SIGINT/SIGTERM.
It imports neither kmipd nor PyKMIP, so its memory is the stack's own.

Usage: ``python bench/echo_server.py --cert S.pem --key S.key --ca CA.pem --pairs FILE [--port 0]``.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path
from typing import Any

from OpenSSL import SSL
from twisted.internet import protocol
from twisted.internet.interfaces import IOpenSSLContextFactory
from zope.interface import implementer

_HEADER = struct.Struct(">IL")
_LENGTH = struct.Struct(">I")


def load_pairs(path: Path) -> dict[bytes, bytes]:
    """Read the request -> response records written by :func:`write_pairs`."""
    data = path.read_bytes()
    pairs: dict[bytes, bytes] = {}
    offset = 0
    while offset < len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        request = data[offset + 4 : offset + 4 + size]
        offset += 4 + size
        (size,) = _LENGTH.unpack_from(data, offset)
        pairs[request] = data[offset + 4 : offset + 4 + size]
        offset += 4 + size
    return pairs


def write_pairs(path: Path, pairs: dict[bytes, bytes]) -> None:
    """Write request -> response records for ``--pairs``."""
    with path.open("wb") as handle:
        for request, response in pairs.items():
            handle.write(_LENGTH.pack(len(request)) + request + _LENGTH.pack(len(response)) + response)


class Responder(protocol.Protocol):
    """Frames TTLV messages and writes the fixed response of each."""

    transport: Any

    def __init__(self, pairs: dict[bytes, bytes]) -> None:
        self.pairs = pairs
        self.buffer = b""

    def connectionMade(self) -> None:  # noqa: N802 - Twisted interface
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted interface
        buffer = self.buffer + data
        while len(buffer) >= 8:
            total = 8 + _HEADER.unpack_from(buffer, 0)[1]
            if len(buffer) < total:
                break
            response = self.pairs.get(buffer[:total])
            if response is None:
                self.transport.abortConnection()
                return
            self.transport.write(response)
            buffer = buffer[total:]
        self.buffer = buffer


class ResponderFactory(protocol.Factory):
    """One :class:`Responder` per connection, sharing the response table."""

    def __init__(self, pairs: dict[bytes, bytes]) -> None:
        self.pairs = pairs

    def buildProtocol(self, addr: Any) -> Responder:  # noqa: N802 - Twisted interface
        return Responder(self.pairs)


@implementer(IOpenSSLContextFactory)
class ContextFactory:
    """The one server context: TLS 1.2 only, ECDHE + AEAD, a client certificate from ``ca`` required."""

    def __init__(self, cert: Path, key: Path, ca: Path) -> None:
        context = SSL.Context(SSL.TLS_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_max_proto_version(SSL.TLS1_2_VERSION)
        context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE | SSL.OP_NO_RENEGOTIATION)
        context.set_cipher_list(b"ECDHE+AESGCM:ECDHE+CHACHA20")
        context.use_certificate_chain_file(str(cert))
        context.use_privatekey_file(str(key))
        context.check_privatekey()
        context.load_verify_locations(str(ca))
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda _c, _x, _e, _d, ok: bool(ok))
        self._context = context

    def getContext(self) -> SSL.Context:  # noqa: N802 - Twisted interface
        return self._context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", type=Path, required=True, help="server certificate (PEM)")
    parser.add_argument("--key", type=Path, required=True, help="server private key (PEM)")
    parser.add_argument("--ca", type=Path, required=True, help="CA bundle that signs client certificates")
    parser.add_argument("--pairs", type=Path, required=True, help="request/response records (see the docstring)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    from twisted.internet import reactor as installed_reactor

    reactor: Any = installed_reactor
    context: Any = ContextFactory(args.cert, args.key, args.ca)
    port = reactor.listenSSL(args.port, ResponderFactory(load_pairs(args.pairs)), context,
                             interface=args.host, backlog=512)
    print(f"echo listening on {args.host}:{port.getHost().port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
