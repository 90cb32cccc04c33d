"""``create_app(settings)``: the catalogue's ASGI app. Nothing is read at import time."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from catalogue import __version__
from catalogue.ckan.actions import Context as CKANContext
from catalogue.ckan.routes import routes as ckan_routes
from catalogue.dcat.routes import routes as dcat_routes
from catalogue.dcat.service import DCATService
from catalogue.errors import CatalogueError
from catalogue.index import Index, open_index
from catalogue.ogc.service import OGCService
from catalogue.portal import Portal
from catalogue.settings import Settings
from catalogue.web.admin import HarvestRuns
from catalogue.web.guards import BodyTooLarge, Guards
from catalogue.web.openapi import APIDocument

log = logging.getLogger("catalogue.web")


def create_app(settings: Settings, *, index: Index | None = None) -> Starlette:
    """Build the app for ``settings`` (opening the configured index unless one is given)."""
    own_index = index is None
    index = index or open_index(settings.index, read_mostly=True)
    ogc = OGCService(settings, index)
    dcat = DCATService(settings, index)

    async def health(request: Request) -> Response:
        try:
            counts = index.source_counts()
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "datasets": sum(c[0] for c in counts.values()),
                "items": sum(c[1] for c in counts.values()),
                "sources": {name: {"datasets": d, "items": i} for name, (d, i) in counts.items()},
            }
        )

    runs = HarvestRuns(settings, index)
    document = APIDocument(settings)

    async def openapi(request: Request) -> Response:
        source = await asyncio.to_thread(ogc.openapi)
        return Response(
            document.json(source), media_type="application/vnd.oai.openapi+json;version=3.0"
        )

    async def catalogue_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CatalogueError)
        if exc.http_status >= 500:
            log.error("request failed", extra={"path": request.url.path, "error": str(exc)})
        return JSONResponse(
            {"code": exc.code, "description": exc.user_message}, status_code=exc.http_status
        )

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.error("unexpected error", extra={"path": request.url.path}, exc_info=exc)
        return JSONResponse(
            {"code": "NoApplicableCode", "description": "internal error; the log has details"},
            status_code=500,
        )

    def warm_up() -> None:
        ogc.warm_up()
        try:
            dcat.warm_up()
        except Exception:  # an optimisation: the first DCAT request would report the error
            log.warning("DCAT warm-up failed", exc_info=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # build the OGC API before the first request, not during it; count facets meanwhile
        await asyncio.to_thread(ogc.api)
        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
        yield
        ogc.close()
        if own_index:
            index.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        # no route matched (404), or not with this method (405): Starlette would answer in
        # plain text; every other error of the APIs is JSON
        assert isinstance(exc, HTTPException)
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return JSONResponse(
            {"code": code, "description": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def body_too_large(request: Request, exc: Exception) -> Response:
        return JSONResponse({"code": "PayloadTooLarge", "description": str(exc)}, status_code=413)

    middleware = [Middleware(Guards, settings=settings.server)]
    if settings.server.cors:
        middleware.append(
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])
        )
    app = Starlette(
        routes=[
            Mount("/ogc", routes=ogc.routes()),  # first: most requests are for the OGC API
            Route("/health", health),
            Route("/openapi.json", openapi),
            Route("/harvest/runs", runs.recent, methods=["GET"]),
            Route("/harvest/runs", runs.start, methods=["POST"]),
            *ckan_routes(CKANContext(settings, index)),
            Mount("/dcat", routes=dcat_routes(dcat)),
            *Portal(settings, index).routes(),
        ],
        middleware=middleware,
        exception_handlers={
            CatalogueError: catalogue_error,
            HTTPException: http_error,
            BodyTooLarge: body_too_large,
            Exception: unexpected_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.index = index
    app.state.ogc = ogc
    app.state.dcat = dcat
    return app
