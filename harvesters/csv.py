"""CSV files with coordinates in latitude/longitude columns or a WKT column (streamed).
Each file is one dataset; every row an item."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, ClassVar

from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import mapping

from catalogue.errors import HarvestError
from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.model import Dataset, Item, Problem
from harvesters.files import open_source
from harvesters.filesource import FileHarvester
from harvesters.items import (
    ItemOptions,
    item_times,
    transform_geometry,
    transformer,
    typed_value,
)

LAT_NAMES = ("lat", "latitude", "breite", "breitengrad", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "laenge", "länge", "laengengrad", "x")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "geometrie")


class CSVOptions(ItemOptions):
    delimiter: str | None = None
    """One character; sniffed from the header line when not given (``,`` ``;`` tab ``|``)."""
    encoding: str = "utf-8-sig"
    lat_field: str | None = None
    lon_field: str | None = None
    wkt_field: str | None = None
    """Column names; found from common names (lat/lon, latitude/longitude, wkt …) when not given."""
    typed_values: bool = True
    """Turn values that look like numbers into numbers (codes with leading zeros stay text)."""


class CSVHarvester(FileHarvester):
    """One dataset per file; every row an item."""

    Options: ClassVar[type[CSVOptions]] = CSVOptions
    options: CSVOptions
    media_type = "text/csv"
    format = "CSV"

    def records(self) -> Iterator[Dataset | Item | Problem]:
        dataset = self.dataset()
        yield dataset
        to_wgs84 = transformer(self.options.crs)
        with open_source(self.source.url, self.client) as stream:
            text = io.TextIOWrapper(stream, encoding=self.options.encoding, newline="")
            header_line = text.readline()
            delimiter = self.options.delimiter or _sniff(header_line)
            header = next(csv.reader([header_line], delimiter=delimiter), [])
            header = [h.strip() for h in header]
            if not header or not any(header):
                raise HarvestError(f"{self.source.url}: the CSV file has no header row")
            locate = self._locator(header)
            reader = csv.reader(text, delimiter=delimiter)
            for line_no, row in enumerate(reader, start=2):
                if not row or not any(cell.strip() for cell in row):
                    continue
                yield self._item(dataset.id, line_no, header, row, locate, to_wgs84)

    def _locator(self, header: list[str]) -> tuple[str, ...]:
        lowered = {h.lower(): h for h in header}
        o = self.options
        if o.wkt_field:
            return ("wkt", self._need(o.wkt_field, header))
        if o.lat_field or o.lon_field:
            return (
                "latlon",
                self._need(o.lat_field or "", header),
                self._need(o.lon_field or "", header),
            )
        lat = next((lowered[n] for n in LAT_NAMES if n in lowered), None)
        lon = next((lowered[n] for n in LON_NAMES if n in lowered), None)
        if lat and lon:
            return ("latlon", lat, lon)
        found = next((lowered[n] for n in WKT_NAMES if n in lowered), None)
        found = found or next((h for h in header if "wkt" in h.lower()), None)
        if found:
            return ("wkt", found)
        raise HarvestError(
            f"{self.source.url}: no coordinate columns found (header: {', '.join(header)}); "
            "set lat_field and lon_field, or wkt_field"
        )

    def _need(self, name: str, header: list[str]) -> str:
        if name not in header:
            raise HarvestError(f"{self.source.url}: column {name!r} is not in the header")
        return name

    def _item(
        self,
        dataset_id: str,
        line_no: int,
        header: list[str],
        row: list[str],
        locate: tuple[str, ...],
        to_wgs84: Any,
    ) -> Item | Problem:
        where = f"line {line_no}"
        if len(row) != len(header):
            return Problem(where, f"{len(row)} values for {len(header)} columns")
        raw = dict(zip(header, row, strict=True))
        geometry_columns = set(locate[1:])
        properties = {
            k: (typed_value(v) if self.options.typed_values else v)
            for k, v in raw.items()
            if k not in geometry_columns
        }
        item_id = str(raw.get(self.options.id_field, "") or "") if self.options.id_field else ""
        item_id = item_id or str(line_no - 1)
        where = f"line {line_no} (id {item_id})"
        try:
            geometry = _geometry(raw, locate)
            if geometry is not None:
                if to_wgs84 is not None:
                    geometry = transform_geometry(geometry, to_wgs84)
                geometry_bounds(geometry)
            start, end = item_times(properties, self.options)
        except (GeometryError, ValueError, ShapelyError) as exc:
            return Problem(where, str(exc))
        return Item(item_id, dataset_id, geometry, properties, start, end)


def _geometry(raw: dict[str, str], locate: tuple[str, ...]) -> dict[str, Any] | None:
    if locate[0] == "wkt":
        text = raw[locate[1]].strip()
        if not text:
            return None
        return dict(mapping(wkt.loads(text)))
    lat_text, lon_text = raw[locate[1]].strip(), raw[locate[2]].strip()
    if not lat_text and not lon_text:
        return None
    try:
        lat, lon = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
    except ValueError:
        raise ValueError(f"coordinates are not numbers: {lat_text!r}, {lon_text!r}") from None
    return {"type": "Point", "coordinates": [lon, lat]}


def _sniff(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
