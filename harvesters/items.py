"""What the item-bearing source types share: item options, features to items, time values,
typed text values and coordinate transformation."""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator
from pyproj import CRS, Transformer

from catalogue.errors import QueryError
from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.harvest.contract import HarvesterOptions
from catalogue.model import Item, Problem
from catalogue.query import parse_datetime


class ItemOptions(HarvesterOptions):
    id_field: str | None = None
    """Property whose value is the item id (default: the feature id, else the position)."""
    datetime_field: str | None = None
    """Property holding the item's instant."""
    start_field: str | None = None
    end_field: str | None = None
    """Properties holding the start and end of the item's interval."""
    crs: str | None = None
    """The CRS coordinates are given in (e.g. ``EPSG:25832``); transformed to EPSG:4326."""

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CRS.from_user_input(value)
            except Exception:
                raise ValueError(f"unknown CRS {value!r}") from None
        return value


def feature_item(
    dataset_id: str,
    position: int,
    feature: Any,
    options: ItemOptions,
    to_wgs84: Transformer | None,
    *,
    label: str = "feature",
    id_prefix: str = "",
) -> Item | Problem:
    """A GeoJSON feature as an item of ``dataset_id``, or the reason it cannot be one."""
    # where a problem is, is only spelled out for a problem (this runs for every feature)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return Problem(f"{label} {position}", "not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return Problem(f"{label} {position}", "properties is not an object")
    id_field = options.id_field
    if id_field and properties.get(id_field) not in (None, ""):
        local_id = str(properties[id_field])
    elif (feature_id := feature.get("id")) is not None and feature_id != "":
        local_id = str(feature_id)
    else:
        local_id = str(position)
    item_id = id_prefix + local_id
    geometry = feature.get("geometry")
    try:
        if geometry is not None:
            if to_wgs84 is not None:
                geometry = transform_geometry(geometry, to_wgs84)
            geometry_bounds(geometry)
        start: str | None
        end: str | None
        time_field = options.datetime_field
        if time_field and type(value := properties.get(time_field)) is str and _canonical(value):
            start, end = value, None  # item_times would give it as it is
        else:
            start, end = item_times(properties, options)
    except (GeometryError, ValueError, TypeError) as exc:
        return Problem(f"{label} {position} (id {item_id})", str(exc))
    return Item(item_id, dataset_id, geometry, properties, start, end)


def item_times(properties: dict[str, Any], options: ItemOptions) -> tuple[str | None, str | None]:
    """The item's time from the configured properties, normalised to ISO 8601 UTC.

    An instant is ``(start, None)``; an interval whose end property is empty is open (``..``).
    Raises ``ValueError`` for a value that is not a date or date-time.
    """
    if options.datetime_field:
        return _iso(properties.get(options.datetime_field), options.datetime_field), None
    start = (
        _iso(properties.get(options.start_field), options.start_field)
        if options.start_field
        else None
    )
    if not options.end_field:
        return start, None
    end = _iso(properties.get(options.end_field), options.end_field, end=True)
    if start is None and end is None:
        return None, None
    return start or "..", end or ".."


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_canonical = _CANONICAL.fullmatch


def _iso(value: Any, name: str | None, *, end: bool = False) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is str and _canonical(value):
        return value  # already what this function makes
    try:
        moment = parse_datetime(str(value), end=end)
    except QueryError:
        raise ValueError(f"{name}: not a date or date-time: {value!r}") from None
    text = moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "milliseconds")
    return text.replace("+00:00", "Z")


def date_or_notice(value: Any, what: str, notices: list[str]) -> str | None:
    """A metadata date as ISO 8601 UTC; a value that is no date adds a notice and gives None
    (the record is kept without it)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if len(text) > 10 and "T" not in text and " " not in text:  # 2024-01-01+02:00 and the like
        text = text[:10]
    try:
        moment = parse_datetime(text)
    except QueryError:
        notices.append(f"{what} {value!r} is not a date; left out")
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def transformer(crs: str | None) -> Transformer | None:
    """A transformer to EPSG:4326 longitude/latitude, or None when the data is already there."""
    if crs is None:
        return None
    source = CRS.from_user_input(crs)
    if source == CRS.from_epsg(4326) or source == CRS.from_user_input("OGC:CRS84"):
        return None
    return Transformer.from_crs(source, "OGC:CRS84", always_xy=True)


def transform_geometry(geometry: dict[str, Any], tr: Transformer) -> dict[str, Any]:
    """Transform a GeoJSON geometry's coordinates with ``tr``."""

    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            x, y = tr.transform(coords[0], coords[1])
            return [round(x, 7), round(y, 7), *coords[2:]]
        return [walk(c) for c in coords]

    if geometry.get("type") == "GeometryCollection":
        return {
            **geometry,
            "geometries": [transform_geometry(g, tr) for g in geometry["geometries"]],
        }
    return {**geometry, "coordinates": walk(geometry.get("coordinates"))}


_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^-?(0|[1-9][0-9]*)?\.[0-9]+([eE][-+]?[0-9]+)?$|^-?[1-9][0-9]*[eE][-+]?[0-9]+$"
)


def typed_value(value: str) -> Any:
    """A text value as the number or boolean it spells (codes with leading zeros stay text)."""
    text = value.strip()
    if text == "":
        return None
    if _INT.match(text):
        number = int(text)
        return number if abs(number) < 2**53 else text
    if _FLOAT.match(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value
