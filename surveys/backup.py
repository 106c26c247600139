"""Backups and restores of the whole database, checked after writing and before restoring.

SQLite: the sqlite3 online backup API copies a consistent snapshot while the app writes,
then `PRAGMA integrity_check` runs on the copy. PostgreSQL: a portable logical dump of our
own (gzip, one JSON line per row, a header with the schema revision and a trailer with row
counts). It restores into any schema or server version and needs no pg_dump binary matching
the server; it is read back in full after writing. Use pg_dump as well for a large site.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import surveys.models  # noqa: F401  (registers the tables)
from surveys.errors import UserFacingError
from surveys.models.types import utcnow

SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
DUMP_FORMAT = "pmh-dump/1"
CONTENT_TABLES = ("facility", "user", "surveyresponse", "auditevent")
_BATCH = 1000


class BackupError(UserFacingError):
    """A backup could not be written or a file cannot be restored; nothing was changed."""

    status = 400


class DatabaseNotEmpty(BackupError):
    """Restoring would overwrite existing data."""

    message_ja = "データベースが空ではありません。上書きする場合は --force を付けてください。"
    message_en = "The database is not empty. Add --force to overwrite it."


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds."""

    path: Path
    kind: str  # "sqlite" or "dump"
    revision: str
    rows: dict[str, int]


def backup(engine: Engine, path: Path) -> BackupInfo:
    """Write a verified backup of the database to `path` (replaced only when complete)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        if engine.dialect.name == "sqlite":
            partial.unlink(missing_ok=True)
            _copy_sqlite(sqlite_file(engine), partial, "DELETE")  # one self-contained file
        else:
            _write_dump(engine, partial)
        info = inspect_backup(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return BackupInfo(path, info.kind, info.revision, info.rows)


def backup_generation(engine: Engine, directory: Path, keep: int) -> tuple[BackupInfo, list[Path]]:
    """Write a timestamped backup into `directory` and delete all but the newest `keep`."""
    if keep < 1:
        raise BackupError("--keep は 1 以上にしてください。", "--keep must be at least 1.")
    suffix = ".sqlite3" if engine.dialect.name == "sqlite" else ".pmhdump.gz"
    stamp = utcnow().strftime("%Y%m%d-%H%M%S-%f")
    info = backup(engine, Path(directory) / f"pmh-{stamp}{suffix}")
    generations = sorted(Path(directory).glob("pmh-*" + suffix))
    pruned = generations[:-keep]
    for old in pruned:
        old.unlink()
    return info, pruned


def sqlite_file(engine: Engine) -> Path:
    """Return the file of a SQLite database."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError(
            "メモリ上のデータベースは対象外です。", "In-memory databases are not supported."
        )
    return Path(database)


def _copy_sqlite(source: Path, target: Path, journal_mode: str) -> None:
    """Copy a SQLite database with the online backup API, then set the copy's journal mode."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        dst.close()
        src.close()


def inspect_backup(path: Path) -> BackupInfo:
    """Read a backup completely and check it; raise BackupError when it is unusable."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError as exc:
        raise _unreadable(path) from exc
    if head.startswith(SQLITE_MAGIC):
        return _inspect_sqlite(path)
    if head.startswith(GZIP_MAGIC):
        return _inspect_dump(path)
    raise _unreadable(path)


def _unreadable(path: Path) -> BackupError:
    """The error for a file that is not one of our backups."""
    return BackupError(
        f"{path.name} はこのシステムのバックアップとして読めません。何も変更していません。",
        f"{path.name} is not a readable backup of this system. Nothing was changed.",
    )


def _inspect_sqlite(path: Path) -> BackupInfo:
    """Run the integrity check on a SQLite backup and read its revision and row counts."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            checks = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            rows = {
                t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in CONTENT_TABLES
            }
        finally:
            conn.close()
    except (sqlite3.Error, TypeError) as exc:
        raise _unreadable(path) from exc
    if checks != ["ok"]:
        raise _unreadable(path)
    return BackupInfo(path, "sqlite", revision, rows)


def _write_dump(engine: Engine, path: Path) -> None:
    """Write every table's rows as JSON lines, in one repeatable-read snapshot."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        revision = _revision(conn)
        counts: dict[str, int] = {}
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.write(json.dumps({"format": DUMP_FORMAT, "revision": revision}) + "\n")
            for table in SQLModel.metadata.sorted_tables:
                counts[table.name] = 0
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                    values = {k: _encode(v) for k, v in row._mapping.items()}
                    out.write(json.dumps({"t": table.name, "r": values}, ensure_ascii=False) + "\n")
                    counts[table.name] += 1
            out.write(json.dumps({"end": counts}) + "\n")


