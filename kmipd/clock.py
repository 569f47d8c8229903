"""Time and randomness, injected everywhere so that tests can pin them.

Nothing else in kmipd reads the wall clock or the operating system's random
source directly: verdicts such as "is this nonce expired" or "is this key past
its Deactivation Date" must be reproducible in tests.
"""

from __future__ import annotations

import os
import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in POSIX seconds."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""


class Entropy(Protocol):
    """A source of cryptographically secure random bytes."""

    def token_bytes(self, n: int) -> bytes:
        """``n`` random bytes."""


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        return time.time()


class SystemEntropy:
    """The operating system's CSPRNG."""

    def token_bytes(self, n: int) -> bytes:
        """``n`` random bytes from ``os.urandom``."""
        return os.urandom(n)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self.current = start

    def now(self) -> float:
        """The pinned time."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move the pinned time forward."""
        self.current += seconds
