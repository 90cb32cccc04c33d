"""The reading side's fast paths give exactly what the general paths give.

Each fast path (canonical timestamps read in batches, points, instants, the item hash, the item
constructor, the feature's time) is compared with the general code it stands in for, written
out here as it was before the fast paths, on many generated values and on the edge cases.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.index.sqlite.rows import (
    epoch,
    is_envelope,
    item_digest,
    item_text,
    prepare_item,
    prepare_items,
)
from catalogue.model import Item, Problem
from catalogue.timestamps import canonical_instants
from harvesters.geojson import GeoJSONOptions
from harvesters.items import feature_item, item_times

_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?")


# the general paths, as they were ------------------------------------------------------------
def general_epoch(value: str | None) -> float | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value if len(value) != 10 else value + "T00:00:00+00:00")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC).timestamp()
    return parsed.timestamp()


def general_item_time(item: Item) -> tuple[float | None, float | None]:
    start_text, end_text = item.time_start, item.time_end
    if start_text is None and end_text is None:
        return None, None
    start = -1e18 if start_text in (None, "..") else general_epoch(start_text)
    if end_text is None:
        return start, start if start_text not in (None, "..") else 1e18
    return start, 1e18 if end_text == ".." else general_epoch(end_text)


def general_is_date(value: str) -> bool:
    return len(value) >= 10 and value[4] == "-" and _DATE.fullmatch(value) is not None


def general_item_text(properties: dict[str, Any]) -> str:
    out: list[str] = []
    nested: list[Any] = []
    for value in properties.values():
        if type(value) is str:
            if not general_is_date(value):
                out.append(value)
        elif isinstance(value, (dict, list)):
            nested.append(value)
    while nested:
        value = nested.pop()
        if isinstance(value, str):
            if not general_is_date(value):
                out.append(value)
        elif isinstance(value, dict):
            nested.extend(value.values())
        elif isinstance(value, list):
            nested.extend(value)
    return " ".join(out)


def general_row(item: Item) -> Any:
    try:
        if item.geometry is not None:
            box: tuple[Any, ...] = geometry_bounds(item.geometry)
            geometry = orjson.dumps(item.geometry)
        else:
            box, geometry = (None, None, None, None), b"null"
        properties = orjson.dumps(item.properties)
        start, end = general_item_time(item)
    except (GeometryError, ValueError, TypeError, orjson.JSONEncodeError) as exc:
        return str(exc)
    row = (
        item.id,
        item_digest(item, geometry, properties),
        start,
        end,
        *box,
        None if item.geometry is None else geometry.decode(),
        properties.decode(),
        int(item.geometry is not None and is_envelope(item.geometry, box)),
    )
    return row, general_item_text(item.properties)


def prepared(items: list[Item]) -> list[Any]:
    """prepare_items' rows with their texts, as prepare_item gives them one by one."""
    batch = prepare_items(items)
    assert len(batch.rows) == len(batch.texts) == len(items)
    return [
        row if type(row) is str else (row, text)
        for row, text in zip(batch.rows, batch.texts, strict=True)
    ]


