"""pygeoapi providers that answer from the catalogue's index (and from nothing else).

pygeoapi builds a provider for every request, so constructors only look things up in memory:
the index object registered by the web app, and the fields carried in the provider definition.
"""

from __future__ import annotations

import threading
from abc import ABCMeta, abstractmethod
from typing import Any

from pygeoapi.provider.base import (
    BaseProvider,
    ProviderGenericError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)

from catalogue.errors import CatalogueError, QueryError, QueryTooExpensiveError
from catalogue.index import Index
from catalogue.ogc.records import item_feature, record_feature
from catalogue.query import (
    MAX_OFFSET,
    SearchQuery,
    SortKey,
    bbox_from_numbers,
    parse_time_interval,
)

_INDEXES: dict[str, Index] = {}
_LOCK = threading.Lock()


def register_index(key: str, index: Index) -> None:
    """Make ``index`` reachable by providers whose definition names ``data: key``."""
    with _LOCK:
        _INDEXES[key] = index


def unregister_index(key: str) -> None:
    with _LOCK:
        _INDEXES.pop(key, None)


def _index(key: str) -> Index:
    try:
        return _INDEXES[key]
    except KeyError:
        raise ProviderInvalidQueryError(user_msg="the catalogue index is not available") from None


class IndexAnswerError(ProviderGenericError):  # type: ignore[misc]
    """A search the index stopped at its time limit or could not answer: pygeoapi answers with
    the catalogue's own status and code (503 stays 503, not a 400 blaming the query)."""

    def __init__(self, exc: CatalogueError) -> None:
        super().__init__(user_msg=exc.user_message)
        self.http_status_code = exc.http_status
        self.ogc_exception_code = exc.code


def provider_error(exc: CatalogueError) -> ProviderGenericError:
    """The pygeoapi error for a catalogue error raised while answering a query."""
    if exc.http_status == 404:
        return ProviderItemNotFoundError(user_msg=exc.user_message)
    if isinstance(exc, QueryTooExpensiveError) or exc.http_status >= 500:
        return IndexAnswerError(exc)
    return ProviderInvalidQueryError(user_msg=exc.user_message)


def search_query(
    *,
    offset: int = 0,
    limit: int = 10,
    resulttype: str = "results",
    bbox: list[float] | None = None,
    datetime_: str | None = None,
    properties: list[tuple[str, str]] | None = None,
    sortby: list[dict[str, str]] | None = None,
    q: str | None = None,
    filterq: Any = None,
    facets: tuple[str, ...] = (),
) -> SearchQuery:
    """An OGC API items request (as pygeoapi hands it to providers) as the index's query."""
    if offset > MAX_OFFSET:
        raise QueryError(f"offset must not exceed {MAX_OFFSET}")
    return SearchQuery(
        text=q or None,
        bbox=bbox_from_numbers([float(n) for n in bbox]) if bbox else None,
        time=parse_time_interval(datetime_) if datetime_ else None,
        properties=tuple((k, str(v)) for k, v in properties or ()),
        filter=filterq,
        sort=tuple(SortKey(s["property"], s["order"] == "-") for s in sortby or ()),
        limit=limit,
        offset=offset,
        result_type="hits" if resulttype == "hits" else "results",
        facets=facets,
    )


class _IndexProvider(BaseProvider, metaclass=ABCMeta):  # type: ignore[misc]
    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.index = _index(provider_def["data"])
        self.base_url: str = provider_def.get("base_url", "")
        self._fields = dict(provider_def.get("fields") or {})

    def get_fields(self) -> dict[str, Any]:
        return self._fields

    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        """pygeoapi's query call, answered by :meth:`search` on the index."""
        try:
            query = search_query(
                offset=offset,
                limit=limit,
                resulttype=resulttype,
                bbox=bbox,
                datetime_=datetime_,
                properties=properties,
                sortby=sortby,
                q=q,
                filterq=filterq,
            )
            features, matched = self.search(query)
        except CatalogueError as exc:
            raise provider_error(exc) from None
        for feature in features:
            if skip_geometry:
                feature["geometry"] = None
            if select_properties:
                feature["properties"] = {
                    k: v for k, v in feature["properties"].items() if k in select_properties
                }
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
        }

    @abstractmethod
    def search(self, query: SearchQuery) -> tuple[list[dict[str, Any]], int]:
        """The GeoJSON features answering ``query`` and how many match in all."""


class ItemProvider(_IndexProvider):
    """The items (features) of one dataset: an OGC API Features collection."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.dataset_id: str = provider_def["dataset"]

    def search(self, query: SearchQuery) -> tuple[list[dict[str, Any]], int]:
        result = self.index.search_items(self.dataset_id, query)
        return [item_feature(i) for i in result.records], result.number_matched

    def get(self, identifier: str, **_: Any) -> dict[str, Any]:
        item = self.index.get_item(self.dataset_id, str(identifier))
        if item is None:
            raise ProviderItemNotFoundError(user_msg=f"no item {identifier!r} in this collection")
        return item_feature(item)


class RecordProvider(_IndexProvider):
    """Every dataset as a record: the OGC API Records catalogue collection."""

    def search(self, query: SearchQuery) -> tuple[list[dict[str, Any]], int]:
        result = self.index.search_datasets(query)
        return [record_feature(d, self.base_url) for d in result.records], result.number_matched

    def get(self, identifier: str, **_: Any) -> dict[str, Any]:
        dataset = self.index.get_dataset(str(identifier))
        if dataset is None:
            raise ProviderItemNotFoundError(user_msg=f"no record {identifier!r} in the catalogue")
        return record_feature(dataset, self.base_url)
