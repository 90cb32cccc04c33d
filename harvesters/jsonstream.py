"""The members of a large JSON array, read one at a time, with a limit on nesting.

``ijson.items`` builds each member whole, however deeply it nests: a few hundred kilobytes of
``[[[[…]]]]`` made a harvest take all the machine's memory. Three ways to read:

- split, for a stream that can seek (a local file) and a prefix ``<key>.item`` (the array under
  a key of the top-level object, as GeoJSON's ``features.item``): ijson builds members in C but
  spends about 5 µs per feature passing yajl's events to its builder, so
  :func:`harvesters.jsonsplit.split_members` finds each member's bytes with numpy and builds it
  with orjson (1M points: 7.6 s -> 3.2 s); members nested too deep are only checked, never
  built. A document of another shape is read the next way, without repeating members;
- fast, for other prefixes and shapes on such a stream: ``ijson.items`` builds the members in
  C, behind a :class:`~harvesters.jsondepth.DepthGuard` that measures each chunk's nesting on
  its bytes before the parser sees it. Only when a chunk nests too deep does reading start over;
- exact, for that case and for streams that cannot seek (HTTP): the parser's events are built
  into members by ijson's own ``ObjectBuilder`` while the depth is counted, in Python; a member
  nested deeper than ``max_depth`` is skipped (its events are consumed without building
  anything) and handed out as :class:`TooDeep`, for the harvester to report as a broken record.

The three give the same members (numbers as floats, integers as ints: ijson's yajl2_c refuses
integers beyond 64 bits, and so does the split reading), and a document that is not JSON ends
each in an :class:`ijson.JSONError` after the members before the broken point (also text that
is not UTF-8, for which yajl2_c raises ``UnicodeDecodeError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
from ijson.common import ObjectBuilder

from harvesters.jsondepth import DepthExceeded, DepthGuard
from harvesters.jsonsplit import Runs, Unsplittable, split_members

MAX_DEPTH = 64
"""Nesting deeper than this inside one member is refused (GeoJSON needs 4 for polygons)."""

_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})


class TooDeep:
    """A member that nested deeper than the limit; nothing of it was kept."""

    def __init__(self, limit: int) -> None:
        self.reason = f"nested deeper than {limit} levels; not read"


def members(
    stream: IO[bytes],
    prefix: str,
    max_depth: int = MAX_DEPTH,
    runs: Runs | None = None,
) -> Iterator[Any]:
    """The members of the array at ``prefix`` (ijson's prefix syntax, e.g. ``features.item``),
    numbers as floats; a member nested deeper than ``max_depth`` as a :class:`TooDeep`.
    ``runs``: the split reading gives members it does not want (:data:`Runs`) as
    :class:`~catalogue.harvest.contract.Skipped`, a run of them at a time, neither built nor
    checked (the other readings build every member).

    Text that is not UTF-8 (a lone surrogate escaped in a string) is an ``ijson.JSONError``
    however the stream is read; ijson's own reading raised ``UnicodeDecodeError`` for it."""
    try:
        yield from _members(stream, prefix, max_depth, runs)
    except UnicodeDecodeError as exc:
        raise ijson.JSONError(f"invalid string: {exc}") from None


def _members(stream: IO[bytes], prefix: str, max_depth: int, runs: Runs | None) -> Iterator[Any]:
    handed_out = 0
    if _seekable(stream):
        start = stream.tell()
        parts = prefix.split(".")
        if len(parts) == 2 and parts[0] and parts[1] == "item":
            try:
                yield from split_members(
                    stream, parts[0], max_depth, lambda: TooDeep(max_depth), runs=runs
                )
                return
            except Unsplittable as exc:
                handed_out = exc.handed_out
                stream.seek(start)  # a shape the splitting does not read: read it all again
        # the member's own nesting plus the containers the prefix walks through
        guard = DepthGuard(stream, max_depth + len(parts))
        try:
            for position, member in enumerate(ijson.items(guard, prefix, use_float=True)):
                if position >= handed_out:
                    handed_out += 1
                    yield member
            return
        except DepthExceeded:
            stream.seek(start)  # somewhere nests too deep: read it all again, exactly
    for position, member in enumerate(exact_members(stream, prefix, max_depth)):
        if position >= handed_out:
            yield member


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError):
        return False


def exact_members(stream: IO[bytes], prefix: str, max_depth: int = MAX_DEPTH) -> Iterator[Any]:
    """Like :func:`members`, reading every event in Python; for streams that cannot seek.

    Reads ijson's basic events (``ijson.parse`` builds a prefix string for every event, which
    grows with the depth: quadratic on deeply nested input) and keeps the path as a list."""
    parts: list[str | None] = list(prefix.split("."))
    names: list[str | None] = []  # per open container: its current key, or "item" in arrays
    events = iter(ijson.basic_parse(stream, use_float=True))
    for event, value in events:
        if event == "map_key":
            names[-1] = value
        elif event in _CLOSE:
            names.pop()
        elif names == parts:  # a member begins
            if event in _OPEN:
                yield _member(events, event, value, max_depth)
            else:
                yield value
        elif event == "start_map":
            names.append(None)
        elif event == "start_array":
            names.append("item")


def _member(events: Iterator[tuple[str, Any]], event: str, value: Any, max_depth: int) -> Any:
    """Build the member whose first event is given, reading its events to its end."""
    builder = ObjectBuilder()
    add = builder.event
    add(event, value)
    depth = 1
    for event, value in events:
        if event == "start_map" or event == "start_array":
            depth += 1
            if depth > max_depth:
                _skip(events, depth)
                return TooDeep(max_depth)
        elif event == "end_map" or event == "end_array":
            depth -= 1
        add(event, value)
        if depth == 0:
            break
    return builder.value


def _skip(events: Iterator[tuple[str, Any]], depth: int) -> None:
    """Read (and drop) events until the member that reached ``depth`` has ended."""
    for event, _ in events:
        if event == "start_map" or event == "start_array":
            depth += 1
        elif event == "end_map" or event == "end_array":
            depth -= 1
            if depth == 0:
                return
