"""A first load into the embedded index's empty items table builds two of its indexes once at
the end; whatever way the load ends, and whoever opens the file next, the indexes are there."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fts_entries

from catalogue.index.sqlite import SQLiteIndex, schema, store
from catalogue.model import Dataset, Item, Provenance
from catalogue.query import SearchQuery, parse_time_interval

PUT_OFF = {"items_id", "items_time", "items_ds"}


def dataset(ident: str) -> Dataset:
    return Dataset(
        id=ident, title=ident, provenance=Provenance("src", "geojson", None, ident)
    ).with_hash()


def items(ds: str, n: int) -> list[Item]:
    return [
        Item(
            f"{ds}-{i}",
            ds,
            {"type": "Point", "coordinates": [6.7 + i / 1e4, 51.2]},
            {"n": i},
            f"2024-01-{1 + i % 28:02d}T00:00:00Z",
        )
        for i in range(n)
    ]


def indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'items'")
        return {row[0] for row in rows} & PUT_OFF
    finally:
        conn.close()


def marked(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return bool(conn.execute("SELECT 1 FROM meta WHERE key = ?", (schema.DEFERRED,)).fetchone())
    finally:
        conn.close()


def watched(path: Path, records: list[Dataset | Item], seen: list[set[str]]) -> Iterator:
    """The records, noting which indexes another connection sees after each of them."""
    for record in records:
        yield record
        seen.append(indexes(path))


@pytest.fixture
def small_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "COMMIT_ROWS", 50)  # loads commit in steps others can see


@pytest.mark.usefixtures("small_commits")
def test_a_first_load_builds_the_indexes_at_its_end(index_path: Path) -> None:
    index = SQLiteIndex(index_path)
    try:
        seen: list[set[str]] = []
        stats = index.upsert(
            watched(index_path, [dataset("a"), *items("a", 300)], seen), run_id="r1", batch_size=20
        )
        assert stats.added == 301 and not stats.failed
        assert set() in seen  # put off while the load ran …
        assert indexes(index_path) == PUT_OFF and not marked(index_path)  # … built at its end
        index.refresh_datasets(["a"])
        # a second collection goes into a table that is not empty: the indexes stay
        seen.clear()
        index.upsert(
            watched(index_path, [dataset("b"), *items("b", 300)], seen), run_id="r2", batch_size=20
        )
        assert seen and all(s == PUT_OFF for s in seen)
        index.refresh_datasets(["b"])
        january = parse_time_interval("2024-01-03T00:00:00Z/2024-01-04T00:00:00Z")
        for ds in ("a", "b"):
            hits = index.search_items(ds, SearchQuery(time=january, limit=1000))
            assert hits.number_matched == len(hits.records) == 22
    finally:
        index.close()
    conn = sqlite3.connect(index_path)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT rid FROM items WHERE ds = 1 AND t_start > 0"
    ).fetchall()
    conn.close()
    assert "items_time" in str(plan)


@pytest.mark.usefixtures("small_commits")
def test_a_source_failing_mid_load_keeps_its_items_and_the_indexes(index_path: Path) -> None:
    def failing() -> Iterator[Dataset | Item]:
        yield dataset("a")
        yield from items("a", 120)
        raise RuntimeError("the source broke")

    index = SQLiteIndex(index_path)
    try:
        with pytest.raises(RuntimeError, match="broke"):
            index.upsert(failing(), run_id="r1", batch_size=20)
        assert indexes(index_path) == PUT_OFF and not marked(index_path)
        index.refresh_datasets(["a"])
        assert index.search_items("a", SearchQuery()).number_matched == 120
    finally:
        index.close()


def _as_a_load_left_it(path: Path) -> None:
    """The file as a load that died (killed, out of memory) before its end leaves it."""
    index = SQLiteIndex(path)
    index.upsert([dataset("a"), *items("a", 200)], run_id="r1")
    index.refresh_datasets(["a"])
    index.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    assert schema.defer_item_indexes(conn) is False  # the table holds items
    for name in PUT_OFF:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("INSERT INTO meta(key, value) VALUES (?, '1')", (schema.DEFERRED,))
    conn.execute("COMMIT")
    conn.close()


def test_opening_a_file_a_dead_load_left_builds_its_indexes(index_path: Path) -> None:
    _as_a_load_left_it(index_path)
    assert indexes(index_path) == set() and marked(index_path)
    SQLiteIndex(index_path, read_mostly=True).close()
    assert indexes(index_path) == PUT_OFF and not marked(index_path)


def test_opening_a_file_while_a_load_runs_leaves_its_indexes_to_the_load(
    index_path: Path,
) -> None:
    """A server started during a first load neither waits for the load nor fails."""
    _as_a_load_left_it(index_path)
    loader = sqlite3.connect(index_path, isolation_level=None)
    loader.execute("BEGIN IMMEDIATE")  # the load holds the write lock
    try:
        server = SQLiteIndex(index_path, read_mostly=True)
        assert server.search_items("a", SearchQuery()).number_matched == 200
        assert indexes(index_path) == set()
        server.close()
    finally:
        loader.execute("ROLLBACK")
        loader.close()
    SQLiteIndex(index_path).close()  # the next opening finds the lock free
    assert indexes(index_path) == PUT_OFF


def _point_at(ident: str, x: float, name: str) -> Item:
    return Item(ident, "a", {"type": "Point", "coordinates": [x, 51.2]}, {"name": name}, None)


@pytest.mark.usefixtures("small_commits")
def test_ids_given_twice_in_a_first_load_keep_the_first_item(index_path: Path) -> None:
    """Without the id index a first load cannot look ids up: an id given again, in the same
    batch or in a later one, is reported at the load's end and leaves no word or box behind."""
    records: list[Dataset | Item] = [dataset("a"), *items("a", 100)]
    records.insert(30, _point_at("a-5", 7.5, "Zweitbaum"))  # a later batch of 20
    records.insert(8, _point_at("a-3", 7.6, "Drittbaum"))  # the batch a-3 is in
    records.append(_point_at("a-50", 7.7, "Spaetbaum"))  # many commits later
    index = SQLiteIndex(index_path)
    try:
        stats = index.upsert(records, run_id="r1", batch_size=20)
        assert stats.added == 101
        assert sorted(stats.failed) == [
            (i, "duplicate item id within the source") for i in ("a-3", "a-5", "a-50")
        ]
        index.refresh_datasets(["a"])
        assert indexes(index_path) == PUT_OFF and not marked(index_path)
        got = index.get_item("a", "a-5")
        assert got is not None and got.properties == {"n": 5}
        for name in ("Zweitbaum", "Drittbaum", "Spaetbaum"):
            assert index.search_items("a", SearchQuery(text=name)).number_matched == 0
        assert index.search_items("a", SearchQuery(bbox=(7.4, 51, 7.8, 52))).number_matched == 0
        everything = index.search_items("a", SearchQuery(limit=1000))
        assert everything.number_matched == len(everything.records) == 100
        assert index.collections()[0].dataset.item_count == 100
        # the id index is unique again: a later run updates, it does not add
        again = index.upsert([dataset("a"), _point_at("a-5", 6.9, "Neu")], run_id="r2")
        assert again.updated == 1 and again.added == 0
    finally:
        index.close()
    conn = sqlite3.connect(index_path)
    assert conn.execute("SELECT count(*) FROM items").fetchone() == (100,)
    assert fts_entries(conn) == 100
    assert conn.execute("SELECT count(*) FROM items_rtree").fetchone() == (100,)
    conn.close()


