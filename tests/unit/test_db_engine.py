"""One engine per SQLite database and process, and a private database file from the start."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from ccms_server.db.engine import dispose_engine, make_engine, make_sessions

# Opens and closes the database as an admin command does: if it is the last user it can see,
# SQLite checkpoints and deletes the write-ahead log on close.
_OTHER_PROCESS = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
    " c.execute('SELECT count(*) FROM sqlite_master').fetchone(); c.close()"
)


def test_one_engine_per_database(tmp_path):
    database = tmp_path / "ccms.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        assert make_engine(f"sqlite:///{tmp_path / '.' / 'ccms.sqlite3'}") is engine
        assert make_sessions(f"sqlite:///{database}").kw["bind"] is engine
        assert make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}") is not engine
    finally:
        dispose_engine(engine)
        dispose_engine(make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}"))
    replacement = make_engine(f"sqlite:///{database}")
    assert replacement is not engine
    dispose_engine(replacement)


def test_new_database_and_its_log_are_private(tmp_path):
    database = tmp_path / "ccms.sqlite3"
    old_umask = os.umask(0o022)
    try:
        sessions = make_sessions(f"sqlite:///{database}")
        with sessions.begin() as session:
            session.execute(text("CREATE TABLE probe (x INTEGER)"))
    finally:
        os.umask(old_umask)
    try:
        for path in (database, Path(f"{database}-wal")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        dispose_engine(sessions.kw["bind"])


def test_making_sessions_again_keeps_the_live_connections_locked(tmp_path):
    """A second `make_sessions` beside a live connection must not drop its POSIX locks."""
    database = tmp_path / "ccms.sqlite3"
    url = f"sqlite:///{database}"
    sessions = make_sessions(url)
    try:
        with sessions.begin() as session:
            session.execute(text("CREATE TABLE probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
        wal = Path(f"{database}-wal")
        assert wal.exists()
        inode = wal.stat().st_ino

        make_sessions(url)  # as the demo does: the admin's sessions, then the server's
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(database)], check=True)

        assert wal.exists(), "another process deleted the log under a live connection"
        assert wal.stat().st_ino == inode
        with sessions.begin() as session:
            session.execute(text("INSERT INTO probe VALUES (2)"))
        seen = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
                ".execute('SELECT count(*) FROM probe').fetchone()[0])",
                str(database),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert seen.stdout.strip() == "2"
    finally:
        dispose_engine(sessions.kw["bind"])
