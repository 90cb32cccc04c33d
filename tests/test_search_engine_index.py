"""The search-engine backend on a real OpenSearch server: the index protocol's behaviour, the
same assertions as the SQLite backend's, and what only an engine has (bulk errors, paging past
the result window, the alias swap)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# The protocol tests of the SQLite backend, run here against OpenSearch through the `index`
# fixture below: every assertion must hold on both backends.
from test_sqlite_index import (  # noqa: F401
    dataset,
    load,
    point,
    test_a_bbox_over_most_of_the_extent_gives_the_same_answer,
    test_a_dataset_id_of_another_source_is_not_taken_over,
    test_backend_satisfies_the_protocol,
    test_bbox_is_exact_at_the_edges,
    test_bbox_on_polygons_uses_their_shape_not_their_box,
    test_cql2_text_and_json_filters,
    test_dataset_search_combines_text_terms_sort_and_paging,
    test_dataset_search_text_bbox_time_and_facets,
    test_delete_source_removes_datasets_and_items,
    test_districts_are_a_list_field_of_datasets,
    test_duplicate_ids_and_unknown_datasets_are_reported_not_fatal,
    test_generation_follows_datasets_not_item_batches,
    test_invalid_geometry_is_reported_and_the_rest_is_stored,
    test_like_is_case_sensitive_and_values_are_parameters,
    test_property_equality_follows_the_field_type,
    test_sort_paging_hits_and_facets,
    test_text_counts_and_facets_stay_in_their_collection,
    test_text_search_folds_diacritics_and_matches_word_prefixes,
    test_text_that_looks_like_fts_or_sql_syntax_is_just_text,
    test_time_intervals_instants_and_open_ends,
    test_unknown_collection_is_not_found,
    test_upsert_counts_added_updated_unchanged_and_stale_deletes,
)


@pytest.fixture()
def index(engine_index: Any) -> Iterator[Any]:
    yield engine_index
