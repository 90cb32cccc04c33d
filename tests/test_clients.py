"""Real OGC API clients against the demo catalogue: OWSLib and GDAL's ogrinfo (OAPIF driver).

What the clients report is compared with the index itself (``SQLiteIndex.search_items``), so
the tests fail if the server and its index disagree, whichever of the two is wrong.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from conftest import LiveServer
from owslib.ogcapi.features import Features
from owslib.ogcapi.records import Records

from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery

pytestmark = pytest.mark.clients

FEATURE_COLLECTIONS = {"stadtbezirke", "sehenswuerdigkeiten", "mobilstationen", "luftmessstationen"}
BOXES = [
    (6.70, 51.20, 6.80, 51.30),
    (6.77, 51.21, 6.79, 51.235),
    (6.85, 51.10, 6.95, 51.20),
]


@pytest.fixture(scope="module")
def index(demo: LiveServer) -> Iterator[SQLiteIndex]:
    ix = SQLiteIndex(demo.settings.index.path)
    yield ix
    ix.close()


def count(index: SQLiteIndex, collection: str, **query: object) -> int:
    result = index.search_items(collection, SearchQuery(limit=1, result_type="hits", **query))
    return result.number_matched


def ids(index: SQLiteIndex, collection: str, **query: object) -> set[str]:
    result = index.search_items(collection, SearchQuery(limit=10_000, **query))
    return {item.id for item in result.records}


# --------------------------------------------------------------------------------------------
# OWSLib
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def owslib_features(demo: LiveServer) -> Features:
    return Features(f"{demo.url}/ogc", timeout=30)


def test_owslib_conformance_and_collections(owslib_features: Features) -> None:
    conforms = owslib_features.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    collections = {c["id"] for c in owslib_features.collections()["collections"]}
    assert collections == FEATURE_COLLECTIONS | {"catalogue"}
    assert set(owslib_features.feature_collections()) == FEATURE_COLLECTIONS


@pytest.mark.parametrize("collection", sorted(FEATURE_COLLECTIONS))
def test_owslib_items_count_agrees_with_index(
    owslib_features: Features, index: SQLiteIndex, collection: str
) -> None:
    page = owslib_features.collection_items(collection, limit=5)
    assert page["numberMatched"] == count(index, collection)
    assert len(page["features"]) == min(5, count(index, collection))
    everything = owslib_features.collection_items(collection, limit=1000)
    assert {f["id"] for f in everything["features"]} == ids(index, collection)


@pytest.mark.parametrize("bbox", BOXES)
def test_owslib_bbox_agrees_with_index(
    owslib_features: Features, index: SQLiteIndex, bbox: tuple[float, ...]
) -> None:
    for collection in ("sehenswuerdigkeiten", "mobilstationen", "stadtbezirke"):
        page = owslib_features.collection_items(collection, bbox=list(bbox), limit=1000)
        expected = ids(index, collection, bbox=bbox)
        assert page["numberMatched"] == len(expected), collection
        assert {f["id"] for f in page["features"]} == expected, collection


def test_owslib_bbox_with_small_limit(owslib_features: Features, index: SQLiteIndex) -> None:
    bbox = BOXES[0]
    page = owslib_features.collection_items("sehenswuerdigkeiten", bbox=list(bbox), limit=4)
    assert page["numberMatched"] == count(index, "sehenswuerdigkeiten", bbox=bbox)
    assert page["numberMatched"] > 4
    assert len(page["features"]) == 4
    assert {f["id"] for f in page["features"]} <= ids(index, "sehenswuerdigkeiten", bbox=bbox)


def test_owslib_property_query(owslib_features: Features, index: SQLiteIndex) -> None:
    page = owslib_features.collection_items("sehenswuerdigkeiten", kategorie="museum", limit=1000)
    expected = ids(index, "sehenswuerdigkeiten", properties=(("kategorie", "museum"),))
    assert expected
    assert {f["id"] for f in page["features"]} == expected


def test_owslib_single_feature(owslib_features: Features, index: SQLiteIndex) -> None:
    feature = owslib_features.collection_item("sehenswuerdigkeiten", "poi-003")
    item = index.get_item("sehenswuerdigkeiten", "poi-003")
    assert item is not None
    assert feature["id"] == "poi-003"
    assert feature["properties"] == item.properties
    assert feature["geometry"] == item.geometry


def test_owslib_queryables(owslib_features: Features) -> None:
    queryables = owslib_features.collection_queryables("sehenswuerdigkeiten")["properties"]
    assert queryables["bezirk"]["type"] == "integer"
    assert queryables["barrierefrei"]["type"] == "boolean"


def test_owslib_records_search(demo: LiveServer, index: SQLiteIndex) -> None:
    records = Records(f"{demo.url}/ogc", timeout=30)
    assert records.records() == ["catalogue"]
    found = records.collection_items("catalogue", q="Luftqualität")
    expected = {d.id for d in index.search_datasets(SearchQuery(text="Luftqualität")).records}
    assert expected == {"luftmessstationen"}
    assert {f["id"] for f in found["features"]} == expected
    record = records.collection_item("catalogue", "luftmessstationen")
    assert record["properties"]["title"] == "Luftqualitätsmessstationen (Demo)"


# --------------------------------------------------------------------------------------------
# GDAL ogrinfo (OAPIF driver)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    if path is None:
        message = "ogrinfo (GDAL, Debian package gdal-bin) is not on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must install gdal-bin")
        pytest.skip(message)
    return path


def run_ogrinfo(ogrinfo: str, *args: str) -> str:
    env = {
        **os.environ,
        "GDAL_HTTP_TIMEOUT": "30",
        "GDAL_HTTP_MAX_RETRY": "0",
        "GDAL_HTTP_USE_CACHE": "NO",  # no persistent HTTP cache between runs
        "CPL_VSIL_CURL_NON_CACHED": "/vsicurl/",
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    proc = subprocess.run(
        [ogrinfo, "-ro", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, f"ogrinfo {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def feature_count(output: str) -> int:
    counts = re.findall(r"^Feature Count: (-?\d+)$", output, flags=re.M)
    assert len(counts) == 1, output
    return int(counts[0])


def test_ogrinfo_lists_the_layers(ogrinfo: str, demo: LiveServer) -> None:
    out = run_ogrinfo(ogrinfo, "-so", f"OAPIF:{demo.url}/ogc")
    layers = dict(re.findall(r"^\d+: (\S+) \(title: .*\) \((\w+)\)$", out, flags=re.M))
    assert set(layers) == FEATURE_COLLECTIONS | {"catalogue"}, out
    assert layers["stadtbezirke"] == "Polygon"
    assert layers["sehenswuerdigkeiten"] == "Point"


def test_ogrinfo_collection_summary(ogrinfo: str, demo: LiveServer, index: SQLiteIndex) -> None:
    out = run_ogrinfo(
        ogrinfo, "-so", "-al", f"OAPIF:{demo.url}/ogc/collections/sehenswuerdigkeiten"
    )
    assert "Layer name: sehenswuerdigkeiten" in out
    assert feature_count(out) == 60 == count(index, "sehenswuerdigkeiten")
    # the schema GDAL derives from the queryables/features
    assert re.search(r"^bezirk: Integer", out, flags=re.M), out
    assert re.search(r"^barrierefrei: Integer\(Boolean\)", out, flags=re.M), out
    # the advertised extent equals the index's
    dataset = index.get_dataset("sehenswuerdigkeiten")
    assert dataset is not None and dataset.spatial is not None
    minx, miny, maxx, maxy = dataset.spatial
    m = re.search(r"^Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)$", out, flags=re.M)
    assert m, out
    assert [float(v) for v in m.groups()] == pytest.approx([minx, miny, maxx, maxy], abs=1e-6)


@pytest.mark.parametrize("collection", sorted(FEATURE_COLLECTIONS))
def test_ogrinfo_feature_counts(
    ogrinfo: str, demo: LiveServer, index: SQLiteIndex, collection: str
) -> None:
    out = run_ogrinfo(ogrinfo, "-so", f"OAPIF:{demo.url}/ogc", collection)
    assert feature_count(out) == count(index, collection)


@pytest.mark.parametrize("bbox", BOXES)
def test_ogrinfo_spatial_filter_agrees_with_index(
    ogrinfo: str, demo: LiveServer, index: SQLiteIndex, bbox: tuple[float, ...]
) -> None:
    for collection in ("sehenswuerdigkeiten", "stadtbezirke"):
        out = run_ogrinfo(
            ogrinfo, "-so", f"OAPIF:{demo.url}/ogc", collection, "-spat", *map(str, bbox)
        )
        assert feature_count(out) == count(index, collection, bbox=bbox), collection


def test_ogrinfo_attribute_filter_agrees_with_index(
    ogrinfo: str, demo: LiveServer, index: SQLiteIndex
) -> None:
    out = run_ogrinfo(
        ogrinfo,
        "-so",
        f"OAPIF:{demo.url}/ogc",
        "sehenswuerdigkeiten",
        "-where",
        "kategorie = 'museum'",
    )
    expected = count(index, "sehenswuerdigkeiten", properties=(("kategorie", "museum"),))
    assert expected > 0
    assert feature_count(out) == expected


def test_ogrinfo_reads_every_feature_across_pages(
    ogrinfo: str, demo: LiveServer, index: SQLiteIndex
) -> None:
    """A small page size makes GDAL follow the next links: every feature exactly once."""
    out = run_ogrinfo(ogrinfo, "-oo", "PAGE_SIZE=7", f"OAPIF:{demo.url}/ogc", "sehenswuerdigkeiten")
    got = re.findall(r"^  id \(String\) = (\S+)$", out, flags=re.M)
    assert len(got) == len(re.findall(r"^OGRFeature\(sehenswuerdigkeiten\):", out, flags=re.M))
    assert len(got) == len(set(got)) == count(index, "sehenswuerdigkeiten")
    assert set(got) == ids(index, "sehenswuerdigkeiten")
    assert "POINT (6.77445 51.23538)" in out  # the Kunstpalast, geometry intact
