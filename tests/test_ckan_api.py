"""The CKAN Action API through the real client (ckanapi), on the demo catalogue and on packages
harvested from recorded CKAN responses and served back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from ckanapi import NotFound, RemoteCKAN, ValidationError
from conftest import LiveServer, free_port
from test_ckan_harvest import FakePortal, recorded_packages
from upstream import Upstream

from catalogue.ckan.search import package_search
from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SortKey
from catalogue.settings import settings_from_dict

DEMO = ["luftmessstationen", "mobilstationen", "sehenswuerdigkeiten", "stadtbezirke"]


@pytest.fixture()
def ckan(backend_demo: LiveServer) -> RemoteCKAN:
    """The demo on each index backend (SQLite, OpenSearch) in turn."""
    return RemoteCKAN(backend_demo.url, user_agent="open-urban-catalogue-tests")


def test_lists_and_shows(ckan: RemoteCKAN) -> None:
    assert ckan.action.site_read() is True
    assert ckan.action.status_show()["site_title"].startswith("Open Urban Catalogue")
    assert ckan.action.package_list() == DEMO
    assert ckan.action.package_list(limit=2, offset=1) == DEMO[1:3]
    poi = ckan.action.package_show(id="sehenswuerdigkeiten")
    assert poi["title"] == "Sehenswürdigkeiten und Kultureinrichtungen (Demo)"
    assert {t["name"] for t in poi["tags"]} == {"Kultur", "Tourismus", "Museum", "Freizeit"}
    assert {g["name"] for g in poi["groups"]} == {"educ", "regi"}
    assert poi["organization"]["title"] == "Kulturamt (Demo)"
    assert poi["license_id"] == "cc-zero" and poi["license_url"].endswith("/cc-zero")
    ogc = [r for r in poi["resources"] if r["format"] == "GeoJSON"]
    assert ogc and httpx.get(ogc[0]["url"]).json()["numberMatched"] == 60
    resource = ckan.action.resource_show(id=ogc[0]["id"])
    assert resource["url"] == ogc[0]["url"]
    everything = ckan.action.current_package_list_with_resources(limit=10)
    assert sorted(p["name"] for p in everything) == DEMO


def test_search_words_fields_sort_facets(ckan: RemoteCKAN) -> None:
    assert [p["name"] for p in ckan.action.package_search(q="Feinstaub")["results"]] == [
        "luftmessstationen"
    ]
    assert ckan.action.package_search(q="Dusseldorf")["count"] >= 1  # accents folded
    by_tag = ckan.action.package_search(q="tags:Mobilität")
    assert [p["name"] for p in by_tag["results"]] == ["mobilstationen"]
    filtered = ckan.action.package_search(fq="groups:envi")
    assert [p["name"] for p in filtered["results"]] == ["luftmessstationen"]
    titles = [p["title"] for p in ckan.action.package_search(sort="title asc", rows=10)["results"]]
    assert titles == sorted(titles)
    result = ckan.action.package_search(
        q="*:*", rows=0, **{"facet.field": '["tags", "groups", "organization", "license_id"]'}
    )
    assert result["count"] == 4 and result["results"] == []
    licences = {i["name"]: i["count"] for i in result["search_facets"]["license_id"]["items"]}
    assert licences == {"cc-zero": 2, "dl-by-de/2.0": 2}
    by_licence = ckan.action.package_search(fq="license_id:dl-by-de/2.0", sort="name asc")
    assert [p["name"] for p in by_licence["results"]] == ["luftmessstationen", "mobilstationen"]
    zero = ckan.action.package_search(fq="license_id:cc-zero", sort="name asc")
    assert [p["name"] for p in zero["results"]] == ["sehenswuerdigkeiten", "stadtbezirke"]
    assert result["facets"]["groups"]["regi"] == 2


def test_sort_reads_score_as_solr_does() -> None:
    """Relevance decides when ``score`` leads a sort of a text search; without words every
    score is equal and the other keys decide: CKAN's default is then newest first."""
    newest = (SortKey("modified", True),)
    assert package_search({"q": "Bäume"}).query.sort == ()
    assert (
        package_search({"q": "Bäume", "sort": "score desc, metadata_modified desc"}).query.sort
        == ()
    )
    assert package_search({}).query.sort == newest
    assert package_search({"sort": "score desc, metadata_modified desc"}).query.sort == newest
    assert (
        package_search({"q": "x", "sort": "metadata_modified desc, score desc"}).query.sort
        == newest
    )
    assert package_search({"q": "x", "sort": "title asc"}).query.sort == (SortKey("title"),)


