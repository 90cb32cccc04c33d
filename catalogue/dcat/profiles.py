"""DCAT profiles as chainable classes: each adds its triples to those the ones before wrote.

``dcat-ap-3`` (DCAT-AP 3.0.1) describes the catalogue, datasets and distributions;
``dcat-ap-de-3`` (DCAT-AP.de 3.0) adds the German properties on top; ``geodcat-ap`` adds the
GeoDCAT-AP properties of geodata. Every resource the output references is stated with its class
(``foaf:Agent``, ``dct:LicenseDocument``, ``dct:MediaTypeOrExtent`` …) so the shapes' class
constraints hold without outside data.

The profiles are the one mapping from records to DCAT: they write plain terms into
:class:`~catalogue.dcat.triples.Triples`, from which every output format is made.
"""

from __future__ import annotations

import json
from typing import ClassVar

from catalogue.dcat.context import DCATContext
from catalogue.dcat.iris import DCAT, DCATDE, DCTERMS, FOAF, GSP, LOCN, PROV, RDF, RDFS, SKOS, VCARD
from catalogue.dcat.namespaces import DATA_THEME, IANA_MEDIA_TYPES, LICENCES
from catalogue.dcat.terms import bbox_wkt, centroid_wkt, date_literal, iri
from catalogue.dcat.triples import Lit, Triples
from catalogue.errors import ConfigError
from catalogue.model import Agent, Dataset, Distribution

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OGCAPI_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_TYPE = "http://publications.europa.eu/resource/authority/file-type/GEOJSON"
HTML_TYPE = "http://publications.europa.eu/resource/authority/file-type/HTML"
# DCAT-AP.de licences that oblige users to name the source (dcatde:licenseAttributionByText)
_ATTRIBUTION = ("dl-by-de", "cc-by", "odby", "odbl")


class Profile:
    """One profile: hooks called for the catalogue node, each dataset and each distribution."""

    name: ClassVar[str]

    def __init__(self, ctx: DCATContext) -> None:
        self.ctx = ctx

    def graph_catalog(self, g: Triples, catalog: str) -> None:
        """Describe the catalogue itself."""

    def graph_dataset(self, g: Triples, node: str, dataset: Dataset) -> None:
        """Describe one dataset (its distributions are added by the same profile)."""


