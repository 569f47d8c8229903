"""The composition root: settings -> store, processor, TLS, thread pool, listening port.

This is the only module that picks concrete implementations; everything
below it receives its collaborators as arguments. Shutdown is graceful: on
SIGTERM/SIGINT the port stops accepting, requests in flight are answered
(up to ``shutdown_timeout``), then the pool and the store are closed.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

from twisted.internet import defer
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.threadpool import ThreadPool

from kmipd.clock import SystemClock, SystemEntropy
from kmipd.config import Settings
from kmipd.operations.context import AccessPolicy
from kmipd.operations.processor import Processor, ProcessorSettings
from kmipd.server.protocol import ConnectionLimits, KMIPFactory
from kmipd.server.tls import ServerContextFactory, TLSFiles
from kmipd.store.sql import SQLStore
from kmipd.ttlv.codec import Limits

log = logging.getLogger("kmipd")


def _reload_on_sighup(reactor: Any, tls: ServerContextFactory) -> None:
    """SIGHUP re-reads the certificate, key, CA bundle and CRL without dropping connections."""

    def reload() -> None:
        try:
            tls.reload()
        except OSError as exc:
            log.error("TLS reload failed, keeping the previous certificates: %s", exc)
        else:
            log.info("TLS certificates, CA bundle and CRL reloaded")

    signal.signal(signal.SIGHUP, lambda _signum, _frame: reactor.callFromThread(reload))


def tls_files(settings: Settings) -> TLSFiles:
    """The TLS material and policy the settings name."""
    return TLSFiles(
        settings.certificate,
        settings.private_key,
        settings.ca,
        crl=settings.crl,
        require_client_eku=settings.require_client_eku,
    )


def build_processor(settings: Settings, store: SQLStore) -> Processor:
    """The request processor for ``settings`` over ``store``."""
    limits = Limits(
        max_message_size=settings.max_message_size, max_depth=settings.max_depth, max_items=settings.max_items
    )
    return Processor(
        store=store,
        clock=SystemClock(),
        entropy=SystemEntropy(),
        access=AccessPolicy(admins=settings.admins, groups=dict(settings.groups)),
        settings=ProcessorSettings(limits=limits, max_batch_items=settings.max_batch_items),
    )


def start(reactor: Any, settings: Settings, sockets: list[socket.socket] | None = None) -> list[Any]:
    """Open the store, listen, and arrange a graceful shutdown. Returns the listening ports (TTLV first).

    ``sockets`` are listening sockets on ports shared by every worker process (SO_REUSEPORT;
    TTLV first, then HTTPS when configured); without them the ports are opened here.
    """
    # Everything that can fail on bad settings comes first, before any thread is started:
    # a started pool would keep a failed process alive.
    tls = ServerContextFactory(tls_files(settings))
    store = SQLStore(settings.store_url, pool_size=settings.threads)
    if sockets is None:
        store.create_schema()
    processor = build_processor(settings, store)
    pool = ThreadPool(minthreads=1, maxthreads=settings.threads, name="kmipd-workers")
    factory = KMIPFactory(
        reactor,
        pool,
        processor.process,
        max_message_size=settings.max_message_size,
        identity_source=settings.identity_source,
        limits=ConnectionLimits(
            handshake_timeout=settings.handshake_timeout,
            idle_timeout=settings.idle_timeout,
            max_connections=settings.max_connections,
            max_connections_per_identity=settings.max_connections_per_identity,
            max_pending=settings.max_pending,
        ),
    )
    factories: list[Any] = [factory]
    if settings.https_port is not None:
        from kmipd.server.https import build_site

        factories.append(
            build_site(reactor, pool, processor.process, processor.settings.limits, settings.identity_source)
        )
    tls_any: Any = tls  # a zope-declared IOpenSSLContextFactory, which mypy cannot see
    if sockets is None:
        numbers = [settings.port] + ([settings.https_port] if settings.https_port is not None else [])
        ports = [
            reactor.listenSSL(number, served, tls, interface=settings.host, backlog=512)
            for number, served in zip(numbers, factories, strict=True)
        ]
    else:
        ports = [
            reactor.adoptStreamPort(sock.fileno(), sock.family, TLSMemoryBIOFactory(tls_any, False, served))
            for sock, served in zip(sockets, factories, strict=True)
        ]
        for sock in sockets:
            sock.close()  # the reactor holds its own duplicate

    pool.start()

    @defer.inlineCallbacks
    def shutdown() -> Any:
        log.info("shutting down: no new connections, finishing %d requests in flight", len(factory.in_flight))
        for listening in ports:
            yield listening.stopListening()
        drained = factory.drain()
        timeout = reactor.callLater(settings.shutdown_timeout, drained.cancel)
        try:
            yield drained
        except defer.CancelledError:
            log.warning("shutdown timeout: %d requests abandoned", len(factory.in_flight))
        if timeout.active():
            timeout.cancel()
        for connection in list(factory.connections):
            transport: Any = connection.transport
            transport.loseConnection()
        pool.stop()
        store.close()
        log.info("stopped")

    reactor.addSystemEventTrigger("before", "shutdown", shutdown)
    _reload_on_sighup(reactor, tls)
    return ports
