"""How deep JSON text nests, measured on its raw bytes, chunk by chunk, without parsing it.

A guard in front of a parser that builds values in C (``ijson.items``): the parser only ever
sees bytes whose nesting stays within a limit, so it never builds an over-deep value. The
counting runs in numpy over whole chunks (brackets outside strings, with quotes escaped by an
odd run of backslashes not ending a string), a few milliseconds per megabyte; no JSON library
offers a depth count that does not build the values or hand every event to Python.
"""

from __future__ import annotations

from typing import IO

import numpy as np

_QUOTE, _BACKSLASH = 0x22, 0x5C


class DepthExceeded(Exception):
    """The text nests deeper than the guard's limit somewhere in the chunk just read."""


class DepthGuard:
    """A binary stream's ``read`` that raises :class:`DepthExceeded` before handing out a
    chunk in which the nesting (counted from where the stream started) exceeds ``limit``."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._depth = 0  # nesting at the end of what was read so far
        self._in_string = False
        self._backslashes = 0  # backslashes ending what was read so far (inside a string)

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        if chunk:
            self._measure(chunk)
        return chunk

    def _measure(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(data == _QUOTE)
        if len(quotes) and (self._backslashes or b"\\" in chunk):
            # only a quote right after a backslash can be escaped; those are counted one by one
            after = np.zeros(len(quotes), dtype=bool)
            after[quotes > 0] = data[quotes[quotes > 0] - 1] == _BACKSLASH
            after[0] |= quotes[0] == 0 and self._backslashes > 0
            suspects = np.flatnonzero(after)
            escaped = [i for i in suspects.tolist() if self._escaped(chunk, int(quotes[i]))]
            quotes = np.delete(quotes, escaped)
        opens = (data == 0x5B) | (data == 0x7B)  # [ {
        brackets = np.flatnonzero(opens | (data == 0x5D) | (data == 0x7D))  # ] }
        # a bracket counts when an even number of string quotes (with the carried state)
        # precede it
        inside = (np.searchsorted(quotes, brackets) + self._in_string) % 2 == 1
        steps = np.where(inside, 0, np.where(opens[brackets], 1, -1))
        depths = np.cumsum(steps) + self._depth
        if len(depths) and int(depths.max()) > self._limit:
            raise DepthExceeded(f"nesting deeper than {self._limit}")
        if len(depths):
            self._depth = int(depths[-1])
        self._in_string = bool((len(quotes) + self._in_string) % 2)
        trailing = len(chunk) - len(chunk.rstrip(b"\\"))
        self._backslashes = trailing + (self._backslashes if trailing == len(chunk) else 0)

    def _escaped(self, chunk: bytes, quote: int) -> bool:
        """Whether the quote at ``quote`` follows an odd run of backslashes."""
        run = 0
        at = quote - 1
        while at >= 0 and chunk[at] == _BACKSLASH:
            run += 1
            at -= 1
        if at < 0:
            run += self._backslashes
        return run % 2 == 1
