"""The OGC API routes: pygeoapi's API functions behind Starlette, rebuilt when the index changes.

pygeoapi's own ``starlette_app`` reads its configuration at import time; this module builds a
``pygeoapi.api.API`` from a generated configuration instead, and builds it again whenever a
harvest has changed the index, so the collections always follow the index.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygeoapi
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.processes as processes_api
import pygeoapi.api.tiles as tiles_api
from pygeoapi.api import API, APIRequest
from pygeoapi.openapi import get_oas
from pygeoapi.util import render_j2_template, to_json
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from catalogue.index import BriefSearch, Index, Overran
from catalogue.ogc import offline, translated_config
from catalogue.ogc.config import pygeoapi_config
from catalogue.ogc.items_json import FastItems, invalid_parameter
from catalogue.ogc.providers import register_index, unregister_index
from catalogue.query import SearchQuery
from catalogue.settings import Settings

log = logging.getLogger("catalogue.ogc")

STATIC = Path(pygeoapi.__file__).parent / "static"

# What this catalogue implements. pygeoapi's own list would also claim transactions (the
# catalogue is read-only) and CRS transformation (items are served in CRS84 only).
CONFORMANCE = sorted(
    {
        *core_api.CONFORMANCE_CLASSES,
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        *itemtypes_api.CONFORMANCE_CLASSES_RECORDS,
    }
)


def conformance(api: API, request: APIRequest) -> tuple[dict[str, str], int, str]:
    """The conformance declaration (pygeoapi's version also grows a shared list per call)."""
    body = {"conformsTo": CONFORMANCE}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == "html":
        return (
            headers,
            200,
            render_j2_template(
                api.tpl_config,
                api.config["server"]["templates"],
                "conformance.html",
                body,
                request.locale,
            ),
        )
    return headers, 200, to_json(body, api.pretty_print)


class OGCService:
    """Holds the pygeoapi API object for the index's current generation."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self.key = f"index-{uuid.uuid4().hex}"
        self._api: API | None = None
        self._items_api: API | None = None
        self._fast: FastItems | None = None
        self._openapi: dict[str, Any] = {}
        self._brief = index if isinstance(index, BriefSearch) else None
        self._generation: int | None = None
        self._lock = threading.Lock()
        register_index(self.key, index)
        translated_config.install()
        # pygeoapi logs every client error (a bad bbox …) with a traceback at ERROR level;
        # call() logs what pygeoapi answers with 5xx instead.
        logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)

    def close(self) -> None:
        unregister_index(self.key)

    def api(self, *, for_items: bool = False) -> API:
        generation = self.index.generation()
        if self._api is None or generation != self._generation:
            with self._lock:
                if self._api is None or generation != self._generation:
                    self._build()
                    self._generation = generation
        return self._items_api if for_items else self._api  # type: ignore[return-value]

    def warm_up(self) -> None:
        """Let the index prepare what it keeps in memory and count each collection's facets
        once, so the first visitor asking for a map or for facets does not wait while a
        backend reads them."""
        fast = self.fast()
        try:
            prepare = getattr(self.index, "prepare", None)
            if prepare is not None:  # a backend that keeps something in memory per process
                prepare()
            for collection in fast.collections.values():
                if not collection.facets:
                    continue
                query = SearchQuery(facets=collection.facets, limit=0, result_type="hits")
                if collection.dataset_id is None:
                    self.index.search_datasets(query)
                else:
                    self.index.search_items(collection.dataset_id, query)
        except Exception:  # a warm-up is an optimisation: never a reason to stop serving
            log.warning("facet warm-up failed", exc_info=True)

    def fast(self) -> FastItems:
        """The JSON answers of the index's current generation."""
        self.api()
        return self._fast  # type: ignore[return-value]

    async def _fast_answer(self, answer: Callable[[FastItems], Response | None]) -> Response | None:
        """The fast answer, or None where pygeoapi answers. An index that reads a local file
        is tried on the event loop first, for ``server.search_on_loop`` seconds: handing a
        search to a thread and back costs more than a box query over an R*Tree. A search
        that needs longer, or a changed index (the answers are built anew), goes to a thread."""
        seconds = self.settings.server.search_on_loop
        if seconds > 0 and self._brief is not None:
            try:
                with self._brief.brief(seconds):
                    if self._fast is not None and self.index.generation() == self._generation:
                        return answer(self._fast)
            except Overran:
                pass
        return await asyncio.to_thread(lambda: answer(self.fast()))

    def openapi(self) -> dict[str, Any]:
        """pygeoapi's OpenAPI document of the index's current generation."""
        self.api()
        return self._openapi

    def _build(self) -> None:
        config = offline.apply(pygeoapi_config(self.settings, self.index, self.key), self.settings)
        openapi = get_oas(config, fail_on_invalid_collection=False)
        api = API(config, openapi)
        # pygeoapi answers 400 to a `datetime` outside a collection's temporal extent; a
        # query about another time simply matches nothing. Items are served by a copy that
        # does not know the extents' times (collection descriptions still show them).
        items_api = copy.copy(api)
        items_api.config = {
            **config,
            "resources": {
                name: {
                    **res,
                    "extents": {k: v for k, v in res["extents"].items() if k != "temporal"},
                }
                for name, res in config["resources"].items()
            },
        }
        self._api, self._items_api = api, items_api
        self._openapi = openapi
        self._fast = FastItems(config, self.index)
        log.info("OGC API rebuilt", extra={"collections": len(config["resources"])})

    async def call(
        self,
        function: Callable[..., Any],
        request: Request,
        *args: Any,
        check: bool = True,
        for_items: bool = False,
        geojson: bool = False,
    ) -> Response:
        api = await asyncio.to_thread(self.api, for_items=for_items)
        api_request = await APIRequest.from_starlette(request, api.locales)
        if check and not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = await asyncio.to_thread(function, api, api_request, *args)
            if status >= 500:
                log.error(
                    "OGC API error",
                    extra={
                        "path": request.url.path,
                        "status": status,
                        "answer": str(content)[:500],
                    },
                )
        if geojson and status == 200 and headers.get("Content-Type") == "application/json":
            headers["Content-Type"] = "application/geo+json"
        response = Response(content, status_code=status)
        response.headers.update(headers)
        return response

    def routes(self) -> list[BaseRoute]:
        async def landing(request: Request) -> Response:
            return await self.call(core_api.landing_page, request)

        async def openapi(request: Request) -> Response:
            return await self.call(core_api.openapi_, request)

        async def conformance_page(request: Request) -> Response:
            return await self.call(conformance, request)

        async def processes(request: Request) -> Response:
            return await self.call(
                processes_api.describe_processes, request, request.path_params.get("process_id")
            )

        async def jobs(request: Request) -> Response:
            return await self.call(
                processes_api.get_jobs, request, request.path_params.get("job_id")
            )

        async def tile_matrix_sets(request: Request) -> Response:
            if "tms_id" in request.path_params:
                return await self.call(
                    tiles_api.tilematrixset, request, request.path_params["tms_id"]
                )
            return await self.call(tiles_api.tilematrixsets, request)

        async def collections(request: Request) -> Response:
            return await self.call(
                core_api.describe_collections, request, request.path_params.get("collection_id")
            )

        async def queryables(request: Request) -> Response:
            return await self.call(
                itemtypes_api.get_collection_queryables,
                request,
                request.path_params["collection_id"],
            )

        async def schema(request: Request) -> Response:
            return await self.call(
                core_api.get_collection_schema, request, request.path_params["collection_id"]
            )

        async def items(request: Request) -> Response:
            sortby = request.query_params.get("sortby", None)
            # pygeoapi fails (500) on an empty name in the list
            if sortby is not None and "" in (part.strip() for part in sortby.split(",")):
                return invalid_parameter("sortby must name a property in each place")
            name = request.path_params["collection_id"]
            fast = await self._fast_answer(lambda fast: fast.items(request, name))
            if fast is not None:
                return fast
            return await self.call(
                itemtypes_api.get_collection_items,
                request,
                name,
                check=False,
                for_items=True,
                geojson=True,
            )

        async def item(request: Request) -> Response:
            name, identifier = request.path_params["collection_id"], request.path_params["item_id"]
            fast = await self._fast_answer(lambda fast: fast.item(request, name, identifier))
            if fast is not None:
                return fast
            return await self.call(
                itemtypes_api.get_collection_item, request, name, identifier, geojson=True
            )

        async def not_allowed(request: Request) -> Response:
            return JSONResponse(
                {"code": "MethodNotAllowed", "description": "this catalogue is read-only"},
                status_code=405,
            )

        return [
            # first: the requests a map sends by the thousand (each route tried costs 4 µs)
            Route("/collections/{collection_id}/items", items, methods=["GET", "POST"]),
            Route("/collections/{collection_id}/items/{item_id:path}", item),
            Route("/", landing),
            Route("/openapi", openapi),
            Route("/conformance", conformance_page),
            Route("/processes", processes),
            Route("/processes/{process_id}", processes),
            Route("/jobs", jobs),
            Route("/jobs/{job_id}", jobs),
            Route("/TileMatrixSets", tile_matrix_sets),
            Route("/TileMatrixSets/{tms_id}", tile_matrix_sets),
            Route("/collections", collections),
            Route("/collections/{collection_id}", collections),
            Route("/collections/{collection_id}/queryables", queryables),
            Route("/collections/{collection_id}/schema", schema),
            Route(
                "/collections/{collection_id}/items/{item_id:path}",
                not_allowed,
                methods=["PUT", "PATCH", "DELETE"],
            ),
            Mount("/static", StaticFiles(directory=STATIC), name="ogc-static"),
        ]
