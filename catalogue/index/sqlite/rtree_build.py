"""Writing the items' R*Tree anew after a bulk load, in spatial order.

A tree grown from randomly ordered points is 100x slower to search, so a dataset loaded from
empty gets its entries written once, at the end, in spatial order. Two ways:

- packed, when the dataset holds most of the tree's entries: the tree is built bottom-up with
  numpy (sort-tile-recursive: every level tiled into vertical strips, alternately up and down)
  and its three shadow tables written in one pass. Up to ``IN_MEMORY_ENTRIES`` entries are
  sorted in memory (~60 bytes an entry while sorting) and the entries' leaves written in rowid
  order; a larger tree has its leaves sorted by SQLite's sorter, which spills to disk, so memory
  stays flat however large the collection (at half the speed: the sort runs in SQL and the
  leaves' rowids are written in spatial, that is random, order).

  SQLite's R*Tree has no bulk load; inserting entry by entry costs ~20 µs each (choosing a
  leaf, splitting nodes) and took a fifth of a 1M-point harvest. The node format is SQLite's
  (``rtree.c``): a 2-byte depth (root only) and 2-byte cell count, then cells of an 8-byte
  rowid and 32-bit floats, all big-endian, minima rounded down and maxima up as the module
  rounds them;
- entry by entry in the same order otherwise (a small dataset beside many others: rebuilding
  the whole tree would cost more than its own entries).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import orjson

TABLE = "items_rtree"
_DOWN, _UP = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0  # SQLite's RNDTOWARDS, RNDAWAY
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (6,))])  # minx maxx miny maxy mind maxd
IN_MEMORY_ENTRIES = 2_000_000
"""Trees of up to this many entries are sorted in memory (~120 MB at most while sorting)."""


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


def rebuild_rtree(
    conn: sqlite3.Connection,
    ds: int,
    extent: list[float] | None,
    held: np.ndarray | None = None,
    laid_out: LaidOut | None = None,
) -> None:
    """Write dataset ``ds``'s R*Tree entries anew in spatial order (``held``: its located
    items' rid, minx, maxx, miny, maxy, if the writer held them; ``laid_out``: their tree
    alone, if it was laid out already)."""
    located = (
        len(held)
        if held is not None
        else conn.execute(
            "SELECT count(*) FROM items WHERE ds = ? AND minx IS NOT NULL", (ds,)
        ).fetchone()[0]
    )
    others = conn.execute(
        f"SELECT count(*) FROM {TABLE} WHERE NOT (mind <= ? AND maxd >= ?)", (ds, ds)
    ).fetchone()[0]
    if located and located >= 2 * others:
        in_memory = located + others <= IN_MEMORY_ENTRIES
        alone = laid_out if held is not None and not others else None
        _pack(conn, ds, in_memory=in_memory, held=held, laid_out=alone)
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


def node_size(conn: sqlite3.Connection) -> int:
    """Bytes in a node of the items' tree (the root always exists)."""
    row = conn.execute(f"SELECT length(data) FROM {TABLE}_node WHERE nodeno = 1").fetchone()
    return int(row[0])


def held_entries(held: np.ndarray, ds: int) -> np.ndarray:
    """Held boxes (rid, minx, maxx, miny, maxy) of dataset ``ds`` as the tree's cells."""
    table = np.empty((len(held), 7), dtype=np.float64)
    table[:, :5] = held
    table[:, 5:] = ds
    return _cells(table)


@dataclass(frozen=True, slots=True)
class LaidOut:
    """A whole tree laid out in memory, to be written as it is."""

    nodes: list[tuple[int, bytes]]
    """(number, blob) of every node."""
    ids: np.ndarray
    leaves: np.ndarray
    """Every entry's rowid, ascending, and its leaf's number."""
    parents: list[tuple[int, int]]
    """(node, parent node) of every node below the root."""


def lay_out(entries: np.ndarray, node_size: int) -> LaidOut:
    """The tree of ``entries`` (cells), tiled level by level; numpy does the work, so this
    may run in a thread beside SQLite's."""
    fanout = (node_size - 4) // _CELL.itemsize
    counts = _level_counts(len(entries), fanout)
    first = _first_numbers(counts)
    depth = len(counts) - 1
    if not len(entries):
        empty = np.empty(0, dtype=np.int64)
        return LaidOut([(1, bytes(node_size))], empty, empty, [])
    cells = entries[_tiled(entries["box"].astype(np.float32), fanout)]
    header = depth if depth == 0 else 0  # a single leaf is the root
    nodes = list(_nodes(cells, first[0], header, fanout, node_size))
    ids = cells["id"].astype(np.int64)
    numbers = np.arange(len(ids)) // fanout + first[0]
    by_id = np.argsort(ids, kind="stable")
    boxes = _union(cells["box"].astype(np.float32), np.arange(0, len(cells), fanout))
    del cells
    parents: list[tuple[int, int]] = []
    for level_nodes, level_parents in _upper_levels(boxes, first, fanout, node_size):
        nodes += level_nodes
        parents += level_parents
    return LaidOut(nodes, ids[by_id], numbers[by_id], parents)


