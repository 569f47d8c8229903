"""SQLAlchemy implementation of the store: SQLite by default, any SQLAlchemy URL otherwise.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a commit is on disk
before the server answers, and write transactions start with ``BEGIN
IMMEDIATE`` so that two writers (threads or server processes sharing the file)
queue on the database lock instead of failing half-way with a deadlock.
Every object row carries a revision number; updates are conditional on it, so
a lost update is detected even where row locks are not available.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from kmipd.store.interface import (
    ConcurrentUpdate,
    LocatedRow,
    LocateQuery,
    StoredAttribute,
    StoredObject,
    StoreUnavailable,
)

metadata = MetaData()

objects = Table(
    "objects",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("owner", String(255), nullable=False),
    Column("object_type", Integer, nullable=False),
    Column("state", Integer, nullable=False),
    Column("body", LargeBinary, nullable=True),
    Column("revision", Integer, nullable=False, default=0),
    Index("ix_objects_owner_type", "owner", "object_type"),
)

attributes = Table(
    "attributes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("object_seq", Integer, ForeignKey("objects.seq", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("search", String(1024), nullable=False),
    Column("number", BigInteger, nullable=True),
    Index("ix_attributes_object", "object_seq"),
    Index("ix_attributes_search", "name", "search"),
    Index("ix_attributes_number", "name", "number"),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that BEGIN is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class SQLStore:
    """The store over a SQLAlchemy engine."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            kwargs["pool_size"] = pool_size
        else:
            kwargs["pool_size"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", self._sqlite_begin)
        self._write_flag: dict[int, bool] = {}

    def _sqlite_begin(self, conn: Connection) -> None:
        # Straight to the driver: this runs for every request, and the statement needs no SQLAlchemy.
        mode = "IMMEDIATE" if conn.info.get("kmipd_write") else "DEFERRED"
        conn.connection.dbapi_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]

    def create_schema(self) -> None:
        """Create the tables if they do not exist."""
        metadata.create_all(self.engine)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[SQLTransaction]:
        """A unit of work that commits on normal exit and rolls back on an exception."""
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from None
        try:
            conn.info["kmipd_write"] = write
            with conn.begin():
                yield SQLTransaction(conn)
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from None
        finally:
            conn.close()

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()


class SQLTransaction:
    """The operations of one unit of work on one connection."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, uid: str, *, for_update: bool = False) -> StoredObject | None:
        """Load the object and its attributes.

        This is the hottest query of the server (every Get, every change), so it runs as two
        plain indexed statements on the transaction's own DBAPI connection: SQLAlchemy's
        statement execution costs several times the query itself here.
        """
        param = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        lock = " FOR UPDATE" if for_update and self.conn.dialect.name != "sqlite" else ""
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                f"SELECT seq, uid, object_type, owner, state, body, revision FROM objects WHERE uid = {param}{lock}",
                (uid,),
            )
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(
                f"SELECT name, value, search, number FROM attributes WHERE object_seq = {param} ORDER BY position",
                (row[0],),
            )
            attrs = [StoredAttribute(a[0], bytes(a[1]), a[2], a[3]) for a in cursor.fetchall()]
        finally:
            cursor.close()
        return StoredObject(
            uid=row[1],
            object_type=row[2],
            owner=row[3],
            state=row[4],
            body=None if row[5] is None else bytes(row[5]),
            attributes=attrs,
            revision=row[6],
        )

    def insert(self, obj: StoredObject) -> None:
        """Insert a new object with its attributes."""
        result = self.conn.execute(
            insert(objects).values(
                uid=obj.uid,
                owner=obj.owner,
                object_type=obj.object_type,
                state=obj.state,
                body=obj.body,
                revision=0,
            )
        )
        key = result.inserted_primary_key
        if key is None:
            raise RuntimeError("the database returned no key for the new object")
        self._write_attributes(int(key[0]), obj.attributes)

    def update(self, obj: StoredObject) -> None:
        """Write back a loaded object if nobody changed it meanwhile."""
        result = self.conn.execute(
            update(objects)
            .where(and_(objects.c.uid == obj.uid, objects.c.revision == obj.revision))
            .values(state=obj.state, body=obj.body, revision=obj.revision + 1)
            .returning(objects.c.seq)
        )
        row = result.first()
        if row is None:
            raise ConcurrentUpdate(obj.uid)
        obj.revision += 1
        self.conn.execute(delete(attributes).where(attributes.c.object_seq == row.seq))
        self._write_attributes(row.seq, obj.attributes)

    def _write_attributes(self, seq: int, attrs: list[StoredAttribute]) -> None:
        if not attrs:
            return
        self.conn.execute(
            insert(attributes),
            [
                {
                    "object_seq": seq,
                    "position": i,
                    "name": a.name,
                    "value": a.value,
                    "search": a.search[:1024],
                    "number": a.number,
                }
                for i, a in enumerate(attrs)
            ],
        )

    def locate(self, query: LocateQuery) -> list[LocatedRow]:
        """Matching objects in creation order, with the dates that drive their state."""
        statement = select(
            objects.c.uid, objects.c.state, _date_of("Activation Date"), _date_of("Deactivation Date")
        ).order_by(objects.c.seq)
        if query.owners is not None:
            statement = statement.where(objects.c.owner.in_(sorted(query.owners)))
        if query.object_type is not None:
            statement = statement.where(objects.c.object_type == query.object_type)
        if query.state is not None:
            statement = statement.where(objects.c.state == query.state)
        for flt in query.filters:
            conditions = [attributes.c.object_seq == objects.c.seq, attributes.c.name == flt.name]
            if flt.search is not None:
                conditions.append(attributes.c.search == flt.search[:1024])
            if flt.low is not None:
                conditions.append(attributes.c.number >= flt.low)
            if flt.high is not None:
                conditions.append(attributes.c.number <= flt.high)
            statement = statement.where(exists().where(and_(*conditions)))
        if query.offset:
            statement = statement.offset(query.offset)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        return [LocatedRow(row[0], row[1], row[2], row[3]) for row in self.conn.execute(statement)]


def _date_of(name: str) -> Any:
    """A scalar subquery: the numeric value of attribute ``name`` of the object in the outer query."""
    inner = attributes.alias()
    return (
        select(inner.c.number)
        .where(and_(inner.c.object_seq == objects.c.seq, inner.c.name == name))
        .limit(1)
        .scalar_subquery()
    )
