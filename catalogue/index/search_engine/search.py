"""Searches on the engine: one query model, translated to the engine's query DSL.

Counts are exact (``track_total_hits``). Pages within the engine's result window are read with
``from``/``size``; deeper pages walk there with ``search_after`` on a sort that ends in a unique
key, so any offset the query model allows can be served. All requests of one search share the
index's time limit (``query_timeout``): the engine stops the search when it has run out.
"""

from __future__ import annotations

import re
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from catalogue.errors import QueryError
from catalogue.index.search_engine.client import EngineClient
from catalogue.index.search_engine.cql import CQLToDSL, Dsl, Target
from catalogue.index.search_engine.documents import LIST_FIELDS, field_name
from catalogue.index.sqlite.rows import OPEN_END, OPEN_START
from catalogue.query import FacetValue, SearchQuery, SearchResult, typed_value

T = TypeVar("T")

WINDOW = 10_000
"""The engine's ``max_result_window``: deeper pages are reached with ``search_after``."""
MAX_FACET_VALUES = 10_000
QUANTUM = 1e-7

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TOKEN = 255
"""The standard tokenizer cuts longer words into pieces: no indexed token is longer."""

_DATASET_FIELDS = {
    "id": "id",
    "title": "title.raw",
    "kind": "kind",
    "type": "kind",
    "publisher": "publisher",
    "organization": "organization",
    "licence": "licence",
    "license": "licence",
    "source": "source",
    "issued": "issued",
    "created": "issued",
    "modified": "modified",
    "updated": "modified",
    "description": "description.raw",
}
_GEOMETRY = Target("geometry", {"g": "geometry"})
_TIME = Target("time")
_UNMAPPED = {"s": "keyword", "n": "double", "b": "boolean"}


