"""What the shared backend code needs from a search-engine client: a dozen calls, each
answered by a thin adapter over opensearch-py or the elasticsearch client.

Adapters translate their client's exceptions: an unreachable engine or a failed write becomes
:class:`~catalogue.errors.IndexBackendError`, a query the engine refuses (HTTP 400 on a search)
a :class:`~catalogue.errors.QueryError`, a missing document ``None``. A search the engine
stopped at the time limit is a :class:`~catalogue.errors.QueryTooExpensiveError`; one it did
not answer in time an :class:`~catalogue.errors.IndexUnavailableError`.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from catalogue.errors import (
    CatalogueError,
    ConfigError,
    IndexBackendError,
    QueryError,
    QueryTooExpensiveError,
)

if TYPE_CHECKING:
    from catalogue.index.search_engine.settings import EngineSettings

log = logging.getLogger("catalogue.index.search_engine")

BUSY_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds waited before sending a bulk request again that the engine refused as busy."""


BULK_ANSWER = "errors,items.*.status,items.*.error"
"""``filter_path`` of bulk requests: the engine echoes index, id, version and shard counts for
every document otherwise, an answer larger than what the catalogue reads from it."""


def ndjson(operations: Iterable[dict[str, Any]]) -> bytes:
    """Bulk lines from action and source objects."""
    return b"".join(orjson.dumps(op) + b"\n" for op in operations)


class EngineBusyError(IndexBackendError):
    """The engine asked to be sent less for a while (HTTP 429: a full write queue, a memory
    circuit breaker)."""


