"""Engine creation and schema migrations (Alembic), independent of Flask."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30
# A PostgreSQL server that does not answer (a dropped route) fails a connection after this,
# instead of holding a request, or a worker's warm-up, for as long as the kernel retries.
PG_CONNECT_TIMEOUT_S = 10
_PENDING = "pmh_begin_pending"
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and write-locking BEGIN."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_before_execute)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        return engine
    bounded = url.startswith("postgresql") and "connect_timeout=" not in url
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S} if bounded else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Turn on WAL, foreign keys and a busy timeout; let us issue BEGIN ourselves."""
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN would be DEFERRED
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()


# Why a lazy BEGIN IMMEDIATE: a DEFERRED transaction that reads and then writes fails at once
# with SQLITE_BUSY ("database is locked", no busy wait) when another connection committed in
# between. So reads before a transaction's first write run on their own (like PostgreSQL's
# READ COMMITTED), and the first write opens BEGIN IMMEDIATE, which waits for the write lock
# under busy_timeout. Read-only transactions never take the write lock.


def _sqlite_begin(conn: Connection) -> None:
    """Defer the real BEGIN until the transaction's first write."""
    conn.info[_PENDING] = True


def _sqlite_before_execute(conn, cursor, statement, _params, _context, _executemany) -> None:
    """Open BEGIN IMMEDIATE just before the first statement that is not a read."""
    if conn.info.get(_PENDING) and not statement.lstrip().upper().startswith(_READS):
        _begin_immediate(conn, cursor.connection)


def _sqlite_end(conn: Connection) -> None:
    """Forget a BEGIN that was never needed."""
    conn.info[_PENDING] = False


def _begin_immediate(conn: Connection, dbapi_connection) -> None:
    """Start the real transaction, waiting for the write lock."""
    conn.info[_PENDING] = False
    dbapi_connection.execute("BEGIN IMMEDIATE")


def hold_write_lock(conn: Connection) -> None:
    """Make sure this connection's transaction holds the database write lock (SQLite only).

    Later reads in the transaction then see the latest committed data and nobody else can
    write until it ends. PostgreSQL callers use their own locks.
    """
    if conn.dialect.name == "sqlite" and conn.info.get(_PENDING):
        _begin_immediate(conn, conn.connection.driver_connection)


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to the given revision."""
    command.upgrade(alembic_config(url), revision)
