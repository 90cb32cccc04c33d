"""The Action API over HTTP: ``/api/3/action/{name}`` and ``/api/action/{name}``, GET with query
parameters or POST with a JSON body, answered in CKAN's envelope with CKAN's status codes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from catalogue.ckan.actions import ACTIONS, Context
from catalogue.errors import IndexUnavailableError, NotFoundError, QueryError

log = logging.getLogger("catalogue.ckan")
LIST_PARAMS = ("facet.field", "fq_list")


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json;charset=utf-8"
    )


def _error(help_url: str, status: int, kind: str, message: str, **fields: Any) -> Response:
    return _answer(
        {
            "help": help_url,
            "success": False,
            "error": {"__type": kind, "message": message, **fields},
        },
        status,
    )


def routes(context: Context) -> list[BaseRoute]:
    async def action(request: Request) -> Response:
        name = request.path_params["name"]
        help_url = f"{context.base_url}/api/3/action/help_show?name={name}"
        if name not in ACTIONS:
            return _error(
                help_url,
                400,
                "Bad request - Action name not known",
                f"Bad request - Action name not known: {name}",
            )
        params: dict[str, Any] = {}
        for key in request.query_params:
            values = request.query_params.getlist(key)
            params[key] = values if key in LIST_PARAMS or len(values) > 1 else values[0]
        if request.method == "POST":
            raw = await request.body()
            if raw.strip():
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    return _error(
                        help_url, 400, "Bad request", "Bad request - JSON Error: not JSON"
                    )
                if not isinstance(body, dict):
                    return _error(
                        help_url, 400, "Bad request", "Bad request - JSON Error: not an object"
                    )
                params.update(body)
        try:
            result = await asyncio.to_thread(ACTIONS[name], context, params)
        except NotFoundError as exc:
            return _error(help_url, 404, "Not Found Error", f"Not found: {exc.user_message}")
        except IndexUnavailableError as exc:
            return _error(help_url, exc.http_status, "Search Error", exc.user_message)
        except QueryError as exc:
            field = exc.user_message.split(":", 1)[0] if ":" in exc.user_message else "parameters"
            return _error(
                help_url, 409, "Validation Error", exc.user_message, **{field: [exc.user_message]}
            )
        return _answer({"help": help_url, "success": True, "result": result})

    return [
        Route("/api/3/action/{name}", action, methods=["GET", "POST"]),
        Route("/api/action/{name}", action, methods=["GET", "POST"]),
    ]
