"""What every request passes on its way in: a body size limit, a per-client rate limit for
searches, and the headers every answer carries. One plain ASGI middleware, so the cost per
request stays a few microseconds.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogue.settings import ServerSettings

# answers that are documents for people get these too (pages must not be framed elsewhere)
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_HTML = [(b"x-frame-options", b"DENY")]

# the requests that cost the index real work: searches, not single records or pages of links
_SEARCHES = ("/items", "/package_search", "/dcat/catalog")


class TokenBucket:
    """Per-client buckets of ``rate`` requests a minute, holding at most ``burst``."""

    def __init__(self, rate_per_minute: int, burst: int) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > 100_000:  # forget the idle ones
                    self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate


class Guards:
    """The middleware."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.limiter = (
            TokenBucket(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None
        )
        self.trust_forwarded = settings.trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(
                send, 413, "PayloadTooLarge", f"bodies are limited to {self.max_body} bytes"
            )
            return
        if self.limiter is not None and scope["path"].endswith(_SEARCHES):
            wait = self.limiter.take(self._client(scope, headers))
            if wait > 0:
                await _refuse(
                    send,
                    429,
                    "TooManyRequests",
                    "too many searches from this client; try again later",
                    retry_after=math.ceil(wait),
                )
                return
        await self.app(scope, self._limited(receive), self._with_headers(send))

    def _client(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        forwarded = headers.get(b"x-forwarded-for") if self.trust_forwarded else None
        if forwarded:
            return forwarded.split(b",")[0].strip().decode("latin-1")
        client = scope.get("client")
        return str(client[0]) if client else "-"

    def _limited(self, receive: Receive) -> Receive:
        """A body without (or with a false) Content-Length is cut off at the limit too."""
        seen = 0
        limit = self.max_body

        async def guarded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return guarded

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(_ALWAYS)
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type" and value.startswith(b"text/html"):
                        extra += _HTML
                        break
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        return sending


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"bodies are limited to {limit} bytes")


async def _refuse(
    send: Send, status: int, code: str, message: str, retry_after: int | None = None
) -> None:
    body = orjson.dumps({"code": code, "description": message})
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_ALWAYS,
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
