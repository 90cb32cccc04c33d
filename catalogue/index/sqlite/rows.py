"""Records to rows and rows to records: the value encodings of the embedded index."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from hashlib import blake2b
from itertools import repeat
from typing import Any

import orjson

from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.index.protocol import PreparedItems
from catalogue.model import Dataset, Item
from catalogue.query import Field
from catalogue.timestamps import canonical_instants

OPEN_START = -1e18
OPEN_END = 1e18
_YEAR_10000 = 253402300800.0


def epoch(value: str | None) -> float | None:
    """ISO 8601 to seconds since 1970 (UTC assumed where no offset is given)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value if len(value) != 10 else value + "T00:00:00+00:00")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC).timestamp()
    return parsed.timestamp()


def item_time(item: Item) -> tuple[float | None, float | None]:
    """An item's time as (start, end) seconds; an instant has start == end, ``..`` is open."""
    start_text, end_text = item.time_start, item.time_end
    if start_text is None and end_text is None:
        return None, None
    start = OPEN_START if start_text in (None, "..") else epoch(start_text)
    if end_text is None:
        return start, start if start_text not in (None, "..") else OPEN_END
    return start, OPEN_END if end_text == ".." else epoch(end_text)


def item_digest(item: Item, geometry: bytes, properties: bytes) -> str:
    """An item's content hash from its encoded geometry and properties and its time; every
    backend stores the same one, so indexes can be compared by hash."""
    hasher = hashlib.blake2b(geometry, digest_size=12)
    hasher.update(properties)
    hasher.update(f"{item.time_start}/{item.time_end}".encode())
    return hasher.hexdigest()


ItemRow = tuple[Any, ...]
"""An item as the items table stores it, but for its row number, collection and run: the
values of :data:`ROW_COLUMNS`."""
ROW_COLUMNS = "id, hash, t_start, t_end, minx, miny, maxx, maxy, geometry, properties, envelope"
(ROW_ID, ROW_HASH, ROW_START, ROW_END, ROW_MINX, ROW_MINY, ROW_MAXX, ROW_MAXY) = range(8)


class ItemRows(PreparedItems):
    """A run of items prepared for the SQLite index (:func:`prepare_items`). ``rows[k]``:
    item k's :data:`ItemRow`, or the reason it cannot be stored; ``texts[k]``: its search
    text (None for a reason). ``dataset``: the one dataset all the items belong to, when
    every one of them can be stored: a first load then writes the rows as they came."""

    __slots__ = ("dataset", "texts")

    def __init__(
        self,
        keys: list[tuple[str, str]],
        rows: list[Any],
        texts: list[str | None],
        dataset: str | None,
    ) -> None:
        super().__init__(keys, rows)
        self.texts = texts
        self.dataset = dataset


def prepare_items(items: list[Item]) -> ItemRows:
    """Items as the index stores them (a module-level function: a second process is handed it
    by name); an item that cannot be stored becomes the reason, in place of its row."""
    starts = canonical_instants([i.time_start for i in items])  # most starts, read at once
    texts: list[str | None] = []
    rows = list(map(_prepared, items, starts, repeat(texts)))
    datasets = {i.dataset_id for i in items}
    whole = len(datasets) == 1 and None not in texts
    return ItemRows(
        [(i.dataset_id, i.id) for i in items], rows, texts, datasets.pop() if whole else None
    )


def prepare_item(item: Item) -> tuple[ItemRow, str] | str:
    """One item's row (:data:`ItemRow`) and search text, or the reason it cannot be stored."""
    texts: list[str | None] = []
    row = _prepared(item, None, texts)
    if isinstance(row, str):
        return row
    return row, texts[0] or ""