# generated values ---------------------------------------------------------------------------
def canonical(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + "Z"


EDGE_TIMES = [
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2000-02-29T12:00:00Z",  # leap day of a year divisible by 400
    "2024-02-29T23:59:59Z",
    "2100-02-28T00:00:00Z",
    "2021-12-31T23:59:59Z",
    "2022-01-01T00:00:00Z",
    "1600-03-01T00:00:00Z",
    "0004-02-29T00:00:00Z",
]
NOT_CANONICAL = [
    "2021-02-29T00:00:00Z",  # no leap year
    "1900-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2021-04-31T00:00:00Z",
    "2021-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2021-00-10T00:00:00Z",
    "2021-13-10T00:00:00Z",
    "2021-06-00T00:00:00Z",
    "2021-06-32T00:00:00Z",
    "2021-06-02T24:00:00Z",
    "2021-06-02T23:60:00Z",
    "2021-06-02T23:59:60Z",
    "2021-06-02T08:24:55",
    "2021-06-02T08:24:55z",
    "2021-06-02t08:24:55Z",
    "2021-06-02 08:24:55Z",
    "2021-06-02T08:24:55.5Z",
    "2021-06-02T08:24:55.000Z",
    "2021-06-02T08:24:55+00:00",
    "2021-06-02T10:24:55+02:00",
    "2021-06-02T08:24:55-0530",
    "2021-06-02T08:24Z",
    "2021-06-02",
    "20210602T082455Z",
    "2021-W22-3T08:24:55Z",
    "..",
    "",
    "２０２１-06-02T08:24:55Z",  # digits, but not ASCII (the pattern takes them, the parser not)
    "٢٠٢١-06-02T08:24:55Z",
    "2021-06-02T08:24:5Z\n",
    "2021-06-02T08:24:55Z ",
    " 2021-06-02T08:24:55Z",
    "+021-06-02T08:24:55Z",
    "-021-06-02T08:24:55Z",
    "2021-06-02T08:24:55\ud800",  # a lone surrogate
    "2021/06/02T08:24:55Z",
    "2021-06-02T08-24-55Z",
    "2021-06-02T08:24:55Z2021-06-02T08:24:55Z",
    "2021-06-02T08:24:55Z\n2021-06-02T08:24:55Z",
]


def random_times(rng: random.Random, count: int) -> list[str]:
    start = datetime(1, 1, 1)
    span = (datetime(9999, 12, 31, 23, 59, 59) - start).total_seconds()
    out = [canonical(start + timedelta(seconds=rng.randrange(int(span)))) for _ in range(count)]
    # near now too, where the data is
    out += [
        canonical(datetime(1990, 1, 1) + timedelta(seconds=rng.randrange(50 * 365 * 86400)))
        for _ in range(count)
    ]
    return out


def mangled(rng: random.Random, text: str) -> str:
    """A canonical text with one character changed, dropped or added."""
    k = rng.randrange(len(text))
    choice = rng.randrange(3)
    char = rng.choice("0123456789-:TZ x\n٣")
    if choice == 0:
        return text[:k] + char + text[k + 1 :]
    if choice == 1:
        return text[:k] + text[k + 1 :]
    return text[:k] + char + text[k:]


def expected_seconds(text: Any) -> float | None:
    """What canonical_instants must give: the parser's seconds for a canonical ASCII text."""
    if type(text) is not str or not text.isascii() or not _CANONICAL.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


# canonical_instants -------------------------------------------------------------------------
def test_canonical_instants_read_as_the_parser_does() -> None:
    rng = random.Random(20240601)
    texts = random_times(rng, 3000) + EDGE_TIMES
    read = canonical_instants(texts)
    assert read == [datetime.fromisoformat(t).timestamp() for t in texts]
    assert all(type(s) is float for s in read)
    assert read == [general_epoch(t) for t in texts] == [epoch(t) for t in texts]


def test_canonical_instants_leave_everything_else_to_the_general_path() -> None:
    rng = random.Random(7)
    good = random_times(rng, 500) + EDGE_TIMES
    odd: list[Any] = NOT_CANONICAL + [mangled(rng, t) for t in good for _ in range(3)]
    odd += [None, 1622622295, 1622622295.0, b"2021-06-02T08:24:55Z", ["2021-06-02T08:24:55Z"]]
    for texts in (odd, good + odd, odd + good, rng.sample(good + odd, len(good + odd))):
        assert canonical_instants(texts) == [expected_seconds(t) for t in texts]
    for text in NOT_CANONICAL:
        assert canonical_instants([text]) == [None]
        assert canonical_instants(good[:3] + [text] + good[3:6]) == [
            expected_seconds(t) for t in good[:3] + [text] + good[3:6]
        ]


def test_canonical_instants_keep_each_text_to_its_own_place() -> None:
    """Texts of other lengths that add up to whole ones must not be read as the others' times."""
    t = "2021-06-02T08:24:55Z"
    cases: list[list[Any]] = [
        [t + "1", t[1:]],
        ["", t + t],
        ["", t, t + t],
        [t[:10], t[10:], t],
        [t + "\n" + t, "", t],
        [t, "", t + "\n"],
        ["2021-06-02T08:24:5", "5Z", t, t[:-2] + "5Z" + "0"],
    ]
    for texts in cases:
        assert canonical_instants(texts) == [expected_seconds(x) for x in texts]
    assert canonical_instants([]) == []


class Text(str):
    """A str subclass."""


def test_canonical_instants_of_str_subclasses_read_right_or_not_at_all() -> None:
    t = "2021-06-02T08:24:55Z"
    for texts in ([Text(t), t], [Text(t), t, Text("x")]):
        read = canonical_instants(texts)
        assert read[1] == 1622622295.0
        assert read[0] in (None, 1622622295.0)
        assert read[2:] in ([], [None])


# prepare_items ------------------------------------------------------------------------------
def random_geometry(rng: random.Random) -> Any:
    x, y = rng.uniform(-180, 180), rng.uniform(-90, 90)
    kind = rng.randrange(16)
    if kind < 6:
        return {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}
    if kind == 6:
        return {"type": "Point", "coordinates": [round(x, 6), round(y, 6), 12.5]}
    if kind == 7:  # integers, four numbers, a tuple: the general path
        return {
            "type": "Point",
            "coordinates": rng.choice([[int(x), int(y)], [x, y, 1.0, 2.0], (x, y)]),
        }
    if kind == 8:
        return {"type": "Point", "coordinates": [x + 400, y]}  # out of range
    if kind == 9:
        return {"type": "Point", "coordinates": [True, 1.0]}
    if kind == 10:
        edges = [-180.5, -180.0, -90.5, -90.0, -0.0, 0.0, 90.0, 90.5, 180.0, 180.5]
        if rng.random() < 0.2:
            return rng.choice([{"type": "Point", "coordinates": [1.0]}, {"type": "Point"}, [1]])
        return {"type": "Point", "coordinates": [rng.choice(edges), rng.choice(edges)]}
    if kind == 11:
        w, h = rng.choice([(0.5, 0.25), (0.0, 1.0)])
        ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
        return {"type": "Polygon", "coordinates": [[[min(a, 180), min(b, 90)] for a, b in ring]]}
    if kind == 12:
        return {"type": "LineString", "coordinates": [[x, y], [x / 2, y / 2]]}
    if kind == 13:
        return {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [x, y]}],
        }
    if kind == 14:
        return None
    return {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}  # too short


