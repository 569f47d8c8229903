"""Access control of every operation kmipd implements, on every object type it stores.

Each cell runs one operation (a valid request built by fuzz/fuzz_ttlv.payloads) on a fresh object
that "alice" registered, as:

* owner  -- alice herself;
* group  -- carol, who shares group "team" with alice (AccessPolicy(groups=...));
* admin  -- root (AccessPolicy(admins=...));
* other  -- bob, unrelated.

owner, group and admin must never be told the object is missing (Item/Object Not Found); they may
get operation-specific refusals (wrong state, usage mask...). bob must get exactly the Result Status,
Result Reason and Result Message (with the uid replaced) that the same request naming a random
non-existent Unique Identifier gets. Operations that name no object must not answer bob differently
from alice, and Locate by alice's object attributes finds nothing for bob.

Run with -s to print the matrix: one row per operation, per object type the owner/group/admin/other
outcomes ("." success, a number: the Result Reason).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from kmipd.operations.registry import default_registry
from kmipd.protocol.enums import Operation, ResultReason, ResultStatus, Tag
from kmipd.ttlv.item import Item, enumeration
from tests.kmip_helpers import V1_4, V2_1, Client, Op, Result, Version, av, name_value

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
import fuzz_ttlv

ROLES = {"owner": "alice", "group": "carol", "admin": "root"}
STRANGER = "bob"
NOT_FOUND = {ResultReason.ITEM_NOT_FOUND, ResultReason.OBJECT_NOT_FOUND}
BODIES = fuzz_ttlv.object_bodies()
REGISTRY = default_registry()


def _uids(uid: str) -> fuzz_ttlv.Uids:
    return fuzz_ttlv.Uids(uid, uid, uid, uid, uid, uid)


def _children(operation: int, version: Version, uid: str) -> tuple[Item, ...] | None:
    """The first payload variant naming ``uid``, or None when the operation takes no object."""
    for variant in fuzz_ttlv.payloads(operation, version, _uids(uid)):
        kids = tuple(c for c in variant if c is not None)
        if any(c.tag == Tag.UNIQUE_IDENTIFIER and c.value == uid for c in kids):
            return kids
    return None


def _operations(version: Version) -> list[int]:
    return [o for o, h in sorted(REGISTRY.items()) if version >= tuple(h.since)]


def _call(client: Client, operation: int, children: tuple[Item, ...]) -> Result:
    return client.batch([Op(operation, children)]).only


def _cell(result: Result) -> str:
    return "." if result.status == ResultStatus.SUCCESS else str(result.reason)


def _name(operation: int) -> str:
    try:
        return Operation(operation).name
    except ValueError:
        return str(operation)


def _shape(result: Result, uid: str) -> tuple[int, int | None, str | None]:
    return result.status, result.reason, None if result.message is None else result.message.replace(uid, "<uid>")


MATRIX: dict[tuple[Version, str, str], str] = {}


@pytest.mark.parametrize("version", [V1_4, V2_1], ids=["1.4", "2.1"])
@pytest.mark.parametrize(("type_name", "object_type", "body"), BODIES, ids=[b[0] for b in BODIES])
def test_object_operations(processor, version, type_name, object_type, body):
    owner = Client(processor, version, "alice")
    problems: list[str] = []
    for operation in _operations(version):
        if _children(operation, version, "probe") is None:
            continue
        cells = []
        for role, who in [*ROLES.items(), ("other", STRANGER)]:
            uid = owner.register(object_type, body).expect_ok().uid
            children = _children(operation, version, uid)
            assert children is not None
            result = _call(owner.as_(name=who), operation, children)
            cells.append(_cell(result))
            if role != "other":
                if result.reason in NOT_FOUND:
                    problems.append(f"{_name(operation)} as {role}: {result.reason} {result.message}")
                continue
            ghost = str(uuid.uuid4())
            baseline = _call(owner.as_(name=STRANGER), operation, _children(operation, version, ghost) or ())
            if _shape(result, uid) != _shape(baseline, ghost):
                problems.append(f"{_name(operation)} as other: {_shape(result, uid)} but for a missing object "
                                f"{_shape(baseline, ghost)}")
        MATRIX[(version, type_name, _name(operation))] = " ".join(f"{c:>2}" for c in cells)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("version", [V1_4, V2_1], ids=["1.4", "2.1"])
def test_operations_without_object_do_not_leak(processor, version):
    owner = Client(processor, version, "alice")
    stranger = owner.as_(name=STRANGER)
    name = f"secret-{uuid.uuid4()}"
    uids = [owner.register(t, b, attrs=[("Name", name_value(f"{name}-{n}"))]).expect_ok().uid
            for n, (_, t, b) in enumerate(BODIES)]
    problems = []
    for operation in _operations(version):
        if _children(operation, version, "probe") is not None:
            continue
        for children in fuzz_ttlv.payloads(operation, version, _uids(uids[0])):
            kids = tuple(c for c in children if c is not None)
            mine = _call(owner, operation, kids)
            theirs = _call(stranger, operation, kids)
            MATRIX[(version, "-", _name(operation))] = f"{_cell(mine):>2} {_cell(theirs):>2}"
            if operation in (Operation.LOCATE,):
                continue
            if (mine.status, mine.reason) != (theirs.status, theirs.reason):
                problems.append(f"{_name(operation)}: alice {_cell(mine)}, bob {_cell(theirs)}")
            elif (operation in (Operation.QUERY, Operation.DISCOVER_VERSIONS) and mine.payload != theirs.payload):
                problems.append(f"{_name(operation)} answers bob differently from alice")
    for n, (type_name, object_type, _) in enumerate(BODIES):
        attrs = [("Name", name_value(f"{name}-{n}")),
                 ("Object Type", av("Object Type", enumeration(0, object_type)))]
        assert owner.locate_uids(attrs) == [uids[n]], type_name
        for who in ("carol", "root"):
            assert owner.as_(name=who).locate_uids(attrs) == [uids[n]], (type_name, who)
        if stranger.locate_uids(attrs):
            problems.append(f"Locate by alice's {type_name} attributes finds it for bob")
        if set(stranger.locate_uids()) & set(uids):
            problems.append("an unfiltered Locate by bob lists alice's objects")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module", autouse=True)
def _print_matrix():
    yield
    if not MATRIX:
        return
    types = [*(b[0] for b in BODIES), "-"]
    for version in (V1_4, V2_1):
        rows = sorted({op for (v, _, op) in MATRIX if v == version})
        print(f"\nKMIP {version[0]}.{version[1]} access matrix: per object type owner/group/admin/other "
              f"('.' success, else Result Reason); '-' = no object: alice bob")
        print(f"{'operation':<20}" + "".join(f"{t[:12]:<13}" for t in types))
        for op in rows:
            print(f"{op:<20}" + "".join(f"{MATRIX.get((version, t, op), ''):<13}" for t in types))
