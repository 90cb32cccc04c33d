"""What harvests remember between runs, per source: when the last successful run started, and
what an incremental harvester keeps (a cursor, running aggregates …).

One small SQLite file beside the run reports, so that it survives restarts and works with any
index backend. A run's changes to its source's state are one transaction: committed when the
run succeeds, rolled back when it fails, so the next run starts from the last good state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from catalogue.errors import IndexBackendError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    last_success TEXT,
    next_since TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
"""

STATE_FILE = "harvest-state.sqlite"


class HarvestStateStore:
    """The harvest state of every source, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise IndexBackendError(f"cannot open the harvest state at {self.path}: {exc}") from exc

    def since(self, source_name: str) -> str | None:
        """Where the next incremental run of the source starts (None: it has not run yet)."""
        row = self._conn.execute(
            "SELECT coalesce(next_since, last_success) FROM sources WHERE name = ?",
            (source_name,),
        ).fetchone()
        return row[0] if row else None

    def last_success(self, source_name: str) -> str | None:
        """When the source's last successful run started."""
        row = self._conn.execute(
            "SELECT last_success FROM sources WHERE name = ?", (source_name,)
        ).fetchone()
        return row[0] if row else None

    def begin(self, source_name: str, started: str, *, full: bool) -> SourceState:
        """Open the source's state for one run starting at ``started`` (ISO 8601 UTC).

        ``full``: the run lists everything; what the harvester kept is dropped.
        """
        since = None if full else self.since(source_name)
        self._conn.execute("BEGIN IMMEDIATE")
        if since is None:
            self._conn.execute("DELETE FROM entries WHERE source = ?", (source_name,))
        return SourceState(self._conn, source_name, since, started)

    def close(self) -> None:
        self._conn.close()


class SourceState:
    """One source's state during a run. Reads see the run's own writes."""

    def __init__(self, conn: sqlite3.Connection, source: str, since: str | None, started: str):
        self._conn = conn
        self.source = source
        self.since = since
        """When the last successful run started (None: list everything)."""
        self.started = started
        """When this run started."""
        self.next_since: str | None = None
        """Where the next run should start, if not at ``started`` (e.g. the server's own clock)."""
        self._open = True

    @property
    def full(self) -> bool:
        return self.since is None

    def get(self, key: str) -> Any:
        row = self._conn.execute(
            "SELECT value FROM entries WHERE source = ? AND key = ?", (self.source, key)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO entries(source, key, value) VALUES (?, ?, ?)",
            (self.source, key, orjson.dumps(value)),
        )

    def delete(self, key: str) -> None:
        self._conn.execute("DELETE FROM entries WHERE source = ? AND key = ?", (self.source, key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        rows = self._conn.execute(
            "SELECT key FROM entries WHERE source = ? AND key >= ? AND key < ? ORDER BY key",
            (self.source, prefix, prefix + "\U0010ffff"),
        ).fetchall()
        return (r[0] for r in rows)

    def commit(self) -> None:
        """Keep the run's state and record it as the source's last successful run."""
        if not self._open:
            return
        self._conn.execute(
            "INSERT OR REPLACE INTO sources(name, last_success, next_since) VALUES (?, ?, ?)",
            (self.source, self.started, self.next_since),
        )
        self._conn.execute("COMMIT")
        self._open = False

    def rollback(self) -> None:
        """Forget the run's changes."""
        if self._open:
            self._conn.execute("ROLLBACK")
            self._open = False