class DCATAP3(Profile):
    """DCAT-AP 3.0.1."""

    name = "dcat-ap-3"

    def graph_catalog(self, g: Triples, catalog: str) -> None:
        c = self.ctx.catalogue
        g.add(catalog, RDF.type, DCAT.Catalog)
        g.add(catalog, DCTERMS.title, Lit(c.title))
        g.add(catalog, DCTERMS.description, Lit(c.description))
        g.add(catalog, DCTERMS.publisher, self.agent(g, self.ctx.publisher))
        homepage = iri(c.homepage) or self.ctx.base_url + "/"
        g.add(catalog, FOAF.homepage, homepage)
        g.add(homepage, RDF.type, FOAF.Document)
        for code in self.ctx.options.languages:
            language = self.ctx.map("catalogue", "language", code)
            if language is not None:
                g.add(catalog, DCTERMS.language, language)
                g.add(language, RDF.type, DCTERMS.LinguisticSystem)
        licence = self.licence(g, "catalogue", c.licence, catalog, "licence")
        if licence is not None:
            g.add(catalog, DCTERMS.license, licence)
        scheme = DATA_THEME
        g.add(catalog, DCAT.themeTaxonomy, scheme)
        g.add(scheme, RDF.type, SKOS.ConceptScheme)
        g.add(scheme, DCTERMS.title, Lit("Data theme", "en"))

    def graph_dataset(self, g: Triples, node: str, dataset: Dataset) -> None:
        ctx = self.ctx
        g.add(node, RDF.type, DCAT.Dataset)  # first: the dataset names its triples
        g.add(ctx.catalog_uri, DCAT.dataset, node)
        g.add(node, DCTERMS.identifier, Lit(dataset.id))
        g.add(node, DCTERMS.title, Lit(dataset.title))
        # dct:description is mandatory; a record without one is described by its title
        g.add(node, DCTERMS.description, Lit(dataset.description or dataset.title))
        for keyword in dataset.keywords:
            if keyword.strip():
                g.add(node, DCAT.keyword, Lit(keyword.strip()))
        for theme in dataset.themes:
            concept = ctx.map(dataset.id, "theme", theme)
            if concept is not None:
                g.add(node, DCAT.theme, concept)
                g.add(concept, RDF.type, SKOS.Concept)
                g.add(concept, SKOS.prefLabel, Lit(ctx.vocab.label(concept) or theme, "en"))
        g.add(node, DCTERMS.publisher, self.agent(g, dataset.publisher or ctx.publisher))
        self.contact_point(g, node, dataset)
        for code in dataset.language:
            concept = ctx.map(dataset.id, "language", code)
            if concept is not None:
                g.add(node, DCTERMS.language, concept)
                g.add(concept, RDF.type, DCTERMS.LinguisticSystem)
        access = ctx.map(dataset.id, "access_right", dataset.access_rights)
        if access is not None:
            g.add(node, DCTERMS.accessRights, access)
            g.add(access, RDF.type, DCTERMS.RightsStatement)
        for prop, value in ((DCTERMS.issued, dataset.issued), (DCTERMS.modified, dataset.modified)):
            literal = date_literal(value)
            if literal is not None:
                g.add(node, prop, literal)
            elif value:
                ctx.report(dataset.id, "date", value)
        landing = iri(dataset.landing_page)
        if landing is not None:
            g.add(node, DCAT.landingPage, landing)
            g.add(landing, RDF.type, FOAF.Document)
        self.spatial(g, node, dataset)
        self.temporal(g, node, dataset)
        self.provenance(g, node, dataset)
        for position, dist in enumerate(dataset.distributions):
            self.distribution(g, node, dataset, dist, position)
        if dataset.item_count:
            self.items_distributions(g, node, dataset)

    # -- parts of a dataset ------------------------------------------------------------------

    def agent(self, g: Triples, agent: Agent) -> str:
        node = iri(agent.url) if agent.url and agent.url.startswith("http") else None
        node = node or self.ctx.agent_uri(agent)
        g.add(node, RDF.type, FOAF.Agent)
        g.add(node, FOAF.name, Lit(agent.name))
        mbox = iri(f"mailto:{agent.email}") if agent.email else None
        if mbox is not None:
            g.add(node, FOAF.mbox, mbox)
        return node

    def contact_point(self, g: Triples, node: str, dataset: Dataset) -> None:
        contact = dataset.contact_point
        email = iri(f"mailto:{contact.email}") if contact and contact.email else None
        url = iri(contact.url) if contact else None
        phone = iri("tel:" + "".join(contact.phone.split())) if contact and contact.phone else None
        if not (email or url or phone):  # a vcard:Kind needs a way to reach it
            return
        assert contact is not None
        kind = f"{node}#contact"
        g.add(node, DCAT.contactPoint, kind)
        g.add(kind, RDF.type, VCARD.Organization)
        g.add(kind, RDF.type, VCARD.Kind)
        if contact.name:
            g.add(kind, VCARD.fn, Lit(contact.name))
        for prop, value in (
            (VCARD.hasEmail, email),
            (VCARD.hasURL, url),
            (VCARD.hasTelephone, phone),
        ):
            if value is not None:
                g.add(kind, prop, value)

    def spatial(self, g: Triples, node: str, dataset: Dataset) -> None:
        if not dataset.spatial:
            return
        location = f"{node}#spatial"
        geometry = f"{node}#geometry"
        wkt = bbox_wkt(dataset.spatial)
        g.add(node, DCTERMS.spatial, location)
        g.add(location, RDF.type, DCTERMS.Location)
        g.add(location, DCAT.bbox, wkt)
        g.add(location, LOCN.geometry, geometry)
        g.add(geometry, RDF.type, LOCN.Geometry)
        g.add(geometry, GSP.asWKT, wkt)

    def temporal(self, g: Triples, node: str, dataset: Dataset) -> None:
        if not dataset.temporal:
            return
        start, end = (date_literal(v) for v in dataset.temporal)
        for value, literal in zip(dataset.temporal, (start, end), strict=True):
            if value and value != ".." and literal is None:
                self.ctx.report(dataset.id, "date", value)
        if start is None and end is None:
            return
        period = f"{node}#temporal"
        g.add(node, DCTERMS.temporal, period)
        g.add(period, RDF.type, DCTERMS.PeriodOfTime)
        if start is not None:
            g.add(period, DCAT.startDate, start)
        if end is not None:
            g.add(period, DCAT.endDate, end)

    def provenance(self, g: Triples, node: str, dataset: Dataset) -> None:
        prov = dataset.provenance
        source = iri(prov.source_url)
        if source is not None:
            g.add(node, PROV.wasDerivedFrom, source)
        statement = f"{node}#provenance"
        g.add(node, DCTERMS.provenance, statement)
        g.add(statement, RDF.type, DCTERMS.ProvenanceStatement)
        text = (
            f"Harvested from the {prov.source_type} source '{prov.source_name}' "
            f"(record {prov.source_identifier}) at {prov.harvested_at}"
        )
        g.add(statement, RDFS.label, Lit(text, "en"))

    def licence(
        self, g: Triples, dataset_id: str, value: str | None, owner: str, suffix: str
    ) -> str | None:
        """The licence document for ``value``: the vocabulary's concept, or (unmapped, and
        reported) the URL or text as the catalogue received it."""
        if not value:
            return None
        concept = self.ctx.map(dataset_id, "licence", value)
        node: str = concept or iri(value) or f"{owner}-{suffix}"
        g.add(node, RDF.type, DCTERMS.LicenseDocument)
        if concept is None and iri(value) is None:
            g.add(node, RDFS.label, Lit(value))
        return node

    def distribution(
        self, g: Triples, node: str, dataset: Dataset, dist: Distribution, position: int
    ) -> None:
        access = iri(dist.url) or iri(dist.download_url)
        if access is None:
            self.ctx.report(dataset.id, "distribution URL", dist.url or "(empty)")
            return
        dnode = f"{node}#distribution-{position}"
        g.add(node, DCAT.distribution, dnode)
        g.add(dnode, RDF.type, DCAT.Distribution)
        g.add(dnode, DCAT.accessURL, access)
        download = iri(dist.download_url)
        if download is not None:
            g.add(dnode, DCAT.downloadURL, download)
        if dist.title:
            g.add(dnode, DCTERMS.title, Lit(dist.title))
        if dist.description:
            g.add(dnode, DCTERMS.description, Lit(dist.description))
        file_type = self.ctx.map(dataset.id, "file_type", dist.format)
        media = _media_type(dist.media_type)
        if file_type is None and media is None and dist.media_type:
            file_type = self.ctx.vocab.concept("file_type", dist.media_type)
        if file_type is not None:
            g.add(dnode, DCTERMS["format"], file_type)
            g.add(file_type, RDF.type, DCTERMS.MediaTypeOrExtent)
            media = media or self.ctx.vocab.media_type_of(file_type)
        elif dist.media_type and media is None:
            self.ctx.report(dataset.id, "media type", dist.media_type)
        if media is not None:
            g.add(dnode, DCAT.mediaType, media)
            g.add(media, RDF.type, DCTERMS.MediaType)
        self.distribution_rights(g, dnode, dataset, dist.licence)

    def distribution_rights(
        self, g: Triples, dnode: str, dataset: Dataset, own: str | None
    ) -> None:
        value = own or dataset.licence or self.ctx.catalogue.licence
        licence = self.licence(g, dataset.id, value, dnode, "licence")
        if licence is not None:
            g.add(dnode, DCTERMS.license, licence)
        if (
            dataset.access_rights
            and self.ctx.vocab.concept("access_right", dataset.access_rights) is None
        ):
            rights = f"{dnode}-rights"
            g.add(dnode, DCTERMS.rights, rights)
            g.add(rights, RDF.type, DCTERMS.RightsStatement)
            g.add(rights, RDFS.label, Lit(dataset.access_rights))

    def items_distributions(self, g: Triples, node: str, dataset: Dataset) -> None:
        """The dataset's items through this catalogue's OGC API, as GeoJSON and as HTML."""
        for f, file_type, title in (
            ("json", GEOJSON_TYPE, "OGC API Features (GeoJSON)"),
            ("html", HTML_TYPE, "OGC API Features (HTML)"),
        ):
            dnode = f"{node}#items-{f}"
            access = self.ctx.items_url(dataset.id, f)
            g.add(node, DCAT.distribution, dnode)
            g.add(dnode, RDF.type, DCAT.Distribution)
            g.add(dnode, DCAT.accessURL, access)
            g.add(dnode, DCAT.downloadURL, access)
            g.add(dnode, DCTERMS.title, Lit(title))
            g.add(dnode, DCTERMS["format"], file_type)
            g.add(file_type, RDF.type, DCTERMS.MediaTypeOrExtent)
            media = self.ctx.vocab.media_type_of(file_type)
            if media is not None:
                g.add(dnode, DCAT.mediaType, media)
                g.add(media, RDF.type, DCTERMS.MediaType)
            self.distribution_rights(g, dnode, dataset, None)


