"""Harvest reports: per source, what was added, updated, unchanged, deleted and what failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from catalogue.model import Problem, utc_now

MAX_PROBLEMS_KEPT = 1000


@dataclass(slots=True)
class SourceReport:
    name: str
    type: str
    url: str
    status: str = "running"
    """``ok``, ``failed`` (the source could not be read to its end) or ``running``."""
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    datasets: int = 0
    items: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def problem(self, problem: Problem) -> None:
        self.failed += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)


@dataclass(slots=True)
class HarvestReport:
    run_id: str
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, folder: Path) -> Path:
        """Write the report as JSON (and as ``latest.json``); returns the file's path."""
        folder.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)
        path = folder / f"harvest-{self.run_id}.json"
        path.write_bytes(data)
        (folder / "latest.json").write_bytes(data)
        return path


def recent_reports(folder: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The newest run reports in ``folder``, newest first (unreadable files are passed over)."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("harvest-*.json"), reverse=True):
        try:
            out.append(orjson.loads(path.read_bytes()))
        except (OSError, orjson.JSONDecodeError):
            continue
        if len(out) >= limit:
            break
    return out
