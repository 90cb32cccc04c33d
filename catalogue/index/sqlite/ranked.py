"""Full-text hits of datasets in relevance order, kept for the searches that follow.

Ranking every match of a common word by BM25 costs SQLite about 1.5 µs per match — 50 ms for a
word in a third of 100,000 datasets — and a portal visitor who pages, or narrows by a facet,
asks for the same ranking again. The ranked row ids of recent texts are kept per index
generation (datasets change only with it), so a repeated text, a next page or a facet filter on
it costs a lookup and an array filter.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

import numpy as np

# texts kept at once (an entry is 8 bytes per match), least recently used dropped first
MAX_TEXTS = 16


class RankedTexts:
    """Row ids matching an FTS5 expression, best first (ties by row id)."""

    def __init__(self, max_texts: int = MAX_TEXTS) -> None:
        self.max_texts = max_texts
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._generation: int | None = None
        self._lock = threading.Lock()

    def get(self, conn: sqlite3.Connection, generation: int, expression: str) -> np.ndarray:
        with self._lock:
            if generation != self._generation:
                self._kept.clear()
                self._generation = generation
            kept = self._kept.get(expression)
            if kept is not None:
                self._kept.move_to_end(expression)
                return kept
        rows = conn.execute(
            "SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH ? ORDER BY rank, rowid",
            (expression,),
        ).fetchall()
        ranked = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        with self._lock:
            if generation == self._generation:
                self._kept[expression] = ranked
                while len(self._kept) > self.max_texts:
                    self._kept.popitem(last=False)
        return ranked