class DCATAPDE3(Profile):
    """DCAT-AP.de 3.0 on top of DCAT-AP: contributor, political geocoding, maintainer and
    licence attribution."""

    name = "dcat-ap-de-3"

    def graph_dataset(self, g: Triples, node: str, dataset: Dataset) -> None:
        ctx, extras = self.ctx, dataset.extras
        for contributor in _values(extras.get("contributorID")) or _values(
            ctx.options.contributor_id
        ):
            value = iri(contributor)
            if value is not None:
                g.add(node, DCATDE.contributorID, value)
        geocoding = _values(extras.get("politicalGeocodingURI"))
        level = _values(extras.get("politicalGeocodingLevelURI"))
        if not geocoding and ctx.options.political_geocoding_uri:
            geocoding = [ctx.options.political_geocoding_uri]
            level = (
                [ctx.options.political_geocoding_level]
                if ctx.options.political_geocoding_level
                else []
            )
        for uri in geocoding:
            value = iri(uri)
            if value is not None:
                g.add(node, DCATDE.politicalGeocodingURI, value)
                g.add(node, DCTERMS.spatial, value)
                g.add(value, RDF.type, DCTERMS.Location)
        for uri in level:
            value = iri(uri)
            if value is not None:
                g.add(node, DCATDE.politicalGeocodingLevelURI, value)
        contact = dataset.contact_point
        if contact and contact.name:
            maintainer = f"{node}#maintainer"
            g.add(node, DCATDE.maintainer, maintainer)
            g.add(maintainer, RDF.type, FOAF.Agent)
            g.add(maintainer, FOAF.name, Lit(contact.name))
            mbox = iri(f"mailto:{contact.email}") if contact.email else None
            if mbox is not None:
                g.add(maintainer, FOAF.mbox, mbox)
        attribution = (dataset.publisher or ctx.publisher).name
        for dnode in g.objects(node, DCAT.distribution):
            licence = g.value(str(dnode), DCTERMS.license)
            code = licence.removeprefix(LICENCES + "/") if isinstance(licence, str) else ""
            if isinstance(dnode, str) and code.startswith(_ATTRIBUTION):
                g.add(dnode, DCATDE.licenseAttributionByText, Lit(attribution))


