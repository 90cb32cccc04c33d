"""Searches on the embedded index: one query model, translated to parameterized SQL."""

from __future__ import annotations

import re
import sqlite3
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import numpy as np
import orjson

from catalogue.errors import QueryError
from catalogue.index.sqlite.bounds import Bounds
from catalogue.index.sqlite.cql import Column, CQLToSQL
from catalogue.index.sqlite.facets import FacetColumn, FacetColumns, HitMask
from catalogue.index.sqlite.rows import OPEN_END, OPEN_START
from catalogue.index.sqlite.rtree_box import box_rids
from catalogue.index.sqlite.text_hits import TextHits, collection_matches, rowid_array
from catalogue.query import (
    FacetValue,
    SearchQuery,
    SearchResult,
    TimeInterval,
    typed_value,
)

T = TypeVar("T")

# Above this share of a collection's extent a bbox is answered by scanning, not the R*Tree.
RTREE_MAX_SHARE = 0.3

_WORD = re.compile(r"\w+", re.UNICODE)


@contextmanager
def fts_errors(text: str | None) -> Iterator[None]:
    """A text FTS5 cannot parse is the client's error, not the index's."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc) or "malformed MATCH" in str(exc):
            raise QueryError(f"cannot search for {text!r}") from None
        raise


def fts_expression(text: str) -> str | None:
    """OGC ``q`` to an FTS5 query: commas separate alternatives, words within one must all
    occur; each word matches as a prefix (German compounds: "Verkehr" finds "Verkehrsnetz")."""
    alternatives = []
    for part in text.split(","):
        words = _WORD.findall(part)
        if words:
            alternatives.append(" AND ".join(f'"{w}"*' for w in words))
    if not alternatives:
        return None
    return " OR ".join(f"({a})" for a in alternatives)


def box_wkb(minx: float, miny: float, maxx: float, maxy: float) -> bytes:
    """The WKB of a box polygon, packed directly (shapely would cost more than the query)."""
    ring = (minx, miny, maxx, miny, maxx, maxy, minx, maxy, minx, miny)
    return struct.pack("<BIII10d", 1, 3, 1, 5, *ring)


def json_path(name: str) -> str:
    if '"' in name or "\\" in name:
        raise QueryError(f"unsupported property name {name!r}")
    return f'$."{name}"'


class Search(ABC, Generic[T]):
    """Shared shape of a search: WHERE conditions, order, paging, count, facets."""

    table: str
    alias: str

    def __init__(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        facet_columns: FacetColumns | None = None,
    ) -> None:
        self.conn = conn
        self.query = query
        self.facet_columns = facet_columns
        self.where: list[str] = []
        self.params: list[Any] = []
        self.joins = ""
        self.default_order = f"{self.alias}.rid"
        # conditions that are a set of row ids by themselves (full text, terms): when every
        # condition is one, hits and counts are read from those sets without visiting rows
        self.rid_sets: list[tuple[str, list[Any]]] = []

    def add(self, condition: str, *params: Any) -> None:
        self.where.append(condition)
        self.params.extend(params)

    def add_rid_set(self, subquery: str, *params: Any, condition: str | None = None) -> None:
        """A condition "row id in ``subquery``" (or ``condition``, which means the same)."""
        self.add(condition or f"{self.alias}.rid IN ({subquery})", *params)
        self.rid_sets.append((subquery, list(params)))

    def rid_set_sql(self) -> tuple[str, list[Any]] | None:
        """SQL selecting the row ids of every hit from the row-id sets alone, if it can."""
        if not self.rid_sets or len(self.rid_sets) != len(self.where):
            return None
        sql = " INTERSECT ".join(sub for sub, _ in self.rid_sets)
        return sql, [p for _, params in self.rid_sets for p in params]

    @abstractmethod
    def column(self, name: str) -> Column:
        """What a queryable name stands for in this search's SQL."""

    @abstractmethod
    def select_sql(self) -> str:
        """The columns a result row is read from."""

    def build(self) -> None:
        q = self.query
        if q.text:
            self.add_text(q.text)
        if q.bbox:
            self.add_bbox(q.bbox)
        if q.time:
            self.add_time(q.time)
        for name, value in q.properties:
            self.add_property(name, value)
        if q.filter is not None:
            sql, params = CQLToSQL(self.column).translate(q.filter)
            self.add(sql, *params)

    def add_time(self, time: TimeInterval) -> None:
        a = self.alias
        start = time.start.timestamp() if time.start else OPEN_START
        end = time.end.timestamp() if time.end else OPEN_END
        self.add(f"{a}.t_start <= ? AND {a}.t_end >= ?", end, start)

    def add_property(self, name: str, value: str) -> None:
        column = self.column(name)
        if column.kind == "array" and column.terms:
            self.add_rid_set(
                "SELECT rid FROM dataset_terms WHERE field = ? AND value = ?", column.terms, value
            )
        elif column.kind == "array":
            self.add(
                f"EXISTS (SELECT 1 FROM json_each({column.expr}) WHERE value = ?)",
                *column.params,
                value,
            )
        elif column.kind in ("geometry", "time"):
            raise QueryError(f"{name!r} cannot be filtered by equality")
        else:
            self.add(f"{column.expr} = ?", *column.params, self.coerce(name, value))

    def coerce(self, name: str, value: str) -> Any:
        return value

    @abstractmethod
    def add_text(self, text: str) -> None:
        """Restrict to records matching the full-text query (each kind has its FTS table)."""

    @abstractmethod
    def add_bbox(self, bbox: tuple[float, float, float, float]) -> None:
        """Restrict to records intersecting the box (each kind has its R*Tree)."""

    def from_sql(self) -> str:
        where = " AND ".join(self.where) if self.where else "1"
        return f"FROM {self.table} {self.alias}{self.joins} WHERE {where}"

    def order_sql(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for key in self.query.sort:
            column = self.column(key.field)
            if column.kind in ("geometry", "array"):
                raise QueryError(f"cannot sort by {key.field!r}")
            expr = column.start if column.kind == "time" else column.expr
            parts.append(f"{expr} {'DESC' if key.descending else 'ASC'}")
            params.extend(column.params)
        if parts and self.default_order == f"{self.alias}.rid" and self.query.sort[-1].descending:
            # ties in the direction of the last key: one index on that key serves the order
            parts.append(f"{self.alias}.rid DESC")
        else:
            parts.append(self.default_order)
        return ", ".join(parts), params

    def run(self, convert: Callable[[Sequence[Any]], T]) -> SearchResult[T]:
        self.build()
        base = self.from_sql()
        params = list(self.params)
        with fts_errors(self.query.text):
            hits: np.ndarray | None = None
            if self.query.facets and self.where:
                # the hits are read once: their number is the count, their row ids the facets' mask
                hits = self.hit_ids(base, params)
                matched = len(hits)
            else:
                known = self.known_count()
                matched = known if known is not None else self.count(base, params)
            records: list[T] = []
            if self.query.result_type == "results":
                records = [convert(row) for row in self.page_rows(base, params, matched, hits)]
            facets = self.facets(hits)
        return SearchResult(records, matched, facets)

    def page_rows(
        self, base: str, params: list[Any], matched: int, hits: np.ndarray | None
    ) -> list[Any]:
        """The rows of the requested page (``hits``: every hit's row id, when read already)."""
        return self.page(self.paged(base, matched), params)

    def paged(self, base: str, matched: int) -> str:
        """The FROM … WHERE of the page's query, knowing how many rows match (a kind of record
        may steer SQLite to another plan for many hits)."""
        return base

    def page(self, base: str, params: list[Any]) -> list[Any]:
        """The result rows of the requested page."""
        a = self.alias
        order, order_params = self.order_sql()
        paging = [self.query.limit, self.query.offset]
        if order == f"{a}.rid":  # row order: read straight through the (ds, rowid) order
            return self.conn.execute(
                f"SELECT {self.select_sql()} {base} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, *order_params, *paging],
            ).fetchall()
        # sorted by something else: sort row ids only, then read the page's rows
        rids = [
            r[0]
            for r in self.conn.execute(
                f"SELECT {a}.rid {base} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, *order_params, *paging],
            )
        ]
        return self.rows_by_rid(rids)

    def rows_by_rid(self, rids: list[int]) -> list[Any]:
        """The result rows of ``rids``, in that order."""
        a = self.alias
        rows = self.conn.execute(
            f"SELECT {a}.rid, {self.select_sql()} FROM {self.table} {a} "
            f"WHERE {a}.rid IN (SELECT value FROM json_each(?))",
            (orjson.dumps(rids).decode(),),
        ).fetchall()
        by_rid = {row[0]: row[1:] for row in rows}
        return [by_rid[rid] for rid in rids if rid in by_rid]

    def count(self, base: str, params: list[Any]) -> int:
        sets = self.rid_set_sql()
        if sets is not None:
            return int(
                self.conn.execute(f"SELECT count(*) FROM ({sets[0]})", sets[1]).fetchone()[0]
            )
        return int(self.conn.execute(f"SELECT count(*) {base}", params).fetchone()[0])

    def known_count(self) -> int | None:
        """How many records match, when that is known without counting."""
        return None

    def hit_ids(self, base: str, params: list[Any]) -> np.ndarray:
        """The row ids of every hit, as an array."""
        sets = self.rid_set_sql()
        if sets is not None:
            return rowid_array(self.conn, sets[0], sets[1])
        return rowid_array(self.conn, f"SELECT {self.alias}.rid {base}", params)

    @abstractmethod
    def scope(self) -> tuple[str, str, list[Any]]:
        """Which rows a facet column covers: a cache key, and the SQL condition selecting them."""

    def facets(self, hits: np.ndarray | None) -> dict[str, list[FacetValue]]:
        """The requested facets counted over ``hits`` (None: over all rows)."""
        mask = HitMask(hits) if hits is not None else None
        return {name: self.facet(name, mask) for name in self.query.facets}

    def facet(self, name: str, hits: HitMask | None) -> list[FacetValue]:
        """The most frequent values of ``name`` among the hits (None: among all rows)."""
        column = self.column(name)
        key, condition, args = self.scope()
        a = self.alias
        if column.kind == "array" and column.terms:
            sql = "SELECT rid, value FROM dataset_terms WHERE field = ?"
            args = [column.terms]
        elif column.kind == "array":
            sql = (
                f"SELECT {a}.rid, j.value FROM {self.table} {a}, json_each({column.expr}) j "
                f"WHERE {condition}"
            )
            args = [*column.params, *args]
        elif column.kind == "scalar":
            sql = f"SELECT {a}.rid, {column.expr} FROM {self.table} {a} WHERE {condition}"
            args = [*column.params, *args]
        else:
            raise QueryError(f"cannot count facets of {name!r}")
        if self.facet_columns is None:
            facet_column = FacetColumn.read(self.conn.execute(sql, args))
        else:
            facet_column = self.facet_columns.column(
                self.conn, self.generation(), (key, name), sql, args
            )
        return facet_column.count(hits, self.query.facet_limit)

    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])


