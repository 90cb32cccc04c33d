"""API fuzzing: requests generated from the catalogue's own OpenAPI document (``/openapi.json``).

For every operation the document describes (OGC API, CKAN Action API, DCAT, harvest runs,
health), schemathesis generates up to N requests that conform to the document, from a fixed
seed, sends them to the running app and checks each answer: no server error (5xx), and status
code, media type, headers and body as the document says.

Usage: python benchmarks/fuzz_api.py [--url http://host:port] [--examples 500] [--seed 20]
Without ``--url`` the demo catalogue is harvested into a temporary folder and served on a free
local port for the run. Prints the figures as JSON; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CATALOGUE = str(Path(sys.executable).with_name("catalogue"))


@dataclass
class Outcome:
    """What a fuzz run sent and found."""

    requests: int = 0
    operations: int = 0
    per_operation: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    """operation → the first failure found (the request as curl, what the check said)."""


def fuzz(
    base_url: str,
    *,
    examples: int,
    seed_value: int,
    progress: Callable[[str, int], None] | None = None,
) -> Outcome:
    """Fuzz every operation of the app at ``base_url`` with up to ``examples`` requests each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    schema.validate()  # the document itself is valid OpenAPI 3.0
    outcome = Outcome()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = operation.label
            outcome.operations += 1
            sent = 0

            @settings(
                max_examples=examples,
                database=None,
                deadline=None,
                derandomize=False,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
            @seed(seed_value)
            @given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:
                nonlocal sent
                response = case.call(base_url=base_url, session=session, timeout=60)
                sent += 1
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # a failed check: note it, go on
                outcome.failures[label] = str(exc)[:4000]
            outcome.requests += sent
            outcome.per_operation[label] = sent
            if progress is not None:
                progress(label, sent)
    return outcome


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_demo() -> Iterator[str]:
    """The demo catalogue served by ``catalogue demo`` on a free port, for the run."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ouc-fuzz-") as folder:
        server = subprocess.Popen(
            [CATALOGUE, "demo", "--port", str(port), "--data-dir", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("the demo catalogue did not start")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the app's base URL (default: a local demo catalogue)")
    parser.add_argument("--examples", type=int, default=500, help="at most, per operation")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()

    def progress(label: str, sent: int) -> None:
        print(f"{sent:6d}  {label}", file=sys.stderr, flush=True)

    started = time.monotonic()
    with local_demo() if args.url is None else _given(args.url.rstrip("/")) as base:
        outcome = fuzz(base, examples=args.examples, seed_value=args.seed, progress=progress)
    for label, failure in outcome.failures.items():
        print(f"\n=== {label}\n{failure}", file=sys.stderr)
    print(
        json.dumps(
            {
                "url": args.url or "local demo",
                "seed": args.seed,
                "examples_per_operation": args.examples,
                "operations": outcome.operations,
                "requests": outcome.requests,
                "failed_operations": sorted(outcome.failures),
                "seconds": round(time.monotonic() - started, 1),
            },
            indent=2,
        )
    )
    return 1 if outcome.failures else 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
