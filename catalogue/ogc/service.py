"""The OGC API routes: pygeoapi's API functions behind Starlette, rebuilt when the index changes.

pygeoapi's own ``starlette_app`` reads its configuration at import time; this module builds a
``pygeoapi.api.API`` from a generated configuration instead, and builds it again whenever a
harvest has changed the index, so the collections always follow the index.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygeoapi
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
from pygeoapi.api import API, APIRequest
from pygeoapi.openapi import get_oas
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from catalogue.index import Index
from catalogue.ogc.config import pygeoapi_config
from catalogue.ogc.providers import register_index, unregister_index
from catalogue.settings import Settings

log = logging.getLogger("catalogue.ogc")

STATIC = Path(pygeoapi.__file__).parent / "static"


class OGCService:
    """Holds the pygeoapi API object for the index's current generation."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self.key = f"index-{uuid.uuid4().hex}"
        self._api: API | None = None
        self._generation: int | None = None
        self._lock = threading.Lock()
        register_index(self.key, index)

    def close(self) -> None:
        unregister_index(self.key)

    def api(self) -> API:
        generation = self.index.generation()
        if self._api is None or generation != self._generation:
            with self._lock:
                if self._api is None or generation != self._generation:
                    self._api = self._build()
                    self._generation = generation
        return self._api

    def _build(self) -> API:
        config = pygeoapi_config(self.settings, self.index, self.key)
        openapi = get_oas(config, fail_on_invalid_collection=False)
        log.info("OGC API rebuilt", extra={"collections": len(config["resources"])})
        return API(config, openapi)

    async def call(
        self, function: Callable[..., Any], request: Request, *args: Any, check: bool = True
    ) -> Response:
        api = await asyncio.to_thread(self.api)
        api_request = await APIRequest.from_starlette(request, api.locales)
        if check and not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = await asyncio.to_thread(function, api, api_request, *args)
        response = Response(content, status_code=status)
        response.headers.update(headers)
        return response

    def routes(self) -> list[BaseRoute]:
        async def landing(request: Request) -> Response:
            return await self.call(core_api.landing_page, request)

        async def openapi(request: Request) -> Response:
            return await self.call(core_api.openapi_, request)

        async def conformance(request: Request) -> Response:
            return await self.call(core_api.conformance, request)

        async def collections(request: Request) -> Response:
            return await self.call(
                core_api.describe_collections, request, request.path_params.get("collection_id")
            )

        async def queryables(request: Request) -> Response:
            return await self.call(
                itemtypes_api.get_collection_queryables, request,
                request.path_params["collection_id"],
            )

        async def schema(request: Request) -> Response:
            return await self.call(
                core_api.get_collection_schema, request, request.path_params["collection_id"]
            )

        async def items(request: Request) -> Response:
            return await self.call(
                itemtypes_api.get_collection_items, request,
                request.path_params["collection_id"], check=False,
            )

        async def item(request: Request) -> Response:
            return await self.call(
                itemtypes_api.get_collection_item, request,
                request.path_params["collection_id"], request.path_params["item_id"],
            )

        async def not_allowed(request: Request) -> Response:
            return JSONResponse(
                {"code": "MethodNotAllowed", "description": "this catalogue is read-only"},
                status_code=405,
            )

        return [
            Route("/", landing),
            Route("/openapi", openapi),
            Route("/conformance", conformance),
            Route("/collections", collections),
            Route("/collections/{collection_id}", collections),
            Route("/collections/{collection_id}/queryables", queryables),
            Route("/collections/{collection_id}/schema", schema),
            Route("/collections/{collection_id}/items", items, methods=["GET", "POST"]),
            Route("/collections/{collection_id}/items/{item_id:path}", item),
            Route(
                "/collections/{collection_id}/items/{item_id:path}",
                not_allowed,
                methods=["PUT", "PATCH", "DELETE"],
            ),
            Mount("/static", StaticFiles(directory=STATIC), name="ogc-static"),
        ]
