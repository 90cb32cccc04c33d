"""Kept hits shared by the processes that serve one index file.

Each server process keeps the hits of its recent texts (:mod:`text_hits`), but a common word's
first search costs every process the same 30–60 ms (FTS5 ranking 30,000 matches by BM25). The
hits that took long to find are therefore also written to a small SQLite file beside the index
(``<index>-hits``); another process finds them there in well under a millisecond.

Entries are keyed by the index file's instance (a random name in its ``meta`` table: a new file
starts counting generations from 0 again), the index generation and the key of the search.
Entries of older generations are dropped when a newer one is written, and at most
``MAX_ENTRIES`` are kept. It is a cache: a file that cannot be written, a busy lock or a broken
entry means the hits are computed as without it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("catalogue.index")

MAX_ENTRIES = 256
# only searches that took at least this long are shared (a lookup of 30,000 hits: 0.06 ms)
MIN_SECONDS = 0.005

_DDL = """
CREATE TABLE IF NOT EXISTS hits (
    instance TEXT NOT NULL,
    generation INTEGER NOT NULL,
    key TEXT NOT NULL,
    rids BLOB NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (instance, key)
)
"""


class SharedHits:
    """Row-id arrays in a file shared by the serving processes of one index."""

    def __init__(self, index_path: Path, instance: str, min_seconds: float = MIN_SECONDS) -> None:
        self.path = index_path.with_name(index_path.name + "-hits")
        self.instance = instance
        self.min_seconds = min_seconds
        self._local = threading.local()
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=0.05
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=OFF")  # a cache: losing it loses nothing
                conn.execute(_DDL)
            except sqlite3.Error as exc:
                log.info("kept hits not shared", extra={"path": str(self.path), "error": str(exc)})
                self._broken = True
                return None
            self._local.conn = conn
        return conn

    def get(self, generation: int, key: str) -> np.ndarray | None:
        conn = self._conn()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT rids FROM hits WHERE instance = ? AND key = ? AND generation = ?",
                (self.instance, key, generation),
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or len(row[0]) % 8:
            return None
        return np.frombuffer(row[0], dtype="<i8").astype(np.int64)

    def put(self, generation: int, key: str, hits: np.ndarray) -> None:
        conn = self._conn()
        if conn is None:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "DELETE FROM hits WHERE instance != ? OR generation < ?",
                    (self.instance, generation),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO hits VALUES (?, ?, ?, ?, ?)",
                    (self.instance, generation, key, hits.astype("<i8").tobytes(), time.time()),
                )
                conn.execute(
                    "DELETE FROM hits WHERE rowid NOT IN "
                    "(SELECT rowid FROM hits ORDER BY used DESC LIMIT ?)",
                    (MAX_ENTRIES,),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            return  # busy or unwritable: the next search computes again
