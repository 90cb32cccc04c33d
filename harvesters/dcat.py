"""DCAT catalogues (DCAT-AP, DCAT-AP.de) in RDF/XML, Turtle, JSON-LD or N-Triples, read with
rdflib and followed through Hydra paging. A value that is not what its property needs (a
``dct:modified`` that is no date) is reported and left out; the dataset is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import rdflib
from pydantic import Field
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import shape

from catalogue.errors import HarvestError
from catalogue.harvest.contract import HarvesterOptions, SourceHarvester
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
from harvesters.items import date_or_notice
from harvesters.safexml import refuse_unsafe_xml

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
DCATDE = rdflib.Namespace("http://dcat-ap.de/def/dcatde/")
LOCN = rdflib.Namespace("http://www.w3.org/ns/locn#")
SCHEMA = rdflib.Namespace("http://schema.org/")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")

FORMATS = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/n-triples": "nt",
    "text/plain": "nt",
}
SUFFIXES = {".ttl": "turtle", ".rdf": "xml", ".xml": "xml", ".jsonld": "json-ld", ".nt": "nt"}
# DCAT-AP.de properties kept verbatim in the record's extras
DCATDE_EXTRAS = (
    "contributorID",
    "politicalGeocodingURI",
    "politicalGeocodingLevelURI",
    "geocodingDescription",
    "legalBasis",
    "qualityProcessURI",
)


class DCATOptions(HarvesterOptions):
    format: Literal["auto", "turtle", "xml", "json-ld", "nt"] = "auto"
    """``auto`` goes by the Content-Type, then by the file name."""
    max_pages: int = Field(10_000, ge=1)
    """A safety limit on Hydra pages followed."""


class DCATHarvester(SourceHarvester):
    """Every ``dcat:Dataset`` of a catalogue (all its Hydra pages) as a dataset record."""

    Options: ClassVar[type[DCATOptions]] = DCATOptions
    options: DCATOptions

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]:
        url: str | None = self.source.url
        visited: set[str] = set()
        promised: int | None = None
        seen: set[str] = set()  # datasets read, by subject (a page read twice adds nothing)
        while url and len(visited) < self.options.max_pages:
            visited.add(url)
            graph = self._graph(url)
            promised = promised if promised is not None else _total_items(graph)
            for subject in sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str):
                if str(subject) in seen:
                    continue
                seen.add(str(subject))
                yield from self._dataset(graph, subject, len(seen))
            url = _next_page(graph)
            if url in visited:
                yield Notice(
                    f"the next page {url} was read before; paging stopped", incomplete=True
                )
                break
        if url and url not in visited:
            yield Notice(
                f"stopped after {self.options.max_pages} pages (max_pages)", incomplete=True
            )
        if promised is not None and len(seen) < promised:
            yield Notice(
                f"the catalogue promised {promised} datasets and delivered {len(seen)}",
                incomplete=True,
            )

    def _graph(self, url: str) -> rdflib.Graph:
        if url.startswith(("http://", "https://")):
            response = self.client.get(
                url,
                headers={
                    "Accept": "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8"
                },
            )
            if response.status_code >= 400:
                raise HarvestError(f"HTTP {response.status_code} from {url}")
            data = response.content
            declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        else:
            try:
                with open(url, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                raise HarvestError(f"cannot read {url}: {exc.strerror or exc}") from None
            declared = ""
        fmt = self._format(url, declared)
        if fmt == "xml":
            refuse_unsafe_xml(data, url)
        graph = rdflib.Graph()
        try:
            graph.parse(data=data, format=fmt, publicID=url)
        except Exception as exc:  # rdflib's parsers raise many kinds of error
            raise HarvestError(f"{url}: not valid {fmt}: {str(exc)[:200]}") from None
        return graph

    def _format(self, url: str, declared: str) -> str:
        if self.options.format != "auto":
            return self.options.format
        if declared in FORMATS and not (declared == "text/plain" and not url.endswith(".nt")):
            return FORMATS[declared]
        path = url.split("?", 1)[0].lower()
        for suffix, fmt in SUFFIXES.items():
            if path.endswith(suffix):
                return fmt
        return "turtle"

    def _dataset(
        self, graph: rdflib.Graph, subject: Any, position: int
    ) -> Iterator[Dataset | Problem | Notice]:
        ident = _text(graph, subject, DCTERMS.identifier) or str(subject)
        title = self._literal(graph, subject, DCTERMS.title)
        if not title:
            yield Problem(f"dataset {position} ({subject})", "no dct:title")
            return
        notices: list[str] = []

        def when(node: Any, prop: Any, label: str) -> str | None:
            return date_or_notice(_text(graph, node, prop), f"dataset {ident}: {label}", notices)

        temporal = None
        period = graph.value(subject, DCTERMS.temporal)
        if period is not None:
            start = when(period, DCAT.startDate, "start date") or when(
                period, SCHEMA.startDate, "start date"
            )
            end = when(period, DCAT.endDate, "end date") or when(period, SCHEMA.endDate, "end date")
            temporal = (start, end) if start or end else None
        extras: dict[str, Any] = {
            name: [str(v) for v in graph.objects(subject, DCATDE[name])]
            for name in DCATDE_EXTRAS
            if (subject, DCATDE[name], None) in graph
        }
        extras = {k: v[0] if len(v) == 1 else v for k, v in extras.items()}
        extras["uri"] = str(subject)
        record = Dataset(
            id=stable_id(self.source.name, ident),
            title=title,
            description=self._literal(graph, subject, DCTERMS.description),
            keywords=tuple(sorted({str(k) for k in graph.objects(subject, DCAT.keyword)})),
            themes=tuple(sorted(str(t) for t in graph.objects(subject, DCAT.theme))),
            kind=self.source.kind,  # type: ignore[arg-type]
            publisher=_agent(graph, graph.value(subject, DCTERMS.publisher)),
            contact_point=_contact(graph, graph.value(subject, DCAT.contactPoint)),
            licence=_text(graph, subject, DCTERMS.license)
            or _distribution_licence(graph, subject)
            or self.source.licence,
            access_rights=_text(graph, subject, DCTERMS.accessRights) or self.source.access_rights,
            spatial=_extent(graph, subject, notices, ident),
            temporal=temporal,
            issued=when(subject, DCTERMS.issued, "dct:issued"),
            modified=when(subject, DCTERMS.modified, "dct:modified"),
            language=tuple(
                str(lang).rsplit("/", 1)[-1].lower()
                for lang in graph.objects(subject, DCTERMS.language)
            ),
            landing_page=_text(graph, subject, DCAT.landingPage) or self.source.landing_page,
            distributions=tuple(
                _distribution(graph, node)
                for node in graph.objects(subject, DCAT.distribution)
                if _text(graph, node, DCAT.accessURL) or _text(graph, node, DCAT.downloadURL)
            ),
            extras=extras,
            provenance=Provenance(
                source_name=self.source.name,
                source_type=self.source.type,
                source_url=str(subject) if isinstance(subject, rdflib.URIRef) else self.source.url,
                source_identifier=ident,
            ),
        ).with_hash()
        for message in notices:
            yield Notice(message)
        yield record

    def _literal(self, graph: rdflib.Graph, subject: Any, prop: Any) -> str | None:
        """A literal in the source's language if there is one, else German, English, any."""
        values = [o for o in graph.objects(subject, prop) if isinstance(o, rdflib.Literal)]
        if not values:
            return None
        for lang in (*self.source.language, "de", "en", None):
            for value in values:
                if value.language == lang:
                    return str(value)
        return str(values[0])


