"""pygeoapi's HTML pages under /ogc load nothing from elsewhere: Leaflet, Bootstrap and Swagger UI
come from the catalogue's own copies, the base map from the configured tiles (none here)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, demo_settings, free_port

from catalogue.ogc.offline import offline_template

PAGES = [
    "/ogc/",
    "/ogc/collections",
    "/ogc/collections/sehenswuerdigkeiten",
    "/ogc/collections/sehenswuerdigkeiten/items",
    "/ogc/collections/sehenswuerdigkeiten/items/poi-003",
    "/ogc/collections/catalogue/items",
    "/ogc/openapi?ui=swagger",
]
_RESOURCE = re.compile(r"<(?:script|link|img)\b[^>]*?(?:src|href)=[\"']([^\"']+)[\"']", re.I)


@pytest.mark.parametrize("path", PAGES)
def test_ogc_html_pages_use_only_the_catalogues_own_files(http: httpx.Client, path: str) -> None:
    r = http.get(path, params={"f": "html"})
    assert r.status_code == 200 and "<html" in r.text.lower()
    resources = [src for src in _RESOURCE.findall(r.text) if not src.startswith(str(http.base_url))]
    assert all(src.startswith("/") and not src.startswith("//") for src in resources), resources
    for src in resources:
        assert http.get(src).status_code == 200, src
    assert "tile.openstreetmap.org" not in r.text
    assert "unpkg.com" not in r.text and "googleapis" not in r.text


def test_the_items_map_uses_the_local_leaflet(http: httpx.Client) -> None:
    text = http.get("/ogc/collections/sehenswuerdigkeiten/items", params={"f": "html"}).text
    assert '<script src="/static/vendor/leaflet/leaflet.js">' in text
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in text


def test_a_tag_without_a_local_copy_is_left_out() -> None:
    text = (
        '<link rel="stylesheet" href="https://unpkg.com/leaflet@1.3.1/dist/leaflet.css"/>\n'
        '<script src="https://unpkg.com/leaflet-coverage@0.7/leaflet-coverage.min.js"></script>\n'
        '<a href="https://pygeoapi.io">About</a>'
    )
    assert offline_template(text) == (
        '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"/>\n\n'
        '<a href="https://pygeoapi.io">About</a>'
    )


def test_each_app_renders_its_pages_with_its_own_configuration(
    demo: LiveServer, demo_dir: Path
) -> None:
    """pygeoapi keeps one translated configuration per language for the whole process; two apps
    (or one rebuilt after a harvest) must not show each other's."""
    with LiveServer(demo_settings(demo_dir, free_port())) as other:
        for server in (demo, other, demo):
            page = httpx.get(
                f"{server.url}/ogc/collections/sehenswuerdigkeiten/items",
                params={"f": "html", "lang": "de-DE"},
            ).text
            styles = re.findall(r"href=\"([^\"]+/static/css/default\.css)", page)
            assert styles == [f"{server.url}/ogc/static/css/default.css"]
