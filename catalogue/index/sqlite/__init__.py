"""The embedded default index: one SQLite file (WAL, FTS5, R*Tree)."""

from catalogue.index.sqlite.store import SQLiteIndex

__all__ = ["SQLiteIndex"]