def random_time(rng: random.Random, good: list[str]) -> tuple[Any, Any]:
    kind = rng.randrange(12)
    if kind < 5:
        return rng.choice(good), None
    if kind == 5:
        return rng.choice(NOT_CANONICAL), None
    if kind == 6:
        return rng.choice(good), rng.choice(good + [".."])
    if kind == 7:
        return "..", rng.choice(good)
    if kind == 8:
        return None, None
    if kind == 9:
        return None, rng.choice(good)
    if kind == 10:
        return rng.choice(good), rng.choice(NOT_CANONICAL)
    return rng.choice(["2021-06-02", "2021-06-02T08:24:55.123Z", "2021-06-02T10:24:55+02:00"]), None


def random_properties(rng: random.Random, start: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": rng.choice(["Baum Oberkassel 1", "Spielplatz", "2021-06-02", "x" * 12]),
        "value": rng.randrange(10_000),
    }
    if start is not None and rng.random() < 0.8:
        properties["updated"] = start  # the property the time came from
    kind = rng.randrange(6)
    if kind == 0:
        properties["created"] = rng.choice(["2020-01-01T00:00:00Z", "2020-01-01", "x-01-01"])
    elif kind == 1:
        properties["nested"] = {"a": ["Wort", "2020-01-01T00:00:00Z", {"b": "tief"}], "n": None}
    elif kind == 2:
        properties["copy"] = str(start)  # equal to the start, another object
    elif kind == 3:
        properties["flag"] = True
    elif kind == 4:
        properties["bad"] = {1, 2}  # not JSON: the item's reason
    return properties


