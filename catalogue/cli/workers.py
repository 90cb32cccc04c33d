"""The worker processes of ``catalogue serve``, each listening on a socket of its own.

uvicorn's workers share one listening socket, and whichever wakes first accepts every
connection waiting: the eight keep-alive connections of a client that opens them at once (a
load test, a proxy's pool of upstream connections) often all land on one process while the
other idles. Here each worker binds its own socket to the same address with ``SO_REUSEPORT``,
and the kernel spreads new connections over the sockets by their addresses (Linux).

The supervisor starts the workers, starts a worker again when one dies, and stops them all on
SIGINT or SIGTERM. A worker that cannot start (its exit code says so) stops the server.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("catalogue.serve")

RESTART_PAUSE = 1.0
"""Seconds before a worker that died is started again."""
QUICK_DEATHS = 5
"""Workers that die this many times in a row within ``STARTED_AFTER`` seconds of their start
stop the server: something is wrong that starting again will not mend."""
STARTED_AFTER = 10.0
PARENT_CHECK = 1.0
"""Seconds between a worker's looks at whether its supervisor still runs."""
STOP_WAIT = 10.0
"""Seconds the workers have to finish their requests when the server stops."""


def available() -> bool:
    """Whether this system spreads connections over sockets sharing a port (Linux does;
    elsewhere the last socket bound may take them all)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, share: bool) -> socket.socket:
    """A socket bound to ``host:port`` (shared with other sockets of this server if ``share``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_worker(host: str, port: int, options: dict[str, Any], app: str) -> None:
    """One worker: its own socket, uvicorn on it; it stops when the supervisor is gone (even
    killed outright), instead of holding the port."""
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn finishes the requests under way

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    try:
        sock = listening_socket(host, port, share=True)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(app, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


class Workers:
    """Runs ``count`` workers serving the app that the factory ``app`` ("module:function")
    builds in each of them."""

    def __init__(self, count: int, host: str, port: int, options: dict[str, Any], app: str) -> None:
        self.count = count
        self.host, self.port = host, port
        self.options = options
        self.app = app
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._processes: list[BaseProcess] = []

    def run(self) -> int:
        """Serve until stopped; the exit status of the server."""
        # another server on this port is an error, not a partner to share connections with
        listening_socket(self.host, self.port, share=False).close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._stop.set())
        self._processes = [self._start() for _ in range(self.count)]
        started = [time.monotonic()] * self.count
        quick_deaths = 0
        status = 0
        while not self._stop.wait(0.5):
            for slot, process in enumerate(self._processes):
                if process.is_alive():
                    continue
                code = process.exitcode
                if code == STARTUP_FAILURE:
                    log.error("a worker could not start; stopping", extra={"pid": process.pid})
                    status = 1
                    self._stop.set()
                    break
                quick = time.monotonic() - started[slot] < STARTED_AFTER
                quick_deaths = quick_deaths + 1 if quick else 0
                if quick_deaths >= QUICK_DEATHS:
                    log.error("workers keep dying at their start; stopping")
                    status = 1
                    self._stop.set()
                    break
                log.warning(
                    "worker died; starting another",
                    extra={"pid": process.pid, "exit_code": code},
                )
                time.sleep(RESTART_PAUSE)
                self._processes[slot] = self._start()
                started[slot] = time.monotonic()
        self._stop_all()
        return status

    def _start(self) -> BaseProcess:
        process = self._context.Process(
            target=serve_worker,
            args=(self.host, self.port, self.options, self.app),
            name="catalogue-worker",
        )
        process.start()
        return process

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
