"""The embedded index through its protocol: writes, reads and the whole query model."""

from __future__ import annotations

import random
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
import shapely.geometry
from conftest import fts_entries

from catalogue.errors import NotFoundError, QueryError
from catalogue.index import Index
from catalogue.index.sqlite import SQLiteIndex, schema
from catalogue.index.sqlite.bounds import Bounds, BoundsCache
from catalogue.index.sqlite.dataset_search import SORT_BY_INDEX_FROM, DatasetSearch
from catalogue.index.sqlite.rows import stored_item_text
from catalogue.index.transfer import copy_index
from catalogue.model import Dataset, Item, Provenance
from catalogue.query import (
    SearchQuery,
    SortKey,
    parse_cql2_json,
    parse_cql2_text,
    parse_time_interval,
)


def dataset(source: str = "src", ident: str = "src", **kw: object) -> Dataset:
    return Dataset(
        id=ident,
        title=kw.pop("title", "Bäume in Düsseldorf"),  # type: ignore[arg-type]
        provenance=Provenance(source, "geojson", None, ident),
        **kw,  # type: ignore[arg-type]
    ).with_hash()


def point(i: int, x: float, y: float, ds: str = "src", **props: object) -> Item:
    return Item(str(i), ds, {"type": "Point", "coordinates": [x, y]}, {"n": i, **props})


def load(index: SQLiteIndex, items: list[Item], run: str = "r1", ds: Dataset | None = None) -> None:
    ds = ds or dataset()
    stats = index.upsert([ds, *items], run_id=run)
    assert not stats.failed
    index.refresh_datasets([ds.id])


def test_backend_satisfies_the_protocol(index: SQLiteIndex) -> None:
    assert isinstance(index, Index)


def test_upsert_counts_added_updated_unchanged_and_stale_deletes(index: SQLiteIndex) -> None:
    items = [point(i, 6.7 + i / 100, 51.2) for i in range(10)]
    first = index.upsert([dataset(), *items], run_id="r1")
    assert (first.added, first.updated, first.unchanged) == (11, 0, 0)

    changed = items[:5] + [point(5, 6.9, 51.3, extra="x")] + items[6:9]  # 9 gone, 5 changed
    second = index.upsert([dataset(), *changed], run_id="r2")
    assert (second.added, second.updated, second.unchanged) == (0, 1, 9)
    assert index.delete_stale("src", "r2") == 1
    index.refresh_datasets(["src"])
    assert index.get_item("src", "9") is None
    assert index.get_item("src", "5").properties["extra"] == "x"  # type: ignore[union-attr]
    assert index.get_dataset("src").item_count == 9  # type: ignore[union-attr]


def test_changed_items_are_updated_in_place_with_their_text_and_box(
    index: SQLiteIndex, index_path: Path
) -> None:
    def item(i: int, geometry: dict[str, object] | None, **props: object) -> Item:
        return Item(str(i), "src", geometry, {"name": f"Baum {i}", **props})

    def at(x: float) -> dict[str, object]:
        return {"type": "Point", "coordinates": [x, 51.2]}

    load(index, [item(i, at(6.7 + i / 100), height=1) for i in range(8)])
    load(
        index,
        [
            item(0, at(6.70), height=1),  # unchanged
            item(1, at(6.71), height=2),  # a number: same text, same place
            Item("2", "src", at(6.72), {"name": "Linde 2", "height": 1}),  # new text
            item(3, at(6.93), height=1),  # moved
            item(4, None, height=1),  # lost its geometry
            item(5, at(6.75), height=1),
            item(6, at(6.76), height=1),
            item(7, at(6.77), height=1),
        ],
        run="r2",
    )
    in_order = index.search_items("src", SearchQuery(limit=20)).records
    assert [i.id for i in in_order] == [str(i) for i in range(8)]  # each kept its place
    assert index.get_item("src", "1").properties["height"] == 2  # type: ignore[union-attr]

    def found(**query: Any) -> list[str]:
        q = SearchQuery(sort=(SortKey("id"),), limit=20, **query)
        return [i.id for i in index.search_items("src", q).records]

    assert found(text="Linde") == ["2"] and "2" not in found(text="Baum")
    assert found(bbox=(6.925, 51.1, 6.935, 51.3)) == ["3"]
    assert found(bbox=(6.725, 51.1, 6.745, 51.3)) == []  # neither 3's nor 4's old place
    # no entry left behind: one FTS row per item, one R*Tree entry per located item
    with sqlite3.connect(index_path) as conn:
        assert fts_entries(conn) == 8
        assert conn.execute("SELECT count(*) FROM items_rtree").fetchone() == (7,)
        assert conn.execute(
            "SELECT count(*) FROM items_fts WHERE items_fts MATCH 'baum'"
        ).fetchone() == (7,)


def test_duplicate_ids_and_unknown_datasets_are_reported_not_fatal(index: SQLiteIndex) -> None:
    stats = index.upsert(
        [dataset(), point(1, 6.7, 51.2), point(1, 6.8, 51.2), point(2, 6.7, 51.2, ds="nope")],
        run_id="r1",
    )
    reasons = sorted(r for _, r in stats.failed)
    assert len(reasons) == 2
    assert "duplicate" in reasons[0] and "unknown dataset" in reasons[1]
    assert stats.added == 2


def test_invalid_geometry_is_reported_and_the_rest_is_stored(index: SQLiteIndex) -> None:
    bad = Item("bad", "src", {"type": "Point", "coordinates": [500, 0]}, {})
    stats = index.upsert([dataset(), bad, point(1, 6.7, 51.2)], run_id="r1")
    assert stats.added == 2 and stats.failed[0][0] == "bad"


def test_a_dataset_id_of_another_source_is_not_taken_over(index: SQLiteIndex) -> None:
    index.upsert([dataset("a", "same")], run_id="r1")
    stats = index.upsert([dataset("b", "same")], run_id="r2")
    assert stats.failed and "source 'a'" in stats.failed[0][1]


def test_bbox_is_exact_at_the_edges(index: SQLiteIndex) -> None:
    # the R*Tree stores float32 boxes; a point 1e-7 outside the box must not match
    items = [point(1, 6.7, 51.2), point(2, 6.7000001, 51.2), point(3, 6.6999999, 51.2)]
    load(index, items)
    result = index.search_items("src", SearchQuery(bbox=(6.6, 51.1, 6.7, 51.3)))
    assert sorted(i.id for i in result.records) == ["1", "3"]
    assert result.number_matched == 2


def test_bbox_on_polygons_uses_their_shape_not_their_box(index: SQLiteIndex) -> None:
    triangle = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [0, 10], [0, 0]]]}
    load(index, [Item("t", "src", triangle, {})])
    inside_box_outside_shape = (8.0, 8.0, 9.0, 9.0)
    assert index.search_items("src", SearchQuery(bbox=inside_box_outside_shape)).number_matched == 0
    assert index.search_items("src", SearchQuery(bbox=(1, 1, 2, 2))).number_matched == 1