def test_opening_a_file_a_dead_load_left_with_ids_given_twice_keeps_the_first(
    index_path: Path,
) -> None:
    _as_a_load_left_it(index_path)
    conn = sqlite3.connect(index_path)
    conn.execute(  # what the load wrote before it died: an id it had already written
        "INSERT INTO items(ds, id, run, hash, properties) VALUES (1, 'a-7', 1, 'x', '{}')"
    )
    conn.commit()
    conn.close()
    index = SQLiteIndex(index_path, read_mostly=True)
    try:
        assert indexes(index_path) == PUT_OFF and not marked(index_path)
        got = index.get_item("a", "a-7")
        assert got is not None and got.properties == {"n": 7}
    finally:
        index.close()


def _derived(path: Path) -> tuple:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT item_count, derived, minx, miny, maxx, maxy, t_start, t_end FROM datasets"
        ).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("open_end", [False, True])
def test_a_first_loads_count_extent_and_time_are_those_of_its_rows(
    index_path: Path, open_end: bool
) -> None:
    """The refresh after a load from empty takes count, extent and time range from what the
    writer held; they equal what a scan of the rows (the next refresh) finds."""
    records: list[Dataset | Item] = [dataset("a")]
    for i in range(230):
        geometry = (
            None if i % 7 == 0 else {"type": "Point", "coordinates": [6.5 + i / 97, 51.1 - i / 501]}
        )
        if i % 11 == 0:
            times: tuple[str | None, str | None] = (None, None)
        elif i % 13 == 0:
            times = (
                f"2023-0{1 + i % 9}-01T00:00:00Z",
                ".." if open_end else "2025-12-31T00:00:00Z",
            )
        else:
            times = (f"2024-0{1 + i % 9}-{1 + i % 28:02d}T00:00:00Z", None)
        records.append(Item(f"a-{i}", "a", geometry, {"n": i}, *times))
    index = SQLiteIndex(index_path)
    try:
        index.upsert(records, run_id="r1", batch_size=40)
        index.refresh_datasets(["a"])  # from what was held
        held = _derived(index_path)
        index.refresh_datasets(["a"])  # from the rows
        assert held == _derived(index_path)
        assert held[0] == 230 and held[2:6] == (
            6.5 + 1 / 97,
            51.1 - 229 / 501,
            6.5 + 229 / 97,
            51.1 - 1 / 501,
        )
    finally:
        index.close()
