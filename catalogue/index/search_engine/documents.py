"""Records to engine documents and back: the value encodings of the search-engine backends.

Times, extents and the text of an item are computed by the same functions the SQLite backend
uses, so both backends answer a query from the same values.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.index.sqlite.rows import (
    OPEN_END,
    OPEN_START,
    epoch,
    iso,
    item_digest,
    item_text,
    item_time,
)
from catalogue.model import Dataset, Item
from catalogue.query import Field

# The list fields of datasets, indexed as ``terms.<name>`` (one keyword per value): filters
# (``?keywords=Umwelt``) and facets use them. A new list field is one line here.
LIST_FIELDS: dict[str, Callable[[Dataset], Iterable[str | None]]] = {
    "keywords": lambda d: d.keywords,
    "themes": lambda d: d.themes,
    "language": lambda d: d.language,
    "format": lambda d: (x.format for x in d.distributions),
    # assigned after each harvest from the configured boundaries (catalogue/districts.py)
    "districts": lambda d: (
        str(name) for name in d.extras.get("districts") or () if isinstance(name, str)
    ),
}

# The queryable fields of dataset records (the same names the SQLite backend offers).
DATASET_FIELDS: tuple[Field, ...] = (
    *(
        Field(name)
        for name in (
            "id",
            "title",
            "description",
            "kind",
            "publisher",
            "organization",
            "licence",
            "source",
            "issued",
            "modified",
        )
    ),
    *(Field(name, "array") for name in LIST_FIELDS),
)

MAX_ID_BYTES = 512


def item_key(dataset_id: str, item_id: str) -> str:
    """The document id of an item: unique across datasets (dataset ids never contain ``/``)."""
    key = f"{dataset_id}/{item_id}"
    if len(key.encode()) > MAX_ID_BYTES:  # the engine's limit on document ids
        digest = hashlib.blake2b(item_id.encode(), digest_size=16).hexdigest()
        key = f"{dataset_id}/#{digest}"
    return key


@functools.lru_cache(maxsize=4096)
def field_name(name: str) -> str:
    """A property name as a field name: dots would otherwise open object paths."""
    return name.replace("%", "%25").replace(".", "%2E")


_BUCKET = {str: "s", int: "n", float: "n", bool: "b"}


def typed_values(properties: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Property values by JSON type: ``{"s": {name: text}, "n": {...}, "b": {...}}``;
    arrays contribute each element, objects and nulls nothing (as in SQLite, where filters
    compare the value itself)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in properties.items():
        bucket = _BUCKET.get(type(value))
        if bucket is not None:
            out.setdefault(bucket, {})[field_name(name)] = value
        elif isinstance(value, list):
            for v in value:
                bucket = _BUCKET.get(type(v))
                if bucket is not None:
                    out.setdefault(bucket, {}).setdefault(field_name(name), []).append(v)
    return out


class PreparedItem:
    """An item as the JSON of its document, or the reason it cannot be stored.

    ``source`` is the encoded document without the fields a write adds (``run``, ``source``,
    ``seq``). (Putting the digest's encodings of geometry and properties into it as
    ``orjson.Fragment`` measured twice as slow as encoding the small objects again.)"""

    __slots__ = ("dataset_id", "digest", "error", "id", "key", "source")

    def __init__(self, item: Item) -> None:
        self.id = item.id
        self.dataset_id = item.dataset_id
        self.key = item_key(item.dataset_id, item.id)
        self.error: str | None = None
        self.digest = ""
        self.source = b""
        try:
            box = geometry_bounds(item.geometry) if item.geometry is not None else None
            geometry = orjson.dumps(item.geometry)
            properties = orjson.dumps(item.properties)
            start, end = item_time(item)
        except (GeometryError, ValueError, TypeError, orjson.JSONEncodeError) as exc:
            self.error = str(exc)
            return
        self.digest = item_digest(item, geometry, properties)
        doc: dict[str, Any] = {
            "key": self.key,
            "id": item.id,
            "ds": item.dataset_id,
            "hash": self.digest,
            "text": item_text(item.properties),
            "properties": item.properties,
            "p": typed_values(item.properties),
        }
        if box is not None:
            doc["geometry"] = item.geometry
            doc["point"] = box[0] == box[2] and box[1] == box[3]
            doc["minx"], doc["miny"], doc["maxx"], doc["maxy"] = box
        if start is not None:
            doc["t_start"], doc["t_end"] = start, end
        self.source = orjson.dumps(doc)

    def __reduce__(self) -> tuple[Any, ...]:
        # as a plain tuple: pickles in a third of the time of the slots' state
        return _restore_engine_item, (
            self.id,
            self.dataset_id,
            self.key,
            self.error,
            self.digest,
            self.source,
        )

    def line(self, run: bytes, source: bytes, seq: int) -> bytes:
        """The document's line in a bulk body, with the write's fields added (``run`` and
        ``source`` given encoded). Spliced as bytes: the rest of the document is encoded
        already, and only these three fields differ between writes of one item."""
        return b'%b,"run":%b,"source":%b,"seq":%d}\n' % (self.source[:-1], run, source, seq)


def _restore_engine_item(*fields: Any) -> PreparedItem:
    prepared = PreparedItem.__new__(PreparedItem)
    (
        prepared.id,
        prepared.dataset_id,
        prepared.key,
        prepared.error,
        prepared.digest,
        prepared.source,
    ) = fields
    return prepared


def item_from_source(source: dict[str, Any]) -> Item:
    start, end = source.get("t_start"), source.get("t_end")
    time_start = time_end = None
    if start is not None:
        time_start = iso(start) if start > OPEN_START else ".."
        if end is not None and end != start:
            time_end = iso(end) if end < OPEN_END else ".."
    return Item(
        id=source["id"],
        dataset_id=source["ds"],
        geometry=source.get("geometry"),
        properties=source.get("properties") or {},
        time_start=time_start,
        time_end=time_end,
    )


def envelope(box: Iterable[float] | None) -> dict[str, Any] | None:
    if not box:
        return None
    minx, miny, maxx, maxy = box
    # a box without area is a point or a line to the engine
    if minx == maxx and miny == maxy:
        return {"type": "Point", "coordinates": [minx, miny]}
    if minx == maxx or miny == maxy:
        return {"type": "LineString", "coordinates": [[minx, miny], [maxx, maxy]]}
    return {"type": "envelope", "coordinates": [[minx, maxy], [maxx, miny]]}


def dataset_doc(dataset: Dataset, digest: str) -> dict[str, Any]:
    """A dataset as a document (without what the index derives from its items)."""
    doc = dataset.to_dict()
    doc.pop("item_count")
    temporal = dataset.temporal or (None, None)
    organization = dataset.organization()
    terms = {
        name: sorted({v for v in values(dataset) if v}) for name, values in LIST_FIELDS.items()
    }
    out: dict[str, Any] = {
        "key": dataset.id,
        "id": dataset.id,
        "source": dataset.provenance.source_name,
        "hash": digest,
        "title": dataset.title,
        "description": dataset.description,
        "text": " ".join([dataset.title, dataset.description or "", *dataset.keywords]),
        "kind": dataset.kind,
        "publisher": dataset.publisher.name if dataset.publisher else None,
        "organization": organization[0] if organization else None,
        "licence": dataset.licence,
        "issued": dataset.issued,
        "modified": dataset.modified,
        "terms": {k: v for k, v in terms.items() if v},
        "t_start": epoch(temporal[0]) if temporal[0] else (OPEN_START if temporal[1] else None),
        "t_end": epoch(temporal[1]) if temporal[1] else (OPEN_END if temporal[0] else None),
        "doc": doc,
    }
    set_box(out, dataset.spatial)
    return out


def set_box(doc: dict[str, Any], box: Iterable[float] | None) -> None:
    values = list(box) if box else [None, None, None, None]
    doc["geometry"] = envelope(box)
    doc.update(zip(("minx", "miny", "maxx", "maxy"), values, strict=True))


def dataset_from_source(source: dict[str, Any]) -> Dataset:
    doc = dict(source["doc"])
    doc["item_count"] = source.get("item_count") or 0
    derived = source.get("derived") or {}
    if not doc.get("spatial") and derived.get("bbox"):
        doc["spatial"] = derived["bbox"]
    if not doc.get("temporal") and derived.get("time"):
        doc["temporal"] = derived["time"]
    return Dataset.from_dict(doc)
