"""Splitting the members of a top-level key's array out of the raw bytes (numpy for the
boundaries, orjson for each member) gives what the exact reading (ijson's events walked in
Python) gives: for tricky strings, keys and members across chunk boundaries, foreign keys,
scalar members, over-deep members, big integers, and broken documents."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import ijson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvesters import jsonstream
from harvesters.jsonsplit import Unsplittable, split_members
from harvesters.jsonstream import MAX_DEPTH, TooDeep, exact_members, members

CHUNKS = (1, 2, 3, 7, 64, 1 << 20)


def typed(value: Any) -> Any:
    """The value with every number's type kept (1 == 1.0 == True in Python) and -0.0 told
    from 0.0; TooDeep as its reason."""
    if isinstance(value, TooDeep):
        return ("too deep", value.reason)
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def outcome(read: Any) -> tuple[list[Any], type[BaseException] | None]:
    """The members read (typed) and the error that ended the reading, if any."""
    got: list[Any] = []
    try:
        for member in read:
            got.append(typed(member))
    except Exception as exc:  # noqa: BLE001 - the kind of error is compared
        return got, type(exc)
    return got, None


def split(doc: bytes, chunk: int, max_depth: int = MAX_DEPTH, key: str = "features") -> Any:
    return split_members(
        io.BytesIO(doc), key, max_depth, lambda: TooDeep(max_depth), chunk_size=chunk
    )


def exact(doc: bytes, max_depth: int = MAX_DEPTH, key: str = "features") -> Any:
    return exact_members(io.BytesIO(doc), f"{key}.item", max_depth)


def assert_same(doc: bytes, max_depth: int = MAX_DEPTH, chunks: tuple[int, ...] = CHUNKS) -> None:
    """Valid or not, the split reading agrees with the exact one: the same members, and an
    :class:`ijson.JSONError` where the exact one fails (after a part of its members)."""
    want, failed = outcome(exact(doc, max_depth))
    for chunk in chunks:
        got, error = outcome(split(doc, chunk, max_depth))
        if failed is None:
            assert error is None, (chunk, doc, error)
            assert got == want, (chunk, doc)
        else:
            assert error is not None and issubclass(error, ijson.JSONError), (chunk, doc, error)
            assert got == want[: len(got)], (chunk, doc)
    via_members, error = outcome(members(io.BytesIO(doc), "features.item", max_depth))
    if failed is None:
        assert error is None and via_members == want, doc
    else:
        assert error is not None and issubclass(error, ijson.JSONError), (doc, error)
        assert via_members == want[: len(via_members)], doc


def feature(i: int, name: str = "Punkt") -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": i,
        "geometry": {"type": "Point", "coordinates": [6.7 + i / 1000, -51.25, 1e-7 * i]},
        "properties": {"name": f"{name} {i}", "value": i * 3, "ok": i % 2 == 0, "none": None},
    }


def collection(features: list[Any], before: str = "", after: str = "") -> bytes:
    body = ", ".join(json.dumps(f, ensure_ascii=False) for f in features)
    return f'{{"type": "FeatureCollection", {before}"features": [{body}]{after}}}'.encode()


VALID = [
    collection([feature(i) for i in range(5)]),
    collection([]),
    b'{"features":[]}',
    b'{"features":[ ]}',
    b"{}",
    b' \n\t{ "features" :\r\n[\n{"a":1}\n,\n{"b":2}\n]\n}\n ',
    b'{"features":[{"a":1},\x0c{"b":2}\x0b],\x0c"x":\x0b1}\x0c',  # yajl's extra whitespace
    b'{"features":[{"a":\x0c1}]}',  # inside a member: orjson refuses, ijson reads it
    # strings with quotes, backslash runs, brackets and braces
    collection([{"s": 'a"b'}, {"s": "\\"}, {"s": "\\\\"}, {"s": '\\"'}, {"s": '\\\\"x'}]),
    collection([{"s": "]}],{[", "t": "}"}, {"u": "[[[[", "v": "{{{{"}, ["]", "[", "}"]]),
    b'{"features":[{"k\\"]":"\\\\"},{"\\\\":"\\\\\\\\"},"\\"",  "\\\\" ]}',
    # unicode: raw, escaped, surrogate pairs, in keys and values
    collection([{"name": "Düsseldorf – Straße 𝄞", "ключ": "значение"}]),
    '{"features":[{"n":"Dü\\u00dfel \\ud834\\udd1e","\\u00fc":"ü"}]}'.encode(),
    # the key written with escapes is the same key
    b'{"feat\\u0075res":[{"a":1}],"\\u0066eatures":[2]}',
    # foreign top-level members before and after, nested keys called "features"
    collection(
        [feature(1), feature(2)],
        before='"links": [{"href": "x", "features": [9]}], "crs": {"properties": '
        '{"features": [{"a": 1}]}}, "bbox": [1, 2, 3, 4], "features2": [7], ',
        after=', "more": {"features": [{"no": 1}]}, "tail": [[{"features": [1]}]], "n": 5',
    ),
    b'{"x":{"features":[1,2]},"y":[{"features":[3]}],"features":[4],"z":[[5]]}',
    # the key twice: both arrays, as ijson reads them
    b'{"features":[1,{"a":2}],"other":3,"features":[[4],"5"]}',
    # the key's value not an array
    b'{"features":5,"x":[{"features":[1]}]}',
    b'{"features":null}',
    b'{"features":"[1, 2]"}',
    # scalar members of every kind, between and around container members
    b'{"features":[1,-2,3.5,-0.0,-0,1e3,2E-3,1.5e+300,"s",true,false,null,{"a":1},[],{},"x",7]}',
    b'{"features":[{"a":1}, 42 ,"mid", {"b":2},[3]   ,null]}',
    b'{"features":[[],[[]],{},{"":{}}]}',
    # integers up to 64 bits and digit runs in strings
    b'{"features":[9223372036854775807,-9223372036854775807,{"i":1234567890123456789}]}',
    b'{"features":[{"id":"12345678901234567890123"},"98765432109876543210"]}',
    b'{"features":[1.2345678901234567890123,12345678901234567890.5,{"f":0.00000000000000000001}]}',
    b'{"features":[4.9e-324,1e-400,2.2250738585072011e-308]}',
    # lone surrogates (yajl2_c gives "?")
    b'{"features":[{"s":"\\ud800"},2]}',
]


@pytest.mark.parametrize("doc", VALID)
def test_the_split_reading_gives_what_the_exact_reading_gives(doc: bytes) -> None:
    assert_same(doc)


def test_members_across_many_chunks_and_pretty_printing() -> None:
    features = [feature(i, name='N "[{' + "\\" * (i % 4)) for i in range(300)]
    compact = collection(features)
    pretty = json.dumps({"type": "FeatureCollection", "features": features}, indent=4).encode()
    crlf = pretty.replace(b"\n", b"\r\n")
    for doc in (compact, pretty, crlf):
        want = [typed(f) for f in exact(doc)]
        for chunk in (1, 5, 64, 1000, 4096):
            assert [typed(f) for f in split(doc, chunk)] == want


def test_over_deep_members_are_refused_among_normal_ones() -> None:
    deep = '{"a": ' + "[" * 10 + "]" * 10 + "}"
    limit = '{"a": [[["x"]]]}'  # 4 levels
    over = '{"a": [[[["x"]]]]}'  # 5 levels
    doc = f'{{"features": [{limit}, {deep}, 1, {over}, [], {limit}, {deep}]}}'.encode()
    for max_depth in (0, 1, 3, 4, 5, 12):
        assert_same(doc, max_depth)
    got = list(split(doc, 3, max_depth=4))
    assert [isinstance(m, TooDeep) for m in got] == [False, True, False, True, False, False, True]
    assert got[1].reason == "nested deeper than 4 levels; not read"
    # deep values in other keys and other arrays are read over, not refused
    assert_same(
        ('{"x": [' + deep + "], " + doc.decode()[1:-1] + ', "y": ' + deep + "}").encode(), 3
    )


def test_an_over_deep_member_is_checked_though_not_built() -> None:
    broken = b'{"features": [{"a": 1}, [[[[[1 2]]]]], {"b": 2}]}'
    assert_same(broken, 2)
    got, error = outcome(split(broken, 4, max_depth=2))
    assert got == [typed({"a": 1})] and error is not None and issubclass(error, ijson.JSONError)


@pytest.mark.parametrize(
    "number",
    [
        b"9223372036854775808",
        b"-9223372036854775808",
        b"18446744073709551615",
        b"18446744073709551616",
        b"123456789012345678901234567890",
        b"-99999999999999999999",
    ],
)
def test_integers_beyond_64_bits_read_as_the_exact_reading_reads_them(number: bytes) -> None:
    # orjson would give a float (or an int where yajl refuses one): the member is read by ijson
    for doc in (
        b'{"features":[{"a":1},{"n":' + number + b'},{"b":2}]}',
        b'{"features":[1,' + number + b",3]}",
        b'{"x":' + number + b',"features":[1]}',
        b'{"x":[{"n":' + number + b'}],"features":[1]}',
        b'{"x":{"n":[' + number + b']},"features":[1]}',
    ):
        assert_same(doc)
    for pad in range(70):  # the digits across each place in 64 bytes (numpy's words of bits)
        doc = b'{"features":[' + b" " * pad + b'{"n":' + number + b"}]}"
        assert_same(doc, chunks=(1 << 20,))


INVALID = [
    b'{"features":[{"a":}]}',
    b'{"features":[{"a":1}{"b":2}]}',
    b'{"features":[{"a":1} x {"b":2}]}',
    b'{"features":[{"a":1},,{"b":2}]}',
    b'{"features":[,{"a":1}]}',
    b'{"features":[{"a":1},]}',
    b'{"features":[1 2]}',
    b'{"features":[1,]}',
    b'{"features":[{"a":1}}}',
    b'{"features":[{"a":1}]]',
    b'{"features":[{"a":[1}]}',
    b'{"features":[{"a":1}]} x',
    b'{"features":[{"a":1}]}{"features":[2]}',
    b'{"features":[{"a":1}]}]',
    b'{"features":[{"a":1}]',
    b'{"features":[{"a":1}',
    b'{"features":[{"a":"1}',
    b'{"features":[{"a":1}], "x": [1,}',
    b'{"features":[{"a":1}], "x": {"y" 1}}',
    b'{"features":[{"a":1}], "x": tru}',
    b'{"features":[NaN]}',
    b'{"features":[Infinity, 1]}',
    b'{"features":[1e400]}',
    b'{"features":[01]}',
    b'{"features":[{"a":1}] /* comment */}',
    b"{features:[1]}",
    b'{"features" [1]}',
    b'{"features":[1] "x":2}',
    b'{"features":[1],}',
    b'{,"features":[1]}',
    b'{"a":1 "features":[1]}',
    b'{"features":[{"a":"\xff"}]}',
    b'{"features":["\xff"]}',
    b'{"\xff":[1],"features":[1]}',
    b'{"features":["a\nb"]}',
    b'{"features":[{"a":"\\x"}]}',
    b'{"features":[\\"a"]}',
    b'{"features":[{"a":1}\\"]}',
    b'{"features":["\\udc00"]}',  # ijson lets a UnicodeDecodeError through
    b'{"features":[{"s":"\\udc00x"}]}',
    b"",
    b"   ",
    b"x",
    b"nul",
    b"\xef\xbb\xbf{}",
]


@pytest.mark.parametrize("doc", INVALID)
def test_invalid_json_raises_a_json_error(doc: bytes) -> None:
    for chunk in CHUNKS:
        with pytest.raises(ijson.JSONError):
            for _ in members_split_or_fallback(doc, chunk):
                pass
    assert_same_or_unsplittable(doc)


def members_split_or_fallback(doc: bytes, chunk: int) -> Any:
    """The split reading, or the whole reading by :func:`members` where it hands over."""
    try:
        yield from split(doc, chunk)
    except Unsplittable:
        yield from members(io.BytesIO(doc), "features.item")


def assert_same_or_unsplittable(doc: bytes) -> None:
    try:
        list(split(doc, 1 << 20))
    except Unsplittable:
        return
    except Exception:  # noqa: BLE001, S110 - compared below
        pass
    assert_same(doc)


def test_every_truncation_of_a_document_raises() -> None:
    doc = collection(
        [feature(1), 5, "x]", feature(2, name='q"\\')], before='"a": {"b": [1, "}"]}, '
    )
    for end in range(len(doc)):
        truncated = doc[:end]
        with pytest.raises(ijson.JSONError):
            for _ in members(io.BytesIO(truncated), "features.item"):
                pass
        for chunk in (1, 7, 1 << 20):
            got, error = outcome(members_split_or_fallback(truncated, chunk))
            assert error is not None and issubclass(error, ijson.JSONError), (end, chunk)


def test_a_top_level_that_is_not_an_object_is_read_as_before() -> None:
    for doc in (b'[{"features": [1]}]', b"5", b'"s"', b"null", b'[{"a":1}]'):
        with pytest.raises(Unsplittable):
            list(split(doc, 64))
        assert outcome(members(io.BytesIO(doc), "features.item")) == outcome(exact(doc))


def test_a_shape_the_split_does_not_read_falls_back_without_repeating_members() -> None:
    # the key's value an object: its key "item" matches the prefix
    doc = b'{"features": [1, {"a": 2}], "features": {"item": 3, "x": 4}, "features": [5]}'
    with pytest.raises(Unsplittable) as raised:
        list(split(doc, 64))
    assert raised.value.handed_out == 2
    assert outcome(members(io.BytesIO(doc), "features.item")) == outcome(exact(doc))
    # a value under another key too large to hold
    big = b'{"features": [1, 2], "x": {"y": "' + b"z" * 5000 + b'"}, "features": [3]}'
    with pytest.raises(Unsplittable):
        list(split_members(io.BytesIO(big), "features", 64, lambda: None, 64, foreign_max=1000))
    assert outcome(split(big, 64)) == outcome(exact(big))


def test_other_prefixes_and_streams_that_cannot_seek_read_as_before() -> None:
    doc = b'{"a": {"b": [1, {"c": 2}]}, "features": [3]}'
    assert list(members(io.BytesIO(doc), "a.b.item")) == [1, {"c": 2}]

    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    assert list(members(Unseekable(doc), "features.item")) == [3]


def test_members_splits_a_file_without_the_guarded_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_guard(*args: Any) -> Any:
        raise AssertionError("the guarded ijson reading ran")

    monkeypatch.setattr(jsonstream, "DepthGuard", no_guard)
    path = tmp_path / "points.geojson"
    path.write_bytes(collection([feature(i) for i in range(2000)]))
    with path.open("rb") as stream:
        got = list(members(stream, "features.item"))
    assert got == [feature(i) for i in range(2000)]


class CountingStream(io.BytesIO):
    """A stream that keeps the largest read asked of it."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)


