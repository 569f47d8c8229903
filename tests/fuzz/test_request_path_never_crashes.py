"""Processor.process never raises and always answers a well-formed Response Message.

Bounded hypothesis runs of fuzz/fuzz_processor.py: random bytes, and structure-aware mutations of
valid requests of every operation kmipd registers (KMIP 1.4 and 2.1), run as the owner, a group
mate, a stranger and an admin over a SQLite store holding one object of every type. A General
Failure "internal error (incident ...)" counts as a crash. The crashes fuzzing found are pinned by
the regression tests below; ``KNOWN_BUGS`` can hold a newly found one while it is being fixed.
"""

from __future__ import annotations

import random
import re

import fuzz_processor as fp
import fuzz_ttlv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmipd.protocol.enums import ObjectType, Operation, ResultReason, ResultStatus, Tag
from kmipd.ttlv import encode
from kmipd.ttlv.item import big_integer, byte_string, enumeration, integer, structure, text
from tests.kmip_helpers import V1_4, V2_1, Client, attr_1x, op, request_message, run_raw

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

#: (innermost kmipd function, exception) of crashes found but not fixed yet: none.
KNOWN_BUGS: set[tuple[str, str]] = set()


def known_bug(exc: BaseException) -> bool:
    frames = re.findall(r'File "[^"]*/kmipd/[^"]+", line \d+, in (\w+)', str(exc))
    error = re.search(r"^(\w+Error): ", str(exc).split("\n", 1)[-1], re.MULTILINE)
    return bool(frames and error and (frames[-1], error.group(1)) in KNOWN_BUGS)


@pytest.fixture(scope="module", autouse=True)
def world(tmp_path_factory):
    w = fp.World(tmp_path_factory.mktemp("fuzz-processor"), reset_every=200)
    fp._WORLD = w
    yield w
    fp._WORLD = None
    w.close()


@pytest.fixture(scope="module")
def seeds(world):
    return fp.seeds()


def _run(data: bytes) -> None:
    try:
        fp.target(data)
    except fuzz_ttlv.PropertyViolation as exc:
        if known_bug(exc):
            return
        raise


def test_every_seed_request_is_answered_as_every_client(world, seeds):
    """Valid requests of every registered operation: a response, never an internal error."""
    for data in seeds:
        for client in ("alice", "carol", "bob", "root"):
            fp.check_response(world.process(data, client))


def test_seeds_cover_every_registered_operation(world):
    ops = {name.split("-")[0] for name, _ in fuzz_ttlv.seed_requests(world.uids)}
    assert {fuzz_ttlv._op_name(o) for o in fuzz_ttlv.registered_operations()} <= ops


@SETTINGS
@given(st.binary(max_size=512))
def test_random_bytes(data):
    _run(data)


@SETTINGS
@given(st.integers(0, 2**32))
def test_mutated_valid_requests(seed):
    _run(fp.generate(random.Random(seed), fp.seeds()))


@SETTINGS
@given(st.integers(0, 2**32), st.sampled_from(sorted(fuzz_ttlv.registered_operations())))
def test_mutated_payloads_of_each_operation(seed, operation):
    """Per operation: tree mutations inside the Request Payload of its valid requests."""
    rng = random.Random(seed)
    items = [item for name, item in fuzz_ttlv.seed_requests(fp.world().uids)
             if name.startswith(fuzz_ttlv._op_name(operation) + "-")]
    tree = fuzz_ttlv.mutate_focused(rng.choice(items), rng, Tag.REQUEST_PAYLOAD, items)
    data = fuzz_ttlv.encode_or_none(tree)
    if data is not None:
        _run(data)


def test_deep_and_huge_requests_are_answered():
    deep = structure(Tag.REQUEST_PAYLOAD)
    for _ in range(40):
        deep = structure(Tag.ATTRIBUTE, deep)
    for item in (deep, integer(Tag.MAXIMUM_ITEMS, -1), byte_string(Tag.DATA, bytes(900_000))):
        _run(encode(request_message(V1_4, [op(Operation.LOCATE, item)])))
    _run(encode(request_message(V1_4, [op(Operation.QUERY)] * 1001)))


# --------------------------------------------------------------------------- regressions (minimised crashes)


def _fails_cleanly(world, version, operation, *children):
    raw = encode(request_message(version, [op(operation, *children)]))
    result = run_raw(world.processor, raw, "alice").only
    assert result.status == ResultStatus.OPERATION_FAILED
    assert "internal error" not in (result.message or ""), f"{result.reason}: {result.message}"
    assert result.reason != ResultReason.GENERAL_FAILURE


def test_modify_attribute_negative_index(world):
    uid = world.uids.symmetric
    Client(world.processor, V1_4, "alice").add_attribute(uid, "x-neg", text(0, "v")).expect_ok()
    _fails_cleanly(world, V1_4, Operation.MODIFY_ATTRIBUTE, text(Tag.UNIQUE_IDENTIFIER, uid),
                   attr_1x("x-neg", text(0, "w"), -1))


def test_query_function_of_wrong_type(world):
    _fails_cleanly(world, V1_4, Operation.QUERY, byte_string(Tag.QUERY_FUNCTION, b"x"))


def test_create_template_attribute_without_value(world):
    _fails_cleanly(world, V1_4, Operation.CREATE, enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
                   structure(Tag.TEMPLATE_ATTRIBUTE, attr_1x("Cryptographic Algorithm", enumeration(0, 3)),
                             attr_1x("Cryptographic Length")))


@pytest.mark.skipif(Operation.CREATE_KEY_PAIR not in fuzz_ttlv.registered_operations(),
                    reason="CreateKeyPair not registered")
def test_create_key_pair_template_attribute_without_value(world):
    _fails_cleanly(world, V1_4, Operation.CREATE_KEY_PAIR,
                   structure(Tag.COMMON_TEMPLATE_ATTRIBUTE, attr_1x("Cryptographic Algorithm"),
                             attr_1x("Cryptographic Length", integer(0, 256))))


def test_locate_attribute_without_value(world):
    _fails_cleanly(world, V1_4, Operation.LOCATE, attr_1x("Object Type"))


def test_attribute_index_of_wrong_type(world):
    uid = world.uids.symmetric
    attribute = structure(Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_NAME, "x-idx"), text(Tag.ATTRIBUTE_INDEX, "x"),
                          text(Tag.ATTRIBUTE_VALUE, "v"))
    _fails_cleanly(world, V1_4, Operation.MODIFY_ATTRIBUTE, text(Tag.UNIQUE_IDENTIFIER, uid), attribute)


def test_locate_name_value_huge_big_integer(world):
    name = structure(Tag.NAME, big_integer(Tag.NAME_VALUE, 2**16000), enumeration(Tag.NAME_TYPE, 1))
    _fails_cleanly(world, V2_1, Operation.LOCATE, structure(Tag.ATTRIBUTES, name))
