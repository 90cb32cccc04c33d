"""OAI-PMH sources: recorded real records (Dublin Core, EDM, LIDO 1.0/1.1) served by a local
repository stand-in; resumption tokens, incremental runs with deleted records, sets, faults."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import SHARED_DATA, LiveServer, free_port
from oai_upstream import OAIRepository, Record, recorded_metadata
from upstream import Upstream, status

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery
from catalogue.settings import Settings, settings_from_dict

OAI_FIXTURES = SHARED_DATA / "fixtures" / "oai-pmh"
DUBLIN_CORE = recorded_metadata(
    OAI_FIXTURES / "europeana-metis_GetRecord_oai_dc_mediateka-centrumzamenhofa.xml"
)
EDM = recorded_metadata(OAI_FIXTURES / "europeana_oai_GetRecord_edm_mauritshuis_670.xml")
LIDO_DDB = recorded_metadata(OAI_FIXTURES / "lido_ddb_museum-digital_oderberg.xml")
LIDO_11 = recorded_metadata(OAI_FIXTURES / "lido-v1.1_official-example_LaPrimavera.xml")
DC_NS = 'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"'


def dc(title: str | None, **more: str) -> str:
    fields = ([f"<dc:title>{title}</dc:title>"] if title else []) + [
        f"<dc:{k}>{v}</dc:{k}>" for k, v in more.items()
    ]
    return f"<oai_dc:dc {DC_NS}>{''.join(fields)}</oai_dc:dc>"


@pytest.fixture()
def repo(tmp_path: Path) -> Iterator[OAIRepository]:
    with Upstream(tmp_path) as up:
        yield OAIRepository(up)


def settings_for(tmp_path: Path, *sources: dict[str, Any]) -> Settings:
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "server": {"port": free_port()},
            "harvest": {"backoff": 0.01, "retries": 0},
            "sources": list(sources),
        },
        tmp_path / "catalogue.yml",
        {},
    )


def source(name: str, url: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "type": "oai-pmh", "url": url, "title": name.title(), **options}


def test_dublin_core_edm_and_lido_records_become_searchable_cultural_objects(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [
        Record("oai:mediateka.centrumzamenhofa.pl:19", "2017-08-22", DUBLIN_CORE),
        Record(
            "http://data.europeana.eu/item/2021672/resource_document_mauritshuis_670",
            "2017-08-02",
            EDM,
        ),
        Record("oai:museum-digital:78541", "2024-03-25", LIDO_DDB),
        Record("oai:bildindex:obj00154983", "2024-01-01", LIDO_11),
    ]
    settings = settings_for(
        tmp_path,
        source("mediateka", repo.url),
        source("europeana", repo.url, metadata_format="edm", prefer_language="en"),
        source(
            "museen", repo.url, metadata_format="lido", metadata_prefix="lido", prefer_language="en"
        ),
    )
    reports = run_harvest(settings, index).sources
    assert [r.status for r in reports] == ["ok", "ok", "ok"]
    # each format reader takes what it can read; the others are reported, not fatal
    assert [r.items for r in reports] == [1, 1, 2]

    photo = index.get_item("mediateka", "oai:mediateka.centrumzamenhofa.pl:19")
    assert photo is not None and photo.geometry is None
    p = photo.properties
    assert p["title"] == "Fotografowie z zakładu przy ul. Kocha, Białystok,ok. 1942 r."
    assert p["creators"] == ["Dawdo Danuta"] and p["date"] == "1942"
    assert p["rights"] == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert p["institution"] == "Mediateka Centrum im. Ludwika Zamenhofa w Białymstoku"
    assert p["record_url"] == "http://www.mediateka.centrumzamenhofa.pl/photos/?show_image=19"
    assert p["thumbnail"].endswith("PL_2004_1_1_2_002-large.jpg")
    assert (photo.time_start, photo.time_end) == ("1942-01-01T00:00:00Z", "1942-12-31T23:59:59Z")

    (vermeer,) = index.search_items("europeana", SearchQuery(text="Vermeer")).records
    v = vermeer.properties
    assert (v["title"], v["creators"], v["object_type"]) == (
        "Girl with a Pearl Earring",
        ["Johannes Vermeer"],
        "painting",
    )
    assert v["rights"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert v["institution"] == "Mauritshuis" and "canvas" in v["materials"]
    assert (
        v["record_url"] == "https://www.europeana.eu/item/2021672/resource_document_mauritshuis_670"
    )
    assert v["thumbnail"] == "https://www.mauritshuis.nl/media/wlola5to/0670_repro_2.jpg"
    assert vermeer.time_start == "1665-01-01T00:00:00Z"
    assert "/" not in vermeer.id  # usable in /items/{id}

    akte = index.get_item("museen", "oai:museum-digital:78541")
    assert akte is not None
    assert akte.geometry == {"type": "Point", "coordinates": [14.04625893, 52.86333084]}
    a = akte.properties
    assert (a["title"], a["object_type"], a["materials"]) == ("Akte I 11", "Magistrat", ["Papier"])
    assert a["institution"] == "Binnenschifffahrts-Museum Oderberg"
    assert a["subjects"] == ["Fisher", "Deutsche Schrift", "Insurance policy"]
    assert a["record_url"] == "https://brandenburg.museum-digital.de/object/78541"
    primavera = index.get_item("museen", "oai:bildindex:obj00154983")
    assert primavera is not None
    q = primavera.properties
    assert (q["title"], q["creators"]) == ("Spring", ["Botticelli, Sandro"])
    assert q["object_type"] == "painting (visual work)" and "poplar (wood)" in q["materials"]
    assert (primavera.time_start, primavera.time_end) == (
        "1480-01-01T00:00:00Z",
        "1485-12-31T23:59:59Z",
    )
    assert primavera.geometry == {"type": "Point", "coordinates": [11.2559, 43.768439]}
    dataset = index.get_dataset("museen")
    assert dataset is not None and dataset.kind == "culture"

    # through the OGC API: full text, and a record without a location is found too
    with LiveServer(settings, index) as server:
        found = httpx.get(
            f"{server.url}/ogc/collections/mediateka/items", params={"q": "Białystok"}, timeout=30
        ).json()
        assert [f["properties"]["title"] for f in found["features"]] == [p["title"]]
        assert found["features"][0]["geometry"] is None
        dated = httpx.get(
            f"{server.url}/ogc/collections/museen/items",
            params={"datetime": "1483-06-01T00:00:00Z"},
            timeout=30,
        ).json()
        assert [f["id"] for f in dated["features"]] == ["oai:bildindex:obj00154983"]


def test_an_incremental_run_that_fell_short_is_read_again(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record(f"oai:x:{n}", "2024-01-01", dc(f"Objekt {n}")) for n in range(5)]
    repo.now = "2024-06-01T12:00:00Z"
    settings = settings_for(tmp_path, source("archiv", repo.url))
    assert run_harvest(settings, index).sources[0].items == 5

    repo.now = "2024-06-02T12:00:00Z"
    repo.records = [
        Record(f"oai:x:{n}", "2024-06-01T13:00:00Z", dc(f"Objekt {n} (korrigiert)"))
        for n in range(5)
    ]
    repo.promise_extra = 1  # one changed record did not arrive
    report = run_harvest(settings, index).sources[0]
    assert report.status == "ok" and report.warnings[-1].startswith(
        "the source was not read to its end, so the next run reads again"
    )
    repo.upstream.requests.clear()
    repo.now, repo.promise_extra = "2024-06-03T12:00:00Z", 0
    assert run_harvest(settings, index).sources[0].warnings == []
    first = parse_qs(urlsplit(repo.upstream.requests[0]).query)
    assert first["from"] == ["2024-06-01T12:00:00Z"]  # not the short run's clock


def test_resumption_tokens_are_followed_and_a_short_list_is_a_warning(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record(f"oai:x:{n}", "2024-01-01", dc(f"Objekt {n}")) for n in range(8)]
    repo.promise_extra = 2
    report = run_harvest(settings_for(tmp_path, source("archiv", repo.url)), index).sources[0]
    assert (report.status, report.items) == ("ok", 8)
    pages = [r for r in repo.upstream.requests if "resumptionToken" in r]
    assert len(pages) == 2
    assert report.warnings == [
        "archiv: the repository promised 10 records and delivered 8",
        "the source was not read to its end, so nothing was deleted: records missing from this "
        "run stay until a complete run",
        "the source was not read to its end, so the next run reads again from where this one "
        "started",
    ]


def test_incremental_runs_ask_from_the_last_run_and_remove_deleted_records(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record(f"oai:x:{n}", "2024-01-01", dc(f"Objekt {n}")) for n in range(5)]
    repo.now = "2024-06-01T12:00:00Z"
    settings = settings_for(tmp_path, source("archiv", repo.url))
    assert run_harvest(settings, index).sources[0].items == 5

    repo.upstream.requests.clear()
    repo.now = "2024-06-02T12:00:00Z"
    repo.records[1] = Record("oai:x:1", "2024-06-01T13:00:00Z", dc("Objekt 1 (korrigiert)"))
    repo.records[3] = Record("oai:x:3", "2024-06-01T14:00:00Z", deleted=True)
    report = run_harvest(settings, index).sources[0]
    assert report.status == "ok", report.error
    first = parse_qs(urlsplit(repo.upstream.requests[0]).query)
    assert first["from"] == ["2024-06-01T12:00:00Z"]  # the server's clock at the last run
    assert (report.items, report.deleted) == (1, 1)
    assert index.get_item("archiv", "oai:x:3") is None
    changed = index.get_item("archiv", "oai:x:1")
    assert changed is not None and changed.properties["title"] == "Objekt 1 (korrigiert)"
    # the records not listed this time are kept
    assert all(index.get_item("archiv", f"oai:x:{n}") is not None for n in (0, 2, 4))

    # nothing new: noRecordsMatch is an empty listing, not an error
    repo.upstream.requests.clear()
    report = run_harvest(settings, index).sources[0]
    assert (report.status, report.items, report.deleted) == ("ok", 0, 0)
    assert index.get_dataset("archiv").item_count == 4  # type: ignore[union-attr]
    assert "from=2024-06-02T12" in repo.upstream.requests[0].replace("%3A", ":")


def test_a_malformed_record_is_reported_and_skipped(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [
        Record("oai:x:1", "2024-01-01", dc("Gut")),
        Record("oai:x:2", "2024-01-01", dc(None, creator="Niemand")),
        Record("oai:x:3", "2024-01-01", None),
        Record("oai:x:4", "2024-01-01", dc("Auch gut", date="um 1900")),
    ]
    report = run_harvest(settings_for(tmp_path, source("archiv", repo.url)), index).sources[0]
    assert (report.status, report.items, report.failed) == ("ok", 2, 2)
    assert [(p.where, p.reason) for p in report.problems] == [
        ("record 2 (oai:x:2)", "no title"),
        ("record 3 (oai:x:3)", "no metadata"),
    ]
    late = index.get_item("archiv", "oai:x:4")
    assert late is not None and late.time_start == "1900-01-01T00:00:00Z"


def test_each_set_is_a_dataset_named_as_the_repository_names_it(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.list_sets = OAI_FIXTURES / "harvard-library_ListSets.xml"
    repo.records = [
        Record("oai:x:1", "2024-01-01", dc("Karte"), sets=("maps",)),
        Record("oai:x:2", "2024-01-01", dc("Foto"), sets=("wpa",)),
        Record("oai:x:3", "2024-01-01", dc("Anderes"), sets=("other",)),
    ]
    settings = settings_for(tmp_path, source("harvard", repo.url, sets=["maps", "wpa"]))
    report = run_harvest(settings, index).sources[0]
    assert (report.status, report.datasets, report.items) == ("ok", 2, 2)
    maps = index.get_dataset("harvard.maps")
    assert maps is not None and maps.kind == "culture" and maps.item_count == 1
    assert maps.title.startswith("Harvard: ") and maps.title != "Harvard: maps"
    assert index.get_item("harvard.wpa", "oai:x:2") is not None


def test_repository_errors_fail_the_source_alone_and_keep_its_records(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record("oai:x:1", "2024-01-01", dc("Objekt"))]
    settings = settings_for(
        tmp_path,
        source("archiv", repo.url),
        source("kaputt", repo.upstream.url("broken")),
    )
    repo.upstream.routes["/broken"] = status(503)
    first = run_harvest(settings, index, full=True).sources
    assert [r.status for r in first] == ["ok", "failed"]
    assert "HTTP 503" in (first[1].error or "")

    repo.error = "badResumptionToken"
    report = run_harvest(settings, index, full=True).sources[0]
    assert report.status == "failed"
    assert "BadResumptionToken" in (report.error or "")
    assert index.get_item("archiv", "oai:x:1") is not None


def test_xml_with_entity_declarations_is_refused(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;">]><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"&b;</OAI-PMH>"
    )
    repo.upstream.routes["/bomb"] = status(200, bomb)
    report = run_harvest(
        settings_for(tmp_path, source("bombe", repo.upstream.url("bomb"))), index
    ).sources[0]
    assert report.status == "failed" and "unsafe XML" in (report.error or "")


def test_an_index_that_lost_the_records_gets_them_all_again(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record(f"oai:x:{n}", "2024-01-01", dc(f"Objekt {n}")) for n in range(3)]
    settings = settings_for(tmp_path, source("archiv", repo.url))
    run_harvest(settings, index)
    index.delete_source("archiv")  # e.g. the index file was replaced
    repo.upstream.requests.clear()
    report = run_harvest(settings, index).sources[0]
    assert "from" not in parse_qs(urlsplit(repo.upstream.requests[0]).query)
    assert (report.status, report.items) == ("ok", 3)
    assert index.get_dataset("archiv").item_count == 3  # type: ignore[union-attr]


EDM_WITH_PLACE = """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:edm="http://www.europeana.eu/schemas/edm/" xmlns:ore="http://www.openarchives.org/ore/terms/"
 xmlns:skos="http://www.w3.org/2004/02/skos/core#"
 xmlns:wgs84_pos="http://www.w3.org/2003/01/geo/wgs84_pos#">
 <edm:ProvidedCHO rdf:about="#cho">
  <dc:title xml:lang="de">Ansicht des Rheinufers</dc:title>
  <dc:creator rdf:resource="#maler"/>
  <dc:subject>Rhein</dc:subject>
  <dcterms:spatial rdf:resource="#ort"/>
  <dcterms:created>1850</dcterms:created>
  <edm:type>IMAGE</edm:type>
 </edm:ProvidedCHO>
 <edm:Agent rdf:about="#maler">
  <skos:prefLabel xml:lang="de">Andreas Achenbach</skos:prefLabel>
 </edm:Agent>
 <edm:Place rdf:about="#ort">
  <skos:prefLabel xml:lang="de">Düsseldorf</skos:prefLabel>
  <wgs84_pos:lat>51.2277</wgs84_pos:lat><wgs84_pos:long>6.7735</wgs84_pos:long>
 </edm:Place>
 <edm:WebResource rdf:about="https://bilder.example.org/rheinufer.jpg">
  <dcterms:isReferencedBy rdf:resource="https://iiif.example.org/rheinufer/manifest.json"/>
 </edm:WebResource>
 <ore:Aggregation rdf:about="#agg">
  <edm:aggregatedCHO rdf:resource="#cho"/>
  <edm:dataProvider>Stadtmuseum Düsseldorf</edm:dataProvider>
  <edm:isShownAt rdf:resource="https://museum.example.org/objekt/1"/>
  <edm:isShownBy rdf:resource="https://bilder.example.org/rheinufer.jpg"/>
  <edm:rights rdf:resource="http://rightsstatements.org/vocab/InC/1.0/"/>
 </ore:Aggregation>
