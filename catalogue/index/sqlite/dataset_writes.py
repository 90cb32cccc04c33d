"""Writing a dataset's row in the embedded index: the row, its list fields' terms, its words
and its box."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from catalogue.index.protocol import UpsertStats
from catalogue.index.sqlite.rows import OPEN_END, OPEN_START, epoch
from catalogue.model import Dataset


def write_dataset(
    conn: sqlite3.Connection, dataset: Dataset, run: int, stats: UpsertStats
) -> int | None:
    """Add or update a dataset (with its terms, words and box) and count it in ``stats``;
    its row number, unless it was unchanged or refused."""
    digest = dataset.provenance.content_hash or dataset.content_hash()
    row = conn.execute(
        "SELECT rid, hash, source FROM datasets WHERE id = ?", (dataset.id,)
    ).fetchone()
    if row is not None and row[2] != dataset.provenance.source_name:
        stats.failed.append((dataset.id, f"id already taken by a dataset of source {row[2]!r}"))
        return None
    if row is not None and row[1] == digest:
        conn.execute("UPDATE datasets SET run = ? WHERE rid = ?", (run, row[0]))
        stats.unchanged += 1
        return None
    doc = dataset.to_dict()
    doc.pop("item_count")
    temporal = dataset.temporal or (None, None)
    spatial = dataset.spatial
    values = (
        dataset.provenance.source_name,
        run,
        digest,
        dataset.title,
        dataset.kind,
        dataset.publisher.name if dataset.publisher else None,
        (dataset.organization() or (None,))[0],
        dataset.licence,
        dataset.issued,
        dataset.modified,
        epoch(temporal[0]) if temporal[0] else (OPEN_START if temporal[1] else None),
        epoch(temporal[1]) if temporal[1] else (OPEN_END if temporal[0] else None),
        *(spatial if spatial else (None, None, None, None)),
        orjson.dumps(doc).decode(),
    )
    columns = (
        "source, run, hash, title, kind, publisher, organization, licence, issued, modified, "
        "t_start, t_end, minx, miny, maxx, maxy, doc"
    )
    if row is None:
        cur = conn.execute(
            f"INSERT INTO datasets(id, {columns}) VALUES (?{', ?' * len(values)})",
            (dataset.id, *values),
        )
        rid = int(cur.lastrowid or 0)
        stats.added += 1
    else:
        rid = row[0]
        assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
        conn.execute(f"UPDATE datasets SET {assignments} WHERE rid = ?", (*values, rid))
        conn.execute("DELETE FROM datasets_fts WHERE rowid = ?", (rid,))
        stats.updated += 1
    conn.execute("DELETE FROM dataset_terms WHERE rid = ?", (rid,))
    conn.executemany(
        "INSERT INTO dataset_terms(rid, field, value) VALUES (?, ?, ?)",
        [(rid, field, value) for field, value in dataset_terms(dataset)],
    )
    conn.execute(
        "INSERT INTO datasets_fts(rowid, title, description, keywords) VALUES (?, ?, ?, ?)",
        (rid, dataset.title, dataset.description or "", " ".join(dataset.keywords)),
    )
    set_dataset_box(conn, rid, spatial)
    return rid


def set_dataset_box(conn: sqlite3.Connection, rid: int, box: Any) -> None:
    """The dataset's entry in the datasets' R*Tree: its box, or none."""
    conn.execute("DELETE FROM datasets_rtree WHERE rid = ?", (rid,))
    if box:
        conn.execute(
            "INSERT INTO datasets_rtree VALUES (?, ?, ?, ?, ?)",
            (rid, box[0], box[2], box[1], box[3]),
        )


def dataset_terms(dataset: Dataset) -> set[tuple[str, str]]:
    """The (field, value) pairs of a dataset's list fields."""
    terms = {("keywords", k) for k in dataset.keywords}
    terms |= {("themes", t) for t in dataset.themes}
    terms |= {("language", lang) for lang in dataset.language}
    terms |= {("format", d.format) for d in dataset.distributions if d.format}
    districts = dataset.extras.get("districts")
    if isinstance(districts, list):
        terms |= {("districts", str(name)) for name in districts}
    return terms
