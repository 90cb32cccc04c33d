"""LIDO records (1.0 and 1.1, one namespace) as cultural objects.

Rights: those of the digital resource (``rightsResource``) come first, as they govern reuse of
what users see; then those of the work, then those of the record. The location is the current
repository's ``lido:gml`` point, else that of an event's place (``gml:pos`` is latitude first).
"""

from __future__ import annotations

from typing import Any

from harvesters.culture import (
    CulturalObject,
    clean,
    is_url,
    looks_like_manifest,
    pick_language,
    years,
)

LIDO = "http://www.lido-schema.org"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
PREFERRED = ("preferred", "http://terminology.lido-schema.org/lido00169")
# event types whose actors made the object (LIDO 1.1 terminology and common labels)
CREATION = ("lido00007",)  # Production
CREATION_WORDS = ("production", "creation", "herstellung", "hergestellt", "verfasst", "gemalt")
GML_NAMESPACES = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
L = f"{{{LIDO}}}"


def read_lido(element: Any, language: str | None = None) -> CulturalObject:
    """A ``lido:lido`` element (or a ``lido:lidoWrap`` holding one) as a cultural object."""
    if element.tag == f"{L}lidoWrap":
        inner = element.find(f"{L}lido")
        if inner is None:
            raise ValueError("lidoWrap without a lido record")
        element = inner
    if element.tag != f"{L}lido":
        raise ValueError(f"not a LIDO record: {element.tag}")

    def choose(path: str) -> str | None:
        return pick_language(
            [(e.get(XML_LANG) or _lang_of(e), e.text or "") for e in element.iterfind(path)],
            language,
        )

    def terms(path: str) -> list[str]:
        return [t for t in (clean(e.text) for e in element.iterfind(path)) if t]

    ident = f".//{L}objectIdentificationWrap"
    events = element.findall(f".//{L}eventSet/{L}event")
    making = [e for e in events if _is_creation(e.find(f"{L}eventType"))] or events
    creators = [
        name
        for event in making
        for actor in event.iterfind(f"{L}eventActor/{L}actorInRole/{L}actor")
        if (name := _preferred(actor.findall(f"{L}nameActorSet/{L}appellationValue"), language))
    ] or [
        t
        for event in making
        for t in (clean(e.text) for e in event.iterfind(f"{L}eventActor/{L}displayActorInRole"))
        if t
    ]
    display_date = choose(f".//{L}eventDate/{L}displayDate")
    period = None
    for event in making:
        earliest = clean(event.findtext(f"{L}eventDate/{L}date/{L}earliestDate"))
        latest = clean(event.findtext(f"{L}eventDate/{L}date/{L}latestDate"))
        if earliest or latest:
            period = years(earliest, latest)
            display_date = display_date or "–".join(
                dict.fromkeys(x for x in (earliest, latest) if x)
            )
            if period:
                break
    materials = [
        label
        for e in element.iterfind(f".//{L}materialsTech/{L}termMaterialsTech")
        if (label := _concept(e, language)[0])
    ] or [t for t in (clean(e.text) for e in element.iterfind(f".//{L}displayMaterialsTech")) if t]
    work_type = element.find(f".//{L}objectWorkTypeWrap/{L}objectWorkType")
    return CulturalObject(
        title=choose(f"{ident}/{L}titleWrap/{L}titleSet/{L}appellationValue"),
        description=choose(
            f"{ident}/{L}objectDescriptionWrap/{L}objectDescriptionSet/{L}descriptiveNoteValue"
        ),
        creators=creators,
        date=display_date,
        period=period,
        object_type=_concept(work_type, language)[0],
        materials=materials,
        institution=_preferred(
            element.findall(
                f"{ident}/{L}repositoryWrap/{L}repositorySet/{L}repositoryName/{L}legalBodyName/"
                f"{L}appellationValue"
            ),
            language,
        ),
        rights=_rights(element, language),
        subjects=[
            label
            for e in element.iterfind(f".//{L}subjectConcept")
            if (label := _concept(e, language)[0])
        ],
        record_url=next(
            (u for u in terms(f".//{L}recordInfoSet/{L}recordInfoLink") if is_url(u)), None
        ),
        thumbnail=_representation(element, ("thumb", "preview", "image")),
        iiif_manifest=_manifest(element),
        point=_point(element.find(f"{ident}/{L}repositoryWrap//{L}repositoryLocation"))
        or _point(element.find(f".//{L}eventPlace")),
    )


