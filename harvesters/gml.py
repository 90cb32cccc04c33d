"""GML 2/3 geometries and features to GeoJSON in WGS 84 (lon, lat).

Axis order follows the CRS as named: URN and URL forms (``urn:ogc:def:crs:EPSG::4326``) in the
authority's order (latitude first for EPSG:4326), the short form ``EPSG:4326`` as x/y, which is
how servers such as GeoServer write it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pyproj import CRS, Transformer

from harvesters.items import typed_value

GML_NAMESPACES = ("http://www.opengis.net/gml/3.2", "http://www.opengis.net/gml")
GEOMETRY_TAGS = {
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiCurve",
    "MultiPolygon",
    "MultiSurface",
    "Curve",
    "Surface",
    "LinearRing",
}


def local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def is_gml(element: Any) -> bool:
    return str(element.tag).startswith("{") and str(element.tag)[1:].split("}")[0] in GML_NAMESPACES


@lru_cache(maxsize=32)
def to_wgs84(srs: str | None) -> Transformer | None:
    """A transformer from ``srs`` to lon/lat, or None when coordinates are lon/lat already."""
    if not srs:
        return None
    crs = CRS.from_user_input(_normalise(srs))
    short_form = srs.upper().startswith("EPSG:")
    if crs == CRS.from_epsg(4326) and short_form:
        return None
    return Transformer.from_crs(crs, "OGC:CRS84", always_xy=short_form)


def _normalise(srs: str) -> str:
    if srs.startswith("http://www.opengis.net/def/crs/") or srs.startswith("urn:"):
        return srs
    if srs.startswith("http://www.opengis.net/gml/srs/epsg.xml#"):
        return "EPSG:" + srs.rsplit("#", 1)[-1]
    return srs


def geometry(element: Any, srs: str | None = None) -> dict[str, Any]:
    """A GML geometry element as a GeoJSON geometry in WGS 84."""
    srs = element.get("srsName") or srs
    transformer = to_wgs84(srs)
    dim = int(element.get("srsDimension") or 2)
    kind = local(element.tag)

    def positions(node: Any) -> list[list[float]]:
        for child in node.iter():
            name = local(child.tag)
            if name == "posList":
                d = int(child.get("srsDimension") or dim)
                values = [float(v) for v in (child.text or "").split()]
                return _project([values[i : i + d] for i in range(0, len(values), d)], transformer)
            if name == "coordinates":
                tuples = [t.split(",") for t in (child.text or "").split()]
                return _project([[float(v) for v in t] for t in tuples], transformer)
        found = [
            [float(v) for v in (p.text or "").split()] for p in node.iter() if local(p.tag) == "pos"
        ]
        return _project(found, transformer)

    def rings(polygon: Any) -> list[list[list[float]]]:
        return [positions(r) for r in polygon.iter() if local(r.tag) == "LinearRing"]

    if kind == "Point":
        return {"type": "Point", "coordinates": positions(element)[0]}
    if kind in ("LineString", "Curve"):
        return {"type": "LineString", "coordinates": positions(element)}
    if kind in ("Polygon", "Surface"):
        return {"type": "Polygon", "coordinates": rings(element)}
    if kind == "MultiPoint":
        points = [e for e in element.iter() if local(e.tag) == "Point"]
        return {"type": "MultiPoint", "coordinates": [positions(p)[0] for p in points]}
    if kind in ("MultiLineString", "MultiCurve"):
        lines = [e for e in element.iter() if local(e.tag) in ("LineString", "Curve")]
        return {"type": "MultiLineString", "coordinates": [positions(line) for line in lines]}
    if kind in ("MultiPolygon", "MultiSurface"):
        polygons = [e for e in element.iter() if local(e.tag) in ("Polygon", "Surface")]
        return {"type": "MultiPolygon", "coordinates": [rings(p) for p in polygons]}
    raise ValueError(f"unsupported GML geometry {kind}")


def _project(points: list[list[float]], transformer: Transformer | None) -> list[list[float]]:
    if transformer is None:
        return [[p[0], p[1]] for p in points]
    out = []
    for p in points:
        x, y = transformer.transform(p[0], p[1])
        out.append([round(x, 7), round(y, 7)])
    return out


def feature(
    element: Any, srs: str | None
) -> tuple[str | None, dict[str, Any] | None, dict[str, Any]]:
    """A GML feature: its gml:id, its first geometry (GeoJSON, WGS 84) and simple properties."""
    fid = None
    for name, value in element.attrib.items():
        if local(name) in ("id", "fid"):
            fid = value
    geom = None
    properties: dict[str, Any] = {}
    for child in element:
        name = local(child.tag)
        if is_gml(child) and name in ("boundedBy", "name", "description"):
            continue
        geometry_child = next(
            (g for g in child.iter() if is_gml(g) and local(g.tag) in GEOMETRY_TAGS), None
        )
        if geometry_child is not None:
            if geom is None:
                geom = geometry(geometry_child, srs)
            continue
        text = (child.text or "").strip()
        properties[name] = typed_value(text) if text else None
    return fid, geom, properties
