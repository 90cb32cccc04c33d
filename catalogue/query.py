"""The one query model every index backend answers, and parsers for its wire forms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, Literal, TypeVar

from pygeofilter.ast import Node

from catalogue.errors import QueryError
from catalogue.model import BBox

T = TypeVar("T")

MAX_LIMIT = 10_000
MAX_OFFSET = 2**53
MAX_INTEGER = 2**63 - 1
"""The largest integer a filter may hold: both backends store 64-bit integers."""


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """A closed interval in UTC; ``None`` on either side is an open end."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a client asks of the index: all conditions are combined with AND."""

    text: str | None = None
    bbox: BBox | None = None
    time: TimeInterval | None = None
    properties: tuple[tuple[str, str], ...] = ()
    filter: Node | None = None
    sort: tuple[SortKey, ...] = ()
    limit: int = 10
    offset: int = 0
    result_type: Literal["results", "hits"] = "results"
    facets: tuple[str, ...] = ()
    facet_limit: int = 50


@dataclass(slots=True)
class FacetValue:
    value: Any
    count: int


@dataclass(slots=True)
class SearchResult(Generic[T]):
    records: list[T]
    number_matched: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Field:
    """A queryable property of a collection and its JSON Schema type."""

    name: str
    type: Literal["string", "number", "integer", "boolean", "array", "object"] = "string"


def parse_bbox(text: str) -> BBox:
    """Parse ``minx,miny,maxx,maxy`` (a 6-number 3D box keeps its horizontal part)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise QueryError(f"bbox must be 4 or 6 comma-separated numbers, got {text!r}") from None
    return bbox_from_numbers(numbers)


def bbox_from_numbers(numbers: list[float]) -> BBox:
    """Check a bbox given as 4 numbers (or 6: minx, miny, minz, maxx, maxy, maxz)."""
    text = ",".join(str(n) for n in numbers)
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise QueryError(f"bbox must be 4 or 6 comma-separated numbers, got {text!r}")
    if not all(math.isfinite(n) for n in numbers):
        raise QueryError(f"bbox values must be finite numbers, got {text!r}")
    minx, miny, maxx, maxy = numbers
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise QueryError("bbox latitudes must lie between -90 and 90")
    if miny > maxy:
        raise QueryError("bbox: the lower latitude is greater than the upper one")
    return (minx, miny, maxx, maxy)


def parse_datetime(text: str, *, end: bool = False) -> datetime:
    """Parse an RFC 3339 date-time or a date (a date as an end means the end of that day)."""
    value = text.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            if end:
                return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=UTC)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise QueryError(f"not an RFC 3339 date or date-time: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_time_interval(text: str) -> TimeInterval:
    """Parse an OGC API ``datetime``: an instant, or ``start/end`` (open ends: ``..`` or empty)."""
    if "/" not in text:
        instant = parse_datetime(text)
        end = parse_datetime(text, end=True) if len(text.strip()) == 10 else instant
        return TimeInterval(instant, end)
    left, _, right = text.partition("/")
    start = None if left.strip() in ("", "..") else parse_datetime(left)
    stop = None if right.strip() in ("", "..") else parse_datetime(right, end=True)
    if start is None and stop is None:
        raise QueryError("datetime: both ends of the interval are open")
    if start and stop and start > stop:
        raise QueryError("datetime: the interval ends before it starts")
    return TimeInterval(start, stop)


def parse_sortby(text: str) -> tuple[SortKey, ...]:
    """Parse ``sortby=+a,-b`` (a leading ``+`` may arrive as a space)."""
    keys = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        descending = name.startswith("-")
        name = name.lstrip("+-").strip()
        if not name:
            raise QueryError(f"sortby: empty property name in {text!r}")
        keys.append(SortKey(name, descending))
    return tuple(keys)


def parse_limit(text: str | None, *, default: int = 10, maximum: int = MAX_LIMIT) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"limit must be a whole number, got {text!r}") from None
    if value < 1:
        raise QueryError("limit must be at least 1")
    return min(value, maximum)


def parse_offset(text: str | None) -> int:
    if text is None or text == "":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"offset must be a whole number, got {text!r}") from None
    if value < 0:
        raise QueryError("offset must not be negative")
    if value > MAX_OFFSET:
        raise QueryError(f"offset must not exceed {MAX_OFFSET}")
    return value


def parse_cql2_text(text: str) -> Node:
    """Parse a CQL2 text filter into a pygeofilter AST.

    pygeofilter's ECQL grammar (the one pygeoapi uses) reads most CQL2 text; its CQL2 grammar
    is tried next for what only CQL2 spells (``S_INTERSECTS`` …).
    """
    from pygeofilter.parsers.cql2_text import parse as parse_cql2
    from pygeofilter.parsers.ecql import parse as parse_ecql

    try:
        return parse_ecql(text)
    except Exception as exc:  # the parsers raise several lark error types
        first = exc
    try:
        return parse_cql2(text)
    except Exception:
        raise QueryError(f"malformed CQL2 text filter: {_first_line(first)}") from None


def parse_cql2_json(data: str | bytes | dict[str, Any]) -> Node:
    """Parse a CQL2 JSON filter into a pygeofilter AST."""
    from pygeofilter.parsers.cql2_json import parse as parse_json

    try:
        return parse_json(data)
    except Exception as exc:
        raise QueryError(f"malformed CQL2 JSON filter: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def typed_value(name: str, kind: str | None, value: str) -> Any:
    """A property filter's text as the queryable's JSON type (``?n=3`` on an integer field is
    the number 3), or a :class:`QueryError` saying what was expected."""
    try:
        if kind == "integer":
            return check_integer(int(value), name)
        if kind == "number":
            return float(value)
    except ValueError:
        raise QueryError(f"{name} expects a number, got {value!r}") from None
    if kind == "boolean":
        if value.lower() not in ("true", "false", "1", "0"):
            raise QueryError(f"{name} expects true or false, got {value!r}")
        return value.lower() in ("true", "1")
    return value


def check_integer(value: int, name: str) -> int:
    """``value``, or a :class:`QueryError` when no index can hold it."""
    if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        raise QueryError(f"{name}: {value} is out of the 64-bit integer range")
    return value
