"""What an operation handler may use: the client, the time, randomness and one store transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from kmipd.clock import Entropy
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

    def require_write(self) -> None:
        """Called before a change by handlers that usually only read.

        Raises:
            NeedsWrite: the transaction is read-only; the processor reruns the handler in a write one.
        """
        if not self.writable:
            raise NeedsWrite


class NeedsWrite(Exception):
    """A read-only handler run has to change something: run it again in a write transaction."""
