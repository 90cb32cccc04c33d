"""Reading a large local file in a second process while this one writes the index.

Parsing a big GeoJSON or CSV file and preparing its rows (bounds, encodings, content hash,
search text) costs about as much CPU as the index spends writing them. A source read in one
process does both in turn; here a child process reads the file and prepares each item with the
index's own preparer, and hands the prepared records over in pickled batches through a pipe, so
a machine with two cores does both at once.

What a run reports is the same either way: records, skipped records and notices arrive in the
order the harvester yields them; what the child read before it failed is written before the
failure is raised here, in the words a failure in one process would have had. A child that dies
(killed, out of memory) fails the source with that said; it never stops the other sources. The
pipe holds one batch at a time, so memory stays flat however large the file.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from catalogue import logs
from catalogue.errors import HarvestError
from catalogue.gc_pace import fewer_collections
from catalogue.harvest.contract import Share, SharedReading, Skipped
from catalogue.harvest.failures import expected_failure, failure_message
from catalogue.harvest.http import harvest_client
from catalogue.harvest.registry import create_harvester
from catalogue.model import Item
from catalogue.settings import HarvestSettings, SourceSettings

log = logging.getLogger("catalogue.harvest")

BATCH = 2000
"""Records per message: large enough that pickling and the pipe cost little per record."""
MAX_READERS = 4
"""Processes sharing the reading of one file, at most, unless configured otherwise."""
READER_NICENESS = 10
"""Processes sharing a file's reading yield the processor to the writer."""
QUEUED = 8
"""Messages taken off the pipe ahead of the writer (a few MB)."""
_RECORDS, _FAILED, _DONE = b"r", b"f", b"d"

Preparer = Callable[[list[Item]], list[Any]]
"""Makes the records that stand for a run of items (a module-level function or a partial of
one: the second process is handed it pickled, by name)."""


def prepared_one_by_one(prepare: Callable[[Item], Any], items: list[Item]) -> list[Any]:
    """Items prepared each on its own (:class:`~catalogue.index.protocol.ItemPreparer`)."""
    return [prepare(item) for item in items]


def prepared_together(prepare: Callable[[list[Item]], Any], items: list[Item]) -> list[Any]:
    """Items prepared as one batch (:class:`~catalogue.index.protocol.BatchPreparer`)."""
    return [prepare(items)]


def reads_in_second_process(
    source: SourceSettings, harvester: object, harvest: HarvestSettings
) -> bool:
    """Whether this source is worth a second process: a one-file source type reading a local
    file of at least ``harvest.second_process_bytes``, on a machine with two cores or more
    (and a full read: incremental runs stay in process)."""
    threshold = harvest.second_process_bytes
    if threshold is None or _cores() < 2:
        return False
    if not getattr(harvester, "one_file", False) or callable(getattr(harvester, "changes", None)):
        return False
    if source.url.startswith(("http://", "https://")):
        return False
    found = _local_file(source)
    return found is not None and found.st_size >= threshold  # else the harvester says why


def _local_file(source: SourceSettings) -> os.stat_result | None:
    """What the file system says of the source's local file, if it has one."""
    try:
        return Path(source.url.removeprefix("file://")).expanduser().stat()
    except OSError:
        return None


def reading_processes(source: SourceSettings, harvester: object, harvest: HarvestSettings) -> int:
    """How many processes read a file :func:`reads_in_second_process` chose: one per core
    (up to ``MAX_READERS``) or as configured, if the source type can share its reading and
    the file is a regular one (a named pipe gives its bytes to one reader only)."""
    if not isinstance(harvester, SharedReading):
        return 1
    found = _local_file(source)
    if found is None or not stat.S_ISREG(found.st_mode):
        return 1
    return harvest.reading_processes or min(_cores(), MAX_READERS)


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> ForkContext | SpawnContext:
    """How reading processes start. Forked where this process runs no other thread (a
    harvest from the command line or a timer): the child has everything imported already and
    sends its first batch some 0.7 s sooner than a fresh interpreter would. Spawned otherwise
    (a server's scheduled harvests, a progress display): another thread may hold a lock at
    the moment of the fork, which the child would wait on for ever. The child uses nothing
    of this process's open index; it ends without closing it."""
    if threading.active_count() == 1 and sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def records_from_second_process(
    source: SourceSettings, harvest: HarvestSettings, prepare: Preparer, readers: int = 1
) -> Iterator[object]:
    """The source's records as its harvester yields them, items prepared by ``prepare``.

    ``readers`` > 1 (a :class:`~catalogue.harvest.contract.SharedReading` source type):
    that many processes read the file, each parsing and preparing every ``readers``-th batch
    of records and skipping the others; their batches are taken in turn."""
    pipes: list[Connection] = []
    children: list[BaseProcess] = []
    context = _context()
    for share in range(readers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_read,
            args=(source, harvest, prepare, send, logging.getLogger("catalogue").level),
            kwargs={"share": (share, readers)},
            name=f"catalogue-read-{source.name}" + (f"-{share + 1}" if readers > 1 else ""),
            daemon=True,
        )
        process.start()
        send.close()  # the child's end: reading here ends (EOFError) when the child is gone
        pipes.append(receive)
        children.append(process)
    # a thread per child takes its messages off the pipe as they come (waiting on it frees
    # the interpreter): the children go on reading while this process writes a batch
    queues: list[queue.Queue[bytes | None]] = [queue.Queue(QUEUED) for _ in children]
    stop = threading.Event()
    takers = [
        threading.Thread(
            target=_take,
            args=(receive, messages, stop),
            name=f"catalogue-take-{source.name}-{n}",
        )
        for n, (receive, messages) in enumerate(zip(pipes, queues, strict=True))
    ]
    for taker in takers:
        taker.start()
    finished = False
    turn = 0
    try:
        while (message := queues[turn % readers].get()) is not None:
            kind, body = message[:1], message[1:]
            if kind == _RECORDS:
                yield from pickle.loads(body)
                turn += 1
            elif kind == _FAILED:
                finished = True
                raise HarvestError(pickle.loads(body))
            else:
                finished = True
                return
        child = children[turn % readers]
        child.join(5)
        raise HarvestError(
            f"the process reading {source.url} ended before the end of the file "
            f"(exit code {child.exitcode})"
        )
    finally:
        stop.set()
        for child in children:
            # the writer stopped early, or the others' batches are past the end: unwanted
            if child.is_alive() and (not finished or readers > 1):
                child.terminate()
            child.join()
        for taker in takers:
            taker.join()
        for receive in pipes:
            receive.close()


