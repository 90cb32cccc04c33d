"""OGC API Features / Records of the demo catalogue, over real HTTP, as a GIS user sees them.

Expectations are computed from the demo data files themselves (catalogue/demo/data/*), with
the harvester's rules for broken records (non-numeric or out-of-range coordinates, invalid
rings are skipped), not from the index the server answers from.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from conftest import ROOT
from shapely import wkt
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

DATA = ROOT / "catalogue" / "demo" / "data"
DEMO_YML = ROOT / "catalogue" / "demo" / "demo.yml"
OGC = "/ogc"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FEATURE_COLLECTIONS = ("stadtbezirke", "sehenswuerdigkeiten", "mobilstationen", "luftmessstationen")
CONF_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CONF_GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
CONF_CRUD = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"
CONF_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter"
CONF_CQL2_TEXT = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"
CONF_CQL2_JSON = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json"


@pytest.fixture()
def http(backend_http: httpx.Client) -> httpx.Client:
    """Every test here runs on each index backend (SQLite, OpenSearch)."""
    return backend_http


# --------------------------------------------------------------------------------------------
# The demo data, read straight from the files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feat:
    id: str
    properties: dict[str, Any]
    geometry: BaseGeometry
    start: datetime | None  # item time: instant (start == end) or interval; None = open
    end: datetime | None


def _in_range(geom: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _valid_geojson(geometry: dict[str, Any]) -> BaseGeometry | None:
    def numbers(coords: Any) -> bool:
        if not isinstance(coords, list) or not coords:
            return False
        if not isinstance(coords[0], list):  # a position
            return all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)
        return all(numbers(c) for c in coords)

    if not numbers(geometry.get("coordinates")):
        return None
    try:
        geom = shape(geometry)
    except Exception:
        return None
    return geom if _in_range(geom) else None


def _day(text: str, *, end: bool = False) -> datetime:
    d = date.fromisoformat(text)
    if end:
        return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _moment(text: str) -> datetime:
    if len(text) == 10:
        return _day(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _typed(value: str) -> Any:
    text = value.strip()
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return value


@cache
def geojson_features(name: str, time_field: str) -> tuple[Feat, ...]:
    doc = json.loads((DATA / f"{name}.geojson").read_text(encoding="utf-8"))
    out = []
    for f in doc["features"]:
        geom = _valid_geojson(f["geometry"])
        if geom is None:
            continue
        t = _moment(f["properties"][time_field])
        out.append(Feat(str(f["id"]), f["properties"], geom, t, t))
    return tuple(out)


def pois() -> tuple[Feat, ...]:
    return geojson_features("sehenswuerdigkeiten", "eroeffnet")


def districts() -> tuple[Feat, ...]:
    return geojson_features("stadtbezirke", "stand")


@cache
def mobility() -> tuple[Feat, ...]:
    out = []
    with open(DATA / "mobilstationen.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except ValueError:
                continue
            geom = shape({"type": "Point", "coordinates": [lon, lat]})
            if not _in_range(geom):
                continue
            props = {k: _typed(v) for k, v in row.items() if k not in ("lat", "lon")}
            t = _moment(row["aktualisiert"])
            out.append(Feat(row["station_id"], props, geom, t, t))
    return tuple(out)


@cache
def air() -> tuple[Feat, ...]:
    out = []
    with open(DATA / "luftmessstationen.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            geom = wkt.loads(row["standort_wkt"])
            props = {k: _typed(v) for k, v in row.items() if k != "standort_wkt"}
            start = _day(row["messbeginn"]) if row["messbeginn"] else None
            end = _day(row["messende"], end=True) if row["messende"] else None
            out.append(Feat(row["kennung"], props, geom, start, end))
    return tuple(out)


def data(collection: str) -> tuple[Feat, ...]:
    return {
        "stadtbezirke": districts,
        "sehenswuerdigkeiten": pois,
        "mobilstationen": mobility,
        "luftmessstationen": air,
    }[collection]()


def ids(features: Any) -> set[str]:
    return {f.id if isinstance(f, Feat) else f["id"] for f in features}


def union_bbox(features: tuple[Feat, ...]) -> list[float]:
    bounds = [f.geometry.bounds for f in features]
    return [
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    ]


def overlaps(f: Feat, start: datetime | None, end: datetime | None) -> bool:
    """The item's time overlaps the closed query interval (None = open end)."""
    return (end is None or f.start is None or f.start <= end) and (
        start is None or f.end is None or f.end >= start
    )


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def text_matches(texts: list[str], query: str) -> bool:
    """Every word of the query is the prefix of a word of the texts, case and accents folded."""
    words = {w for t in texts for w in re.findall(r"[^\W_]+", fold(t))}
    return all(any(w.startswith(q) for w in words) for q in re.findall(r"[^\W_]+", fold(query)))


@cache
def demo_sources() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(DEMO_YML.read_text(encoding="utf-8"))
    return {s["name"]: s for s in doc["sources"]}


def dataset_temporal(collection: str) -> tuple[datetime | None, datetime | None]:
    features = data(collection)
    starts = [f.start for f in features]
    ends = [f.end for f in features]
    return (
        None if None in starts else min(starts),  # type: ignore[type-var]
        None if None in ends else max(ends),  # type: ignore[type-var]
    )


# --------------------------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------------------------


def items_url(collection: str) -> str:
    return f"{OGC}/collections/{collection}/items"


def get_items(http: httpx.Client, collection: str, **params: Any) -> dict[str, Any]:
    params = {"f": "json", "limit": 1000, **params}
    r = http.get(items_url(collection), params=params)
    assert r.status_code == 200, (params, r.status_code, r.text[:500])
    body = r.json()
    assert body["type"] == "FeatureCollection"
    return body


def matched(http: httpx.Client, collection: str, **params: Any) -> tuple[int, set[str]]:
    body = get_items(http, collection, **params)
    assert body["numberReturned"] == len(body["features"])
    assert body["numberMatched"] == len(body["features"]), "limit=1000 must return all matches"
    return body["numberMatched"], ids(body["features"])


