"""Small, typed RDF terms for the DCAT output: safe IRIs, dates with their XSD type, WKT."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import quote

from catalogue.dcat.iris import GSP, XSD
from catalogue.dcat.triples import Lit

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_YEAR = re.compile(r"^\d{4}$")
_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def iri(text: str | None) -> str | None:
    """``text`` as an IRI if it is an http(s), mailto or tel URL; characters an IRI cannot hold
    are percent-encoded, so a URL with a space still becomes a valid IRI."""
    if not text:
        return None
    value = text.strip()
    if not value.lower().startswith(("http://", "https://", "mailto:", "tel:")):
        return None
    return quote(value, safe=_IRI_SAFE)


def date_literal(value: str | None) -> Lit | None:
    """An ISO date or date-time as ``xsd:date`` / ``xsd:dateTime`` (a year as ``xsd:gYear``) in
    the XSD form (``2024-06-01T00:00:00+00:00``); anything else, a date that does not exist
    included, is None."""
    if not value or value == "..":
        return None
    text = value.strip()
    try:
        if _DATE.match(text):
            return Lit(date.fromisoformat(text).isoformat(), datatype=XSD.date)
        if _DATETIME.match(text):
            return Lit(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)
    except ValueError:
        return None
    if _YEAR.match(text):
        return Lit(text, datatype=XSD.gYear)
    return None


def bbox_wkt(box: tuple[float, float, float, float]) -> Lit:
    """A bounding box as a GeoSPARQL WKT literal (a point when the box has no extent)."""
    minx, miny, maxx, maxy = box
    if minx == maxx and miny == maxy:
        text = f"POINT({_n(minx)} {_n(miny)})"
    else:
        ring = ", ".join(
            f"{_n(x)} {_n(y)}"
            for x, y in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny))
        )
        text = f"POLYGON(({ring}))"
    return Lit(text, datatype=GSP.wktLiteral)


def centroid_wkt(box: tuple[float, float, float, float]) -> Lit:
    minx, miny, maxx, maxy = box
    return Lit(f"POINT({_n((minx + maxx) / 2)} {_n((miny + maxy) / 2)})", datatype=GSP.wktLiteral)


def _n(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")
