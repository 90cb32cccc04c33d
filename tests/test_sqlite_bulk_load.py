"""Loading a collection whole into the embedded index: the R*Tree written packed at the end,
as SQLite itself would store each entry, and searched, changed and repaired like any other."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from catalogue.index.sqlite import SQLiteIndex, rtree_build
from catalogue.model import Dataset, Item, Provenance
from catalogue.query import SearchQuery

Box = tuple[float, float, float, float]


@pytest.fixture(autouse=True, params=["sorted in memory", "sorted by SQLite"])
def sort_where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with trees small enough to sort in memory, and again with every tree
    too large for that (SQLite's sorter)."""
    if request.param == "sorted by SQLite":
        monkeypatch.setattr(rtree_build, "IN_MEMORY_ENTRIES", 0)


def dataset(ident: str) -> Dataset:
    return Dataset(
        id=ident, title=ident, provenance=Provenance("src", "geojson", None, ident)
    ).with_hash()


def items(ds: str, n: int, seed: int) -> list[Item]:
    """Points and rectangles, some far apart, some on negative coordinates (rounding)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x, y = rng.uniform(-8.0, 8.0), rng.uniform(-52.0, 52.0)
        if i % 3:
            geometry = {"type": "Point", "coordinates": [x, y]}
        else:
            w, h = rng.uniform(1e-6, 0.5), rng.uniform(1e-6, 0.5)
            ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        out.append(Item(f"{ds}-{i}", ds, geometry, {"n": i}))
    return out


def load(index: SQLiteIndex, ds: str, records: list[Item], run: str) -> None:
    stats = index.upsert([dataset(ds), *records], run_id=run)
    assert not stats.failed
    index.refresh_datasets([ds])


def bounds(item: Item) -> Box:
    assert item.geometry is not None
    coords = item.geometry["coordinates"]
    points = [coords] if item.geometry["type"] == "Point" else coords[0]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def assert_searches_agree(index: SQLiteIndex, ds: str, records: list[Item], seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        x, y, w, h = rng.uniform(-8, 8), rng.uniform(-52, 52), rng.uniform(0, 3), rng.uniform(0, 9)
        box = (x, y, x + w, y + h)
        expected = {
            r.id
            for r in records
            for b in [bounds(r)]
            if b[0] <= box[2] and b[2] >= box[0] and b[1] <= box[3] and b[3] >= box[1]
        }
        found = index.search_items(ds, SearchQuery(bbox=box, limit=10_000)).records
        assert {i.id for i in found} == expected, box


def stored_entries(conn: sqlite3.Connection) -> list[tuple[float, ...]]:
    return conn.execute("SELECT * FROM items_rtree ORDER BY rid").fetchall()


def as_sqlite_stores_them(entries: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """The same entries inserted one by one into an R*Tree of the same shape."""
    scratch = sqlite3.connect(":memory:")
    scratch.execute("CREATE VIRTUAL TABLE t USING rtree(rid, minx, maxx, miny, maxy, mind, maxd)")
    scratch.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", entries)
    return scratch.execute("SELECT * FROM t ORDER BY rid").fetchall()


def test_a_collection_loaded_whole_gets_a_packed_tree_as_sqlite_would_store_it(
    index_path: Path,
) -> None:
    index = SQLiteIndex(index_path)
    small, big = items("klein", 40, 1), items("gross", 6000, 2)
    load(index, "klein", small, "r1")
    load(index, "gross", big, "r1")
    conn = sqlite3.connect(index_path)
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    # every node but the last of each level full: 51 cells of 32 bytes in a 1,636-byte node
    leaves = -(-6040 // 51)
    nodes = conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0]
    assert nodes == leaves + -(-leaves // 51) + 1
    # the coordinates exactly as SQLite rounds them to 32-bit floats (outwards)
    exact = [
        (rid, minx, maxx, miny, maxy, ds, ds)
        for rid, minx, maxx, miny, maxy, ds in conn.execute(
            "SELECT rid, minx, maxx, miny, maxy, ds FROM items"
        )
    ]
    assert stored_entries(conn) == as_sqlite_stores_them(exact)
    assert_searches_agree(index, "gross", big, 3)
    assert_searches_agree(index, "klein", small, 4)

    # the packed tree takes later writes through SQLite: deletes, new and moved items
    index.delete_items("gross", [f"gross-{i}" for i in range(0, 6000, 7)])
    kept = [r for r in big if int(r.id.split("-")[1]) % 7]
    moved = items("gross", 500, 5)  # the first 500 ids again, elsewhere
    later = moved + [r for r in kept if int(r.id.split("-")[1]) >= 500] + items("neu", 300, 6)
    later = [
        Item(
            r.id if r.dataset_id == "gross" else f"gross-x{r.id}", "gross", r.geometry, r.properties
        )
        for r in later
    ]
    load(index, "gross", later, "r2")
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    assert_searches_agree(index, "gross", later, 7)
    assert_searches_agree(index, "klein", small, 8)
    index.close()


def test_a_small_collection_beside_a_large_one_is_entered_one_by_one(index_path: Path) -> None:
    index = SQLiteIndex(index_path)
    big, small = items("gross", 3000, 9), items("klein", 200, 10)
    load(index, "gross", big, "r1")
    conn = sqlite3.connect(index_path)
    packed = conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0]
    load(index, "klein", small, "r1")
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    # the large collection's nodes were left as they were: only a few were added or split
    assert conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0] < packed + 20
    assert_searches_agree(index, "klein", small, 11)
    assert_searches_agree(index, "gross", big, 12)
    index.close()


@pytest.mark.parametrize("n", [1, 51, 52])
def test_trees_of_one_node_and_just_over_it(index_path: Path, n: int) -> None:
    index = SQLiteIndex(index_path)
    records = items("wenige", n, n)
    load(index, "wenige", records, "r1")
    conn = sqlite3.connect(index_path)
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM items_rtree").fetchone()[0] == n
    assert_searches_agree(index, "wenige", records, n)
    index.close()


def test_a_collection_whose_items_mostly_moved_gets_its_tree_packed_again(
    index_path: Path,
) -> None:
    index = SQLiteIndex(index_path)
    conn = sqlite3.connect(index_path)
    first = items("gross", 6000, 13)
    load(index, "gross", first, "r1")
    packed = conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0]
    # a few moved: entered one by one, the rest of the tree stays as it was
    few = items("gross", 300, 14) + first[300:]
    load(index, "gross", few, "r2")
    grown = conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0]
    assert packed < grown < packed + 20
    # most moved (every id, somewhere else): the tree is packed again, as after a first load
    moved = items("gross", 6000, 15)
    load(index, "gross", moved, "r3")
    assert conn.execute("SELECT count(*) FROM items_rtree_node").fetchone()[0] == packed
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    assert_searches_agree(index, "gross", moved, 16)
    index.close()


def test_the_boxes_written_are_held_for_the_pack_unless_items_went_meanwhile(
    index_path: Path,
) -> None:
    if rtree_build.IN_MEMORY_ENTRIES == 0:
        pytest.skip("trees sorted by SQLite read their entries in SQL")
    index = SQLiteIndex(index_path)
    statements: list[str] = []
    index._conn().set_trace_callback(statements.append)

    def read_back() -> bool:
        return any("SELECT rid, minx, maxx, miny, maxy, ds, ds FROM items" in s for s in statements)

    first = items("gross", 3000, 17)
    assert not index.upsert([dataset("gross"), *first], run_id="r1").failed
    assert index.delete_stale("src", "r1") == 0  # as a harvest does before its refresh
    index.refresh_datasets(["gross"])
    assert not read_back()
    assert_searches_agree(index, "gross", first, 18)

    # items deleted between the load and the refresh: the boxes are read from the table
    other = items("zweite", 3000, 19)
    assert not index.upsert([dataset("zweite"), *other], run_id="r1").failed
    index.delete_items("zweite", [f"zweite-{i}" for i in range(0, 3000, 2)])
    index.refresh_datasets(["zweite"])
    assert read_back()
    conn = sqlite3.connect(index_path)
    assert conn.execute("SELECT rtreecheck('items_rtree')").fetchone()[0] == "ok"
    kept = [r for r in other if int(r.id.split("-")[1]) % 2]
    assert_searches_agree(index, "zweite", kept, 20)
    assert_searches_agree(index, "gross", first, 21)
    index.close()
