"""One harvest at a time per catalogue: a lock file beside the run reports.

Two runs of the same source at once would each delete what the other had just written (stale
deletion goes by run), so ``catalogue harvest`` and harvests started over HTTP take the same
operating-system lock. The lock goes with the process: a killed harvest leaves nothing to clean.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalogue.errors import CatalogueError

LOCK_FILE = "harvest.lock"


class HarvestBusyError(CatalogueError):
    http_status = 409
    code = "HarvestRunning"


@contextmanager
def harvest_lock(reports_dir: Path) -> Iterator[None]:
    """Hold the catalogue's harvest lock, or raise :class:`HarvestBusyError` at once."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(reports_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HarvestBusyError("another harvest of this catalogue is running") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