def post_cql2_json(
    http: httpx.Client, collection: str, cql: dict[str, Any] | str, **params: Any
) -> httpx.Response:
    content = cql if isinstance(cql, str) else json.dumps(cql)
    return http.post(
        items_url(collection),
        params={"f": "json", "limit": 1000, **params},
        content=content.encode(),
        headers={"Content-Type": "application/json"},
    )


def assert_ogc_exception(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("description"), str) and body["description"], body
    assert "Traceback" not in r.text and 'File "' not in r.text, r.text
    return body


def link(links: list[dict[str, Any]], rel: str, media: str | None = None) -> dict[str, Any]:
    found = [lk for lk in links if lk["rel"] == rel and (media is None or lk.get("type") == media)]
    assert found, f"no {rel!r} link ({media}) in {links}"
    return found[0]


def local(href: str) -> str:
    """A link of the server as a path + query for the ``http`` client."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------------------------
# The loader agrees with the demo's README: the broken records are left out
# --------------------------------------------------------------------------------------------


def test_demo_data_counts_without_the_broken_records() -> None:
    assert len(pois()) == 60
    assert len(mobility()) == 38
    assert len(districts()) == 10
    assert len(air()) == 8
    assert not {"poi-broken-1", "poi-broken-2"} & ids(pois())
    assert not {"MS-0038", "MS-0039"} & ids(mobility())


# --------------------------------------------------------------------------------------------
# Landing page, conformance, OpenAPI, health
# --------------------------------------------------------------------------------------------


def test_landing_page_links(http: httpx.Client) -> None:
    r = http.get(f"{OGC}/", params={"f": "json"})
    assert r.status_code == 200
    body = r.json()
    assert body["title"] == "Open Urban Catalogue – Demo Düsseldorf"
    links = body["links"]
    conformance = link(links, "conformance")
    data_link = link(links, "data")
    service_desc = link(links, "service-desc")
    link(links, "self")
    assert urlsplit(conformance["href"]).path.endswith("/ogc/conformance")
    assert urlsplit(data_link["href"]).path.endswith("/ogc/collections")
    assert urlsplit(service_desc["href"]).path.endswith("/ogc/openapi")
    for target in (conformance, data_link, service_desc):
        followed = http.get(local(target["href"]), params={"f": "json"})
        assert followed.status_code == 200, target
        followed.json()
    # the links are absolute and point at this server
    assert all(
        lk["href"].startswith(str(http.base_url).rstrip("/"))
        for lk in links
        if "/ogc" in lk["href"]
    )


def test_every_landing_page_link_resolves(http: httpx.Client) -> None:
    links = http.get(f"{OGC}/", params={"f": "json"}).json()["links"]
    broken = []
    for lk in links:
        if not lk["href"].startswith(str(http.base_url).rstrip("/")):
            continue
        r = http.get(local(lk["href"]), follow_redirects=True)
        if r.status_code != 200:
            broken.append((lk["rel"], lk["href"], r.status_code))
    assert not broken


def test_root_is_the_portal_and_links_the_landing_page(http: httpx.Client) -> None:
    r = http.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert 'href="/ogc"' in r.text
    assert http.get("/ogc/", params={"f": "json"}).status_code == 200


def test_conformance_declares_features_core_and_geojson(http: httpx.Client) -> None:
    r = http.get(f"{OGC}/conformance", params={"f": "json"})
    assert r.status_code == 200
    conforms = set(r.json()["conformsTo"])
    assert CONF_CORE in conforms
    assert CONF_GEOJSON in conforms
    # whatever filter classes are declared must be backed by a working filter
    if conforms & {CONF_FILTER, CONF_CQL2_TEXT}:
        count, _ = matched(http, "sehenswuerdigkeiten", filter="bezirk = 1")
        assert count == sum(1 for f in pois() if f.properties["bezirk"] == 1)
    if CONF_CQL2_JSON in conforms:
        r = post_cql2_json(
            http, "sehenswuerdigkeiten", {"op": "=", "args": [{"property": "bezirk"}, 1]}
        )
        assert r.status_code == 200


def test_read_only_catalogue_does_not_claim_transactions(http: httpx.Client) -> None:
    conforms = http.get(f"{OGC}/conformance", params={"f": "json"}).json()["conformsTo"]
    r = http.delete(f"{items_url('sehenswuerdigkeiten')}/poi-001")
    assert r.status_code == 405
    assert CONF_CRUD not in conforms


def test_openapi_document(http: httpx.Client) -> None:
    r = http.get(f"{OGC}/openapi", params={"f": "json"})
    assert r.status_code == 200
    assert "json" in r.headers["content-type"]
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for collection in (*FEATURE_COLLECTIONS, "catalogue"):
        assert f"/collections/{collection}/items" in paths
        assert f"/collections/{collection}/items/{{featureId}}" in paths
        assert "get" in paths[f"/collections/{collection}/items"]
    assert "/conformance" in paths and "/collections" in paths


def test_openapi_paths_exist(http: httpx.Client) -> None:
    paths = http.get(f"{OGC}/openapi", params={"f": "json"}).json()["paths"]
    missing = []
    for path in paths:
        if "{" in path:
            continue
        r = http.get(f"{OGC}{path}", params={"f": "json"}, follow_redirects=True)
        if r.status_code == 404:
            missing.append(path)
    assert not missing


def test_health_counts(http: httpx.Client) -> None:
    r = http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["datasets"] == len(FEATURE_COLLECTIONS)
    assert body["items"] == sum(len(data(c)) for c in FEATURE_COLLECTIONS)
    assert body["sources"] == {
        c: {"datasets": 1, "items": len(data(c))} for c in FEATURE_COLLECTIONS
    }


# --------------------------------------------------------------------------------------------
# Collections
# --------------------------------------------------------------------------------------------


def test_collections_one_per_dataset_plus_records(http: httpx.Client) -> None:
    r = http.get(f"{OGC}/collections", params={"f": "json"})
    assert r.status_code == 200
    collections = {c["id"]: c for c in r.json()["collections"]}
    assert set(collections) == {*FEATURE_COLLECTIONS, "catalogue"}
    assert collections["catalogue"]["itemType"] == "record"
    for name in FEATURE_COLLECTIONS:
        c = collections[name]
        assert c["itemType"] == "feature"
        assert c["title"] == demo_sources()[name]["title"]
        items = link(c["links"], "items", "application/geo+json")
        assert urlsplit(items["href"]).path == f"/ogc/collections/{name}/items"


@pytest.mark.parametrize("collection", FEATURE_COLLECTIONS)
def test_collection_extent_matches_its_data(http: httpx.Client, collection: str) -> None:
    r = http.get(f"{OGC}/collections/{collection}", params={"f": "json"})
    assert r.status_code == 200
    extent = r.json()["extent"]
    (bbox,) = extent["spatial"]["bbox"]
    assert bbox == pytest.approx(union_bbox(data(collection)), abs=1e-9)
    assert extent["spatial"].get("crs", CRS84) == CRS84
    start, end = dataset_temporal(collection)
    if end is None:
        return  # open-ended: see test_open_ended_temporal_extent
    ((begin, finish),) = extent["temporal"]["interval"]
    assert _moment(begin) == start
    assert abs((_moment(finish) - end).total_seconds()) < 0.001


def test_open_ended_temporal_extent(http: httpx.Client) -> None:
    start, end = dataset_temporal("luftmessstationen")
    assert end is None  # the data has stations without messende
    extent = http.get(f"{OGC}/collections/luftmessstationen", params={"f": "json"}).json()["extent"]
    ((begin, finish),) = extent["temporal"]["interval"]
    assert _moment(begin) == start
    assert finish in (None, "..")


def test_unknown_collection_is_404(http: httpx.Client) -> None:
    assert_ogc_exception(http.get(f"{OGC}/collections/nope", params={"f": "json"}), 404)
    assert_ogc_exception(http.get(items_url("nope"), params={"f": "json"}), 404)
    assert_ogc_exception(http.get(f"{items_url('nope')}/poi-001", params={"f": "json"}), 404)


# --------------------------------------------------------------------------------------------
# Items: counts, paging, single items
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", FEATURE_COLLECTIONS)
def test_number_matched_is_the_real_count(http: httpx.Client, collection: str) -> None:
    body = get_items(http, collection, limit=3)
    assert body["numberMatched"] == len(data(collection))
    assert body["numberReturned"] == 3 == len(body["features"])
    everything = get_items(http, collection)
    assert ids(everything["features"]) == ids(data(collection))


def test_broken_demo_records_are_not_served(http: httpx.Client) -> None:
    assert get_items(http, "sehenswuerdigkeiten", limit=1)["numberMatched"] == 60
    assert get_items(http, "mobilstationen", limit=1)["numberMatched"] == 38
    assert get_items(http, "stadtbezirke", limit=1)["numberMatched"] == 10
    assert get_items(http, "luftmessstationen", limit=1)["numberMatched"] == 8
    for collection, item in (
        ("sehenswuerdigkeiten", "poi-broken-1"),
        ("mobilstationen", "MS-0039"),
    ):
        assert_ogc_exception(http.get(f"{items_url(collection)}/{item}", params={"f": "json"}), 404)


def _follow_pages(http: httpx.Client, first: dict[str, Any]) -> list[list[str]]:
    pages = [[f["id"] for f in first["features"]]]
    body = first
    for _ in range(100):
        nxt = [lk for lk in body["links"] if lk["rel"] == "next"]
        if not nxt:
            return pages
        r = http.get(local(nxt[0]["href"]))
        assert r.status_code == 200, nxt[0]["href"]
        body = r.json()
        pages.append([f["id"] for f in body["features"]])
    raise AssertionError("the next links never end")


def test_limit_offset_and_next_links_page_through_everything(http: httpx.Client) -> None:
    expected = ids(pois())
    first = get_items(http, "sehenswuerdigkeiten", limit=25)
    pages = _follow_pages(http, first)
    assert [len(p) for p in pages] == [25, 25, 10]
    seen = [i for p in pages for i in p]
    assert len(seen) == len(set(seen)), "pages overlap"
    assert set(seen) == expected
    # offset gives the same pages
    second = get_items(http, "sehenswuerdigkeiten", limit=25, offset=25)
    assert [f["id"] for f in second["features"]] == pages[1]
    # past the end: nothing, and no next link
    beyond = get_items(http, "sehenswuerdigkeiten", limit=25, offset=60)
    assert beyond["features"] == [] and beyond["numberMatched"] == 60
    assert not [lk for lk in beyond["links"] if lk["rel"] == "next"]


def test_next_links_keep_the_filters(http: httpx.Client) -> None:
    expected = {f.id for f in pois() if f.properties["kategorie"] == "museum"}
    first = get_items(http, "sehenswuerdigkeiten", kategorie="museum", limit=5)
    assert first["numberMatched"] == len(expected)
    pages = _follow_pages(http, first)
    seen = [i for p in pages for i in p]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_single_item_is_a_geojson_feature(http: httpx.Client) -> None:
    r = http.get(f"{items_url('sehenswuerdigkeiten')}/poi-001", params={"f": "json"})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] in ("application/geo+json", "application/json")
    feature = r.json()
    expected = next(f for f in pois() if f.id == "poi-001")
    assert feature["type"] == "Feature"
    assert feature["id"] == "poi-001"
    assert shape(feature["geometry"]).equals(expected.geometry)
    assert feature["properties"] == expected.properties
    # also without f=json (the default)
    assert http.get(f"{items_url('sehenswuerdigkeiten')}/poi-001").json()["id"] == "poi-001"


def test_single_polygon_and_csv_items(http: httpx.Client) -> None:
    for collection, feat in (("stadtbezirke", districts()[2]), ("mobilstationen", mobility()[0])):
        r = http.get(f"{items_url(collection)}/{feat.id}", params={"f": "json"})
        assert r.status_code == 200
        feature = r.json()
        assert shape(feature["geometry"]).equals(feat.geometry)
        assert feature["properties"] == feat.properties


def test_unknown_item_is_404_with_ogc_exception(http: httpx.Client) -> None:
    body = assert_ogc_exception(
        http.get(f"{items_url('sehenswuerdigkeiten')}/poi-999", params={"f": "json"}), 404
    )
    assert body["code"] == "NotFound"


# --------------------------------------------------------------------------------------------
# bbox
# --------------------------------------------------------------------------------------------

BOXES = [
    (6.70, 51.20, 6.80, 51.30),
    (6.77, 51.21, 6.79, 51.235),  # the centre
    (6.85, 51.10, 6.95, 51.20),  # the south-east
    (7.50, 52.00, 8.00, 53.00),  # elsewhere: nothing
]


@pytest.mark.parametrize("bbox", BOXES)
@pytest.mark.parametrize(
    "collection", ["sehenswuerdigkeiten", "mobilstationen", "luftmessstationen"]
)
def test_bbox_returns_exactly_the_features_inside(
    http: httpx.Client, collection: str, bbox: tuple[float, ...]
) -> None:
    area = box(*bbox)
    expected = {f.id for f in data(collection) if area.intersects(f.geometry)}
    count, got = matched(http, collection, bbox=",".join(map(str, bbox)))
    assert got == expected
    assert count == len(expected)


def test_bbox_on_polygons_means_intersects_not_envelope_overlap(http: httpx.Client) -> None:
    # inside the envelope of Stadtbezirk 10 but outside its polygon (in Stadtbezirk 9)
    bbox = (6.856, 51.150, 6.862, 51.154)
    area = box(*bbox)
    expected = {f.id for f in districts() if area.intersects(f.geometry)}
    envelopes = {f.id for f in districts() if area.intersects(box(*f.geometry.bounds))}
    assert expected != envelopes  # the box tells the two semantics apart
    count, got = matched(http, "stadtbezirke", bbox=",".join(map(str, bbox)))
    assert got == expected
    # a box crossing several districts
    bbox = (6.79, 51.21, 6.81, 51.23)
    expected = {f.id for f in districts() if box(*bbox).intersects(f.geometry)}
    assert len(expected) > 1
    assert matched(http, "stadtbezirke", bbox=",".join(map(str, bbox)))[1] == expected


def test_bbox_with_six_numbers(http: httpx.Client) -> None:
    area = box(6.70, 51.20, 6.80, 51.30)
    expected = {f.id for f in pois() if area.intersects(f.geometry)}
    count, got = matched(http, "sehenswuerdigkeiten", bbox="6.7,51.2,-100,6.8,51.3,1000")
    assert got == expected


# --------------------------------------------------------------------------------------------
# datetime
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datetime_", "start", "end"),
    [
        ("1986-03-14", _day("1986-03-14"), _day("1986-03-14", end=True)),
        ("1926-05-08", _day("1926-05-08"), _day("1926-05-08", end=True)),  # two openings
        ("1986-03-14T00:00:00Z", _day("1986-03-14"), _day("1986-03-14")),
        ("1900-01-01/1950-12-31", _day("1900-01-01"), _day("1950-12-31", end=True)),
        (
            "1900-01-01T00:00:00Z/1950-12-31T23:59:59Z",
            _day("1900-01-01"),
            _moment("1950-12-31T23:59:59Z"),
        ),
        ("../2000-01-01", None, _day("2000-01-01", end=True)),
        ("2000-01-01/..", _day("2000-01-01"), None),
        ("/1800-01-01", None, _day("1800-01-01", end=True)),
    ],
)
def test_datetime_on_points_of_interest(
    http: httpx.Client, datetime_: str, start: datetime | None, end: datetime | None
) -> None:
    expected = {f.id for f in pois() if overlaps(f, start, end)}
    assert expected  # every case selects something
    count, got = matched(http, "sehenswuerdigkeiten", datetime=datetime_)
    assert got == expected
    assert count == len(expected)


def test_open_ended_intervals_partition_the_items(http: httpx.Client) -> None:
    before = matched(http, "sehenswuerdigkeiten", datetime="../2000-01-01")[1]
    after = matched(http, "sehenswuerdigkeiten", datetime="2000-01-01/..")[1]
    same_day = {f.id for f in pois() if f.properties["eroeffnet"] == "2000-01-01"}
    assert before | after == ids(pois())
    assert before & after == same_day


@pytest.mark.parametrize("day", ["2000-01-01", "2010-06-15", "2020-01-01"])
def test_datetime_on_item_intervals(http: httpx.Client, day: str) -> None:
    """Air-quality stations have measuring periods; an empty messende means still measuring."""
    expected = {f.id for f in air() if overlaps(f, _day(day), _day(day, end=True))}
    assert matched(http, "luftmessstationen", datetime=day)[1] == expected


def test_datetime_finds_stations_still_measuring(http: httpx.Client) -> None:
    expected = {f.id for f in air() if f.end is None}
    r = http.get(items_url("luftmessstationen"), params={"f": "json", "datetime": "2024-06-01"})
    assert r.status_code == 200, r.text
    assert ids(r.json()["features"]) == expected


def test_datetime_matching_nothing_is_an_empty_result(http: httpx.Client) -> None:
    assert not {f.id for f in pois() if overlaps(f, _day("2023-01-01"), None)}
    r = http.get(
        items_url("sehenswuerdigkeiten"), params={"f": "json", "datetime": "2023-01-01/.."}
    )
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == 0


# --------------------------------------------------------------------------------------------
# Property equality, q, sortby, resulttype
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "name", "value", "python_value"),
    [
        ("sehenswuerdigkeiten", "kategorie", "museum", "museum"),
        ("sehenswuerdigkeiten", "bezirk", "1", 1),
        ("sehenswuerdigkeiten", "barrierefrei", "true", True),
        ("sehenswuerdigkeiten", "barrierefrei", "false", False),
        ("mobilstationen", "typ", "fahrrad", "fahrrad"),
        ("mobilstationen", "stellplaetze", "16", 16),
        ("stadtbezirke", "bezirk", "3", 3),
    ],
)
def test_property_equality(
    http: httpx.Client, collection: str, name: str, value: str, python_value: Any
) -> None:
    expected = {f.id for f in data(collection) if f.properties.get(name) == python_value}
    assert expected
    count, got = matched(http, collection, **{name: value})
    assert got == expected
    assert count == len(expected)


def test_properties_combine_with_and(http: httpx.Client) -> None:
    expected = {
        f.id
        for f in pois()
        if f.properties["kategorie"] == "museum"
        and f.properties["bezirk"] == 1
        and f.properties["barrierefrei"] is True
    }
    got = matched(http, "sehenswuerdigkeiten", kategorie="museum", bezirk="1", barrierefrei="true")[
        1
    ]
    assert got == expected


@pytest.mark.parametrize(
    "q", ["Dusseldorf", "Düsseldorf", "Kunstpalast", "kunst", "Schloss Benrath"]
)
def test_full_text_q(http: httpx.Client, q: str) -> None:
    expected = {f.id for f in pois() if text_matches(_strings(f.properties), q)}
    assert expected
    assert matched(http, "sehenswuerdigkeiten", q=q)[1] == expected


def test_q_folds_diacritics(http: httpx.Client) -> None:
    plain = matched(http, "sehenswuerdigkeiten", q="Dusseldorf")[1]
    accented = matched(http, "sehenswuerdigkeiten", q="Düsseldorf")[1]
    assert plain == accented
    assert any("Düsseldorf" in f.properties["name"] for f in pois() if f.id in plain)
    assert matched(http, "sehenswuerdigkeiten", q="Kunstpalast")[1] == {
        f.id for f in pois() if "Kunstpalast" in f.properties["name"]
    }


def test_q_comma_means_or(http: httpx.Client) -> None:
    a = matched(http, "sehenswuerdigkeiten", q="Kunstpalast")[1]
    b = matched(http, "sehenswuerdigkeiten", q="Rheinturm")[1]
    assert a and b
    assert matched(http, "sehenswuerdigkeiten", q="Kunstpalast,Rheinturm")[1] == a | b


def test_sortby_descending_date(http: httpx.Client) -> None:
    features = get_items(http, "sehenswuerdigkeiten", sortby="-eroeffnet")["features"]
    dates = [f["properties"]["eroeffnet"] for f in features]
    assert len(dates) == 60
    assert dates == sorted((f.properties["eroeffnet"] for f in pois()), reverse=True)


def test_sortby_name(http: httpx.Client) -> None:
    for sortby in ("name", "+name"):
        features = get_items(http, "sehenswuerdigkeiten", sortby=sortby)["features"]
        names = [f["properties"]["name"] for f in features]
        assert names == sorted(f.properties["name"] for f in pois())


def test_sortby_two_keys_with_paging(http: httpx.Client) -> None:
    order = sorted(pois(), key=lambda f: f.id)
    order = sorted(order, key=lambda f: f.properties["eroeffnet"], reverse=True)
    order = sorted(order, key=lambda f: f.properties["bezirk"])
    keys = [(f.properties["bezirk"], f.properties["eroeffnet"]) for f in order]
    got = []
    for offset in (0, 20, 40):
        page = get_items(
            http, "sehenswuerdigkeiten", sortby="bezirk,-eroeffnet", limit=20, offset=offset
        )
        got += [(f["properties"]["bezirk"], f["properties"]["eroeffnet"]) for f in page["features"]]
    assert got == keys


def test_resulttype_hits(http: httpx.Client) -> None:
    body = get_items(http, "sehenswuerdigkeiten", resulttype="hits")
    assert body["numberMatched"] == 60
    assert body.get("features", []) == []
    body = get_items(http, "sehenswuerdigkeiten", resulttype="hits", kategorie="museum")
    assert body["numberMatched"] == sum(1 for f in pois() if f.properties["kategorie"] == "museum")
    assert body.get("features", []) == []


# --------------------------------------------------------------------------------------------
# Queryables
# --------------------------------------------------------------------------------------------


def _json_type(values: list[Any]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        kinds.add(
            "boolean"
            if isinstance(v, bool)
            else "integer"
            if isinstance(v, int)
            else "number"
            if isinstance(v, float)
            else "string"
        )
    if not kinds:
        return "string"
    if len(kinds) == 1:
        return kinds.pop()
    return "number" if kinds <= {"integer", "number"} else "string"


@pytest.mark.parametrize("collection", FEATURE_COLLECTIONS)
def test_queryables_list_properties_with_types(http: httpx.Client, collection: str) -> None:
    r = http.get(f"{OGC}/collections/{collection}/queryables", params={"f": "json"})
    assert r.status_code == 200
    props = r.json()["properties"]
    names = {k for f in data(collection) for k in f.properties}
    assert names <= set(props)
    for name in names:
        expected = _json_type([f.properties.get(name) for f in data(collection)])
        assert props[name]["type"] == expected, name
    if collection == "sehenswuerdigkeiten":
        assert props["bezirk"]["type"] == "integer"
        assert props["barrierefrei"]["type"] == "boolean"
        assert props["name"]["type"] == "string"


# --------------------------------------------------------------------------------------------
# CQL2 filters
# --------------------------------------------------------------------------------------------

CENTRE = [(6.77, 51.22), (6.79, 51.22), (6.79, 51.24), (6.77, 51.24), (6.77, 51.22)]
CENTRE_WKT = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in CENTRE) + "))"


def _p(f: Feat, name: str) -> Any:
    return f.properties.get(name)


TEXT_FILTERS = {
    "bezirk > 5 AND kategorie = 'park'": lambda f: (
        _p(f, "bezirk") > 5 and _p(f, "kategorie") == "park"
    ),
    "name LIKE 'Schloss%'": lambda f: _p(f, "name").startswith("Schloss"),
    "name LIKE '%museum%'": lambda f: "museum" in _p(f, "name"),
    "kategorie IN ('museum', 'theater')": lambda f: _p(f, "kategorie") in ("museum", "theater"),
    "bezirk BETWEEN 2 AND 4": lambda f: 2 <= _p(f, "bezirk") <= 4,
    "bezirk <> 1 OR barrierefrei = false": lambda f: (
        _p(f, "bezirk") != 1 or not _p(f, "barrierefrei")
    ),
    "NOT kategorie = 'park'": lambda f: _p(f, "kategorie") != "park",
    "website IS NULL": lambda f: _p(f, "website") is None,
    "eroeffnet < '1800-01-01'": lambda f: _p(f, "eroeffnet") < "1800-01-01",
    f"INTERSECTS(geometry, {CENTRE_WKT})": lambda f: shape(
        {"type": "Polygon", "coordinates": [CENTRE]}
    ).intersects(f.geometry),
    "BBOX(geometry, 6.77, 51.22, 6.79, 51.24)": lambda f: box(6.77, 51.22, 6.79, 51.24).intersects(
        f.geometry
    ),
    # temporal operators in the ECQL form the server's parser understands
    "datetime AFTER 2000-01-01T00:00:00Z": lambda f: f.start > _day("2000-01-01"),
    "datetime BEFORE 1800-01-01T00:00:00Z": lambda f: f.end < _day("1800-01-01"),
}


@pytest.mark.parametrize("cql", list(TEXT_FILTERS))
def test_cql2_text_filter(http: httpx.Client, cql: str) -> None:
    expected = {f.id for f in pois() if TEXT_FILTERS[cql](f)}
    assert 0 < len(expected) < 60, "the case must select something, not everything"
    count, got = matched(http, "sehenswuerdigkeiten", filter=cql)
    assert got == expected
    assert count == len(expected)


def test_cql2_text_filter_on_polygons(http: httpx.Client) -> None:
    expected = {f.id for f in districts() if f.properties["einwohner"] > 60000}
    assert matched(http, "stadtbezirke", filter="einwohner > 60000")[1] == expected
    point = shape({"type": "Point", "coordinates": [6.7745, 51.2354]})
    expected = {f.id for f in districts() if f.geometry.intersects(point)}
    assert len(expected) == 1
    assert (
        matched(http, "stadtbezirke", filter="INTERSECTS(geometry, POINT(6.7745 51.2354))")[1]
        == expected
    )


def test_filter_combines_with_other_parameters(http: httpx.Client) -> None:
    area = box(6.70, 51.20, 6.80, 51.30)
    expected = {
        f.id
        for f in pois()
        if f.properties["bezirk"] <= 3
        and area.intersects(f.geometry)
        and f.properties["barrierefrei"]
    }
    got = matched(
        http,
        "sehenswuerdigkeiten",
        filter="bezirk <= 3",
        bbox="6.7,51.2,6.8,51.3",
        barrierefrei="true",
    )[1]
    assert got == expected


STANDARD_CQL2_TEXT = {
    f"S_INTERSECTS(geometry, {CENTRE_WKT})": TEXT_FILTERS[f"INTERSECTS(geometry, {CENTRE_WKT})"],
    "NOT (kategorie = 'park')": lambda f: _p(f, "kategorie") != "park",
}


@pytest.mark.xfail(
    reason="filter= is parsed as ECQL (pygeoapi), so CQL2-text syntax such as S_INTERSECTS or "
    "NOT (...) answers 400 'Bad CQL text'",
    strict=True,
)
@pytest.mark.parametrize("cql", list(STANDARD_CQL2_TEXT))
def test_standard_cql2_text_syntax(http: httpx.Client, cql: str) -> None:
    expected = {f.id for f in pois() if STANDARD_CQL2_TEXT[cql](f)}
    assert matched(http, "sehenswuerdigkeiten", filter=cql)[1] == expected


def test_cql_during_interval(http: httpx.Client) -> None:
    start, end = _day("1900-01-01"), _moment("1950-12-31T23:59:59Z")
    expected = {f.id for f in pois() if start < f.start and f.end < end}
    r = http.get(
        items_url("sehenswuerdigkeiten"),
        params={
            "f": "json",
            "limit": 1000,
            "filter": "datetime DURING 1900-01-01T00:00:00Z/1950-12-31T23:59:59Z",
        },
    )
    assert r.status_code == 200, r.text
    assert ids(r.json()["features"]) == expected


JSON_FILTERS: dict[str, tuple[dict[str, Any], Any]] = {
    "and": (
        {
            "op": "and",
            "args": [
                {"op": ">", "args": [{"property": "bezirk"}, 5]},
                {"op": "=", "args": [{"property": "kategorie"}, "park"]},
            ],
        },
        TEXT_FILTERS["bezirk > 5 AND kategorie = 'park'"],
    ),
    "like": (
        {"op": "like", "args": [{"property": "name"}, "Schloss%"]},
        TEXT_FILTERS["name LIKE 'Schloss%'"],
    ),
    "in": (
        {"op": "in", "args": [{"property": "kategorie"}, ["museum", "theater"]]},
        TEXT_FILTERS["kategorie IN ('museum', 'theater')"],
    ),
    "not": (
        {"op": "not", "args": [{"op": "=", "args": [{"property": "kategorie"}, "park"]}]},
        lambda f: _p(f, "kategorie") != "park",
    ),
    "s_intersects": (
        {
            "op": "s_intersects",
            "args": [
                {"property": "geometry"},
                {"type": "Polygon", "coordinates": [CENTRE]},
            ],
        },
        TEXT_FILTERS[f"INTERSECTS(geometry, {CENTRE_WKT})"],
    ),
    "t_after": (
        {
            "op": "t_after",
            "args": [{"property": "datetime"}, {"timestamp": "2000-01-01T00:00:00Z"}],
        },
        TEXT_FILTERS["datetime AFTER 2000-01-01T00:00:00Z"],
    ),
    "t_before": (
        {
            "op": "t_before",
            "args": [{"property": "datetime"}, {"timestamp": "1800-01-01T00:00:00Z"}],
        },
        TEXT_FILTERS["datetime BEFORE 1800-01-01T00:00:00Z"],
    ),
}


@pytest.mark.parametrize("name", list(JSON_FILTERS))
def test_cql2_json_filter_by_post(http: httpx.Client, name: str) -> None:
    cql, predicate = JSON_FILTERS[name]
    expected = {f.id for f in pois() if predicate(f)}
    assert 0 < len(expected) < 60
    r = post_cql2_json(http, "sehenswuerdigkeiten", cql)
    assert r.status_code == 200, r.text
    body = r.json()
    assert ids(body["features"]) == expected
    assert body["numberMatched"] == len(expected)


@pytest.mark.xfail(
    reason="CQL2 JSON BETWEEN in the standard's form {'op':'between','args':[prop, lo, hi]} "
    "answers 400 'Bad CQL JSON' (pygeofilter 0.4 expects the draft form [prop, [lo, hi]])",
    strict=True,
)
def test_cql2_json_between(http: httpx.Client) -> None:
    expected = {f.id for f in pois() if 2 <= f.properties["bezirk"] <= 4}
    r = post_cql2_json(
        http, "sehenswuerdigkeiten", {"op": "between", "args": [{"property": "bezirk"}, 2, 4]}
    )
    assert r.status_code == 200, r.text
    assert ids(r.json()["features"]) == expected


def test_cql2_json_errors(http: httpx.Client) -> None:
    assert_ogc_exception(post_cql2_json(http, "sehenswuerdigkeiten", "{not json"), 400)
    assert_ogc_exception(
        post_cql2_json(http, "sehenswuerdigkeiten", {"op": "=", "args": [{"property": "nope"}, 1]}),
        400,
    )


# --------------------------------------------------------------------------------------------
# Bad requests: 400 with an OGC exception, never a 500 or a traceback
# --------------------------------------------------------------------------------------------

BAD_REQUESTS = [
    pytest.param({"bbox": "6.7,51.2,6.8"}, id="bbox-3-numbers"),
    pytest.param({"bbox": "a,b,c,d"}, id="bbox-text"),
    pytest.param({"bbox": "6.7,51.3,6.8,51.2"}, id="bbox-miny-above-maxy"),
    pytest.param({"datetime": "garbage"}, id="datetime-garbage"),
    pytest.param({"datetime": "2000-13-45"}, id="datetime-bad-month"),
    pytest.param({"datetime": "2020-01-01/2010-01-01"}, id="datetime-end-before-start"),
    pytest.param({"datetime": "../.."}, id="datetime-both-open"),
    pytest.param({"limit": "0"}, id="limit-0"),
    pytest.param({"limit": "abc"}, id="limit-abc"),
    pytest.param({"offset": "-1"}, id="offset-negative"),
    pytest.param({"offset": "abc"}, id="offset-abc"),
    pytest.param({"sortby": "nope"}, id="sortby-unknown"),
    pytest.param({"filter": "bezirk >>> 5"}, id="cql-malformed"),
    pytest.param({"filter": "bezirk = 1 AND"}, id="cql-incomplete"),
    pytest.param({"filter": "nope = 5"}, id="cql-unknown-property"),
    pytest.param({"filter": "INTERSECTS(geometry, POLYGON((1 1, 2 2)))"}, id="cql-bad-geometry"),
    pytest.param({"bezirk": "abc"}, id="integer-property-text"),
    pytest.param({"barrierefrei": "vielleicht"}, id="boolean-property-text"),
    pytest.param({"properties": "nope"}, id="properties-unknown"),
    pytest.param(
        {"bbox": "6.7,51.2,6.8,91"},
        id="bbox-latitude-above-90",
    ),
    pytest.param(
        {"bbox": "6.7,-91,6.8,51.3"},
        id="bbox-latitude-below-90",
    ),
    pytest.param(
        {"sortby": ""},
        id="sortby-empty",
    ),
    pytest.param(
        {"offset": "99999999999999999999"},
        id="offset-huge",
    ),
    pytest.param({"bbox": "nan,51.2,6.8,51.3"}, id="bbox-nan"),
    pytest.param({"bbox": "6.7,51.2,1e400,51.3"}, id="bbox-infinite"),
]


@pytest.mark.parametrize("params", BAD_REQUESTS)
def test_bad_request_is_400_with_ogc_exception(http: httpx.Client, params: dict[str, str]) -> None:
    r = http.get(items_url("sehenswuerdigkeiten"), params={"f": "json", **params})
    assert_ogc_exception(r, 400)


def test_bad_record_search_is_400(http: httpx.Client) -> None:
    for params in (
        {"bbox": "1,2,3"},
        {"datetime": "garbage"},
        {"filter": "nope = 1"},
        {"limit": "0"},
    ):
        assert_ogc_exception(http.get(items_url("catalogue"), params={"f": "json", **params}), 400)


# --------------------------------------------------------------------------------------------
# SQL-looking input is only data
# --------------------------------------------------------------------------------------------


def test_sql_looking_input_is_just_data(http: httpx.Client) -> None:
    for params in (
        {"q": "'; DROP TABLE items;--"},
        {"kategorie": "' OR 1=1 --"},
        {"kategorie": "museum' OR '1'='1"},
        {"q": '" OR 1=1 --'},
    ):
        body = get_items(http, "sehenswuerdigkeiten", **params)
        assert body["numberMatched"] == 0, params
        assert body["features"] == []
    r = post_cql2_json(
        http,
        "sehenswuerdigkeiten",
        {"op": "=", "args": [{"property": "kategorie"}, "x' OR 1=1 --"]},
    )
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    # a property name cannot smuggle SQL either: it is just an unknown queryable
    r = http.get(
        items_url("sehenswuerdigkeiten"),
        params={"f": "json", "filter": '"a\') OR 1=1 --" = 1'},
    )
    assert_ogc_exception(r, 400)
    r = http.get(items_url("catalogue"), params={"f": "json", "q": "'; DROP TABLE datasets;--"})
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    # everything is still there and the server answers normally
    assert get_items(http, "sehenswuerdigkeiten", limit=1)["numberMatched"] == 60
    assert get_items(http, "catalogue", limit=1)["numberMatched"] == len(FEATURE_COLLECTIONS)
    assert http.get("/health").json()["items"] == sum(len(data(c)) for c in FEATURE_COLLECTIONS)


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "Open Urban Catalogue"),
        ("/collections", "Sehenswürdigkeiten und Kultureinrichtungen (Demo)"),
        ("/collections/sehenswuerdigkeiten", "Sehenswürdigkeiten und Kultureinrichtungen (Demo)"),
        ("/collections/sehenswuerdigkeiten/items", "Kunstpalast"),
        ("/collections/sehenswuerdigkeiten/items/poi-003", "Kunstpalast"),
        ("/collections/stadtbezirke/items/bezirk-01", "Altstadt"),
        ("/collections/catalogue/items", "Luftqualitätsmessstationen (Demo)"),
        ("/collections/catalogue/items/luftmessstationen", "Luftqualitätsmessstationen (Demo)"),
        ("/conformance", "conf/core"),
    ],
)
def test_html_pages(http: httpx.Client, path: str, text: str) -> None:
    r = http.get(f"{OGC}{path}", params={"f": "html", "limit": 100})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert text in r.text


# --------------------------------------------------------------------------------------------
# The records collection ``catalogue``
# --------------------------------------------------------------------------------------------


def dataset_texts(name: str) -> list[str]:
    s = demo_sources()[name]
    return [s.get("title", ""), s.get("description", ""), *s.get("keywords", [])]


def test_records_list_every_dataset(http: httpx.Client) -> None:
    body = get_items(http, "catalogue")
    assert body["numberMatched"] == len(FEATURE_COLLECTIONS)
    records = {f["id"]: f for f in body["features"]}
    assert set(records) == set(FEATURE_COLLECTIONS)
    for name, record in records.items():
        assert record["properties"]["title"] == demo_sources()[name]["title"]
        assert record["properties"]["itemCount"] == len(data(name))
        # the record leads to the dataset's features
        items = link(record["links"], "items")
        followed = http.get(local(items["href"]), params={"f": "json", "limit": 1})
        assert followed.status_code == 200
        assert followed.json()["numberMatched"] == len(data(name))


@pytest.mark.parametrize("q", ["Luftqualität", "Luftqualitat", "Kultur", "Verkehr"])
def test_records_full_text(http: httpx.Client, q: str) -> None:
    expected = {n for n in FEATURE_COLLECTIONS if text_matches(dataset_texts(n), q)}
    assert expected
    assert matched(http, "catalogue", q=q)[1] == expected
    if q.startswith("Luftqualit"):
        assert expected == {"luftmessstationen"}


@pytest.mark.parametrize(
    "bbox",
    [
        (6.70, 51.13, 6.72, 51.15),
        (6.88, 51.26, 6.95, 51.30),
        (6.90, 51.17, 6.95, 51.19),
        (7.5, 52.0, 8.0, 53.0),
    ],
)
def test_records_bbox_intersects_dataset_extents(
    http: httpx.Client, bbox: tuple[float, ...]
) -> None:
    area = box(*bbox)
    expected = {n for n in FEATURE_COLLECTIONS if area.intersects(box(*union_bbox(data(n))))}
    assert matched(http, "catalogue", bbox=",".join(map(str, bbox)))[1] == expected


@pytest.mark.parametrize(
    ("datetime_", "start", "end"),
    [
        ("2020-01-01/2020-12-31", _day("2020-01-01"), _day("2020-12-31", end=True)),
        ("../1990-01-01", None, _day("1990-01-01", end=True)),
        ("1999-01-01/2000-12-31", _day("1999-01-01"), _day("2000-12-31", end=True)),
    ],
)
def test_records_datetime_on_dataset_extents(
    http: httpx.Client, datetime_: str, start: datetime | None, end: datetime | None
) -> None:
    expected = {n for n in FEATURE_COLLECTIONS if _dataset_hit(n, start, end)}
    assert expected
    assert matched(http, "catalogue", datetime=datetime_)[1] == expected


def _dataset_hit(name: str, start: datetime | None, end: datetime | None) -> bool:
    t0, t1 = dataset_temporal(name)
    return (end is None or t0 is None or t0 <= end) and (start is None or t1 is None or t1 >= start)


@pytest.mark.parametrize(
    ("datetime_", "start", "end"),
    [
        ("2024-06-01", _day("2024-06-01"), _day("2024-06-01", end=True)),
        ("2025-12-31", _day("2025-12-31"), _day("2025-12-31", end=True)),
        ("2026-01-01/..", _day("2026-01-01"), None),
    ],
)
def test_records_datetime_finds_ongoing_datasets(
    http: httpx.Client, datetime_: str, start: datetime | None, end: datetime | None
) -> None:
    expected = {n for n in FEATURE_COLLECTIONS if _dataset_hit(n, start, end)}
    assert "luftmessstationen" in expected
    assert matched(http, "catalogue", datetime=datetime_)[1] == expected


def test_records_property_and_filter(http: httpx.Client) -> None:
    sensors = {n for n, s in demo_sources().items() if s.get("kind") == "sensor"}
    assert sensors == {"luftmessstationen"}
    assert matched(http, "catalogue", kind="sensor")[1] == sensors
    assert matched(http, "catalogue", filter="kind = 'sensor'")[1] == sensors
    titles = [
        f["properties"]["title"] for f in get_items(http, "catalogue", sortby="title")["features"]
    ]
    assert titles == sorted(s["title"] for s in demo_sources().values())


def test_single_record_and_unknown_record(http: httpx.Client) -> None:
    r = http.get(f"{items_url('catalogue')}/luftmessstationen", params={"f": "json"})
    assert r.status_code == 200
    record = r.json()
    assert record["id"] == "luftmessstationen"
    assert record["type"] == "Feature"
    assert record["properties"]["title"] == demo_sources()["luftmessstationen"]["title"]
    assert record["properties"]["kind"] == "sensor"
    assert set(record["properties"]["keywords"]) == set(
        demo_sources()["luftmessstationen"]["keywords"]
    )
    assert shape(record["geometry"]).equals(box(*union_bbox(air())))
    assert_ogc_exception(http.get(f"{items_url('catalogue')}/nope", params={"f": "json"}), 404)


def test_geometry_round_trip_of_polygons(http: httpx.Client) -> None:
    features = {f["id"]: f for f in get_items(http, "stadtbezirke")["features"]}
    for feat in districts():
        assert shape(features[feat.id]["geometry"]).equals(feat.geometry), feat.id
        assert mapping(feat.geometry)["type"] == features[feat.id]["geometry"]["type"]
