"""The WFS source type: recorded capabilities of real services (Köln's ArcGIS WFS, a GeoServer),
GetFeature as GML in EPSG:25832 and as GeoJSON, paged with startIndex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SHARED_DATA
from pyproj import Transformer
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict

GEO = SHARED_DATA / "fixtures" / "geo"
KOELN_CAPS = (GEO / "koeln_arcgis_wfs_GetCapabilities_2.0.0.xml").read_bytes()
GEOSERVER_CAPS = (GEO / "dov-vlaanderen_geoserver_wfs_GetCapabilities_2.0.0.xml").read_bytes()
DUESSELDORF = json.loads(
    (GEO / "duesseldorf_wfs_GetFeature_verkehr-behindertenparkplatz.geojson").read_text()
)
KOELN_FEATURES = (
    Path(__file__).parent / "data" / "koeln_altstadt_nord_getfeature.xml"
).read_bytes()


def answer(handler: Any, body: bytes, content_type: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class FakeWFS:
    def __init__(self, caps: bytes, features: Any) -> None:
        self.caps, self.features = caps, features
        self.requests: list[dict[str, str]] = []

    def __call__(self, handler: Any) -> None:
        query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        self.requests.append(query)
        if query.get("request") == "GetCapabilities":
            answer(handler, self.caps, "application/xml")
        elif callable(self.features):
            self.features(handler, query)
        else:
            answer(handler, self.features, "application/gml+xml; version=3.2")


def settings(tmp_path: Path, url: str, **options: Any) -> Any:
    return settings_from_dict(
        {
            "index": {"path": "i.sqlite"},
            "harvest": {"backoff": 0.01},
            "sources": [{"name": "wfs", "type": "wfs", "url": url, **options}],
        },
        tmp_path / "c.yml",
        {},
    )


def test_arcgis_wfs_with_gml_in_epsg_25832(tmp_path: Path, index: SQLiteIndex) -> None:
    service = FakeWFS(KOELN_CAPS, KOELN_FEATURES)
    with Upstream(tmp_path) as upstream:
        upstream.routes["/wfs"] = service
        report = run_harvest(
            settings(tmp_path, upstream.url("wfs"), typenames=["adressen_stadtteil:Altstadt_Nord"]),
            index,
        ).sources[0]
    assert (report.status, report.datasets, report.items, report.warnings) == ("ok", 1, 3, [])
    getfeature = service.requests[-1]
    assert getfeature["typenames"] == "adressen_stadtteil:Altstadt_Nord"
    # GeoJSON is asked for where offered; this service answers with GML all the same
    assert getfeature["outputformat"] == "GEOJSON"
    dataset = index.get_dataset("wfs.adressen_stadtteil-altstadt_nord-" + dataset_suffix(index))
    assert dataset is not None and dataset.title == "Altstadt_Nord"
    assert dataset.spatial == pytest.approx((6.80534263, 50.83164204, 7.13337013, 51.08846294))
    expected = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True).transform(
        356543.2, 5645673.9
    )
    item = index.get_item(dataset.id, "Altstadt_Nord.1")
    assert item is not None and item.geometry is not None
    assert item.geometry["coordinates"] == pytest.approx(list(expected), abs=1e-6)
    assert item.properties["STRASSE"] == "Domkloster" and item.properties["PLZ"] == 50667
    polygon = index.get_item(dataset.id, "Altstadt_Nord.3")
    assert polygon is not None and polygon.geometry["type"] == "Polygon"  # type: ignore[index]


def dataset_suffix(index: SQLiteIndex) -> str:
    (dataset,) = list(index.iter_datasets())
    return dataset.id.rsplit("-", 1)[-1]


def test_geoserver_wfs_as_geojson_paged_with_start_index(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    def features(handler: Any, query: dict[str, str]) -> None:
        start, count = int(query["startindex"]), int(query["count"])
        page = dict(DUESSELDORF, features=DUESSELDORF["features"][start : start + count])
        answer(handler, json.dumps(page).encode(), "application/json")

    service = FakeWFS(GEOSERVER_CAPS, features)
    with Upstream(tmp_path) as upstream:
        upstream.routes["/geoserver/wfs"] = service
        report = run_harvest(
            settings(tmp_path, upstream.url("geoserver/wfs"), count=4), index
        ).sources[0]
    assert report.status == "ok" and report.items == 10 and report.warnings == []
    pages = [r for r in service.requests if r.get("request") == "GetFeature"]
    assert [p["startindex"] for p in pages] == ["0", "4", "8"]
    assert pages[0]["outputformat"] == "application/json"
    first = DUESSELDORF["features"][0]
    (dataset,) = list(index.iter_datasets())
    item = index.get_item(dataset.id, first["id"])
    assert item is not None and item.geometry == first["geometry"]
    assert item.properties["stadtteil"] == "Holthausen"


def test_a_service_exception_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    report_xml = (
        b'<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1">'
        b"<ows:Exception><ows:ExceptionText>Unknown type</ows:ExceptionText></ows:Exception>"
        b"</ows:ExceptionReport>"
    )
    with Upstream(tmp_path) as upstream:
        upstream.routes["/wfs"] = FakeWFS(KOELN_CAPS, report_xml)
        source = run_harvest(
            settings(tmp_path, upstream.url("wfs"), typenames=["adressen_stadtteil:Bayenthal"]),
            index,
        ).sources[0]
    assert source.status == "failed" and "Unknown type" in (source.error or "")


def test_capabilities_declaring_entities_are_refused(tmp_path: Path, index: SQLiteIndex) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with Upstream(tmp_path) as upstream:
        upstream.routes["/wfs"] = FakeWFS(evil, b"")
        source = run_harvest(settings(tmp_path, upstream.url("wfs")), index).sources[0]
    assert source.status == "failed" and "unsafe XML" in (source.error or "")
