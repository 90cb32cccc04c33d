"""What the index derives for a dataset from its items: count, extent in space and time, and
the queryable fields (inferred from a sample, as the SQLite backend does)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalogue.index.search_engine.client import EngineClient
from catalogue.index.search_engine.documents import envelope
from catalogue.index.sqlite.rows import OPEN_END, OPEN_START, epoch, infer_fields, iso
from catalogue.query import Field

FIELD_SAMPLE = 2000

Statistics = tuple[int, list[float] | None, list[str | None] | None]
"""Item count, bounding box, time extent (an open side is None)."""


def item_statistics(client: EngineClient, items: str, ids: list[str]) -> dict[str, Statistics]:
    """Per dataset with items: count, bounds and time extent, in one aggregation."""
    aggs = {
        "ds": {
            "terms": {"field": "ds", "size": len(ids)},
            "aggs": {
                "minx": {"min": {"field": "minx"}},
                "miny": {"min": {"field": "miny"}},
                "maxx": {"max": {"field": "maxx"}},
                "maxy": {"max": {"field": "maxy"}},
                "t0": {"min": {"field": "t_start"}},
                "t1": {"max": {"field": "t_end"}},
            },
        }
    }
    body = {"query": {"terms": {"ds": ids}}, "size": 0, "aggs": aggs}
    answer = client.search(items, body)
    out: dict[str, Statistics] = {}
    for b in answer["aggregations"]["ds"]["buckets"]:
        box = [b[k]["value"] for k in ("minx", "miny", "maxx", "maxy")]
        t0, t1 = b["t0"]["value"], b["t1"]["value"]
        out[b["key"]] = (
            int(b["doc_count"]),
            box if box[0] is not None else None,
            # an item with an open start or end leaves the extent open on that side
            [iso(t0), iso(t1)] if t0 is not None else None,
        )
    return out


def sample_fields(client: EngineClient, items: str, dataset_id: str) -> tuple[Field, ...]:
    """The queryable fields of a dataset, from its first items."""
    body = {
        "query": {"term": {"ds": dataset_id}},
        "sort": [{"seq": "asc"}],
        "size": FIELD_SAMPLE,
        "_source": ["properties"],
    }
    hits = client.search(items, body)["hits"]["hits"]
    return infer_fields(h["_source"].get("properties") or {} for h in hits)


def derived_update(
    doc: dict[str, Any],
    count: int,
    box: list[float] | None,
    span: list[str | None] | None,
    fields: Sequence[Field],
) -> dict[str, Any]:
    """The dataset document's fields that follow from its items; what the source declared
    (spatial, temporal) wins over what the items span."""
    extent = doc.get("spatial") or box
    period: list[str | None] | None = doc.get("temporal") or span
    update: dict[str, Any] = {
        "item_count": count,
        "derived": {"fields": [[f.name, f.type] for f in fields], "bbox": box, "time": span},
        "geometry": envelope(extent),
        "t_start": (epoch(period[0]) if period[0] else OPEN_START) if period else None,
        "t_end": (epoch(period[1]) if period[1] else OPEN_END) if period else None,
    }
    update.update(zip(("minx", "miny", "maxx", "maxy"), extent or [None] * 4, strict=True))
    return update