def fold(word: str) -> str:
    """A word as the ``folded`` analyzer indexes it: lower case, without diacritics."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def text_query(text: str, *, ranked: bool = True) -> Dsl | None:
    """OGC ``q``: commas separate alternatives, words within one must all occur; each word
    matches as a prefix (German compounds: "Verkehr" finds "Verkehrsnetz"), with diacritics
    folded. German and English stemming rank the matches."""
    alternatives: list[Dsl] = []
    for part in text.split(","):
        words = [fold(w) for w in _WORD.findall(part)]
        if not words:
            continue
        if any(len(w) > MAX_TOKEN for w in words):
            # no token starts with it (and the engine refuses so long a prefix)
            alternatives.append({"bool": {"must_not": [{"match_all": {}}]}})
            continue
        alternatives.append(
            {"bool": {"filter": [{"prefix": {"text": {"value": w}}} for w in words]}}
        )
    if not alternatives:
        return None
    matching: Dsl = {"bool": {"should": alternatives, "minimum_should_match": 1}}
    if not ranked:
        return matching
    ranking = [
        {"match": {"text": {"query": text}}},
        {"match": {"text.de": {"query": text}}},
        {"match": {"text.en": {"query": text}}},
    ]
    return {
        "bool": {
            "filter": [matching],
            "should": ranking,
        }
    }


class EngineSearch(ABC, Generic[T]):
    """Shared shape of a search: conditions, order, paging, count, facets."""

    index: str
    source_fields: list[str] | bool
    ranked = False
    """Whether text matches are ordered by relevance (else no scores are computed)."""

    def __init__(self, client: EngineClient, query: SearchQuery) -> None:
        self.client = client
        self.query = query
        self.filters: list[Dsl] = []
        self.scoring: Dsl | None = None
        self.deadline = time.monotonic() + client.query_timeout
        """When every request of this search must be answered by (``time.monotonic()``)."""

    @abstractmethod
    def resolve(self, name: str) -> Target:
        """What a queryable name stands for in this search's documents."""

    @abstractmethod
    def bbox_filter(self, bbox: tuple[float, float, float, float]) -> Dsl:
        """The filter for records intersecting the box."""

    def coerce(self, name: str, target: Target, value: str) -> Any:
        return value

    def build(self) -> Dsl:
        q = self.query
        if q.text:
            found = text_query(q.text, ranked=self.ranked)
            if found is not None and self.ranked:
                self.scoring = found
            elif found is not None:
                self.filters.append(found)
        if q.bbox:
            self.filters.append(self.bbox_filter(q.bbox))
        if q.time:
            start = q.time.start.timestamp() if q.time.start else OPEN_START
            end = q.time.end.timestamp() if q.time.end else OPEN_END
            self.filters.append({"range": {"t_start": {"lte": end}}})
            self.filters.append({"range": {"t_end": {"gte": start}}})
        for name, value in q.properties:
            self.filters.append(self.property_filter(name, value))
        if q.filter is not None:
            self.filters.append(CQLToDSL(self.resolve).translate(q.filter))
        must = [self.scoring] if self.scoring else []
        return {"bool": {"filter": self.filters, "must": must}}

    def property_filter(self, name: str, value: str) -> Dsl:
        target = self.resolve(name)
        if target.kind in ("geometry", "time"):
            raise QueryError(f"{name!r} cannot be filtered by equality")
        if target.kind == "array":
            return {"term": {target.fields["s"]: value}}
        typed = self.coerce(name, target, value)
        bucket = {bool: "b", int: "n", float: "n"}.get(type(typed), "s")
        path = target.fields.get(bucket)
        return {"term": {path: typed}} if path else {"bool": {"must_not": [{"match_all": {}}]}}

    def default_order(self) -> list[Dsl]:
        return [{"seq": "asc"}]

    def sort(self) -> list[Dsl]:
        keys: list[Dsl] = []
        for key in self.query.sort:
            target = self.resolve(key.field)
            if target.kind in ("geometry", "array"):
                raise QueryError(f"cannot sort by {key.field!r}")
            order = "desc" if key.descending else "asc"
            # SQL sorts missing values first when ascending and last when descending
            missing = "_last" if key.descending else "_first"
            if target.kind == "time":
                keys.append({target.start: {"order": order, "missing": missing}})
                continue
            path = target.fields.get(target.sort_type) or next(iter(target.fields.values()))
            keys.append(
                {
                    path: {
                        "order": order,
                        "missing": missing,
                        "unmapped_type": _UNMAPPED[target.sort_type],
                    }
                }
            )
        if not self.query.sort:
            keys.extend(self.default_order())
        else:  # ties in the direction of the last key, as the embedded index orders them
            keys.append({"seq": "desc" if self.query.sort[-1].descending else "asc"})
        keys.append({"key": "asc"})  # unique: search_after resumes exactly here
        return keys

    def facet_aggs(self) -> dict[str, Dsl]:
        aggs: dict[str, Dsl] = {}
        for i, name in enumerate(self.query.facets):
            target = self.resolve(name)
            if target.kind not in ("scalar", "array"):
                raise QueryError(f"cannot count facets of {name!r}")
            bucket = "s" if target.kind == "array" else target.sort_type
            path = target.fields.get(bucket) or target.fields["s"]
            aggs[f"f{i}"] = {
                "terms": {
                    "field": path,
                    "size": max(1, min(self.query.facet_limit, MAX_FACET_VALUES)),
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                    "shard_size": MAX_FACET_VALUES,
                }
            }
        return aggs

    def facet_value(self, name: str, bucket: dict[str, Any]) -> Any:
        return bucket["key"]

    def run(self, convert: Callable[[dict[str, Any]], T]) -> SearchResult[T]:
        q = self.query
        query = self.build()
        sort = self.sort()
        body: Dsl = {"query": query, "track_total_hits": True, "size": 0}
        aggs = self.facet_aggs()
        if aggs:
            body["aggs"] = aggs
        hits: list[dict[str, Any]] = []
        if q.result_type == "results" and q.offset + q.limit <= WINDOW:
            body.update(size=q.limit, _source=self.source_fields, sort=sort)
            if q.offset:
                body["from"] = q.offset
            answer = self.client.timed_search(self.index, body, self.deadline)
            hits = answer["hits"]["hits"]
        else:
            answer = self.client.timed_search(self.index, body, self.deadline)
            if q.result_type == "results":
                matched = int(answer["hits"]["total"]["value"])
                if q.offset < matched:
                    hits = self._deep_page(query, sort)
        matched = int(answer["hits"]["total"]["value"])
        facets = {
            name: [
                FacetValue(self.facet_value(name, b), int(b["doc_count"]))
                for b in answer.get("aggregations", {}).get(f"f{i}", {}).get("buckets", [])
            ]
            for i, name in enumerate(q.facets)
        }
        return SearchResult([convert(h["_source"]) for h in hits], matched, facets)

    def _deep_page(self, query: Dsl, sort: list[Dsl]) -> list[dict[str, Any]]:
        """Walk to ``offset`` with search_after (sort values only), then read the page, both in
        steps no larger than the engine's result window."""
        after: list[Any] | None = None
        skip, wanted = self.query.offset, self.query.limit
        out: list[dict[str, Any]] = []
        while wanted > 0:
            reading = skip == 0
            step = min(WINDOW, wanted if reading else skip)
            body: Dsl = {"query": query, "sort": sort, "size": step}
            body["_source"] = self.source_fields if reading else False
            if after is not None:
                body["search_after"] = after
            page = self.client.timed_search(self.index, body, self.deadline)["hits"]["hits"]
            if reading:
                out.extend(page)
                wanted -= len(page)
            else:
                skip -= len(page)
            if len(page) < step:
                break
            after = page[-1]["sort"]
        return out


