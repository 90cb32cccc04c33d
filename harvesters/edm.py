"""Europeana Data Model (EDM) records as cultural objects.

The descriptive properties are read from the ``edm:ProvidedCHO`` and the provider's
``ore:Proxy`` (Europeana's own proxy adds enrichments: its references to places, time spans and
concepts are followed for labels and coordinates). Rights, links and the provider come from the
``ore:Aggregation``; the landing page and preview, failing those, from Europeana's aggregation.
"""

from __future__ import annotations

from typing import Any

from harvesters.culture import CulturalObject, clean, is_url, pick_language, years

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
EDM = "http://www.europeana.eu/schemas/edm/"
ORE = "http://www.openarchives.org/ore/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
FOAF = "http://xmlns.com/foaf/0.1/"
WGS84 = "http://www.w3.org/2003/01/geo/wgs84_pos#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ABOUT, RESOURCE = f"{{{RDF}}}about", f"{{{RDF}}}resource"


def read_edm(element: Any, language: str | None = None) -> CulturalObject:
    """An ``rdf:RDF`` element holding one EDM record as a cultural object."""
    if element.tag != f"{{{RDF}}}RDF":
        raise ValueError(f"not an EDM record (rdf:RDF expected): {element.tag}")
    resources = {e.get(ABOUT): e for e in element if e.get(ABOUT)}
    chos = element.findall(f"{{{EDM}}}ProvidedCHO")
    if not chos:
        raise ValueError("no edm:ProvidedCHO")
    proxies = element.findall(f"{{{ORE}}}Proxy")
    provided = chos + [p for p in proxies if p.findtext(f"{{{EDM}}}europeanaProxy") != "true"]
    enriched = [p for p in proxies if p.findtext(f"{{{EDM}}}europeanaProxy") == "true"]
    aggregation = element.find(f"{{{ORE}}}Aggregation")
    europeana = element.find(f"{{{EDM}}}EuropeanaAggregation")

    def values(tag: str, where: list[Any]) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        for holder in where:
            for e in holder.iterfind(tag):
                if e.get(RESOURCE):
                    label = _label(resources.get(e.get(RESOURCE)), language)
                    if label:
                        out.append((language, label))
                elif clean(e.text):
                    out.append((e.get(XML_LANG), clean(e.text) or ""))
        return out

    def one(tag: str) -> str | None:
        return pick_language(values(tag, provided), language) or pick_language(
            values(tag, enriched), language
        )

    def every(tag: str) -> list[str]:
        return [t for _, t in values(tag, provided)] or [t for _, t in values(tag, enriched)]

    def link(holder: Any, tag: str) -> str | None:
        if holder is None:
            return None
        found = holder.find(tag)
        value = found.get(RESOURCE) if found is not None else None
        return value if is_url(value) else None

    date_text = one(f"{{{DC}}}date") or one(f"{{{DCTERMS}}}created")
    return CulturalObject(
        title=one(f"{{{DC}}}title"),
        description=one(f"{{{DC}}}description"),
        creators=every(f"{{{DC}}}creator"),
        date=date_text,
        period=_time_span(resources, provided + enriched, date_text),
        object_type=one(f"{{{DC}}}type") or one(f"{{{EDM}}}type"),
        materials=every(f"{{{DCTERMS}}}medium"),
        institution=_agent(aggregation, f"{{{EDM}}}dataProvider", resources, language),
        rights=link(aggregation, f"{{{EDM}}}rights"),
        subjects=every(f"{{{DC}}}subject"),
        record_url=link(aggregation, f"{{{EDM}}}isShownAt")
        or link(europeana, f"{{{EDM}}}landingPage"),
        thumbnail=link(aggregation, f"{{{EDM}}}object")
        or link(europeana, f"{{{EDM}}}preview")
        or link(aggregation, f"{{{EDM}}}isShownBy"),
        iiif_manifest=_manifest(element),
        point=_place(resources, provided + enriched, element),
    )


def _label(resource: Any, language: str | None) -> str | None:
    if resource is None:
        return None
    labels = [
        (e.get(XML_LANG), e.text or "") for e in resource.iterfind(f"{{{SKOS}}}prefLabel")
    ] or [(None, e.text or "") for e in resource.iterfind(f"{{{FOAF}}}name")]
    return pick_language(labels, language)


def _agent(holder: Any, tag: str, resources: dict[str, Any], language: str | None) -> str | None:
    if holder is None:
        return None
    found = holder.find(tag)
    if found is None:
        return None
    if found.get(RESOURCE):
        return _label(resources.get(found.get(RESOURCE)), language)
    return clean(found.text)


def _time_span(
    resources: dict[str, Any], holders: list[Any], date_text: str | None
) -> tuple[str, str] | None:
    """The interval of the most specific time span the record's date refers to."""
    spans = []
    for holder in holders:
        for e in holder.iterfind(f"{{{DC}}}date"):
            span = resources.get(e.get(RESOURCE))
            if span is not None and span.tag == f"{{{EDM}}}TimeSpan":
                found = years(
                    clean(span.findtext(f"{{{EDM}}}begin")), clean(span.findtext(f"{{{EDM}}}end"))
                )
                if found:
                    spans.append(found)
    if spans:
        return min(spans, key=lambda s: (int(s[1][:4]) - int(s[0][:4]), s))
    return None


def _place(resources: dict[str, Any], holders: list[Any], root: Any) -> tuple[float, float] | None:
    """The coordinates of the place the record refers to (``dcterms:spatial``), else of the
    first place with coordinates."""
    referenced = [
        resources.get(e.get(RESOURCE))
        for holder in holders
        for e in holder.iterfind(f"{{{DCTERMS}}}spatial")
        if e.get(RESOURCE)
    ]
    for place in [*referenced, *root.iterfind(f"{{{EDM}}}Place")]:
        if place is None:
            continue
        try:
            lat = float(place.findtext(f"{{{WGS84}}}lat") or "x")
            lon = float(place.findtext(f"{{{WGS84}}}long") or "x")
        except ValueError:
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lon, lat
    return None


def _manifest(root: Any) -> str | None:
    for resource in root.iterfind(f"{{{EDM}}}WebResource"):
        for e in resource.iterfind(f"{{{DCTERMS}}}isReferencedBy"):
            value = e.get(RESOURCE) or clean(e.text)
            if value and is_url(value):
                return value
    return None
