"""The HTTP client harvests use: timeouts, and retries with backoff on 429, 5xx and connection
errors, honouring ``Retry-After``. Harvesters are given this client; they never build their own."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

log = logging.getLogger("catalogue.harvest")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


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
    ) -> None:
        self.inner = inner
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self.inner.handle_request(request)
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
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    return response
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
    *, timeout: float, retries: int, backoff: float, user_agent: str
) -> httpx.Client:
    """The client a harvest run shares between its sources."""
    return httpx.Client(
        transport=RetryTransport(httpx.HTTPTransport(), retries=retries, backoff=backoff),
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": user_agent},
    )
