"""Harvest speed of the CKAN source type: a local CKAN-compatible portal serving N synthetic
packages (paged package_search), harvested with `catalogue harvest` in a child process.

Usage: python benchmarks/bench_ckan_harvest.py [--datasets 50000] [--rows 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ogc import CATALOGUE, rss_mib  # noqa: E402

THEMES = ["envi", "tran", "soci", "econ", "regi", "educ", "heal", "gove"]
WORDS = [
    "Baumkataster",
    "Radverkehr",
    "Luftqualität",
    "Spielplätze",
    "Parkhäuser",
    "Haltestellen",
    "Bebauungspläne",
    "Wahlergebnisse",
    "Einwohner",
    "Ladesäulen",
    "Denkmäler",
    "Kitas",
]


def package(i: int) -> dict[str, object]:
    rng = random.Random(i)
    word = WORDS[i % len(WORDS)]
    return {
        "id": f"{i:08d}-0000-4000-8000-000000000000",
        "name": f"datensatz-{i}",
        "title": f"{word} {2010 + i % 15} ({i})",
        "notes": f"Der Datensatz {word} der Stadt, Stand {2010 + i % 15}. " * 3,
        "tags": [{"name": w, "display_name": w} for w in rng.sample(WORDS, 3)],
        "groups": [{"name": THEMES[i % len(THEMES)]}],
        "license_id": "dl-by-de/2.0",
        "organization": {"name": f"amt-{i % 40}", "title": f"Amt {i % 40}"},
        "maintainer": "Open-Data-Team",
        "maintainer_email": "opendata@example.org",
        "metadata_created": "2020-01-01T00:00:00",
        "metadata_modified": "2024-06-01T12:00:00",
        "extras": [
            {"key": "contributorID", "value": '["http://dcat-ap.de/def/contributors/x"]'},
            {"key": "spatial", "value": '{"type":"Point","coordinates":[6.78,51.22]}'},
        ],
        "resources": [
            {"url": f"https://example.org/{i}.csv", "format": "CSV", "name": "CSV"},
            {"url": f"https://example.org/{i}.json", "format": "JSON", "name": "JSON"},
        ],
    }


def serve(total: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            query = parse_qs(urlsplit(self.path).query)
            start, rows = int(query["start"][0]), int(query["rows"][0])
            results = [package(i) for i in range(start, min(start + rows, total))]
            body = json.dumps(
                {"success": True, "result": {"count": total, "results": results}}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    server = serve(args.datasets)
    work = Path(tempfile.mkdtemp(prefix="ouc-ckan-bench-"))
    config = work / "c.yml"
    config.write_text(
        f"index: {{backend: sqlite, path: {work}/i.sqlite}}\nsources:\n"
        f"  - {{name: portal, type: ckan, url: 'http://127.0.0.1:{server.server_address[1]}', "
        f"rows: {args.rows}}}\n"
    )
    results = {}
    for run in ("first", "unchanged"):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [CATALOGUE, "harvest", "--config", str(config), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples = []
        while proc.poll() is None:
            rss = rss_mib(proc.pid)
            if rss:
                samples.append(rss)
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        quarter = len(samples) // 4
        results[run] = {
            "seconds": round(seconds, 1),
            "datasets_per_s": round(args.datasets / seconds),
            "rss_mib": [round(samples[quarter]), round(samples[3 * quarter]), round(max(samples))]
            if samples
            else None,
            "exit": proc.returncode,
        }
    server.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"datasets": args.datasets, "rows": args.rows, **results}, indent=1))


if __name__ == "__main__":
    main()
