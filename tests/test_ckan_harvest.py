"""The CKAN source type against a local portal that pages over recorded real packages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SHARED_DATA
from upstream import Upstream, status, truncated

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict

CKAN = SHARED_DATA / "fixtures" / "ckan"


def recorded_packages() -> list[dict[str, Any]]:
    search = json.loads((CKAN / "demockan_package_search_rows3.json").read_text())["result"]
    shown = [
        json.loads((CKAN / name).read_text())["result"]
        for name in (
            "govdata_package_show_stuttgart-einwohner-nach-altersgruppen.json",
            "demockan_package_show_62513382.json",
        )
    ]
    packages = {p["id"]: p for p in [*search["results"], *shown]}
    return list(packages.values())


class FakePortal:
    """package_search over a list of packages, as CKAN pages it (rows, start, count)."""

    def __init__(self, packages: list[dict[str, Any]]) -> None:
        self.packages = packages
        self.promise_extra = 0
        self.ignore_start = False
        self.ascii = True
        """Escape what is not ASCII (as CKAN does); False: UTF-8 (as DKAN does)."""
        self.queries: list[dict[str, list[str]]] = []

    def __call__(self, handler: Any) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        self.queries.append(query)
        rows = int(query.get("rows", ["10"])[0])
        start = 0 if self.ignore_start else int(query.get("start", ["0"])[0])
        ordered = sorted(self.packages, key=lambda p: p["id"])
        body = json.dumps(
            {
                "help": "package_search",
                "success": True,
                "result": {
                    "count": len(ordered) + self.promise_extra,
                    "results": ordered[start : start + rows],
                },
            },
            ensure_ascii=self.ascii,
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture()
def portal(tmp_path: Path) -> Any:
    fake = FakePortal(recorded_packages())
    with Upstream(tmp_path) as upstream:
        upstream.routes["/api/3/action/package_search"] = fake
        fake.url = upstream.url("")  # type: ignore[attr-defined]
        yield fake


def settings(tmp_path: Path, portal: Any, **options: Any) -> Any:
    source = {"name": "portal", "type": "ckan", "url": portal.url, "rows": 2, **options}
    return settings_from_dict(
        {"index": {"path": "i.sqlite"}, "harvest": {"backoff": 0.01}, "sources": [source]},
        tmp_path / "c.yml",
        {},
    )


def test_every_package_is_harvested_page_by_page(
    tmp_path: Path, portal: Any, index: SQLiteIndex
) -> None:
    report = run_harvest(settings(tmp_path, portal), index).sources[0]
    n = len(portal.packages)
    assert (report.status, report.datasets, report.added, report.warnings) == ("ok", n, n, [])
    assert [q["start"] for q in portal.queries] == [["0"], ["2"], ["4"]][: len(portal.queries)]
    assert len(portal.queries) == (n + 1) // 2


def test_dcat_ap_de_fields_of_a_govdata_package_are_kept(
    tmp_path: Path, portal: Any, index: SQLiteIndex
) -> None:
    run_harvest(settings(tmp_path, portal), index)
    package = next(p for p in portal.packages if p["name"].startswith("einwohner"))
    dataset = next(
        d for d in index.iter_datasets() if d.provenance.source_identifier == package["id"]
    )
    assert dataset.title == package["title"]
    assert dataset.description == package["notes"]
    assert set(dataset.keywords) == {t["display_name"] for t in package["tags"]}
    assert "http://publications.europa.eu/resource/authority/data-theme/SOCI" in dataset.themes
    assert dataset.publisher is not None
    assert dataset.publisher.name == "Statistisches Amt der Landeshauptstadt Stuttgart"
    assert dataset.contact_point is not None
    assert dataset.contact_point.email == "Poststelle.12-opendata@stuttgart.de"
    assert dataset.issued == "2023-06-22T07:58:34Z"
    assert dataset.extras["contributorID"] == '["http://dcat-ap.de/def/contributors/datenBW"]'
    assert dataset.extras["ckan_name"] == package["name"]
    assert len(dataset.distributions) == len(package["resources"])
    assert {d.url for d in dataset.distributions} == {r["url"] for r in package["resources"]}


def test_reharvest_reports_unchanged_updated_and_deleted(
    tmp_path: Path, portal: Any, index: SQLiteIndex
) -> None:
    run_harvest(settings(tmp_path, portal), index)
    n = len(portal.packages)
    again = run_harvest(settings(tmp_path, portal), index).sources[0]
    assert (again.added, again.updated, again.unchanged, again.deleted) == (0, 0, n, 0)

    changed = copy.deepcopy(portal.packages)
    changed[0]["title"] = "Neuer Titel"
    del changed[-1]
    portal.packages = changed
    third = run_harvest(settings(tmp_path, portal), index).sources[0]
    assert (third.updated, third.unchanged, third.deleted) == (1, n - 2, 1)
    assert sum(1 for _ in index.iter_datasets()) == n - 1


def test_a_shortfall_is_a_warning_and_a_looping_portal_is_stopped(
    tmp_path: Path, portal: Any, index: SQLiteIndex
) -> None:
    portal.promise_extra = 3
    short = run_harvest(settings(tmp_path, portal), index).sources[0]
    assert short.status == "ok"
    assert any("promised" in w and "delivered" in w for w in short.warnings)

    portal.promise_extra = 0
    portal.ignore_start = True  # every page is the first page
    looping = run_harvest(settings(tmp_path, portal), index).sources[0]
    assert any("repeats an earlier page" in w for w in looping.warnings)
    assert len(portal.queries) < 20


def test_filters_are_passed_to_the_portal(tmp_path: Path, portal: Any, index: SQLiteIndex) -> None:
    run_harvest(
        settings(tmp_path, portal, organization="stadt-stuttgart", fq="tags:Verkehr"), index
    )
    assert portal.queries[0]["fq"] == ['tags:Verkehr AND organization:"stadt-stuttgart"']


def test_a_portal_error_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    with Upstream(tmp_path) as upstream:

        def error(handler: Any) -> None:
            body = b'{"success": false, "error": {"__type": "Search Query Error", "message": "x"}}'
            handler.send_response(409)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        upstream.routes["/api/3/action/package_search"] = error
        fake = type("P", (), {"url": upstream.url("")})()
        source = run_harvest(settings(tmp_path, fake), index).sources[0]
    assert source.status == "failed" and "Search Query Error" in (source.error or "")


DATASTORE = json.loads((CKAN / "duesseldorf_dkan_datastore_search_park-and-ride.json").read_text())
PARKING = (
    SHARED_DATA
    / "fixtures"
    / "geo"
    / "duesseldorf_wfs_GetFeature_verkehr-behindertenparkplatz.geojson"
)


def test_items_of_datastore_and_geojson_resources(tmp_path: Path) -> None:
    (tmp_path / "parken.geojson").write_bytes(PARKING.read_bytes())
    index = SQLiteIndex(tmp_path / "items.sqlite")
    with Upstream(tmp_path) as upstream:
        package = copy.deepcopy(recorded_packages()[0])
        package["resources"] = [
            {
                "id": "1fd5b3f3-aaaa",
                "url": upstream.url("datastore/dump.csv"),
                "format": "CSV",
                "datastore_active": True,
                "name": "Park+Ride",
            },
            {
                "id": "77aa00bb-bbbb",
                "url": upstream.url("parken.geojson"),
                "format": "GeoJSON",
                "name": "Behindertenparkplätze",
            },
        ]
        portal = FakePortal([package])
        portal.url = upstream.url("")  # type: ignore[attr-defined]

        def datastore(handler: Any) -> None:
            query = parse_qs(urlsplit(handler.path).query)
            offset = int(query["offset"][0])
            result = dict(
                DATASTORE["result"], records=DATASTORE["result"]["records"] if offset == 0 else []
            )
            body = json.dumps({"success": True, "result": result}).encode()
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        upstream.routes["/api/3/action/package_search"] = portal
        upstream.routes["/api/3/action/datastore_search"] = datastore
        report = run_harvest(settings(tmp_path, portal, resource_items=True), index).sources[0]
    assert report.status == "ok", report.error
    assert report.items == 10 + 10
    assert any("promised 35 rows and delivered 10" in w for w in report.warnings)
    (dataset,) = list(index.iter_datasets())
    assert dataset.item_count == 20
    rath = index.get_item(dataset.id, "1fd5b3f3-1")
    assert rath is not None and rath.properties["name"] == "Rath S"
    assert rath.geometry == {"type": "Point", "coordinates": [6.819546403, 51.26421809]}
    assert rath.properties["plz"] == 40472 and rath.properties["stadtbezirk"] == "06"
    first = json.loads(PARKING.read_text())["features"][0]
    parking = index.get_item(dataset.id, "77aa00bb-" + first["id"])
    assert parking is not None and parking.geometry == first["geometry"]
    index.close()


def test_a_datastore_answering_broken_json_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    index = SQLiteIndex(tmp_path / "items.sqlite")
    with Upstream(tmp_path) as upstream:
        package = copy.deepcopy(recorded_packages()[0])
        package["resources"] = [
            {"id": "1fd5b3f3-aaaa", "url": upstream.url("x.csv"), "datastore_active": True}
        ]
        portal = FakePortal([package])
        portal.url = upstream.url("")  # type: ignore[attr-defined]
        upstream.routes["/api/3/action/package_search"] = portal
        upstream.routes["/api/3/action/datastore_search"] = status(200, b'{"success": tru')
        report = run_harvest(settings(tmp_path, portal, resource_items=True), index).sources[0]
    assert report.status == "ok", report.error
    assert any(
        w.startswith("datastore 1fd5b3f3-aaaa: not readable (invalid JSON") for w in report.warnings
    ), report.warnings
    assert report.datasets == 1
    index.close()


def test_a_page_that_breaks_off_once_is_asked_for_again(tmp_path: Path) -> None:
    """A body reset or cut short after its headers is retried like a failed connection."""
    index = SQLiteIndex(tmp_path / "items.sqlite")
    portal = FakePortal(recorded_packages())
    breaks = {"left": 1}

    def flaky(handler: Any) -> None:
        if "start=2" in handler.path and breaks["left"]:
            breaks["left"] -= 1
            truncated(b'{"help": "package_search", "success": true, "result": {}}', 20)(handler)
            return
        portal(handler)

    with Upstream(tmp_path) as upstream:
        upstream.routes["/api/3/action/package_search"] = flaky
        portal.url = upstream.url("")  # type: ignore[attr-defined]
        report = run_harvest(settings(tmp_path, portal), index).sources[0]
    n = len(portal.packages)
    assert (report.status, report.datasets, report.warnings) == ("ok", n, []), report.error
    assert breaks["left"] == 0 and [q["start"] for q in portal.queries].count(["2"]) == 1
    index.close()
