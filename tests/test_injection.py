"""Hostile input on every public parameter, over real HTTP, on both index backends (SQLite and
OpenSearch): SQL, FTS5, CQL2, query-DSL and Lucene fragments in text, filters, sort keys and
property lists, and path tricks in ids. Each request either answers as the plain meaning of its
input says (text is words, a filter is CQL2, an id is an opaque string) or fails with a 4xx and
the API's own error body, never a 5xx; and afterwards the index still holds all it held."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

ITEMS = "/ogc/collections/sehenswuerdigkeiten/items"
RECORDS = "/ogc/collections/catalogue/items"
CKAN = "/api/3/action"
WORD = re.compile(r"\w+")

# what a careless backend would splice into SQL, FTS5 MATCH, a query DSL or a Lucene string
TEXT = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "'; DROP TABLE items; --",
    '"; DROP TABLE datasets; --',
    "1) UNION SELECT id, doc FROM items --",
    "museum' OR 'x'='x",
    "museum)) OR ((1",
    "NEAR(museum park)",
    "NEAR(",
    "*",
    '"',
    '"museum',
    "museum*",
    "name:museum",
    "kategorie:museum OR 1",
    "title:* OR 1",
    "*:*",
    '{"match_all":{}}',
    '{"query_string":{"query":"*"}}',
    "\\",
    "/.*/",
    "/mus.*/",
    "field:[* TO *]",
    "museum^100 OR park~2",
    "(museum OR park) AND NOT x",
    "%",
    "_",
    "\x00",
    "museum\x00park",
    "Düsseldorf ☃ 🦆",
    "a" * 3000,
]


@pytest.fixture()
def http(backend_http: httpx.Client) -> httpx.Client:
    """Every test here runs on each index backend (SQLite, OpenSearch)."""
    return backend_http


def health(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/health")
    assert answer.status_code == 200
    return dict(answer.json()["sources"])


def matched(http: httpx.Client, path: str, **params: Any) -> int:
    answer = http.get(path, params={"f": "json", "limit": 1, **params})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["numberMatched"])


def plain_words(text: str) -> str:
    """The text as words only, alternatives kept: what ``q`` means."""
    return ",".join(" ".join(WORD.findall(part)) for part in text.split(","))


def assert_ogc_refusal(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["code"] and body["description"]


def assert_ckan_refusal(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["success"] is False and body["error"]["__type"] and body["error"]["message"]


# --------------------------------------------------------------------------------------------
# text: q of OGC items and records, the portal's search, CKAN q
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXT, ids=range(len(TEXT)))
@pytest.mark.parametrize("path", [ITEMS, RECORDS], ids=["items", "records"])
def test_q_matches_what_its_words_match(http: httpx.Client, path: str, text: str) -> None:
    total = matched(http, path)
    answer = http.get(path, params={"f": "json", "q": text})
    assert answer.status_code == 200, answer.text[:300]
    found = answer.json()["numberMatched"]
    words = plain_words(text)
    assert found == matched(http, path, q=words)
    if words.strip(","):
        # the SQL / DSL around the words never widens the match to everything
        assert found < total or all(matched(http, path, q=w) == total for w in words.split())
    # the same through pygeoapi's HTML page, which runs the provider instead of the fast path
    assert http.get(path, params={"f": "html", "q": text}).status_code == 200


@pytest.mark.parametrize("text", TEXT, ids=range(len(TEXT)))
def test_portal_search_takes_any_text(http: httpx.Client, text: str) -> None:
    for path in ("/search", "/datasets/sehenswuerdigkeiten"):
        answer = http.get(path, params={"q": text})
        assert answer.status_code == 200, (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("text", TEXT, ids=range(len(TEXT)))
def test_ckan_q_is_words_phrases_and_known_fields(http: httpx.Client, text: str) -> None:
    total = http.get(f"{CKAN}/package_search", params={"rows": 0}).json()["result"]["count"]
    answer = http.get(f"{CKAN}/package_search", params={"q": text, "rows": 0})
    if answer.status_code != 200:
        # an unknown field (name:, kategorie:, field:) or a range is a validation error
        assert_ckan_refusal(answer)
        assert answer.status_code == 409
        return
    count = answer.json()["result"]["count"]
    assert count <= total
    if ":" not in text and '"' not in text:
        words = " ".join(w for w in WORD.findall(text) if w.upper() not in ("AND", "OR", "NOT"))
        plain = http.get(f"{CKAN}/package_search", params={"q": words, "rows": 0})
        assert count == plain.json()["result"]["count"]


# --------------------------------------------------------------------------------------------
# CQL2 filters: text (GET) and JSON (POST)
# --------------------------------------------------------------------------------------------

# (filter, what a 200 may match: "none", "some" (fewer than all) or "cql" (CQL2's own meaning))
CQL2_TEXT = [
    ("kategorie = 'museum'' OR ''1''=''1'", "none"),
    ("kategorie = 'museum'; DROP TABLE items", "none"),
    ("kategorie = 'museum' --", "some"),
    ("kategorie = 'museum' OR 1", "none"),
    ("kategorie = 'a' AND sqlite_version() = '3'", "none"),
    ("kategorie = 'a' OR load_extension('x') = 1", "none"),
    ('"kategorie) OR (1" = 1', "none"),
    ('"kategorie\'] OR 1=1 --" = 1', "none"),
    ("\"json_extract(doc, '$')\" IS NOT NULL", "none"),
    ("kategorie LIKE '%'' OR 1=1 --%'", "none"),
    ("kategorie LIKE '[a-z]*'", "none"),
    ("kategorie LIKE '*'", "none"),
    ("kategorie IN ('museum', 'x'') OR (''1''=''1')", "some"),
    ("kategorie = '{\"match_all\":{}}'", "none"),
    ("kategorie = '*:*'", "none"),
    ("kategorie = '*'", "none"),
    ("name = '\\'", "none"),
    ("bezirk > 99999999999999999999999", "none"),
    ("bezirk > -99999999999999999999999", "cql"),
    ("bezirk = 1e400", "none"),
    ("bezirk = NaN", "none"),
    ("INTERSECTS(geometry, POLYGON((0 0, 1 1, 0 0)))", "none"),
    ("eroeffnet AFTER 9999-12-31T23:59:59Z", "none"),
    ("NOT (" * 300 + "bezirk = 1" + ")" * 300, "cql"),
    (" OR ".join(f"bezirk = {i}" for i in range(1500)), "cql"),
    ("kategorie IN (" + ",".join(f"'v{i}'" for i in range(2000)) + ")", "none"),
]


@pytest.mark.parametrize(("cql", "meaning"), CQL2_TEXT, ids=range(len(CQL2_TEXT)))
def test_cql2_text_filters_match_as_cql_or_fail_cleanly(
    http: httpx.Client, cql: str, meaning: str
) -> None:
    total = matched(http, ITEMS)
    answer = http.get(ITEMS, params={"f": "json", "filter": cql})
    if answer.status_code != 200:
        assert_ogc_refusal(answer)
        return
    found = answer.json()["numberMatched"]
    if meaning == "none":
        assert found == 0
    elif meaning == "some":
        assert 0 < found < total


def _bezirk_is(number: int) -> dict[str, Any]:
    return {"op": "=", "args": [{"property": "bezirk"}, number]}


def _nested_not(depth: int) -> bytes:
    leaf = b'{"op":"=","args":[{"property":"bezirk"},1]}'
    return b'{"op":"not","args":[' * depth + leaf + b"]}" * depth


CQL2_JSON: list[tuple[bytes, str]] = [
    (
        orjson.dumps({"op": "=", "args": [{"property": "kategorie"}, "museum' OR '1'='1"]}),
        "none",
    ),
    (orjson.dumps({"op": "=", "args": [{"property": 'kategorie" OR 1=1 --'}, "x"]}), "none"),
    (orjson.dumps({"op": "=", "args": [{"property": "x') OR ('1"}, "x"]}), "none"),
    (orjson.dumps({"op": "like", "args": [{"property": "kategorie"}, "%' OR 1=1 --"]}), "none"),
    (orjson.dumps({"op": "=", "args": [{"property": "kategorie"}, {"match_all": {}}]}), "none"),
    (orjson.dumps({"op": "DROP TABLE items", "args": []}), "none"),
    (orjson.dumps({"op": "or", "args": [{"match_all": {}}, True]}), "none"),
    (orjson.dumps({"match_all": {}}), "none"),
    (orjson.dumps({"query": {"match_all": {}}}), "none"),
    (orjson.dumps({"op": "in", "args": [{"property": "bezirk"}, list(range(40_000))]}), "cql"),
    (orjson.dumps({"op": "or", "args": [_bezirk_is(i) for i in range(3000)]}), "cql"),
    (_nested_not(200), "cql"),
    (_nested_not(3000), "cql"),
    (b"[" * 100_000 + b"]" * 100_000, "none"),
    (b"not json at all", "none"),
]


@pytest.mark.parametrize(("body", "meaning"), CQL2_JSON, ids=range(len(CQL2_JSON)))
def test_cql2_json_filters_match_as_cql_or_fail_cleanly(
    http: httpx.Client, body: bytes, meaning: str
) -> None:
    answer = http.post(
        ITEMS,
        params={"f": "json"},
        content=body,
        headers={"Content-Type": "application/query-cql-json"},
    )
    if answer.status_code != 200:
        assert_ogc_refusal(answer)
        return
    if meaning == "none":
        assert answer.json()["numberMatched"] == 0


# --------------------------------------------------------------------------------------------
# sortby, properties, property filters
# --------------------------------------------------------------------------------------------

SORT = [
    "kategorie; DROP TABLE items",
    "-bezirk,' OR 1=1",
    "bezirk DESC; --",
    "_score",
    "_id",
    "properties.name",
    "json_extract(doc, '$.x')",
    "(SELECT 1)",
    "*",
    ",".join(["bezirk"] * 2000),
]


@pytest.mark.parametrize("sortby", SORT, ids=range(len(SORT)))
@pytest.mark.parametrize("path", [ITEMS, RECORDS], ids=["items", "records"])
def test_sortby_names_a_queryable_or_fails_cleanly(
    http: httpx.Client, path: str, sortby: str
) -> None:
    answer = http.get(path, params={"f": "json", "sortby": sortby})
    if answer.status_code == 200:
        # only a list of real queryables gets here: then the order is theirs
        assert sortby.replace("-", "").split(",")[0] in ("bezirk",)
        return
    assert_ogc_refusal(answer)


PROPERTIES = ["name,' OR 1=1 --", "*", "name; DROP TABLE items", "doc", "rowid", "_source"]


@pytest.mark.parametrize("properties", PROPERTIES, ids=range(len(PROPERTIES)))
def test_properties_lists_only_trim(http: httpx.Client, properties: str) -> None:
    answer = http.get(ITEMS, params={"f": "json", "properties": properties})
    if answer.status_code != 200:
        assert_ogc_refusal(answer)
        return
    asked = set(properties.split(","))
    for feature in answer.json()["features"]:
        assert set(feature["properties"]) <= asked


@pytest.mark.parametrize("value", TEXT, ids=range(len(TEXT)))
def test_property_filters_compare_whole_values(http: httpx.Client, value: str) -> None:
    for name in ("kategorie", "bezirk"):  # a text and a number queryable
        answer = http.get(ITEMS, params={"f": "json", name: value})
        if answer.status_code != 200:
            assert_ogc_refusal(answer)  # "bezirk expects a number"
            continue
        assert answer.json()["numberMatched"] == 0
    answer = http.get(RECORDS, params={"f": "json", "kind": value})
    assert answer.status_code == 200 and answer.json()["numberMatched"] == 0


# --------------------------------------------------------------------------------------------
# CKAN fq and sort
# --------------------------------------------------------------------------------------------

FQ = [
    "tags:' OR 1=1 --",
    "tags:\"Kultur' OR '1'='1\"",
    "groups:envi OR 1=1",
    "' OR 1=1",
    "name:../../etc/passwd",
    "organization:*",
    "tags:[* TO *]",
    "license_id:\\",
    'res_format:{"match_all":{}}',
    "title:/.*/",
    "id:%00",
    " ".join(f"tags:w{i}" for i in range(1000)),
]


@pytest.mark.parametrize("fq", FQ, ids=range(len(FQ)))
def test_ckan_fq_filters_by_exact_values_or_fails_cleanly(http: httpx.Client, fq: str) -> None:
    total = http.get(f"{CKAN}/package_search", params={"rows": 0}).json()["result"]["count"]
    answer = http.get(f"{CKAN}/package_search", params={"fq": fq, "rows": 0})
    if answer.status_code != 200:
        assert_ckan_refusal(answer)
        return
    count = answer.json()["result"]["count"]
    if fq == "organization:*":  # Solr's "any value": every dataset has an organization
        assert count == total
    else:
        assert count == 0


SORT_CKAN = [
    "title; DROP TABLE datasets",
    "title asc, ' OR 1=1",
    "_score desc",
    "metadata_modified desc --",
    "title asc" + ", title asc" * 2000,
]


@pytest.mark.parametrize("sort", SORT_CKAN, ids=range(len(SORT_CKAN)))
def test_ckan_sort_names_a_field_or_fails_cleanly(http: httpx.Client, sort: str) -> None:
    answer = http.get(f"{CKAN}/package_search", params={"sort": sort})
    if answer.status_code != 200:
        assert_ckan_refusal(answer)
        return
    # words after a field and its direction are ignored: the order is the field's
    field, direction = sort.split(",")[0].split()[:2]
    plain = http.get(f"{CKAN}/package_search", params={"sort": f"{field} {direction}"})
    names = [p["name"] for p in answer.json()["result"]["results"]]
    assert names == [p["name"] for p in plain.json()["result"]["results"]]


# --------------------------------------------------------------------------------------------
# ids in paths and parameters
# --------------------------------------------------------------------------------------------

IDS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2f",
    "../mobilstationen/items/MS-0001",
    "poi-001\x00",
    "\x00",
    "poi-00%",
    "poi-00_",
    "poi-00*",
    "poi-001' OR '1'='1",
    "' OR 1=1 --",
    "*",
    "ünïcødé ☃",
    "a" * 4000,
]


def _path(segment: str) -> str:
    return quote(segment, safe="")


@pytest.mark.parametrize("identifier", IDS, ids=range(len(IDS)))
def test_ids_in_paths_name_one_record_or_nothing(http: httpx.Client, identifier: str) -> None:
    ogc = [
        f"{ITEMS}/{_path(identifier)}?f=json",
        f"{ITEMS}/{_path(identifier)}?f=html",
        f"{RECORDS}/{_path(identifier)}?f=json",
        f"/ogc/collections/{_path(identifier)}/items?f=json",
        f"/dcat/dataset/{_path(identifier)}",
        f"/dcat/dataset/{_path(identifier)}.ttl",
    ]
    for url in ogc:
        answer = http.get(url)
        assert answer.status_code == 404, (url[:120], answer.status_code)
        if answer.headers["content-type"].startswith("application/json"):
            assert answer.json()["description"]
        else:  # HTML asked for, or a collection id with a "/", which no route takes
            assert "f=html" in url or "/" in identifier
    portal = [
        f"/datasets/{_path(identifier)}",
        f"/datasets/sehenswuerdigkeiten/items/{_path(identifier)}",
    ]
    for url in portal:
        answer = http.get(url)
        assert answer.status_code == 404, (url[:120], answer.status_code)
        # the portal's page, unless no route takes an id with a "/"
        assert answer.headers["content-type"].startswith("text/html") or "/" in identifier
    for action in ("package_show", "resource_show", "organization_show", "group_show"):
        answer = http.get(f"{CKAN}/{action}", params={"id": identifier})
        assert answer.status_code == 404, (action, answer.status_code)
        assert_ckan_refusal(answer)


def test_ids_still_find_their_records(http: httpx.Client) -> None:
    """The id tests above would pass against a server that finds nothing."""
    assert http.get(f"{ITEMS}/poi-001?f=json").json()["id"] == "poi-001"
    assert http.get(f"{RECORDS}/sehenswuerdigkeiten?f=json").status_code == 200
    assert http.get("/dcat/dataset/sehenswuerdigkeiten.ttl").status_code == 200
    assert http.get("/datasets/sehenswuerdigkeiten/items/poi-001").status_code == 200
    shown = http.get(f"{CKAN}/package_show", params={"id": "sehenswuerdigkeiten"})
    assert shown.json()["result"]["name"] == "sehenswuerdigkeiten"


# --------------------------------------------------------------------------------------------
# afterwards
# --------------------------------------------------------------------------------------------


def test_the_index_still_holds_everything(http: httpx.Client) -> None:
    """Runs last in this module: whatever the payloads above did, every source still has its
    datasets and items, and they are still found by search."""
    sources = health(http)
    assert sources == {
        "luftmessstationen": {"datasets": 1, "items": 8},
        "mobilstationen": {"datasets": 1, "items": 38},
        "sehenswuerdigkeiten": {"datasets": 1, "items": 60},
        "stadtbezirke": {"datasets": 1, "items": 10},
    }
    assert matched(http, ITEMS) == 60
    assert matched(http, ITEMS, q="museum") > 0
    assert matched(http, RECORDS) == 4
    assert http.get(f"{CKAN}/package_list").json()["result"] == [
        "luftmessstationen",
        "mobilstationen",
        "sehenswuerdigkeiten",
        "stadtbezirke",
    ]
