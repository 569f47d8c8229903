"""What an operation handler may use: the client, the time, randomness and one store transaction."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from kmipd.clock import Entropy
from kmipd.crypto.digests import Digest
from kmipd.crypto.streams import StreamTable
from kmipd.crypto.transform import Transform
from kmipd.protocol.versions import ProtocolVersion
from kmipd.store.interface import Transaction


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated client, as taken from its certificate."""

    name: str
    groups: frozenset[str] = frozenset()
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Who sees whose objects.

    A client sees its own objects, those of every identity it shares a group
    with, and all objects when it is an admin. Anything it cannot see is, to
    it, indistinguishable from a missing object.
    """

    admins: frozenset[str] = frozenset()
    groups: dict[str, frozenset[str]] = field(default_factory=dict)

    def identity(self, name: str) -> Identity:
        """Build the identity of an authenticated client name."""
        groups = frozenset(g for g, members in self.groups.items() if name in members)
        return Identity(name=name, groups=groups, is_admin=name in self.admins)

    def visible_owners(self, who: Identity) -> frozenset[str] | None:
        """Owners whose objects ``who`` may use; None means every owner."""
        if who.is_admin:
            return None
        owners = {who.name}
        for group in who.groups:
            owners |= self.groups.get(group, frozenset())
        return frozenset(owners)

    def may_access(self, who: Identity, owner: str) -> bool:
        """True when ``who`` may see and change objects of ``owner``."""
        visible = self.visible_owners(who)
        return visible is None or owner in visible


@dataclass(slots=True)
class MessageState:
    """State shared by the batch items of one request message (and only that message)."""

    id_placeholder: str | None = None


class SessionTable:
    """PKCS#11 sessions: Correlation Value -> the identity that opened it (bounded, thread-safe)."""

    def __init__(self, max_sessions: int = 1024) -> None:
        self.max_sessions = max_sessions
        self._open: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def begin(self, value: bytes, owner: str) -> None:
        """Record a new session, forgetting the oldest beyond the bound."""
        with self._lock:
            while len(self._open) >= self.max_sessions:
                self._open.pop(next(iter(self._open)))
            self._open[value] = owner

    def owned_by(self, value: bytes | None, owner: str) -> bool:
        """Whether ``value`` is an open session of ``owner``."""
        with self._lock:
            return value is not None and self._open.get(value) == owner

    def end(self, value: bytes) -> None:
        """Close a session."""
        with self._lock:
            self._open.pop(value, None)


@dataclass(slots=True)
class ProcessState:
    """What lives in the serving process's memory across requests (owned by the Processor, not global).

    Multi-part cryptographic streams and PKCS#11 sessions: they end with the process, so a
    client keeps them on one connection.
    """

    cipher_streams: StreamTable[Transform] = field(default_factory=StreamTable)
    digest_streams: StreamTable[Digest] = field(default_factory=StreamTable)
    pkcs11_sessions: SessionTable = field(default_factory=SessionTable)


@dataclass(slots=True)
class Context:
    """Everything one batch item's handler works with."""

    version: ProtocolVersion
    identity: Identity
    access: AccessPolicy
    now: int
    entropy: Entropy
    tx: Transaction
    message: MessageState
    writable: bool = True
    process: ProcessState = field(default_factory=ProcessState)

    def require_write(self) -> None:
        """Called before a change by handlers that usually only read.

        Raises:
            NeedsWrite: the transaction is read-only; the processor reruns the handler in a write one.
        """
        if not self.writable:
            raise NeedsWrite


class NeedsWrite(Exception):
    """A read-only handler run has to change something: run it again in a write transaction."""
