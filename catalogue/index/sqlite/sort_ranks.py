"""Each dataset's place in the order of an indexed sort key, held in memory per generation.

A page of all datasets in such an order (a DCAT or CKAN page by id, newest first) is a slice
of the order, and their number its length: no count and no OFFSET walk over the index.

A filter with facets has read all its hits already (their row ids are the facets' mask). Its
page in another order — CKAN's newest first over a group of 12,500 datasets — then needs no
second SQL pass over the hits: each hit's place in the key's order is looked up in an array,
and the page is the hits with the smallest (or largest) places. The array is one walk of the
key's index per index generation (datasets change only with it).
"""

from __future__ import annotations

import sqlite3

import numpy as np

from catalogue.index.sqlite.per_generation import PerGeneration
from catalogue.index.sqlite.text_hits import rowid_array


class SortRanks:
    """The datasets in the ascending order of indexed sort keys (ties by row id), and each
    dataset's place in that order."""

    # the sort keys with an index (a walk of it per generation); the place of ``d.id``'s order
    # also counts the datasets
    KEYS = frozenset({"d.id", "d.modified", "d.title"})

    def __init__(self) -> None:
        self._held: PerGeneration[str, tuple[np.ndarray, np.ndarray]] = PerGeneration()

    def order(self, conn: sqlite3.Connection, generation: int, expr: str) -> np.ndarray:
        """The row ids of every dataset in ``ORDER BY expr, rid``."""
        return self._get(conn, generation, expr)[0]

    def ranks(self, conn: sqlite3.Connection, generation: int, expr: str) -> np.ndarray:
        """Per row id its place in ``ORDER BY expr, rid`` (-1: no dataset)."""
        return self._get(conn, generation, expr)[1]

    def _get(
        self, conn: sqlite3.Connection, generation: int, expr: str
    ) -> tuple[np.ndarray, np.ndarray]:
        assert expr in self.KEYS

        def read() -> tuple[np.ndarray, np.ndarray]:
            rids = rowid_array(conn, f"SELECT d.rid FROM datasets d ORDER BY {expr}, d.rid", ())
            ranks = np.full(int(rids.max()) + 1 if len(rids) else 0, -1, dtype=np.int64)
            ranks[rids] = np.arange(len(rids), dtype=np.int64)
            return rids, ranks

        return self._held.get(generation, expr, read)


def page_by_rank(
    hits: np.ndarray, ranks: np.ndarray, descending: bool, offset: int, limit: int
) -> np.ndarray | None:
    """The row ids of ``hits`` on the page ``offset``/``limit`` of their order by ``ranks``
    (descending: the largest places first, which reverses ties by row id as SQL's
    ``key DESC, rid DESC`` does); None if a hit has no place (written after the ranks)."""
    if not len(hits):
        return hits
    if int(hits.max()) >= len(ranks):
        return None
    places = ranks[hits]
    if int(places.min()) < 0:
        return None
    if descending:
        places = -places
    end = offset + limit
    if end <= 0 or offset >= len(places):
        return hits[:0]
    if end < len(places):
        nearest = np.argpartition(places, end - 1)[:end]
    else:
        nearest = np.arange(len(places))
    ordered = nearest[np.argsort(places[nearest])]
    return hits[ordered[offset:end]]
