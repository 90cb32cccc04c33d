"""The engine's index settings and mappings, versioned.

The catalogue reads and writes through two aliases, ``{prefix}-datasets`` and ``{prefix}-items``;
each points at one physical index named with the mapping version and a creation stamp. A change
here that existing indices cannot take raises :data:`MAPPING_VERSION`; ``catalogue reindex``
then builds indices with the new mapping and swaps the aliases.

Item properties of all datasets share one index, so they are indexed by JSON type under
``p.s.<name>`` (keyword), ``p.n.<name>`` (double) and ``p.b.<name>`` (boolean): a property that
is a number in one dataset and text in another never conflicts.
"""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 1
REFRESH_INTERVAL = "5s"

# stored only, never searched: the record as it was written
_STORED = {"type": "object", "enabled": False}

ANALYSIS: dict[str, Any] = {
    "analyzer": {
        # what prefix matching runs on: lower case, diacritics folded (Düsseldorf = Dusseldorf)
        "folded": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding"],
        },
        "german_folded": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "german_normalization", "german_stemmer"],
        },
        "english_folded": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "english_stemmer"],
        },
    },
    "filter": {
        "german_stemmer": {"type": "stemmer", "language": "light_german"},
        "english_stemmer": {"type": "stemmer", "language": "english"},
    },
}

TEXT: dict[str, Any] = {
    "type": "text",
    "analyzer": "folded",
    "fields": {
        "de": {"type": "text", "analyzer": "german_folded"},
        "en": {"type": "text", "analyzer": "english_folded"},
    },
}

KEYWORD: dict[str, Any] = {"type": "keyword"}
BOX = {name: {"type": "double"} for name in ("minx", "miny", "maxx", "maxy")}
TIME = {"t_start": {"type": "double"}, "t_end": {"type": "double"}}
BOOKKEEPING = {
    "key": KEYWORD,  # the document id again: a unique tie-breaker for sorting and search_after
    "seq": {"type": "long"},  # write order: the default order of results, as in SQLite
    "source": KEYWORD,
    "run": KEYWORD,
    "hash": KEYWORD,
}


def index_settings(shards: int, replicas: int) -> dict[str, Any]:
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        # paging beyond this uses search_after, never a larger window
        "max_result_window": 10_000,
        # the backend refreshes when a write call ends; periodic refreshes only cost segments
        "refresh_interval": REFRESH_INTERVAL,
        # item properties of every dataset: many distinct names in a large catalogue
        "mapping.total_fields.limit": 50_000,
        "analysis": ANALYSIS,
    }


DATASETS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION, "kind": "datasets"},
    "dynamic_templates": [
        # list fields (keywords, themes, language, format …): one keyword field each
        {"terms": {"path_match": "terms.*", "mapping": {"type": "keyword"}}},
    ],
    "properties": {
        **BOOKKEEPING,
        "id": KEYWORD,
        "title": {**TEXT, "fields": {**TEXT["fields"], "raw": KEYWORD}},
        "description": {
            **TEXT,
            "fields": {**TEXT["fields"], "raw": {"type": "keyword", "ignore_above": 8000}},
        },
        "text": TEXT,
        "kind": KEYWORD,
        "publisher": KEYWORD,
        "organization": KEYWORD,
        "licence": KEYWORD,
        "issued": KEYWORD,
        "modified": KEYWORD,
        "terms": {"type": "object", "dynamic": True},
        "geometry": {"type": "geo_shape"},
        **BOX,
        **TIME,
        "item_count": {"type": "long"},
        "derived": _STORED,
        "doc": _STORED,
    },
}

ITEMS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION, "kind": "items"},
    "dynamic_templates": [
        {"strings": {"path_match": "p.s.*", "mapping": {"type": "keyword", "ignore_above": 4096}}},
        {"numbers": {"path_match": "p.n.*", "mapping": {"type": "double"}}},
        {"booleans": {"path_match": "p.b.*", "mapping": {"type": "boolean"}}},
    ],
    "properties": {
        **BOOKKEEPING,
        "id": KEYWORD,
        "ds": KEYWORD,
        "text": TEXT,
        "geometry": {"type": "geo_shape"},
        "point": {"type": "boolean"},
        **BOX,
        **TIME,
        "properties": _STORED,
        "p": {
            "type": "object",
            "dynamic": True,
            "properties": {
                "s": {"type": "object", "dynamic": True},
                "n": {"type": "object", "dynamic": True},
                "b": {"type": "object", "dynamic": True},
            },
        },
    },
}

META: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"generation": {"type": "long"}},
}
