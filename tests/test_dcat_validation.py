"""The catalogue's DCAT against the official SHACL shapes (DCAT-AP 3.0.1 and DCAT-AP.de 3.0),
with pySHACL: the demo, every fixture harvest of the test suite, and datasets of every kind
written to a real SQLite index through the index protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rdflib
from conftest import SHARED_DATA, LiveServer
from test_ckan_harvest import FakePortal, recorded_packages
from test_csw_harvest import RECORDED, FakeCSW, second_page
from test_wfs_harvest import KOELN_CAPS, KOELN_FEATURES, FakeWFS
from upstream import Upstream

from catalogue.dcat.graph import DCATBuilder
from catalogue.dcat.validation import ValidationReport, validate
from catalogue.dcat.vocab import Vocabularies
from catalogue.errors import ConfigError
from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Agent, Contact, Dataset, Distribution, Item, Provenance
from catalogue.settings import Settings, settings_from_dict

SHACL = SHARED_DATA / "shacl"
DCAT_AP = [
    SHACL / "semic-dcat-ap-3.0.1_dcat-ap-SHACL.ttl",
    SHACL / "semic-dcat-ap-3.0.1_mdr-vocabularies.shape.ttl",
    SHACL / "semic-dcat-ap-3.0.1_deprecateduris.ttl",
]
DCAT_AP_DE = [
    SHACL / "dcat-ap-de-3.0_dcat-ap-SHACL-DE.ttl",
    SHACL / "dcat-ap-de-3.0_dcat-ap-de-controlledvocabularies.ttl",
    SHACL / "dcat-ap-de-3.0_dcat-ap-de-deprecated.ttl",
    SHACL / "dcat-ap-de-3.0_dcat-ap-spec-german-additions.ttl",
]
DCAT_FIXTURES = SHARED_DATA / "fixtures" / "dcat"
REFERENCE = DCAT_FIXTURES / "dcat-ap-de-2.0_RefImp_ADVANCED.ttl"
ROSTOCK = DCAT_FIXTURES / "ckanext-dcat_dataset_gov_de_rostock.rdf"


@pytest.fixture(scope="module")
def vocab() -> Vocabularies:
    return Vocabularies.load()


def city_settings(tmp_path: Path, sources: list[dict[str, Any]] | None = None) -> Settings:
    """A city catalogue: its publisher and the licence its data is under unless stated."""
    return settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            # the recorded files lie beside the checkout, outside the default folders
            "harvest": {"backoff": 0.01, "file_roots": [str(DCAT_FIXTURES)]},
            "catalogue": {
                "title": "Offene Daten Musterstadt",
                "publisher": {"name": "Stadt Musterstadt", "url": "https://musterstadt.example"},
                "licence": "dl-de/by-2-0",
            },
            "sources": sources or [],
        },
        tmp_path / "c.yml",
        {},
    )


def violations(report: ValidationReport) -> list[str]:
    return [f"{f.shape} {f.focus} {f.path} {f.value}: {f.message()}" for f in report.violations()]


def assert_valid(graph: rdflib.Graph, vocab: Vocabularies) -> None:
    for shapes in (DCAT_AP, DCAT_AP_DE):
        report = validate(graph, shapes, vocab.graph)
        assert violations(report) == [], shapes[0].name


def harvest(index: SQLiteIndex, settings: Settings) -> None:
    report = run_harvest(settings, index)
    assert all(s.status == "ok" for s in report.sources), report


def test_the_reference_example_without_vocabularies_shows_the_known_violations() -> None:
    """The official DCAT-AP.de example, validated without the vocabularies, shows what the
    issue states (33 against DCAT-AP 3.0.1's shapes, 10 against DCAT-AP.de 3.0)."""
    data = rdflib.Graph().parse(REFERENCE, format="turtle")
    assert len(validate(data, DCAT_AP[:1]).violations()) == 33
    assert len(validate(data, DCAT_AP_DE).violations()) == 10


def test_without_the_vocabularies_our_output_would_fail(
    tmp_path: Path, index: SQLiteIndex, vocab: Vocabularies
) -> None:
    """The vocabulary constraints are checked for real: the same graph fails without them."""
    harvest(index, city_settings(tmp_path, [{"name": "dcat", "type": "dcat", "url": str(ROSTOCK)}]))
    graph = DCATBuilder.from_settings(city_settings(tmp_path), vocab).whole_graph(
        index.iter_datasets()
    )
    assert validate(graph, DCAT_AP_DE).violations()
    assert not validate(graph, DCAT_AP_DE, vocab.graph).violations()


def test_the_demo_catalogue_is_valid(demo: LiveServer, vocab: Vocabularies) -> None:
    index = SQLiteIndex(demo.settings.index.path)  # type: ignore[arg-type]
    try:
        builder = DCATBuilder.from_settings(demo.settings, vocab)
        builder.ctx.record_unmapped = True
        graph = builder.whole_graph(index.iter_datasets())
    finally:
        index.close()
    assert len(set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(DCAT + "Dataset")))) == 4
    assert_valid(graph, vocab)
    assert not builder.ctx.unmapped


DCAT = "http://www.w3.org/ns/dcat#"


def test_every_fixture_harvest_is_valid(
    tmp_path: Path, index: SQLiteIndex, demo: LiveServer, vocab: Vocabularies
) -> None:
    """CKAN, DCAT (Rostock and the DCAT-AP.de reference), CSW, WFS and OGC API Features
    harvests of recorded real responses, republished as one catalogue."""
    portal = FakePortal(recorded_packages())
    csw = FakeCSW({"1": RECORDED, "85": second_page()})
    wfs = FakeWFS(KOELN_CAPS, KOELN_FEATURES)
    with Upstream(DCAT_FIXTURES) as upstream:
        upstream.routes["/api/3/action/package_search"] = portal
        upstream.routes["/csw"] = csw
        upstream.routes["/wfs"] = wfs
        sources = [
            {"name": "portal", "type": "ckan", "url": upstream.url(""), "rows": 2},
            {"name": "rostock", "type": "dcat", "url": upstream.url(ROSTOCK.name)},
            {"name": "reference", "type": "dcat", "url": str(REFERENCE)},
            {"name": "geonetwork", "type": "csw", "url": upstream.url("csw")},
            {
                "name": "koeln",
                "type": "wfs",
                "url": upstream.url("wfs"),
                "typenames": ["adressen_stadtteil:Altstadt_Nord"],
            },
            {"name": "nachbar", "type": "ogcapi-features", "url": f"{demo.url}/ogc"},
        ]
        settings = city_settings(tmp_path, sources)
        harvest(index, settings)
    counts = index.source_counts()
    assert set(counts) == {"portal", "rostock", "reference", "geonetwork", "koeln", "nachbar"}
    builder = DCATBuilder.from_settings(settings, vocab)
    builder.ctx.record_unmapped = True
    graph = builder.whole_graph(index.iter_datasets())
    datasets = set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(DCAT + "Dataset")))
    assert len(datasets) == sum(d for d, _ in counts.values())
    assert_valid(graph, vocab)
    # free-text values no vocabulary knows are reported, not guessed
    assert any(u.vocabulary == "licence" for u in builder.ctx.unmapped)


def record(dataset_id: str, kind: str, **fields: Any) -> Dataset:
    return Dataset(
        id=dataset_id,
        title=f"{kind} {dataset_id}",
        kind=kind,  # type: ignore[arg-type]
        provenance=Provenance(dataset_id, "test", None, dataset_id),
        **fields,
    ).with_hash()


def test_datasets_of_every_kind_written_through_the_index_are_valid(
    tmp_path: Path, index: SQLiteIndex, vocab: Vocabularies
) -> None:
    """Sensor networks and cultural collections (the shared record conventions) are datasets
    like any other; so is a dataset with almost nothing, or with values no vocabulary knows."""
    sensor = record(
        "luft",
        "sensor",
        description="Luftmessnetz",
        keywords=("Luft",),
        themes=("ENVI",),
        publisher=Agent("Umweltamt", email="umwelt@musterstadt.example"),
        contact_point=Contact(name="Umweltamt", email="umwelt@musterstadt.example"),
        licence="CC BY 4.0",
        spatial=(6.7, 51.1, 6.9, 51.3),
        temporal=("2024-01-01T00:00:00Z", None),
        language=("de",),
        distributions=(Distribution(url="https://sensors.example/v1.1", format="JSON"),),
    )
    aggregates = record("luft.aggregates", "sensor", temporal=("2024-01-01", "2024-12-31"))
    culture = record(
        "museum",
        "culture",
        description="Objekte des Stadtmuseums",
        licence="https://creativecommons.org/publicdomain/zero/1.0/",
        access_rights="Anfrage im Lesesaal",
        landing_page="https://museum.example/sammlung mit leerzeichen",
        distributions=(
            Distribution(url="https://museum.example/oai", format="OAI-PMH", media_type="text/xml"),
        ),
    )
    bare = record("bare", "geodata", themes=("not a theme",), language=("xx",), issued="gestern")
    items = [
        Item("t1", "luft", {"type": "Point", "coordinates": [6.8, 51.2]}, {"name": "Thing 1"}),
        Item(
            "o1",
            "museum",
            None,
            {"title": "Vase", "rights": "http://rightsstatements.org/vocab/InC/1.0/"},
        ),
    ]
    index.upsert([sensor, aggregates, culture, bare, *items], run_id="r1")
    index.refresh_datasets(["luft", "museum"])
    settings = city_settings(tmp_path)
    builder = DCATBuilder.from_settings(settings, vocab)
    builder.ctx.record_unmapped = True
    graph = builder.whole_graph(index.iter_datasets())
    assert_valid(graph, vocab)
    unmapped = {(u.vocabulary, u.value) for u in builder.ctx.unmapped}
    assert {("theme", "not a theme"), ("language", "xx"), ("date", "gestern")} <= unmapped
    assert ("file_type", "OAI-PMH") in unmapped and (
        "access_right",
        "Anfrage im Lesesaal",
    ) in unmapped
    dcat = rdflib.Namespace(DCAT)
    dct = rdflib.namespace.DCTERMS
    luft = builder.dataset_uri("luft")
    assert (
        luft,
        dcat.theme,
        rdflib.URIRef("http://publications.europa.eu/resource/authority/data-theme/ENVI"),
    ) in graph
    # the sensor items are served as GeoJSON and HTML through the catalogue's OGC API
    formats = {graph.value(d, dct["format"]) for d in graph.objects(luft, dcat.distribution)}
    assert (
        rdflib.URIRef("http://publications.europa.eu/resource/authority/file-type/GEOJSON")
        in formats
    )
    licences = {graph.value(d, dct.license) for d in graph.objects(luft, dcat.distribution)}
    assert licences == {rdflib.URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")}
    museum = builder.dataset_uri("museum")
    (dist,) = [d for d in graph.objects(museum, dcat.distribution) if "#distribution" in str(d)]
    assert graph.value(dist, dct.license) == rdflib.URIRef("http://dcat-ap.de/def/licenses/cc-zero")
    assert graph.value(dist, dcat.mediaType) == rdflib.URIRef(
        "https://www.iana.org/assignments/media-types/text/xml"
    )
    rights = graph.value(dist, dct.rights)
    assert str(graph.value(rights, rdflib.RDFS.label)) == "Anfrage im Lesesaal"
    # a bare record still gets the mandatory publisher (the catalogue's) and a licence
    bare_node = builder.dataset_uri("bare")
    assert graph.value(bare_node, dct.publisher) == rdflib.URIRef("https://musterstadt.example")


def test_profiles_are_chosen_by_configuration(
    tmp_path: Path, index: SQLiteIndex, vocab: Vocabularies
) -> None:
    dataset = record(
        "p",
        "geodata",
        spatial=(6.7, 51.1, 6.9, 51.3),
        licence="cc-by",
        distributions=(Distribution(url="https://x.example/p.csv", format="CSV"),),
    )
    index.upsert([dataset], run_id="r1")
    dcatde = "http://dcat-ap.de/def/dcatde/"

    def graph(profiles: list[str]) -> rdflib.Graph:
        settings = city_settings(tmp_path).model_copy(
            update={
                "dcat": city_settings(tmp_path).dcat.model_copy(
                    update={
                        "profiles": tuple(profiles),
                        "political_geocoding_uri": "http://dcat-ap.de/def/politicalGeocoding/"
                        "municipalityKey/05111000",
                    }
                )
            }
        )
        return DCATBuilder.from_settings(settings, vocab).whole_graph(index.iter_datasets())

    plain = graph(["dcat-ap-3"])
    assert not any(str(p).startswith(dcatde) for p in plain.predicates())
    assert (None, rdflib.URIRef(DCAT + "centroid"), None) not in plain
    full = graph(["dcat-ap-3", "dcat-ap-de-3", "geodcat-ap"])
    assert (None, rdflib.URIRef(dcatde + "politicalGeocodingURI"), None) in full
    assert (None, rdflib.URIRef(dcatde + "licenseAttributionByText"), None) in full
    assert (None, rdflib.URIRef(DCAT + "centroid"), None) in full
    assert_valid(plain, vocab)
    with pytest.raises(ConfigError, match="unknown profile"):
        graph(["dcat-ap-3", "dcat-ap-fr"])
    with pytest.raises(ConfigError, match="starts with 'dcat-ap-3'"):
        graph(["dcat-ap-de-3"])
