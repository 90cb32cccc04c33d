"""The portal's pages as plain HTML (no JavaScript), over HTTP from the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import LiveServer, free_port
from portal_site import (  # noqa: F401
    ADMIN_TOKEN,
    PAGE_SIZE,
    PortalSite,
    portal_settings,
    portal_site,
)

import catalogue.portal
from catalogue.portal.labels import licence_label, rights_label, theme_label

PORTAL_DIR = Path(catalogue.portal.__file__).parent
EN = {"Accept-Language": "en-GB,en;q=0.9"}
DE = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture()
def web(portal_site: PortalSite) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=portal_site.url, timeout=30) as client:
        yield client


class Links(HTMLParser):
    """Every link, script, stylesheet and image of a page, and its text by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))
        if tag in ("script", "img") and a.get("src"):
            self.resources.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.resources.append(str(a["href"]))
        if tag == "script" and not a.get("src"):
            self._in_script = str(a.get("type"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.inline_scripts.append(self._in_script)
            self._in_script = None


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def map_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="map-data">(.*?)</script>', html)
    assert match, "the page has no map data"
    return orjson.loads(match.group(1))


PAGES = [
    "/",
    "/search",
    "/search?q=Luft",
    "/datasets/sehenswuerdigkeiten",
    "/datasets/luftsensoren",
    "/datasets/luftsensoren/items/thing-1",
    "/datasets/gemaeldesammlung",
    "/datasets/gemaeldesammlung/items/mauritshuis-670",
    "/datasets/sehenswuerdigkeiten/items/poi-003",
    "/harvest",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_plain_html_served_by_the_catalogue(web: httpx.Client, path: str) -> None:
    r = web.get(path, headers=EN)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = parse(r.text)
    assert '<html lang="en">' in r.text
    assert "<main" in r.text and "<nav" in r.text and "<header" in r.text
    # nothing from elsewhere: every script, stylesheet and image comes from this catalogue
    assert page.resources and all(src.startswith("/") for src in page.resources), page.resources
    assert not [s for s in page.resources if s.startswith("//")]
    # the only inline scripts carry data for the maps, not code
    assert all(kind == "application/json" for kind in page.inline_scripts)
    for src in page.resources:
        if not src.endswith("/thumbnail"):  # images of objects: see the thumbnail test
            assert web.get(src).status_code == 200, src


def test_home_shows_what_the_catalogue_holds(web: httpx.Client) -> None:
    r = web.get("/", headers=EN)
    assert 'role="search"' in r.text and '<label for="q">' in r.text
    assert re.search(
        r'href="/search\?kind=sensor">Sensors</a> <span class="count">2</span>', r.text
    )
    assert re.search(
        r'href="/search\?kind=culture">Culture</a> <span class="count">1</span>', r.text
    )
    assert "Environment" in r.text  # the ENVI theme in words
    assert "Luftsensoren Innenstadt" in r.text  # recently updated
    titles = {f["properties"]["title"] for f in map_data(r.text)["features"]}
    assert "Mobilstationen (Demo)" in titles and "Luftsensoren Innenstadt" in titles


def test_language_follows_the_browser_then_the_switch(web: httpx.Client) -> None:
    assert "What the catalogue holds" in web.get("/", headers=EN).text
    german = web.get("/", headers=DE)
    assert "Was der Katalog enthält" in german.text and german.headers["content-language"] == "de"
    assert 'href="/language/en?next=/"' in german.text
    switched = web.get("/language/en", params={"next": "/search?q=Luft"}, headers=DE)
    assert switched.status_code == 303 and switched.headers["location"] == "/search?q=Luft"
    page = web.get("/search?q=Luft", headers=DE, cookies={"lang": switched.cookies["lang"]})
    assert '<html lang="en">' in page.text and "Refine" in page.text
    # an open redirect is refused
    assert web.get("/language/de", params={"next": "//evil.example"}).headers["location"] == "/"


def test_dates_and_numbers_in_the_readers_locale(web: httpx.Client) -> None:
    de = web.get("/datasets/sehenswuerdigkeiten", headers=DE).text
    en = web.get("/datasets/sehenswuerdigkeiten", headers=EN).text
    assert "Länge 6,73 bis 6,9" in de and "longitude 6.73 to 6.9" in en
    assert "01.06.1184" in de and "Jun 1, 1184" in en


def test_search_narrows_by_two_facets_with_counts(web: httpx.Client) -> None:
    r = web.get("/search", params={"kind": "sensor"}, headers=EN)
    assert "2 datasets found" in r.text
    district = next(
        href for href in parse(r.text).hrefs if "district=Stadtbezirk+1" in href and "kind" in href
    )
    narrowed = web.get(district, headers=EN)
    assert parse_qs(urlsplit(district).query) == {"kind": ["sensor"], "district": ["Stadtbezirk 1"]}
    assert "1 dataset found" in narrowed.text
    assert "Luftsensoren Innenstadt" in narrowed.text
    assert "Luftqualitätsmessstationen (Demo)" not in narrowed.text
    # the chosen values are marked and can be removed one by one
    assert narrowed.text.count('aria-current="true"') == 2
    removal = re.search(
        r'<a href="([^"]+)" class="selected" aria-current="true">Sensors', narrowed.text
    )
    assert removal and parse_qs(urlsplit(removal.group(1).replace("&amp;", "&")).query) == {
        "district": ["Stadtbezirk 1"]
    }


def test_search_text_sort_and_paging_are_in_the_url(web: httpx.Client) -> None:
    first = web.get("/search", params={"sort": "title"}, headers=EN).text
    second = web.get("/search", params={"sort": "title", "page": 2}, headers=EN).text
    titles = re.compile(r'<h3><a href="/datasets/([^"]+)">')
    one, two = titles.findall(first), titles.findall(second)
    assert len(one) == PAGE_SIZE and two and not set(one) & set(two)
    assert 'href="/search?sort=title&amp;page=2" rel="next"' in first
    assert 'rel="prev"' in second
    assert '<option value="title" selected>' in first
    text = web.get("/search", params={"q": "Mobilität"}, headers=EN).text
    assert titles.findall(text) == ["mobilstationen"]


def test_search_by_time_range(web: httpx.Client) -> None:
    titles = re.compile(r'<h3><a href="/datasets/([^"]+)">')
    # only the measuring stations are still measuring (their interval has an open end)
    future = web.get("/search", params={"from": "2100-01-01"}, headers=EN).text
    assert titles.findall(future) == ["luftmessstationen"]
    early = web.get("/search", params={"to": "1100-01-01"}, headers=EN).text
    assert "0 datasets found" in early and "No dataset matches" in early
    medieval = web.get("/search", params={"from": "1100-01-01", "to": "1200-01-01"}, headers=EN)
    assert titles.findall(medieval.text) == ["sehenswuerdigkeiten"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "x"},
        {"page": "0"},
        {"sort": "random"},
        {"from": "gestern"},
        {"from": "2024-02-01", "to": "2024-01-01"},
    ],
)
def test_bad_search_parameters_answer_400_as_a_page(web: httpx.Client, params: dict) -> None:
    r = web.get("/search", params=params, headers=EN)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "Cannot show this page" in r.text and "Traceback" not in r.text


def test_unknown_dataset_or_item_is_a_404_page(web: httpx.Client) -> None:
    for path in ("/datasets/gibt-es-nicht", "/datasets/luftsensoren/items/nope"):
        r = web.get(path, headers=DE)
        assert r.status_code == 404 and "Nicht gefunden" in r.text


def test_dataset_page(web: httpx.Client, portal_site: PortalSite) -> None:  # noqa: F811
    r = web.get("/datasets/mobilstationen", headers=EN)
    text = r.text
    assert "<h1>Mobilstationen (Demo)</h1>" in text
    assert "Data licence Germany – attribution – version 2.0" in text
    assert 'href="http://dcat-ap.de/def/licenses/dl-by-de/2.0"' in text
    assert "Amt für Verkehrsmanagement (Demo)" in text
    count = web.get("/ogc/collections/mobilstationen/items", params={"f": "json", "limit": 1})
    count = count.json()["numberMatched"]
    features = map_data(text)["features"]
    assert count > 30 and len(features) == count and features[0]["geometry"]["type"] == "Point"
    assert features[0]["properties"]["href"].startswith("/datasets/mobilstationen/items/")
    # downloads and the same dataset in machine formats, with copyable URLs
    download = re.search(r'<a href="([^"]+)" download>', text)
    assert download
    geojson = web.get(download.group(1).replace("&amp;", "&")).json()
    assert len(geojson["features"]) == count
    base = portal_site.url
    for url in (
        f"{base}/ogc/collections/catalogue/items/mobilstationen?f=json",
        f"{base}/ogc/collections/mobilstationen?f=json",
        f"{base}/api/3/action/package_show?id=mobilstationen",
    ):
        assert f'readonly value="{url.replace("&", "&amp;")}"' in text
        assert web.get(url).status_code == 200, url
    for url in (
        f"{base}/dcat/dataset/mobilstationen.ttl",
        f"{base}/dcat/dataset/mobilstationen.jsonld",
    ):
        assert f'readonly value="{url}"' in text
        assert web.get(url).status_code == 200, url
    # where it came from, the last harvest, the district links
    assert "mobilstationen (csv)" in text and "Last harvest of the source" in text
    assert 'href="/search?district=Stadtbezirk%201"' in text


def test_sensor_pages_show_latest_values_freshness_and_a_chart(web: httpx.Client) -> None:
    text = web.get("/datasets/luftsensoren", headers=DE).text
    assert "Messpunkt Corneliusstraße" in text and "Messpunkt Hofgarten" in text
    assert '<span class="fresh">aktuell</span>' in text
    assert '<span class="stale">keine aktuellen Daten</span>' in text
    assert "38,5" in text and "µg/m³" in text and "11,25" in text
    charts = re.findall(r'<svg class="spark"[^>]*role="img" aria-label="([^"]+)"', text)
    assert len(charts) == 4 and all(label.startswith("Stundenmittel von") for label in charts)
    points = re.search(r'<polyline points="([^"]+)"', text)
    assert points and len(points.group(1).split()) == 48
    item = web.get("/datasets/luftsensoren/items/thing-2", headers=EN).text
    assert "no recent data" in item and "Stickstoffdioxid" in item and "Lufttemperatur" in item


def test_culture_gallery_and_object_page(web: httpx.Client) -> None:
    gallery = web.get("/datasets/gemaeldesammlung", headers=EN).text
    assert '<ul class="gallery">' in gallery and "3 objects" in gallery
    assert 'src="/datasets/gemaeldesammlung/items/mauritshuis-670/thumbnail"' in gallery
    assert "no image" in gallery  # the object without a thumbnail
    found = web.get("/datasets/gemaeldesammlung", params={"q": "Vermeer"}, headers=EN).text
    assert "1 object" in found and "Skizzenbuch" not in found
    obj = web.get("/datasets/gemaeldesammlung/items/mauritshuis-670", headers=DE).text
    assert "<h1>Das Mädchen mit dem Perlenohrring</h1>" in obj
    assert "Johannes Vermeer" in obj and "um 1665" in obj and "Öl auf Leinwand" in obj
    assert "Gemeinfrei" in obj  # the rights statement in words, with its link
    assert 'href="http://creativecommons.org/publicdomain/mark/1.0/"' in obj
    assert 'href="https://www.mauritshuis.nl/ontdek/de-collectie/670-meisje-met-de-parel/"' in obj
    assert "IIIF-Manifest" in obj and 'alt="Bild von Das Mädchen mit dem Perlenohrring"' in obj
    other = web.get("/datasets/gemaeldesammlung/items/kunstpalast-12", headers=EN).text
    assert "In copyright" in other


def test_searching_cultural_collections_shows_a_gallery_of_their_objects(
    web: httpx.Client,
) -> None:
    everything = web.get("/search", params={"kind": "culture"}, headers=EN).text
    assert "Objects in these collections" in everything
    assert everything.count('<span class="caption">') == 3
    found = web.get("/search", params={"kind": "culture", "q": "Gemälde"}, headers=EN).text
    assert "Das Mädchen mit dem Perlenohrring" in found and "Skizzenbuch" not in found
    assert 'src="/datasets/gemaeldesammlung/items/mauritshuis-670/thumbnail"' in found
    assert "Objects in these collections" not in web.get("/search", headers=EN).text


def test_thumbnails_come_through_the_catalogue(web: httpx.Client, portal_site: PortalSite) -> None:  # noqa: F811
    image = web.get("/datasets/gemaeldesammlung/items/mauritshuis-670/thumbnail")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert any(path == "/670.png" for path in portal_site.upstream.requests)
    assert web.get("/datasets/gemaeldesammlung/items/kunstpalast-12/thumbnail").status_code == 502
    assert web.get("/datasets/gemaeldesammlung/items/ohne-bild/thumbnail").status_code == 404
    assert web.get("/datasets/gemaeldesammlung/items/nope/thumbnail").status_code == 404


def test_harvest_status_page(web: httpx.Client) -> None:
    text = web.get("/harvest", headers=EN).text
    for name in ("stadtbezirke", "sehenswuerdigkeiten", "mobilstationen", "kaputt"):
        assert f'<a href="#source-{name}">{name}</a>' in text
    assert re.search(r'<tr class="failed">\s*<th scope="row"><a href="#source-kaputt">', text)
    # counts for everybody; reasons and warnings only for the data team
    assert "missing.geojson" not in text and "Skipped records" not in text
    assert web.get("/harvest", params={"details": 1}).status_code == 401
    team = {**EN, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    detailed = web.get("/harvest", params={"details": 1}, headers=team).text
    assert "Error:" in detailed and "missing.geojson" in detailed
    assert "Skipped records" in detailed and "coordinates" in detailed  # the demo's broken rows
    wrong = web.get("/harvest", params={"details": 1}, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401


def test_district_is_a_facet_of_ogc_records_and_the_ckan_api(web: httpx.Client) -> None:
    records = web.get(
        "/ogc/collections/catalogue/items", params={"districts": "Stadtbezirk 1", "f": "json"}
    ).json()
    ids = {f["id"] for f in records["features"]}
    assert {"luftsensoren", "mobilstationen"} <= ids and "gemaeldesammlung" in ids
    assert "stadtbezirke" not in ids
    ckan = web.get(
        "/api/3/action/package_search",
        params={"fq": 'district:"Stadtbezirk 1"', "facet.field": '["district"]', "rows": 0},
    ).json()["result"]
    assert ckan["count"] == len(ids)
    assert ckan["facets"]["district"]["Stadtbezirk 1"] == len(ids)


def test_map_degrades_without_the_library_and_uses_a_configured_tile_url(
    portal_site: PortalSite,  # noqa: F811
    tmp_path: Path,
) -> None:
    bare = portal_site.settings.model_copy(
        update={"portal": portal_site.settings.portal.model_copy(update={"assets_dir": tmp_path})}
    ).with_port(free_port())
    with LiveServer(bare) as server, httpx.Client(base_url=server.url) as client:
        text = client.get("/datasets/mobilstationen").text
        assert "leaflet" not in text and map_data(text)["features"]
        assert "Mobilstationen (Demo)" in text
        assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 404
    tiles = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    with_tiles = portal_site.settings.model_copy(
        update={"portal": portal_site.settings.portal.model_copy(update={"tile_url": tiles})}
    ).with_port(free_port())
    with LiveServer(with_tiles) as server, httpx.Client(base_url=server.url) as client:
        text = client.get("/").text
        assert f'data-tiles="{tiles}"' in text and "/static/vendor/leaflet/leaflet.js" in text


def test_every_template_text_is_translated_to_german() -> None:
    po = PORTAL_DIR / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="de")
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    missing = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PORTAL_DIR),
        method_map,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        key = message if isinstance(message, str) else message[0]
        entry = catalog.get(key)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(key)
    assert not missing, f"not translated in {po.name}: {missing}"


def test_labels_for_themes_licences_and_rights() -> None:
    assert (
        theme_label("http://publications.europa.eu/resource/authority/data-theme/TRAN", "de")
        == "Verkehr"
    )
    assert licence_label("dl-by-de/2.0", "en") == "Data licence Germany – attribution – version 2.0"
    assert licence_label("https://creativecommons.org/licenses/by/4.0", "en") == (
        "Creative Commons Attribution 4.0 International"
    )
    assert rights_label("http://rightsstatements.org/vocab/NoC-US/1.0/", "en") == (
        "No copyright – United States"
    )
    assert (
        licence_label("https://example.org/own-licence", "en") == "https://example.org/own-licence"
    )


def test_district_assignment_survives_a_second_harvest_unchanged(tmp_path: Path) -> None:
    from catalogue.harvest.runner import run_harvest
    from catalogue.index import open_index

    settings = portal_settings(tmp_path, free_port())
    settings = settings.model_copy(update={"sources": settings.sources[:3]})
    index = open_index(settings.index)
    try:
        run_harvest(settings, index)
        first = index.get_dataset("sehenswuerdigkeiten")
        assert first and first.extras["districts"][0] == "Stadtbezirk 1"
        again = run_harvest(settings, index)
        assert all(s.updated == 0 and s.added == 0 for s in again.sources), again
        assert (
            index.get_dataset("sehenswuerdigkeiten").extras["districts"]
            == first.extras["districts"]
        )
    finally:
        index.close()


def test_changed_boundaries_reassign_every_dataset(tmp_path: Path) -> None:
    from catalogue.harvest.runner import run_harvest
    from catalogue.index import open_index

    settings = portal_settings(tmp_path, free_port())
    original = Path(settings.sources[0].url)
    boundaries = tmp_path / "bezirke.geojson"
    boundaries.write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    first_source = settings.sources[0].model_copy(update={"url": str(boundaries)})
    settings = settings.model_copy(update={"sources": (first_source, *settings.sources[1:3])})
    index = open_index(settings.index)
    try:
        run_harvest(settings, index)
        assert "Stadtbezirk 1" in index.get_dataset("mobilstationen").extras["districts"]
        renamed = original.read_text(encoding="utf-8").replace('"Stadtbezirk 1"', '"Mitte"')
        boundaries.write_text(renamed, encoding="utf-8")
        again = run_harvest(settings, index)
        assert [s.updated for s in again.sources if s.name == "mobilstationen"] == [0]
        districts = index.get_dataset("mobilstationen").extras["districts"]
        assert "Mitte" in districts and "Stadtbezirk 1" not in districts
    finally:
        index.close()
