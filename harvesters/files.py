"""Reading a file source as a binary stream, from a local path or an http(s) URL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from catalogue.errors import HarvestError
from catalogue.harvest.http import STREAMED

CHUNK = 1 << 16


class _ResponseStream(io.RawIOBase):
    """A file-like view of a streamed HTTP body, read chunk by chunk (never whole)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


@contextmanager
def open_source(url: str, client: httpx.Client) -> Iterator[IO[bytes]]:
    """Open ``url`` (an http(s) URL or a local path) for streamed binary reading."""
    if url.startswith(("http://", "https://")):
        with client.stream("GET", url, extensions={STREAMED: True}) as response:
            if response.status_code >= 400:
                raise HarvestError(f"HTTP {response.status_code} from {url}")
            yield io.BufferedReader(_ResponseStream(response.iter_bytes(CHUNK)), CHUNK)
        return
    path = Path(url.removeprefix("file://")).expanduser()
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise HarvestError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle
