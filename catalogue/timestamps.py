"""Canonical UTC timestamps (``2021-06-02T08:24:55Z``), many read at once.

Harvesters normalise item times to this form, so nearly every item time an index stores is in
it. Read one by one (``datetime.fromisoformat(text).timestamp()``, and a pattern to know it is
a date), they cost an eighth of preparing an item's row; numpy reads a batch of them from their
bytes in a fraction of that. Only what is exactly this form, with ASCII digits, a real date
(year 1 to 9999) and a time of day below 24:00:00 is read; anything else gives None, for the
caller's general path to read (and to report as it always did).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_WIDTH = 21  # the text and the newline after it
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_MARKS = [4, 7, 10, 13, 16, 19, 20]
_MARK_BYTES = np.frombuffer(b"--T::Z\n", dtype=np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def canonical_instants(texts: list[Any]) -> list[float | None]:
    """For each text, the seconds since 1970 that ``datetime.fromisoformat(text).timestamp()``
    gives if it is a string ``YYYY-MM-DDTHH:MM:SSZ`` as described above; else None."""
    count = len(texts)
    if not count:
        return []
    try:
        joined = "\n".join(texts)
    except TypeError:  # a None or another type among them
        joined = ""
    # All 20 ASCII characters, the newlines all the join's and, as _read checks, where a text
    # of 20 characters puts them: read as one block.
    if (
        len(joined) == _WIDTH * count - 1
        and joined.isascii()
        and joined.count("\n") == count - 1
        and (read := _read(joined, count)) is not None
    ):
        return read
    out: list[float | None] = [None] * count
    picked = [
        k for k, t in enumerate(texts) if type(t) is str and len(t) == _WIDTH - 1 and t.isascii()
    ]
    if picked:
        read = _read("\n".join([texts[k] for k in picked]), len(picked))
        for k, seconds in zip(picked, read or (), strict=True):
            out[k] = seconds
    return out


def _read(joined: str, count: int) -> list[float | None] | None:
    """The ``count`` texts of ``joined`` (ASCII, 20 characters and a newline each, the last
    without) read as :func:`canonical_instants` reads them; None if they are not in place
    (a text of another length, the newlines shifted)."""
    chars = np.frombuffer((joined + "\n").encode(), dtype=np.uint8).reshape(count, _WIDTH)
    marks = chars[:, _MARKS] == _MARK_BYTES
    if not marks[:, -1].all():
        return None
    d = chars[:, _DIGITS].astype(np.int64) - 48  # a byte that is no digit falls outside 0..9
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    hour = d[:, 8] * 10 + d[:, 9]
    minute = d[:, 10] * 10 + d[:, 11]
    second = d[:, 12] * 10 + d[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    valid_month = (month >= 1) & (month <= 12)
    month_days = _MONTH_DAYS[np.where(valid_month, month, 0)] + (leap & (month == 2))
    good = (
        ((d >= 0) & (d <= 9)).all(axis=1)
        & marks.all(axis=1)
        & (year >= 1)
        & valid_month
        & (day >= 1)
        & (day <= month_days)
        & (hour < 24)
        & (minute < 60)
        & (second < 60)
    )
    # days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    seconds = (days * 86400 + hour * 3600 + minute * 60 + second).astype(np.float64)
    out: list[float | None] = seconds.tolist()
    if not good.all():
        for k in np.flatnonzero(~good).tolist():
            out[k] = None
    return out
