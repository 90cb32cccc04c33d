"""Index backends on a search engine: OpenSearch 2.x and Elasticsearch 8.x share the query,
mapping and write code; each has a thin module for its client."""

from catalogue.index.search_engine.store import IndexNames, SearchEngineIndex

__all__ = ["IndexNames", "SearchEngineIndex"]
