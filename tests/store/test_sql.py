"""SQLStore on a SQLite file: CRUD, optimistic concurrency, Locate queries, durability, pragmas."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from kmipd.store.interface import (
    AttributeFilter,
    ConcurrentUpdate,
    LocateQuery,
    StoredAttribute,
    StoredObject,
    iter_names,
)
from kmipd.store.sql import SQLStore


def _obj(uid: str, owner: str = "alice", object_type: int = 2, state: int = 1, body: bytes | None = b"body",
         attrs: list[StoredAttribute] | None = None) -> StoredObject:
    return StoredObject(uid=uid, object_type=object_type, owner=owner, state=state, body=body,
                        attributes=attrs if attrs is not None else [
                            StoredAttribute("Name", b"\x01n1", "n1"),
                            StoredAttribute("Object Group", b"\x02g", "g"),
                            StoredAttribute("Name", b"\x01n2", "n2"),
                            StoredAttribute("Initial Date", b"\x03", "100", 100),
                        ])


def _insert(store: SQLStore, *objs: StoredObject) -> None:
    with store.transaction() as tx:
        for o in objs:
            tx.insert(o)


def _get(store: SQLStore, uid: str) -> StoredObject | None:
    with store.transaction(write=False) as tx:
        return tx.get(uid)


def test_insert_and_get(store):
    original = _obj("u1", body=b"\x00\xff" * 100)
    _insert(store, original)
    got = _get(store, "u1")
    assert got is not None
    assert (got.uid, got.owner, got.object_type, got.state, got.body, got.revision) == (
        "u1", "alice", 2, 1, b"\x00\xff" * 100, 0)
    assert got.attributes == original.attributes, "attributes round-trip in order, values and keys intact"
    assert [a.search for a in got.values("Name")] == ["n1", "n2"]
    assert list(iter_names(got)) == ["Name", "Object Group", "Initial Date"]


def test_get_missing(store):
    assert _get(store, "nope") is None


def test_insert_object_without_body_or_attributes(store):
    _insert(store, _obj("empty", body=None, attrs=[]))
    got = _get(store, "empty")
    assert got.body is None and got.attributes == []


def test_update_replaces_state_body_attributes_and_bumps_revision(store):
    _insert(store, _obj("u1"))
    with store.transaction() as tx:
        obj = tx.get("u1", for_update=True)
        obj.state = 5
        obj.body = None
        obj.attributes = [StoredAttribute("State", b"\x05", "5", 5)]
        tx.update(obj)
        assert obj.revision == 1
    got = _get(store, "u1")
    assert (got.state, got.body, got.revision) == (5, None, 1)
    assert got.attributes == [StoredAttribute("State", b"\x05", "5", 5)]


def test_stale_revision_raises_concurrent_update(store):
    _insert(store, _obj("u1"))
    stale = _get(store, "u1")
    fresh = _get(store, "u1")
    fresh.state = 2
    with store.transaction() as tx:
        tx.update(fresh)
    stale.state = 3
    with pytest.raises(ConcurrentUpdate), store.transaction() as tx:
        tx.update(stale)
    got = _get(store, "u1")
    assert (got.state, got.revision) == (2, 1), "the losing update changed nothing"
    assert got.attributes == _obj("u1").attributes


def test_update_of_missing_object_raises(store):
    with pytest.raises(ConcurrentUpdate), store.transaction() as tx:
        tx.update(_obj("ghost"))


def test_exception_rolls_back(store):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.transaction() as tx:
        tx.insert(_obj("u1"))
        raise Boom
    assert _get(store, "u1") is None


def test_duplicate_uid_is_refused(store):
    _insert(store, _obj("u1"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        _insert(store, _obj("u1", owner="bob"))
    assert _get(store, "u1").owner == "alice"


def test_durable_across_reopening(db_path):
    first = SQLStore(f"sqlite:///{db_path}")
    first.create_schema()
    _insert(first, _obj("u1"), _obj("u2", owner="bob"))
    with first.transaction() as tx:
        o = tx.get("u2")
        o.state = 3
        tx.update(o)
    first.close()
    second = SQLStore(f"sqlite:///{db_path}")
    second.create_schema()  # idempotent: must not wipe anything
    try:
        assert _get(second, "u1").attributes == _obj("u1").attributes
        assert (_get(second, "u2").state, _get(second, "u2").revision) == (3, 1)
        with second.transaction(write=False) as tx:
            assert [r.uid for r in tx.locate(LocateQuery(owners=None))] == ["u1", "u2"]
    finally:
        second.close()
    # And visible to a plain sqlite3 connection: the commit reached the file (WAL included).
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("select count(*) from objects").fetchone()[0] == 2


def test_wal_mode_and_full_sync(store, db_path):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal", "WAL is persistent in the file"


# ------------------------------------------------------------------------- locate


@pytest.fixture
def populated(store):
    attrs = lambda group, date: [  # noqa: E731
        StoredAttribute("Object Group", b"g", group),
        StoredAttribute("Initial Date", b"d", str(date), date),
    ]
    _insert(
        store,
        _obj("a1", owner="alice", object_type=2, state=1, attrs=attrs("g1", 100)),
        _obj("b1", owner="bob", object_type=2, state=2, attrs=attrs("g1", 200)),
        _obj("a2", owner="alice", object_type=7, state=2, attrs=attrs("g2", 300)),
        _obj("c1", owner="carol", object_type=2, state=1,
             attrs=[*attrs("g1", 400), StoredAttribute("Activation Date", b"x", "50", 50),
                    StoredAttribute("Deactivation Date", b"y", "60", 60)]),
    )
    return store


def _locate(store: SQLStore, **kwargs) -> list[str]:
    with store.transaction(write=False) as tx:
        return [r.uid for r in tx.locate(LocateQuery(**kwargs))]


def test_locate_by_owner(populated):
    assert _locate(populated, owners=frozenset({"alice"})) == ["a1", "a2"]
    assert _locate(populated, owners=frozenset({"alice", "carol"})) == ["a1", "a2", "c1"]
    assert _locate(populated, owners=frozenset()) == []
    assert _locate(populated, owners=None) == ["a1", "b1", "a2", "c1"]


def test_locate_by_type_and_state(populated):
    assert _locate(populated, owners=None, object_type=2) == ["a1", "b1", "c1"]
    assert _locate(populated, owners=None, state=2) == ["b1", "a2"]
    assert _locate(populated, owners=None, object_type=2, state=1) == ["a1", "c1"]


def test_locate_by_search_and_range(populated):
    g1 = AttributeFilter("Object Group", search="g1")
    assert _locate(populated, owners=None, filters=(g1,)) == ["a1", "b1", "c1"]
    rng = AttributeFilter("Initial Date", low=150, high=400)
    assert _locate(populated, owners=None, filters=(rng,)) == ["b1", "a2", "c1"]
    assert _locate(populated, owners=None, filters=(g1, rng)) == ["b1", "c1"]
    assert _locate(populated, owners=None, filters=(AttributeFilter("Object Group", search="nope"),)) == []
    # The name matters: same search key under another attribute does not match.
    assert _locate(populated, owners=None, filters=(AttributeFilter("Name", search="g1"),)) == []


def test_locate_paging(populated):
    assert _locate(populated, owners=None, offset=1, limit=2) == ["b1", "a2"]
    assert _locate(populated, owners=None, offset=3) == ["c1"]
    assert _locate(populated, owners=None, limit=0) == []


def test_locate_rows_carry_state_dates(populated):
    with populated.transaction(write=False) as tx:
        rows = {r.uid: r for r in tx.locate(LocateQuery(owners=None))}
    assert (rows["c1"].state, rows["c1"].activation_date, rows["c1"].deactivation_date) == (1, 50, 60)
    assert (rows["a1"].activation_date, rows["a1"].deactivation_date) == (None, None)


def test_order_is_insertion_order_not_uid_order(store):
    _insert(store, _obj("zz"), _obj("aa"), _obj("mm"))
    assert _locate(store, owners=None) == ["zz", "aa", "mm"]


def test_update_keeps_locate_order(store):
    _insert(store, _obj("first"), _obj("second"))
    with store.transaction() as tx:
        o = tx.get("first")
        o.state = 2
        tx.update(o)
    assert _locate(store, owners=None) == ["first", "second"]


def test_concurrent_writers_serialise(db_path):
    """Two stores on one file (two server processes): increments through read-modify-write never get lost."""
    stores = [SQLStore(f"sqlite:///{db_path}") for _ in range(2)]
    stores[0].create_schema()
    _insert(stores[0], _obj("counter", state=0, attrs=[]))
    errors: list[BaseException] = []

    def bump(s: SQLStore) -> None:
        try:
            for _ in range(15):
                for _attempt in range(20):
                    try:
                        with s.transaction() as tx:
                            o = tx.get("counter", for_update=True)
                            o.state += 1
                            tx.update(o)
                        break
                    except ConcurrentUpdate:
                        continue
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        assert errors == []
        got = _get(stores[0], "counter")
        assert got.state == 30
        assert got.revision == 30
    finally:
        for s in stores:
            s.close()


def test_path_fixture_is_a_file(db_path: Path, store):
    _insert(store, _obj("u"))
    assert db_path.is_file()
