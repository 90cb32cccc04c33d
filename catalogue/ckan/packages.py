"""Datasets as CKAN packages: names, organizations, groups (EU data themes), licences, resources."""

from __future__ import annotations

from typing import Any

import orjson

from catalogue.dcat.quality import quality
from catalogue.model import Dataset
from catalogue.ogc.records import bbox_polygon

EU_THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
# the EU data-theme vocabulary (codes and English labels, as the Publications Office publishes them)
THEME_TITLES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"
# extras set by this catalogue's CKAN harvester that become package fields again, not extras
CKAN_FIELDS = {
    "ckan_id",
    "ckan_name",
    "ckan_url",
    "license_id",
    "license_title",
    "organization",
    "organization_title",
    "groups",
}


def package_name(dataset_id: str) -> str:
    """A CKAN name (lower-case letters, digits, ``-`` and ``_``) for a dataset id."""
    return dataset_id.replace(".", "--")


def dataset_ids_for_name(name: str) -> list[str]:
    """The dataset ids a package name or id may stand for, most likely first."""
    return list(dict.fromkeys([name.replace("--", "."), name]))


def organization(dataset: Dataset) -> dict[str, Any] | None:
    held = dataset.organization()
    if held is None:
        return None
    return organization_dict(*held)


def organization_dict(name: str, title: str) -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "title": title,
        "display_name": title,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "description": "",
        "image_url": "",
        "approval_status": "approved",
    }


def theme_code(uri: str) -> str | None:
    if uri.startswith(EU_THEMES):
        return uri[len(EU_THEMES) :].lower()
    return None


def group(code: str) -> dict[str, Any]:
    title = THEME_TITLES.get(code.upper(), code)
    return {
        "id": code,
        "name": code,
        "title": title,
        "display_name": title,
        "description": "",
        "image_display_url": "",
        "type": "group",
    }


def licence_fields(dataset: Dataset) -> dict[str, Any]:
    uri = dataset.licence
    # a package harvested from CKAN keeps its licence id as it was, even an empty one
    licence_id = dataset.extras.get("license_id")
    if licence_id is None:
        if uri and uri.startswith(DCATDE_LICENCES):
            licence_id = uri[len(DCATDE_LICENCES) :]
        else:
            licence_id = uri or "notspecified"
    title = dataset.extras.get("license_title") or licence_id or "License not specified"
    return {
        "license_id": licence_id,
        "license_title": title,
        "license_url": uri if uri and uri.startswith("http") else None,
    }


def resources(dataset: Dataset, base_url: str) -> list[dict[str, Any]]:
    name = package_name(dataset.id)
    out = []
    for position, dist in enumerate(dataset.distributions):
        out.append(
            {
                "id": f"{name}:{position}",
                "package_id": name,
                "position": position,
                "url": dist.download_url or dist.url,
                "name": dist.title or dist.url,
                "description": dist.description or "",
                "format": dist.format or "",
                "mimetype": dist.media_type,
                "state": "active",
                "url_type": None,
            }
        )
    if dataset.item_count:
        items = f"{base_url}/ogc/collections/{dataset.id}/items"
        for fmt, mimetype, query in (
            ("GeoJSON", "application/geo+json", "?f=json"),
            ("HTML", "text/html", "?f=html"),
        ):
            position = len(out)
            out.append(
                {
                    "id": f"{name}:{position}",
                    "package_id": name,
                    "position": position,
                    "url": items + query,
                    "name": f"OGC API Features ({fmt})",
                    "description": "The items of this dataset through this catalogue's OGC API",
                    "format": fmt,
                    "mimetype": mimetype,
                    "state": "active",
                    "url_type": None,
                }
            )
    return out


def package(dataset: Dataset, base_url: str) -> dict[str, Any]:
    """A dataset as a CKAN package dict."""
    name = package_name(dataset.id)
    extras = {k: v for k, v in dataset.extras.items() if k not in CKAN_FIELDS}
    if dataset.spatial and "spatial" not in extras:
        extras["spatial"] = orjson.dumps(bbox_polygon(dataset.spatial)).decode()
    themes = [c for c in (theme_code(t) for t in dataset.themes) if c]
    res = resources(dataset, base_url)
    org = organization(dataset)
    created = dataset.issued or dataset.provenance.harvested_at
    return {
        "id": name,
        "name": name,
        "title": dataset.title,
        "notes": dataset.description or "",
        "url": dataset.landing_page or "",
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": True,
        "author": None,
        "author_email": None,
        "maintainer": dataset.contact_point.name if dataset.contact_point else None,
        "maintainer_email": dataset.contact_point.email if dataset.contact_point else None,
        "metadata_created": _ckan_time(created),
        "metadata_modified": _ckan_time(dataset.modified or created),
        "tags": [{"name": k, "display_name": k, "state": "active"} for k in dataset.keywords],
        "num_tags": len(dataset.keywords),
        "groups": [group(c) for c in themes],
        "organization": org,
        "owner_org": org["id"] if org else None,
        "resources": res,
        "num_resources": len(res),
        "extras": [
            {"key": k, "value": v if isinstance(v, str) else orjson.dumps(v).decode()}
            for k, v in sorted(extras.items())
        ],
        **licence_fields(dataset),
        "quality_score": quality(dataset).score,
    }


def _ckan_time(value: str | None) -> str | None:
    """CKAN writes timestamps without a zone, in UTC."""
    if not value:
        return None
    return value.replace("Z", "").replace("+00:00", "")
