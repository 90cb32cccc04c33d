"""The data team's operations over HTTP: run reports in detail, harvests started on demand.

Both need the token configured as ``server.admin_token`` (given as ``${VAR}``), sent as
``Authorization: Bearer <token>`` or, from a browser, as the password of HTTP Basic
authentication. Without a configured token the operations stay closed. Everybody else sees run
summaries: per source its status and counts, not the reasons and warnings (which may name
internal hosts).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
from contextlib import ExitStack
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalogue.errors import CatalogueError, QueryError
from catalogue.harvest.lock import harvest_lock
from catalogue.harvest.report import recent_reports
from catalogue.harvest.runner import run_harvest
from catalogue.index import Index
from catalogue.settings import Settings

log = logging.getLogger("catalogue.admin")

SUMMARY_KEYS = (
    "name",
    "type",
    "status",
    "started",
    "finished",
    "datasets",
    "items",
    "added",
    "updated",
    "unchanged",
    "deleted",
    "failed",
)


class Unauthorized(CatalogueError):
    http_status = 401
    code = "Unauthorized"


def authorized(request: Request, settings: Settings) -> bool:
    """Whether the request carries the configured admin token."""
    token = settings.server.admin_token
    if token is None:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip()).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            given = ""
    return hmac.compare_digest(given.encode(), token.get_secret_value().encode())


def challenge(message: str) -> Response:
    return JSONResponse(
        {"code": "Unauthorized", "description": message},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="catalogue", Basic realm="catalogue"'},
    )


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """A run report without reasons, problems and warnings."""
    return {
        "run_id": report.get("run_id"),
        "started": report.get("started"),
        "finished": report.get("finished"),
        "sources": [
            {k: s.get(k) for k in SUMMARY_KEYS} | {"warnings": len(s.get("warnings") or [])}
            for s in report.get("sources", [])
        ],
    }


class HarvestRuns:
    """``/harvest/runs``: GET lists recent runs, POST starts one."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index

    async def recent(self, request: Request) -> Response:
        try:
            limit = min(max(int(request.query_params.get("limit", "10")), 1), 100)
        except ValueError:
            raise QueryError("limit must be a whole number") from None
        reports = recent_reports(self.settings.reports_dir(), limit)
        detailed = authorized(request, self.settings)
        return JSONResponse(
            {"detail": detailed, "runs": reports if detailed else [summary(r) for r in reports]}
        )

    async def start(self, request: Request) -> Response:
        if self.settings.server.admin_token is None:
            return challenge("harvests over HTTP need server.admin_token to be configured")
        if not authorized(request, self.settings):
            return challenge("a valid admin token is required")
        body = await request.body()
        try:
            params = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise QueryError("the body must be JSON") from None
        if not isinstance(params, dict):
            raise QueryError("the body must be a JSON object")
        sources = params.get("sources") or []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise QueryError("sources must be a list of source names")
        known = {s.name for s in self.settings.sources}
        unknown = [s for s in sources if s not in known]
        if unknown:
            raise QueryError(f"unknown sources: {', '.join(unknown)}")
        full = bool(params.get("full", False))
        enabled = [s.name for s in self.settings.sources if s.enabled]
        stack = ExitStack()
        stack.enter_context(harvest_lock(self.settings.reports_dir()))  # 409 when busy
        thread = threading.Thread(
            target=self._run, args=(stack, sources, full), name="harvest", daemon=True
        )
        thread.start()
        return JSONResponse(
            {"status": "started", "sources": sources or enabled, "full": full},
            status_code=202,
            headers={"Location": "/harvest/runs"},
        )

    def _run(self, lock: ExitStack, sources: list[str], full: bool) -> None:
        with lock:
            try:
                report = run_harvest(self.settings, self.index, only=sources or None, full=full)
                report.write(self.settings.reports_dir())
            except Exception:
                log.exception("harvest started over HTTP failed")