class EngineClient(ABC):
    """One connection (pool) to an engine; thread-safe like the clients it wraps."""

    product: str
    """``OpenSearch`` or ``Elasticsearch``: what the server must be."""
    major_versions: tuple[int, ...]
    """The server versions this adapter talks to."""

    def __init__(self, settings: EngineSettings) -> None:
        self.url = settings.url
        self.query_timeout = settings.query_timeout

    def check_server(self) -> dict[str, Any]:
        """The server's info, after checking product and major version."""
        info = self.info()
        version = info.get("version") or {}
        number = str(version.get("number", "?"))
        distribution = version.get("distribution", "elasticsearch")
        product = "OpenSearch" if distribution == "opensearch" else "Elasticsearch"
        if product != self.product:
            raise ConfigError(
                f"index.url: {self.url} is {product} {number}, not {self.product}: "
                f"set index.backend to {product.lower()}"
            )
        major = int(number.split(".")[0]) if number.split(".")[0].isdigit() else -1
        if major not in self.major_versions:
            wanted = " or ".join(f"{v}.x" for v in self.major_versions)
            raise ConfigError(
                f"index.url: {self.url} runs {self.product} {number}; "
                f"the {self.product.lower()} backend needs {wanted}"
            )
        return info

    @abstractmethod
    def info(self) -> dict[str, Any]: ...

    @abstractmethod
    def health(self, timeout: str = "30s") -> str:
        """Wait for status yellow (or the timeout); return the status."""

    @abstractmethod
    def index_exists(self, name: str) -> bool: ...

    @abstractmethod
    def create_index(
        self, name: str, settings: dict[str, Any], mappings: dict[str, Any]
    ) -> None: ...

    @abstractmethod
    def delete_index(self, name: str) -> None: ...

    @abstractmethod
    def alias_targets(self, alias: str) -> list[str]:
        """The physical indices an alias points at (none if there is no such alias)."""

    @abstractmethod
    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """Apply alias changes atomically."""

    @abstractmethod
    def put_settings(self, name: str, settings: dict[str, Any]) -> None: ...

    @abstractmethod
    def get_mapping(self, name: str) -> dict[str, Any]:
        """The mapping of one index (or of the index an alias points at)."""

    @abstractmethod
    def refresh(self, name: str) -> None: ...

    @abstractmethod
    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        """A document's source, or None."""

    @abstractmethod
    def mget(self, index: str, ids: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """The named fields (all if none are named) of the documents that exist, by id."""

    @abstractmethod
    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def search_within(
        self, index: str, body: dict[str, Any], request_timeout: float
    ) -> dict[str, Any]:
        """One search request that waits at most ``request_timeout`` seconds and is not
        repeated when it runs out of time."""

    def timed_search(self, index: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
        """A search that must be done by ``deadline`` (``time.monotonic()``): the engine stops
        it then (its ``timeout``), and the request waits only a little longer for the answer."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise self.too_expensive()
        body = {**body, "timeout": f"{math.ceil(left * 1000)}ms"}
        answer = self.search_within(index, body, left + GRACE)
        if answer.get("timed_out"):  # partial results: counts and pages would be wrong
            raise self.too_expensive()
        return answer

    def too_expensive(self) -> QueryTooExpensiveError:
        return QueryTooExpensiveError(
            f"the search took longer than {self.query_timeout:g} s and was stopped; "
            "narrow it (a smaller area, fewer or simpler filters)"
        )

    def search_failure(self, status: int | str, error: Any) -> CatalogueError | None:
        """What a search the engine answered with an error means for the client, if it is the
        query's fault: out of time, too many terms, or refused (HTTP 400)."""
        types = error_types(error)
        if types & {"time_exceeded_exception", "task_cancelled_exception"}:
            return self.too_expensive()
        if types & {"too_many_clauses", "too_many_nested_clauses"}:
            return QueryError("the search has too many words or values for the index; use fewer")
        if status == 400:
            return QueryError(f"the search engine refused the query: {first_reason(error)}")
        return None

    @abstractmethod
    def count(self, index: str, query: dict[str, Any]) -> int: ...

    def bulk(self, body: bytes) -> dict[str, Any]:
        """One ``_bulk`` request of NDJSON lines (action and source, each ending in a newline);
        the answer holds ``errors`` and, per operation in order, its ``status`` and ``error``
        (see :data:`BULK_ANSWER`). Per-document errors are in the answer, not raised. An engine
        that answers busy (429) is asked again after a wait that doubles, five times, before
        the write fails."""
        for wait in (*BUSY_WAITS, None):
            try:
                return self.send_bulk(body)
            except EngineBusyError as exc:
                if wait is None:
                    raise
                log.warning("search engine busy, writing again", extra={"wait_s": wait, "why": exc})
                time.sleep(wait)
        raise AssertionError("unreachable")

    @abstractmethod
    def send_bulk(self, body: bytes) -> dict[str, Any]:
        """One ``_bulk`` request, once, sent as it is (no per-line serializer) and answered
        through :data:`BULK_ANSWER`."""

    @abstractmethod
    def delete_by_query(self, index: str, query: dict[str, Any]) -> int:
        """Delete matching documents (visible to searches when it returns); how many."""

    @abstractmethod
    def update_script(self, index: str, doc_id: str, script: str, upsert: dict[str, Any]) -> None:
        """Run a painless script on a document, creating it from ``upsert`` if missing."""

    @abstractmethod
    def close(self) -> None: ...


GRACE = 5.0
"""Seconds a search request waits beyond the time limit the engine was given (the engine checks
its limit between steps of work, and the answer has to travel)."""


def refused(action: str, status: int | str, reason: Any) -> IndexBackendError:
    kind = EngineBusyError if status == 429 else IndexBackendError
    return kind(f"the search engine refused to {action} (HTTP {status}): {reason}")


def first_reason(error: Any) -> str:
    """The innermost reason of an engine error document."""
    if isinstance(error, dict):
        cause = error.get("caused_by")
        reason = str(error.get("reason") or error.get("type") or error)
        if isinstance(cause, dict):
            return f"{reason}: {first_reason(cause)}"
        root = error.get("root_cause")
        if isinstance(root, list) and root and isinstance(root[0], dict):
            inner = str(root[0].get("reason") or "")
            return reason if inner in reason else f"{reason}: {inner}"
        return reason
    return str(error)


def error_types(error: Any) -> set[str]:
    """Every ``type`` in an engine error document (causes and failed shards included)."""
    found: set[str] = set()
    if isinstance(error, dict):
        if isinstance(error.get("type"), str):
            found.add(error["type"])
        for value in error.values():
            found |= error_types(value)
    elif isinstance(error, list):
        for value in error:
            found |= error_types(value)
    return found
