"""The portal's routes: server-rendered pages (jinja2) in German or English, its own static
files, and the browser libraries ``npm ci`` installed, all served by the catalogue itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from catalogue.errors import CatalogueError, IndexUnavailableError
from catalogue.index import Index
from catalogue.portal import labels, pages
from catalogue.portal.i18n import COOKIE, LANGUAGES, Formatter, choose_language, load_translations
from catalogue.portal.thumbnails import Thumbnails
from catalogue.settings import Settings
from catalogue.web.admin import authorized, challenge

log = logging.getLogger("catalogue.portal")

HERE = Path(__file__).resolve().parent
# browser libraries: URL folder → folder inside node_modules
VENDOR = {
    "leaflet": "leaflet/dist",
    "leaflet.markercluster": "leaflet.markercluster/dist",
    # for pygeoapi's own pages under /ogc (see catalogue.ogc.offline)
    "bootstrap": "bootstrap/dist/css",
    "swagger-ui": "swagger-ui-dist",
}


def assets_dir(settings: Settings) -> Path:
    configured = settings.portal.assets_dir
    if configured is None:
        return HERE / "node_modules"
    if not configured.is_absolute() and settings.config_path is not None:
        return (settings.config_path.parent / configured).resolve()
    return configured


def json_script(data: Any) -> Markup:
    """JSON safe to embed in ``<script type="application/json">``."""
    text = orjson.dumps(data).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class Portal:
    """The HTML pages at ``/``."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["json_script"] = json_script
        self.translations = {language: load_translations(language) for language in LANGUAGES}
        self.assets = assets_dir(settings)
        self.map_library = (self.assets / VENDOR["leaflet"] / "leaflet.js").is_file()
        if not self.map_library:
            log.warning(
                "map library not installed: maps show outlines only as data",
                extra={"assets_dir": str(self.assets)},
            )

    # rendering -------------------------------------------------------------------------
    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        language = choose_language(
            request.cookies.get(COOKIE), request.headers.get("accept-language")
        )
        translations = self.translations[language]
        fmt = Formatter(language)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        html = self.env.get_template(name).render(
            **context,
            _=translations.gettext,
            gettext=translations.gettext,
            ngettext=translations.ngettext,
            lang=language,
            other_languages=[lang for lang in LANGUAGES if lang != language],
            fmt=fmt,
            theme_label=lambda uri: labels.theme_label(uri, language),
            licence_label=lambda uri: labels.licence_label(uri, language),
            rights_label=lambda value: labels.rights_label(value, language),
            is_link=labels.is_link,
            facet_label=lambda facet, value: self.facet_label(
                facet, value, language, translations.gettext
            ),
            here=path,
            site_title=self.settings.catalogue.title,
            map_library=self.map_library,
            tile_url=self.settings.portal.tile_url or "",
            tile_attribution=self.settings.portal.tile_attribution,
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Language"] = language
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    @staticmethod
    def facet_label(facet: str, value: str, language: str, gettext: Callable[[str], str]) -> str:
        if facet == "kind":
            return {
                "geodata": gettext("Geodata"),
                "sensor": gettext("Sensors"),
                "culture": gettext("Culture"),
            }.get(value, value)
        if facet == "theme":
            return labels.theme_label(value, language)
        if facet == "licence":
            return labels.licence_label(value, language) or value
        return value

    async def page(
        self, request: Request, build: Callable[[], pages.Page], status: int = 200
    ) -> Response:
        """Build a page's context off the event loop (the index is synchronous), then render."""
        started = time.perf_counter()
        try:
            name, context = await asyncio.to_thread(build)
        except CatalogueError as exc:
            if exc.http_status >= 500 and not isinstance(exc, IndexUnavailableError):
                raise
            name, context = "error.html", {"status": exc.http_status, "message": exc.user_message}
            status = exc.http_status
        response = self.render(request, name, context, status)
        # the server's own time for the page (the benchmark reads it)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    # routes ----------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        index, settings = self.index, self.settings

        async def home(request: Request) -> Response:
            return await self.page(request, lambda: pages.home(index))

        async def search(request: Request) -> Response:
            params = dict(request.query_params)
            size = settings.portal.page_size
            return await self.page(request, lambda: pages.search(index, params, size))

        async def dataset(request: Request) -> Response:
            dataset_id = request.path_params["dataset_id"]
            params = dict(request.query_params)
            return await self.page(
                request, lambda: pages.dataset_page(index, settings, dataset_id, params)
            )

        async def item(request: Request) -> Response:
            ids = request.path_params["dataset_id"], request.path_params["item_id"]
            return await self.page(request, lambda: pages.item_page(index, *ids))

        async def harvest(request: Request) -> Response:
            detailed = authorized(request, settings)
            if request.query_params.get("details") and not detailed:
                return challenge("the reasons and warnings of harvest runs need the admin token")
            return await self.page(request, lambda: pages.harvest_status(settings, detailed))

        async def switch_language(request: Request) -> Response:
            language = request.path_params["language"]
            target = request.query_params.get("next") or "/"
            if not target.startswith("/") or target.startswith("//"):
                target = "/"
            response = RedirectResponse(target, status_code=303)
            if language in LANGUAGES:
                response.set_cookie(COOKIE, language, max_age=365 * 86400, samesite="lax")
            return response

        routes: list[BaseRoute] = [
            Route("/", home, name="portal_home"),
            Route("/search", search, name="portal_search"),
            Route("/datasets/{dataset_id}", dataset, name="portal_dataset"),
            Route("/datasets/{dataset_id}/items/{item_id}", item, name="portal_item"),
            Route(
                "/datasets/{dataset_id}/items/{item_id}/thumbnail",
                Thumbnails(index, settings.harvest.user_agent).serve,
                name="portal_thumbnail",
            ),
            Route("/harvest", harvest, name="portal_harvest"),
            Route("/language/{language}", switch_language, name="portal_language"),
            Mount("/static/portal", StaticFiles(directory=HERE / "static"), name="portal_static"),
        ]
        for url_name, folder in VENDOR.items():
            path = self.assets / folder
            if path.is_dir():
                routes.append(Mount(f"/static/vendor/{url_name}", StaticFiles(directory=path)))
        return routes
