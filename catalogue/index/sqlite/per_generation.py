"""Values derived from the index and kept while its generation stays the same.

Datasets change only with the index generation, so whatever is computed from them (facet
columns, the order of a sort key) is kept until it moves, by every process on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerGeneration(Generic[K, V]):
    """Values by key for the current generation; all dropped when it changes."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._generation: int | None = None
        self._lock = threading.Lock()

    def get(self, generation: int, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key`` in ``generation``, computed (outside the lock) if not kept."""
        with self._lock:
            if generation != self._generation:
                self._values.clear()
                self._generation = generation
            value = self._values.get(key)
        if value is None:
            value = compute()
            with self._lock:
                if generation == self._generation:
                    self._values[key] = value
        return value