def test_a_bbox_over_most_of_the_extent_gives_the_same_answer(index: SQLiteIndex) -> None:
    items = [point(i, 6.7 + (i % 20) / 100, 51.1 + (i // 20) / 100) for i in range(400)]
    load(index, items)
    whole = index.search_items("src", SearchQuery(bbox=(6.0, 51.0, 7.0, 52.0), limit=1000))
    small = index.search_items("src", SearchQuery(bbox=(6.7, 51.1, 6.75, 51.15), limit=1000))
    assert whole.number_matched == 400
    assert small.number_matched == 6 * 6


def test_time_intervals_instants_and_open_ends(index: SQLiteIndex) -> None:
    items = [
        Item("a", "src", None, {}, "2020-01-01T00:00:00Z"),
        Item("b", "src", None, {}, "2021-06-01T00:00:00Z", "2021-12-31T00:00:00Z"),
        Item("c", "src", None, {}, "2023-01-01T00:00:00Z", ".."),
        Item("d", "src", None, {}),
    ]
    load(index, items)

    def ids(text: str) -> list[str]:
        q = SearchQuery(time=parse_time_interval(text), sort=(SortKey("id"),))
        return [i.id for i in index.search_items("src", q).records]

    assert ids("2020-01-01") == ["a"]
    assert ids("2021-07-01T00:00:00Z") == ["b"]
    assert ids("../2021-06-01") == ["a", "b"]
    assert ids("2022-01-01/..") == ["c"]
    assert ids("2030-01-01/2031-01-01") == ["c"]
    stored = index.get_item("src", "c")
    assert stored is not None and stored.time_end == ".."


def test_a_scan_reads_every_item_once_in_stored_order_with_its_time(
    index: SQLiteIndex, tmp_path: Path
) -> None:
    times = [
        ("2020-01-01T00:00:00Z", None),
        ("1969-07-20T20:17:40Z", None),  # before 1970
        ("2021-06-01T12:00:00.250Z", "2021-12-31T00:00:00Z"),  # fractional seconds
        ("2023-01-01T00:00:00Z", ".."),
        ("..", "1999-12-31T23:59:59Z"),
        (None, None),
    ]
    items = [Item(str(12 - i), "src", None, {"n": i}, *times[i % len(times)]) for i in range(12)]
    load(index, items)  # stored as 12, 11, … 1: not the ids' order
    scanned = list(index.scan_items("src"))
    assert scanned == items
    assert [index.get_item("src", i.id) for i in scanned] == items
    assert list(index.scan_items("no-such-dataset")) == []
    # a copy reads by scanning, so the copy keeps the items' order
    target = SQLiteIndex(tmp_path / "copy.sqlite")
    try:
        copy_index(index, target)
        copied = target.search_items("src", SearchQuery(limit=100)).records
        assert [i.id for i in copied] == [str(12 - i) for i in range(12)]
    finally:
        target.close()


def test_text_search_folds_diacritics_and_matches_word_prefixes(index: SQLiteIndex) -> None:
    load(
        index,
        [point(1, 6.7, 51.2, name="Rheinturm Düsseldorf"), point(2, 6.7, 51.2, name="Kö-Bogen")],
    )
    for q, expected in [
        ("dusseldorf", ["1"]),
        ("Düsseldorf", ["1"]),
        ("rhein", ["1"]),
        ("bogen", ["2"]),
        ("rheinturm,bogen", ["1", "2"]),
        ("nichts", []),
    ]:
        got = index.search_items("src", SearchQuery(text=q, sort=(SortKey("id"),)))
        assert [i.id for i in got.records] == expected, q


def test_text_that_looks_like_fts_or_sql_syntax_is_just_text(index: SQLiteIndex) -> None:
    load(index, [point(1, 6.7, 51.2, name="a")])
    for q in ['"', "NEAR(", "a OR", "'; DROP TABLE items;--", "*", "a AND NOT"]:
        index.search_items("src", SearchQuery(text=q))
    assert index.search_items("src", SearchQuery()).number_matched == 1


def test_property_equality_follows_the_field_type(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7, 51.2, kind="x" if i % 2 else "y", ok=i < 3) for i in range(6)])
    assert index.search_items("src", SearchQuery(properties=(("n", "4"),))).number_matched == 1
    assert index.search_items("src", SearchQuery(properties=(("kind", "x"),))).number_matched == 3
    assert index.search_items("src", SearchQuery(properties=(("ok", "true"),))).number_matched == 3
    with pytest.raises(QueryError):
        index.search_items("src", SearchQuery(properties=(("n", "four"),)))
    with pytest.raises(QueryError):
        index.search_items("src", SearchQuery(properties=(("missing", "1"),)))


def test_cql2_text_and_json_filters(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7 + i / 100, 51.2, name=f"Ort {i}") for i in range(10)])

    def count(node: object) -> int:
        return index.search_items("src", SearchQuery(filter=node)).number_matched  # type: ignore[arg-type]

    assert count(parse_cql2_text("n >= 5 AND n < 8")) == 3
    assert count(parse_cql2_text("n IN (1, 2, 99)")) == 2
    assert count(parse_cql2_text("n BETWEEN 2 AND 4")) == 3
    assert count(parse_cql2_text("name LIKE 'Ort 1%'")) == 1
    assert count(parse_cql2_text("NOT n < 9")) == 1
    assert count(parse_cql2_text("name IS NULL")) == 0
    assert (
        count(
            parse_cql2_text(
                "INTERSECTS(geometry, POLYGON((6.695 51.1, 6.735 51.1, 6.735 51.3, "
                "6.695 51.3, 6.695 51.1)))"
            )
        )
        == 4
    )
    assert count(parse_cql2_text("S_INTERSECTS(geometry, POINT(6.7 51.2))")) == 1
    assert count(parse_cql2_json({"op": ">", "args": [{"property": "n"}, 7]})) == 2
    with pytest.raises(QueryError):
        count(parse_cql2_text("unknown_property = 1"))


def test_like_is_case_sensitive_and_values_are_parameters(index: SQLiteIndex) -> None:
    load(index, [point(1, 6.7, 51.2, name="Ort"), point(2, 6.7, 51.2, name="' OR 1=1 --")])
    assert (
        index.search_items(
            "src", SearchQuery(filter=parse_cql2_text("name LIKE 'ort'"))
        ).number_matched
        == 0
    )
    hit = index.search_items("src", SearchQuery(properties=(("name", "' OR 1=1 --"),)))
    assert [i.id for i in hit.records] == ["2"]


