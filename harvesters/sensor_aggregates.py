"""Hourly and daily aggregates of sensor observations: count, min, max, mean, last value.

A bucket is a list ``[count, numeric_count, min, max, sum, last_value, last_time]``, kept as a
list because millions of observations pass through it. Numbers (JSON numbers, not booleans) are
counted and averaged; any other result is counted only. Buckets are keyed by their UTC start:
``2024-05-01T13`` for an hour, ``2024-05-01`` for a day, so keys sort by time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice, repeat
from operator import itemgetter, methodcaller
from typing import Any

Bucket = list[Any]

COUNT, NUMERIC, MIN, MAX, SUM, LAST_VALUE, LAST_TIME = range(7)

PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def new_bucket() -> Bucket:
    return [0, 0, None, None, 0.0, None, None]


def utc_time(value: Any) -> str:
    """An observation's ``phenomenonTime`` as ISO 8601 in UTC (an interval by its start).

    Raises ``ValueError`` for what is not a date-time.
    """
    if not isinstance(value, str):
        raise ValueError(f"phenomenonTime is not a date-time: {value!r}")
    text = value.split("/", 1)[0].strip()
    if len(text) >= 20 and text[10] == "T" and text[-1] == "Z":
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"phenomenonTime is not a date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_HOUR_KEY = re.compile(r"\d{4}-\d\d-\d\dT\d\d")
_TIME = itemgetter("phenomenonTime")
_RESULT = methodcaller("get", "result")
_HOUR = itemgetter(slice(0, 13))
_NUMBERS = frozenset({int, float})


def add_observations(
    observations: list[Any], hours: dict[str, Bucket]
) -> tuple[int, list[tuple[int, str]], str | None, Any]:
    """Fold observations (``phenomenonTime``, ``result``) into hourly buckets.

    Returns (observations folded, [(position, reason)] of those skipped, newest time, its value).
    A page in time order whose times are all UTC instants (``…Z``, as servers send them) is
    folded hour by hour with list operations, several times faster; any other page observation
    by observation.
    """
    try:
        times = list(map(_TIME, observations))
        results = list(map(_RESULT, observations))
    except (KeyError, TypeError, AttributeError):
        return _add_one_by_one(observations, hours)
    if not (
        times
        and set(map(type, times)) == {str}
        and all(map(str.endswith, times, repeat("Z")))
        and not any(map(str.__contains__, times, repeat("/")))
        and all(map(str.__le__, times, islice(times, 1, None)))
    ):
        return _add_one_by_one(observations, hours)
    keys = list(map(_HOUR, times))
    if not all(map(_HOUR_KEY.fullmatch, set(keys))):
        return _add_one_by_one(observations, hours)
    start, count = 0, len(keys)
    while start < count:
        key = keys[start]
        stop = bisect_right(keys, key, start)
        values = results[start:stop]
        if set(map(type, values)) <= _NUMBERS:
            numbers = values
        else:
            numbers = [r for r in values if type(r) is float or type(r) is int]
        delta: Bucket = [stop - start, len(numbers), None, None, 0.0]
        delta += [results[stop - 1], times[stop - 1]]
        if numbers:
            delta[MIN], delta[MAX], delta[SUM] = min(numbers), max(numbers), float(sum(numbers))
        hours[key] = merge(hours.get(key), delta)
        start = stop
    return count, [], times[-1], results[-1]


def _add_one_by_one(
    observations: Iterable[Any], hours: dict[str, Bucket]
) -> tuple[int, list[tuple[int, str]], str | None, Any]:
    folded = 0
    skipped: list[tuple[int, str]] = []
    last_time: str | None = None
    last_value: Any = None
    position = 0
    for observation in observations:
        position += 1
        try:
            when = observation["phenomenonTime"]
            result = observation.get("result")
            # the canonical UTC form servers send is taken as is; anything else is parsed
            if not (type(when) is str and len(when) >= 20 and when[10] == "T" and when[-1] == "Z"):
                when = utc_time(when)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            skipped.append((position, _reason(exc)))
            continue
        key = when[:13]
        bucket = hours.get(key)
        if bucket is None:
            bucket = hours[key] = [0, 0, None, None, 0.0, None, None]
        bucket[0] += 1
        kind = type(result)
        if kind is float or kind is int:
            if bucket[1]:
                if result < bucket[2]:
                    bucket[2] = result
                elif result > bucket[3]:
                    bucket[3] = result
            else:
                bucket[2] = bucket[3] = result
            bucket[1] += 1
            bucket[4] += result
        # servers are asked for time order; one that ignores it must not make an older
        # observation the latest
        if bucket[6] is None or when >= bucket[6]:
            bucket[5] = result
            bucket[6] = when
        if last_time is None or when >= last_time:
            last_time, last_value = when, result
        folded += 1
    return folded, skipped, last_time, last_value


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return "no phenomenonTime"
    if isinstance(exc, ValueError):
        return str(exc)
    return "not an observation object"


def merge(into: Bucket | None, other: Bucket) -> Bucket:
    """Both buckets' observations in one (``other`` holds the later ones)."""
    if into is None:
        return list(other)
    if other[NUMERIC]:
        if into[NUMERIC]:
            into[MIN] = min(into[MIN], other[MIN])
            into[MAX] = max(into[MAX], other[MAX])
        else:
            into[MIN], into[MAX] = other[MIN], other[MAX]
    into[COUNT] += other[COUNT]
    into[NUMERIC] += other[NUMERIC]
    into[SUM] += other[SUM]
    if other[LAST_TIME] is not None and (
        into[LAST_TIME] is None or other[LAST_TIME] >= into[LAST_TIME]
    ):
        into[LAST_VALUE], into[LAST_TIME] = other[LAST_VALUE], other[LAST_TIME]
    return into


def mean(bucket: Bucket) -> float | None:
    return bucket[SUM] / bucket[NUMERIC] if bucket[NUMERIC] else None


@lru_cache(maxsize=16384)
def bounds(period: str, key: str) -> tuple[str, str]:
    """The ISO start and end of the bucket ``key`` (cached: every Datastream has the same hours)."""
    start = _start(period, key)
    end = start + PERIODS[period]
    return _iso(start), _iso(end)


@lru_cache(maxsize=4096)
def cutoff(period: str, newest_key: str, keep: int) -> str:
    """The oldest key still kept when ``keep`` buckets up to ``newest_key`` are kept."""
    start = _start(period, newest_key) - PERIODS[period] * (keep - 1)
    return start.strftime("%Y-%m-%dT%H" if period == "hour" else "%Y-%m-%d")


def summary(period: str, key: str, bucket: Bucket) -> dict[str, Any]:
    """A bucket as shown in a Thing's properties."""
    start, end = bounds(period, key)
    return {
        "start": start,
        "end": end,
        "count": bucket[COUNT],
        "min": bucket[MIN],
        "max": bucket[MAX],
        "mean": mean(bucket),
    }


def _start(period: str, key: str) -> datetime:
    # built from the key's digits: strptime is ten times slower and runs for every bucket shown
    hour = int(key[11:13]) if period == "hour" else 0
    return datetime(int(key[:4]), int(key[5:7]), int(key[8:10]), hour, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
