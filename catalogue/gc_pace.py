"""Fewer cyclic garbage collections while records stream through a process.

Python's cycle collector looks at its youngest objects each time 700 more container objects
(dicts, lists, tuples) have been made than freed, and at older ones every tenth and hundredth
time. A harvest makes and frees millions of them and keeps a batch of some thousands alive at a
time, so with that threshold the collector ran about 3,000 times per million features and
took a tenth of a reading process's time (0.84 of 8.3 CPU-s), each time finding that the
batch in hand was still alive. Parsed records hold no reference cycles; their memory is given
back as they are dropped, collector or not.

While records stream, the youngest generation is looked at only after ``STREAM_THRESHOLD``
more containers are alive: about never for a streamed harvest, and still in time for
anything that builds up. The previous thresholds come back when the last stream ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STREAM_THRESHOLD = 100_000
"""Container objects alive beyond the last collection before the youngest are looked at."""

_lock = threading.Lock()
_streams = 0
_before: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections(threshold: int = STREAM_THRESHOLD) -> Iterator[None]:
    """Collect less often inside; may be nested and used by several threads at once."""
    global _streams, _before
    with _lock:
        if _streams == 0:
            _before = gc.get_threshold()
            if _before[0] and _before[0] < threshold:  # 0: collection turned off, left so
                gc.set_threshold(threshold, *_before[1:])
        _streams += 1
    try:
        yield
    finally:
        with _lock:
            _streams -= 1
            if _streams == 0:
                gc.set_threshold(*_before)
