"""The boxes of collections loaded from empty, held as they are written.

A collection loaded from empty gets its R*Tree packed once, at the refresh after the load
(``rtree_build``). Reading its million boxes back from the items table took a third of that
pack; the writer holds them instead (40 bytes an item, up to the in-memory sort's limit) and
hands them over only when the table still holds exactly those items.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from catalogue.index.sqlite import rtree_build


class HeldBoxes:
    """Per collection: (rid, minx, maxx, miny, maxy) of the located items written so far."""

    def __init__(self) -> None:
        self._parts: dict[int, list[np.ndarray]] = {}
        self._sizes: dict[int, int] = {}
        self._given_up: set[int] = set()

    def add(self, ds: int, first: int, values: list[tuple[Any, ...]]) -> None:
        """Items numbered from ``first`` on, by their row values (t_start, t_end, minx, miny,
        maxx, maxy, …)."""
        if ds in self._given_up:
            return
        rows = [
            (rid, v[2], v[4], v[3], v[5]) for rid, v in enumerate(values, first) if v[2] is not None
        ]
        size = self._sizes.get(ds, 0) + len(rows)
        if size > rtree_build.IN_MEMORY_ENTRIES:  # too many to sort in memory anyway
            self.give_up(ds)
            return
        if rows:
            self._parts.setdefault(ds, []).append(np.array(rows, dtype=np.float64))
        self._sizes[ds] = size

    def give_up(self, ds: int | None = None) -> None:
        """Stop holding a collection's boxes (its items changed otherwise than by adding);
        ``None``: every collection's."""
        if ds is None:
            self._given_up.update(self._sizes)
            self._parts.clear()
            self._sizes.clear()
            return
        self._given_up.add(ds)
        self._parts.pop(ds, None)
        self._sizes.pop(ds, None)

    def take(self, conn: sqlite3.Connection, ds: int) -> np.ndarray | None:
        """The held boxes of ``ds`` (an array of rid, minx, maxx, miny, maxy rows), if the
        items table holds exactly those located items; forgotten either way."""
        parts = self._parts.pop(ds, [])
        size = self._sizes.pop(ds, None)
        given_up = ds in self._given_up
        self._given_up.discard(ds)
        if size is None or given_up:
            return None
        held = np.concatenate(parts) if parts else np.empty((0, 5))
        count, total = conn.execute(
            "SELECT count(*), total(rid) FROM items WHERE ds = ? AND minx IS NOT NULL", (ds,)
        ).fetchone()
        if count != len(held) or total != float(held[:, 0].sum()):
            return None
        return held
