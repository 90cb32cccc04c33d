"""The DCAT writers (Turtle, N-Triples and JSON-LD written straight from the mapping's triples)
against rdflib and pyld: hostile values through a real SQLite index and the real app, the demo,
the recorded DCAT files; the served documents parsed by rdflib must be the graph rdflib builds
from the same triples, the direct JSON-LD compaction must be pyld's, and what is served must
pass the official shapes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import rdflib
from conftest import SHARED_DATA, LiveServer, free_port
from lxml import etree
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from test_dcat_validation import DCAT_AP, DCAT_AP_DE, violations

from catalogue.dcat.graph import DCATBuilder
from catalogue.dcat.json_ld import Compactor, expanded_nodes, prefixes_only
from catalogue.dcat.serialize import BY_SUFFIX, NOT_XML, Serializer, load_context
from catalogue.dcat.triples import Lit, Triples, to_graph
from catalogue.dcat.validation import validate
from catalogue.dcat.vocab import Vocabularies, default_vocab_dir
from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Agent, Contact, Dataset, Distribution, Provenance
from catalogue.settings import Settings, settings_from_dict

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
PARSE = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
CONTEXT = load_context(default_vocab_dir())
ROSTOCK = "ckanext-dcat_dataset_gov_de_rostock.rdf"

HOSTILE = [
    'a "quoted" word',
    "back\\slash \\n \\u0041 \\",
    "line\nbreak\r\nand\ttab",
    'ends with a quote"',
    'three """ quotes """',
    "'''single'''",
    "Grüße, ÆØÅ, 北京, Ελληνικά, emoji 🚲, RTL \u202e\u200f, line sep \u2028",
    "controls \x00 \x07 \x0b \x1b \x7f end",
    "",
    "   ",
    "<http://not.an/iri> ; . @prefix x: <y> .",
    '{"@id": "x", "@value": 1}',
    "dct:title",
]


def hostile_records() -> list[Dataset]:
    out = []
    for n, text in enumerate(HOSTILE):
        out.append(
            Dataset(
                id=f"hostile {n} {text[:8]}/ä<>",
                title=f"Feindlich {n}: {text}",
                description=text or None,
                keywords=(text, f"{text} 2", "   "),
                themes=("ENVI", text),
                publisher=Agent(
                    text or "Amt", url=f"https://amt.example/{text}", email=f"a b{n}@x.example"
                ),
                contact_point=Contact(
                    name=text or None,
                    email=f"kontakt{n}@x.example",
                    url=f"http://x.example/ü {text}",
                    phone="+49 211 89-0",
                ),
                licence=text or "cc-by",
                access_rights=text or None,
                spatial=(6.7, 51.1, 6.9 + n / 100, 51.3),
                temporal=("2024-01-01T00:00:00Z", "2024-12-31"),
                issued="2023-05-06T07:08:09+0100",
                modified="2024-02-30",
                language=("de", text),
                landing_page=f"https://x.example/{text}",
                distributions=(
                    Distribution(
                        url=f"https://x.example/d {text}",
                        title=text or None,
                        description=text or None,
                        media_type=f'text/"{n}"',
                        format=text or None,
                        licence=text or None,
                    ),
                    Distribution(
                        url="https://x.example/a.csv",
                        format="CSV",
                        media_type="text/csv; charset=utf-8",
                        download_url="https://x.example/ä.csv",
                    ),
                ),
                extras={
                    "contributorID": [f"http://dcat-ap.de/def/contributors/x {n}"],
                    "politicalGeocodingURI": "http://dcat-ap.de/def/politicalGeocoding/"
                    "municipalityKey/05111000",
                },
                item_count=n,
                provenance=Provenance("feindlich", "test", f"https://src.example/?q={text}", text),
            ).with_hash()
        )
    return out


def catalogue_settings(tmp_path: Path) -> Settings:
    return settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            "catalogue": {"title": 'Katalog "Feindlich"', "licence": "dl-de/by-2-0"},
            "dcat": {"profiles": ["dcat-ap-3", "dcat-ap-de-3", "geodcat-ap"]},
        },
        tmp_path / "c.yml",
        {},
    ).with_port(free_port())


def expected_graph(builder: DCATBuilder, datasets: list[Dataset]) -> rdflib.Graph:
    """The graph rdflib builds from the mapping's triples."""
    return to_graph([builder.catalog_triples(), *map(builder.dataset_triples, datasets)])


def assert_same_graph(served: rdflib.Graph, expected: rdflib.Graph) -> None:
    if not isomorphic(served, expected):
        _, extra, missing = graph_diff(to_isomorphic(served), to_isomorphic(expected))
        raise AssertionError(f"served only: {sorted(extra)[:5]}\nbuilt only: {sorted(missing)[:5]}")


@pytest.fixture(scope="module")
def vocab() -> Vocabularies:
    return Vocabularies.load()


@pytest.fixture()
def hostile_server(tmp_path: Path) -> Iterator[tuple[LiveServer, list[Dataset], Settings]]:
    settings = catalogue_settings(tmp_path)
    index = SQLiteIndex(tmp_path / "i.sqlite")
    index.upsert(hostile_records(), run_id="r")
    stored = sorted(index.iter_datasets(), key=lambda d: d.id)
    assert len(stored) == len(HOSTILE)
    with LiveServer(settings, index) as server:
        yield server, stored, settings
    index.close()


@pytest.fixture()
def recorded_server(tmp_path: Path) -> Iterator[tuple[LiveServer, list[Dataset], Settings]]:
    settings = recorded_settings(tmp_path)
    index = SQLiteIndex(tmp_path / "r.sqlite")
    run_harvest(settings, index)
    stored = list(index.iter_datasets())
    assert len(stored) == 3
    with LiveServer(settings, index) as server:
        yield server, stored, settings
    index.close()


@pytest.fixture()
def demo_catalogue(demo: LiveServer) -> tuple[LiveServer, list[Dataset], Settings]:
    index = SQLiteIndex(demo.settings.index.path)  # type: ignore[arg-type]
    stored = list(index.iter_datasets())
    index.close()
    return demo, stored, demo.settings


@pytest.mark.parametrize("suffix", ["ttl", "nt", "jsonld"])
@pytest.mark.parametrize("catalogue", ["hostile_server", "recorded_server", "demo_catalogue"])
def test_what_is_served_is_the_graph_rdflib_builds(
    request: pytest.FixtureRequest, catalogue: str, suffix: str, vocab: Vocabularies
) -> None:
    """Hostile values, the recorded real DCAT files and the demo, whole and paged."""
    server, stored, settings = request.getfixturevalue(catalogue)
    expected = expected_graph(DCATBuilder.from_settings(settings, vocab), stored)
    whole = httpx.get(f"{server.url}/dcat/catalog.{suffix}", timeout=30)
    assert whole.status_code == 200
    served = rdflib.Graph().parse(data=whole.content, format=PARSE[suffix])
    assert_same_graph(served, expected)
    # every dataset is there, its texts unchanged
    titles = {str(served.value(d, DCTERMS.title)) for d in served.subjects(RDF.type, DCAT.Dataset)}
    assert titles == {d.title for d in stored}
    # pages hold the same triples as the whole catalogue, plus their Hydra node
    paged = rdflib.Graph()
    for page in range(1, -(-len(stored) // 2) + 1):
        response = httpx.get(
            f"{server.url}/dcat/catalog.{suffix}", params={"page": page, "page_size": 2}
        )
        paged.parse(data=response.content, format=PARSE[suffix])
    for node in set(paged.subjects(RDF.type, HYDRA.PagedCollection)):
        paged.remove((node, None, None))
    assert_same_graph(paged, expected)
    one = stored[-1]
    response = httpx.get(f"{server.url}/dcat/dataset/{quote(one.id, safe='')}.{suffix}")
    single = rdflib.Graph().parse(data=response.content, format=PARSE[suffix])
    assert_same_graph(single, DCATBuilder.from_settings(settings, vocab).dataset_graph(one))


def test_hostile_values_keep_their_meaning(
    hostile_server: tuple[LiveServer, list[Dataset], Settings],
) -> None:
    server, stored, _ = hostile_server
    body = httpx.get(f"{server.url}/dcat/catalog.ttl", timeout=30).content
    graph = rdflib.Graph().parse(data=body, format="turtle")
    # the XSD form as written (rdflib would normalize "+0100" when reading it back)
    assert body.count(b'"2023-05-06T07:08:09+01:00"^^xsd:dateTime') == len(stored)
    assert b"+0100" not in body
    for dataset in stored:
        node = next(
            d
            for d in graph.subjects(RDF.type, DCAT.Dataset)
            if graph.value(d, DCTERMS.identifier) == rdflib.Literal(dataset.id)
        )
        assert str(graph.value(node, DCTERMS.description)) == (dataset.description or dataset.title)
        # an e-mail address with a space becomes a percent-encoded IRI, not a broken document
        publisher = graph.value(node, DCTERMS.publisher)
        assert str(graph.value(publisher, FOAF.mbox)).startswith("mailto:a%20b")
        # dates in XSD form; a date that does not exist is left out
        issued = graph.value(node, DCTERMS.issued)
        assert str(issued) == "2023-05-06T07:08:09+01:00" and not issued.ill_typed
        assert graph.value(node, DCTERMS.modified) is None


def test_rdf_xml_is_well_formed_with_what_xml_cannot_carry_replaced(
    hostile_server: tuple[LiveServer, list[Dataset], Settings], vocab: Vocabularies
) -> None:
    """XML 1.0 has no way to write most control characters: RDF/XML carries U+FFFD instead,
    everything else as in the other formats."""
    server, stored, settings = hostile_server
    body = httpx.get(f"{server.url}/dcat/catalog.rdf", timeout=30).content
    etree.fromstring(body, etree.XMLParser(resolve_entities=False))  # well-formed
    served = rdflib.Graph().parse(data=body, format="xml")
    expected = rdflib.Graph()
    for s, p, o in expected_graph(DCATBuilder.from_settings(settings, vocab), stored):
        if isinstance(o, rdflib.Literal):
            text = NOT_XML.sub("\ufffd", str(o))
            o = rdflib.Literal(text, lang=o.language, datatype=o.datatype)
        expected.add((s, p, o))
    assert_same_graph(served, expected)
    titles = {str(served.value(d, DCTERMS.title)) for d in served.subjects(RDF.type, DCAT.Dataset)}
    assert "Feindlich 7: controls \ufffd \ufffd \ufffd \ufffd \x7f end" in titles


def test_the_direct_json_ld_compaction_is_pyld_s(
    hostile_server: tuple[LiveServer, list[Dataset], Settings],
    demo: LiveServer,
    tmp_path: Path,
    vocab: Vocabularies,
) -> None:
    """Node by node, key order included, for hostile datasets, the demo and the recorded DCAT
    files."""
    compactor = Compactor(CONTEXT)
    assert compactor.prefixes is not None
    _, stored, settings = hostile_server
    parts = [DCATBuilder.from_settings(settings, vocab).dataset_triples(d) for d in stored]
    demo_index = SQLiteIndex(demo.settings.index.path)  # type: ignore[arg-type]
    demo_builder = DCATBuilder.from_settings(demo.settings, vocab)
    parts += [demo_builder.catalog_triples()]
    parts += [demo_builder.dataset_triples(d) for d in demo_index.iter_datasets()]
    demo_index.close()
    parts += [recorded_triples(tmp_path, vocab)]
    parts.append(odd_triples())
    for triples in parts:
        ours = compactor.nodes([triples])
        theirs = compactor.with_pyld(expanded_nodes(triples))
        assert json.dumps(ours, ensure_ascii=False) == json.dumps(theirs, ensure_ascii=False)


def recorded_settings(tmp_path: Path) -> Settings:
    """The recorded real DCAT files (Rostock's DCAT-AP.de, the DCAT-AP.de reference) as sources."""
    fixtures = SHARED_DATA / "fixtures" / "dcat"
    return settings_from_dict(
        {
            "index": {"path": "r.sqlite"},
            "harvest": {"file_roots": [str(fixtures)]},
            "sources": [
                {"name": f"recorded-{n}", "type": "dcat", "url": str(fixtures / name)}
                for n, name in enumerate(
                    (
                        "ckanext-dcat_dataset_gov_de_rostock.rdf",
                        "dcat-ap-de-2.0_RefImp_ADVANCED.ttl",
                    )
                )
            ],
        },
        tmp_path / "r.yml",
        {},
    ).with_port(free_port())


def recorded_triples(tmp_path: Path, vocab: Vocabularies) -> Triples:
    settings = recorded_settings(tmp_path)
    index = SQLiteIndex(tmp_path / "r.sqlite")
    run_harvest(settings, index)
    builder = DCATBuilder.from_settings(settings, vocab)
    out = Triples()
    for dataset in index.iter_datasets():
        out.update(builder.dataset_triples(dataset))
    index.close()
    assert len(out) > 100
    return out


def odd_triples() -> Triples:
    """What the mapping does not write today but a writer must get right."""
    t = Triples()
    s = "http://purl.org/dc/terms/"  # an IRI that is a prefix's namespace
    t.add(s, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", s)
    t.add(s, s, Lit("x", "de-DE-1996"))
    t.add(s, "http://x.example/p", Lit("1", datatype="http://x.example/dt#int"))
    t.add(s, "http://x.example/p", Lit("", datatype="http://www.w3.org/2001/XMLSchema#string"))
    t.add(s, "http://www.w3.org/ns/dcat#", "http://www.w3.org/ns/dcat#x/y")
    t.add("http://x.example/ä/€", "http://xmlns.com/foaf/0.1/name", Lit("EN", "EN"))
    t.add("mailto:x@y.example", "http://xmlns.com/foaf/0.1/mbox", "tel:+49")
    return t


def test_odd_terms_round_trip_in_every_format() -> None:
    triples = odd_triples()
    for suffix, parse in PARSE.items():
        body = Serializer(BY_SUFFIX[suffix], CONTEXT).whole([triples])
        assert_same_graph(rdflib.Graph().parse(data=body, format=parse), triples.graph())


def test_a_dataset_that_cannot_be_written_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good, bad_iri, bad_lang = Triples(), Triples(), Triples()
    good.add("http://x.example/good", "http://purl.org/dc/terms/title", Lit("gut"))
    bad_iri.add("http://x.example/a b", "http://purl.org/dc/terms/title", Lit("kaputt"))
    bad_lang.add("http://x.example/c", "http://purl.org/dc/terms/title", Lit("x", "de DE"))
    for suffix in ("ttl", "nt"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="catalogue.dcat"):
            body = Serializer(BY_SUFFIX[suffix], CONTEXT).whole([good, bad_iri, bad_lang, good])
        graph = rdflib.Graph().parse(data=body, format=PARSE[suffix])
        assert_same_graph(graph, good.graph())
        assert "http://x.example/a b" in caplog.text and "'de DE'" in caplog.text


def test_a_context_with_more_than_prefixes_is_compacted_by_pyld() -> None:
    context = {**CONTEXT, "title": {"@id": "http://purl.org/dc/terms/title", "@language": "de"}}
    assert prefixes_only(context) is None
    triples = odd_triples()
    triples.add("http://x.example/d", "http://purl.org/dc/terms/title", Lit("Titel", "de"))
    body = json.loads(Serializer(BY_SUFFIX["jsonld"], context).whole([triples]))
    assert {"@id": "http://x.example/d", "title": "Titel"} in body["@graph"]
    assert_same_graph(
        rdflib.Graph().parse(data=json.dumps(body), format="json-ld"), triples.graph()
    )


@pytest.mark.parametrize(
    "context",
    [
        {"@vocab": "http://x.example/"},
        {"dct": "http://purl.org/dc/terms/", "dc": "http://purl.org/dc/terms/"},
        {"x": "http://x.example/a"},  # not ending in a gen-delim: not a prefix in JSON-LD 1.1
        {"x:y": "http://x.example/"},
        {"http": "http://x.example/"},
        {"x": {"@id": "http://x.example/"}},
    ],
)
def test_only_prefix_contexts_are_compacted_directly(context: dict[str, object]) -> None:
    assert prefixes_only(context) is None


def test_served_pages_pass_the_official_shapes(http: httpx.Client, vocab: Vocabularies) -> None:
    """What the writers serve, read back, against DCAT-AP 3.0.1 and DCAT-AP.de 3.0."""
    for suffix, params in (("ttl", {"page": 1, "page_size": 3}), ("jsonld", {})):
        response = http.get(f"/dcat/catalog.{suffix}", params=params)
        graph = rdflib.Graph().parse(data=response.content, format=PARSE[suffix])
        for node in set(graph.subjects(RDF.type, HYDRA.PagedCollection)):
            graph.remove((node, None, None))
        assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == (3 if params else 4)
        for shapes in (DCAT_AP, DCAT_AP_DE):
            assert violations(validate(graph, shapes, vocab.graph)) == [], shapes[0].name


def test_hydra_links_keep_a_modified_since_with_an_offset(http: httpx.Client) -> None:
    since = "2000-01-01T00:00:00+01:00"
    first = rdflib.Graph().parse(
        data=http.get(
            "/dcat/catalog.ttl", params={"page": 1, "page_size": 2, "modified_since": since}
        ).content,
        format="turtle",
    )
    (page,) = first.subjects(RDF.type, HYDRA.PagedCollection)
    following = http.get(str(first.value(page, HYDRA.nextPage)))
    assert following.status_code == 200, following.text
    second = rdflib.Graph().parse(data=following.content, format="turtle")
    (page2,) = second.subjects(RDF.type, HYDRA.PagedCollection)
    assert str(second.value(page2, HYDRA.previousPage)) == str(first.value(page, HYDRA.firstPage))
