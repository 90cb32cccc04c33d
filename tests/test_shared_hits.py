"""Text hits that took long are shared between the processes serving one index file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Dataset, Provenance
from catalogue.query import SearchQuery


def dataset(i: int, title: str) -> Dataset:
    return Dataset(
        id=f"d{i}",
        title=title,
        description="Umwelt " * (i % 7),
        provenance=Provenance("src", "ckan", None, str(i)),
    ).with_hash()


def serving(path: Path) -> SQLiteIndex:
    index = SQLiteIndex(path, read_mostly=True)
    shared = index._text_hits.shared
    assert shared is not None
    shared.min_seconds = 0.0  # share every search, not only the slow ones
    return index


def entries(path: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(path.with_name(path.name + "-hits")) as conn:
        return conn.execute("SELECT instance, generation, key FROM hits").fetchall()


def ids(index: SQLiteIndex, text: str) -> list[str]:
    result = index.search_datasets(SearchQuery(text=text, limit=100))
    return [d.id for d in result.records]


def test_a_ranking_found_by_one_process_is_used_by_another(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    writer = SQLiteIndex(path)
    assert not writer.upsert([dataset(i, f"Umwelt {i}") for i in range(60)], run_id="r1").failed
    first = serving(path)
    ranked = ids(first, "umwelt")
    assert len(ranked) == 60
    [(instance, generation, key)] = entries(path)
    assert generation == first.generation() and "umwelt" in key
    # another process finds the entry: what it holds is what that process answers
    other = serving(path)
    shared = other._text_hits.shared
    assert shared is not None
    held = shared.get(generation, key)
    assert held is not None and len(held) == 60
    shared.put(generation, key, held[::-1].copy())
    assert ids(other, "umwelt") == ranked[::-1]


def test_shared_hits_follow_writes_and_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    writer = SQLiteIndex(path)
    assert not writer.upsert([dataset(i, f"Umwelt {i}") for i in range(10)], run_id="r1").failed
    assert len(ids(serving(path), "umwelt")) == 10
    # a harvest adds a match: a process asking later does not get the old generation's hits
    assert not writer.upsert([dataset(99, "Umwelt neu")], run_id="r2").failed
    assert "d99" in ids(serving(path), "umwelt")
    assert {generation for _, generation, _ in entries(path)} == {writer.generation()}
    # the file replaced by a new index (generations from 0 again): nothing of the old is used
    writer.close()
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    fresh = SQLiteIndex(path)
    assert not fresh.upsert([dataset(5, "Umwelt fünf")], run_id="r1").failed
    assert ids(serving(path), "umwelt") == ["d5"]


def test_searches_work_when_the_hits_cannot_be_shared(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    writer = SQLiteIndex(path)
    assert not writer.upsert([dataset(i, f"Umwelt {i}") for i in range(10)], run_id="r1").failed
    (tmp_path / "index.sqlite-hits").mkdir()  # not a database: sharing is off, searching is not
    index = serving(path)
    assert len(ids(index, "umwelt")) == 10
    assert len(ids(index, "umwelt")) == 10
    shared = index._text_hits.shared
    assert shared is not None and shared.get(0, "x") is None