def test_sort_paging_hits_and_facets(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7, 51.2, kind="abc"[i % 3]) for i in range(10)])
    page = index.search_items("src", SearchQuery(sort=(SortKey("n", True),), limit=3, offset=3))
    assert [i.id for i in page.records] == ["6", "5", "4"] and page.number_matched == 10
    hits = index.search_items("src", SearchQuery(result_type="hits"))
    assert hits.records == [] and hits.number_matched == 10
    facets = index.search_items("src", SearchQuery(facets=("kind",), limit=1)).facets["kind"]
    assert [(f.value, f.count) for f in facets] == [("a", 4), ("b", 3), ("c", 3)]


def test_facets_count_hits_only_and_follow_new_data(index: SQLiteIndex) -> None:
    load(
        index,
        [
            point(i, 6.7 + i / 100, 51.2, kind="abc"[i % 3], tags=["x", "y"][: i % 3])
            for i in range(10)
        ],
    )
    west = SearchQuery(bbox=(6.69, 51.19, 6.745, 51.21), facets=("kind", "tags"), limit=0)
    result = index.search_items("src", west)  # items 0..4
    assert result.number_matched == 5
    assert [(f.value, f.count) for f in result.facets["kind"]] == [("a", 2), ("b", 2), ("c", 1)]
    assert [(f.value, f.count) for f in result.facets["tags"]] == [("x", 3), ("y", 1)]
    nothing = index.search_items("src", SearchQuery(bbox=(0, 0, 1, 1), facets=("kind",)))
    assert nothing.number_matched == 0 and nothing.facets["kind"] == []
    # a new harvest changes the counts (the cached columns follow the index generation)
    load(index, [point(i, 6.7 + i / 100, 51.2, kind="z") for i in range(10)], run="r2")
    west = SearchQuery(bbox=west.bbox, facets=("kind",), limit=0)
    again = index.search_items("src", west)
    assert [(f.value, f.count) for f in again.facets["kind"]] == [("z", 5)]
    # another process's index object sees the same
    other = SQLiteIndex(index.path, read_mostly=True)
    try:
        assert other.search_items("src", west).facets == again.facets
    finally:
        other.close()


def _shape(i: int, geometry: dict[str, object]) -> Item:
    return Item(str(i), "src", geometry, {"n": i, "label": f"Form {i}"})


RECT = {"type": "Polygon", "coordinates": [[[6, 51], [7, 51], [7, 52], [6, 52], [6, 51]]]}
TRIANGLE = {"type": "Polygon", "coordinates": [[[6, 51], [7, 51], [7, 52], [6, 51]]]}


def test_boxes_and_shapes_against_a_bbox(index: SQLiteIndex) -> None:
    load(index, [_shape(1, RECT), _shape(2, TRIANGLE), point(3, 6.99, 51.99)])
    # the box touches the triangle's bounds in its empty corner, and the rectangle
    corner = index.search_items("src", SearchQuery(bbox=(6.0, 51.9, 6.05, 52.0)))
    assert sorted(i.id for i in corner.records) == ["1"]
    inside = index.search_items("src", SearchQuery(bbox=(6.9, 51.0, 7.0, 52.0)))
    assert sorted(i.id for i in inside.records) == ["1", "2", "3"]
    flags = dict(sqlite3.connect(index.path).execute("SELECT id, envelope FROM items"))
    assert flags == {"1": 1, "2": 0, "3": 1}


def test_version_3_index_is_migrated(index: SQLiteIndex) -> None:
    load(index, [_shape(1, RECT), _shape(2, TRIANGLE), point(3, 6.99, 51.99)])
    index.close()
    conn = sqlite3.connect(index.path)
    conn.execute("ALTER TABLE items DROP COLUMN envelope")
    conn.execute("PRAGMA legacy_alter_table = ON")
    conn.execute("CREATE VIRTUAL TABLE old_fts USING fts5(text)")
    conn.executemany(
        "INSERT INTO old_fts(rowid, text) VALUES (?, ?)",
        [(rid, " ".join(map(str, orjson.loads(p).values()))) for rid, p in _properties(conn)],
    )
    conn.execute("DROP TRIGGER items_delete")
    conn.execute("DROP TABLE items_fts")
    conn.execute("ALTER TABLE old_fts RENAME TO items_fts")
    conn.execute(_V4_ITEMS_DELETE)
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    again = SQLiteIndex(index.path)
    try:
        conn = sqlite3.connect(index.path)
        assert dict(conn.execute("SELECT id, envelope FROM items")) == {"1": 1, "2": 0, "3": 1}
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "6"
        )
        corner = again.search_items("src", SearchQuery(bbox=(6.0, 51.9, 6.05, 52.0)))
        assert [i.id for i in corner.records] == ["1"]
        assert again.search_items("src", SearchQuery(text="form")).number_matched == 2
    finally:
        again.close()


_V4_ITEMS_DELETE = """CREATE TRIGGER items_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
    DELETE FROM items_fts WHERE rowid = old.rid;
END"""


def _properties(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return conn.execute("SELECT rid, properties FROM items ORDER BY rid").fetchall()


def _words(path: Path) -> list[tuple[str, int, int]]:
    """Every word of the items' full-text index with its row and occurrence counts."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, items_fts, 'row')")
        return conn.execute("SELECT term, doc, cnt FROM temp.words ORDER BY term").fetchall()
    finally:
        conn.close()


def test_version_4_index_is_migrated_to_words_without_stored_text(index: SQLiteIndex) -> None:
    items = [point(i, 6.7, 51.2, name=f"Baum {i}", seen="2021-06-02T08:24:55Z") for i in range(5)]
    load(index, items)
    words = _words(index.path)
    index.close()
    conn = sqlite3.connect(index.path)  # the version 4 layout: the text stored, dates as words
    conn.execute("DROP TRIGGER items_delete")
    conn.execute("DROP TABLE items_fts")
    conn.execute('CREATE VIRTUAL TABLE items_fts USING fts5(text, ds, tokenize="unicode61")')
    conn.executemany(
        "INSERT INTO items_fts(rowid, text, ds) VALUES (?, ?, 1)",
        [(rid, " ".join(map(str, orjson.loads(p).values()))) for rid, p in _properties(conn)],
    )
    conn.execute(_V4_ITEMS_DELETE)
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert _words(index.path) != words  # "2021", "06" … were words
    again = SQLiteIndex(index.path)
    try:
        conn = sqlite3.connect(index.path)
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        fts = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_fts'").fetchone()
        conn.close()
        assert version == ("6",)
        assert "content=''" in fts[0]
        assert _words(index.path) == words
        assert again.search_items("src", SearchQuery(text="baum")).number_matched == 5
        assert again.search_items("src", SearchQuery(text="2021")).number_matched == 0
        again.delete_items("src", ["0", "1"])
        assert again.search_items("src", SearchQuery(text="baum")).number_matched == 3
    finally:
        again.close()


def test_version_5_index_is_migrated_to_an_id_index_of_its_own(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7 + i / 100, 51.2, name=f"Baum {i}") for i in range(5)])
    words = _words(index.path)
    index.close()
    conn = sqlite3.connect(index.path)  # the version 5 layout: ids unique in the table
    conn.execute("DROP TRIGGER items_delete")
    conn.execute("DROP TRIGGER datasets_delete")
    conn.execute("ALTER TABLE items RENAME TO items_6")
    table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_6'").fetchone()[0]
    conn.execute(
        table.replace("items_6", "items").replace("DEFAULT 0", "DEFAULT 0, UNIQUE (ds, id)")
    )
    conn.execute("INSERT INTO items SELECT * FROM items_6")
    conn.execute("DROP TABLE items_6")
    conn.execute("DROP TABLE items_fts")
    conn.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5(text, ds, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    conn.executemany(
        "INSERT INTO items_fts(rowid, text, ds) VALUES (?, ?, 1)",
        [(rid, stored_item_text(p)) for rid, p in _properties(conn)],
    )
    conn.execute(schema.ITEMS_DELETE)
    conn.execute(schema.DATASETS_DELETE)
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    autoindex = "SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_items%'"
    assert conn.execute(autoindex).fetchall()
    conn.close()
    again = SQLiteIndex(index.path)
    try:
        conn = sqlite3.connect(index.path)
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        fts = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_fts'").fetchone()
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert version == ("6",)
        assert "columnsize=0" in fts[0]
        assert {"items_id", "items_time", "items_ds", "items_delete", "datasets_delete"} <= names
        assert not conn.execute(autoindex).fetchall()
        assert fts_entries(conn) == 5
        conn.close()
        assert _words(index.path) == words
        assert again.search_items("src", SearchQuery(text="baum")).number_matched == 5
        assert (
            again.search_items("src", SearchQuery(bbox=(6.705, 51, 6.725, 52))).number_matched == 2
        )
        again.delete_items("src", ["0", "1"])
        assert again.search_items("src", SearchQuery(text="baum")).number_matched == 3
        renamed = point(2, 6.7, 51.2, name="Linde")
        stats = again.upsert([renamed], run_id="r9")  # the id index finds it
        assert stats.updated == 1 and stats.added == 0
    finally:
        again.close()


def test_words_follow_changes_and_deletions_without_stored_text(
    index: SQLiteIndex, tmp_path: Path
) -> None:
    """The full-text table keeps no text, so it forgets an item's words only when given them
    again: after renames, moves, unchanged items, deletions and a stale sweep, its words are
    exactly those of a new index of what is left."""
    nested = {"tags": ["Linde", {"art": "Spitzahorn"}]}
    load(index, [point(i, 6.7, 51.2, name=f"Baum {i}", **nested) for i in range(20)])
    second = [
        point(i, 6.7 + (i % 3) / 100, 51.2, name=f"Baum {i}" if i % 2 else f"Platane {i}")
        for i in range(4, 20)
    ]
    load(index, second, run="r2")
    index.delete_stale("src", "r2")
    index.delete_items("src", ["5", "6"])
    left = [i for i in second if i.id not in ("5", "6")]
    fresh = SQLiteIndex(tmp_path / "fresh.sqlite")
    try:
        load(fresh, left)
    finally:
        fresh.close()
    assert _words(index.path) == _words(tmp_path / "fresh.sqlite")
    assert ("platane", 7, 7) in _words(index.path)
    assert index.search_items("src", SearchQuery(text="linde")).number_matched == 0
    index.delete_source("src")
    assert _words(index.path) == []


def test_whole_collection_count_follows_every_write(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7, 51.2) for i in range(5)])
    reader = SQLiteIndex(index.path, read_mostly=True)
    try:
        assert reader.search_items("src", SearchQuery()).number_matched == 5
        assert reader.search_items("src", SearchQuery()).number_matched == 5  # cached
        # another connection adds items without refreshing the dataset (a harvest under way)
        index.upsert([dataset(), *(point(i, 6.7, 51.2) for i in range(8))], run_id="r2")
        assert reader.search_items("src", SearchQuery()).number_matched == 8
        index.delete_items("src", ["0", "1"])
        assert reader.search_items("src", SearchQuery()).number_matched == 6
        # and the reader's own writes
        reader.delete_items("src", ["2"])
        assert reader.search_items("src", SearchQuery()).number_matched == 5
        assert index.search_items("src", SearchQuery()).number_matched == 5
    finally:
        reader.close()


def test_text_counts_and_facets_stay_in_their_collection(index: SQLiteIndex) -> None:
    other = dataset("other", "other")
    index.upsert(
        [
            dataset(),
            other,
            *(point(i, 6.7, 51.2, label="Verkehrszählung", kind="ab"[i % 2]) for i in range(5)),
            *(point(i, 6.7, 51.2, ds="other", label="Verkehr", kind="c") for i in range(7)),
        ],
        run_id="r1",
    )
    index.refresh_datasets(["src", "other"])
    mine = index.search_items("src", SearchQuery(text="verkehr", facets=("kind",)))
    assert mine.number_matched == 5 and len(mine.records) == 5
    assert [(f.value, f.count) for f in mine.facets["kind"]] == [("a", 3), ("b", 2)]
    theirs = index.search_items("other", SearchQuery(text="verkehr zahlung"))
    assert theirs.number_matched == 0


def test_a_search_past_the_time_limit_is_stopped(index_path: Path) -> None:
    from catalogue.errors import QueryTooExpensiveError

    index = SQLiteIndex(index_path, query_timeout=1e-6)
    try:
        load(index, [point(i, 6.7 + i / 1e5, 51.2, kind="abc"[i % 3]) for i in range(5000)])
        with pytest.raises(QueryTooExpensiveError, match="took longer"):
            index.search_items("src", SearchQuery(properties=(("kind", "a"),)))
        index.upsert([dataset(f"s{i}", f"s{i}") for i in range(2000)], run_id="r2")
        with pytest.raises(QueryTooExpensiveError):
            index.search_datasets(SearchQuery(text="Bäume", sort=(SortKey("title"),)))
        # the connection is usable again, and writes are not limited
        index.query_timeout = 30
        assert index.search_items("src", SearchQuery(properties=(("kind", "a"),))).number_matched
    finally:
        index.close()


def test_unknown_collection_is_not_found(index: SQLiteIndex) -> None:
    with pytest.raises(NotFoundError):
        index.search_items("nope", SearchQuery())


def test_dataset_search_text_bbox_time_and_facets(index: SQLiteIndex) -> None:
    index.upsert(
        [
            dataset(
                "a",
                "a",
                title="Luftqualität Messwerte",
                keywords=("Umwelt",),
                spatial=(6.7, 51.1, 6.8, 51.2),
                temporal=("2020-01-01", "2020-12-31"),
            ),
            dataset(
                "b",
                "b",
                title="Radverkehrsnetz",
                keywords=("Verkehr", "Umwelt"),
                spatial=(7.0, 50.0, 7.1, 50.1),
            ),
        ],
        run_id="r1",
    )
    assert [d.id for d in index.search_datasets(SearchQuery(text="Luftqualitat")).records] == ["a"]
    assert [
        d.id for d in index.search_datasets(SearchQuery(bbox=(7.05, 50.05, 8, 51))).records
    ] == ["b"]
    in_2020 = index.search_datasets(SearchQuery(time=parse_time_interval("2020-06-01")))
    assert [d.id for d in in_2020.records] == ["a"]
    facets = index.search_datasets(SearchQuery(facets=("keywords",))).facets["keywords"]
    assert [(f.value, f.count) for f in facets] == [("Umwelt", 2), ("Verkehr", 1)]
    keyword = index.search_datasets(SearchQuery(properties=(("keywords", "Verkehr"),)))
    assert [d.id for d in keyword.records] == ["b"]


def test_dataset_search_combines_text_terms_sort_and_paging(index: SQLiteIndex) -> None:
    titles = ["Umwelt Bäume", "Umweltzonen", "Verkehr Umwelt", "Lärm Umwelt", "Verkehr", "Umwelt"]
    index.upsert(
        [
            dataset(
                f"s{i}",
                f"s{i}",
                title=t,
                keywords=("Verkehr",) if i % 2 else ("Natur",),
                themes=("TRAN",) if i < 4 else (),
            )
            for i, t in enumerate(titles)
        ],
        run_id="r1",
    )
    expected = sorted(
        (t for i, t in enumerate(titles) if "Umwelt" in t and i % 2), reverse=True
    )  # Verkehr Umwelt, Umweltzonen, Umwelt
    query = SearchQuery(
        text="umwelt",
        properties=(("keywords", "Verkehr"),),
        sort=(SortKey("title", True),),
        facets=("themes",),
        limit=2,
        offset=1,
    )
    result = index.search_datasets(query)
    assert result.number_matched == len(expected) == 3
    assert [d.title for d in result.records] == expected[1:3]
    assert [(f.value, f.count) for f in result.facets["themes"]] == [("TRAN", 2)]
    # terms alone, and two terms together
    both = SearchQuery(properties=(("keywords", "Verkehr"), ("themes", "TRAN")), limit=10)
    assert sorted(d.title for d in index.search_datasets(both).records) == [
        "Lärm Umwelt",
        "Umweltzonen",
    ]
    assert index.search_datasets(both).number_matched == 2


def test_districts_are_a_list_field_of_datasets(index: SQLiteIndex) -> None:
    index.upsert(
        [
            dataset("a", "a", extras={"districts": ["Altstadt", "Carlstadt"]}),
            dataset("b", "b", extras={"districts": ["Altstadt"]}),
            dataset("c", "c"),
        ],
        run_id="r1",
    )
    result = index.search_datasets(SearchQuery(facets=("districts",)))
    assert [(f.value, f.count) for f in result.facets["districts"]] == [
        ("Altstadt", 2),
        ("Carlstadt", 1),
    ]
    only = index.search_datasets(SearchQuery(properties=(("districts", "Carlstadt"),)))
    assert [d.id for d in only.records] == ["a"]


def test_generation_follows_datasets_not_item_batches(index: SQLiteIndex) -> None:
    before = index.generation()
    index.upsert([dataset()], run_id="r1")
    after_dataset = index.generation()
    assert after_dataset > before
    index.upsert([dataset(), point(1, 6.7, 51.2)], run_id="r2")  # dataset unchanged
    assert index.generation() == after_dataset
    index.refresh_datasets(["src"])
    assert index.generation() > after_dataset


def test_the_file_is_a_plain_sqlite_database_in_wal_mode(
    index: SQLiteIndex, index_path: Path
) -> None:
    load(index, [point(1, 6.7, 51.2)])
    conn = sqlite3.connect(index_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 1
    conn.close()


def test_delete_source_removes_datasets_and_items(index: SQLiteIndex) -> None:
    load(index, [point(1, 6.7, 51.2)])
    assert index.delete_source("src") == 1
    assert index.get_item("src", "1") is None
    assert index.search_items.__self__ is index  # the index stays usable
    assert index.source_counts() == {}


def _mixed_items(rng: random.Random, n: int) -> list[Item]:
    """Points, rectangles, triangles, lines and items without geometry in a 1° square."""
    items = []
    for i in range(n):
        x, y = rng.uniform(6.5, 7.5), rng.uniform(51.0, 52.0)
        w, h = rng.uniform(0.001, 0.4), rng.uniform(0.001, 0.4)
        kind = i % 5
        geometry: dict[str, object] | None
        if kind == 0:
            geometry = {"type": "Point", "coordinates": [x, y]}
        elif kind == 1:
            ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        elif kind == 2:
            geometry = {
                "type": "Polygon",
                "coordinates": [[[x, y], [x + w, y], [x, y + h], [x, y]]],
            }
        elif kind == 3:
            geometry = {"type": "LineString", "coordinates": [[x, y], [x + w, y + h]]}
        else:
            geometry = None
        word = "Radweg" if i % 3 == 0 else "Parkplatz"
        properties = {"n": i, "name": f"{word} {i}", "word": word}
        items.append(Item(str(i), "src", geometry, properties))
    return items


def test_bbox_hits_are_exact_whether_the_collection_is_settled_or_being_written(
    index: SQLiteIndex,
) -> None:
    """A settled collection is searched in its bounds arrays, one whose items were just written
    by SQL; both give the answer of an exact geometry test, with text, paging, sort and facets."""
    rng = random.Random(5)
    items = _mixed_items(rng, 600)
    load(index, items)
    boxes = []
    for _ in range(25):
        x, y = rng.uniform(6.4, 7.4), rng.uniform(50.9, 51.9)
        boxes.append((x, y, x + rng.uniform(0.01, 0.6), y + rng.uniform(0.01, 0.6)))

    def expected(box: tuple[float, float, float, float], word: str | None) -> list[str]:
        area = shapely.box(*box)
        shapes = {it.id: shapely.geometry.shape(it.geometry) for it in items if it.geometry}
        return sorted(
            (
                it.id
                for it in items
                if it.id in shapes
                and shapely.intersects(shapes[it.id], area)
                and (word is None or word in it.properties["name"])
            ),
            key=int,
        )

    def check_all(facets: bool) -> None:
        for box in boxes:
            for word in (None, "Radweg"):
                want = expected(box, word)
                by_n = SearchQuery(bbox=box, text=word, limit=1000, sort=(SortKey("n"),))
                assert [r.id for r in index.search_items("src", by_n).records] == want
                everything = SearchQuery(bbox=box, text=word, limit=1000)
                in_row_order = [r.id for r in index.search_items("src", everything).records]
                assert sorted(in_row_order, key=int) == want
                page = SearchQuery(bbox=box, text=word, limit=3, offset=2, facets=("word",))
                result = index.search_items("src", page)
                assert result.number_matched == len(want)
                assert [r.id for r in result.records] == in_row_order[2:5]
                if facets:  # (item facets follow the generation: refreshed after a harvest)
                    assert sum(f.count for f in result.facets.get("word", [])) == len(want)

    check_all(facets=True)  # settled (first seen): answered from the bounds arrays
    # a harvest writes: the collection's items change, searches use SQL until it settles
    moved = Item("0", "src", {"type": "Point", "coordinates": [7.0, 51.5]}, {"n": 0})
    items[0] = Item("0", "src", moved.geometry, {"n": 0, "name": "Radweg 0", "word": "Radweg"})
    assert not index.upsert([items[0]], run_id="r2").failed
    check_all(facets=False)
    assert index.search_items("src", SearchQuery(bbox=(6.99, 51.49, 7.01, 51.51))).number_matched


def test_a_box_alone_in_sql_is_exact_closer_to_its_edges_than_float32(
    index: SQLiteIndex,
) -> None:
    """A box over a collection not held in arrays: the R*Tree's float32 boxes decide only
    what lies inside; items at the edges are tested on their stored bounds and shapes."""
    index._bounds = BoundsCache(max_rows=0)  # every box query of this index in SQL
    rng = random.Random(8)
    items = _mixed_items(rng, 500)
    box = (6.8, 51.2, 6.9, 51.3)
    eps = 1e-9  # far below float32's resolution here (~5e-7)
    edges = [(6.8, 51.25), (6.8 - eps, 51.25), (6.9, 51.25), (6.9 + eps, 51.25)]
    edges += [(6.85, 51.2 - eps), (6.85, 51.3), (6.85, 51.3 + eps), (6.9 + eps, 51.3 + eps)]
    for k, (x, y) in enumerate(edges):
        geometry = {"type": "Point", "coordinates": [x, y]}
        items.append(Item(str(1000 + k), "src", geometry, {"n": 1000 + k}))
    # a line whose bounds reach into the box but which passes beside it
    line = {"type": "LineString", "coordinates": [[6.7, 51.35], [6.95, 51.299999]]}
    items.append(Item("2000", "src", line, {"n": 2000}))
    load(index, items)
    boxes = [box, (6.8 + eps, 51.2, 6.9 - eps, 51.3)]
    for _ in range(30):
        x, y = rng.uniform(6.4, 7.4), rng.uniform(50.9, 51.9)
        boxes.append((x, y, x + rng.uniform(0.001, 0.2), y + rng.uniform(0.001, 0.2)))
    for b in boxes:
        area = shapely.box(*b)
        want = sorted(
            (
                it.id
                for it in items
                if it.geometry and shapely.intersects(shapely.geometry.shape(it.geometry), area)
            ),
            key=int,
        )
        found = index.search_items("src", SearchQuery(bbox=b, limit=2000))
        assert sorted((r.id for r in found.records), key=int) == want, b
        assert found.number_matched == len(want)
    in_box = {r.id for r in index.search_items("src", SearchQuery(bbox=box, limit=2000)).records}
    assert {"1000", "1002", "1005"} <= in_box
    assert not {"1001", "1003", "1004", "1006", "1007", "2000"} & in_box


def test_bounds_are_held_for_settled_collections_only(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7 + i / 100, 51.2) for i in range(10)])
    conn = index._conn()
    ds = conn.execute("SELECT rid FROM datasets WHERE id = 'src'").fetchone()[0]
    waiting = BoundsCache(settle=3600)
    first = waiting.get(conn, ds, (1, 1))
    assert first is not None and len(first.rids) == 10  # first seen: read at once
    assert waiting.get(conn, ds, (1, 1)) is first
    assert waiting.get(conn, ds, (1, 2)) is None  # changed: being written, not read
    assert waiting.get(conn, ds, (1, 2)) is None
    settling = BoundsCache(settle=0)
    assert settling.get(conn, ds, (1, 1)) is not None
    assert settling.get(conn, ds, (1, 2)) is None
    assert settling.get(conn, ds, (1, 2)) is not None  # unchanged for `settle` seconds
    assert BoundsCache(max_rows=9).get(conn, ds, (1, 1)) is None  # too large to hold


def test_prepare_reads_the_bounds_of_collections_small_enough_to_hold(
    index: SQLiteIndex,
) -> None:
    load(index, [point(i, 6.7 + i / 100, 51.2) for i in range(10)])
    big = dataset("src", "big", title="Viele Punkte")
    load(index, [point(i, 6.8, 51.3, ds="big") for i in range(20)], ds=big)
    rids = dict(index._conn().execute("SELECT id, rid FROM datasets").fetchall())
    assert not index._bounds._held
    index._bounds.max_rows = 15  # "big" is too large to hold in arrays
    index.prepare()
    held = index._bounds._held
    assert set(held) == {rids["src"]}
    bounds = held[rids["src"]][1]
    assert bounds is not None and len(bounds.rids) == 10
    # the first box query uses what was prepared
    assert index.search_items("src", SearchQuery(bbox=(6.6, 51.1, 6.9, 51.3))).number_matched == 10
    assert index._bounds._held[rids["src"]][1] is bounds


def test_ranked_text_hits_answer_as_sql_ranking_does_and_follow_writes(
    index: SQLiteIndex,
) -> None:
    """Relevance-ordered dataset searches come from the ranked text hits kept per generation;
    they answer exactly as ranking in SQL, with other conditions, pages and facets."""
    rng = random.Random(11)
    words = ["Umwelt", "Verkehr", "Lärm", "Bäume", "Radweg", "Parken"]
    datasets = []
    for i in range(300):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        x, y = rng.uniform(6.6, 7.0), rng.uniform(51.1, 51.4)
        datasets.append(
            dataset(
                f"s{i}",
                f"s{i}",
                title=title,
                description=" ".join(rng.choice(words) for _ in range(rng.randint(0, 30))),
                keywords=(rng.choice(words),),
                themes=(rng.choice(["TRAN", "ENVI", "HEAL"]),),
                spatial=(x, y, x + 0.05, y + 0.05),
            )
        )
    assert not index.upsert(datasets, run_id="r1").failed
    queries = [
        SearchQuery(text=text, **extra)  # type: ignore[arg-type]
        for text in ("umwelt", "verkehr larm", "Baume, Parken", "nothing")
        for extra in (
            {"limit": 10},
            {"limit": 7, "offset": 5, "facets": ("themes", "keywords")},
            {"properties": (("themes", "ENVI"),), "limit": 20, "facets": ("keywords",)},
            {"bbox": (6.7, 51.2, 6.8, 51.3), "limit": 50},
            {"filter": parse_cql2_text("title LIKE '%Radweg%'"), "limit": 50},
        )
    ]
    conn = index._conn()
    for query in queries:
        kept = index.search_datasets(query)
        in_sql = DatasetSearch(conn, query).run(lambda row: row[0])
        assert kept.number_matched == in_sql.number_matched
        assert [d.id for d in kept.records] == [orjson.loads(doc)["id"] for doc in in_sql.records]
        assert kept.facets == in_sql.facets
        assert index.search_datasets(query).records == kept.records  # again, from what is kept
    # a write moves the generation: a new best match is found at once
    best = dataset("best", "best", title="Umwelt Umwelt", description="Umwelt " * 20)
    index.upsert([best], run_id="r2")
    assert index.search_datasets(SearchQuery(text="umwelt", limit=1)).records[0].id == "best"


def test_kept_item_text_matches_follow_writes_of_their_collection(index: SQLiteIndex) -> None:
    load(index, [point(i, 6.7 + i / 1000, 51.2, name=f"Baum {i}") for i in range(50)])
    in_box = SearchQuery(text="Baum", bbox=(6.6, 51.1, 6.9, 51.3), limit=100)
    with_facets = SearchQuery(text="Baum", facets=("name",), limit=0)
    assert index.search_items("src", in_box).number_matched == 50  # kept from here on
    assert index.search_items("src", with_facets).number_matched == 50
    # a harvest writes one more match (the index generation does not move for item batches)
    assert not index.upsert([point(99, 6.75, 51.2, name="Baum 99")], run_id="r2").failed
    assert index.search_items("src", with_facets).number_matched == 51
    assert index.search_items("src", in_box).number_matched == 51  # in SQL while written
    time.sleep(2.1)  # settled: from the bounds arrays and the matches kept for the new state
    assert index.search_items("src", in_box).number_matched == 51


def test_dates_are_searched_by_time_not_as_words(index: SQLiteIndex) -> None:
    load(
        index,
        [
            point(1, 6.7, 51.2, name="Linde", updated="2021-06-02T08:24:55Z", planted="1987-04-01"),
            point(2, 6.8, 51.2, name="Eiche 2021", note={"seen": ["2021-06-02 10:00", "Fest"]}),
        ],
    )

    def found(text: str) -> set[str]:
        return {i.id for i in index.search_items("src", SearchQuery(text=text)).records}

    assert found("Linde") == {"1"}
    assert found("2021") == {"2"}  # a year among words is a word; a date-time is not
    assert found("1987") == set()
    assert found("02t08") == set()
    assert found("Fest") == {"2"}  # nested strings are words


def test_many_hits_sorted_by_an_indexed_key_page_as_a_full_sort_would(
    index: SQLiteIndex,
) -> None:
    """Past SORT_BY_INDEX_FROM hits a page sorted by modified or title walks that index; with
    facets (the hits read already) it is picked by the hits' places in that order."""
    rng = random.Random(3)
    records = [
        dataset(
            f"s{i}",
            f"s{i}",
            title=rng.choice(["Bäume", "Radwege", "Ämter", "Parken"]) + f" {rng.randint(0, 50)}",
            modified=rng.choice([None, f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"]),
            themes=(rng.choice(["TRAN", "ENVI"]),),
        )
        for i in range(2 * SORT_BY_INDEX_FROM + 500)
    ]
    assert not index.upsert(records, run_id="r1").failed
    rid = {d.id: n for n, d in enumerate(records, start=1)}  # row ids follow insertion
    chosen = [d for d in records if "TRAN" in d.themes]
    assert len(chosen) > SORT_BY_INDEX_FROM
    for key, descending in (
        ("modified", True),
        ("modified", False),
        ("title", False),
        ("title", True),
    ):

        def order(d: Dataset, key: str = key) -> tuple[object, ...]:
            value = getattr(d, key)
            return (value is not None, value or "", rid[d.id])  # SQL: NULL first ascending

        want = [d.id for d in sorted(chosen, key=order, reverse=descending)]
        for offset in (0, 1000, len(want) - 7, len(want) + 3):
            for facets in ((), ("themes",)):
                query = SearchQuery(
                    properties=(("themes", "TRAN"),),
                    sort=(SortKey(key, descending),),
                    limit=20,
                    offset=offset,
                    facets=facets,
                )
                found = [d.id for d in index.search_datasets(query).records]
                assert found == want[offset : offset + 20], (key, descending, offset, facets)
    # no condition: a page of every dataset is a slice of the held order, the count its length
    for key, descending in (("id", False), ("id", True), ("modified", True), ("title", False)):

        def every(d: Dataset, key: str = key) -> tuple[object, ...]:
            value = getattr(d, key)
            return (value is not None, value or "", rid[d.id])

        want = [d.id for d in sorted(records, key=every, reverse=descending)]
        for offset in (0, 1234, len(want) - 5, len(want) + 1):
            for facets in ((), ("themes",)):
                query = SearchQuery(
                    sort=(SortKey(key, descending),), limit=20, offset=offset, facets=facets
                )
                result = index.search_datasets(query)
                assert result.number_matched == len(records)
                found = [d.id for d in result.records]
                assert found == want[offset : offset + 20], (key, descending, offset, facets)


def test_kept_filter_hits_follow_dataset_writes(index: SQLiteIndex) -> None:
    """A group filter's hits are kept per generation: a write is seen by the next search."""
    records = [dataset(f"s{i}", f"s{i}", themes=(["TRAN", "ENVI"][i % 2],)) for i in range(40)]
    assert not index.upsert(records, run_id="r1").failed
    query = SearchQuery(properties=(("themes", "TRAN"),), facets=("themes",), limit=5)
    first = index.search_datasets(query)
    assert first.number_matched == 20
    assert index.search_datasets(query).facets == first.facets  # from what is kept
    assert not index.upsert([dataset("new", "new", themes=("TRAN",))], run_id="r2").failed
    again = index.search_datasets(query)
    assert again.number_matched == 21
    assert again.facets["themes"][0].count == 21
    index.delete_datasets(["s0", "s2"])
    assert index.search_datasets(query).number_matched == 19


def _every_item_tested(bounds: Bounds, box: tuple[float, float, float, float]) -> tuple:
    """What the arrays give when every item is compared with the box (no slice)."""
    minx, miny, maxx, maxy = box
    reach = (bounds.minx <= maxx) & (bounds.maxx >= minx)
    reach &= (bounds.miny <= maxy) & (bounds.maxy >= miny)
    inside = (bounds.minx >= minx) & (bounds.maxx <= maxx)
    inside &= (bounds.miny >= miny) & (bounds.maxy <= maxy)
    sure = reach & (bounds.envelope | inside)
    return bounds.rids[sure].tolist(), bounds.rids[reach & ~sure].tolist()


def test_bounds_arrays_answer_a_small_box_from_a_slice_of_sorted_edges(
    index: SQLiteIndex,
) -> None:
    """A small box compares only the items whose west (or south) edges lie near it, and finds
    what comparing every item finds: items touching its edges, the widest and the tallest
    item just reaching it, a line passing beside it. City-wide areas: every item compared."""
    rng = random.Random(11)
    items = [point(i, rng.uniform(6.5, 7.5), rng.uniform(51.0, 52.0)) for i in range(3000)]
    for i in range(3000, 3200):  # small areas among the points
        x, y, w, h = rng.uniform(6.5, 7.5), rng.uniform(51.0, 52.0), rng.random() / 200, 0.001
        ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
        items.append(Item(str(i), "src", {"type": "Polygon", "coordinates": [ring]}, {"n": i}))
    box = (6.8, 51.2, 6.81, 51.21)
    # the widest item ends on the box's west edge; the tallest ends on its south edge
    widest = [[6.78, 51.205], [6.8, 51.205], [6.8, 51.206], [6.78, 51.206], [6.78, 51.205]]
    tallest = [[6.805, 51.17], [6.806, 51.17], [6.806, 51.2], [6.805, 51.2], [6.805, 51.17]]
    items.append(Item("5000", "src", {"type": "Polygon", "coordinates": [widest]}, {"n": 0}))
    items.append(Item("5001", "src", {"type": "Polygon", "coordinates": [tallest]}, {"n": 0}))
    edges = [(6.8, 51.205), (6.81, 51.205), (6.805, 51.2), (6.805, 51.21), (6.81, 51.21)]
    edges += [(6.8 - 1e-9, 51.205), (6.805, 51.21 + 1e-9)]
    for k, (x, y) in enumerate(edges):
        items.append(point(6000 + k, x, y))
    beside = {"type": "LineString", "coordinates": [[6.79, 51.205], [6.805, 51.22]]}
    items.append(Item("7000", "src", beside, {"n": 0}))
    load(index, items)
    conn = index._conn()
    ds = conn.execute("SELECT rid FROM datasets WHERE id = 'src'").fetchone()[0]
    bounds = Bounds.read(conn, ds, 10_000)
    assert bounds is not None and not bounds.wide
    assert bounds.width == pytest.approx(0.02) and bounds.height == pytest.approx(0.03)
    boxes = [box]
    for _ in range(60):
        x, y = rng.uniform(6.4, 7.5), rng.uniform(50.9, 52.0)
        boxes.append((x, y, x + rng.uniform(0.0, 0.05), y + rng.uniform(0.0, 0.05)))
    for b in boxes:
        at = bounds._slice(b)
        assert at is not None and len(at) * 4 <= len(bounds.rids)
        sure, check = bounds.hits(b)
        assert (sure.tolist(), check.tolist()) == _every_item_tested(bounds, b), b
    found = index.search_items("src", SearchQuery(bbox=box, limit=5000))
    assert index._bounds._held[ds][1] is not None  # answered from the arrays
    ids = {r.id for r in found.records}
    assert {"5000", "5001", "6000", "6001", "6002", "6003", "6004"} <= ids
    assert not {"6005", "6006", "7000"} & ids
    area = shapely.box(*box)
    want = {
        it.id
        for it in items
        if it.geometry and shapely.intersects(shapely.geometry.shape(it.geometry), area)
    }
    assert ids == want and found.number_matched == len(want)
    # city-wide areas: a small box reaches them wherever it lies, so every item is compared
    areas = dataset("src", "areas", title="Gebiete")
    city = {
        "type": "Polygon",
        "coordinates": [[[6.7, 51.1], [7.1, 51.1], [7.1, 51.3], [6.7, 51.3], [6.7, 51.1]]],
    }
    wide_items = [Item(f"w{i}", "areas", city, {"n": i}) for i in range(40)]
    load(index, [*wide_items, *(point(i, 6.8, 51.2, ds="areas") for i in range(2000))], ds=areas)
    held = Bounds.read(
        conn, conn.execute("SELECT rid FROM datasets WHERE id = 'areas'").fetchone()[0], 10_000
    )
    assert held is not None and held.wide and held._slice(box) is None
    assert index.search_items("areas", SearchQuery(bbox=box)).number_matched == 2040


def test_the_count_of_a_whole_collection_follows_writes_from_any_connection(
    index: SQLiteIndex, index_path: Path
) -> None:
    load(index, [point(i, 6.7 + i / 1000, 51.2) for i in range(50)])
    everything = SearchQuery(limit=1)
    assert index.search_items("src", everything).number_matched == 50
    other = SQLiteIndex(index_path)
    try:
        assert not other.upsert([point(i, 6.8, 51.3) for i in range(50, 60)], run_id="r2").failed
        assert index.search_items("src", everything).number_matched == 60
        assert other.delete_items("src", ["0", "1", "2"]) == 3
        assert index.search_items("src", everything).number_matched == 57
    finally:
        other.close()
    assert index.delete_items("src", ["3"]) == 1
    # counted in another thread: the same count, read from what that thread counted
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(index.search_items, "src", everything).result().number_matched == 56
    assert index.search_items("src", everything).number_matched == 56


def test_words_of_values_that_are_not_plain_json_are_those_stored(
    index: SQLiteIndex, tmp_path: Path
) -> None:
    """A harvester may give properties Python values JSON has no type for; they are stored in
    their JSON form, and their words must be those of that form, or the full-text table could
    not forget them."""
    import datetime
    import enum
    import uuid

    class Kind(enum.StrEnum):
        TREE = "Linde"

    odd = {
        "pair": ("Ahorn", "Eiche"),
        "kind": Kind.TREE,
        "id": uuid.UUID(int=7),
        "day": datetime.date(2024, 5, 1),
        "nested": [{"deep": ("Birke",)}],
    }
    load(index, [point(1, 6.7, 51.2, **odd), point(2, 6.7, 51.2, name="Platane")])
    stored = SQLiteIndex(tmp_path / "stored.sqlite")
    try:  # the same items as read back from their stored JSON
        load(
            stored,
            [
                Item(
                    i.id,
                    i.dataset_id,
                    i.geometry,
                    orjson.loads(orjson.dumps(i.properties)),
                    i.time_start,
                )
                for i in index.scan_items("src")
            ],
        )
    finally:
        stored.close()
    assert _words(index.path) == _words(tmp_path / "stored.sqlite")
    assert index.search_items("src", SearchQuery(text="birke")).number_matched == 1
    index.delete_items("src", ["1"])
    assert [w for w in _words(index.path) if w[0] in ("ahorn", "linde", "birke")] == []


def words_pending(path: Path) -> Any:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT v FROM items_fts_config WHERE k = 'hashsize'").fetchone()
    finally:
        conn.close()
    return None if row is None else row[0]


def test_the_items_words_are_written_out_in_larger_pieces(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    SQLiteIndex(path).close()
    assert words_pending(path) == schema.WORDS_PENDING_BYTES
    # a file made before: set at its next opening, unless another process is writing it
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM items_fts_config WHERE k = 'hashsize'")
    conn.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(1) as pool:
        opening = pool.submit(lambda: SQLiteIndex(path).close())
        opening.result(timeout=10)  # does not wait for the writer
    conn.execute("COMMIT")
    conn.close()
    assert words_pending(path) is None
    SQLiteIndex(path).close()
    assert words_pending(path) == schema.WORDS_PENDING_BYTES
