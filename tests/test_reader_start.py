"""How reading processes start: forked, with everything imported, from a process that runs no
other thread; spawned afresh from one that does (a thread may hold a lock at the fork)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from catalogue.harvest.second_process import records_from_second_process
from catalogue.model import Item
from catalogue.settings import SourceSettings, settings_from_dict

HERE = Path(__file__).resolve().parent

MARK = "imported"
"""Set to "parent" by the reading test before its reader starts: a forked child sees that,
a spawned one imports this module again."""


def tell_mark(items: list[Item]) -> list[Any]:
    """A preparer that says what the reading process saw of MARK."""
    return [("mark", MARK, len(items))]


def source(tmp_path: Path) -> tuple[SourceSettings, Any]:
    features = [
        {"type": "Feature", "id": i, "geometry": None, "properties": {"n": i}} for i in range(50)
    ]
    path = tmp_path / "orte.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    settings = settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "sources": [{"name": "orte", "type": "geojson", "url": str(path)}],
        },
        tmp_path / "catalogue.yml",
        {},
    )
    return settings.sources[0], settings.harvest


def marks_seen(tmp_path: Path) -> set[str]:
    global MARK
    MARK = "parent"
    try:
        records = records_from_second_process(*source(tmp_path), tell_mark)
        told = [r for r in records if isinstance(r, tuple)]
    finally:
        MARK = "imported"
    assert sum(n for _, _, n in told) == 50
    return {mark for _, mark, _ in told}


def test_a_process_without_other_threads_forks_its_reader(tmp_path: Path) -> None:
    # a fresh interpreter: the test process may run threads of other tests' servers
    script = (
        "import sys, threading; from pathlib import Path; "
        "import test_reader_start as t; "
        "assert threading.active_count() == 1; "
        "print(sorted(t.marks_seen(Path(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(HERE), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['parent']"


def test_a_process_running_threads_spawns_its_reader(tmp_path: Path) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert marks_seen(tmp_path) == {"imported"}
    finally:
        stop.set()
        other.join()
