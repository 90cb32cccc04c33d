"""``/dcat``: the catalogue and its datasets as DCAT-AP in Turtle, RDF/XML, JSON-LD and
N-Triples, by content negotiation or suffix (``catalog.ttl``), with ETag / Last-Modified."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from catalogue.dcat.serialize import BY_MEDIA_TYPE, BY_SUFFIX, FORMATS, RDFFormat
from catalogue.dcat.service import (
    DCATService,
    check_modified_since,
    not_modified_since,
    parse_page,
)
from catalogue.errors import CatalogueError, NotFoundError

DEFAULT = FORMATS[0]


class NotAcceptableError(CatalogueError):
    http_status = 406
    code = "NotAcceptable"


def negotiate(accept: str | None) -> RDFFormat:
    """The format an ``Accept`` header prefers (by q-value, then order); Turtle for ``*/*``."""
    if not accept:
        return DEFAULT
    offers: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            offers.append((-q, position, media.lower()))
    for _, _, media in sorted(offers):
        if media in BY_MEDIA_TYPE:
            return BY_MEDIA_TYPE[media]
        if media in ("*/*", "text/*", "application/*"):
            return DEFAULT
    raise NotAcceptableError(
        "none of the accepted media types is offered; use one of "
        + ", ".join(f.media_type for f in FORMATS)
    )


def routes(service: DCATService) -> list[BaseRoute]:
    settings = service.settings.dcat

    def headers(fmt: RDFFormat, etag: str, last_modified: str | None) -> dict[str, str]:
        out = {"ETag": etag, "Vary": "Accept", "Cache-Control": "no-cache"}
        if last_modified:
            out["Last-Modified"] = last_modified
        return out

    def unchanged(request: Request, etag: str, last_modified: str | None) -> bool:
        match = request.headers.get("if-none-match")
        if match is not None:
            return etag in (m.strip() for m in match.split(",")) or match.strip() == "*"
        return not_modified_since(request.headers.get("if-modified-since"), last_modified)

    async def catalog(request: Request) -> Response:
        suffix = request.path_params.get("suffix")
        fmt = _format(suffix, request)
        params: dict[str, Any] = dict(request.query_params)
        page = parse_page(params, settings.page_size, settings.max_page_size)
        since = check_modified_since(params.get("modified_since"))
        etag = service.etag("catalog", fmt.suffix, str(request.url.query))
        last_modified = await asyncio.to_thread(service.catalogue_last_modified)
        head = headers(fmt, etag, last_modified)
        if unchanged(request, etag, last_modified):
            return Response(status_code=304, headers=head)
        serializer = service.serializer(fmt)
        parts = service.catalogue_triples(since, page)
        if page is not None:
            body = await asyncio.to_thread(serializer.whole, parts)
            return Response(body, media_type=fmt.media_type, headers=head)
        return StreamingResponse(serializer.stream(parts), media_type=fmt.media_type, headers=head)

    async def dataset(request: Request) -> Response:
        raw = request.path_params["id"]
        dataset_id, fmt = raw, None
        stem, _, suffix = raw.rpartition(".")
        # "a.ttl" is dataset "a" as Turtle, unless a dataset is called "a.ttl"
        if stem and suffix in BY_SUFFIX and service.index.get_dataset(raw) is None:
            dataset_id, fmt = stem, BY_SUFFIX[suffix]
        fmt = fmt or negotiate(request.headers.get("accept"))
        found = await asyncio.to_thread(service.find_dataset, dataset_id)
        etag = service.etag("dataset", dataset_id, fmt.suffix, found.provenance.content_hash or "")
        last_modified = service.dataset_last_modified(found)
        head = headers(fmt, etag, last_modified)
        if unchanged(request, etag, last_modified):
            return Response(status_code=304, headers=head)
        serializer = service.serializer(fmt)
        body = await asyncio.to_thread(serializer.whole, [service.dataset_triples(found)])
        return Response(body, media_type=fmt.media_type, headers=head)

    def _format(suffix: str | None, request: Request) -> RDFFormat:
        if suffix is None:
            return negotiate(request.headers.get("accept"))
        if suffix not in BY_SUFFIX:
            raise NotFoundError(f"no format .{suffix}; use one of .ttl, .rdf, .jsonld, .nt")
        return BY_SUFFIX[suffix]

    return [
        Route("/catalog", catalog),
        Route("/catalog.{suffix}", catalog),
        Route("/dataset/{id:path}", dataset),
    ]
