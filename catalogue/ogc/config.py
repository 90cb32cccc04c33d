"""pygeoapi's configuration, generated from the settings and what the index holds.

Nobody edits a pygeoapi YAML: each dataset with items is a Features collection, and the
``catalogue`` collection holds every dataset as a record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalogue.index import CollectionInfo, Index
from catalogue.query import Field
from catalogue.settings import Settings

RECORDS_COLLECTION = "catalogue"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WORLD = [-180.0, -90.0, 180.0, 90.0]


def _fields(fields: tuple[Field, ...]) -> dict[str, dict[str, str]]:
    return {f.name: {"type": f.type} for f in fields}


def _temporal(interval: tuple[str | None, str | None] | None) -> dict[str, Any]:
    if not interval:
        return {}
    begin, end = (_moment(t) for t in interval)
    if begin is None and end is None:
        return {}
    return {"temporal": {"begin": begin, "end": end}}


def _moment(text: str | None) -> datetime | None:
    if not text or text == "..":
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _collection(info: CollectionInfo, data_key: str, base_url: str) -> dict[str, Any]:
    dataset = info.dataset
    keywords = list(dataset.keywords) or [dataset.kind]
    return {
        "type": "collection",
        "title": dataset.title,
        "description": dataset.description or dataset.title,
        "keywords": keywords,
        "links": [
            {
                "type": d.media_type or "application/octet-stream",
                "rel": "alternate",
                "title": d.title or d.url,
                "href": d.url,
            }
            for d in dataset.distributions
            if d.url.startswith(("http://", "https://"))
        ],
        "extents": {
            "spatial": {"bbox": list(dataset.spatial or WORLD), "crs": CRS84},
            **_temporal(dataset.temporal),
        },
        "providers": [
            {
                "type": "feature",
                "name": "catalogue.ogc.providers.ItemProvider",
                "data": data_key,
                "dataset": dataset.id,
                "id_field": "id",
                "base_url": base_url,
                "crs": [CRS84],
                "storage_crs": CRS84,
                "fields": _fields(info.fields),
                "facets": list(info.facets),
            }
        ],
    }


def pygeoapi_config(settings: Settings, index: Index, data_key: str) -> dict[str, Any]:
    """The whole pygeoapi configuration for the current content of ``index``."""
    server = settings.server
    meta = settings.catalogue
    base_url = f"{server.base_url()}/ogc"
    collections = index.collections()
    resources: dict[str, Any] = {
        RECORDS_COLLECTION: {
            "type": "collection",
            "title": meta.title,
            "description": f"Every dataset of the catalogue as an OGC API record. "
            f"{meta.description}",
            "keywords": list(meta.keywords) or ["catalogue"],
            "links": [],
            "extents": {
                "spatial": {"bbox": _union([c.dataset.spatial for c in collections]), "crs": CRS84}
            },
            "providers": [
                {
                    "type": "record",
                    "name": "catalogue.ogc.providers.RecordProvider",
                    "data": data_key,
                    "id_field": "id",
                    "title_field": "title",
                    "base_url": base_url,
                    "fields": _fields(index.dataset_fields()),
                }
            ],
        }
    }
    for info in collections:
        resources[info.dataset.id] = _collection(info, data_key, base_url)
    publisher = meta.publisher
    contact = meta.contact
    return {
        "server": {
            "bind": {"host": server.host, "port": server.port},
            "url": base_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": list(server.languages),
            "pretty_print": False,
            "limits": {
                "default_items": server.default_limit,
                "max_items": server.max_limit,
                "on_exceed": "throttle",
            },
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "&copy; OpenStreetMap contributors",
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": meta.title,
                "description": meta.description,
                "keywords": list(meta.keywords),
                "keywords_type": "theme",
                "terms_of_service": meta.licence or "",
                "url": meta.homepage or server.base_url(),
            },
            "license": {"name": meta.licence or "see each dataset", "url": meta.licence or ""},
            "provider": {
                "name": publisher.name if publisher else meta.title,
                "url": (publisher.url if publisher and publisher.url else server.base_url()),
            },
            "contact": {
                "name": (
                    contact.name
                    if contact and contact.name
                    else publisher.name
                    if publisher
                    else meta.title
                ),
                "email": contact.email if contact and contact.email else "",
                "url": contact.url if contact and contact.url else "",
                "role": "pointOfContact",
            },
        },
        "resources": resources,
    }


def _union(boxes: list[Any]) -> list[float]:
    boxes = [b for b in boxes if b]
    if not boxes:
        return WORLD
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]
