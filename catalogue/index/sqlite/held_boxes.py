"""The boxes of collections loaded from empty, held as they are written.

A collection loaded from empty gets its R*Tree packed once, at the refresh after the load
(``rtree_build``). Reading its million boxes back from the items table took a third of that
pack; the writer holds them instead (40 bytes an item, up to the in-memory sort's limit) and
hands them over only when the table still holds exactly those items. With them come the
collection's item count and time range, which the refresh would otherwise read with a scan of
every row (0.7 s at 1M items).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from catalogue.index.sqlite import rtree_build
from catalogue.index.sqlite.rows import (
    ROW_END,
    ROW_MAXX,
    ROW_MAXY,
    ROW_MINX,
    ROW_MINY,
    ROW_START,
    ItemRow,
)

log = logging.getLogger("catalogue.index")


@dataclass(frozen=True, slots=True)
class Held:
    """What the writer held of one collection's items."""

    boxes: np.ndarray
    """rid, minx, maxx, miny, maxy of each located item."""
    count: int
    """Items, located or not."""
    t_start: float | None
    t_end: float | None
    """The earliest start and latest end (``min(t_start)``, ``max(t_end)`` of the rows)."""
    laid_out: Future[rtree_build.LaidOut] | None = None
    """The tree of these boxes alone, laid out in a thread as the load ended."""

    def tree(self) -> rtree_build.LaidOut | None:
        """The tree laid out early, if it was and that worked."""
        if self.laid_out is None:
            return None
        try:
            return self.laid_out.result()
        except Exception:  # (out of memory): laid out again, in the refresh
            log.warning("laying out the tree early failed", exc_info=True)
            return None

    def extent(self) -> list[float] | None:
        """minx, miny, maxx, maxy of the located items."""
        if not len(self.boxes):
            return None
        low, high = self.boxes.min(axis=0), self.boxes.max(axis=0)
        return [float(low[1]), float(low[3]), float(high[2]), float(high[4])]


class HeldBoxes:
    """Per collection: (rid, minx, maxx, miny, maxy) of the located items written so far, and
    the count, row-number sum and time range of all of them."""

    def __init__(self) -> None:
        self._parts: dict[int, list[np.ndarray]] = {}
        self._sizes: dict[int, int] = {}
        self._summaries: dict[int, list[Any]] = {}  # count, sum of rids, start, end
        self._laid_out: dict[int, tuple[int, Future[rtree_build.LaidOut]]] = {}
        self._given_up: set[int] = set()

    def add(self, ds: int, first: int, rows: list[ItemRow]) -> None:
        """Items numbered from ``first`` on, by their rows."""
        if ds in self._given_up or not rows:
            return
        boxes = _boxes(first, rows)
        size = self._sizes.get(ds, 0) + len(boxes)
        if size > rtree_build.IN_MEMORY_ENTRIES:  # too many to sort in memory anyway
            self.give_up(ds)
            return
        if len(boxes):
            self._parts.setdefault(ds, []).append(boxes)
        self._sizes[ds] = size
        summary = self._summaries.setdefault(ds, [0, 0, None, None])
        summary[0] += len(rows)
        summary[1] += (first + first + len(rows) - 1) * len(rows) // 2
        starts = [v for v in map(_START, rows) if v is not None]
        ends = [v for v in map(_END, rows) if v is not None]
        if starts:
            summary[2] = min(starts) if summary[2] is None else min(summary[2], *starts)
        if ends:
            summary[3] = max(ends) if summary[3] is None else max(summary[3], *ends)

    def lay_out_early(self, ds: int, node_size: int) -> None:
        """Start laying out the tree of ``ds``'s held boxes alone, in a thread: its numpy work
        runs beside SQLite's building of the put-off indexes (1.4 s at 1M points)."""
        parts = self._parts.get(ds)
        if not parts or ds in self._given_up:
            return
        boxes = np.concatenate(parts)
        self._parts[ds] = [boxes]
        future: Future[rtree_build.LaidOut] = Future()

        def work() -> None:
            try:
                entries = rtree_build.held_entries(boxes, ds)
                future.set_result(rtree_build.lay_out(entries, node_size))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=work, name="catalogue-lay-out", daemon=True).start()
        self._laid_out[ds] = (len(boxes), future)

    def give_up(self, ds: int | None = None) -> None:
        """Stop holding a collection's boxes (its items changed otherwise than by adding);
        ``None``: every collection's."""
        if ds is None:
            self._given_up.update(self._sizes)
            self._parts.clear()
            self._sizes.clear()
            self._summaries.clear()
            self._laid_out.clear()
            return
        self._given_up.add(ds)
        self._parts.pop(ds, None)
        self._sizes.pop(ds, None)
        self._summaries.pop(ds, None)
        self._laid_out.pop(ds, None)

    def take(self, conn: sqlite3.Connection, ds: int) -> Held | None:
        """What was held of ``ds``, if the items table holds exactly the items written
        (the same count and row numbers, read from the ``items_ds`` index alone); forgotten
        either way."""
        parts = self._parts.pop(ds, [])
        size = self._sizes.pop(ds, None)
        summary = self._summaries.pop(ds, None)
        laid_out = self._laid_out.pop(ds, None)
        given_up = ds in self._given_up
        self._given_up.discard(ds)
        if size is None or summary is None or given_up:
            return None
        count, total = conn.execute(
            "SELECT count(*), total(rid) FROM items WHERE ds = ?", (ds,)
        ).fetchone()
        if count != summary[0] or total != float(summary[1]):
            return None
        boxes = np.concatenate(parts) if parts else np.empty((0, 5))
        early = laid_out[1] if laid_out and laid_out[0] == len(boxes) else None
        return Held(boxes, count, summary[2], summary[3], early)


_COLUMNS = tuple(itemgetter(n) for n in (ROW_MINX, ROW_MAXX, ROW_MINY, ROW_MAXY))
_START, _END = itemgetter(ROW_START), itemgetter(ROW_END)


def _boxes(first: int, rows: list[ItemRow]) -> np.ndarray:
    """rid, minx, maxx, miny, maxy of the located items among rows numbered from ``first``."""
    n = len(rows)
    boxes = np.empty((n, 5), dtype=np.float64)
    boxes[:, 0] = np.arange(first, first + n)
    # a column at a time: a third of the time of an array made of rows (None reads as NaN)
    for column, get in enumerate(_COLUMNS, 1):
        boxes[:, column] = np.fromiter(map(get, rows), dtype=np.float64, count=n)
    unplaced = np.isnan(boxes[:, 1])  # items without a place (a box is never NaN)
    return boxes[~unplaced] if unplaced.any() else boxes
