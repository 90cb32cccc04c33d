"""``catalogue serve`` with two workers, each listening on a socket of its own (Linux): the
kernel spreads connections over them, a worker that dies is started again, SIGTERM stops them
all, and a port already taken is refused with a clear message."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux sockets")

CATALOGUE = str(Path(sys.executable).parent / "catalogue")


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _listening(pid: int, port: int) -> set[int]:
    """The inodes of the sockets process ``pid`` listens on at ``port``."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                listening.add(int(fields[9]))
    held = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process has just exited
        return set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(int(target[8:-1]))
    return held & listening


def _workers(pid: int, port: int) -> list[int]:
    """The processes under ``pid`` listening at ``port``."""
    return [child for child in _children(pid) if _listening(child, port)]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a process that exited but was not reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.1)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    config = tmp_path / "serve.yml"
    config.write_text(f"index: {{backend: sqlite, path: {tmp_path / 'index.sqlite'}}}\n")
    port = free_port()
    process = subprocess.Popen(
        [CATALOGUE, "serve", "--config", str(config), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen: set[int] = set()
    try:
        _wait_until(lambda: _answers(port) or process.poll() is not None)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        _wait_until(lambda: len(_workers(process.pid, port)) == 2)
        seen.update(_children(process.pid))
        yield process, port
    finally:
        seen.update(_children_left(process.pid))
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for child in seen:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _children_left(pid: int) -> list[int]:
    try:
        return _children(pid)
    except OSError:
        return []


def test_each_worker_listens_on_a_socket_of_its_own(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    workers = _workers(process.pid, port)
    assert len(workers) == 2
    sockets = [_listening(pid, port) for pid in workers]
    assert all(len(s) == 1 for s in sockets) and sockets[0] != sockets[1]
    assert not _listening(process.pid, port)  # the supervisor itself takes no connections


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_all(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    workers = _workers(process.pid, port)
    os.kill(workers[0], signal.SIGKILL)

    def replaced() -> bool:
        now = _workers(process.pid, port)
        return len(now) == 2 and workers[0] not in now

    _wait_until(replaced)
    for _ in range(20):  # every connection reaches a living worker
        assert _answers(port)
    workers = _workers(process.pid, port)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in workers)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)


def test_workers_stop_when_the_supervisor_is_killed(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    """A supervisor killed outright (the OOM killer) leaves no worker holding the port."""
    process, port = server
    workers = _workers(process.pid, port)
    process.kill()
    process.wait(timeout=10)
    _wait_until(lambda: not any(_alive(pid) for pid in workers))
    assert not _answers(port)


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "serve.yml"
    config.write_text(f"index: {{backend: sqlite, path: {tmp_path / 'index.sqlite'}}}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [CATALOGUE, "serve", "--config", str(config), "--port", str(port), "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
