"""Images of cultural objects, fetched by the catalogue and passed on to the reader, so a page
never makes the reader's browser ask the holding institution (no third-party requests).

Only the ``thumbnail`` URL stored on an indexed item is ever fetched: the route names an item,
not a URL, so it cannot be used to reach arbitrary addresses.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from starlette.requests import Request
from starlette.responses import Response

from catalogue.index import Index

log = logging.getLogger("catalogue.portal")

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 10.0


class Thumbnails:
    def __init__(self, index: Index, user_agent: str) -> None:
        self.index = index
        self.user_agent = user_agent

    async def serve(self, request: Request) -> Response:
        dataset_id = request.path_params["dataset_id"]
        item_id = request.path_params["item_id"]
        item = await asyncio.to_thread(self.index.get_item, dataset_id, item_id)
        url = item.properties.get("thumbnail") if item else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return Response("no image for this record", status_code=404, media_type="text/plain")
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT,
                follow_redirects=True,
                max_redirects=3,
                headers={"User-Agent": self.user_agent},
            ) as client:
                async with client.stream("GET", url) as upstream:
                    kind = upstream.headers.get("content-type", "").split(";")[0].strip()
                    if upstream.status_code != 200 or not kind.startswith("image/"):
                        raise ValueError(f"HTTP {upstream.status_code}, {kind or 'no type'}")
                    body = bytearray()
                    async for chunk in upstream.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BYTES:
                            raise ValueError(f"larger than {MAX_BYTES} bytes")
        except (httpx.HTTPError, ValueError) as exc:
            log.warning(
                "thumbnail unavailable",
                extra={"dataset": dataset_id, "record": item_id, "url": url, "reason": str(exc)},
            )
            return Response("the image is not available", status_code=502, media_type="text/plain")
        return Response(
            bytes(body),
            media_type=kind,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )
