"""How long the SQLite index may work on one search.

Every search stops after ``query_timeout`` seconds: one heavy filter must not hold a server
thread for minutes. A search the server tries on its event loop (see
:class:`~catalogue.index.protocol.BriefSearch`) gets a much shorter time and stops with
:class:`~catalogue.index.protocol.Overran`, so the server can run it again in a thread.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from catalogue.errors import QueryError, QueryTooExpensiveError
from catalogue.index.protocol import Overran

CHECK_EVERY = 10_000
"""SQLite virtual-machine steps between two looks at the clock (some tens of microseconds)."""

# what SQLite says when a statement exceeds one of its limits: the search was too large
_SQLITE_LIMITS = (
    "parser stack overflow",
    "too many terms",
    "Expression tree is too large",
    "too many SQL variables",
    "pattern too complex",
    "too many FROM clause terms",
    "too many arguments",
)


class Deadlines:
    """The time each thread's searches have left; one per index, shared by its connections."""

    def __init__(self, query_timeout: float) -> None:
        self.query_timeout = query_timeout
        self._local = threading.local()

    def watch(self, conn: sqlite3.Connection) -> None:
        """Let the connection's statements be stopped at this thread's deadline."""
        conn.set_progress_handler(self._passed, CHECK_EVERY)

    def _passed(self) -> bool:
        """SQLite's progress callback: true stops the running statement."""
        deadline = getattr(self._local, "deadline", None)
        return deadline is not None and time.monotonic() > deadline

    @contextmanager
    def search(self) -> Iterator[None]:
        """One search: stopped with :class:`QueryTooExpensiveError` after ``query_timeout``, or
        with :class:`Overran` when the brief time around it ends first."""
        outer = getattr(self._local, "deadline", None)
        deadline = time.monotonic() + self.query_timeout
        brief = outer is not None and outer < deadline
        self._local.deadline = outer if brief else deadline
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                if brief:
                    raise Overran() from None
                raise QueryTooExpensiveError(
                    f"the search took longer than {self.query_timeout:g} s and was stopped; "
                    "narrow it (a smaller area, fewer or simpler filters)"
                ) from None
            if any(limit in str(exc) for limit in _SQLITE_LIMITS):
                raise QueryError(
                    f"the search is too large for the index ({exc}); use fewer or simpler "
                    "filters, words or sort keys"
                ) from None
            raise
        finally:
            self._local.deadline = outer

    @contextmanager
    def brief(self, seconds: float) -> Iterator[None]:
        """Whatever the index reads in this thread inside stops with :class:`Overran` after
        ``seconds``."""
        outer = getattr(self._local, "deadline", None)
        self._local.deadline = time.monotonic() + seconds
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise Overran() from None
            raise
        finally:
            self._local.deadline = outer
