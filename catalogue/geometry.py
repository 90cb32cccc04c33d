"""GeoJSON geometry checks and bounds, fast enough to run on every harvested feature."""

from __future__ import annotations

import math
from typing import Any

from catalogue.model import BBox

_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


class GeometryError(ValueError):
    """A geometry that is not valid GeoJSON in EPSG:4326."""


def geometry_bounds(geometry: dict[str, Any]) -> BBox:
    """Check a GeoJSON geometry's structure and coordinates; return its bounds.

    Raises :class:`GeometryError` naming what is wrong (unknown type, non-numeric or
    out-of-range coordinates, too few positions, an unclosed ring).
    """
    if not isinstance(geometry, dict):
        raise GeometryError("geometry is not an object")
    kind = geometry.get("type")
    if kind == "Point":
        coords = geometry.get("coordinates")
        if (
            type(coords) is list
            and len(coords) in (2, 3)
            and type(coords[0]) is float
            and type(coords[1]) is float
            and -180.0 <= coords[0] <= 180.0
            and -90.0 <= coords[1] <= 90.0
        ):
            return (coords[0], coords[1], coords[0], coords[1])
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise GeometryError("GeometryCollection without geometries")
        boxes = [geometry_bounds(part) for part in parts]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    if kind not in _DEPTH:
        raise GeometryError(f"unknown geometry type {kind!r}")
    coords = geometry.get("coordinates")
    if kind == "Point":
        x, y = _position(coords)
        return (x, y, x, y)
    box = [math.inf, math.inf, -math.inf, -math.inf]
    _walk(coords, _DEPTH[kind], kind, box)
    return (box[0], box[1], box[2], box[3])


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise GeometryError("a position needs at least two numbers")
    x, y = value[0], value[1]
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or isinstance(x, bool):
        raise GeometryError(f"coordinates must be numbers, got {value[:2]!r}")
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        raise GeometryError(f"coordinates {x}, {y} are outside longitude/latitude range")
    return float(x), float(y)


def _walk(value: Any, depth: int, kind: str, box: list[float]) -> None:
    if not isinstance(value, (list, tuple)) or not value:
        raise GeometryError(f"{kind} has empty or malformed coordinates")
    if depth == 1:
        positions = [_position(p) for p in value]
        if kind in ("LineString", "MultiLineString") and len(positions) < 2:
            raise GeometryError(f"{kind}: a line needs at least two positions")
        if kind in ("Polygon", "MultiPolygon"):
            if len(positions) < 4:
                raise GeometryError(f"{kind}: a ring needs at least four positions")
            if positions[0] != positions[-1]:
                raise GeometryError(f"{kind}: a ring is not closed")
        for x, y in positions:
            if x < box[0]:
                box[0] = x
            if y < box[1]:
                box[1] = y
            if x > box[2]:
                box[2] = x
            if y > box[3]:
                box[3] = y
        return
    for part in value:
        _walk(part, depth - 1, kind, box)
