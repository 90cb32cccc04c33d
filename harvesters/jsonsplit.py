"""The members of the array under one key of a top-level JSON object, split out of the raw bytes
with numpy and each built by orjson: the fast way to read a large local FeatureCollection.

``ijson.items`` builds the members in C, but spends about 5 µs per feature handing yajl's
events to its builder. Here numpy finds each member's byte range instead (brackets outside
strings, quotes escaped by an odd run of backslashes not ending a string, as
:mod:`harvesters.jsondepth` counts them), a megabyte at a time, and ``orjson.loads`` builds
each member from its bytes (1M points, side by side: 7.6 s -> 3.2 s). What lies between the
members (commas, whitespace, scalar members), the keys (compared once decoded) and scalar
values of the top-level object, and the values under other keys are checked too, so a document
that is not JSON raises :class:`ijson.JSONError` as the parser would, after the members before
the broken point.

The values are the ones ijson gives (``use_float=True``): where orjson reads a member otherwise
or not at all (integers of 19 digits or more, which yajl refuses beyond 64 bits and orjson turns
into floats; lone surrogates; form feeds as whitespace; nesting beyond orjson's limit), that
member is read by ijson itself. A member nested deeper than the limit is only checked by ijson's
event parser (nothing is built) and handed out as the caller's ``too_deep()``.

Memory: the chunk being read plus the member that goes on past its end (a read is at least as
large as what is carried over, so a member spanning many chunks is scanned about twice).
Documents of other shapes (a top level that is not an object, the key's value an object, a
value under another key larger than ``foreign_max``) raise :class:`Unsplittable` for the caller
to read them another way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import ijson
import numpy as np
import orjson

from catalogue.harvest.contract import Skipped

CHUNK_SIZE = 1 << 20
FOREIGN_MAX = 64 << 20
"""A value under another top-level key (not an array) larger than this is not held to check it."""

_QUOTE, _BACKSLASH = 0x22, 0x5C
_WS = b" \t\n\r\x0b\x0c"  # yajl's whitespace (JSON's four, plus vertical tab and form feed)
_IS_WS = np.zeros(256, dtype=bool)
_IS_WS[list(_WS)] = True
_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_LITERAL = re.compile(rb'[^ \t\n\r\x0b\x0c,:"\[\]{}]+')
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_LONG = 19  # digits from which an integer may not fit 64 bits (ijson refuses it, orjson not)
_GAP_MAX = 32  # longest gap between two members checked in numpy (longer ones: in Python)

# where the reading stands at a cut (nesting 0, 1, 2 in that order)
_START, _TOP, _ARRAY, _END = range(4)
# what comes next: in the top-level object, and in an array under one of its keys
_KEY_OR_CLOSE, _KEY, _COLON, _VALUE, _NEXT, _FIRST = range(6)
_LITERAL_TOKEN, _BAD = 0, -1  # token kinds besides the first byte of a string or punctuation


Runs = Callable[[int], tuple[bool, int]]
"""Given a member's number (from 0): whether it is wanted, and how many members in a row from it
on share that (:meth:`~catalogue.harvest.contract.Share.run`)."""


class Unsplittable(Exception):
    """The document has a shape this reading does not handle; ``handed_out`` members were
    handed out before it was noticed."""

    def __init__(self, reason: str, handed_out: int) -> None:
        super().__init__(reason)
        self.handed_out = handed_out


def split_members(
    stream: IO[bytes],
    key: str,
    max_depth: int,
    too_deep: Callable[[], Any],
    chunk_size: int = CHUNK_SIZE,
    foreign_max: int = FOREIGN_MAX,
    runs: Runs | None = None,
) -> Iterator[Any]:
    """The members of the array that is the value of the top-level object's ``key`` (each such
    array, if the key comes more than once), read from the stream's position to its end.
    ``runs``: members it does not want are given as :class:`Skipped` (one for each run of
    them), unread, unless one needs the exact reading (nested too deep, long digits, odd
    gaps)."""
    splitter = _Splitter(key, max_depth, too_deep, foreign_max)
    splitter.runs = runs
    buf = b""
    while True:
        chunk = stream.read(max(chunk_size, len(buf)))
        eof = not chunk
        buf = buf + chunk if buf else chunk
        cut = yield from splitter.feed(buf, eof)
        if eof:
            return
        splitter.base += cut
        buf = buf[cut:]


class _Splitter:
    """The reading's state between chunks; :meth:`feed` reads one buffer from a cut."""

    def __init__(
        self, key: str, max_depth: int, too_deep: Callable[[], Any], foreign_max: int
    ) -> None:
        self.key = key
        self.max_depth = max_depth
        self.too_deep = too_deep
        self.foreign_max = foreign_max
        self.level = _START
        self.expect = _KEY_OR_CLOSE
        self.current_key: str | None = None  # the top-level key whose value comes next
        self.target = False  # in an array: whether its members are handed out
        self.handed_out = 0
        self.runs: Runs | None = None  # see split_members
        self.base = 0  # offset of the buffer in the stream, for messages
        # the buffer being read, and what numpy found in it
        self.buf = b""
        empty: np.ndarray = np.zeros(0, dtype=np.intp)
        self.data = self.pos = self.after = self.long = self.deep = empty
        self.low = self.mstart = self.mend = empty  # indices of brackets in pos
        self.i = self.e = 0  # the reading's offset in buf, and its next bracket (index in pos)

    def feed(self, buf: bytes, eof: bool) -> Generator[Any, None, int]:
        """Hand out what is complete in ``buf`` (which starts at the cut, outside any string);
        return where the next cut is (at the end of the stream: read it all, or raise)."""
        data = np.frombuffer(buf, dtype=np.uint8)
        pos, opens, after, quotes = _brackets(data, buf, (0, 1, 2, 0)[self.level])
        self.buf, self.data, self.pos, self.after = buf, data, pos, after
        self.long = _long_numbers(data, quotes)
        self.low = np.flatnonzero(~opens & (after <= 1))  # ends of the top level's values
        self.mstart = np.flatnonzero(opens & (after == 3))  # members' opening brackets
        self.mend = np.flatnonzero(~opens & (after == 2))  # members' closing brackets
        # as the exact reading counts: a member's own bracket never makes it too deep
        self.deep = pos[opens & (after > max(self.max_depth, 1) + 2)]
        self.i = self.e = 0
        n = len(buf)
        while True:
            if self.level == _START:
                i = _space_end(buf, self.i, n)
                if i == n and not eof:
                    return i
                if i == n or buf[i] != 0x7B:  # not an object: leave it to the parser
                    raise Unsplittable("the top level is not an object", self.handed_out)
                self.level, self.expect = _TOP, _KEY_OR_CLOSE
                self.i, self.e = i + 1, 1
            elif self.level == _TOP:
                end = int(pos[self.e]) if self.e < len(pos) else n
                got = self._top_text(self.i, end, end == n and not eof)
                if end == n:
                    if eof:
                        raise self._incomplete(n)
                    return got
                cut = self._top_value(self.e, eof)
                if cut is not None:
                    return cut
            elif self.level == _ARRAY:
                cut = yield from self._array(self.i, self.e, eof)
                if cut is not None:
                    return cut
            else:
                i = _space_end(buf, self.i, n)
                if i < n:
                    raise self._error(i, "trailing garbage")
                return n

    def _top_text(self, i: int, end: int, open_end: bool) -> int:
        """Read the keys, colons, commas and scalar values of the top-level object in
        ``buf[i:end]``; return where reading stopped (before a token that may go on)."""
        tokens, stop = _tokens(self.buf, i, end, open_end)
        for kind, a, b in tokens:
            expect = self.expect
            if kind == _QUOTE and expect in (_KEY_OR_CLOSE, _KEY):
                self.current_key = self._value(a, b)
                self.expect = _COLON
            elif kind == 0x3A and expect == _COLON:
                self.expect = _VALUE
            elif kind == 0x2C and expect == _NEXT:
                self.expect = _KEY
            elif kind in (_QUOTE, _LITERAL_TOKEN) and expect == _VALUE:
                self._value(a, b)
                self.expect = _NEXT
            else:
                raise self._error(a, "unexpected token in the top-level object")
        return stop

    def _top_value(self, e: int, eof: bool) -> int | None:
        """The bracket at event ``e`` in the top-level object: a value begins or the object
        ends. Return a cut if the value is an object not complete in the buffer."""
        p = int(self.pos[e])
        bracket = self.buf[p]
        self.i, self.e = p + 1, e + 1
        if self.after[e] == 0:
            if bracket != 0x7D or self.expect not in (_KEY_OR_CLOSE, _NEXT):
                raise self._error(p, "unexpected end of the top-level object")
            self.level = _END
            return None
        if self.expect != _VALUE:
            raise self._error(p, "unexpected value in the top-level object")
        if bracket == 0x5B:
            self.level, self.expect = _ARRAY, _FIRST
            self.target = self.current_key == self.key
            return None
        if self.current_key == self.key:  # ijson's prefix would match its key "item"
            raise Unsplittable(f"the value of {self.key!r} is an object", self.handed_out)
        f = int(np.searchsorted(self.low, e + 1))
        if f == len(self.low):  # the object goes on past the buffer
            if eof:
                raise self._incomplete(len(self.buf))
            if len(self.buf) - p > self.foreign_max:
                raise Unsplittable("a large value under another key", self.handed_out)
            return p
        close = int(self.low[f])
        self._check(p, int(self.pos[close]) + 1)
        self.expect = _NEXT
        self.i, self.e = int(self.pos[close]) + 1, close + 1
        return None

    def _array(self, i: int, e: int, eof: bool) -> Generator[Any, None, int | None]:
        """Read an array under a top-level key from ``i`` (event ``e``): hand out its members
        if it is the key's. Return a cut, or None when the array ended (at ``self.i``)."""
        buf, pos, n = self.buf, self.pos, len(self.buf)
        f = int(np.searchsorted(self.low, e))
        j = int(self.low[f]) if f < len(self.low) else -1  # the array's closing bracket
        stop = j if j >= 0 else len(pos)
        starts = pos[_between(self.mstart, e, stop)]
        ends = pos[_between(self.mend, e, stop)] + 1
        m = len(ends)
        unfinished = len(starts) > m
        close = int(pos[j]) if j >= 0 else n
        end = int(starts[0]) if len(starts) else close
        got = yield from self._gap(i, end, end == n and not eof)
        if got < end:
            return got
        if m:
            yield from self._members(starts[:m], ends)
            end = int(starts[m]) if unfinished else close
            got = yield from self._gap(int(ends[-1]), end, end == n and not eof)
            if got < end:
                return got
        if unfinished:
            if self.expect == _NEXT:
                raise self._error(int(starts[m]), "expected ',' or ']'")
            if eof:
                raise self._incomplete(n)
            return int(starts[m])
        if j < 0:
            if eof:
                raise self._incomplete(n)
            return n
        if buf[close] != 0x5D or self.expect == _VALUE:
            raise self._error(close, "unexpected end of an array")
        self.level, self.expect = _TOP, _NEXT
        self.i, self.e = close + 1, j + 1
        return None

    def _members(self, starts: np.ndarray, ends: np.ndarray) -> Iterator[Any]:
        """Read the members ``buf[starts[k]:ends[k]]`` (all complete) and what lies between
        them; the first member's gap was read already."""
        if self.expect == _NEXT:
            raise self._error(int(starts[0]), "expected ',' or ']'")
        buf, m = self.buf, len(starts)
        # read one by one: after a gap that is not just a comma, too deep, or with long digits
        special = np.concatenate(([False], ~_simple_gaps(self.data, ends[:-1], starts[1:])))
        deep = np.zeros(m, dtype=bool)
        deep[_holders(self.deep, starts, ends)] = True
        special |= deep
        special[_holders(self.long, starts, ends)] = True
        starts_list, ends_list = starts.tolist(), ends.tolist()
        view = memoryview(buf)
        loads, decode_error, target = orjson.loads, orjson.JSONDecodeError, self.target
        runs = self.runs
        k = 0
        for s in [*np.flatnonzero(special).tolist(), m]:
            if target:
                first, j = self.handed_out, k
                while j < s:
                    # members j up to end: all read, or all skipped (as one Skipped)
                    if runs is None:
                        end = s
                    else:
                        wanted, length = runs(first + j - k)
                        end = min(s, j + length)
                        if not wanted:
                            yield Skipped(end - j)
                            j = end
                            continue
                    for a, b in zip(starts_list[j:end], ends_list[j:end], strict=True):
                        try:
                            value = loads(view[a:b])
                        except decode_error:
                            value = _exact(buf[a:b], build=True)
                        yield value
                    j = end
                self.handed_out += s - k
            else:
                for a, b in zip(starts_list[k:s], ends_list[k:s], strict=True):
                    try:
                        loads(view[a:b])
                    except decode_error:
                        _exact(buf[a:b], build=False)
            if s == m:
                break
            a, b = starts_list[s], ends_list[s]
            if s > 0:
                self.expect = _NEXT
                yield from self._gap(ends_list[s - 1], a, False)
                if self.expect == _NEXT:
                    raise self._error(a, "expected ',' or ']'")
            if deep[s]:
                _exact(buf[a:b], build=False)
                value = self.too_deep()
            elif target:
                value = self._value(a, b)
            else:
                self._check(a, b)
            if target:
                self.handed_out += 1
                yield value
            k = s + 1
        self.expect = _NEXT

    def _gap(self, i: int, end: int, open_end: bool) -> Generator[Any, None, int]:
        """Read commas and scalar members in an array's ``buf[i:end]``; return where reading
        stopped (before a token that may go on)."""
        tokens, stop = _tokens(self.buf, i, end, open_end)
        for kind, a, b in tokens:
            if kind == 0x2C and self.expect == _NEXT:
                self.expect = _VALUE
            elif kind in (_QUOTE, _LITERAL_TOKEN) and self.expect != _NEXT:
                value = self._value(a, b)
                self.expect = _NEXT
                if self.target:
                    self.handed_out += 1
                    yield value
            else:
                raise self._error(a, "unexpected token in an array")
        return stop

    def _value(self, a: int, b: int) -> Any:
        """The value written in ``buf[a:b]``, as ijson gives it."""
        raw = self.buf[a:b]
        if b - a >= _LONG and _LONG_DIGITS.search(raw):
            return _exact(raw, build=True)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _exact(raw, build=True)

    def _check(self, a: int, b: int) -> None:
        """Raise if ``buf[a:b]`` is not one JSON value (for ijson)."""
        raw = self.buf[a:b]
        if b - a >= _LONG and _LONG_DIGITS.search(raw):
            _exact(raw, build=False)
            return
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            _exact(raw, build=False)

    def _error(self, at: int, what: str) -> ijson.JSONError:
        return ijson.JSONError(f"{what} at byte {self.base + at}")

    def _incomplete(self, at: int) -> ijson.JSONError:
        return ijson.IncompleteJSONError(f"incomplete JSON: the text ends at byte {self.base + at}")


