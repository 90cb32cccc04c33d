"""``backend: elasticsearch`` — Elasticsearch 8.x through the elasticsearch client (``>=8.18,<9``:
a 9.x client cannot talk to an 8.x server, and this client refuses OpenSearch servers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from catalogue.errors import ConfigError, IndexBackendError, IndexUnavailableError
from catalogue.index.search_engine.client import (
    BULK_ANSWER,
    EngineClient,
    first_reason,
    refused,
)
from catalogue.index.search_engine.settings import EngineSettings
from catalogue.index.search_engine.store import SearchEngineIndex


class ElasticsearchClient(EngineClient):
    product = "Elasticsearch"
    major_versions = (8,)

    def __init__(self, settings: EngineSettings) -> None:
        super().__init__(settings)
        options: dict[str, Any] = {
            "request_timeout": settings.timeout,
            "verify_certs": settings.verify_certs,
            "ssl_show_warn": settings.verify_certs,
            "max_retries": 2,
            "retry_on_timeout": True,
            # bulk bodies are most of what is sent: orjson writes them several times faster
            "serializer": OrjsonSerializer(),
        }
        if settings.ca_certs:
            options["ca_certs"] = str(settings.ca_certs)
        if settings.username:
            options["basic_auth"] = (settings.username, settings.password or "")
        if settings.api_key:
            options["api_key"] = settings.api_key
        self.client = Elasticsearch(settings.hosts(), **options)
        self.slow = self.client.options(request_timeout=settings.timeout * 10)

    @contextmanager
    def _calls(self, action: str) -> Iterator[None]:
        try:
            yield
        except elasticsearch.UnsupportedProductError:
            raise ConfigError(
                f"index.url: {self.url} is not Elasticsearch (the elasticsearch client refuses "
                "other products): for OpenSearch set index.backend to opensearch"
            ) from None
        except elasticsearch.ConnectionTimeout as exc:
            if action != "search":
                raise
            raise IndexUnavailableError(
                "the search engine did not answer in time; try again later",
                detail=f"{action}: {exc}",
            ) from None
        except elasticsearch.ConnectionError as exc:
            raise IndexBackendError(
                f"cannot reach Elasticsearch at {self.url}", detail=f"{action}: {exc}"
            ) from None
        except elasticsearch.ApiError as exc:
            body = exc.body if isinstance(exc.body, dict) else {"reason": exc.body}
            error = body.get("error", body)
            failure = self.search_failure(exc.meta.status, error) if action == "search" else None
            if failure is not None:
                raise failure from None
            raise refused(action, exc.meta.status, first_reason(error)) from None

    def info(self) -> dict[str, Any]:
        with self._calls("read the server info"):
            return dict(self.client.info())

    def health(self, timeout: str = "30s") -> str:
        with self._calls("report its health"):
            answer = self.client.cluster.health(wait_for_status="yellow", timeout=timeout)
        return str(answer["status"])

    def index_exists(self, name: str) -> bool:
        with self._calls("check an index"):
            return bool(self.client.indices.exists(index=name))

    def create_index(self, name: str, settings: dict[str, Any], mappings: dict[str, Any]) -> None:
        with self._calls("create an index"):
            self.client.indices.create(index=name, settings=settings, mappings=mappings)

    def delete_index(self, name: str) -> None:
        with self._calls("delete an index"):
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def alias_targets(self, alias: str) -> list[str]:
        with self._calls("read an alias"):
            if not self.client.indices.exists_alias(name=alias):
                return []
            return sorted(self.client.indices.get_alias(name=alias).body)

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        with self._calls("swap aliases"):
            self.client.indices.update_aliases(actions=actions)

    def put_settings(self, name: str, settings: dict[str, Any]) -> None:
        with self._calls("change index settings"):
            self.client.indices.put_settings(index=name, settings={"index": settings})

    def get_mapping(self, name: str) -> dict[str, Any]:
        with self._calls("read a mapping"):
            answer = self.client.indices.get_mapping(index=name).body
        return dict(next(iter(answer.values()))["mappings"])

    def refresh(self, name: str) -> None:
        with self._calls("refresh"):
            self.client.indices.refresh(index=name)

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        # through mget: a missing document is an answer, not an error the client logs
        found = self.mget(index, [doc_id], [])
        return found.get(doc_id)

    def mget(self, index: str, ids: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with self._calls("read documents"):
            answer = self.client.mget(index=index, ids=ids, source_includes=fields or None)
        return {d["_id"]: d["_source"] for d in answer["docs"] if d.get("found")}

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._calls("search"):
            return dict(self.client.search(index=index, body=body))

    def search_within(
        self, index: str, body: dict[str, Any], request_timeout: float
    ) -> dict[str, Any]:
        # searches have a time limit: one that runs out of it is not sent again
        searcher = self.client.options(request_timeout=request_timeout, retry_on_timeout=False)
        with self._calls("search"):
            return dict(searcher.search(index=index, body=body))

    def count(self, index: str, query: dict[str, Any]) -> int:
        with self._calls("search"):
            return int(self.client.count(index=index, query=query)["count"])

    def send_bulk(self, body: bytes) -> dict[str, Any]:
        with self._calls("write documents"):
            # NDJSON bytes pass the client's serializer as they are (its types name only
            # sequences of objects)
            answer = self.slow.bulk(operations=body, filter_path=BULK_ANSWER)  # type: ignore[arg-type]
            return dict(answer)

    def delete_by_query(self, index: str, query: dict[str, Any]) -> int:
        with self._calls("delete documents"):
            answer = self.slow.delete_by_query(
                index=index, query=query, refresh=True, conflicts="proceed"
            )
        return int(answer.get("deleted", 0))

    def update_script(self, index: str, doc_id: str, script: str, upsert: dict[str, Any]) -> None:
        with self._calls("update a document"):
            self.client.update(
                index=index,
                id=doc_id,
                script={"source": script, "lang": "painless"},
                upsert=upsert,
                retry_on_conflict=5,
                refresh=True,
            )

    def close(self) -> None:
        self.client.close()


class ElasticsearchIndex(SearchEngineIndex):
    """The catalogue's index on Elasticsearch 8.x."""

    client_class = ElasticsearchClient