class ItemSearch(Search[T]):
    table = "items"
    alias = "i"

    def __init__(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        ds: int,
        dataset_id: str,
        fields: dict[str, str],
        extent: list[float] | None,
        facet_columns: FacetColumns | None = None,
        counts: dict[int, tuple[tuple[int, int], int]] | None = None,
        bounds: Bounds | None = None,
        text_hits: tuple[tuple[int, int], TextHits] | None = None,
    ) -> None:
        super().__init__(conn, query, facet_columns)
        self.counts = counts
        self.bounds = bounds
        # the collection's state and the text matches kept for it (none kept when not given)
        self.text_hits = text_hits or ((0, 0), TextHits(max_texts=0))
        self.as_features = False
        self.fts_match: str | None = None
        self.fts_expr: str | None = None
        self.ds = ds
        self.dataset_id = dataset_id
        self.fields = fields
        self.extent = extent
        # the dataset test must not steer SQLite to the (ds, t_start) index when an R*Tree or
        # FTS match already names the few rows wanted: it would then walk the whole dataset
        self.rowid_filtered = False
        self.add("i.ds = ?", ds)

    def from_sql(self) -> str:
        if self.rowid_filtered:
            self.where[0] = "+i.ds = ?"
        return super().from_sql()

    def select_sql(self) -> str:
        if self.as_features:
            # the stored JSON texts joined into a GeoJSON Feature, without parsing them, and
            # handed over as UTF-8 bytes (as text, Python would decode them only to encode
            # them again: a third of the time of reading a page of 100)
            return (
                """CAST('{"type":"Feature","id":' || json_quote(i.id) || ',"geometry":' """
                """|| coalesce(i.geometry, 'null') || ',"properties":' || i.properties || '}' """
                "AS BLOB)"
            )
        return "i.id, NULL, i.geometry, i.properties, i.t_start, i.t_end"

    def scope(self) -> tuple[str, str, list[Any]]:
        return f"items:{self.ds}", "i.ds = ?", [self.ds]

    def hit_ids(self, base: str, params: list[Any]) -> np.ndarray:
        if self.fts_expr is not None and len(self.where) == 2:
            # a text query alone: its matches as kept for the collection's state
            state, kept = self.text_hits
            return collection_matches(kept, self.conn, state, self.ds, self.fts_expr)
        return super().hit_ids(base, params)

    def known_count(self) -> int | None:
        """A text query alone is counted by the full-text index; the whole collection is
        counted once for each state of its items (the index generation and the collection's
        item version, which every write of its items moves, whichever connection writes)."""
        if self.fts_match is not None and len(self.where) == 2:
            # the collection and a text query: counted by the full-text index alone
            sql = "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?"
            return int(self.conn.execute(sql, (self.fts_match,)).fetchone()[0])
        if len(self.where) != 1 or self.counts is None:
            return None
        state = self.text_hits[0]
        cached = self.counts.get(self.ds)
        if cached is not None and cached[0] == state:
            return cached[1]
        count = int(
            self.conn.execute("SELECT count(*) FROM items WHERE ds = ?", (self.ds,)).fetchone()[0]
        )
        self.counts[self.ds] = (state, count)
        return count

    def run(self, convert: Callable[[Sequence[Any]], T]) -> SearchResult[T]:
        dataset_id = self.dataset_id

        def with_dataset(row: Sequence[Any]) -> T:
            return convert((row[0], dataset_id, *row[2:]))

        # a Feature is one column, with nothing to put in
        converted = convert if self.as_features else with_dataset

        if self.bounds is not None and self.in_arrays():
            return self.run_in_arrays(self.bounds, converted)
        q = self.query
        if q.bbox is not None and q.result_type == "results" and not q.facets and not q.sort:
            return self.run_in_one_pass(converted)
        return super().run(converted)

    def run_in_one_pass(self, convert: Callable[[Sequence[Any]], T]) -> SearchResult[T]:
        """A box in row order: the R*Tree is walked once for the row ids of every hit (their
        number is the count), then the page's rows are read by row id — instead of walking it
        once to count and again for the page."""
        q = self.query
        bbox = q.bbox
        assert bbox is not None
        box_alone = not (q.text or q.time or q.properties or q.filter is not None)
        if box_alone and bbox[0] <= bbox[2] and self._use_rtree(bbox):
            rids = box_rids(self.conn, self.ds, bbox, box_wkb(*bbox))
        else:
            self.build()
            with fts_errors(q.text):
                rids = [
                    r[0]
                    for r in self.conn.execute(
                        f"SELECT i.rid {self.from_sql()} ORDER BY i.rid", list(self.params)
                    )
                ]
        records = [convert(row) for row in self.rows_by_rid(rids[q.offset : q.offset + q.limit])]
        return SearchResult(records, len(rids), {})

    def in_arrays(self) -> bool:
        """Whether the hits can be found in the collection's bounds arrays: a box (not across
        the antimeridian), optionally with text, and nothing else."""
        q = self.query
        return (
            q.bbox is not None
            and q.bbox[0] <= q.bbox[2]
            and q.filter is None
            and q.time is None
            and not q.properties
        )

    def run_in_arrays(
        self, bounds: Bounds, convert: Callable[[Sequence[Any]], T]
    ) -> SearchResult[T]:
        q = self.query
        assert q.bbox is not None
        with fts_errors(q.text):
            hits, check = bounds.hits(q.bbox)
            if len(check):  # bounds reach into the box: is the geometry in it?
                rows = self.conn.execute(
                    "SELECT rid FROM items WHERE rid IN (SELECT value FROM json_each(?)) "
                    "AND ouc_spatial('INTERSECTS', geometry, ?)",
                    (orjson.dumps(check.tolist()).decode(), box_wkb(*q.bbox)),
                ).fetchall()
                hits = np.union1d(hits, np.array([r[0] for r in rows], dtype=np.int64))
            expr = fts_expression(q.text) if q.text else None
            if expr is not None:
                state, kept = self.text_hits
                matches = collection_matches(kept, self.conn, state, self.ds, expr)
                hits = np.intersect1d(hits, matches, assume_unique=True)
            records: list[T] = []
            if q.result_type == "results":
                records = [convert(row) for row in self.rows_of(hits)]
            facets = self.facets(hits)
        return SearchResult(records, len(hits), facets)

    def rows_of(self, hits: np.ndarray) -> list[Any]:
        """The rows of the requested page of ``hits`` (ascending row ids)."""
        q = self.query
        order, order_params = self.order_sql()
        if order != "i.rid":  # sorted by something else: SQLite sorts the hits
            base = "FROM items i WHERE i.rid IN (SELECT value FROM json_each(?))"
            return self.page(base, [orjson.dumps(hits.tolist()).decode()])
        return self.rows_by_rid(hits[q.offset : q.offset + q.limit].tolist())

    def page(self, base: str, params: list[Any]) -> list[Any]:
        if self.fts_match is not None and len(self.where) == 2 and not self.query.sort:
            # a text query alone in row order: the full-text index lists its row ids in order
            rids = self.conn.execute(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ? "
                "ORDER BY rowid LIMIT ? OFFSET ?",
                (self.fts_match, self.query.limit, self.query.offset),
            ).fetchall()
            return self.rows_by_rid([r[0] for r in rids])
        return super().page(base, params)

    def column(self, name: str) -> Column:
        if name == "id":
            return Column("i.id")
        if name in ("geometry", "geom", "the_geom"):
            return Column(
                "i.geometry", kind="geometry", box=("i.minx", "i.miny", "i.maxx", "i.maxy")
            )
        if name in ("datetime", "time") and name not in self.fields:
            return Column("i.t_start", kind="time", start="i.t_start", end="i.t_end")
        if name not in self.fields:
            raise QueryError(f"unknown property {name!r} in collection {self.dataset_id!r}")
        kind = "array" if self.fields[name] == "array" else "scalar"
        return Column("json_extract(i.properties, ?)", (json_path(name),), kind)

    def coerce(self, name: str, value: str) -> Any:
        return typed_value(name, self.fields.get(name), value)  # a bool binds as 1 or 0

    def add_text(self, text: str) -> None:
        expr = fts_expression(text)
        if expr is None:
            return
        self.fts_expr = expr
        self.fts_match = f"ds : {self.ds} AND text : ({expr})"
        self.add("i.rid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", self.fts_match)
        self.rowid_filtered = True

    def add_bbox(self, bbox: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bbox
        if minx > maxx:  # crosses the antimeridian: two boxes
            self.add(
                "((i.maxx >= ? OR i.minx <= ?) AND i.miny <= ? AND i.maxy >= ?)",
                minx,
                maxx,
                maxy,
                miny,
            )
            return
        if self._use_rtree(bbox):
            self.add(
                "i.rid IN (SELECT rid FROM items_rtree WHERE minx <= ? AND maxx >= ? "
                "AND miny <= ? AND maxy >= ? AND mind <= ? AND maxd >= ?)",
                maxx,
                minx,
                maxy,
                miny,
                self.ds,
                self.ds,
            )
            self.rowid_filtered = True
        # exact test on the stored double-precision bounds (the R*Tree keeps float32 boxes)
        self.add(
            "i.minx <= ? AND i.maxx >= ? AND i.miny <= ? AND i.maxy >= ?", maxx, minx, maxy, miny
        )
        # a line or area whose bounds touch the box but that does not reach into it
        self.add(
            "(i.envelope OR (i.minx >= ? AND i.maxx <= ? AND i.miny >= ? AND i.maxy <= ?) "
            "OR ouc_spatial('INTERSECTS', i.geometry, ?))",
            minx,
            maxx,
            miny,
            maxy,
            box_wkb(minx, miny, maxx, maxy),
        )

    def _use_rtree(self, bbox: tuple[float, float, float, float]) -> bool:
        if not self.extent or None in self.extent:
            return True
        ex0, ey0, ex1, ey1 = self.extent
        area = max(ex1 - ex0, 1e-9) * max(ey1 - ey0, 1e-9)
        ix = max(0.0, min(bbox[2], ex1) - max(bbox[0], ex0))
        iy = max(0.0, min(bbox[3], ey1) - max(bbox[1], ey0))
        return (ix * iy) / area < RTREE_MAX_SHARE
