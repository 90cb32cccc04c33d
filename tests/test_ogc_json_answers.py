"""The catalogue answers JSON item requests itself (catalogue/ogc/items_json.py); pygeoapi answers
the rest. Both must say the same thing: a client cannot tell which of them answered.

pygeoapi is made to answer by adding ``skipGeometry=false``, a parameter the fast path leaves to
it and that changes nothing in the answer.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from conftest import ROOT, LiveServer, free_port
from starlette.requests import Request

from catalogue.index import open_index
from catalogue.ogc.service import OGCService

DATA = ROOT / "catalogue" / "demo" / "data"
OGC = "/ogc"

QUERIES = [
    ("sehenswuerdigkeiten", {}),
    ("sehenswuerdigkeiten", {"limit": "3", "offset": "2"}),
    ("sehenswuerdigkeiten", {"bbox": "6.7,51.2,6.8,51.25", "limit": "5"}),
    ("sehenswuerdigkeiten", {"kategorie": "museum", "sortby": "-name"}),
    ("sehenswuerdigkeiten", {"q": "kunst", "limit": "2"}),
    ("mobilstationen", {"datetime": "2025-06-01T00:00:00Z/..", "limit": "4"}),
    ("mobilstationen", {"resulttype": "hits"}),
    ("catalogue", {"q": "düsseldorf"}),
    ("catalogue", {"limit": "2", "offset": "1", "sortby": "title"}),
]


def _strip(body: dict[str, Any], marker: str) -> dict[str, Any]:
    body = dict(body)
    body.pop("timeStamp", None)
    for link in body.get("links", []):
        link["href"] = link["href"].replace(marker, "")
    return body


@pytest.mark.parametrize(("collection", "params"), QUERIES)
def test_fast_answer_equals_pygeoapis(
    http: httpx.Client, collection: str, params: dict[str, str]
) -> None:
    url = f"{OGC}/collections/{collection}/items"
    fast = http.get(url, params={"f": "json", **params})
    slow = http.get(url, params={"f": "json", **params, "skipGeometry": "false"})
    assert fast.status_code == slow.status_code == 200
    assert fast.json()["timeStamp"].endswith("Z")
    assert _strip(fast.json(), "") == _strip(slow.json(), "&skipGeometry=false")
    for header in ("content-type", "content-crs", "content-language"):
        assert fast.headers.get(header) == slow.headers.get(header), header
    assert fast.headers["content-type"] == "application/geo+json"


@pytest.mark.parametrize(
    ("collection", "identifier"),
    [("sehenswuerdigkeiten", "poi-001"), ("catalogue", "demo-stadtbezirke")],
)
def test_fast_single_item_equals_pygeoapis(
    http: httpx.Client, collection: str, identifier: str
) -> None:
    records = http.get(f"{OGC}/collections/catalogue/items", params={"limit": 100}).json()
    if collection == "catalogue":
        identifier = next(f["id"] for f in records["features"] if "stadtbezirke" in f["id"])
    url = f"{OGC}/collections/{collection}/items/{identifier}"
    fast = http.get(url, params={"f": "json"})
    slow = http.get(url, params={"f": "json", "lang": "en-US"})  # lang: pygeoapi answers
    assert fast.status_code == slow.status_code == 200
    assert fast.json() == slow.json()
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/geo+json"


def _request(path: str, params: dict[str, str], headers: dict[str, str] | None = None) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": urlencode(params).encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }
    )


def test_common_queries_do_not_go_through_pygeoapi(demo: LiveServer) -> None:
    index = open_index(demo.settings.index, read_mostly=True)
    service = OGCService(demo.settings, index)
    try:
        fast = service.fast()
        for collection, params in QUERIES:
            path = f"{OGC}/collections/{collection}/items"
            assert fast.items(_request(path, params), collection) is not None, params
            html = _request(path, params, {"Accept": "text/html"})
            assert fast.items(html, collection) is None
            cql = _request(path, {**params, "filter": "kategorie = 'museum'"})
            assert fast.items(cql, collection) is None
        one = _request(f"{OGC}/collections/sehenswuerdigkeiten/items/poi-001", {})
        assert fast.item(one, "sehenswuerdigkeiten", "poi-001") is not None
    finally:
        service.close()
        index.close()


@pytest.mark.parametrize("language", ["de-DE,de;q=0.9", "en", "fr"])
def test_content_language_as_pygeoapi_negotiates_it(http: httpx.Client, language: str) -> None:
    url = f"{OGC}/collections/sehenswuerdigkeiten/items"
    fast = http.get(url, headers={"Accept-Language": language})
    slow = http.get(url, params={"skipGeometry": "false"}, headers={"Accept-Language": language})
    assert fast.headers["content-language"] == slow.headers["content-language"]


def test_accept_header_chooses_the_answer(http: httpx.Client) -> None:
    url = f"{OGC}/collections/sehenswuerdigkeiten/items"
    assert http.get(url, headers={"Accept": "application/geo+json"}).json()["type"] == (
        "FeatureCollection"
    )
    page = http.get(url, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")


def test_accept_language_sets_content_language(http: httpx.Client) -> None:
    url = f"{OGC}/collections/sehenswuerdigkeiten/items"
    answer = http.get(url, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert answer.headers["content-language"] == "de-DE"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "x"},
        {"offset": "-1"},
        {"bbox": "1,2,3"},
        {"sortby": "nope"},
        {"sortby": "name,"},
        {"sortby": ",,", "f": "html"},
    ],
)
def test_bad_parameters_keep_pygeoapis_exception_body(
    http: httpx.Client, params: dict[str, str]
) -> None:
    answer = http.get(f"{OGC}/collections/sehenswuerdigkeiten/items", params=params)
    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameterValue"


@pytest.mark.parametrize("params", [{"bezirk": "9" * 25}, {"filter": f"bezirk = -{'9' * 25}"}])
def test_integers_no_index_holds_match_nothing(http: httpx.Client, params: dict[str, str]) -> None:
    answer = http.get(f"{OGC}/collections/sehenswuerdigkeiten/items", params=params)
    assert answer.status_code == 200
    assert answer.json()["numberMatched"] == 0


def test_an_empty_page_as_json_ld(http: httpx.Client) -> None:
    url = f"{OGC}/collections/sehenswuerdigkeiten/items"
    answer = http.get(url, params={"f": "jsonld", "offset": "100000"})
    assert answer.status_code == 200
    assert answer.json()["features"] == []
    full = http.get(url, params={"f": "jsonld", "limit": "3"}).json()
    assert [f["@id"].rsplit("/", 1)[-1] for f in full["features"]] == [
        f["id"] for f in http.get(url, params={"limit": "3"}).json()["features"]
    ]


def test_unknown_item_is_404(http: httpx.Client) -> None:
    answer = http.get(f"{OGC}/collections/sehenswuerdigkeiten/items/nope", params={"f": "json"})
    assert answer.status_code == 404


# facets -------------------------------------------------------------------------------------


def test_items_facets_count_every_match(http: httpx.Client) -> None:
    url = f"{OGC}/collections/sehenswuerdigkeiten/items"
    body = http.get(url, params={"facets": "true", "limit": 1}).json()
    every = http.get(url, params={"limit": 1000}).json()["features"]
    expected = Counter(f["properties"]["kategorie"] for f in every)
    facet = body["facets"]["kategorie"]
    assert facet["type"] == "terms" and facet["property"] == "kategorie"
    assert {b["value"]: b["count"] for b in facet["buckets"]} == dict(expected)
    assert len(body["features"]) == 1
    # names and addresses differ on every item: not offered as facets
    assert "name" not in body["facets"] and "adresse" not in body["facets"]


def test_items_facets_follow_the_query(http: httpx.Client) -> None:
    url = f"{OGC}/collections/mobilstationen/items"
    with (DATA / "mobilstationen.csv").open(encoding="utf-8") as f:
        operators = {row["betreiber"] for row in csv.DictReader(f)}
    operator = sorted(operators)[0]
    body = http.get(url, params={"facets": "typ,betreiber", "betreiber": operator}).json()
    assert [b["value"] for b in body["facets"]["betreiber"]["buckets"]] == [operator]
    assert sum(b["count"] for b in body["facets"]["typ"]["buckets"]) == body["numberMatched"]


def test_unknown_facet_field_is_an_error(http: httpx.Client) -> None:
    answer = http.get(
        f"{OGC}/collections/mobilstationen/items", params={"facets": "nope", "f": "json"}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameterValue"
    assert "nope" in answer.json()["description"]


def test_records_facets(http: httpx.Client) -> None:
    body = http.get(f"{OGC}/collections/catalogue/items", params={"facets": "true"}).json()
    kinds = {b["value"]: b["count"] for b in body["facets"]["kind"]["buckets"]}
    assert sum(kinds.values()) == body["numberMatched"]
    assert set(body["facets"]) >= {"kind", "keywords", "organization", "licence"}


def test_facets_and_bounds_are_read_once_at_startup(demo: LiveServer) -> None:
    """The first visitor asking for facets or a map does not wait for the facet columns or
    the collections' bounds to be read."""
    import time

    from catalogue.index.sqlite import SQLiteIndex

    index = SQLiteIndex(demo.settings.index.path, read_mostly=True)  # type: ignore[arg-type]
    with LiveServer(demo.settings.with_port(free_port()), index):
        deadline = time.monotonic() + 10
        while not index._facet_columns._values and time.monotonic() < deadline:
            time.sleep(0.05)
        warmed = {key[1] for key in index._facet_columns._values}
        held = set(index._bounds._held)
        conn = index._conn()
        with_items = {r[0] for r in conn.execute("SELECT rid FROM datasets WHERE item_count > 0")}
    index.close()
    assert {"kategorie", "kind", "keywords"} <= warmed
    # the bounds were read before the facets were counted: every collection with items
    assert held and held <= with_items
    assert len(held) == min(len(with_items), 8)
