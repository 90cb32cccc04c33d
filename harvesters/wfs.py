"""WFS 2.0 and 1.1 services: GetCapabilities (read with OWSLib) gives one dataset per feature
type; GetFeature pages through the features as GeoJSON where the service offers it, GML
otherwise, and any CRS is transformed to WGS 84."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import httpx
import orjson
from owslib.wfs import WebFeatureService
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.harvest.contract import SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.model import Dataset, Distribution, Item, Notice, Problem
from harvesters import gml
from harvesters.items import ItemOptions, item_times, transform_geometry, transformer
from harvesters.safexml import parse_xml, refuse_unsafe_xml

JSON_FORMATS = ("application/json", "application/geo+json", "json", "geojson")


class WFSOptions(ItemOptions):
    version: Literal["2.0.0", "1.1.0"] = "2.0.0"
    typenames: tuple[str, ...] = ()
    """Only these feature types (default: all the capabilities list)."""
    count: int = Field(1000, ge=1, le=100_000)
    """Features per GetFeature page."""
    output_format: str | None = None
    """Force an output format; by default GeoJSON where offered, else GML."""


class WFSHarvester(SourceHarvester):
    """One dataset per feature type; every feature an item."""

    Options: ClassVar[type[WFSOptions]] = WFSOptions
    options: WFSOptions

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]:
        caps_params = {
            "service": "WFS",
            "request": "GetCapabilities",
            "version": self.options.version,
        }
        data = self._get(self.endpoint, caps_params).content
        refuse_unsafe_xml(data, self.endpoint)
        try:
            service = WebFeatureService(self.endpoint, version=self.options.version, xml=data)
        except Exception as exc:  # OWSLib raises what its XML handling meets
            raise HarvestError(f"{self.endpoint}: not a WFS capabilities document: {exc}") from None
        output_format = self.options.output_format or _choose_format(service)
        wanted = set(self.options.typenames)
        for missing in sorted(wanted - set(service.contents)):
            yield Notice(f"feature type {missing!r} is not offered by the service")
        for name, feature_type in service.contents.items():
            if wanted and name not in wanted:
                continue
            dataset = self._dataset(name, feature_type)
            yield dataset
            yield from self._features(name, dataset.id, output_format)

    def _dataset(self, name: str, feature_type: Any) -> Dataset:
        box = feature_type.boundingBoxWGS84
        caps = f"{self.endpoint}?service=WFS&request=GetCapabilities&version={self.options.version}"
        return configured_dataset(
            self.source,
            identifier=name,
            title=feature_type.title or name,
            description=feature_type.abstract or self.source.description,
            keywords=tuple(k for k in feature_type.keywords or () if k)
            or tuple(self.source.keywords),
            spatial=tuple(box) if box and len(box) == 4 else None,
            distributions=(
                Distribution(
                    url=caps,
                    title=f"{feature_type.title or name} (WFS)",
                    media_type="application/xml",
                    format="WFS",
                ),
            ),
        )

    def _features(
        self, name: str, dataset_id: str, output_format: str
    ) -> Iterator[Item | Problem | Notice]:
        v2 = self.options.version.startswith("2")
        start = 0
        promised: int | None = None
        previous_first: str | None = None
        to_wgs84 = transformer(self.options.crs)
        while True:
            params = {
                "service": "WFS",
                "version": self.options.version,
                "request": "GetFeature",
                "typeNames" if v2 else "typeName": name,
                "count" if v2 else "maxFeatures": self.options.count,
                "startIndex": start,
                "outputFormat": output_format,
            }
            response = self._get(self.endpoint, params)
            # by what came, not by what was asked: a service asked for GeoJSON may still
            # answer with an XML exception report
            if response.content.lstrip()[:1] == b"<":
                page, matched = self._gml_page(response.content)
            else:
                page, matched = self._json_page(response.content, to_wgs84)
            promised = promised if promised is not None else matched
            if not page:
                break
            first = page[0][0]
            if first is not None and first == previous_first:
                yield Notice(
                    f"feature type {name}: the service ignores startIndex; paging stopped",
                    incomplete=True,
                )
                break
            previous_first = first
            for offset, (fid, geometry, properties) in enumerate(page, start=start + 1):
                yield self._item(dataset_id, offset, fid, geometry, properties)
            start += len(page)
            if len(page) < self.options.count:
                break
        if promised is not None and start < promised:
            yield Notice(
                f"feature type {name}: the service promised {promised} features "
                f"and delivered {start}",
                incomplete=True,
            )

    def _item(
        self,
        dataset_id: str,
        position: int,
        fid: str | None,
        geometry: Any,
        properties: dict[str, Any],
    ) -> Item | Problem:
        id_field = self.options.id_field
        item_id = (
            str(properties[id_field])
            if id_field and properties.get(id_field) not in (None, "")
            else fid or str(position)
        )
        where = f"feature {position} (id {item_id})"
        if isinstance(geometry, Exception):
            return Problem(where, str(geometry))
        try:
            if geometry is not None:
                geometry_bounds(geometry)
            start, end = item_times(properties, self.options)
        except (GeometryError, ValueError, TypeError) as exc:
            return Problem(where, str(exc))
        return Item(item_id, dataset_id, geometry, properties, start, end)

    def _json_page(
        self, data: bytes, to_wgs84: Any
    ) -> tuple[list[tuple[Any, Any, Any]], int | None]:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HarvestError(
                f"{self.endpoint}: invalid JSON in the GetFeature answer: {exc}"
            ) from None
        crs_name = ((body.get("crs") or {}).get("properties") or {}).get("name")
        tr = to_wgs84 or (gml.to_wgs84("EPSG:" + crs_name.rsplit(":", 1)[-1]) if crs_name else None)
        page: list[tuple[Any, Any, Any]] = []
        for feature in body.get("features") or ():
            geometry = feature.get("geometry")
            if geometry is not None and tr is not None:
                geometry = transform_geometry(geometry, tr)
            page.append(
                (
                    None if feature.get("id") is None else str(feature["id"]),
                    geometry,
                    feature.get("properties") or {},
                )
            )
        matched = body.get("numberMatched", body.get("totalFeatures"))
        return page, matched if isinstance(matched, int) else None

    def _gml_page(self, data: bytes) -> tuple[list[tuple[Any, Any, Any]], int | None]:
        root = parse_xml(data, self.endpoint)
        if gml.local(root.tag) == "ExceptionReport":
            text = " ".join(t.strip() for t in root.itertext() if t.strip())
            raise HarvestError(f"{self.endpoint}: the service reports: {text[:300]}")
        srs = None
        for element in root.iter():
            if gml.local(element.tag) == "Envelope" and element.get("srsName"):
                srs = element.get("srsName")
                break
        members = []
        for element in root:
            name = gml.local(element.tag)
            if name in ("member", "featureMember"):
                members.extend(list(element))
            elif name == "featureMembers":
                members.extend(list(element))
        page: list[tuple[Any, Any, Any]] = []
        for member in members:
            try:
                page.append(gml.feature(member, srs))
            except (ValueError, IndexError) as exc:
                page.append((member.get("{http://www.opengis.net/gml/3.2}id"), exc, {}))
        matched_text = root.get("numberMatched") or root.get("numberOfFeatures")
        matched = int(matched_text) if matched_text and matched_text.isdigit() else None
        return page, matched

    def _get(self, url: str, params: dict[str, Any]) -> httpx.Response:
        response = self.client.get(url, params=params)
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        return response


def _choose_format(service: Any) -> str:
    try:
        offered = (
            service.getOperationByName("GetFeature")
            .parameters.get("outputFormat", {})
            .get("values", [])
        )
    except (KeyError, AttributeError):
        offered = []
    for value in offered:
        if value.lower() in JSON_FORMATS:
            return str(value)
    gml32 = [v for v in offered if "3.2" in v and "zip" not in v.lower()]
    return str(gml32[0]) if gml32 else "application/gml+xml; version=3.2"
