"""The portal in a real headless browser: Debian's Chromium driven by Playwright (which never
downloads a browser of its own here), axe-core from the npm registry checking every page type,
and a screenshot of each page type in ``test-artifacts/portal/``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from portal_site import PortalSite, portal_site  # noqa: F401

import catalogue.portal

CHROMIUM = Path(os.environ.get("CATALOGUE_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(catalogue.portal.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "portal"
# as root, without these Chromium would try to reach the internet (updates, sync, field trials)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_TYPES = {
    "home": "/",
    "search": "/search?kind=sensor",
    "search-empty": "/search?q=gibtesnicht",
    "dataset": "/datasets/sehenswuerdigkeiten",
    "dataset-clustered": "/datasets/mobilstationen",
    "sensor-dataset": "/datasets/luftsensoren",
    "sensor-item": "/datasets/luftsensoren/items/thing-1",
    "culture-gallery": "/datasets/gemaeldesammlung",
    "culture-search": "/search?kind=culture",
    "culture-item": "/datasets/gemaeldesammlung/items/mauritshuis-670",
    "item": "/datasets/sehenswuerdigkeiten/items/poi-003",
    "harvest-status": "/harvest",
    "not-found": "/datasets/gibt-es-nicht",
}


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must install it (see .ci/run)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        _missing("axe-core is not installed (npm ci in catalogue/portal)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="de-DE",
        )
        yield context
        context.close()


@pytest.fixture()
def page(browser: Any, portal_site: PortalSite) -> Iterator[Any]:  # noqa: F811
    tab = browser.new_page()
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    tab.requested = requested
    tab.base = portal_site.url
    yield tab
    tab.close()
    foreign = [url for url in requested if not url.startswith(portal_site.url)]
    assert not foreign, f"the page asked third parties: {foreign}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


def wait_for_map(page: Any) -> None:
    if page.locator("[data-map]").count() and page.locator(".map-data").count():
        has_features = page.evaluate(
            "() => [...document.querySelectorAll('.map-data')]"
            ".some(s => JSON.parse(s.textContent).features.length > 0)"
        )
        if has_features:
            page.locator(".leaflet-container").first.wait_for(state="visible", timeout=10_000)


@pytest.mark.parametrize("name", list(PAGE_TYPES))
@pytest.mark.parametrize("language", ["de", "en"])
def test_every_page_type_has_no_axe_violations(page: Any, name: str, language: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": language, "url": page.base}])
    response = page.goto(page.base + PAGE_TYPES[name])
    assert response.status == (404 if name == "not-found" else 200)
    wait_for_map(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{language}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang") == language
    violations = axe_violations(page)
    assert violations == [], violations


def test_search_narrow_by_two_facets_open_a_dataset_and_switch_language(page: Any) -> None:
    page.context.clear_cookies()
    page.goto(page.base + "/search")
    assert page.evaluate("document.documentElement.lang") == "de"
    page.get_by_role("link", name="Sensoren").first.click()
    page.wait_for_url("**/search?kind=sensor")
    assert page.locator("#results-heading").inner_text() == "2 Datensätze gefunden"
    # the second facet, by keyboard: focus the link and press Enter
    district = page.locator(".facet a", has_text="Stadtbezirk 1").first
    district.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?kind=sensor&district=Stadtbezirk+1")
    assert page.locator("#results-heading").inner_text() == "1 Datensatz gefunden"
    assert page.locator(".facet a[aria-current=true]").count() == 2

    page.get_by_role("link", name="Luftsensoren Innenstadt").click()
    page.wait_for_url("**/datasets/luftsensoren")
    page.locator(".leaflet-container").wait_for(state="visible")
    assert page.locator(".leaflet-container path.leaflet-interactive").count() == 2
    assert page.locator("svg.spark").count() == 4
    downloads = page.locator("section[aria-labelledby=downloads] a")
    assert downloads.count() >= 1 and downloads.first.is_visible()
    # the copy button the script adds beside each machine-readable URL
    assert page.get_by_role("button", name="Kopieren: OGC API Records").is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/datasets/luftsensoren")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_role("heading", name="Sensors").is_visible()
    assert page.locator("#downloads").inner_text() == "Downloads"


def test_many_records_are_clustered_on_the_map(page: Any) -> None:
    page.goto(page.base + "/datasets/mobilstationen")
    page.locator(".leaflet-container").wait_for(state="visible")
    clusters = page.locator(".marker-cluster")
    clusters.first.wait_for(state="visible")
    assert clusters.count() >= 1


def test_map_shows_outlines_without_tiles(page: Any) -> None:
    page.goto(page.base + "/")
    page.locator(".leaflet-container").wait_for(state="visible")
    assert page.locator(".leaflet-tile").count() == 0
    assert page.locator(".leaflet-container path.leaflet-interactive").count() >= 4


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/sehenswuerdigkeiten/items?f=html",
        "/ogc/collections/sehenswuerdigkeiten?f=html",
        "/ogc/openapi?f=html&ui=swagger",
    ],
)
def test_pygeoapi_pages_make_no_third_party_requests(page: Any, path: str) -> None:
    """The ``page`` fixture fails the test when the page asked anyone but the catalogue."""
    page.goto(page.base + path)
    page.wait_for_load_state("networkidle")
    if "/items" in path:
        page.locator(".leaflet-container").wait_for(state="visible")
    if "openapi" in path:
        page.locator(".swagger-ui").first.wait_for(state="visible")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = "ogc-" + path.split("?")[0].strip("/").replace("/", "-")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
