"""CKAN and DKAN portals through the CKAN Action API: every dataset via paged ``package_search``.

The Action API is plain JSON over HTTP, so this source type calls it with the harvest's shared
httpx client (with its timeouts and retries) rather than through ckanapi, which brings its own
``requests`` session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import ijson
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.harvest.contract import SourceHarvester
from catalogue.model import (
    Agent,
    Contact,
    Dataset,
    Distribution,
    Item,
    Notice,
    Problem,
    Provenance,
    stable_id,
)
from harvesters.csv import LAT_NAMES, LON_NAMES
from harvesters.files import open_source
from harvesters.items import (
    ItemOptions,
    date_or_notice,
    feature_item,
    transformer,
    typed_value,
)
from harvesters.jsonstream import TooDeep, members

EU_THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
# CKAN group names that are EU data-theme codes (as GovData and Open.NRW name their groups)
THEME_CODES = frozenset(
    "agri econ educ ener envi gove heal intr just regi soci tech tran op_datpro".split()
)


class CKANOptions(ItemOptions):
    fq: str | None = None
    """A Solr filter query, e.g. ``organization:stadt-duesseldorf`` or ``tags:Verkehr``."""
    organization: str | None = None
    """Only the datasets of this organization (its name)."""
    rows: int = Field(100, ge=1, le=1000)
    """Datasets per page."""
    api_path: str = "/api/3/action"
    resource_items: bool = False
    """Also index the items of each dataset's GeoJSON resources and of its datastore resources
    that have latitude/longitude columns (read with ``datastore_search``)."""


class CKANHarvester(SourceHarvester):
    """Every dataset of a CKAN portal (optionally filtered) as a dataset record."""

    Options: ClassVar[type[CKANOptions]] = CKANOptions
    options: CKANOptions

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]:
        promised: int | None = None
        received = 0
        seen_first: set[str] = set()
        start = 0
        while True:
            page = self._search(start)
            promised = page.get("count") if promised is None else promised
            results = page.get("results") or []
            if not results:
                break
            first = str(results[0].get("id"))
            if first in seen_first:
                yield Notice(
                    f"page at start={start} repeats an earlier page; paging stopped",
                    incomplete=True,
                )
                break
            seen_first.add(first)
            for position, package in enumerate(results, start=start + 1):
                received += 1
                yield from self._dataset(package, position)
            start += len(results)
            if promised is not None and start >= promised:
                break
        if promised is not None and received < promised:
            yield Notice(
                f"the portal promised {promised} datasets and delivered {received}", incomplete=True
            )

    def _search(self, start: int) -> dict[str, Any]:
        params: dict[str, Any] = {"rows": self.options.rows, "start": start, "sort": "id asc"}
        fq = [f for f in (self.options.fq, self._organization_fq()) if f]
        if fq:
            params["fq"] = " AND ".join(fq)
        url = f"{self.endpoint}{self.options.api_path}/package_search"
        response = self.client.get(url, params=params)
        if response.status_code >= 400 and response.status_code != 409:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        try:
            body = response.json()
        except ValueError as exc:
            raise HarvestError(f"{response.request.url}: invalid JSON: {exc}") from None
        if not isinstance(body, dict) or not body.get("success"):
            error = body.get("error") if isinstance(body, dict) else None
            raise HarvestError(f"{url}: CKAN reports an error: {error}")
        result = body.get("result")
        if not isinstance(result, dict):
            raise HarvestError(f"{url}: no result in the answer")
        return result

    def _organization_fq(self) -> str | None:
        return f'organization:"{self.options.organization}"' if self.options.organization else None

    def _dataset(self, package: Any, position: int) -> Iterator[Dataset | Item | Problem | Notice]:
        if not isinstance(package, dict) or not package.get("id"):
            yield Problem(f"dataset {position}", "not a CKAN package (no id)")
            return
        ident = str(package["id"])
        name = package.get("name") or ident
        extras = _extras(package)
        notices: list[str] = []

        def when(value: Any, field: str) -> str | None:
            return date_or_notice(value, f"dataset {name}: {field}", notices)

        spatial = None
        if extras.get("spatial"):
            try:
                spatial = geometry_bounds(json.loads(extras["spatial"]))
            except (ValueError, GeometryError) as exc:
                notices.append(f"dataset {name}: spatial extent left out: {exc}")
        landing = f"{self.endpoint}/dataset/{name}"
        organization = package.get("organization") or {}
        publisher_name = (
            extras.get("publisher_name") or organization.get("title") or organization.get("name")
        )
        record = Dataset(
            id=stable_id(self.source.name, ident),
            title=package.get("title") or name,
            description=package.get("notes") or None,
            keywords=tuple(
                t.get("display_name") or t.get("name") for t in package.get("tags") or ()
            ),
            themes=_themes(package, extras),
            kind=self.source.kind,  # type: ignore[arg-type]
            publisher=Agent(publisher_name, url=extras.get("publisher_uri"))
            if publisher_name
            else None,
            contact_point=_contact(package, extras),
            licence=package.get("license_url") or package.get("license_id") or self.source.licence,
            access_rights=extras.get("access_rights") or self.source.access_rights,
            spatial=spatial,
            issued=when(extras.get("issued") or package.get("metadata_created"), "issued"),
            modified=when(extras.get("modified") or package.get("metadata_modified"), "modified"),
            language=tuple(self.source.language),
            landing_page=package.get("url") or landing,
            distributions=tuple(
                _distribution(r) for r in package.get("resources") or () if r.get("url")
            ),
            extras={
                **extras,
                "ckan_id": ident,
                "ckan_name": name,
                "ckan_url": landing,
                "license_id": package.get("license_id"),
                "license_title": package.get("license_title"),
                "organization": organization.get("name"),
                "organization_title": organization.get("title"),
                "groups": [g.get("name") for g in package.get("groups") or ()],
            },
            provenance=Provenance(
                source_name=self.source.name,
                source_type=self.source.type,
                source_url=landing,
                source_identifier=ident,
            ),
        ).with_hash()
        for message in notices:
            yield Notice(message)
        yield record
        if self.options.resource_items:
            for resource in package.get("resources") or ():
                yield from self._resource_items(record.id, resource)

    def _resource_items(
        self, dataset_id: str, resource: dict[str, Any]
    ) -> Iterator[Item | Problem | Notice]:
        prefix = f"{str(resource.get('id') or '')[:8]}-"
        fmt = str(resource.get("format") or "").lower()
        url = str(resource.get("url") or "")
        if resource.get("datastore_active") and resource.get("id"):
            yield from self._datastore_items(dataset_id, str(resource["id"]), prefix)
        elif url and (fmt == "geojson" or url.lower().endswith(".geojson")):
            to_wgs84 = transformer(self.options.crs)
            try:
                with open_source(url, self.client) as stream:
                    features = members(stream, "features.item")
                    for position, feature in enumerate(features, start=1):
                        if isinstance(feature, TooDeep):
                            yield Problem(f"{url} feature {position}", feature.reason)
                            continue
                        yield feature_item(
                            dataset_id, position, feature, self.options, to_wgs84, id_prefix=prefix
                        )
            except (HarvestError, ijson.JSONError, httpx.HTTPError) as exc:
                yield Notice(f"resource {url}: items not read: {exc}", incomplete=True)

    def _datastore_items(
        self, dataset_id: str, resource_id: str, prefix: str
    ) -> Iterator[Item | Problem | Notice]:
        url = f"{self.endpoint}{self.options.api_path}/datastore_search"
        offset, total, lat, lon = 0, None, None, None
        while True:
            response = self.client.get(
                url, params={"resource_id": resource_id, "limit": 1000, "offset": offset}
            )
            problem = f"HTTP {response.status_code}"
            try:
                body = response.json() if response.status_code < 400 else {}
            except ValueError as exc:
                body, problem = {}, f"invalid JSON: {exc}"
            result = body.get("result") if isinstance(body, dict) and body.get("success") else None
            if not isinstance(result, dict):
                yield Notice(f"datastore {resource_id}: not readable ({problem})", incomplete=True)
                return
            if total is None:
                total = result.get("total")
                names = {
                    str(f.get("id")).lower(): str(f.get("id")) for f in result.get("fields") or ()
                }
                lat = next((names[n] for n in LAT_NAMES if n in names), None)
                lon = next((names[n] for n in LON_NAMES if n in names), None)
                if not lat or not lon:
                    yield Notice(
                        f"datastore {resource_id}: no latitude/longitude columns; not indexed"
                    )
                    return
            records = result.get("records") or []
            for position, row in enumerate(records, start=offset + 1):
                properties = {
                    k: typed_value(v) if isinstance(v, str) else v
                    for k, v in row.items()
                    if k not in (lat, lon)
                }
                try:
                    point = {"type": "Point", "coordinates": [float(row[lon]), float(row[lat])]}
                except (KeyError, TypeError, ValueError):
                    yield Problem(
                        f"row {position} of datastore {resource_id}", "no usable coordinates"
                    )
                    continue
                local = row.get("_id") or row.get("entry_id") or position
                feature = {
                    "type": "Feature",
                    "id": str(local),
                    "geometry": point,
                    "properties": properties,
                }
                yield feature_item(
                    dataset_id, position, feature, self.options, None, label="row", id_prefix=prefix
                )
            offset += len(records)
            if not records or (isinstance(total, int) and offset >= total):
                break
        if isinstance(total, int) and offset < total:
            yield Notice(
                f"datastore {resource_id}: promised {total} rows and delivered {offset}",
                incomplete=True,
            )


def _extras(package: dict[str, Any]) -> dict[str, str]:
    out = {}
    for extra in package.get("extras") or ():
        if isinstance(extra, dict) and extra.get("key"):
            out[str(extra["key"])] = str(extra.get("value") or "")
    return out


def _themes(package: dict[str, Any], extras: dict[str, str]) -> tuple[str, ...]:
    themes: list[str] = []
    raw = extras.get("theme")
    if raw:
        try:
            listed = json.loads(raw)
        except ValueError:
            listed = [raw]
        themes.extend(str(t) for t in (listed if isinstance(listed, list) else [listed]))
    for group in package.get("groups") or ():
        code = str(group.get("name") or "").lower()
        if code in THEME_CODES:
            themes.append(EU_THEMES + code.upper())
    return tuple(dict.fromkeys(themes))


def _contact(package: dict[str, Any], extras: dict[str, str]) -> Contact | None:
    name = extras.get("contact_name") or package.get("maintainer") or package.get("author")
    email = (
        extras.get("contact_email")
        or package.get("maintainer_email")
        or package.get("author_email")
    )
    return Contact(name=name or None, email=email or None) if name or email else None


def _distribution(resource: dict[str, Any]) -> Distribution:
    fmt = str(resource.get("format") or "").strip() or None
    return Distribution(
        url=str(resource["url"]),
        title=resource.get("name") or None,
        description=resource.get("description") or None,
        media_type=resource.get("mimetype") or None,
        format=fmt.upper() if fmt else None,
        download_url=str(resource["url"]) if resource.get("url_type") == "upload" else None,
    )