def _take(receive: Connection, messages: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Move the child's messages into the queue, then None if the pipe ended before the
    child said it was done."""
    while True:
        try:
            message: bytes | None = receive.recv_bytes()
        except (EOFError, OSError):
            message = None
        if not _put(messages, message, stop) or message is None or message[:1] != _RECORDS:
            return


def _put(messages: queue.Queue[bytes | None], message: bytes | None, stop: threading.Event) -> bool:
    """Queue the message unless the reader stopped meanwhile."""
    while not stop.is_set():
        try:
            messages.put(message, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _read(
    source: SourceSettings,
    harvest: HarvestSettings,
    prepare: Preparer,
    out: Connection,
    level: int,
    share: tuple[int, int] = (0, 1),
) -> None:
    """The child: read the source, prepare its items, send them in batches, then say how it
    ended. ``share`` (k, n): send only the batches k, k + n, k + 2n … (from 0), skipping the
    work of the others where the source type can."""
    logs.configure(level or logging.INFO)
    with fewer_collections():
        _read_and_send(source, harvest, prepare, out, share)


def _read_and_send(
    source: SourceSettings,
    harvest: HarvestSettings,
    prepare: Preparer,
    out: Connection,
    share: tuple[int, int],
) -> None:
    """:func:`_read`'s work, once its logging is set up."""
    if share[1] > 1:
        # the writer, alone, sets the pace: the readers together make more than it takes,
        # and take the cores it leaves
        with suppress(OSError):
            os.nice(READER_NICENESS)
    client = harvest_client(
        timeout=harvest.timeout,
        retries=harvest.retries,
        backoff=harvest.backoff,
        user_agent=harvest.user_agent,
        max_response_bytes=harvest.max_response_bytes,
    )
    mine, readers = share
    shared = Share(BATCH, readers, mine)
    batch: list[object] = []  # records to send, items among them prepared
    items: list[Item] = []  # the items read since the last record that was no item
    number = 0  # of the record being read
    own = mine == 0  # whether the batch being read is this process's to send
    try:
        harvester = create_harvester(source, client)
        if readers > 1:
            if not isinstance(harvester, SharedReading):
                raise HarvestError(f"a {source.type} source cannot be read by several processes")
            records: Iterator[object] = harvester.shared_records(shared)
        else:
            records = harvester.records()
        for record in records:
            if type(record) is Skipped:  # others' records, up to this process's next batch
                if own:
                    raise RuntimeError(f"record {number} of an own batch was skipped")
                number += record.count
                own = not shared.skips(number)
                continue
            if own:
                if type(record) is Item:
                    items.append(record)
                else:
                    if items:
                        batch += prepare(items)
                        items = []
                    batch.append(record)
            number += 1
            if number % BATCH == 0:
                if own:
                    if items:
                        batch += prepare(items)
                        items = []
                    out.send_bytes(_RECORDS + pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
                    batch = []
                own = (number // BATCH) % readers == mine
        if items:
            batch += prepare(items)
            items = []
        if batch:
            out.send_bytes(_RECORDS + pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
        out.send_bytes(_DONE)
    except (BrokenPipeError, KeyboardInterrupt):
        return  # the writer is gone or stopping: nobody to tell
    except Exception as exc:
        if own and not expected_failure(exc):  # (the batch's reader says it)
            log.error("harvest failed", extra={"source": source.name}, exc_info=True)
        try:  # what was read before the failure is written, as in one process
            if items:
                batch += prepare(items)
            if batch:
                out.send_bytes(_RECORDS + pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
            out.send_bytes(_FAILED + pickle.dumps(failure_message(exc)))
        except BrokenPipeError:
            return
    finally:
        client.close()
        out.close()