def _prepared(item: Item, start_seconds: float | None, texts: list[str | None]) -> ItemRow | str:
    """:func:`prepare_item`, its text appended to ``texts``. ``start_seconds``: the item's
    start as :func:`canonical_instants` read it, if it did."""
    geometry = item.geometry
    start_text, end_text = item.time_start, item.time_end
    point = False
    date_text = None  # a text known to be a date (item_text leaves it out)
    try:
        if geometry is None:
            box: tuple[Any, ...] = (None, None, None, None)
            geometry_json = b"null"
        else:
            point_box = _point_box(geometry)
            point = point_box is not None
            box = point_box or geometry_bounds(geometry)
            geometry_json = orjson.dumps(geometry)
        properties = orjson.dumps(item.properties)
        start: float | None
        end: float | None
        if end_text is None and start_seconds is not None:
            start = end = start_seconds  # an instant, as item_time reads it
            date_text = start_text
        else:
            start, end = item_time(item)
    except (GeometryError, ValueError, TypeError, orjson.JSONEncodeError) as exc:
        texts.append(None)
        return str(exc)
    # item_digest's hash, from a copy of a fresh hasher (no arguments to read) and, for an
    # instant, without formatting its None
    hasher = _HASHER.copy()
    hasher.update(geometry_json)
    hasher.update(properties)
    if end_text is None and type(start_text) is str:
        hasher.update((start_text + "/None").encode())
    else:
        hasher.update(f"{start_text}/{end_text}".encode())
    texts.append(_item_text(item.properties, date_text))
    return (
        item.id,
        hasher.hexdigest(),
        start,
        end,
        box[0],
        box[1],
        box[2],
        box[3],
        None if geometry is None else geometry_json.decode(),
        properties.decode(),
        1 if point else int(geometry is not None and is_envelope(geometry, box)),
    )


_HASHER = blake2b(digest_size=12)


def _point_box(geometry: Any) -> tuple[float, float, float, float] | None:
    """A point's bounds where geometry_bounds would take its fast path (the same checks),
    without the call; None for any other geometry."""
    if type(geometry) is dict and geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if type(coords) is list and (len(coords) == 2 or len(coords) == 3):
            x, y = coords[0], coords[1]
            if (
                type(x) is float
                and type(y) is float
                and -180.0 <= x <= 180.0
                and -90.0 <= y <= 90.0
            ):
                return (x, y, x, y)
    return None


def is_envelope(geometry: dict[str, Any], box: Sequence[float]) -> bool:
    """Whether a (valid) geometry covers exactly its bounding box: a point, or a polygon that is
    an axis-aligned rectangle. Such a geometry intersects a box whenever its bounds do, so
    searches need no exact geometry test for it."""
    kind = geometry.get("type")
    if kind == "Point":
        return True
    if kind != "Polygon":
        return False
    rings = geometry["coordinates"]
    if len(rings) != 1 or len(rings[0]) != 5:
        return False
    minx, miny, maxx, maxy = box
    if minx == maxx or miny == maxy:
        return False
    corners = {(p[0], p[1]) for p in rings[0]}
    return corners == {(minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)}


_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?")


def is_date(value: str) -> bool:
    """Whether a string is an ISO 8601 date or date-time (``2021-06-02T08:24:55Z``)."""
    return len(value) >= 10 and value[4] == "-" and _DATE.fullmatch(value) is not None


def item_text(properties: dict[str, Any]) -> str:
    """The words of an item for full-text search: its string values (nested ones too), but
    dates and date-times. Those are searched by time (``datetime``); as words they were a
    third of the text index of timestamped items ("2021", "06", "02t08", "24", "55z")."""
    return _item_text(properties, None)


def _item_text(properties: dict[str, Any], date_text: str | None) -> str:
    """:func:`item_text`, where a value equal to ``date_text`` (None, or a text known to be a
    date) is left out without a closer look."""
    out: list[str] = []
    nested: list[Any] = []
    for value in properties.values():
        if type(value) is str:
            # is_date inline: most values are no date and fail at value[4]
            if value != date_text and (
                len(value) < 10 or value[4] != "-" or _DATE.fullmatch(value) is None
            ):
                out.append(value)
        elif isinstance(value, (dict, list)):
            nested.append(value)
        elif type(value) not in _JSON_SCALARS:
            nested.append(_as_stored(value))
    while nested:
        value = nested.pop()
        if isinstance(value, str):
            if not is_date(value):
                out.append(value)
        elif isinstance(value, dict):
            nested.extend(value.values())
        elif isinstance(value, list):
            nested.extend(value)
        elif type(value) not in _JSON_SCALARS:
            nested.append(_as_stored(value))
    return " ".join(out)


def stored_item_text(properties: str | bytes) -> str:
    """An item's search text from its stored properties (JSON): the words it was indexed
    with, which the contentless full-text table must be given again to forget them."""
    return item_text(orjson.loads(properties))


_JSON_SCALARS = frozenset((int, float, bool, type(None)))


def _as_stored(value: Any) -> Any:
    """A value that is not plain JSON (a tuple, a date, a UUID, an enum …) as the stored
    properties hold it. The full-text table is told an item's words again, from its stored
    properties, to forget them: the words must be those of the stored form."""
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return None


def dataset_from_row(row: Sequence[Any]) -> Dataset:
    doc = orjson.loads(row[0])
    doc["item_count"] = row[1]
    derived = orjson.loads(row[2]) if row[2] else {}
    if not doc.get("spatial") and derived.get("bbox"):
        doc["spatial"] = derived["bbox"]
    if not doc.get("temporal") and derived.get("time"):
        doc["temporal"] = derived["time"]
    return Dataset.from_dict(doc)


def item_from_row(row: Sequence[Any]) -> Item:
    start, end = row[4], row[5]
    time_start = time_end = None
    if start is not None:
        time_start = iso(start) if start > OPEN_START else ".."
        if end != start:
            time_end = iso(end) if end < OPEN_END else ".."
    return Item(
        id=row[0],
        dataset_id=row[1],
        geometry=orjson.loads(row[2]) if row[2] else None,
        properties=orjson.loads(row[3]),
        time_start=time_start,
        time_end=time_end,
    )


def iso(value: float | None) -> str | None:
    if value is None or not math.isfinite(value) or value <= OPEN_START or value >= OPEN_END:
        return None
    if 0 <= value < _YEAR_10000 and value % 1 == 0:  # whole seconds: half the time
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    moment = datetime.fromtimestamp(value, UTC)
    text = moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "milliseconds")
    return text.replace("+00:00", "Z")


def infer_fields(samples: Iterable[dict[str, Any]]) -> tuple[Field, ...]:
    """The queryable fields seen in sample properties (see :func:`describe_fields`)."""
    return describe_fields(samples)[0]


FACET_MAX_VALUES = 50
"""A text field is offered for facets when a sample of items holds at most this many values."""


def describe_fields(
    samples: Iterable[dict[str, Any]],
) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """The queryable fields seen in sample properties, and those worth counting as facets:
    text (or lists of text) with few distinct values that repeat across the sample."""
    kinds: dict[str, set[str]] = {}
    values: dict[str, set[str]] = {}
    seen_count: dict[str, int] = {}
    for properties in samples:
        for name, value in properties.items():
            kind = _json_type(value)
            kinds.setdefault(name, set()).add(kind)
            if kind == "string" or kind == "array":
                distinct = values.setdefault(name, set())
                if len(distinct) <= FACET_MAX_VALUES:
                    texts = value if kind == "array" else (value,)
                    distinct.update(t for t in texts if isinstance(t, str))
                    seen_count[name] = seen_count.get(name, 0) + 1
    out = []
    for name, seen in kinds.items():
        seen.discard("null")
        if not seen:
            kind = "string"
        elif len(seen) == 1:
            kind = seen.pop()
        elif seen <= {"integer", "number"}:
            kind = "number"
        else:
            kind = "string"
        out.append(Field(name, kind))  # type: ignore[arg-type]
    facets = tuple(
        f.name
        for f in out
        if f.type in ("string", "array")
        and 0 < len(values.get(f.name, ())) <= FACET_MAX_VALUES
        and len(values[f.name]) * 2 <= seen_count[f.name]
    )
    return tuple(out), facets


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"