def random_items(seed: int, count: int) -> list[Item]:
    rng = random.Random(seed)
    good = random_times(rng, 200) + EDGE_TIMES
    items = []
    for n in range(count):
        start, end = random_time(rng, good)
        items.append(
            Item(
                f"i{n}",
                "d",
                random_geometry(rng),
                random_properties(rng, start),
                start,
                end,
            )
        )
    return items


def test_prepare_items_as_the_general_path() -> None:
    items = random_items(11, 4000)
    expected = [general_row(i) for i in items]
    assert prepare_items(items).keys == [("d", i.id) for i in items]
    assert prepared(items) == expected
    for size in (1, 7, 500):  # batches of other sizes, mixed differently
        for k in range(0, 1000, size):
            assert prepared(items[k : k + size]) == expected[k : k + size]
    # reasons and instants were among them, and the fast paths were taken
    assert sum(type(r) is str for r in expected) > 100
    assert sum(type(r) is tuple and r[0][2] == r[0][3] for r in expected) > 1000


def test_a_batch_names_its_one_dataset_only_when_all_its_items_can_be_stored() -> None:
    """A first load writes such a batch's rows as they came; any other goes item by item."""
    good = [Item(f"i{n}", "d", None, {"n": n}) for n in range(3)]
    assert prepare_items(good).dataset == "d"
    assert prepare_items(good + [Item("x", "e", None, {})]).dataset is None
    unstorable = prepare_items(good + [Item("y", "d", None, {"bad": {1}})])
    assert unstorable.dataset is None and unstorable.texts[-1] is None
    assert type(unstorable.rows[-1]) is str


def test_prepare_item_alone_as_the_general_path() -> None:
    for item in random_items(12, 1000):
        assert prepare_item(item) == general_row(item)


def test_prepared_points_and_times_compare_exactly() -> None:
    """Floats compare equal across -0.0 and 0.0; the rows must not differ even there."""
    point = {"type": "Point", "coordinates": [-0.0, -0.0]}
    item = Item("p", "d", point, {}, "1970-01-01T00:00:00Z")
    (row,) = prepared([item])
    expected = general_row(item)
    assert row == expected
    assert [math.copysign(1, v) for v in row[0][2:8]] == [
        math.copysign(1, v) for v in expected[0][2:8]
    ]


def test_item_text_as_the_general_path() -> None:
    rng = random.Random(3)
    values = NOT_CANONICAL + EDGE_TIMES + ["Baum", "x" * 10, "abcd-efghij", "2021-06-0x"]
    for _ in range(2000):
        properties = {
            f"k{n}": rng.choice(values + [1, None, [rng.choice(values)]]) for n in range(4)
        }
        assert item_text(properties) == general_item_text(properties)


# feature_item -------------------------------------------------------------------------------
def general_feature_time(properties: dict[str, Any], options: GeoJSONOptions) -> Any:
    try:
        return item_times(properties, options)
    except ValueError as exc:
        return str(exc)


def test_feature_item_times_as_item_times() -> None:
    rng = random.Random(5)
    good = random_times(rng, 300) + EDGE_TIMES
    values: list[Any] = good + NOT_CANONICAL + ["２０２１-06-02T08:24:55Z", None, 1622622295, ""]
    values += [mangled(rng, t) for t in good]
    options = GeoJSONOptions(datetime_field="t")
    for n, value in enumerate(values):
        feature = {"type": "Feature", "id": n, "geometry": None, "properties": {"t": value}}
        record = feature_item("d", n, feature, options, None)
        expected = general_feature_time({"t": value}, options)
        if isinstance(expected, str):
            assert record == Problem(f"feature {n} (id {n})", expected)
        else:
            assert isinstance(record, Item)
            assert (record.time_start, record.time_end) == expected
            if type(value) is str and _CANONICAL.fullmatch(value):
                assert record.time_start is value  # as it was, not a copy


