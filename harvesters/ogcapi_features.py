"""OGC API Features servers: every collection a dataset, its items harvested page by page
through ``next`` links (pygeoapi, ldproxy, GeoServer, QGIS Server …)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.harvest.contract import SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.model import Dataset, Distribution, Item, Notice, Problem
from harvesters.items import ItemOptions, feature_item, transformer

JSON_TYPES = ("application/geo+json", "application/json")


class OGCAPIFeaturesOptions(ItemOptions):
    collections: tuple[str, ...] = ()
    """Only these collection ids (default: every collection of item type feature)."""
    limit: int = Field(1000, ge=1, le=10_000)
    """Items per page asked for."""


class OGCAPIFeaturesHarvester(SourceHarvester):
    """One dataset per collection; every feature an item."""

    Options: ClassVar[type[OGCAPIFeaturesOptions]] = OGCAPIFeaturesOptions
    options: OGCAPIFeaturesOptions

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]:
        listing = self._get_json(f"{self.endpoint}/collections", {"f": "json"})
        collections = [c for c in listing.get("collections") or () if isinstance(c, dict)]
        wanted = set(self.options.collections)
        found = {str(c.get("id")) for c in collections}
        for missing in sorted(wanted - found):
            yield Notice(f"collection {missing!r} is not offered by the server")
        to_wgs84 = transformer(self.options.crs)
        for collection in collections:
            cid = str(collection.get("id"))
            if wanted and cid not in wanted:
                continue
            if collection.get("itemType", "feature") != "feature":
                continue
            dataset = self._dataset(collection)
            yield dataset
            yield from self._items(cid, dataset.id, to_wgs84)

    def _dataset(self, collection: dict[str, Any]) -> Dataset:
        cid = str(collection["id"])
        items_url = f"{self.endpoint}/collections/{cid}/items"
        extent = collection.get("extent") or {}
        bbox = ((extent.get("spatial") or {}).get("bbox") or [None])[0]
        interval = ((extent.get("temporal") or {}).get("interval") or [None])[0]
        html = next(
            (
                link.get("href")
                for link in collection.get("links") or ()
                if link.get("rel") == "alternate" and link.get("type") == "text/html"
            ),
            None,
        )
        return configured_dataset(
            self.source,
            identifier=cid,
            title=collection.get("title") or cid,
            description=collection.get("description") or self.source.description,
            keywords=tuple(collection.get("keywords") or ()) or tuple(self.source.keywords),
            spatial=tuple(bbox[:2] + bbox[-2:])
            if isinstance(bbox, list) and len(bbox) in (4, 6)
            else None,
            temporal=tuple(interval) if isinstance(interval, list) and len(interval) == 2 else None,
            landing_page=html or self.source.landing_page,
            distributions=(
                Distribution(
                    url=items_url,
                    title=f"{collection.get('title') or cid} (GeoJSON)",
                    media_type="application/geo+json",
                    format="GEOJSON",
                ),
            ),
        )

    def _items(self, cid: str, dataset_id: str, to_wgs84: Any) -> Iterator[Item | Problem | Notice]:
        url: str | None = f"{self.endpoint}/collections/{cid}/items"
        params: dict[str, Any] | None = {"f": "json", "limit": self.options.limit}
        visited: set[str] = set()
        promised: int | None = None
        received = 0
        while url:
            page = self._get_json(url, params)
            visited.add(str(httpx.URL(url, params=params)) if params else url)
            if promised is None and isinstance(page.get("numberMatched"), int):
                promised = page["numberMatched"]
            for feature in page.get("features") or ():
                received += 1
                yield feature_item(
                    dataset_id, received, feature, self.options, to_wgs84, label="item"
                )
            url, params = _next_link(page), None
            if url and url in visited:
                yield Notice(
                    f"collection {cid}: the next link repeats {url}; paging stopped",
                    incomplete=True,
                )
                break
        if promised is not None and received < promised:
            yield Notice(
                f"collection {cid}: the server promised {promised} items and delivered {received}",
                incomplete=True,
            )

    def _get_json(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        response = self.client.get(
            url, params=params, headers={"Accept": "application/geo+json, application/json"}
        )
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        try:
            body = response.json()
        except ValueError as exc:
            raise HarvestError(f"{response.request.url}: invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HarvestError(f"{response.request.url}: the answer is not a JSON object")
        return body


def _next_link(page: dict[str, Any]) -> str | None:
    for link in page.get("links") or ():
        if link.get("rel") == "next" and link.get("type", "application/geo+json") in JSON_TYPES:
            return str(link["href"])
    return None
