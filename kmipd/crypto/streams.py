"""Open multi-part cryptographic operations, keyed by their Correlation Value.

KMIP's multi-part operations (Init Indicator ... Final Indicator) keep a
cipher, hash or MAC context between requests. Those contexts live only in the
memory of the server process that started them: a multi-part operation must
stay on one connection (kmipd's worker processes share the listening port, so
another connection may reach another process, which does not know the stream),
and a restart ends every open stream.

The table is bounded: at most ``max_streams`` open at once, each dropped after
``idle_seconds`` without use. A stream is taken out of the table while one
request works on it, so two concurrent requests can never drive the same
context; the second one finds no such stream. A part whose store transaction fails after
the cipher ran (the store became unavailable) has still advanced its stream: the client gets
an error and should abandon the stream.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from kmipd.crypto.errors import StreamLimit

T = TypeVar("T")

#: Correlation Values are this many random bytes.
CORRELATION_BYTES = 16


@dataclass(slots=True)
class Stream(Generic[T]):
    """One open multi-part operation: who opened it, for what, and its context."""

    owner: str
    operation: int
    uid: str | None
    state: T
    last_used: float


class StreamTable(Generic[T]):
    """Thread-safe, bounded map of Correlation Value -> open stream."""

    def __init__(self, *, max_streams: int = 128, idle_seconds: float = 600.0) -> None:
        self.max_streams = max_streams
        self.idle_seconds = idle_seconds
        self._streams: dict[bytes, Stream[T]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def _expire(self, now: float) -> None:
        stale = [k for k, s in self._streams.items() if now - s.last_used > self.idle_seconds]
        for key in stale:
            del self._streams[key]

    def put(self, token: bytes, stream: Stream[T], now: float) -> None:
        """Store (or return after use) ``stream`` under ``token``.

        Raises:
            StreamLimit: the table is full of live streams.
        """
        with self._lock:
            self._expire(now)
            if token not in self._streams and len(self._streams) >= self.max_streams:
                raise StreamLimit("too many multi-part operations are open; finish or abandon some first")
            stream.last_used = now
            self._streams[token] = stream

    def take(self, token: bytes, owner: str, operation: int, now: float) -> Stream[T] | None:
        """Remove and return the live stream ``token`` of ``owner`` for ``operation``.

        A stream of another client or another operation is left alone and reported as absent,
        indistinguishable from one that never existed.
        """
        with self._lock:
            self._expire(now)
            stream = self._streams.get(token)
            if stream is None or stream.owner != owner or stream.operation != operation:
                return None
            del self._streams[token]
            return stream

    def clear(self) -> None:
        """Forget every stream (tests, shutdown)."""
        with self._lock:
            self._streams.clear()
