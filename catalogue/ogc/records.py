"""Dataset records and items as GeoJSON: OGC API Records record features and plain features."""

from __future__ import annotations

from typing import Any

from catalogue.dcat.quality import quality
from catalogue.model import Dataset, Item

RECORD_CORE = "http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"
THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"


def bbox_polygon(box: tuple[float, float, float, float] | list[float]) -> dict[str, Any]:
    minx, miny, maxx, maxy = box
    if minx == maxx and miny == maxy:
        return {"type": "Point", "coordinates": [minx, miny]}
    return {
        "type": "Polygon",
        "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]],
    }


def record_feature(dataset: Dataset, base_url: str) -> dict[str, Any]:
    """A dataset as an OGC API Records record (record-core)."""
    properties: dict[str, Any] = {
        "type": "dataset",
        "title": dataset.title,
        "description": dataset.description,
        "keywords": list(dataset.keywords),
        "kind": dataset.kind,
        "language": {"code": dataset.language[0]} if dataset.language else None,
        "created": dataset.issued,
        "updated": dataset.modified,
        "license": dataset.licence,
        "rights": dataset.access_rights,
        "publisher": dataset.publisher.name if dataset.publisher else None,
        "formats": sorted({d.format for d in dataset.distributions if d.format}),
        "itemCount": dataset.item_count,
        "source": dataset.provenance.source_name,
        "quality": quality(dataset).to_dict(),
    }
    if dataset.themes:
        properties["themes"] = [
            {
                "concepts": [{"id": t.rsplit("/", 1)[-1], "url": t} for t in dataset.themes],
                "scheme": THEME_SCHEME,
            }
        ]
    contacts = []
    if dataset.publisher:
        contacts.append(
            {
                "name": dataset.publisher.name,
                "roles": ["publisher"],
                **(
                    {"links": [{"href": dataset.publisher.url, "rel": "about"}]}
                    if dataset.publisher.url
                    else {}
                ),
            }
        )
    if dataset.contact_point and (dataset.contact_point.name or dataset.contact_point.email):
        contact: dict[str, Any] = {"name": dataset.contact_point.name, "roles": ["pointOfContact"]}
        if dataset.contact_point.email:
            contact["emails"] = [{"value": dataset.contact_point.email}]
        contacts.append(contact)
    if contacts:
        properties["contacts"] = contacts
    links: list[dict[str, Any]] = []
    if dataset.item_count:
        links.append(
            {
                "rel": "items",
                "type": "application/geo+json",
                "title": f"{dataset.title} (OGC API Features)",
                "href": f"{base_url}/collections/{dataset.id}/items",
            }
        )
    for dist in dataset.distributions:
        link = {
            "rel": "enclosure" if dist.download_url else "alternate",
            "href": dist.download_url or dist.url,
        }
        if dist.media_type:
            link["type"] = dist.media_type
        if dist.title:
            link["title"] = dist.title
        links.append(link)
    if dataset.landing_page:
        links.append({"rel": "describedby", "type": "text/html", "href": dataset.landing_page})
    feature: dict[str, Any] = {
        "id": dataset.id,
        "type": "Feature",
        "conformsTo": [RECORD_CORE],
        "geometry": bbox_polygon(dataset.spatial) if dataset.spatial else None,
        "properties": {k: v for k, v in properties.items() if v not in (None, [], "")},
        "links": links,
    }
    if dataset.temporal and any(dataset.temporal):
        feature["time"] = {"interval": [t or ".." for t in dataset.temporal]}
    return feature


def item_feature(item: Item) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": item.id,
        "geometry": item.geometry,
        "properties": item.properties,
    }
