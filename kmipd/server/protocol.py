"""The per-connection protocol: frame bytes into messages, process them in order off the reactor.

Requests on one connection are answered strictly in order, one at a time;
different connections proceed in parallel on the thread pool. A framing
error (oversize header, not a Structure) closes only that connection.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from twisted.internet import defer, interfaces, protocol
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from kmipd.server.tls import identity_from_certificate
from kmipd.ttlv.framing import Framer, FramingError

log = logging.getLogger("kmipd.server")

ProcessFn = Callable[[bytes, str], bytes]


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Per-connection and per-server bounds, so one client cannot exhaust the server for the others.

    Attributes:
        handshake_timeout: seconds a peer has to complete the TLS handshake.
        idle_timeout: seconds without a byte from the client before it is dropped (0: never).
            The default is long on purpose: clients such as MongoDB keep one connection and
            poll every 15 minutes.
        max_connections: open connections in total.
        max_connections_per_identity: open connections of one client identity.
        max_pending: requests one connection may have queued.
    """

    handshake_timeout: float = 10.0
    idle_timeout: float = 3600.0
    max_connections: int = 10_000
    max_connections_per_identity: int = 1_000
    max_pending: int = 64


@implementer(interfaces.IHandshakeListener)
class KMIPProtocol(protocol.Protocol):
    """One client connection."""

    transport: Any  # a TLS transport: Twisted's stubs type it as the bare ITransport

    def __init__(self, factory: KMIPFactory) -> None:
        self.factory = factory
        self.framer = Framer(factory.max_message_size)
        self.pending: deque[bytes] = deque()
        self.busy = False
        self.identity: str | None = None
        self.closed = False
        self.timer: Any = None

    def connectionMade(self) -> None:  # noqa: N802 - Twisted interface
        """Count the connection, start the handshake clock, disable Nagle.

        Nagle must be off: TLS 1.3 session tickets otherwise stall the first response by ~40 ms.
        """
        limits = self.factory.limits
        if len(self.factory.connections) >= limits.max_connections:
            log.warning("refusing a connection: %d connections open", len(self.factory.connections))
            self.transport.abortConnection()
            return
        self.transport.setTcpNoDelay(True)
        self.factory.connections.add(self)
        self.timer = self.factory.reactor.callLater(limits.handshake_timeout, self._timed_out, "TLS handshake")

    def _timed_out(self, what: str) -> None:
        self.timer = None
        log.warning("closing connection from %s: %s timed out", self.identity or "unauthenticated peer", what)
        self.transport.abortConnection()

    def _restart_idle_timer(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        idle = self.factory.limits.idle_timeout
        if idle > 0 and not self.closed:
            self.timer = self.factory.reactor.callLater(idle, self._timed_out, "idle period")

    def handshakeCompleted(self) -> None:  # noqa: N802 - Twisted interface
        """Read the client's identity from its verified certificate, once per connection."""
        peer = self.transport.getPeerCertificate()
        if peer is not None:
            cert: x509.Certificate = peer.to_cryptography()
            self.identity = identity_from_certificate(cert, self.factory.identity_source)
        if not self.identity:
            log.warning("client certificate names no identity; closing")
            self.transport.abortConnection()
            return
        if not self.factory.admit(self.identity):
            log.warning(
                "closing connection from %s: over %d connections for one identity",
                self.identity,
                self.factory.limits.max_connections_per_identity,
            )
            self.identity = None
            self.transport.abortConnection()
            return
        self._restart_idle_timer()
        self._next()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted interface
        """Queue every complete message; refuse unreadable framing by closing the connection."""
        if self.identity is not None:
            self._restart_idle_timer()
        try:
            messages = self.framer.feed(data)
        except FramingError as exc:
            log.warning("closing connection from %s: %s", self.identity or "unauthenticated peer", exc)
            self.transport.abortConnection()
            return
        if len(self.pending) + len(messages) > self.factory.limits.max_pending:
            log.warning(
                "closing connection from %s: more than %d requests queued",
                self.identity,
                self.factory.limits.max_pending,
            )
            self.transport.abortConnection()
            return
        self.pending.extend(messages)
        self._next()

    def _next(self) -> None:
        if self.busy or not self.pending or self.identity is None or self.closed:
            return
        self.busy = True
        raw = self.pending.popleft()
        d = self.factory.submit(raw, self.identity)
        d.addCallbacks(self._respond, self._failed)

    def _respond(self, response: bytes) -> None:
        self.busy = False
        if not self.closed:
            self.transport.write(response)
            self._next()

    def _failed(self, failure: Failure) -> None:
        self.busy = False
        log.error("request processing failed: %s", failure.getErrorMessage())
        if not self.closed:
            self.transport.abortConnection()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:  # noqa: N802
        """Forget the connection; queued requests are dropped, the one in flight completes."""
        self.closed = True
        self.pending.clear()
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        if self in self.factory.connections:
            self.factory.connections.discard(self)
            if self.identity is not None:
                self.factory.release(self.identity)


class KMIPFactory(protocol.Factory):
    """Shared state of all connections: the processor, the thread pool and the limits."""

    def __init__(
        self,
        reactor: Any,
        pool: ThreadPool,
        process: ProcessFn,
        *,
        max_message_size: int,
        identity_source: str = "cn",
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.reactor = reactor
        self.pool = pool
        self.process = process
        self.max_message_size = max_message_size
        self.identity_source = identity_source
        self.limits = limits or ConnectionLimits()
        self.connections: set[KMIPProtocol] = set()
        self.per_identity: dict[str, int] = {}
        self.in_flight: set[defer.Deferred[bytes]] = set()

    def admit(self, identity: str) -> bool:
        """Count one more connection of ``identity``, unless it already has the most allowed."""
        count = self.per_identity.get(identity, 0)
        if count >= self.limits.max_connections_per_identity:
            return False
        self.per_identity[identity] = count + 1
        return True

    def release(self, identity: str) -> None:
        """Forget one connection of ``identity``."""
        count = self.per_identity.get(identity, 0) - 1
        if count > 0:
            self.per_identity[identity] = count
        else:
            self.per_identity.pop(identity, None)

    def buildProtocol(self, addr: Any) -> KMIPProtocol:  # noqa: N802 - Twisted interface
        """A protocol for a new connection."""
        return KMIPProtocol(self)

    def submit(self, raw: bytes, identity: str) -> defer.Deferred[bytes]:
        """Run the processor on the pool; track the call so shutdown can wait for it."""
        d: defer.Deferred[bytes] = deferToThreadPool(self.reactor, self.pool, self.process, raw, identity)
        self.in_flight.add(d)

        def done(result: Any) -> Any:
            self.in_flight.discard(d)
            return result

        d.addBoth(done)
        return d

    def drain(self) -> defer.Deferred[Any]:
        """A Deferred that fires once every request in flight has been answered."""
        return defer.DeferredList([_observe(d) for d in list(self.in_flight)], consumeErrors=True)


def _observe(d: defer.Deferred[bytes]) -> defer.Deferred[None]:
    """A Deferred that fires when ``d`` does, without taking its result away from its owner."""
    observer: defer.Deferred[None] = defer.Deferred()

    def fire(result: Any) -> Any:
        observer.callback(None)
        return result

    d.addBoth(fire)
    return observer