</rdf:RDF>"""


def test_edm_places_give_a_geometry_and_web_resources_a_manifest(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [Record("oai:museum:1", "2024-01-01", EDM_WITH_PLACE)]
    settings = settings_for(tmp_path, source("museum", repo.url, metadata_format="edm"))
    assert run_harvest(settings, index).sources[0].items == 1
    item = index.get_item("museum", "oai:museum:1")
    assert item is not None
    assert item.geometry == {"type": "Point", "coordinates": [6.7735, 51.2277]}
    p = item.properties
    assert (p["title"], p["creators"], p["date"]) == (
        "Ansicht des Rheinufers",
        ["Andreas Achenbach"],
        "1850",
    )
    assert (p["institution"], p["object_type"], p["subjects"]) == (
        "Stadtmuseum Düsseldorf",
        "IMAGE",
        ["Rhein"],
    )
    assert p["iiif_manifest"] == "https://iiif.example.org/rheinufer/manifest.json"
    assert p["thumbnail"] == "https://bilder.example.org/rheinufer.jpg"
    assert p["record_url"] == "https://museum.example.org/objekt/1"
    assert p["rights"] == "http://rightsstatements.org/vocab/InC/1.0/"


def test_catalogue_harvest_full_lists_everything_again(tmp_path: Path, repo: OAIRepository) -> None:
    repo.records = [Record(f"oai:x:{n}", "2024-01-01", dc(f"Objekt {n}")) for n in range(3)]
    config = tmp_path / "catalogue.yml"
    config.write_text(
        "index: {backend: sqlite, path: idx/catalogue.sqlite}\n"
        f"sources:\n  - {{name: archiv, type: oai-pmh, url: '{repo.url}'}}\n"
    )
    catalogue = shutil.which("catalogue") or str(Path(sys.executable).parent / "catalogue")
    asked_from = []
    for args in ((), (), ("--full",)):
        repo.upstream.requests.clear()
        done = subprocess.run(
            [catalogue, "harvest", "--config", str(config), "--quiet", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        asked_from.append("from" in parse_qs(urlsplit(repo.upstream.requests[0]).query))
    assert asked_from == [False, True, False]
    assert (tmp_path / "idx" / "reports" / "harvest-state.sqlite").is_file()


def test_a_set_added_later_is_listed_whole_and_a_set_removed_is_deleted(
    tmp_path: Path, repo: OAIRepository, index: SQLiteIndex
) -> None:
    repo.records = [
        Record("oai:x:1", "2024-01-01", dc("Karte"), sets=("maps",)),
        Record("oai:x:2", "2024-01-01", dc("Foto"), sets=("wpa",)),
    ]
    run_harvest(settings_for(tmp_path, source("archiv", repo.url, sets=["maps"])), index)
    repo.upstream.requests.clear()
    both = settings_for(tmp_path, source("archiv", repo.url, sets=["maps", "wpa"]))
    report = run_harvest(both, index).sources[0]
    asked = {
        q["set"][0]: "from" in q
        for q in (parse_qs(urlsplit(r).query) for r in repo.upstream.requests)
        if "set" in q
    }
    assert asked == {"maps": True, "wpa": False}
    assert report.items == 1 and index.get_item("archiv.wpa", "oai:x:2") is not None

    report = run_harvest(settings_for(tmp_path, source("archiv", repo.url, sets=["wpa"])), index)
    assert report.sources[0].status == "ok"
    assert index.get_dataset("archiv.maps") is None
    assert index.get_item("archiv.wpa", "oai:x:2") is not None
