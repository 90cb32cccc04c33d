"""Aggregation speed of the SensorThings source type: a local synthetic SensorThings server with
N Datastreams (10 per Thing) and M Observations each, harvested with `catalogue harvest` in a
child process; then an incremental run after new observations arrived.

Usage: python benchmarks/bench_sensorthings.py [--datastreams 1000] [--observations 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_ogc import CATALOGUE, rss_mib  # noqa: E402

PER_THING = 10
STEP = 60  # seconds between observations


class Network:
    """Synthetic Things and Observations, computed on demand (nothing held in memory)."""

    def __init__(self, datastreams: int, observations: int) -> None:
        self.datastreams = datastreams
        self.observations = observations
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.base = now - timedelta(seconds=STEP * observations)

    def time(self, i: int) -> str:
        return (self.base + timedelta(seconds=STEP * i)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def thing(self, t: int) -> dict[str, object]:
        return {
            "@iot.id": t,
            "name": f"Station {t}",
            "description": "synthetic",
            "Locations": [
                {
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [6.7 + t / 1000, 51.2]},
                }
            ],
            "Datastreams": [
                {
                    "@iot.id": t * PER_THING + d,
                    "name": f"Messgröße {d}",
                    "phenomenonTime": f"{self.time(0)}/{self.time(self.observations - 1)}",
                    "unitOfMeasurement": {"name": "Grad Celsius", "symbol": "°C"},
                    "ObservedProperty": {"name": f"Größe {d}"},
                    "Sensor": {"name": "Sensor"},
                }
                for d in range(PER_THING)
            ],
        }

    def first_index(self, condition: str) -> int:
        if not condition:
            return 0
        _, op, value = condition.split(" ", 2)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        offset = (moment - self.base).total_seconds() / STEP
        start = math.floor(offset) + 1 if op == "gt" else math.ceil(offset)
        return max(0, start)


def serve(network: Network) -> ThreadingHTTPServer:
    # every Datastream reports the same series, so a page's JSON is made once and sent to all:
    # the server must not be what limits the harvest it measures
    pages: dict[tuple[int, int], bytes] = {}
    lock = threading.Lock()

    def observations(start: int, stop: int) -> bytes:
        with lock:
            if (start, stop) not in pages:
                pages[(start, stop)] = orjson.dumps(
                    [
                        {"phenomenonTime": network.time(i), "result": (i * 7) % 400 / 10}
                        for i in range(start, stop)
                    ]
                )
            return pages[(start, stop)]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            top, skip = int(query.get("$top", 100)), int(query.get("$skip", 0))
            if parts.path.endswith("/Things"):
                things = network.datastreams // PER_THING
                rows = orjson.dumps(
                    [network.thing(t) for t in range(skip, min(skip + top, things))]
                )
                total = things
            else:
                first = network.first_index(query.get("$filter", ""))
                total = max(0, network.observations - first)
                start = first + skip
                rows = observations(start, min(start + top, network.observations))
            data = b'{"@iot.count":%d,"value":%s' % (total, rows)
            if skip + top < total:
                following = {**query, "$skip": str(skip + top)}
                link = f"http://{self.headers['Host']}{parts.path}?" + urlencode(following)
                data += b',"@iot.nextLink":' + orjson.dumps(link)
            data += b"}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def aggregation_speed(network: Network, pages: int = 100) -> int:
    """Observations/s of JSON parsing plus folding into hourly buckets alone (one core)."""
    from harvesters.sensor_aggregates import add_observations

    page = orjson.dumps(
        {
            "value": [
                {"phenomenonTime": network.time(i), "result": i % 400 / 10} for i in range(10_000)
            ]
        }
    )
    started = time.perf_counter()
    for _ in range(pages):
        add_observations(orjson.loads(page)["value"], {})
    return round(pages * 10_000 / (time.perf_counter() - started))


def harvest(config: Path) -> dict[str, object]:
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
    return {
        "seconds": round(seconds, 1),
        "rss_mib": [round(samples[quarter]), round(samples[3 * quarter]), round(max(samples))]
        if samples
        else None,
        "exit": proc.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datastreams", type=int, default=1000)
    parser.add_argument("--observations", type=int, default=10_000, help="per Datastream")
    parser.add_argument("--new", type=int, default=60, help="new per Datastream, second run")
    args = parser.parse_args()
    network = Network(args.datastreams, args.observations)
    server = serve(network)
    work = Path(tempfile.mkdtemp(prefix="ouc-sta-bench-"))
    config = work / "c.yml"
    config.write_text(
        f"index: {{backend: sqlite, path: {work}/i.sqlite}}\nsources:\n"
        f"  - {{name: sensoren, type: sensorthings, "
        f"url: 'http://127.0.0.1:{server.server_address[1]}/v1.1', history_days: 3650}}\n"
    )
    total = args.datastreams * args.observations
    first = harvest(config)
    first["observations_per_s"] = round(total / float(first["seconds"]))  # type: ignore[arg-type]
    network.observations += args.new
    second = harvest(config)
    second["observations"] = args.datastreams * args.new
    server.shutdown()
    report = json.loads((work / "reports" / "latest.json").read_text())
    shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "datastreams": args.datastreams,
                "observations": total,
                "aggregation_only_obs_per_s": aggregation_speed(network),
                "first": first,
                "incremental": second,
                "incremental_report": {
                    k: report["sources"][0][k] for k in ("status", "items", "added", "updated")
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