class GeoDCATAP(Profile):
    """GeoDCAT-AP additions for datasets with a spatial extent: the reference system, the
    centroid, and the OGC API standard the catalogue's own item distributions conform to."""

    name = "geodcat-ap"

    def graph_dataset(self, g: Triples, node: str, dataset: Dataset) -> None:
        if dataset.spatial:
            location = f"{node}#spatial"
            g.add(location, DCAT.centroid, centroid_wkt(dataset.spatial))
            g.add(node, DCTERMS.conformsTo, CRS84)
            g.add(CRS84, RDF.type, DCTERMS.Standard)
        if dataset.item_count:
            dnode = f"{node}#items-json"
            g.add(dnode, DCTERMS.conformsTo, OGCAPI_FEATURES)
            g.add(OGCAPI_FEATURES, RDF.type, DCTERMS.Standard)


PROFILES: dict[str, type[Profile]] = {p.name: p for p in (DCATAP3, DCATAPDE3, GeoDCATAP)}


def profile_chain(names: tuple[str, ...], ctx: DCATContext) -> list[Profile]:
    """The configured profiles, in order; the first must be the DCAT-AP base."""
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise ConfigError(
            f"dcat.profiles: unknown profile(s) {', '.join(unknown)} (known: {', '.join(PROFILES)})"
        )
    if not names or names[0] != DCATAP3.name:
        raise ConfigError(f"dcat.profiles: the chain starts with {DCATAP3.name!r}")
    return [PROFILES[n](ctx) for n in names]


def _values(value: object) -> list[str]:
    """Extras hold one value, a list, or (from CKAN) a JSON list as text."""
    if value is None:
        return []
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


def _media_type(value: str | None) -> str | None:
    """An IANA media type URI for ``type/subtype`` (parameters dropped)."""
    if not value:
        return None
    text = value.split(";", 1)[0].strip().lower()
    if text.startswith(IANA_MEDIA_TYPES):
        return iri(text)
    if "/" in text and " " not in text and text.count("/") == 1 and all(text.split("/")):
        return iri(IANA_MEDIA_TYPES + text)
    return None
