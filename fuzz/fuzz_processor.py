"""Fuzz the whole request path: Processor.process(raw, client_name) over a temporary SQLite store.

Inputs are random bytes, byte-level mutations of valid requests and structure-aware
mutations (tags, types, lengths, values, dropped/duplicated/moved children, swapped
enumerations, huge integers, deep nesting) of valid requests of every operation kmipd
registers, in KMIP 1.4 and 2.1 forms. The store holds one object of every type (owned by
"alice"); the requests name them, and run as alice, her group mate carol, the stranger bob
or the admin root (chosen by the input's last byte, so a crash input reproduces alone).

Property: process() never raises and answers bytes that kmipd.ttlv.decode reads as a
Response Message whose Batch Items all carry a Result Status; no batch item is a General
Failure "internal error (incident ...)" (an unexpected exception inside a handler).

    python fuzz/fuzz_processor.py -max_total_time=180 --keep-going   # atheris
    python fuzz/fuzz_processor.py --iterations 5000 --seed 1         # plain random loop
"""

from __future__ import annotations

import logging
import random
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_ttlv import (
    Harness,
    PropertyViolation,
    Uids,
    generate_ttlv,
    object_bodies,
    seed_requests,
)

from kmipd.clock import SystemClock, SystemEntropy
from kmipd.operations.context import AccessPolicy
from kmipd.operations.processor import Processor
from kmipd.protocol.enums import ObjectType, ResultStatus, Tag
from kmipd.store.sql import SQLStore
from kmipd.ttlv import Item, ItemType, TTLVError, decode, encode
from tests.kmip_helpers import V2_1, Client, name_value

CLIENTS = ("alice", "alice", "alice", "carol", "bob", "root")
POLICY = AccessPolicy(admins=frozenset({"root"}), groups={"team": frozenset({"alice", "carol"})})
_STATUSES = {int(s) for s in ResultStatus}


class _Capture(logging.Handler):
    """Keeps the traceback of the last "internal error" the processor logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info))


CAPTURE = _Capture()
_log = logging.getLogger("kmipd.processor")
_log.addHandler(CAPTURE)
_log.propagate = False
_log.setLevel(logging.ERROR)
logging.getLogger("kmipd").setLevel(logging.ERROR)


class World:
    """A processor over a SQLite store pre-filled with one object of every type; reset() restores it."""

    def __init__(self, directory: Path | None = None, reset_every: int = 400) -> None:
        self.dir = Path(directory or tempfile.mkdtemp(prefix="kmipd-fuzz-processor-"))
        self.db = self.dir / "kmipd.db"
        self.baseline = self.dir / "baseline.db"
        self.reset_every = reset_every
        self.count = 0
        self.store = self._open(fresh=True)
        self.processor = Processor(self.store, SystemClock(), SystemEntropy(), POLICY)
        self.uids = self._populate()
        self.store.close()
        shutil.copyfile(self.db, self.baseline)
        self.store = self._open(fresh=False)
        self.processor = Processor(self.store, SystemClock(), SystemEntropy(), POLICY)

    def _open(self, fresh: bool) -> SQLStore:
        store = SQLStore(f"sqlite:///{self.db}")
        if fresh:
            store.create_schema()
        return store

    def _populate(self) -> Uids:
        client = Client(self.processor, V2_1, "alice")
        found: dict[int, str] = {}
        for name, object_type, body in object_bodies():
            result = client.register(object_type, body, attrs=[("Name", name_value(f"fuzz-{name}"))]).expect_ok()
            found[object_type] = result.uid
        found[ObjectType.SYMMETRIC_KEY] = client.create(
            attrs=[("Name", name_value("fuzz-key"))]).expect_ok().uid
        return Uids(
            symmetric=found[ObjectType.SYMMETRIC_KEY],
            secret=found[ObjectType.SECRET_DATA],
            opaque=found[ObjectType.OPAQUE_OBJECT],
            certificate=found[ObjectType.CERTIFICATE],
            public=found[ObjectType.PUBLIC_KEY],
            private=found[ObjectType.PRIVATE_KEY],
        )

    def reset(self) -> None:
        """Back to the baseline objects (bounds the database, and so Locate's cost and memory)."""
        self.store.close()
        shutil.copyfile(self.baseline, self.db)
        self.store = self._open(fresh=False)
        self.processor = Processor(self.store, SystemClock(), SystemEntropy(), POLICY)

    def process(self, raw: bytes, client: str) -> bytes:
        self.count += 1
        if self.count % self.reset_every == 0:
            self.reset()
        return self.processor.process(raw, client)

    def close(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def client_for(data: bytes) -> str:
    return CLIENTS[data[-1] % len(CLIENTS)] if data else "alice"


def check_response(response: bytes) -> Item:
    """The property of one response; returns its decoded tree."""
    if not isinstance(response, bytes):
        raise PropertyViolation(f"process() returned {type(response).__name__}, not bytes")
    try:
        tree = decode(response)
    except TTLVError as exc:
        raise PropertyViolation(f"the response does not decode: {exc}") from exc
    if tree.tag != Tag.RESPONSE_MESSAGE or tree.type is not ItemType.STRUCTURE:
        raise PropertyViolation(f"the response is 0x{tree.tag:06x}, not a Response Message")
    header = tree.find(Tag.RESPONSE_HEADER)
    if header is None or header.find(Tag.PROTOCOL_VERSION) is None or header.find(Tag.TIME_STAMP) is None:
        raise PropertyViolation("the response has no Response Header with Protocol Version and Time Stamp")
    items = tree.find_all(Tag.BATCH_ITEM)
    count = header.find(Tag.BATCH_COUNT)
    if not items or count is None or count.value != len(items):
        raise PropertyViolation(f"Batch Count {count} does not match {len(items)} batch items")
    for item in items:
        status = item.find(Tag.RESULT_STATUS)
        if status is None or status.type is not ItemType.ENUMERATION or status.value not in _STATUSES:
            raise PropertyViolation(f"a batch item has no valid Result Status: {status}")
        message = item.find(Tag.RESULT_MESSAGE)
        if message is not None and "internal error" in str(message.value):
            detail = CAPTURE.last or "(no traceback captured)"
            CAPTURE.last = None
            op = item.find(Tag.OPERATION)
            raise PropertyViolation(
                f"internal error in operation {op.value if op else None}: {detail.strip().splitlines()[-1]}\n{detail}")
    return tree


_WORLD: World | None = None


def world() -> World:
    global _WORLD
    if _WORLD is None:
        _WORLD = World()
    return _WORLD


def target(data: bytes) -> None:
    w = world()
    try:
        response = w.process(data, client_for(data))
    except Exception as exc:
        raise PropertyViolation(f"process() raised {type(exc).__name__}: {exc}") from exc
    check_response(response)


def seeds() -> list[bytes]:
    w = world()
    out = []
    for _, item in seed_requests(w.uids):
        data = encode(item)
        out += [data + b"" for _ in range(1)]
    return out


def generate(rng: random.Random, pool: list[bytes]) -> bytes:
    trees = []
    for raw in rng.sample(pool, min(3, len(pool))):
        try:
            trees.append(decode(raw))
        except TTLVError:
            continue
    return generate_ttlv(rng, trees, focus=Tag.REQUEST_PAYLOAD)


HARNESS = Harness("processor", target, seeds, generate)

if __name__ == "__main__":
    code = HARNESS.main()
    if _WORLD is not None:
        _WORLD.close()
    sys.exit(code)
