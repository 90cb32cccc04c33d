"""What each portal page shows, gathered from the index through its protocol only.

Each function returns the template name and its context; :mod:`catalogue.portal.routes`
renders it in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from catalogue.ckan.packages import package_name
from catalogue.errors import NotFoundError, QueryError
from catalogue.harvest.report import recent_reports
from catalogue.index import Index
from catalogue.model import Dataset, Item
from catalogue.portal import maps
from catalogue.portal.charts import sparkline
from catalogue.portal.search import FACETS, MAX_PAGE, PortalSearch
from catalogue.query import SearchQuery, SortKey
from catalogue.settings import Settings
from catalogue.web.admin import summary

Page = tuple[str, dict[str, Any]]
HOME_MAP_DATASETS = 500
ITEMS_PER_PAGE = 24
MAX_DOWNLOAD = 10_000
GALLERY = 24


@dataclass(frozen=True, slots=True)
class FacetOption:
    value: str
    count: int
    selected: bool
    href: str


def home(index: Index) -> Page:
    overview = index.search_datasets(
        SearchQuery(limit=6, sort=(SortKey("modified", True),), facets=("kind", "themes"))
    )
    # the first datasets in the index's own order: cheap, unlike a spatial query over all
    located = index.search_datasets(SearchQuery(limit=HOME_MAP_DATASETS))
    return "home.html", {
        "recent": overview.records,
        "total": overview.number_matched,
        "kinds": overview.facets.get("kind", []),
        "themes": overview.facets.get("themes", []),
        "map_data": maps.dataset_extents([d for d in located.records if d.spatial]),
    }


def search(index: Index, params: dict[str, str], page_size: int) -> Page:
    wanted = PortalSearch.from_params(params)
    result = index.search_datasets(wanted.query(page_size))
    facets: dict[str, list[FacetOption]] = {}
    for name, field in FACETS.items():
        chosen = wanted.filters.get(name)
        options = [
            FacetOption(
                str(f.value),
                f.count,
                str(f.value) == chosen,
                wanted.url(**{name: None if str(f.value) == chosen else str(f.value)}),
            )
            for f in result.facets.get(field, [])
        ]
        if chosen and not any(o.selected for o in options):
            options.insert(0, FacetOption(chosen, 0, True, wanted.url(**{name: None})))
        facets[name] = options
    pages = max(1, -(-result.number_matched // page_size))
    objects: list[Item] = []
    if wanted.filters.get("kind") == "culture":
        # a gallery of the objects of the cultural collections on this page
        for dataset in result.records:
            if dataset.kind == "culture" and dataset.item_count and len(objects) < GALLERY:
                found = index.search_items(
                    dataset.id,
                    SearchQuery(text=wanted.text or None, limit=GALLERY - len(objects)),
                )
                objects.extend(found.records)
    return "search.html", {
        "search": wanted,
        "results": result.records,
        "matched": result.number_matched,
        "facets": facets,
        "page": wanted.page,
        "pages": pages,
        "map_data": maps.dataset_extents(result.records),
        "objects": objects,
        "item_title": item_title,
        "search_page_url": lambda number: wanted.url(page=number),
        "clear_url": wanted.url(**{name: None for name in [*FACETS, "start", "end"]}),
    }


def machine_links(dataset: Dataset, base: str) -> list[tuple[str, str]]:
    """The same dataset in the catalogue's machine-readable outputs: (label, URL)."""
    quoted = quote(dataset.id, safe="")
    links = [
        ("OGC API Records", f"{base}/ogc/collections/catalogue/items/{quoted}?f=json"),
    ]
    if dataset.item_count:
        links.append(("OGC API Features", f"{base}/ogc/collections/{quoted}?f=json"))
        links.append(("GeoJSON", f"{base}/ogc/collections/{quoted}/items?f=json"))
    links += [
        ("DCAT Turtle", f"{base}/dcat/dataset/{quoted}.ttl"),
        ("DCAT JSON-LD", f"{base}/dcat/dataset/{quoted}.jsonld"),
        (
            "CKAN API",
            f"{base}/api/3/action/package_show?" + urlencode({"id": package_name(dataset.id)}),
        ),
    ]
    return links


