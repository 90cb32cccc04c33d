"""An upsert's item rows, written in a few statements per batch.

New items are inserted. A changed item is updated in place: it keeps its row, and so its place
in the collection's order, and its search text and R*Tree entry are written again only where
they changed (a re-harvest of readings or attributes rarely moves a point or renames it; FTS5
and the R*Tree remove an entry by reading and undoing it, which made a re-harvest where every
record changed five times slower than a first load). An unchanged item is only marked seen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import count
from typing import Any

import orjson

from catalogue.index.sqlite.bounds import items_version_key
from catalogue.index.sqlite.rows import (
    ROW_COLUMNS,
    ROW_MAXX,
    ROW_MAXY,
    ROW_MINX,
    ROW_MINY,
    ItemRow,
    stored_item_text,
)

ITEM_COLUMNS = f"rid, ds, run, {ROW_COLUMNS}"
_UPDATE = (
    "UPDATE items SET run = ?, hash = ?, t_start = ?, t_end = ?, minx = ?, miny = ?, maxx = ?, "
    "maxy = ?, geometry = ?, properties = ?, envelope = ? WHERE rid = ?"
)

Box = tuple[Any, Any, Any, Any]
"""minx, maxx, miny, maxy: the R*Tree's order (None for an item without geometry)."""


def tree_box(row: Sequence[Any]) -> Box:
    """An item's R*Tree box from its :data:`~catalogue.index.sqlite.rows.ItemRow`."""
    return row[ROW_MINX], row[ROW_MAXX], row[ROW_MINY], row[ROW_MAXY]


def items_changed(conn: sqlite3.Connection, collections: set[int]) -> None:
    """The collections' items changed: searches holding their bounds read them anew."""
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, 1) "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [(items_version_key(ds),) for ds in sorted(collections)],
    )


def append_rows(
    conn: sqlite3.Connection, run: int, ds: int, first: int, rows: list[ItemRow], texts: list[Any]
) -> None:
    """New items of a collection loaded from empty (its R*Tree packed at the end), written
    as they came: SQLite numbers them from ``first`` on, one more than the largest number as
    it does when none is given, so no row is built again here."""
    marks = ", ".join("?" * len(rows[0]))
    conn.executemany(
        f"INSERT INTO items(ds, run, {ROW_COLUMNS}) VALUES ({ds:d}, {run:d}, {marks})", rows
    )
    last = conn.execute("SELECT max(rid) FROM items").fetchone()[0]
    if last != first + len(rows) - 1:  # (only at the largest row number there is)
        raise sqlite3.DatabaseError(f"items numbered up to {last}, not {first + len(rows) - 1}")
    conn.executemany(
        f"INSERT INTO items_fts(rowid, text, ds) VALUES (?, ?, {ds:d})", zip(count(first), texts)
    )


class ItemWrites:
    """What one batch writes, gathered first and then written table by table."""

    def __init__(self, run: int) -> None:
        self.run = run
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.texts: list[tuple[int, str, int]] = []  # new FTS rows
        self.retexts: list[tuple[int, str, int]] = []  # changed items' text, if it changed
        self.boxes: list[tuple[Any, ...]] = []  # new R*Tree entries
        self.unboxed: list[tuple[int]] = []  # R*Tree entries to remove
        self.touched: list[int] = []
        self.collections: set[int] = set()
        self.entered: dict[int, int] = {}  # per collection: R*Tree entries written one by one

    def add(
        self,
        rid: int,
        ds: int,
        row: ItemRow,
        text: str,
        *,
        tree: bool,
    ) -> None:
        """A new item; ``tree``: its R*Tree entry is written now (not by a bulk rebuild)."""
        self.inserts.append((rid, ds, self.run, *row))
        self.texts.append((rid, text, ds))
        box = tree_box(row)
        if tree and box[0] is not None:
            self._enter(rid, box, ds)
        self.collections.add(ds)

    def add_all(
        self, rid: int, ds: int, rows: list[ItemRow], texts: list[str], *, tree: bool
    ) -> int:
        """New items, numbered from ``rid`` on in their order; the next free number."""
        run = self.run
        self.inserts += [(number, ds, run, *row) for number, row in enumerate(rows, rid)]
        self.texts += [(number, text, ds) for number, text in enumerate(texts, rid)]
        if tree:
            for number, row in enumerate(rows, rid):
                box = tree_box(row)
                if box[0] is not None:
                    self._enter(number, box, ds)
        self.collections.add(ds)
        return rid + len(rows)

    def change(
        self,
        rid: int,
        ds: int,
        row: ItemRow,
        text: str,
        old_box: Box,
        *,
        tree: bool,
    ) -> None:
        """A stored item whose content changed (``old_box``: its stored box)."""
        self.updates.append((self.run, *row[1:], rid))
        self.retexts.append((rid, text, ds))
        box = tree_box(row)
        if tree and box != old_box:
            if old_box[0] is not None:
                self.unboxed.append((rid,))
            if box[0] is not None:
                self._enter(rid, box, ds)
        self.collections.add(ds)

    def _enter(self, rid: int, box: Box, ds: int) -> None:
        self.boxes.append((rid, *box, ds, ds))
        self.entered[ds] = self.entered.get(ds, 0) + 1

    def write(self, conn: sqlite3.Connection) -> None:
        if self.touched:
            conn.execute(
                "UPDATE items SET run = ? WHERE rid IN (SELECT value FROM json_each(?))",
                (self.run, orjson.dumps(self.touched).decode()),
            )
        if self.updates:
            # the full-text table keeps no text: an entry is forgotten by giving its words
            # again, those of the properties stored before this update
            before = dict(
                conn.execute(
                    "SELECT rid, properties FROM items "
                    "WHERE rid IN (SELECT value FROM json_each(?))",
                    (orjson.dumps([row[0] for row in self.retexts]).decode(),),
                )
            )
            conn.executemany(_UPDATE, self.updates)
            forgotten = []
            for rid, text, ds in self.retexts:
                was = stored_item_text(before[rid])
                if was != text:
                    forgotten.append((rid, was, ds))
                    self.texts.append((rid, text, ds))
            conn.executemany(
                "INSERT INTO items_fts(items_fts, rowid, text, ds) VALUES ('delete', ?, ?, ?)",
                forgotten,
            )
        if self.unboxed:
            conn.executemany("DELETE FROM items_rtree WHERE rid = ?", self.unboxed)
        if self.inserts:
            # rows bound one by one: twice as fast as one JSON parameter unpacked by json_each,
            # which has to unescape the geometry and properties text again
            marks = ", ".join("?" * len(self.inserts[0]))
            conn.executemany(f"INSERT INTO items({ITEM_COLUMNS}) VALUES ({marks})", self.inserts)
        if self.boxes:
            conn.executemany("INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?, ?, ?)", self.boxes)
        if self.texts:
            conn.executemany("INSERT INTO items_fts(rowid, text, ds) VALUES (?, ?, ?)", self.texts)
        items_changed(conn, self.collections)