def test_default_order_is_newest_first(ckan: RemoteCKAN) -> None:
    found = ckan.action.package_search(rows=10)["results"]
    modified = [p["metadata_modified"] for p in found]
    assert len(found) == 4 and modified == sorted(modified, reverse=True)


def test_paging_reaches_every_dataset_once(ckan: RemoteCKAN) -> None:
    seen = []
    start = 0
    while True:
        page = ckan.action.package_search(rows=1, start=start, sort="name asc")
        if not page["results"]:
            break
        assert page["count"] == 4
        seen.extend(p["name"] for p in page["results"])
        start += 1
    assert seen == DEMO


def test_organizations_groups_tags_licences(ckan: RemoteCKAN) -> None:
    orgs = ckan.action.organization_list(all_fields=True)
    assert {o["title"] for o in orgs} >= {"Kulturamt (Demo)", "Umweltamt (Demo)"}
    culture = next(o for o in orgs if o["title"] == "Kulturamt (Demo)")
    shown = ckan.action.organization_show(id=culture["name"], include_datasets=True)
    assert [p["name"] for p in shown["packages"]] == ["sehenswuerdigkeiten"]
    assert ckan.action.group_list() == ["educ", "envi", "regi", "tran"]
    regi = ckan.action.group_show(id="regi", include_datasets=True)
    assert regi["package_count"] == 2 and regi["title"] == "Regions and cities"
    assert "Luftqualität" in ckan.action.tag_list()
    assert {lic["id"] for lic in ckan.action.license_list()} == {"cc-zero", "dl-by-de/2.0"}


def test_errors_as_ckan_reports_them(ckan: RemoteCKAN, backend_demo: LiveServer) -> None:
    with pytest.raises(NotFound):
        ckan.action.package_show(id="gibt-es-nicht")
    with pytest.raises(NotFound):
        ckan.action.organization_show(id="gibt-es-nicht")
    with pytest.raises(ValidationError):
        ckan.action.package_search(rows="viele")
    with pytest.raises(ValidationError):
        ckan.action.package_search(fq="unbekannt:x")
    with pytest.raises(ValidationError):
        ckan.action.package_search(sort="title sideways")
    with pytest.raises(ValidationError):
        ckan.action.package_search(start=10**22)
    with pytest.raises(ValidationError):
        ckan.action.package_list(offset=10**22)
    unknown = httpx.get(f"{backend_demo.url}/api/3/action/package_delete")
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    broken = httpx.post(f"{backend_demo.url}/api/action/package_search", content=b"{not json")
    assert broken.status_code == 400 and broken.json()["error"]["__type"] == "Bad request"


def test_get_and_post_on_both_paths(backend_demo: LiveServer) -> None:
    answers = [
        httpx.get(f"{backend_demo.url}/api/3/action/package_search", params={"q": "Kultur"}),
        httpx.post(f"{backend_demo.url}/api/action/package_search", json={"q": "Kultur"}),
    ]
    assert [a.json()["result"]["count"] for a in answers] == [1, 1]


def test_harvested_ckan_packages_are_served_back_with_their_fields(tmp_path: Path) -> None:
    originals = recorded_packages()
    index_path = tmp_path / "i.sqlite"
    index = SQLiteIndex(index_path)
    with Upstream(tmp_path) as upstream:
        portal = FakePortal(originals)
        upstream.routes["/api/3/action/package_search"] = portal
        raw: dict[str, Any] = {
            "index": {"path": str(index_path)},
            "server": {"port": free_port()},
            "sources": [{"name": "portal", "type": "ckan", "url": upstream.url("")}],
        }
        settings = settings_from_dict(raw, tmp_path / "c.yml", {})
        assert run_harvest(settings, index).ok
    with LiveServer(settings) as server:
        ckan = RemoteCKAN(server.url)
        served = {p["title"]: p for p in ckan.action.package_search(rows=100)["results"]}
        for original in originals:
            back = served[original["title"]]
            assert back["notes"] == (original["notes"] or "")
            assert {t["name"] for t in back["tags"]} == {
                t["display_name"] or t["name"] for t in original["tags"]
            }
            assert back["license_id"] == original["license_id"]
            if original.get("organization"):
                assert back["organization"]["name"] == original["organization"]["name"]
                assert back["organization"]["title"] == original["organization"]["title"]
            assert [r["url"] for r in back["resources"]] == [
                r["url"] for r in original["resources"]
            ]
            extras = {e["key"]: e["value"] for e in back["extras"]}
            for extra in original.get("extras") or ():
                assert extras.get(extra["key"]) == extra["value"]
    index.close()
