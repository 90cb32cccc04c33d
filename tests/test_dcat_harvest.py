"""The DCAT source type: recorded real catalogues, Hydra paging, quirky values, unsafe XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rdflib
from conftest import SHARED_DATA
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict

DCAT_FIXTURES = SHARED_DATA / "fixtures" / "dcat"
ROSTOCK = DCAT_FIXTURES / "ckanext-dcat_dataset_gov_de_rostock.rdf"
REFERENCE = DCAT_FIXTURES / "dcat-ap-de-2.0_RefImp_ADVANCED.ttl"


def settings(tmp_path: Path, url: str, **options: Any) -> Any:
    return settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            # the recorded files lie beside the checkout, outside the default folders
            "harvest": {"backoff": 0.01, "file_roots": [str(DCAT_FIXTURES)]},
            "sources": [{"name": "dcat", "type": "dcat", "url": url, **options}],
        },
        tmp_path / "c.yml",
        {},
    )


def test_a_recorded_dcat_ap_de_dataset_over_http(tmp_path: Path, index: SQLiteIndex) -> None:
    with Upstream(DCAT_FIXTURES) as upstream:
        report = run_harvest(settings(tmp_path, upstream.url(ROSTOCK.name)), index).sources[0]
    assert (report.status, report.datasets, report.warnings) == ("ok", 1, [])
    dataset = next(index.iter_datasets())
    assert dataset.title == "Liefer- und Abholservices (Gastronomie)"
    assert dataset.provenance.source_identifier == "c1be4007-d811-48fb-8818-2cb358b06a63"
    assert "gastronomiebetriebe" in dataset.keywords and len(dataset.keywords) == 8
    assert dataset.themes == ("http://publications.europa.eu/resource/authority/data-theme/ECON",)
    assert dataset.issued == "2020-04-21T11:59:39Z" and dataset.modified == "2024-05-08T04:11:24Z"
    assert dataset.language == ("deu",)
    assert dataset.extras["contributorID"] == "http://dcat-ap.de/def/contributors/openDataHRO"
    assert dataset.extras["politicalGeocodingURI"].endswith("regionalKey/130030000000")
    graph = rdflib.Graph().parse(ROSTOCK, format="xml")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    assert len(dataset.distributions) == len(set(graph.objects(None, dcat.distribution)))
    assert dataset.licence and dataset.licence.startswith("http")
    assert dataset.spatial is not None  # dcat:bbox / locn:geometry of dct:spatial


def test_the_official_dcat_ap_de_example_from_a_file(tmp_path: Path, index: SQLiteIndex) -> None:
    graph = rdflib.Graph().parse(REFERENCE, format="turtle")
    expected = {
        str(o)
        for o in graph.objects(None, rdflib.URIRef("http://purl.org/dc/terms/title"))
        if (None, rdflib.URIRef("http://purl.org/dc/terms/title"), o) in graph
    }
    report = run_harvest(settings(tmp_path, str(REFERENCE)), index).sources[0]
    titles = {d.title for d in index.iter_datasets()}
    assert report.status == "ok" and report.datasets == len(titles) >= 2
    assert titles <= expected and "Badegewässer in Hamburg" in titles
    hamburg = next(d for d in index.iter_datasets() if d.title == "Badegewässer in Hamburg")
    assert hamburg.publisher is not None and hamburg.contact_point is not None


PAGE = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{base}/catalog.ttl?page={page}> a hydra:PartialCollectionView ;
    hydra:totalItems 6 {next} .
{datasets}
"""


def page(
    base: str, number: int, ids: list[int], next_page: int | None, modified: str = "2024-01-01"
) -> str:
    datasets = "\n".join(
        f'<{base}/ds/{i}> a dcat:Dataset ; dct:identifier "ds-{i}" ; '
        f'dct:title "Datensatz {i}"@de ; dct:modified "{modified}"^^xsd:date .'
        for i in ids
    )
    nxt = f"; hydra:next <{base}/catalog.ttl?page={next_page}>" if next_page else ""
    return PAGE.format(base=base, page=number, next=nxt, datasets=datasets)


def test_hydra_pages_a_bad_date_a_shortfall_and_a_loop(tmp_path: Path, index: SQLiteIndex) -> None:
    with Upstream(tmp_path) as upstream:
        base = upstream.url("").rstrip("/")
        pages = {
            "1": page(base, 1, [1, 2], 2),
            "2": page(base, 2, [3, 4], 3, modified="gestern"),
            "3": page(base, 3, [5], 1),  # points back to the first page
        }

        def serve(handler: Any) -> None:
            number = handler.path.split("page=")[-1] if "page=" in handler.path else "1"
            body = pages[number].encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/turtle; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        upstream.routes["/catalog.ttl"] = serve
        report = run_harvest(settings(tmp_path, upstream.url("catalog.ttl")), index).sources[0]
    assert report.status == "ok" and report.datasets == 5
    assert any("'gestern' is not a date" in w for w in report.warnings)
    assert any("read before; paging stopped" in w for w in report.warnings)
    assert any("promised 6 datasets and delivered 5" in w for w in report.warnings)
    kept = index.get_dataset("dcat.ds-3")
    assert kept is not None and kept.modified is None and kept.title == "Datensatz 3"


def test_rdf_xml_declaring_entities_is_refused(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "evil.rdf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&x;</rdf:RDF>\n'
    )
    report = run_harvest(settings(tmp_path, str(tmp_path / "evil.rdf")), index).sources[0]
    assert report.status == "failed" and "unsafe XML" in (report.error or "")


def test_json_ld_and_n_triples_of_the_same_catalogue(tmp_path: Path, index: SQLiteIndex) -> None:
    graph = rdflib.Graph().parse(ROSTOCK, format="xml")
    (tmp_path / "catalog.jsonld").write_text(graph.serialize(format="json-ld"))
    (tmp_path / "catalog.nt").write_text(graph.serialize(format="nt"))
    titles = []
    for name in ("catalog.jsonld", "catalog.nt"):
        ix = SQLiteIndex(tmp_path / f"{name}.sqlite")
        report = run_harvest(settings(tmp_path, str(tmp_path / name)), ix).sources[0]
        assert report.status == "ok" and report.datasets == 1, report.error
        titles.append(next(ix.iter_datasets()).title)
        ix.close()
    assert titles == ["Liefer- und Abholservices (Gastronomie)"] * 2


def test_malformed_turtle_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "broken.ttl").write_text('<a> <b> "an unclosed string .\n')
    report = run_harvest(settings(tmp_path, str(tmp_path / "broken.ttl")), index).sources[0]
    assert report.status == "failed" and "not valid turtle" in (report.error or "")
