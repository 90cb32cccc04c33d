"""Reading the members of a large JSON array: the nesting guard on raw bytes, and the fast
reading (members built in C) agreeing with the exact one (events walked in Python)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import ijson
import pytest

from harvesters.jsondepth import DepthExceeded, DepthGuard
from harvesters.jsonstream import TooDeep, exact_members, members


def parsed_depth(text: bytes) -> int:
    """The deepest nesting in ``text``, as a JSON parser sees it."""
    depth = deepest = 0
    for event, _ in ijson.basic_parse(io.BytesIO(text)):
        if event in ("start_map", "start_array"):
            depth += 1
            deepest = max(deepest, depth)
        elif event in ("end_map", "end_array"):
            depth -= 1
    return deepest


def nested_value(rng: random.Random, depth: int) -> Any:
    """A value nesting ``depth`` levels, with strings full of brackets, quotes and backslashes."""
    tricky = ["[", "]", "{", "}", '"', "\\", '\\"', "\\\\", "a", "ü", "[[[", "}}}"]
    if depth == 0:
        return "".join(rng.choice(tricky) for _ in range(rng.randrange(0, 8)))
    inner = [nested_value(rng, rng.randrange(depth)) for _ in range(rng.randrange(0, 3))]
    inner.append(nested_value(rng, depth - 1))
    if rng.random() < 0.5:
        return inner
    return {
        "k" + "".join(rng.choice(tricky) for _ in range(3)) + str(i): v for i, v in enumerate(inner)
    }


def guard_trips(text: bytes, limit: int, chunk: int) -> bool:
    guard = DepthGuard(io.BytesIO(text), limit)
    try:
        while guard.read(chunk):
            pass
    except DepthExceeded:
        return True
    return False


@pytest.mark.parametrize("seed", range(40))
def test_the_guard_measures_the_nesting_a_parser_sees(seed: int) -> None:
    rng = random.Random(seed)
    text = json.dumps(nested_value(rng, rng.randrange(1, 12)), ensure_ascii=rng.random() < 0.5)
    data = text.encode()
    depth = parsed_depth(data)
    for chunk in (1, 2, 3, 5, 64, 1 << 16):  # chunk ends inside strings, escapes, brackets
        assert not guard_trips(data, depth, chunk), (chunk, text)
        assert guard_trips(data, depth - 1, chunk), (chunk, text)


def test_brackets_and_escaped_quotes_inside_strings_do_not_count() -> None:
    data = json.dumps({"a": ['x"[[[[\\', '\\\\"{{{{', "]]]]}}}}"]}).encode()
    assert parsed_depth(data) == 2
    assert not guard_trips(data, 2, 1) and not guard_trips(data, 2, 1 << 16)
    assert guard_trips(data, 1, 1)


def write_collection(path: Path, features: list[str]) -> None:
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}")


def feature(i: int) -> str:
    return json.dumps(
        {
            "type": "Feature",
            "id": i,
            "properties": {"name": f'Punkt {i} [{i}] "{"{"}\\'},
            "geometry": {"type": "Point", "coordinates": [6.7, 51.2]},
        }
    )


def test_a_file_read_fast_gives_what_the_exact_reading_gives(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    write_collection(path, [feature(i) for i in range(5000)])
    with path.open("rb") as fast, path.open("rb") as exact:
        assert list(members(fast, "features.item")) == list(exact_members(exact, "features.item"))


def test_an_over_deep_member_far_into_a_file_is_refused_and_nothing_repeats(
    tmp_path: Path,
) -> None:
    # the first 4,000 members are read fast (several chunks) before the deep one comes
    deep = '{"type": "Feature", "properties": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"
    texts = [feature(i) for i in range(4000)] + [deep] + [feature(i) for i in range(4000, 4100)]
    path = tmp_path / "deep.geojson"
    write_collection(path, texts)
    with path.open("rb") as stream:
        read = list(members(stream, "features.item"))
    assert len(read) == 4101
    assert isinstance(read[4000], TooDeep)
    assert [m["id"] for m in read[:4000] + read[4001:]] == list(range(4100))