def last_harvest(settings: Settings, source_name: str) -> dict[str, Any] | None:
    """The newest run report of one source."""
    for run in recent_reports(settings.reports_dir(), 20):
        for source in run.get("sources", []):
            if source.get("name") == source_name:
                return dict(source)
    return None


def item_title(item: Item) -> str:
    props = item.properties
    for key in ("title", "name", "titel", "bezeichnung", "label"):
        value = props.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return str(value)
    return item.id


def dataset_page(index: Index, settings: Settings, dataset_id: str, params: dict[str, str]) -> Page:
    dataset = index.get_dataset(dataset_id)
    if dataset is None:
        raise NotFoundError(f"no dataset {dataset_id!r}")
    page_text = params.get("page") or "1"
    page = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 1
    if page > MAX_PAGE:
        raise QueryError(f"page must be a whole number from 1 to {MAX_PAGE}")
    text = (params.get("q") or "").strip()
    listed = index.search_items(
        dataset_id,
        SearchQuery(text=text or None, limit=ITEMS_PER_PAGE, offset=(page - 1) * ITEMS_PER_PAGE),
    )
    on_map = (
        index.search_items(dataset_id, SearchQuery(limit=maps.MAX_MAP_ITEMS)).records
        if dataset.item_count
        else []
    )
    districts = [str(d) for d in dataset.extras.get("districts") or []]
    sensors = []
    if dataset.kind == "sensor":
        for item in listed.records:
            streams = [
                {**s, "chart": sparkline(s.get("hourly") or [])}
                for s in item.properties.get("datastreams") or []
                if isinstance(s, dict)
            ]
            sensors.append((item, streams))
    map_data = maps.item_features(on_map, item_title)
    if not map_data["features"]:
        map_data = maps.dataset_extents([dataset])
    base = settings.server.base_url()
    return "dataset.html", {
        "dataset": dataset,
        "items": listed.records,
        "item_matched": listed.number_matched,
        "item_query": text,
        "page": page,
        "pages": max(1, -(-listed.number_matched // ITEMS_PER_PAGE)),
        "sensors": sensors,
        "map_data": map_data,
        "map_truncated": dataset.item_count > len(on_map),
        "machine_links": machine_links(dataset, base),
        "geojson_download": f"/ogc/collections/{quote(dataset_id, safe='')}/items?"
        + urlencode({"f": "json", "limit": min(max(dataset.item_count, 1), MAX_DOWNLOAD)}),
        "districts": districts,
        "last_run": last_harvest(settings, dataset.provenance.source_name),
        "item_title": item_title,
        "item_page_url": lambda number: (
            f"/datasets/{quote(dataset_id)}?"
            + urlencode({k: v for k, v in {"q": text, "page": number}.items() if v})
        ),
    }


def item_page(index: Index, dataset_id: str, item_id: str) -> Page:
    dataset = index.get_dataset(dataset_id)
    item = index.get_item(dataset_id, item_id) if dataset else None
    if dataset is None or item is None:
        raise NotFoundError(f"no item {item_id!r} in dataset {dataset_id!r}")
    streams = [
        {**s, "chart": sparkline(s.get("hourly") or [])}
        for s in item.properties.get("datastreams") or []
        if isinstance(s, dict)
    ]
    shown = {
        k: v
        for k, v in item.properties.items()
        if k not in ("datastreams", "hourly", "daily") and not isinstance(v, dict | list)
    }
    return "item.html", {
        "dataset": dataset,
        "item": item,
        "title": item_title(item),
        "streams": streams,
        "properties": shown,
        "map_data": maps.item_features([item], item_title),
    }


def harvest_status(settings: Settings, detailed: bool) -> Page:
    """The last runs per source; reasons, problems and warnings only for the data team (the
    admin token), everybody else sees counts, as at ``/harvest/runs``."""
    runs = recent_reports(settings.reports_dir(), 20)
    if not detailed:
        runs = [summary(run) for run in runs]
    latest: dict[str, dict[str, Any]] = {}
    history: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for source in run.get("sources", []):
            name = str(source.get("name"))
            latest.setdefault(name, source)
            history.setdefault(name, []).append({**source, "run_id": run.get("run_id")})
    return "harvest.html", {
        "latest": sorted(latest.values(), key=lambda s: str(s.get("name"))),
        "history": history,
        "configured": [s.name for s in settings.sources],
        "detailed": detailed,
    }
