"""The project's error tree.

    CatalogueError                 root; carries http_status, code and user_message
    ├── ConfigError                a configuration file is invalid (names file and key)
    ├── QueryError                 a query parameter a client sent is invalid (400)
    │   └── QueryTooExpensiveError a search ran past the index's time limit (400)
    ├── NotFoundError              an unknown collection, dataset or item (404)
    ├── IndexBackendError          the index cannot be opened or written
    │   └── IndexUnavailableError  the index did not answer in time (503)
    └── HarvestError               a source cannot be read at all (the run goes on)

``user_message`` is what a client or user may see; the log gets the full detail.
"""

from __future__ import annotations


class CatalogueError(Exception):
    http_status = 500
    code = "NoApplicableCode"

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class ConfigError(CatalogueError):
    code = "ConfigError"


class QueryError(CatalogueError):
    http_status = 400
    code = "InvalidParameterValue"


class QueryTooExpensiveError(QueryError):
    """A search ran past the index's time limit and was stopped."""

    code = "QueryTooExpensive"


class NotFoundError(CatalogueError):
    http_status = 404
    code = "NotFound"


class IndexBackendError(CatalogueError):
    code = "IndexError"


class IndexUnavailableError(IndexBackendError):
    """The index did not answer within the time a search may take (busy or unreachable)."""

    http_status = 503
    code = "ServiceUnavailable"


class HarvestError(CatalogueError):
    code = "HarvestError"
