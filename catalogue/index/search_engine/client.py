"""What the shared backend code needs from a search-engine client: a dozen calls, each
answered by a thin adapter over opensearch-py or the elasticsearch client.

Adapters translate their client's exceptions: an unreachable engine or a failed write becomes
:class:`~catalogue.errors.IndexBackendError`, a query the engine refuses (HTTP 400 on a search)
a :class:`~catalogue.errors.QueryError`, a missing document ``None``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from catalogue.errors import ConfigError, IndexBackendError

if TYPE_CHECKING:
    from catalogue.index.search_engine.settings import EngineSettings


class EngineClient(ABC):
    """One connection (pool) to an engine; thread-safe like the clients it wraps."""

    product: str
    """``OpenSearch`` or ``Elasticsearch``: what the server must be."""
    major_versions: tuple[int, ...]
    """The server versions this adapter talks to."""

    def __init__(self, settings: EngineSettings) -> None:
        self.url = settings.url

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
    def count(self, index: str, query: dict[str, Any]) -> int: ...

    @abstractmethod
    def bulk(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """One ``_bulk`` request (action and source lines); per-document errors are in the
        answer, not raised."""

    @abstractmethod
    def delete_by_query(self, index: str, query: dict[str, Any]) -> int:
        """Delete matching documents (visible to searches when it returns); how many."""

    @abstractmethod
    def update_script(self, index: str, doc_id: str, script: str, upsert: dict[str, Any]) -> None:
        """Run a painless script on a document, creating it from ``upsert`` if missing."""

    @abstractmethod
    def close(self) -> None: ...


def refused(action: str, status: int | str, reason: Any) -> IndexBackendError:
    return IndexBackendError(f"the search engine refused to {action} (HTTP {status}): {reason}")


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
