"""The HTTP client harvests use: timeouts, and retries with backoff on 429, 5xx and connection
errors, honouring ``Retry-After``. Harvesters are given this client; they never build their own."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx

from catalogue.errors import CatalogueError

log = logging.getLogger("catalogue.harvest")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

STREAMED = "catalogue_streamed"
"""Request extension marking a body the harvester reads as a stream (a whole file): such bodies
are not held in memory, so they are not limited in size."""


class ResponseTooLarge(CatalogueError):
    """A response body beyond ``harvest.max_response_bytes``."""

    code = "ResponseTooLarge"


class _LimitedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int, url: str) -> None:
        self.inner = inner
        self.limit = limit
        self.url = url

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self.inner:
            seen += len(chunk)
            if seen > self.limit:
                raise ResponseTooLarge(_too_large(self.url, self.limit))
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _too_large(url: str, limit: int) -> str:
    return (
        f"the response from {url} is larger than {limit:,} bytes "
        "(harvest.max_response_bytes); it was not read"
    )


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport; retries a request up to ``retries`` times before giving up."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        max_response_bytes: int | None = None,
    ) -> None:
        self.inner = inner
        self.max_response_bytes = max_response_bytes
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self.inner.handle_request(request)
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    if request.extensions.get(STREAMED):
                        return response
                    # read here: a body reset, cut short or stalled is asked for again too
                    return self._read_whole(request, response)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise
                wait = self._backoff(attempt)
                log.warning(
                    "request failed, retrying",
                    extra={
                        "url": str(request.url),
                        "error": type(exc).__name__,
                        "wait_s": round(wait, 1),
                    },
                )
            else:
                asked = retry_after(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if asked is None else min(asked, self.max_wait)
                response.close()
                log.warning(
                    "server asked to retry",
                    extra={
                        "url": str(request.url),
                        "status": response.status_code,
                        "wait_s": round(wait, 1),
                    },
                )
            self.sleep(wait)
            attempt += 1

    def _read_whole(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """The response with its body read here, so a body that breaks off can be asked for
        again (harvesters read such bodies whole anyway), within ``max_response_bytes``."""
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            response.close()
            raise ResponseTooLarge(_too_large(str(request.url), limit))
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        chunks: list[bytes] = []
        try:
            reader = stream if limit is None else _LimitedStream(stream, limit, str(request.url))
            for chunk in reader:
                chunks.append(chunk)
        finally:
            response.close()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=request,
            extensions=response.extensions,
        )

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), self.max_wait))

    def close(self) -> None:
        self.inner.close()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def harvest_client(
    *,
    timeout: float,
    retries: int,
    backoff: float,
    user_agent: str,
    max_response_bytes: int | None = None,
) -> httpx.Client:
    """The client a harvest run shares between its sources."""
    transport = RetryTransport(
        httpx.HTTPTransport(),
        retries=retries,
        backoff=backoff,
        max_response_bytes=max_response_bytes,
    )
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": user_agent},
    )