def test_feature_item_problems_say_where() -> None:
    options = GeoJSONOptions(datetime_field="t")
    assert feature_item("d", 3, [], options, None) == Problem("feature 3", "not a GeoJSON Feature")
    assert feature_item("d", 4, {"type": "Feature", "properties": 1}, options, None) == Problem(
        "feature 4", "properties is not an object"
    )
    bad_point = {"type": "Feature", "id": "", "geometry": {"type": "Point", "coordinates": [1]}}
    assert feature_item("d", 5, bad_point, options, None, label="item") == Problem(
        "item 5 (id 5)", "a position needs at least two numbers"
    )
    bad_time = {"type": "Feature", "id": "f", "geometry": None, "properties": {"t": "gestern"}}
    assert feature_item("d", 6, bad_time, options, None, id_prefix="p-") == Problem(
        "feature 6 (id p-f)", "t: not a date or date-time: 'gestern'"
    )
    by_field = GeoJSONOptions(id_field="k")
    feature = {"type": "Feature", "id": 9, "geometry": None, "properties": {"k": ""}}
    assert feature_item("d", 7, feature, by_field, None).id == "9"  # type: ignore[union-attr]
    feature = {"type": "Feature", "id": None, "geometry": None, "properties": {"k": 0}}
    assert feature_item("d", 8, feature, by_field, None).id == "0"  # type: ignore[union-attr]
    feature = {"type": "Feature", "geometry": None, "properties": None}
    assert feature_item("d", 8, feature, by_field, None).id == "8"  # type: ignore[union-attr]


# Item ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class GeneratedItem:
    """Item as the dataclass decorator writes its __init__."""

    id: str
    dataset_id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    time_start: str | None = None
    time_end: str | None = None


def test_item_is_made_as_the_generated_init_makes_it() -> None:
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("a", "d", None, {}), {}),
        (("a", "d", {"type": "Point"}, {"x": 1}, "2021-06-02T08:24:55Z"), {}),
        (("a", "d", None, {}, "s", "e"), {}),
        (("a",), {"dataset_id": "d", "geometry": None, "properties": {}, "time_end": ".."}),
        ((), {"id": "a", "dataset_id": "d", "geometry": None, "properties": {}}),
    ]
    for args, kwargs in cases:
        item, generated = Item(*args, **kwargs), GeneratedItem(*args, **kwargs)
        assert dataclasses.astuple(item) == dataclasses.astuple(generated)
        assert repr(item) == repr(generated).replace("GeneratedItem", "Item")
        assert pickle.loads(pickle.dumps(item)) == item
        assert dataclasses.replace(item, id="b") == Item("b", *dataclasses.astuple(item)[1:])
    wrong: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("a",), {}),
        (("a", "d", None, {}, "s", "e", "x"), {}),
        (("a", "d", None, {}), {"id": "b"}),
        (("a", "d", None, {}), {"other": 1}),
    ]
    for args, kwargs in wrong:
        with pytest.raises(TypeError) as made:
            Item(*args, **kwargs)
        with pytest.raises(TypeError) as generated_error:
            GeneratedItem(*args, **kwargs)
        assert str(made.value) == str(generated_error.value).replace("GeneratedItem", "Item")
    made_item = Item("a", "d", None, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        made_item.id = "b"  # type: ignore[misc]
    assert Item.__match_args__ == GeneratedItem.__match_args__
    assert [f.name for f in dataclasses.fields(Item)] == list(Item.__match_args__)