def _text(graph: rdflib.Graph, subject: Any, prop: Any) -> str | None:
    value = graph.value(subject, prop)
    return str(value).strip() or None if value is not None else None


def _agent(graph: rdflib.Graph, node: Any) -> Agent | None:
    if node is None:
        return None
    name = _text(graph, node, FOAF.name)
    if not name:
        return Agent(str(node), url=str(node)) if isinstance(node, rdflib.URIRef) else None
    return Agent(
        name,
        url=str(node) if isinstance(node, rdflib.URIRef) else _text(graph, node, FOAF.homepage),
        email=(_text(graph, node, FOAF.mbox) or "").removeprefix("mailto:") or None,
    )


def _contact(graph: rdflib.Graph, node: Any) -> Contact | None:
    if node is None:
        return None
    email = (_text(graph, node, VCARD.hasEmail) or "").removeprefix("mailto:") or None
    name = _text(graph, node, VCARD.fn) or _text(graph, node, VCARD["organization-name"])
    url = _text(graph, node, VCARD.hasURL)
    phone = (_text(graph, node, VCARD.hasTelephone) or "").removeprefix("tel:") or None
    return Contact(name=name, email=email, url=url, phone=phone) if name or email or url else None


def _distribution(graph: rdflib.Graph, node: Any) -> Distribution:
    access = _text(graph, node, DCAT.accessURL)
    download = _text(graph, node, DCAT.downloadURL)
    fmt = _text(graph, node, DCTERMS["format"])
    media = _text(graph, node, DCAT.mediaType)
    return Distribution(
        url=access or download or "",
        title=_text(graph, node, DCTERMS.title),
        description=_text(graph, node, DCTERMS.description),
        media_type=media.rsplit("/media-types/", 1)[-1] if media else None,
        format=fmt.rsplit("/", 1)[-1].upper() if fmt else None,
        licence=_text(graph, node, DCTERMS.license),
        download_url=download,
    )


def _distribution_licence(graph: rdflib.Graph, subject: Any) -> str | None:
    for node in graph.objects(subject, DCAT.distribution):
        licence = _text(graph, node, DCTERMS.license)
        if licence:
            return licence
    return None


def _extent(graph: rdflib.Graph, subject: Any, notices: list[str], ident: str) -> Any:
    for location in graph.objects(subject, DCTERMS.spatial):
        for prop in (DCAT.bbox, LOCN.geometry):
            for value in graph.objects(location, prop):
                text = str(value).strip()
                try:
                    geometry = shape(json.loads(text)) if text.startswith("{") else wkt.loads(text)
                except (ShapelyError, ValueError, TypeError, AttributeError) as exc:
                    notices.append(f"dataset {ident}: spatial extent left out: {str(exc)[:100]}")
                    continue
                if not geometry.is_empty:
                    return tuple(round(v, 7) for v in geometry.bounds)
    return None


def _total_items(graph: rdflib.Graph) -> int | None:
    for value in graph.objects(None, HYDRA.totalItems):
        try:
            return int(str(value))
        except (TypeError, ValueError):
            return None
    return None


def _next_page(graph: rdflib.Graph) -> str | None:
    for prop in (HYDRA.next, HYDRA.nextPage):
        for value in graph.objects(None, prop):
            return str(value)
    return None