def _concept(element: Any, language: str | None) -> tuple[str | None, str | None]:
    """The label and URI of a LIDO concept: its terms and, in LIDO 1.1, its SKOS concept."""
    if element is None:
        return None, None
    labels = [
        (t.get(XML_LANG) or _lang_of(t), t.text or "")
        for t in element.iterfind(f"{L}term")
        if t.get(f"{L}addedSearchTerm") != "yes"
    ]
    labels += [
        (p.get(XML_LANG), p.text or "")
        for p in element.iterfind(f"{{{SKOS}}}Concept/{{{SKOS}}}prefLabel")
    ]
    uris = [clean(c.text) for c in element.iterfind(f"{L}conceptID")]
    uris += [c.get(RDF_ABOUT) for c in element.iterfind(f"{{{SKOS}}}Concept")]
    return pick_language(labels, language), next((u for u in uris if is_url(u)), None)


def _is_creation(event_type: Any) -> bool:
    if event_type is None:
        return False
    label, uri = _concept(event_type, "en")
    text = f"{label or ''} {uri or ''} " + " ".join(
        clean(t.text) or "" for t in event_type.iterfind(f"{L}term")
    )
    lowered = text.lower()
    return any(word in lowered for word in CREATION + CREATION_WORDS)


def _preferred(values: list[Any], language: str | None) -> str | None:
    """The preferred of several appellation values, in the wanted language where given."""
    preferred = [v for v in values if v.get(f"{L}pref") in PREFERRED] or values
    return pick_language([(v.get(XML_LANG), v.text or "") for v in preferred], language)


def _lang_of(element: Any) -> str | None:
    """The language a LIDO value inherits (``xml:lang`` on an ancestor such as the
    descriptive metadata)."""
    for ancestor in element.iterancestors():
        if ancestor.get(XML_LANG):
            return str(ancestor.get(XML_LANG))
    return None


def _rights(element: Any, language: str | None) -> str | None:
    for path in (
        f".//{L}resourceSet/{L}rightsResource/{L}rightsType",
        f".//{L}rightsWorkSet/{L}rightsType",
        f".//{L}recordRights/{L}rightsType",
    ):
        for rights_type in element.iterfind(path):
            label, uri = _concept(rights_type, language)
            if uri or label:
                return uri or label
    return None


def _representation(element: Any, preferences: tuple[str, ...]) -> str | None:
    links: list[tuple[str, str]] = []
    for representation in element.iterfind(f".//{L}resourceRepresentation"):
        kind = (representation.get(f"{L}type") or "").lower()
        link = clean(representation.findtext(f"{L}linkResource"))
        if link and is_url(link) and not looks_like_manifest(link):
            links.append((kind, link))
    for wanted in preferences:
        for kind, link in links:
            if wanted in kind:
                return link
    return links[0][1] if links else None


def _manifest(element: Any) -> str | None:
    for link in element.iterfind(f".//{L}linkResource"):
        url = clean(link.text)
        fmt = (link.get(f"{L}formatResource") or "").lower()
        if url and is_url(url) and (looks_like_manifest(url) or "ld+json" in fmt):
            return url
    return None


def _point(place: Any) -> tuple[float, float] | None:
    if place is None:
        return None
    for gml in place.iter(f"{L}gml"):
        for node in gml.iter():
            if not isinstance(node.tag, str) or node.tag.split("}")[-1] not in (
                "pos",
                "coordinates",
            ):
                continue
            numbers = (node.text or "").replace(",", " ").split()
            try:
                lat, lon = float(numbers[0]), float(numbers[1])
            except (IndexError, ValueError):
                continue
            if node.tag.endswith("coordinates"):  # gml:coordinates is x,y (longitude first)
                lat, lon = lon, lat
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return lon, lat
    return None
