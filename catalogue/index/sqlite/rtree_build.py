"""Writing the items' R*Tree anew after a bulk load, in spatial order.

A tree grown from randomly ordered points is 100x slower to search, so a dataset loaded from
empty gets its entries written once, at the end, in spatial order. Two ways:

- packed, when the dataset holds most of the tree's entries: the tree is built bottom-up with
  numpy (sort-tile-recursive: every level tiled into vertical strips, alternately up and down)
  and its three shadow tables written in one pass. SQLite's R*Tree has no bulk load; inserting
  entry by entry costs ~20 µs each (choosing a leaf, splitting nodes) and took a fifth of a
  1M-point harvest, the packed build a few percent. The node format is SQLite's (``rtree.c``):
  a 2-byte depth (root only) and 2-byte cell count, then cells of an 8-byte rowid and 32-bit
  floats, all big-endian, minima rounded down and maxima up as the module rounds them;
- entry by entry in the same order otherwise (a small dataset beside many others: rebuilding
  the whole tree would cost more than its own entries).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np

TABLE = "items_rtree"
_DOWN, _UP = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0  # SQLite's RNDTOWARDS, RNDAWAY
_CHUNK = 65536
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (6,))])  # minx maxx miny maxy mind maxd


def rtree_complete(conn: sqlite3.Connection, ds: int) -> bool:
    """Whether every located item of dataset ``ds`` has its R*Tree entry (an interrupted bulk
    load leaves some without; the next refresh repairs them)."""
    located = conn.execute(
        "SELECT count(*) FROM items WHERE ds = ? AND minx IS NOT NULL", (ds,)
    ).fetchone()[0]
    entered = conn.execute(
        f"SELECT count(*) FROM {TABLE} WHERE mind <= ? AND maxd >= ?", (ds, ds)
    ).fetchone()[0]
    return bool(located == entered)


def rebuild_rtree(conn: sqlite3.Connection, ds: int, extent: list[float] | None) -> None:
    """Write dataset ``ds``'s R*Tree entries anew in spatial order."""
    located = conn.execute(
        "SELECT count(*) FROM items WHERE ds = ? AND minx IS NOT NULL", (ds,)
    ).fetchone()[0]
    others = conn.execute(
        f"SELECT count(*) FROM {TABLE} WHERE NOT (mind <= ? AND maxd >= ?)", (ds, ds)
    ).fetchone()[0]
    if located and located >= 2 * others:
        _pack(conn, ds)
        return
    conn.execute(
        f"DELETE FROM {TABLE} WHERE rid IN (SELECT rid FROM {TABLE} WHERE mind <= ? AND maxd >= ?)",
        (ds, ds),
    )
    if not extent:
        return
    x0, width = extent[0], max(extent[2] - extent[0], 1e-9)
    strips = max(1, int((located / 250) ** 0.5))  # ~square leaves of ~250 entries
    strip = "CAST((minx - ?) / ? * ? AS INTEGER)"
    conn.execute(
        f"INSERT INTO {TABLE} SELECT rid, minx, maxx, miny, maxy, ds, ds FROM items "
        f"WHERE ds = ? AND minx IS NOT NULL ORDER BY {strip}, "
        f"CASE {strip} % 2 WHEN 0 THEN miny ELSE -miny END",
        (ds, x0, width, strips, x0, width, strips),
    )


def _pack(conn: sqlite3.Connection, ds: int) -> None:
    """Build the whole tree anew from ``ds``'s items and every other dataset's entries."""
    node_size = conn.execute(f"SELECT length(data) FROM {TABLE}_node WHERE nodeno = 1").fetchone()[
        0
    ]
    fanout = (node_size - 4) // _CELL.itemsize
    ids, boxes = _entries(conn, ds)
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # per level from the leaves: ids, boxes
    while True:
        order = _tiled(boxes, fanout)
        ids, boxes = ids[order], boxes[order]
        levels.append((ids, boxes))
        if len(ids) <= fanout:
            break
        starts = np.arange(0, len(ids), fanout)
        ids = np.arange(len(starts), dtype=np.int64)  # numbered below, once all are known
        boxes = _union(boxes, starts)
    _write(conn, levels, fanout, node_size)


def _entries(conn: sqlite3.Connection, ds: int) -> tuple[np.ndarray, np.ndarray]:
    """Every entry the tree is to hold: the other datasets' as stored, ``ds``'s from its items
    (read in chunks into arrays: 32 bytes an entry, no Python object per entry kept)."""
    total = conn.execute(
        f"SELECT (SELECT count(*) FROM {TABLE} WHERE NOT (mind <= ? AND maxd >= ?)) + "
        "(SELECT count(*) FROM items WHERE ds = ? AND minx IS NOT NULL)",
        (ds, ds, ds),
    ).fetchone()[0]
    ids = np.empty(total, dtype=np.int64)
    boxes = np.empty((total, 6), dtype=np.float32)
    cursor = conn.execute(
        f"SELECT rid, minx, maxx, miny, maxy, mind, maxd FROM {TABLE} "
        "WHERE NOT (mind <= ? AND maxd >= ?) "
        "UNION ALL SELECT rid, minx, maxx, miny, maxy, ds, ds FROM items "
        "WHERE ds = ? AND minx IS NOT NULL",
        (ds, ds, ds),
    )
    at = 0
    while rows := cursor.fetchmany(_CHUNK):
        table = np.array(rows, dtype=np.float64)
        ids[at : at + len(rows)] = table[:, 0]
        boxes[at : at + len(rows)] = _as_stored(table[:, 1:])
        at += len(rows)
    return ids[:at], boxes[:at]


