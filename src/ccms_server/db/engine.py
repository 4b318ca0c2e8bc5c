"""Engines and session factories; SQLite gets WAL, a busy timeout and IMMEDIATE transactions.

A process has one engine per database. SQLite's locks are POSIX record locks: they belong
to the process, and closing *any* descriptor of the file drops all of them. A second engine,
or opening the file to set its mode, beside live connections would silently unlock the
server; the next admin command would then believe it was the last user and delete the
write-ahead log under it, and the server's later writes would be lost.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from .models import Base

_engines: dict[str, Engine] = {}
_guard = threading.Lock()


def make_engine(url: str) -> Engine:
    """The process's engine for URL, made on first use and shared after that."""
    key = _key(url)
    with _guard:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _new_engine(url)
        return engine


def dispose_engine(engine: Engine) -> None:
    """Close the engine's pooled connections and forget it; a later call makes a new one."""
    with _guard:
        for key in [key for key, known in _engines.items() if known is engine]:
            del _engines[key]
    engine.dispose()


def _key(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parsed = parsed.set(database=os.path.realpath(parsed.database or ""))
    return parsed.render_as_string(hide_password=False)


def _new_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        _create_private_file(make_url(url).database)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return engine


def _create_private_file(database: str | None) -> None:
    """The database holds PIN hashes: create it 0600 before SQLite makes it 0644.

    Only a missing file is created (O_EXCL), so no descriptor of a database that is in use,
    in this process or another, is ever opened and closed here.
    """
    if not database or database == ":memory:":
        return
    try:
        fd = os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, issue BEGIN, so that writers take the lock
        # up front instead of failing later with "database is locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