def _brackets(
    data: np.ndarray, buf: bytes, depth: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The brackets outside strings in ``data`` (which starts outside a string at nesting
    ``depth``): their offsets, whether each opens, the nesting after each; and which bytes are
    quotes that begin or end strings."""
    quotes = data == _QUOTE
    if b"\\" in buf:
        _unescape(data, quotes)
    folded = data | 0x20  # [ and { alike, ] and } alike
    opening = folded == 0x7B
    found = np.flatnonzero(opening | (folded == 0x7D))
    outside = _in_string(quotes, found) == 0
    pos = found[outside]
    opens = opening[pos]
    after = np.cumsum(np.where(opens, 1, -1)) + depth
    return pos, opens, after, quotes


def _in_string(quotes: np.ndarray, at: np.ndarray) -> np.ndarray:
    """1 where an odd number of quotes come before the offsets ``at``, else 0: the quotes
    packed 64 to a word, the parity of each word's count accumulated, and the parity of the
    quotes before ``at`` in its own word."""
    packed = np.packbits(quotes, bitorder="little")
    words = np.zeros(-(-len(packed) // 8), dtype="<u8")
    words.view(np.uint8)[: len(packed)] = packed
    before = np.zeros(len(words) + 1, dtype=np.uint8)  # the parity before each word
    np.bitwise_xor.accumulate(np.bitwise_count(words) & 1, out=before[1:])
    word = at >> 6
    lower = np.left_shift(np.uint64(1), (at & 63).astype(np.uint64)) - np.uint64(1)
    return before[word] ^ (np.bitwise_count(words[word] & lower) & 1)


def _unescape(data: np.ndarray, quotes: np.ndarray) -> None:
    """Clear the quotes that follow an odd run of backslashes."""
    suspects = np.flatnonzero(quotes[1:] & (data[:-1] == _BACKSLASH)) + 1
    if not len(suspects):
        return
    slashes = np.flatnonzero(data == _BACKSLASH)
    first = np.ones(len(slashes), dtype=bool)
    first[1:] = slashes[1:] != slashes[:-1] + 1
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(slashes)), 0))
    last = np.searchsorted(slashes, suspects - 1)  # the backslash right before the quote
    quotes[suspects[(last - run_start[last]) % 2 == 0]] = False  # an odd run


def _long_numbers(data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """The offsets outside strings where 19 or more digits begin (integers there may not fit
    64 bits): the digits packed 64 to a word, ANDed with themselves shifted by 1, 2, 4, 8 and 3
    (leaving a bit where 2, 4, 8, 16, then 19 digits begin)."""
    none = np.zeros(0, dtype=np.intp)
    # first the common case: 19 digits hold 10 from a multiple of 9 on; are there any such?
    sampled = (np.ascontiguousarray(data[::9]) - 0x30) < 10
    anchors = np.flatnonzero(sampled[:-1] & sampled[1:]) * 9
    for k in (4, 2, 6, 1, 3, 5, 7, 8):
        anchors = anchors[(data[anchors + k] - 0x30) < 10]
        if not len(anchors):
            return none
    packed = np.packbits((data - 0x30) < 10, bitorder="little")
    run = np.zeros(-(-len(packed) // 8) + 1, dtype="<u8")  # and a word of 0 after the last
    run.view(np.uint8)[: len(packed)] = packed
    following = np.empty_like(run)
    following[-1] = 0
    for shift in (1, 2, 4, 8, 3):
        following[:-1] = run[1:]
        run &= (run >> shift) | (following << (64 - shift))
        if not run.any():
            return none
    words = np.flatnonzero(run)
    bits = np.unpackbits(run[words].view(np.uint8), bitorder="little").reshape(len(words), 64)
    word, bit = np.nonzero(bits)
    starts = words[word] * 64 + bit
    return starts[_in_string(quotes, starts) == 0]


def _simple_gaps(data: np.ndarray, ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Whether each ``data[ends[k]:starts[k]]`` is whitespace around one comma."""
    lengths = starts - ends
    short = (lengths >= 1) & (lengths <= _GAP_MAX)
    if not short.any():
        return short
    width = int(lengths[short].max())
    at = ends[:, None] + np.arange(width)
    inside = np.arange(width) < lengths[:, None]
    text = data[np.minimum(at, len(data) - 1)]
    commas = (text == 0x2C) & inside
    blank = _IS_WS[text] & inside
    return short & (commas.sum(axis=1) == 1) & ((commas | blank).sum(axis=1) == lengths)


def _holders(found: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The indices of the members (``starts``, ``ends``) that hold, or are followed by, the
    offsets ``found`` between the first member's start and the last one's end."""
    inside = found[(found >= starts[0]) & (found < ends[-1])]
    return np.searchsorted(starts, inside, side="right") - 1


def _between(events: np.ndarray, first: int, stop: int) -> np.ndarray:
    """The members of the increasing ``events`` from ``first`` up to ``stop`` (excluded)."""
    return events[np.searchsorted(events, first) : np.searchsorted(events, stop)]


def _space_end(buf: bytes, i: int, end: int) -> int:
    match = _SPACE.match(buf, i, end)
    return match.end() if match else i


def _tokens(buf: bytes, i: int, end: int, open_end: bool) -> tuple[list[tuple[int, int, int]], int]:
    """The tokens (kind: a string's quote, a comma or colon, a literal, or text that is not JSON;
    offsets) in ``buf[i:end]``, which holds no bracket outside strings, and where they stop:
    before the last one if it may go on past ``end`` (``open_end``)."""
    tokens: list[tuple[int, int, int]] = []
    while True:
        i = _space_end(buf, i, end)
        if i == end:
            return tokens, i
        first = buf[i]
        if first == _QUOTE:
            match = _STRING.match(buf, i, end)
            if match is None and open_end:
                return tokens, i
            kind = _QUOTE
        elif first in (0x2C, 0x3A):
            tokens.append((first, i, i + 1))
            i += 1
            continue
        else:  # None: a bracket the scan took for one inside a string (not JSON)
            match = _LITERAL.match(buf, i, end)
            if match is not None and match.end() == end and open_end:
                return tokens, i
            kind = _LITERAL_TOKEN
        if match is None:  # the tokens before are read, then this one raises
            tokens.append((_BAD, i, end))
            return tokens, end
        tokens.append((kind, i, match.end()))
        i = match.end()


def _exact(raw: bytes, build: bool) -> Any:
    """The value in ``raw`` as ijson builds it (or only checked by its parser, without
    building anything); ijson's error if it is not JSON."""
    try:
        if build:  # read to the end: what follows a first value is an error
            values = list(ijson.items(io.BytesIO(raw), "", use_float=True))
            if len(values) != 1:
                raise ijson.IncompleteJSONError("not one JSON value")
            return values[0]
        for _ in ijson.basic_parse(io.BytesIO(raw), use_float=True):
            pass
    except UnicodeDecodeError as exc:  # yajl2_c lets a lone low surrogate through to Python
        raise ijson.JSONError(f"invalid string: {exc}") from None
    return None
