"""KMIP over HTTPS (the OASIS HTTPS, XML and JSON message-encoding profiles) on a second port.

``POST /kmip`` with ``Content-Type: application/octet-stream`` carries binary
TTLV, ``text/xml`` (or ``application/xml``) the KMIP XML encoding, and
``application/json`` the KMIP JSON encoding; the response uses the request's
content type. The listener shares the TLS policy of the TTLV port (client
certificate required, identity from it) and the same processor, so identity,
ownership and limits are the same on both ports. A body is refused before it
is buffered when its declared length exceeds the message-size limit; chunked
bodies are counted as they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cryptography import x509
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from twisted.web import http, resource, server

from kmipd.protocol.names import spec_names
from kmipd.server.tls import identity_from_certificate
from kmipd.ttlv.codec import Limits, decode, encode
from kmipd.ttlv.errors import TTLVError
from kmipd.ttlv.jsonenc import decode_json, encode_json
from kmipd.ttlv.xml import decode_xml, encode_xml

log = logging.getLogger("kmipd.https")

PATH = b"/kmip"
TTLV = "application/octet-stream"
XML = ("text/xml", "application/xml")
JSON = "application/json"

ProcessFn = Callable[[bytes, str], bytes]


class _LimitedRequest(server.Request):
    """A request that refuses bodies larger than the channel's limit before buffering them."""

    max_body: int = 1 << 20

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted interface
        self._received = 0
        if length is not None and length > self.max_body:
            log.warning("closing HTTPS connection: body of %d bytes over the limit", length)
            self.channel.transport.abortConnection()  # type: ignore[union-attr]
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted interface
        self._received += len(data)
        if self._received > self.max_body:
            log.warning("closing HTTPS connection: body over the limit")
            self.channel.transport.abortConnection()  # type: ignore[union-attr]
            return
        super().handleContentChunk(data)


class KMIPResource(resource.Resource):
    """``/kmip``: decode the body per its content type, process, encode the answer the same way."""

    isLeaf = True  # noqa: N815 - Twisted interface

    def __init__(self, reactor: Any, pool: ThreadPool, process: ProcessFn, limits: Limits, identity_source: str):
        super().__init__()
        self.reactor = reactor
        self.pool = pool
        self.process = process
        self.limits = limits
        self.identity_source = identity_source

    def render_POST(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted interface
        """Answer one KMIP request message."""
        if request.path != PATH:
            request.setResponseCode(http.NOT_FOUND)
            return b"not found\n"
        identity = self._identity(request)
        if identity is None:
            request.setResponseCode(http.FORBIDDEN)
            return b"the client certificate names no identity\n"
        kind = (request.getHeader("content-type") or "").split(";")[0].strip().lower()
        if kind != TTLV and kind not in XML and kind != JSON:
            request.setResponseCode(http.UNSUPPORTED_MEDIA_TYPE)
            return b"use application/octet-stream, text/xml or application/json\n"
        assert request.content is not None
        body = request.content.read()
        d = deferToThreadPool(self.reactor, self.pool, self._handle, body, kind, identity)
        d.addCallbacks(self._write, self._fail, callbackArgs=(request, kind), errbackArgs=(request,))
        return server.NOT_DONE_YET

    def _identity(self, request: server.Request) -> str | None:
        transport: Any = request.channel.transport
        peer = transport.getPeerCertificate() if transport is not None else None
        if peer is None:
            return None
        cert: x509.Certificate = peer.to_cryptography()
        return identity_from_certificate(cert, self.identity_source)

    def _handle(self, body: bytes, kind: str, identity: str) -> bytes | None:
        """Worker thread: text encodings are converted to TTLV and back around the processor."""
        if kind == TTLV:
            return self.process(body, identity)
        names = spec_names()
        try:
            text = body.decode("utf-8")
            tree = (
                decode_xml(text, names, limits=self.limits)
                if kind in XML
                else decode_json(text, names, limits=self.limits)
            )
            raw = encode(tree)
        except (TTLVError, ValueError):  # UnicodeDecodeError is a ValueError
            return None
        answer = decode(self.process(raw, identity))
        out = encode_xml(answer, names) if kind in XML else encode_json(answer, names)
        return out.encode("utf-8")

    @staticmethod
    def _write(answer: bytes | None, request: server.Request, kind: str) -> None:
        if answer is None:
            request.setResponseCode(http.BAD_REQUEST)
            request.setHeader("content-type", "text/plain")
            request.write(b"the body is not a well-formed KMIP message in the declared encoding\n")
        else:
            request.setHeader("content-type", kind)
            request.setHeader("cache-control", "no-cache")
            request.write(answer)
        request.finish()

    @staticmethod
    def _fail(failure: Failure, request: server.Request) -> None:
        log.error("HTTPS request failed: %s", failure.getErrorMessage())
        request.setResponseCode(http.INTERNAL_SERVER_ERROR)
        request.finish()


def build_site(reactor: Any, pool: ThreadPool, process: ProcessFn, limits: Limits, identity_source: str) -> server.Site:
    """The HTTPS site serving ``/kmip``."""
    site = server.Site(KMIPResource(reactor, pool, process, limits, identity_source))

    class Request(_LimitedRequest):
        max_body = limits.max_message_size

    site.requestFactory = Request
    site.displayTracebacks = False
    return site
