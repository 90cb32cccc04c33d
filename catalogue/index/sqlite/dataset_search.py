"""Searches of datasets (catalogue records) on the embedded index."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import orjson

from catalogue.errors import QueryError
from catalogue.index.sqlite.cql import Column
from catalogue.index.sqlite.facets import FacetColumns
from catalogue.index.sqlite.search import Search, T, fts_errors, fts_expression
from catalogue.index.sqlite.sort_ranks import SortRanks, page_by_rank
from catalogue.index.sqlite.text_hits import TextHits, ranked_datasets
from catalogue.query import Field, SearchQuery, SearchResult

# the dataset columns with an index serving their order (ties by row id, in the same direction)
_SORT_INDEXES = {"d.modified": "datasets_modified", "d.title": "datasets_title"}
# from this many hits on, a page sorted by such a column walks its index
SORT_BY_INDEX_FROM = 2000

DATASET_FIELDS: tuple[Field, ...] = (
    Field("id"),
    Field("title"),
    Field("description"),
    Field("kind"),
    Field("publisher"),
    Field("organization"),
    Field("licence"),
    Field("source"),
    Field("issued"),
    Field("modified"),
    Field("keywords", "array"),
    Field("themes", "array"),
    Field("language", "array"),
    Field("format", "array"),
    Field("districts", "array"),
)

_DATASET_COLUMNS = {
    "id": "d.id",
    "title": "d.title",
    "kind": "d.kind",
    "type": "d.kind",
    "publisher": "d.publisher",
    "organization": "d.organization",
    "licence": "d.licence",
    "license": "d.licence",
    "source": "d.source",
    "issued": "d.issued",
    "created": "d.issued",
    "modified": "d.modified",
    "updated": "d.modified",
    "description": "json_extract(d.doc, '$.description')",
}
# array-valued dataset fields: SQL producing a JSON array from the stored document
_DATASET_ARRAYS = {
    "keywords": "json_extract(d.doc, '$.keywords')",
    "themes": "json_extract(d.doc, '$.themes')",
    "language": "json_extract(d.doc, '$.language')",
    "format": "(SELECT json_group_array(json_extract(value, '$.format')) "
    "FROM json_each(d.doc, '$.distributions'))",
    "districts": "json_extract(d.doc, '$.extras.districts')",
}


class DatasetSearch(Search[T]):
    table = "datasets"
    alias = "d"

    def __init__(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        facet_columns: FacetColumns | None = None,
        text_hits: TextHits | None = None,
        sort_ranks: SortRanks | None = None,
    ) -> None:
        super().__init__(conn, query, facet_columns)
        self.text_hits = text_hits
        self.sort_ranks = sort_ranks

    def hit_ids(self, base: str, params: list[Any]) -> np.ndarray:
        """Filters made of row-id sets alone (a group, an organization, a tag: CKAN's ``fq``)
        are kept like texts: a visitor paging or narrowing a group asks for them again."""
        sets = self.rid_set_sql()
        if sets is None or self.text_hits is None:
            return super().hit_ids(base, params)
        sql, args = sets
        key = f"datasets-where:{sql}:{orjson.dumps(args, default=str).decode()}"
        return self.text_hits.get(self.conn, self.generation(), key, sql, tuple(args))

    def page_rows(
        self, base: str, params: list[Any], matched: int, hits: np.ndarray | None
    ) -> list[Any]:
        """Sorted by one indexed key: with the hits read already (for facets) the page is
        picked by their places in that key's order, held in memory (a filter matching 12,500
        datasets, newest first: 3.3 → 0.15 ms); with no condition it is a slice of the order."""
        q = self.query
        expr = self._ranked_key()
        if expr is not None and self.sort_ranks is not None:
            descending = q.sort[0].descending
            if hits is not None:
                ranks = self.sort_ranks.ranks(self.conn, self.generation(), expr)
                page = page_by_rank(hits, ranks, descending, q.offset, q.limit)
                if page is not None:
                    return self.rows_by_rid(page.tolist())
            elif not self.where:
                order = self.sort_ranks.order(self.conn, self.generation(), expr)
                if descending:
                    order = order[::-1]
                return self.rows_by_rid(order[q.offset : q.offset + q.limit].tolist())
        return super().page_rows(base, params, matched, hits)

    def _ranked_key(self) -> str | None:
        """The expression of the query's one sort key, when the datasets' order by it is held."""
        if len(self.query.sort) != 1:
            return None
        expr = self.column(self.query.sort[0].field).expr
        return expr if expr in SortRanks.KEYS else None

    def known_count(self) -> int | None:
        """With no condition: the number of datasets, the length of a held order (the one
        the page is read from, if any)."""
        if self.where or self.sort_ranks is None:
            return None
        expr = self._ranked_key() or "d.id"
        return len(self.sort_ranks.order(self.conn, self.generation(), expr))

    def paged(self, base: str, matched: int) -> str:
        """Many hits sorted by a key with an index: walk the index in the sort's order and stop
        at the page, instead of sorting every hit (CKAN's newest-first default over a filter
        that matches 12,500 datasets: 45 ms → 1 ms). Few hits are sorted as they are."""
        q = self.query
        if matched < SORT_BY_INDEX_FROM or len(q.sort) != 1 or self.joins:
            return base
        index = _SORT_INDEXES.get(self.column(q.sort[0].field).expr)
        if index is None:
            return base
        return base.replace("FROM datasets d ", f"FROM datasets d INDEXED BY {index} ", 1)

    def run(self, convert: Callable[[Sequence[Any]], T]) -> SearchResult[T]:
        q = self.query
        expression = fts_expression(q.text) if q.text else None
        if self.text_hits is None or expression is None or q.sort:
            return super().run(convert)
        # in relevance order: the ranked text hits, less those other conditions exclude
        with fts_errors(q.text):
            hits = ranked_datasets(self.text_hits, self.conn, self.generation(), expression)
        rest: DatasetSearch[T] = DatasetSearch(self.conn, replace(q, text=None, facets=()))
        rest.build()
        if rest.where:
            hits = hits[np.isin(hits, rest.hit_ids(rest.from_sql(), rest.params))]
        records: list[T] = []
        if q.result_type == "results":
            page = hits[q.offset : q.offset + q.limit].tolist()
            records = [convert(row) for row in self.rows_by_rid(page)]
        facets = self.facets(hits)
        return SearchResult(records, len(hits), facets)

    def select_sql(self) -> str:
        return "d.doc, d.item_count, d.derived"

    def scope(self) -> tuple[str, str, list[Any]]:
        return "datasets", "1", []

    def column(self, name: str) -> Column:
        if name in _DATASET_COLUMNS:
            return Column(_DATASET_COLUMNS[name])
        if name in _DATASET_ARRAYS:
            return Column(_DATASET_ARRAYS[name], kind="array", terms=name)
        if name in ("geometry", "geom", "spatial"):
            return Column(
                "json_array(d.minx, d.miny, d.maxx, d.maxy)",
                kind="geometry",
                box=("d.minx", "d.miny", "d.maxx", "d.maxy"),
            )
        if name in ("datetime", "time", "temporal"):
            return Column("d.t_start", kind="time", start="d.t_start", end="d.t_end")
        raise QueryError(f"unknown property {name!r} of catalogue records")

    def add_text(self, text: str) -> None:
        expr = fts_expression(text)
        if expr is None:
            return
        self.joins = " JOIN datasets_fts f ON f.rowid = d.rid"
        self.add_rid_set(
            "SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH ?",
            expr,
            condition="datasets_fts MATCH ?",
        )
        if not self.query.sort:
            self.default_order = "f.rank, d.rid"

    def add_bbox(self, bbox: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bbox
        if minx > maxx:
            self.add(
                "((d.maxx >= ? OR d.minx <= ?) AND d.miny <= ? AND d.maxy >= ?)",
                minx,
                maxx,
                maxy,
                miny,
            )
            return
        self.add(
            "d.rid IN (SELECT rid FROM datasets_rtree WHERE minx <= ? AND maxx >= ? "
            "AND miny <= ? AND maxy >= ?)",
            maxx,
            minx,
            maxy,
            miny,
        )
        self.add(
            "d.minx <= ? AND d.maxx >= ? AND d.miny <= ? AND d.maxy >= ?", maxx, minx, maxy, miny
        )
