"""What differs between the two engine clients, checked without an Elasticsearch server: client
construction (credentials, TLS options), the product and version checks, and how each client's
errors become the catalogue's. A local HTTP stand-in answers as an Elasticsearch 8 or 7 server
would; the OpenSearch test server answers for itself."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import engine_settings

from catalogue.errors import ConfigError, IndexBackendError, QueryError
from catalogue.index import open_index
from catalogue.index.search_engine.client import ndjson
from catalogue.index.search_engine.elasticsearch import ElasticsearchClient
from catalogue.index.search_engine.opensearch import OpenSearchClient
from catalogue.index.search_engine.settings import EngineSettings
from catalogue.index.search_engine.settings import engine_settings as parse
from catalogue.settings import IndexSettings


class FakeElasticsearch:
    """Answers ``GET /`` as Elasticsearch ``version`` does, a search with HTTP 400 and a bulk
    request with HTTP 500; records the requests' Authorization headers."""

    def __init__(self, version: str) -> None:
        self.authorization: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict[str, Any]) -> None:
                fake.authorization.append(self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self.answer(
                    200, {"version": {"number": version}, "tagline": "You Know, for Search"}
                )

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/_search"):
                    error = {"type": "parse_exception", "reason": "unknown shape type [blob]"}
                    self.answer(400, {"error": {**error, "root_cause": [error]}, "status": 400})
                else:
                    self.answer(500, {"error": {"type": "x", "reason": "disk full"}, "status": 500})

            do_PUT = do_POST  # noqa: N815 (the elasticsearch client sends _bulk as PUT)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def es8() -> Iterator[FakeElasticsearch]:
    fake = FakeElasticsearch("8.15.2")
    yield fake
    fake.close()


def test_elasticsearch_8_passes_the_checks_and_gets_the_credentials(es8: FakeElasticsearch) -> None:
    client = ElasticsearchClient(EngineSettings(url=es8.url, username="cat", password="secret"))
    assert client.check_server()["version"]["number"] == "8.15.2"
    assert es8.authorization[-1] == "Basic Y2F0OnNlY3JldA=="  # cat:secret
    keyed = ElasticsearchClient(EngineSettings(url=es8.url, api_key="a2V5"))
    keyed.info()
    assert es8.authorization[-1] == "ApiKey a2V5"


def test_elasticsearch_errors_become_the_catalogues(es8: FakeElasticsearch) -> None:
    client = ElasticsearchClient(EngineSettings(url=es8.url))
    with pytest.raises(QueryError) as refused_query:
        client.search("catalogue-items", {"query": {"match_all": {}}})
    assert "unknown shape type [blob]" in refused_query.value.user_message
    assert refused_query.value.http_status == 400
    with pytest.raises(IndexBackendError) as failed_write:
        client.bulk(ndjson([{"index": {"_index": "x", "_id": "1"}}, {"a": 1}]))
    assert "HTTP 500" in failed_write.value.user_message
    assert "disk full" in failed_write.value.user_message


def test_an_elasticsearch_7_server_is_refused() -> None:
    fake = FakeElasticsearch("7.17.9")
    try:
        with pytest.raises(ConfigError, match=r"needs 8\.x"):
            ElasticsearchClient(EngineSettings(url=fake.url)).check_server()
    finally:
        fake.close()


def test_each_backend_refuses_the_other_product(
    es8: FakeElasticsearch, opensearch_url: str
) -> None:
    with pytest.raises(ConfigError, match="set index.backend to opensearch"):
        open_index(
            IndexSettings.model_validate({"backend": "elasticsearch", "url": opensearch_url})
        )
    with pytest.raises(ConfigError, match="set index.backend to elasticsearch"):
        open_index(IndexSettings.model_validate({"backend": "opensearch", "url": es8.url}))


def test_an_unreachable_engine_is_a_clear_error() -> None:
    for backend, client_class in (
        ("elasticsearch", ElasticsearchClient),
        ("opensearch", OpenSearchClient),
    ):
        settings = IndexSettings.model_validate(
            {"backend": backend, "url": "http://127.0.0.1:9", "timeout": 2}
        )
        with pytest.raises(IndexBackendError) as unreachable:
            open_index(settings)
        assert (
            unreachable.value.user_message
            == f"cannot reach {client_class.product} at http://127.0.0.1:9"
        )


def test_tls_options_reach_both_clients(tmp_path: Any) -> None:
    settings = EngineSettings(url="https://search.example.org:9200", verify_certs=False)
    es = ElasticsearchClient(settings).client
    node = es.transport.node_pool.all()[0]
    assert node.config.scheme == "https" and node.config.verify_certs is False
    opensearch = OpenSearchClient(settings).client
    connection = opensearch.transport.connection_pool.connections[0]
    assert connection.host == "https://search.example.org:9200"


def test_engine_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="index.shards"):
        parse(IndexSettings.model_validate({"backend": "opensearch", "shards": 0}))
    with pytest.raises(ConfigError, match="index.prefix"):
        parse(IndexSettings.model_validate({"backend": "opensearch", "prefix": "Has Spaces"}))
    with pytest.raises(ConfigError, match="index.colour"):
        parse(IndexSettings.model_validate({"backend": "opensearch", "colour": "blue"}))
    assert parse(engine_settings("http://a:9200,http://b:9200")).hosts() == [
        "http://a:9200",
        "http://b:9200",
    ]


def test_every_engine_setting_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in EngineSettings.model_fields if f"`{name}`" not in readme]
    assert not missing, f"undocumented index settings {missing}"
