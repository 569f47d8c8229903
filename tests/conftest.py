"""Shared fixtures of the unit tests: a pinned clock, seeded entropy, a SQLite store and a processor."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmipd.clock import FixedClock
from kmipd.operations.context import AccessPolicy
from kmipd.operations.processor import Processor
from kmipd.store.sql import SQLStore

#: 2026-01-01T00:00:00Z, FixedClock's default start.
T0 = 1_767_225_600


class CounterEntropy:
    """Deterministic "randomness": SHA-256 of a seed and a counter, concatenated."""

    def __init__(self, seed: bytes = b"kmipd-tests") -> None:
        self.seed = seed
        self.counter = 0

    def token_bytes(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return out[:n]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def entropy() -> CounterEntropy:
    return CounterEntropy()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kmipd.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLStore]:
    s = SQLStore(f"sqlite:///{db_path}")
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def access() -> AccessPolicy:
    """alice and carol share group "team"; root is an admin; bob is on his own."""
    return AccessPolicy(admins=frozenset({"root"}), groups={"team": frozenset({"alice", "carol"})})


@pytest.fixture
def processor(store: SQLStore, clock: FixedClock, entropy: CounterEntropy, access: AccessPolicy) -> Processor:
    return Processor(store, clock, entropy, access)