class ItemSearch(EngineSearch[T]):
    # the whole source: filtering it rebuilds the objects and loses the order of their keys,
    # which a copied item's content hash depends on
    source_fields = True

    def __init__(
        self,
        client: EngineClient,
        index: str,
        query: SearchQuery,
        dataset_id: str,
        fields: dict[str, str],
    ) -> None:
        super().__init__(client, query)
        self.index = index
        self.dataset_id = dataset_id
        self.fields = fields
        self.filters.append({"term": {"ds": dataset_id}})

    def resolve(self, name: str) -> Target:
        if name == "id":
            return Target(fields={"s": "id"})
        if name in ("geometry", "geom", "the_geom"):
            return _GEOMETRY
        if name in ("datetime", "time") and name not in self.fields:
            return _TIME
        if name not in self.fields:
            raise QueryError(f"unknown property {name!r} in collection {self.dataset_id!r}")
        kind = self.fields[name]
        key = field_name(name)
        sort_type = {"integer": "n", "number": "n", "boolean": "b"}.get(kind, "s")
        return Target(
            "array" if kind == "array" else "scalar",
            {b: f"p.{b}.{key}" for b in ("s", "n", "b")},
            sort_type=sort_type,
        )

    def coerce(self, name: str, target: Target, value: str) -> Any:
        return typed_value(name, self.fields.get(name), value)

    def bbox_filter(self, bbox: tuple[float, float, float, float]) -> Dsl:
        minx, miny, maxx, maxy = bbox
        lat = [{"range": {"miny": {"lte": maxy}}}, {"range": {"maxy": {"gte": miny}}}]
        if minx > maxx:  # crosses the antimeridian: two boxes
            east = [{"range": {"maxx": {"gte": minx}}}]
            west = [{"range": {"minx": {"lte": maxx}}}]
            return {
                "bool": {
                    "filter": lat,
                    "should": [{"bool": {"filter": east}}, {"bool": {"filter": west}}],
                    "minimum_should_match": 1,
                }
            }
        # shapes are indexed quantized (~1e-7 degrees): the shape test gets a box that much
        # larger, the exact test is made on the stored double-precision bounds
        e = QUANTUM
        shape = {"type": "envelope", "coordinates": [[minx - e, maxy + e], [maxx + e, miny - e]]}
        inside = [
            {"range": {"minx": {"gte": minx}}},
            {"range": {"maxx": {"lte": maxx}}},
            {"range": {"miny": {"gte": miny}}},
            {"range": {"maxy": {"lte": maxy}}},
        ]
        return {
            "bool": {
                "filter": [
                    *lat,
                    {"range": {"minx": {"lte": maxx}}},
                    {"range": {"maxx": {"gte": minx}}},
                ],
                # a point, or a shape inside the box, or (lines and areas whose bounds overlap
                # the box) a shape that reaches into it
                "should": [
                    {"term": {"point": True}},
                    {"bool": {"filter": inside}},
                    {"geo_shape": {"geometry": {"shape": shape, "relation": "intersects"}}},
                ],
                "minimum_should_match": 1,
            }
        }

    def facet_value(self, name: str, bucket: dict[str, Any]) -> Any:
        kind = self.fields.get(name)
        key = bucket["key"]
        if kind == "integer" or (kind == "number" and float(key).is_integer()):
            return int(key)
        return key


class DatasetSearch(EngineSearch[T]):
    source_fields = ["doc", "item_count", "derived"]
    ranked = True

    def __init__(self, client: EngineClient, index: str, query: SearchQuery) -> None:
        super().__init__(client, query)
        self.index = index

    def resolve(self, name: str) -> Target:
        if name in _DATASET_FIELDS:
            return Target(fields={"s": _DATASET_FIELDS[name]})
        if name in LIST_FIELDS:
            return Target("array", {"s": f"terms.{name}"})
        if name in ("geometry", "geom", "spatial"):
            return _GEOMETRY
        if name in ("datetime", "time", "temporal"):
            return _TIME
        raise QueryError(f"unknown property {name!r} of catalogue records")

    def default_order(self) -> list[Dsl]:
        if self.scoring is not None:
            return [{"_score": "desc"}, {"seq": "asc"}]
        return [{"seq": "asc"}]

    def bbox_filter(self, bbox: tuple[float, float, float, float]) -> Dsl:
        minx, miny, maxx, maxy = bbox
        lat = [{"range": {"miny": {"lte": maxy}}}, {"range": {"maxy": {"gte": miny}}}]
        if minx > maxx:
            return {
                "bool": {
                    "filter": lat,
                    "should": [
                        {"range": {"maxx": {"gte": minx}}},
                        {"range": {"minx": {"lte": maxx}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        return {
            "bool": {
                "filter": [
                    *lat,
                    {"range": {"minx": {"lte": maxx}}},
                    {"range": {"maxx": {"gte": minx}}},
                ]
            }
        }


def scan(
    client: EngineClient, index: str, query: Dsl, source: list[str] | bool, size: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching document in key order, page by page with search_after."""
    after: list[Any] | None = None
    while True:
        body: Dsl = {"query": query, "sort": [{"key": "asc"}], "size": size, "_source": source}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index, body)["hits"]["hits"]
        yield from hits
        if len(hits) < size:
            return
        after = hits[-1]["sort"]