def test_memory_stays_within_the_chunk_and_the_largest_member() -> None:
    small = [feature(i) for i in range(3000)]
    large = {"big": ["x" * 100] * 500}  # ~ 52 kB
    doc = collection(small[:1500] + [large] + small[1500:])
    stream = CountingStream(doc)
    got = list(split_members(stream, "features", 64, lambda: None, chunk_size=4096))
    assert len(got) == 3001 and got[1500] == large
    assert stream.largest <= 2 * len(json.dumps(large)) + 4096 < len(doc) // 4


def test_random_mutations_agree_with_the_exact_reading() -> None:
    rng = random.Random(7)
    base = [
        collection([feature(1), 2, feature(3, name='"\\[')], before='"c": {"p": [1]}, '),
        b'{"features":[{"a":[1,{"b":"\\\\"}]},"s",null],"x":[{"y":1}]}',
    ]
    pieces = [b"", b" ", b",", b":", b'"', b"\\", b"[", b"]", b"{", b"}", b"1", b"e", b"\x0c"]
    for _ in range(600):
        doc = bytearray(rng.choice(base))
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(doc))
            doc[at : at + rng.randrange(0, 3)] = rng.choice(pieces)
        text = bytes(doc)
        try:
            list(split(text, 1 << 20))
        except Unsplittable:
            continue
        except Exception:  # noqa: BLE001, S110 - compared in assert_same
            pass
        assert_same(text, chunks=(1, 3, 1 << 20))


# documents like FeatureCollections, with strings full of JSON's own characters


_tricky_text = st.lists(
    st.one_of(
        st.sampled_from(['"', "\\", "\\\\", '\\"', "[", "]", "{", "}", ",", ":", "/", "\n", "\t"]),
        st.text(max_size=4),
        st.sampled_from(["features", "item", "ü", "𝄞", "\x7f", "\u2028"]),
    ),
    max_size=4,
).map("".join)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63) + 1, 2**63 - 1),
    st.integers(-(10**25), 10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    _tricky_text,
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_tricky_text, st.just("features")), inner, max_size=4),
    ),
    max_leaves=12,
)
_features = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("Feature"), "properties": st.dictionaries(_tricky_text, _values)}
        ),
        _values,
    ),
    max_size=6,
)
_foreign = st.dictionaries(
    st.one_of(_tricky_text, st.sampled_from(["links", "bbox", "crs"])).filter(
        lambda key: key != "features"
    ),
    _values,
    max_size=3,
)


def dump(value: Any, rng: random.Random, ascii_only: bool) -> str:
    """JSON text with random whitespace (yajl's six kinds) between the tokens."""

    def space() -> str:
        return "".join(rng.choice(" \n\t\r\x0c\x0b") for _ in range(rng.choice((0, 0, 1, 2))))

    if isinstance(value, dict):
        items = [
            space()
            + json.dumps(k, ensure_ascii=ascii_only)
            + space()
            + ":"
            + dump(v, rng, ascii_only)
            for k, v in value.items()
        ]
        return space() + "{" + ",".join(items) + space() + "}" + space()
    if isinstance(value, list):
        inner = ",".join(dump(v, rng, ascii_only) for v in value)
        return space() + "[" + (inner or space()) + "]" + space()
    return space() + json.dumps(value, ensure_ascii=ascii_only) + space()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=_foreign,
    features=_features,
    after=_foreign,
    seed=st.integers(0, 2**32),
    chunk=st.sampled_from([1, 2, 3, 5, 7, 16, 64, 1000]),
    max_depth=st.sampled_from([1, 2, 3, MAX_DEPTH]),
)
def test_random_collections_read_as_the_exact_reading_reads_them(
    before: dict[str, Any],
    features: list[Any],
    after: dict[str, Any],
    seed: int,
    chunk: int,
    max_depth: int,
) -> None:
    rng = random.Random(seed)
    document = {**before, "features": features, **after}
    if rng.random() < 0.2:  # the key written with an escape
        text = dump(document, rng, rng.random() < 0.5).replace('"features"', '"feat\\u0075res"')
    else:
        text = dump(document, rng, rng.random() < 0.5)
    doc = text.encode("utf-8", "surrogatepass")
    want = outcome(exact(doc, max_depth))
    got = outcome(split(doc, chunk, max_depth))
    if want[1] is None:
        assert got == want
    else:  # integers beyond 64 bits: yajl refuses them
        assert got[1] is not None and issubclass(got[1], ijson.JSONError)
        assert got[0] == want[0][: len(got[0])]


@pytest.mark.parametrize("seekable", [True, False])
def test_text_that_is_not_utf8_is_a_json_error_however_read(seekable: bool) -> None:
    doc = b'{"features":[{"n":1},{"s":"\\udc00"},{"n":3}]}'  # a lone low surrogate

    class Stream(io.BytesIO):
        def seekable(self) -> bool:
            return seekable

    read: list[Any] = []
    with pytest.raises(ijson.JSONError, match="invalid string"):
        for member in members(Stream(doc), "features.item"):
            read.append(member)
    assert read == [{"n": 1}]
