"""Why a source failed, in words for the data team (the log keeps the exception)."""

from __future__ import annotations

import httpx

from catalogue.errors import CatalogueError


def failure_message(exc: Exception) -> str:
    """What a source's report says of the exception that stopped it."""
    return exc.user_message if isinstance(exc, CatalogueError) else describe(exc)


def expected_failure(exc: Exception) -> bool:
    """Whether the exception is one of the failures sources have (unreachable, refused,
    undecodable …): logged in words, without a traceback."""
    return isinstance(exc, (CatalogueError, httpx.HTTPError, OSError, UnicodeDecodeError))


def describe(exc: Exception) -> str:
    """Why a source failed, in words for the data team (the log has the exception)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url}"
    if isinstance(exc, httpx.RequestError):
        return _describe_request_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        encoding = exc.encoding.upper()
        byte = exc.object[exc.start : exc.start + 1].hex()
        return (
            f"the data is not valid {encoding} (byte 0x{byte}): it is in another encoding "
            "than the one it declares or the source is configured with"
        )
    return f"{type(exc).__name__}: {exc}"


def _describe_request_error(exc: httpx.RequestError) -> str:
    try:
        url = str(exc.request.url)
    except RuntimeError:  # raised without a request
        url = "the server"
    text = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting to {url} (harvest.timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out waiting for {url} (harvest.timeout)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "complete message body" in text:
            return f"the response from {url} was truncated: {text}"
        if "without sending a response" in text:
            return f"{url} closed the connection without answering"
        return f"{url} closed the connection or broke the HTTP protocol: {text}"
    if isinstance(exc, httpx.NetworkError) and "reset" in text.lower():
        return f"connection reset by the server while reading {url}"
    return f"the request to {url} failed: {type(exc).__name__}: {text}"
