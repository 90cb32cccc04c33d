"""Items and single items as GeoJSON, answered straight from the index.

pygeoapi answers every request by rebuilding a provider, re-reading its configuration and
serializing with the standard library; for the JSON answers a GIS client asks for thousands of
times while it pans a map, that bookkeeping costs many times what the index query does. This
module answers those requests itself, with the same query semantics (the providers' own
:func:`~catalogue.ogc.providers.search_query`), the same body shape and links as pygeoapi, and
orjson. Anything it does not recognise (HTML, JSON-LD, CSV, ``filter``, ``crs``, ``lang``, a
parameter that fails to parse …) returns ``None`` and pygeoapi answers as before, so errors keep
pygeoapi's OGC exception bodies.

``facets`` is an extension: ``facets=true`` counts the values of the collection's facet fields
over all matches (``facets=a,b`` names them); the answer carries them in pycsw's form
(``{"facets": {name: {"type": "terms", "property": name, "buckets": [{"value", "count"}]}}}``).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pygeoapi
from pygeoapi import l10n
from pygeoapi.api import evaluate_limit, validate_bbox
from pygeoapi.util import get_choice_from_headers
from starlette.requests import Request
from starlette.responses import Response

from catalogue.errors import CatalogueError, QueryError, QueryTooExpensiveError
from catalogue.index import FeatureSearch, Index
from catalogue.ogc.providers import search_query
from catalogue.ogc.records import item_feature, record_feature
from catalogue.query import SearchQuery, SearchResult, parse_time_interval

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"

# what the fast path understands; any other reserved OGC parameter goes to pygeoapi
_HANDLED = {"f", "limit", "offset", "bbox", "datetime", "sortby", "q", "resulttype", "facets"}
_RESERVED = {
    "bbox-crs",
    "crs",
    "lang",
    "properties",
    "skipGeometry",
    "filter",
    "filter-lang",
    "filter-crs",
}
_OTHER_FORMATS = ("text/html", "application/ld+json", "text/csv")

MAX_REMEMBERED = 1000
"""Readings of ``limit`` kept per generation of the answers."""

RECORD_FACETS = ("kind", "themes", "keywords", "format", "organization", "licence", "language")
"""What ``facets=true`` counts in the records collection."""


@dataclass(frozen=True, slots=True)
class Collection:
    """What the fast path needs to know of one collection (taken from pygeoapi's config)."""

    name: str
    title: str
    dataset_id: str | None
    """The dataset whose items this is; None for the records collection."""
    fields: frozenset[str]
    facets: tuple[str, ...]
    limits: dict[str, Any]


class FastItems:
    """Answers JSON item queries of one configuration generation."""

    def __init__(self, config: dict[str, Any], index: Index) -> None:
        self.index = index
        server = config["server"]
        self.base_url: str = server["url"].rstrip("/")
        self.collections_url = f"{self.base_url}/collections"
        self.server_limits: dict[str, Any] = server.get("limits", {})
        self.languages = [l10n.str2locale(lang) for lang in server.get("languages", ["en-US"])]
        self.collections: dict[str, Collection] = {}
        # a protocol check with isinstance costs as much as a box query's table read
        self._features = index if isinstance(index, FeatureSearch) else None
        self._limits: dict[tuple[str | None, str], int] = {}
        for name, res in config["resources"].items():
            provider = res["providers"][0]
            self.collections[name] = Collection(
                name=name,
                title=res["title"],
                dataset_id=provider.get("dataset") if provider["type"] == "feature" else None,
                fields=frozenset(provider.get("fields") or ()),
                facets=tuple(provider.get("facets") or ())
                if provider["type"] == "feature"
                else RECORD_FACETS,
                limits=res.get("limits", {}),
            )

    # -- requests ------------------------------------------------------------------------

    def items(self, request: Request, name: str) -> Response | None:
        """The items of a collection as GeoJSON, or None when pygeoapi should answer."""
        collection = self.collections.get(name)
        params = request.query_params
        if collection is None or not self._json(request) or request.method != "GET":
            return None
        if any(k in _RESERVED for k in params):
            return None
        try:
            offset = int(params.get("offset") or 0)
            limit = self._limit(params.get("limit"), collection)
            bbox = validate_bbox(params.get("bbox")) if "bbox" in params else None
            datetime_ = params.get("datetime")
            if datetime_ is not None:
                parse_time_interval(datetime_)
        except ValueError:
            return None
        if offset < 0:
            return None
        sortby = _sortby(params.get("sortby"), collection.fields)
        if sortby is None:
            return None
        try:
            facets = self._facets(params.get("facets"), collection)
        except QueryError as exc:
            return invalid_parameter(exc.user_message)
        properties = [(k, v) for k, v in params.multi_items() if k not in _HANDLED]
        properties = [(k, v) for k, v in properties if k in collection.fields]
        try:
            query = search_query(
                offset=offset,
                limit=limit,
                resulttype=params.get("resulttype") or "results",
                bbox=bbox,
                datetime_=datetime_,
                properties=properties,
                sortby=sortby,
                q=params.get("q") or None,
                facets=facets,
            )
            result, features = self._search(collection, query)
        except CatalogueError as exc:
            if isinstance(exc, QueryTooExpensiveError) or exc.http_status >= 500:
                # pygeoapi would run the same search again, only to fail the same way
                return ogc_exception(exc.http_status, exc.code, exc.user_message)
            return None  # pygeoapi answers with its exception body
        content: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": result.number_matched,
            "numberReturned": len(features),
        }
        if facets:
            content["facets"] = {
                name: {
                    "type": "terms",
                    "property": name,
                    "buckets": [{"value": v.value, "count": v.count} for v in values],
                }
                for name, values in result.facets.items()
            }
        content["links"] = self._items_links(request, collection, offset, limit, content)
        # the same as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), in a tenth of its time
        content["timeStamp"] = datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
        return self._response(request, content, collection)

    def item(self, request: Request, name: str, identifier: str) -> Response | None:
        """One item (or record) as GeoJSON, or None when pygeoapi should answer."""
        collection = self.collections.get(name)
        if collection is None or not self._json(request):
            return None
        if any(k != "f" for k in request.query_params):
            return None
        if collection.dataset_id is None:
            dataset = self.index.get_dataset(identifier)
            content = record_feature(dataset, self.base_url) if dataset else None
        else:
            item = self.index.get_item(collection.dataset_id, identifier)
            content = item_feature(item) if item else None
        if content is None:
            return None  # pygeoapi's 404
        uri = f"{self.collections_url}/{name}/items/{identifier}"
        content.setdefault("links", [])
        content["links"] = [
            *content["links"],
            {
                "type": "application/json",
                "rel": "root",
                "title": "The landing page of this server as JSON",
                "href": f"{self.base_url}?f=json",
            },
            {
                "type": "text/html",
                "rel": "root",
                "title": "The landing page of this server as HTML",
                "href": f"{self.base_url}?f=html",
            },
            {
                "rel": "self",
                "type": GEOJSON,
                "title": "This document as JSON",
                "href": f"{uri}?f=json",
            },
            {
                "rel": "alternate",
                "type": "application/ld+json",
                "title": "This document as RDF (JSON-LD)",
                "href": f"{uri}?f=jsonld",
            },
            {
                "rel": "alternate",
                "type": "text/html",
                "title": "This document as HTML",
                "href": f"{uri}?f=html",
            },
            {
                "rel": "collection",
                "type": "application/json",
                "title": collection.title,
                "href": f"{self.collections_url}/{name}",
            },
        ]
        return self._response(request, content, collection)

    # -- parts ---------------------------------------------------------------------------

    def _search(
        self, collection: Collection, query: SearchQuery
    ) -> tuple[SearchResult[Any], list[Any]]:
        if collection.dataset_id is None:
            records = self.index.search_datasets(query)
            return records, [record_feature(d, self.base_url) for d in records.records]
        if self._features is not None:
            raw = self._features.search_item_features(collection.dataset_id, query)
            return raw, [orjson.Fragment(f) for f in raw.records]
        items = self.index.search_items(collection.dataset_id, query)
        return items, [item_feature(i) for i in items.records]

    def _limit(self, requested: str | None, collection: Collection) -> int:
        """pygeoapi's reading of ``limit`` (which logs five lines to say it), remembered."""
        key = (requested, collection.name)
        limit = self._limits.get(key)
        if limit is None:
            limit = evaluate_limit(requested, self.server_limits, collection.limits)
            if len(self._limits) >= MAX_REMEMBERED:
                self._limits.clear()
            self._limits[key] = limit
        return limit

    def _facets(self, value: str | None, collection: Collection) -> tuple[str, ...]:
        """The facet fields asked for."""
        if value is None or value.lower() in ("false", "0", ""):
            return ()
        if value.lower() in ("true", "1"):
            return collection.facets
        names = tuple(n.strip() for n in value.split(",") if n.strip())
        known = collection.fields if collection.dataset_id is not None else RECORD_FACETS
        unknown = [n for n in names if n not in known]
        if unknown:
            raise QueryError(f"cannot count facets of {', '.join(unknown)}")
        return names

    def _json(self, request: Request) -> bool:
        f = request.query_params.get("f")
        if f is not None:
            return f.strip().lower() == "json"
        accept = request.headers.get("accept", "")
        return not any(t in accept for t in _OTHER_FORMATS)

    def _locale(self, request: Request) -> str:
        wanted = get_choice_from_headers(request.headers, "accept-language", all=True)
        if not wanted:
            return l10n.locale2str(self.languages[0])
        return l10n.locale2str(l10n.best_match(wanted, self.languages))

    def _items_links(
        self,
        request: Request,
        collection: Collection,
        offset: int,
        limit: int,
        content: dict[str, Any],
    ) -> list[dict[str, Any]]:
        # the same links, in the same order, as pygeoapi's get_collection_items
        query = "".join(
            f"&{urllib.parse.quote(k, safe='')}={urllib.parse.quote(str(v), safe=',')}"
            for k, v in request.query_params.items()
            if k not in ("f", "offset")
        )
        uri = f"{self.collections_url}/{collection.name}/items"
        links: list[dict[str, Any]] = [
            {
                "type": GEOJSON,
                "rel": "self",
                "title": "This document as GeoJSON",
                "href": f"{uri}?f=json{query}",
            },
            {
                "rel": "alternate",
                "type": "application/ld+json",
                "title": "This document as RDF (JSON-LD)",
                "href": f"{uri}?f=jsonld{query}",
            },
            {
                "type": "text/html",
                "rel": "alternate",
                "title": "This document as HTML",
                "href": f"{uri}?f=html{query}",
            },
        ]
        if offset > 0:
            links.append(
                {
                    "type": GEOJSON,
                    "rel": "prev",
                    "title": "Items (prev)",
                    "href": f"{uri}?offset={max(0, offset - limit)}{query}",
                }
            )
        if content["numberMatched"] > limit + offset or len(content["features"]) == limit:
            links.append(
                {
                    "type": GEOJSON,
                    "rel": "next",
                    "title": "Items (next)",
                    "href": f"{uri}?offset={offset + limit}{query}",
                }
            )
        links.append(
            {
                "type": "application/json",
                "title": collection.title,
                "rel": "collection",
                "href": f"{self.collections_url}/{collection.name}",
            }
        )
        return links

    def _response(
        self, request: Request, content: dict[str, Any], collection: Collection
    ) -> Response:
        headers = {
            "X-Powered-By": f"pygeoapi {pygeoapi.__version__}",
            "Content-Language": self._locale(request),
        }
        if collection.dataset_id is not None:
            headers["Content-Crs"] = f"<{CRS84}>"
        return Response(orjson.dumps(content), headers=headers, media_type=GEOJSON)


def invalid_parameter(message: str) -> Response:
    """A 400 answer with pygeoapi's exception body."""
    return ogc_exception(400, "InvalidParameterValue", message)


def ogc_exception(status: int, code: str, message: str) -> Response:
    """An error answer with pygeoapi's exception body."""
    body = {"code": code, "type": code, "description": message}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _sortby(value: str | None, fields: frozenset[str]) -> list[dict[str, str]] | None:
    """pygeoapi's reading of ``sortby``; None when a name is not a queryable."""
    if value is None:
        return []
    out = []
    for part in value.split(","):
        order, name = ("+", part)
        if part[:1] in ("+", "-"):
            order, name = part[0], part[1:]
        if name not in fields:
            return None
        out.append({"property": name, "order": order})
    return out
