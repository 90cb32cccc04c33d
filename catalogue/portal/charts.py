"""Small charts drawn on the server as SVG, so they show without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, PAD = 240, 60, 4


@dataclass(frozen=True, slots=True)
class Sparkline:
    """A line of hourly means: the SVG points, and what a screen reader is told instead."""

    points: str
    low: float
    high: float
    first: str
    last: str
    count: int
    width: int = WIDTH
    height: int = HEIGHT


def sparkline(aggregates: list[dict[str, Any]]) -> Sparkline | None:
    """The ``mean`` of each aggregate (oldest first) as a polyline; ``None`` below two values."""
    values = [
        (a.get("start") or "", float(a["mean"]))
        for a in aggregates
        if isinstance(a, dict) and isinstance(a.get("mean"), int | float)
    ]
    if len(values) < 2:
        return None
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / (len(values) - 1)
    points = " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD):.1f}"
        for i, (_, v) in enumerate(values)
    )
    return Sparkline(points, low, high, values[0][0], values[-1][0], len(values))