def write_laid_out(conn: sqlite3.Connection, tree: LaidOut) -> None:
    """Replace the tree's three shadow tables' rows by ``tree``."""
    for name in ("node", "rowid", "parent"):
        conn.execute(f"DELETE FROM {TABLE}_{name}")
    conn.executemany(f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (?, ?)", tree.nodes)
    if len(tree.ids):
        _write_owners(conn, tree.ids, tree.leaves)
    conn.executemany(f"INSERT INTO {TABLE}_parent(nodeno, parentnode) VALUES (?, ?)", tree.parents)


def _level_counts(total: int, fanout: int) -> list[int]:
    """Nodes per level, leaves first."""
    counts = [-(-total // fanout)]
    while counts[-1] > 1:
        counts.append(-(-counts[-1] // fanout))
    return counts


def _first_numbers(counts: list[int]) -> list[int]:
    """The first node number of each level: the root is 1, the leaves come last."""
    return [1 + sum(counts[level + 1 :]) for level in range(len(counts))]


def _upper_levels(
    boxes: np.ndarray, first: list[int], fanout: int, node_size: int
) -> Iterator[tuple[list[tuple[int, bytes]], list[tuple[int, int]]]]:
    """The nodes and parents of each level above the leaves, whose boxes are given."""
    depth = len(first) - 1
    ids = np.arange(len(boxes), dtype=np.int64)
    for level in range(1, len(first)):
        order = _tiled(boxes, fanout)
        ids, boxes = ids[order], boxes[order]
        cells = np.empty(len(ids), dtype=_CELL)
        cells["id"] = ids + first[level - 1]  # the node numbers of the level below
        cells["box"] = boxes
        header = depth if level == depth else 0
        yield (
            list(_nodes(cells, first[level], header, fanout, node_size)),
            list(_owners(cells["id"], first[level], fanout)),
        )
        starts = np.arange(0, len(ids), fanout)
        ids = np.arange(len(starts), dtype=np.int64)
        boxes = _union(boxes, starts)


def _pack(
    conn: sqlite3.Connection,
    ds: int,
    *,
    in_memory: bool,
    held: np.ndarray | None = None,
    laid_out: LaidOut | None = None,
) -> None:
    """Build the whole tree anew from ``ds``'s items and every other dataset's entries.

    ``in_memory``: the entries are read and sorted with numpy (or were, ``laid_out``); else
    the leaves come from one query that SQLite sorts into strips, and only the leaves' boxes
    are kept, to build the few upper levels with numpy."""
    size = node_size(conn)
    if in_memory:
        write_laid_out(conn, laid_out or lay_out(_entries(conn, ds, held), size))
        return
    fanout = (size - 4) // _CELL.itemsize
    total = _plan(conn, ds, fanout)
    counts = _level_counts(total, fanout)
    first = _first_numbers(counts)
    for name in ("node", "rowid", "parent"):
        conn.execute(f"DELETE FROM {TABLE}_{name}")
    if not total:
        conn.execute(f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (1, ?)", (bytes(size),))
        return
    boxes = _write_leaves(conn, ds, first[0], len(counts) - 1, fanout, size)
    conn.execute("DELETE FROM temp.rtree_others")
    for nodes, parents in _upper_levels(boxes, first, fanout, size):
        conn.executemany(f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (?, ?)", nodes)
        conn.executemany(f"INSERT INTO {TABLE}_parent(nodeno, parentnode) VALUES (?, ?)", parents)


def _plan(conn: sqlite3.Connection, ds: int, fanout: int) -> int:
    """Fill the temporary table of strips per dataset (where x starts, its width, how many
    strips of about ``fanout`` leaves each); return how many entries the tree is to hold."""
    # the other datasets' entries are kept aside: the tree's own tables are emptied before
    # the new one is written
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rtree_others "
        "(rid INTEGER, minx REAL, maxx REAL, miny REAL, maxy REAL, ds INTEGER)"
    )
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rtree_strips "
        "(ds INTEGER PRIMARY KEY, x0 REAL, width REAL, strips INTEGER)"
    )
    conn.execute("DELETE FROM temp.rtree_others")
    conn.execute("DELETE FROM temp.rtree_strips")
    conn.execute(
        "INSERT INTO temp.rtree_others "
        f"SELECT rid, minx, maxx, miny, maxy, mind FROM {TABLE} "
        "WHERE NOT (mind <= ? AND maxd >= ?)",
        (ds, ds),
    )
    groups = conn.execute(
        "SELECT ds, min(x), max(x), count(*) FROM (SELECT ds, minx + maxx AS x "
        "FROM temp.rtree_others UNION ALL "
        "SELECT ds, minx + maxx FROM items WHERE ds = ? AND minx IS NOT NULL) GROUP BY ds",
        (ds,),
    ).fetchall()
    conn.executemany(
        "INSERT INTO temp.rtree_strips VALUES (?, ?, ?, ?)",
        [
            (group, low, max(high - low, 1e-9), max(1, math.ceil(math.sqrt(count / fanout))))
            for group, low, high, count in groups
        ],
    )
    return sum(group[3] for group in groups)


def _write_leaves(
    conn: sqlite3.Connection, ds: int, first: int, depth: int, fanout: int, node_size: int
) -> np.ndarray:
    """Write the leaf nodes and every entry's leaf, in strip order; the leaves' boxes."""
    strip = "min(CAST((e.minx + e.maxx - s.x0) / s.width * s.strips AS INTEGER), s.strips - 1)"
    cursor = conn.execute(
        "SELECT e.rid, e.minx, e.maxx, e.miny, e.maxy, e.ds, e.ds FROM ("
        "SELECT rid, minx, maxx, miny, maxy, ds FROM temp.rtree_others UNION ALL "
        "SELECT rid, minx, maxx, miny, maxy, ds FROM items WHERE ds = ? AND minx IS NOT NULL"
        ") AS e CROSS JOIN temp.rtree_strips AS s ON s.ds = e.ds "
        f"ORDER BY e.ds, {strip}, CASE {strip} % 2 WHEN 0 THEN e.miny ELSE -e.miny END",
        (ds,),
    )
    leaf_boxes: list[np.ndarray] = []
    header = depth if depth == 0 else 0  # a single leaf is the root
    written = 0
    while rows := cursor.fetchmany(fanout * 1024):  # whole nodes at a time
        cells = _cells(np.array(rows, dtype=np.float64))
        del rows
        number = first + written // fanout
        conn.executemany(
            f"INSERT INTO {TABLE}_node(nodeno, data) VALUES (?, ?)",
            _nodes(cells, number, header, fanout, node_size),
        )
        conn.executemany(
            f"INSERT INTO {TABLE}_rowid(rowid, nodeno) VALUES (?, ?)",
            _owners(cells["id"], number, fanout),
        )
        leaf_boxes.append(_union(cells["box"], np.arange(0, len(cells), fanout)))
        written += len(cells)
    return np.concatenate(leaf_boxes)


def _entries(conn: sqlite3.Connection, ds: int, held: np.ndarray | None) -> np.ndarray:
    """Every entry the tree is to hold as cells (rowid, box as stored): the other datasets'
    entries as the tree holds them, and ``ds``'s located items (``held``, or read)."""
    queries: list[tuple[str, tuple[int, ...]]] = [
        (
            f"SELECT rid, minx, maxx, miny, maxy, mind, maxd FROM {TABLE} "
            "WHERE NOT (mind <= ? AND maxd >= ?)",
            (ds, ds),
        )
    ]
    if held is None:
        queries.append(
            (
                "SELECT rid, minx, maxx, miny, maxy, ds, ds FROM items "
                "WHERE ds = ? AND minx IS NOT NULL",
                (ds,),
            )
        )
    parts = []
    for query, args in queries:
        cursor = conn.execute(query, args)
        while rows := cursor.fetchmany(65536):
            parts.append(_cells(np.array(rows, dtype=np.float64)))
    if held is not None and len(held):
        parts.append(held_entries(held, ds))
    # concatenating structured arrays makes them native-endian: the cells must stay big-endian
    return np.concatenate(parts).astype(_CELL, copy=False) if parts else np.empty(0, dtype=_CELL)


def _cells(table: np.ndarray) -> np.ndarray:
    """Rows of rid, minx, maxx, miny, maxy, mind, maxd as cells."""
    cells = np.empty(len(table), dtype=_CELL)
    cells["id"] = table[:, 0]
    cells["box"] = _as_stored(table[:, 1:])
    return cells


RUN = 1000
"""Rowids in a row at least this long are written by one statement (a collection loaded whole
is one run): SQLite reads their node numbers from a JSON array, in a third of the time of
binding a pair per row."""


def _write_owners(conn: sqlite3.Connection, ids: np.ndarray, numbers: np.ndarray) -> None:
    """Each entry's leaf (``ids`` ascending, ``numbers`` their nodes) into the rowid table."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ids) != 1) + 1))
    lengths = np.diff(np.append(starts, len(ids)))
    scattered = np.ones(len(ids), dtype=bool)
    long = lengths >= RUN
    for start, length in zip(starts[long].tolist(), lengths[long].tolist(), strict=True):
        conn.execute(
            f"INSERT INTO {TABLE}_rowid(rowid, nodeno) SELECT ? + key, value FROM json_each(?)",
            (int(ids[start]), orjson.dumps(numbers[start : start + length].tolist()).decode()),
        )
        scattered[start : start + length] = False
    conn.executemany(
        f"INSERT INTO {TABLE}_rowid(rowid, nodeno) VALUES (?, ?)",
        zip(ids[scattered].tolist(), numbers[scattered].tolist(), strict=True),
    )


def _owners(ids: np.ndarray, first: int, fanout: int) -> Iterator[tuple[int, int]]:
    """(id, node number) of cells laid out ``fanout`` to a node from node ``first`` on."""
    numbers = np.arange(len(ids)) // fanout + first
    return zip(ids.tolist(), numbers.tolist(), strict=True)


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


def _nodes(
    cells: np.ndarray, first: int, depth: int, fanout: int, node_size: int
) -> Iterator[tuple[int, bytes]]:
    """One level's nodes as (number, blob): ``fanout`` cells each, the last one fewer."""
    for n, start in enumerate(range(0, len(cells), fanout)):
        part = cells[start : start + fanout]
        header = depth.to_bytes(2, "big") + len(part).to_bytes(2, "big")
        yield first + n, (header + part.tobytes()).ljust(node_size, b"\0")