def _encode(value: Any) -> Any:
    """Make a column value JSON-safe (timestamps and dates as ISO strings)."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _dump_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the parsed lines of a dump file."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _inspect_dump(path: Path) -> BackupInfo:
    """Read a whole dump and check its header, tables and row counts."""
    known = {t.name for t in SQLModel.metadata.sorted_tables}
    try:
        lines = _dump_lines(path)
        header = next(lines)
        counts: dict[str, int] = {}
        end = None
        for item in lines:
            if "end" in item:
                end = item["end"]
                break
            if item["t"] not in known:
                raise KeyError(item["t"])
            counts[item["t"]] = counts.get(item["t"], 0) + 1
    except (OSError, EOFError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise _unreadable(path) from exc
    if header.get("format") != DUMP_FORMAT or end is None:
        raise _unreadable(path)
    if {k: v for k, v in end.items() if v} != counts:
        raise _unreadable(path)
    rows = {t: counts.get(t, 0) for t in CONTENT_TABLES}
    return BackupInfo(path, "dump", header["revision"], rows)


def _revision(conn: Connection) -> str:
    """Return the database's schema revision ('' when it has no schema yet)."""
    if not inspect(conn).has_table("alembic_version"):
        return ""
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def is_empty(engine: Engine) -> bool:
    """Tell whether the database holds no facilities, users, answers or audit rows."""
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        return all(
            conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() == 0
            for t in CONTENT_TABLES
            if t in tables
        )


def restore(engine: Engine, path: Path, force: bool = False) -> BackupInfo:
    """Replace the content with a checked backup; refuse a non-empty database unless forced."""
    info = inspect_backup(path)
    if not force and not is_empty(engine):
        raise DatabaseNotEmpty()
    if info.kind == "sqlite":
        _restore_sqlite(engine, info)
    else:
        _restore_dump(engine, info)
    return info


def _restore_sqlite(engine: Engine, info: BackupInfo) -> None:
    """Copy a SQLite backup over the live database file, then migrate it to the current schema."""
    from surveys.database import upgrade

    if engine.dialect.name != "sqlite":
        raise BackupError(
            "SQLite のバックアップは SQLite のデータベースにのみ戻せます。",
            "A SQLite backup can only be restored into a SQLite database.",
        )
    engine.dispose()  # close pooled connections: the copy needs the file to itself
    _copy_sqlite(info.path, sqlite_file(engine), "WAL")
    upgrade(engine.url.render_as_string(hide_password=False))


def _restore_dump(engine: Engine, info: BackupInfo) -> None:
    """Load a logical dump in one transaction: empty every table, insert the rows."""
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with engine.begin() as conn:
        if _revision(conn) != info.revision:
            raise BackupError(
                f"スキーマの版が違います（バックアップ {info.revision}）。"
                "先に pmh db upgrade を実行してください。",
                f"Schema revision differs (backup {info.revision}): run `pmh db upgrade` first.",
            )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL pmh.audit_maintenance = 'on'"))
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
        batch: list[tuple[str, dict]] = []
        for item in _dump_lines(info.path):
            if "t" in item:
                batch.append((item["t"], _decode(tables[item["t"]], item["r"])))
            if len(batch) >= _BATCH or ("end" in item and batch):
                _insert(conn, tables, batch)
                batch = []
        _reset_sequences(conn)


def _insert(conn: Connection, tables: dict, batch: list[tuple[str, dict]]) -> None:
    """Insert rows, grouped by table in the order they came."""
    start = 0
    while start < len(batch):
        name = batch[start][0]
        end = start
        while end < len(batch) and batch[end][0] == name:
            end += 1
        conn.execute(tables[name].insert(), [row for _n, row in batch[start:end]])
        start = end


def _decode(table, values: dict[str, Any]) -> dict[str, Any]:
    """Turn ISO strings back into timestamps and dates for the columns that hold them."""
    decoded = {}
    for name, value in values.items():
        kind = _python_type(table.c[name].type)
        if isinstance(value, str) and kind is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and kind is date:
            value = date.fromisoformat(value)
        decoded[name] = value
    return decoded


def _python_type(column_type) -> type | None:
    """Return a column type's Python type, or None when it has none."""
    column_type = getattr(column_type, "impl_instance", column_type)  # unwrap TypeDecorators
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


def _reset_sequences(conn: Connection) -> None:
    """Move PostgreSQL id sequences past the restored rows."""
    if conn.dialect.name != "postgresql":
        return
    for table in SQLModel.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )
