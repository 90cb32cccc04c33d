"""``/dcat`` over HTTP on the live demo: formats and their round trips, content negotiation,
Hydra paging read back by the catalogue's own DCAT harvester, incremental harvesting, ETags,
errors; and recorded real DCAT files harvested and republished."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import rdflib
from ckanapi import RemoteCKAN
from conftest import ROOT, SHARED_DATA, LiveServer, free_port
from rdflib.compare import isomorphic

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Dataset, Provenance
from catalogue.settings import settings_from_dict

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
# plain namespaces: pytest's collection probes module attributes, which rdflib's closed
# namespace classes answer with a warning
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld", "nt": "nt"}
MEDIA = {
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
}
DEMO_TITLES = {
    "Stadtbezirke Düsseldorf (Demo)",
    "Sehenswürdigkeiten und Kultureinrichtungen (Demo)",
    "Mobilstationen (Demo)",
    "Luftqualitätsmessstationen (Demo)",
}


def parse(response: httpx.Response, suffix: str) -> rdflib.Graph:
    assert response.status_code == 200, response.text
    return rdflib.Graph().parse(data=response.content, format=FORMATS[suffix])


def titles(graph: rdflib.Graph) -> set[str]:
    return {str(graph.value(d, DCTERMS.title)) for d in graph.subjects(RDF.type, DCAT.Dataset)}


@pytest.mark.parametrize("path", ["/dcat/catalog", "/dcat/dataset/stadtbezirke"])
def test_every_format_round_trips_to_the_same_graph(http: httpx.Client, path: str) -> None:
    graphs = {}
    for suffix in FORMATS:
        response = http.get(f"{path}.{suffix}")
        assert response.headers["content-type"].startswith(MEDIA[suffix])
        graphs[suffix] = parse(response, suffix)
        # the same by content negotiation
        negotiated = http.get(path, headers={"Accept": f"{MEDIA[suffix]}, */*;q=0.1"})
        assert isomorphic(parse(negotiated, suffix), graphs[suffix])
    assert len(graphs["ttl"]) > 30
    for suffix, graph in graphs.items():
        assert isomorphic(graph, graphs["ttl"]), suffix
    if path == "/dcat/catalog":
        assert titles(graphs["ttl"]) == DEMO_TITLES


def test_json_ld_is_compacted_with_the_documented_context(http: httpx.Client) -> None:
    body = http.get("/dcat/catalog.jsonld").json()
    context = json.loads((ROOT / "vocab" / "dcat-context.jsonld").read_text())["@context"]
    assert body["@context"] == context
    types = {n.get("@type") for n in body["@graph"]}
    assert "dcat:Catalog" in types and "dcat:Dataset" in types
    dataset = next(n for n in body["@graph"] if n.get("@type") == "dcat:Dataset")
    assert "dct:title" in dataset and "dcat:distribution" in dataset


def test_a_dataset_states_what_portals_need(http: httpx.Client) -> None:
    graph = parse(http.get("/dcat/dataset/stadtbezirke.ttl"), "ttl")
    node = rdflib.URIRef(str(http.base_url).rstrip("/") + "/dcat/dataset/stadtbezirke")
    assert graph.value(node, DCTERMS.title) == rdflib.Literal("Stadtbezirke Düsseldorf (Demo)")
    dcatde = rdflib.Namespace("http://dcat-ap.de/def/dcatde/")
    assert str(graph.value(node, dcatde.politicalGeocodingURI)).endswith("municipalityKey/05111000")
    location = next(
        loc for loc in graph.objects(node, DCTERMS.spatial) if (loc, DCAT.bbox, None) in graph
    )
    assert str(graph.value(location, DCAT.bbox)).startswith("POLYGON((")
    publisher = graph.value(node, DCTERMS.publisher)
    assert (publisher, RDF.type, rdflib.namespace.FOAF.Agent) in graph
    accesses = {str(graph.value(d, DCAT.accessURL)) for d in graph.objects(node, DCAT.distribution)}
    assert any(a.endswith("/ogc/collections/stadtbezirke/items?f=json") for a in accesses)
    licence = graph.value(next(iter(graph.objects(node, DCAT.distribution))), DCTERMS.license)
    assert licence == rdflib.URIRef("http://dcat-ap.de/def/licenses/cc-zero")


def test_hydra_pages_read_back_by_the_dcat_harvester(
    http: httpx.Client, demo: LiveServer, tmp_path: Path
) -> None:
    first = parse(http.get("/dcat/catalog.ttl", params={"page": 1, "page_size": 3}), "ttl")
    (page,) = first.subjects(RDF.type, HYDRA.PagedCollection)
    assert int(first.value(page, HYDRA.totalItems)) == 4
    assert str(first.value(page, HYDRA.nextPage)).endswith("page=2")
    assert (page, HYDRA.previousPage, None) not in first
    second = parse(http.get(str(first.value(page, HYDRA.nextPage))), "ttl")
    (page2,) = second.subjects(RDF.type, HYDRA.PagedCollection)
    assert (page2, HYDRA.nextPage, None) not in second
    assert str(second.value(page2, HYDRA.previousPage)).endswith("page=1")
    assert titles(first) | titles(second) == DEMO_TITLES and len(titles(second)) == 1

    settings = settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            "sources": [
                {
                    "name": "nachbar",
                    "type": "dcat",
                    "url": f"{demo.url}/dcat/catalog.ttl?page=1&page_size=3",
                }
            ],
        },
        tmp_path / "c.yml",
        {},
    )
    index = SQLiteIndex(tmp_path / "i.sqlite")
    report = run_harvest(settings, index).sources[0]
    assert (report.status, report.datasets, report.warnings) == ("ok", 4, [])
    harvested = {d.title: d for d in index.iter_datasets()}
    index.close()
    assert set(harvested) == DEMO_TITLES
    poi = harvested["Sehenswürdigkeiten und Kultureinrichtungen (Demo)"]
    assert poi.licence == "http://dcat-ap.de/def/licenses/cc-zero"
    assert len(poi.themes) == 2 and poi.spatial is not None


def test_modified_since_for_incremental_harvesting(http: httpx.Client) -> None:
    everything = titles(
        parse(http.get("/dcat/catalog.ttl", params={"modified_since": "1900-01-01"}), "ttl")
    )
    assert everything == DEMO_TITLES
    # the demo datasets carry no dct:modified: nothing says they did not change
    future = titles(
        parse(http.get("/dcat/catalog.ttl", params={"modified_since": "2999-01-01"}), "ttl")
    )
    assert future == DEMO_TITLES


def test_modified_since_leaves_out_older_datasets(tmp_path: Path) -> None:
    (tmp_path / "catalog.ttl").write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        '<https://x.example/alt> a dcat:Dataset ; dct:title "Alt" ; dct:modified "2023-01-01" .\n'
        '<https://x.example/neu> a dcat:Dataset ; dct:title "Neu" ; dct:modified "2024-06-01" .\n'
        '<https://x.example/ohne> a dcat:Dataset ; dct:title "Ohne Datum" .\n'
    )
    settings = settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            "sources": [{"name": "x", "type": "dcat", "url": "catalog.ttl"}],
        },
        tmp_path / "c.yml",
        {},
    ).with_port(free_port())
    index = SQLiteIndex(tmp_path / "i.sqlite")
    run_harvest(settings, index)
    with LiveServer(settings, index) as server:
        url = f"{server.url}/dcat/catalog.ttl"
        since_2024 = titles(parse(httpx.get(url, params={"modified_since": "2024-01-01"}), "ttl"))
        everything = titles(parse(httpx.get(url), "ttl"))
        bad = httpx.get(f"{server.url}/dcat/catalog", params={"modified_since": "neulich"})
    index.close()
    assert everything == {"Alt", "Neu", "Ohne Datum"}
    # a dataset without dct:modified is always included: nothing says it did not change
    assert since_2024 == {"Neu", "Ohne Datum"}
    assert bad.status_code == 400 and "neulich" in bad.json()["description"]


def test_etag_and_last_modified_let_a_harvester_ask_cheaply(http: httpx.Client) -> None:
    for path in ("/dcat/catalog.ttl", "/dcat/dataset/mobilstationen.jsonld"):
        first = http.get(path)
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        assert http.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert http.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
        assert http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    other = http.get("/dcat/catalog.nt").headers["etag"]
    assert other != http.get("/dcat/catalog.ttl").headers["etag"]


def test_a_deleted_dataset_moves_the_catalogues_last_modified(tmp_path: Path) -> None:
    """A portal asking "changed since?" must hear about deletions too."""
    import time

    settings = settings_from_dict({"index": {"path": "i.sqlite"}}, tmp_path / "c.yml", {})
    index = SQLiteIndex(tmp_path / "i.sqlite")
    index.upsert(
        [
            Dataset(
                id=f"x.{n}", title=f"Datensatz {n}", provenance=Provenance("x", "dcat", None, n)
            )
            for n in ("a", "b")
        ],
        run_id="r1",
    )
    with LiveServer(settings.with_port(free_port()), index) as server:
        url = f"{server.url}/dcat/catalog.ttl"
        before = httpx.get(url).headers["last-modified"]
        time.sleep(1.1)  # HTTP dates have whole seconds
        index.delete_datasets(["x.b"])
        after = httpx.get(url)
        assert after.headers["last-modified"] != before
        assert httpx.get(url, headers={"If-Modified-Since": before}).status_code == 200
        assert (
            httpx.get(
                url, headers={"If-Modified-Since": after.headers["last-modified"]}
            ).status_code
            == 304
        )
    index.close()


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/dcat/catalog", {"Accept": "text/html"}, 406),
        ("/dcat/catalog.csv", {}, 404),
        ("/dcat/catalog?page=0", {}, 400),
        ("/dcat/catalog?page=1&page_size=100000", {}, 400),
        ("/dcat/catalog?page=eins", {}, 400),
        (f"/dcat/catalog?page={10**22}", {}, 400),
        ("/dcat/dataset/gibt-es-nicht", {}, 404),
        ("/dcat/dataset/gibt-es-nicht.ttl", {}, 404),
        ("/dcat/dataset/gibt%0Aes-nicht", {}, 404),
    ],
)
def test_bad_requests_get_a_clear_error(
    http: httpx.Client, path: str, headers: dict[str, str], status: int
) -> None:
    response = http.get(path, headers=headers)
    assert response.status_code == status
    assert response.json()["description"]


def test_quality_score_in_the_record_and_the_ckan_package(
    http: httpx.Client, demo: LiveServer
) -> None:
    record = http.get("/ogc/collections/catalogue/items/stadtbezirke", params={"f": "json"}).json()
    quality = record["properties"]["quality"]
    # the demo districts have everything but a contact point
    assert quality["missing"] == ["dcat:contactPoint"]
    assert quality["score"] == 0.9
    package = RemoteCKAN(demo.url).action.package_show(id="stadtbezirke")
    assert package["quality_score"] == 0.9


def test_recorded_dcat_files_harvested_and_republished(tmp_path: Path) -> None:
    """Rostock's DCAT-AP.de dataset and the official reference example keep their datasets,
    titles, licences and distributions when the catalogue republishes them."""
    fixtures = SHARED_DATA / "fixtures" / "dcat"
    files = {
        "rostock": (fixtures / "ckanext-dcat_dataset_gov_de_rostock.rdf", "xml"),
        "reference": (fixtures / "dcat-ap-de-2.0_RefImp_ADVANCED.ttl", "turtle"),
    }
    settings = settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            "harvest": {"file_roots": [str(fixtures)]},
            "sources": [
                {"name": name, "type": "dcat", "url": str(path)}
                for name, (path, _) in files.items()
            ],
        },
        tmp_path / "c.yml",
        {},
    ).with_port(free_port())
    index = SQLiteIndex(tmp_path / "i.sqlite")
    run_harvest(settings, index)
    with LiveServer(settings, index) as server:
        out = parse(httpx.get(f"{server.url}/dcat/catalog.ttl", timeout=30), "ttl")
    index.close()
    republished = {
        str(out.value(d, DCTERMS.title)): d for d in out.subjects(RDF.type, DCAT.Dataset)
    }
    for path, fmt in files.values():
        original = rdflib.Graph().parse(path, format=fmt)
        for dataset in original.subjects(RDF.type, DCAT.Dataset):
            title = original.value(dataset, DCTERMS.title)
            if title is None:
                continue
            assert str(title) in republished, title
            node = republished[str(title)]
            theirs = {
                str(original.value(d, DCAT.accessURL) or original.value(d, DCAT.downloadURL))
                for d in original.objects(dataset, DCAT.distribution)
            }
            ours = {str(out.value(d, DCAT.accessURL)) for d in out.objects(node, DCAT.distribution)}
            assert theirs <= ours, title
            their_licences = {
                str(original.value(d, DCTERMS.license))
                for d in original.objects(dataset, DCAT.distribution)
                if original.value(d, DCTERMS.license) is not None
            }
            our_licences = {
                str(out.value(d, DCTERMS.license)) for d in out.objects(node, DCAT.distribution)
            }
            assert their_licences <= our_licences, title


def test_a_broken_record_is_left_out_not_fatal(tmp_path: Path) -> None:
    """A record the index holds but DCAT cannot describe (a landing page that is not text,
    as a careless harvester might write) is left out of the catalogue; the others are served."""
    settings = settings_from_dict({"index": {"path": "i.sqlite"}}, tmp_path / "c.yml", {})
    index = SQLiteIndex(tmp_path / "i.sqlite")
    good = Dataset(id="gut", title="Gut", provenance=Provenance("s", "t", None, "gut"))
    broken = Dataset(
        id="kaputt",
        title="Kaputt",
        landing_page=42,  # type: ignore[arg-type]
        provenance=Provenance("s", "t", None, "k"),
    )
    index.upsert([good.with_hash(), broken.with_hash()], run_id="r")
    with LiveServer(settings.with_port(free_port()), index) as server:
        response = httpx.get(f"{server.url}/dcat/catalog.ttl")
        paged = httpx.get(f"{server.url}/dcat/catalog.ttl?page=1")
    index.close()
    assert titles(parse(response, "ttl")) == {"Gut"} == titles(parse(paged, "ttl"))