def _as_stored(boxes: np.ndarray) -> np.ndarray:
    """Coordinates as the R*Tree stores them: 32-bit, minima rounded down, maxima up."""
    out = boxes.astype(np.float32)
    low, high = boxes[:, 0::2], boxes[:, 1::2]
    low32, high32 = out[:, 0::2], out[:, 1::2]
    down = np.where(low < 0, _UP, _DOWN)
    low32[:] = np.where(low32 > low, (low * down).astype(np.float32), low32)
    up = np.where(high < 0, _DOWN, _UP)
    high32[:] = np.where(high32 < high, (high * up).astype(np.float32), high32)
    return out


def _tiled(boxes: np.ndarray, fanout: int) -> np.ndarray:
    """An order of the boxes (by dataset, then vertical strips of about ``fanout`` nodes' worth,
    alternately up and down) in which each run of ``fanout`` boxes lies close together."""
    # twice the centres, in 32 bits like the boxes: 12 bytes an entry while sorting
    cx = boxes[:, 0] + boxes[:, 1]
    cy = boxes[:, 2] + boxes[:, 3]
    ds = boxes[:, 4]
    strip = np.zeros(len(boxes), dtype=np.int32)
    by_ds = np.argsort(ds, kind="stable")
    bounds = np.flatnonzero(np.diff(ds[by_ds])) + 1
    for group in np.split(by_ds, bounds):
        nodes = -(-len(group) // fanout)
        strips = max(1, int(np.ceil(np.sqrt(nodes))))
        ranks = np.argsort(cx[group], kind="stable")  # equal shares of boxes per strip
        strip[group[ranks]] = np.arange(len(group)) * strips // len(group)
    del cx
    np.negative(cy, out=cy, where=strip % 2 == 1)  # odd strips run downwards
    return np.lexsort((cy, strip, ds))


def _union(boxes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The bounding box of each run of boxes beginning at ``starts``."""
    out = np.empty((len(starts), 6), dtype=np.float32)
    out[:, 0::2] = np.minimum.reduceat(boxes[:, 0::2], starts, axis=0)
    out[:, 1::2] = np.maximum.reduceat(boxes[:, 1::2], starts, axis=0)
    return out


def _write(
    conn: sqlite3.Connection,
    levels: list[tuple[np.ndarray, np.ndarray]],
    fanout: int,
    node_size: int,
) -> None:
    """Number the nodes (root 1, then level by level from the top) and write the shadow
    tables: nodes, each entry's leaf, each node's parent."""
    counts = [-(-len(ids) // fanout) for ids, _ in levels]  # nodes per level, leaves first
    first: list[int] = [0] * len(levels)
    next_no = 1
    for level in reversed(range(len(levels))):
        first[level] = next_no
        next_no += counts[level]
    for name in ("node", "rowid", "parent"):
        conn.execute(f"DELETE FROM {TABLE}_{name}")
    depth = len(levels) - 1
    for level, (ids, boxes) in enumerate(levels):
        cells = np.empty(len(ids), dtype=_CELL)
        # a node's cells point to the nodes of the level below: their numbers are known now
        cells["id"] = ids if level == 0 else ids + first[level - 1]
        cells["box"] = boxes
        conn.executemany(
            f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (?, ?)",
            _nodes(cells, first[level], depth if level == depth else 0, fanout, node_size),
        )
        # every entry's (or child node's) node, in chunks: no list of them all
        owner = (
            f"{TABLE}_rowid(rowid, nodeno)" if level == 0 else f"{TABLE}_parent(nodeno, parentnode)"
        )
        for start in range(0, len(cells), _CHUNK):
            part = cells["id"][start : start + _CHUNK]
            numbers = np.arange(start, start + len(part)) // fanout + first[level]
            conn.executemany(
                f"INSERT INTO {owner} VALUES (?, ?)",
                zip(part.tolist(), numbers.tolist(), strict=True),
            )
    if not levels[0][0].size:
        conn.execute(f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (1, ?)", (bytes(node_size),))


def _nodes(
    cells: np.ndarray, first: int, depth: int, fanout: int, node_size: int
) -> Iterator[tuple[int, bytes]]:
    """One level's nodes as (number, blob): ``fanout`` cells each, the last one fewer."""
    for n, start in enumerate(range(0, len(cells), fanout)):
        part = cells[start : start + fanout]
        header = depth.to_bytes(2, "big") + len(part).to_bytes(2, "big")
        yield first + n, (header + part.tobytes()).ljust(node_size, b"\0")
