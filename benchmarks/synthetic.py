"""Write N synthetic point features around Düsseldorf as one GeoJSON FeatureCollection.

Deterministic for a given N and seed; streamed to disk, so 1,000,000 features need little memory.
Usage: python benchmarks/synthetic.py 100000 /tmp/points_100k.geojson
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime

CATEGORIES = [
    "Baum",
    "Spielplatz",
    "Haltestelle",
    "Parkplatz",
    "Ladesäule",
    "Trinkbrunnen",
    "Denkmal",
    "Schule",
    "Kita",
    "Sportstätte",
]
DISTRICTS = [
    "Altstadt",
    "Carlstadt",
    "Pempelfort",
    "Derendorf",
    "Oberkassel",
    "Bilk",
    "Flingern",
    "Gerresheim",
    "Benrath",
    "Kaiserswerth",
    "Eller",
    "Rath",
]
LON0, LON1, LAT0, LAT1 = 6.68, 6.94, 51.12, 51.35


def write(n: int, path: str, seed: int = 42) -> None:
    rng = random.Random(seed + n)
    start = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
    span = datetime(2025, 12, 1, tzinfo=UTC).timestamp() - start
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","name":"points","features":[\n')
        for i in range(n):
            lon = LON0 + rng.random() * (LON1 - LON0)
            lat = LAT0 + rng.random() * (LAT1 - LAT0)
            category = CATEGORIES[rng.randrange(len(CATEGORIES))]
            updated = datetime.fromtimestamp(start + rng.random() * span, UTC)
            feature = {
                "type": "Feature",
                "id": i + 1,
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "name": f"{category} {DISTRICTS[rng.randrange(len(DISTRICTS))]} {i + 1}",
                    "category": category,
                    "updated": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "value": rng.randrange(10000),
                },
            }
            out.write(json.dumps(feature, ensure_ascii=False) + (",\n" if i < n - 1 else "\n"))
        out.write("]}\n")


if __name__ == "__main__":
    write(int(sys.argv[1]), sys.argv[2])
