"""A first load into the embedded index's empty items table builds two of its indexes once at
the end; whatever way the load ends, and whoever opens the file next, the indexes are there."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalogue.index.sqlite import SQLiteIndex, schema, store
from catalogue.model import Dataset, Item, Provenance
from catalogue.query import SearchQuery, parse_time_interval

PUT_OFF = {"items_time", "items_ds"}


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
    conn.execute("DROP INDEX items_time")
    conn.execute("DROP INDEX items_ds")
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
