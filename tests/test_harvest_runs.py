"""The last harvest runs for the data team, and harvests started over HTTP (behind a token)."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import DEMO_CONFIG, LiveServer, demo_settings, free_port
from pydantic import SecretStr

from catalogue.harvest.lock import harvest_lock

TOKEN = "s3cret-token-for-tests"
CATALOGUE = str(Path(sys.executable).parent / "catalogue")


def test_everybody_sees_run_summaries(http: httpx.Client) -> None:
    body = http.get("/harvest/runs").json()
    assert body["detail"] is False
    sources = {s["name"]: s for s in body["runs"][0]["sources"]}
    assert set(sources) == {
        "stadtbezirke",
        "sehenswuerdigkeiten",
        "mobilstationen",
        "luftmessstationen",
    }
    poi = sources["sehenswuerdigkeiten"]
    assert (poi["status"], poi["items"], poi["failed"]) == ("ok", 60, 2)
    assert "problems" not in poi and "error" not in poi and "url" not in poi
    assert http.get("/harvest/runs", params={"limit": "x"}).status_code == 400


def test_without_a_configured_token_harvests_over_http_stay_closed(http: httpx.Client) -> None:
    answer = http.post("/harvest/runs", json={}, headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 401 and "admin_token" in answer.json()["description"]
    assert "Bearer" in answer.headers["www-authenticate"]
    assert (
        http.get("/harvest/runs", headers={"Authorization": "Bearer x"}).json()["detail"] is False
    )


@pytest.fixture()
def admin(tmp_path: Path) -> Iterator[LiveServer]:
    """An empty catalogue with the demo's sources and an admin token."""
    settings = demo_settings(tmp_path, free_port())
    server = settings.server.model_copy(update={"admin_token": SecretStr(TOKEN)})
    with LiveServer(settings.model_copy(update={"server": server})) as live:
        yield live


def _bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_harvest_started_over_http(admin: LiveServer) -> None:
    with httpx.Client(base_url=admin.url, timeout=30) as http:
        assert http.post("/harvest/runs", json={}).status_code == 401
        assert http.post("/harvest/runs", json={}, headers=_bearer("wrong")).status_code == 401
        bad = http.post("/harvest/runs", json={"sources": ["nope"]}, headers=_bearer())
        assert bad.status_code == 400 and "nope" in bad.json()["description"]
        started = http.post(
            "/harvest/runs", json={"sources": ["sehenswuerdigkeiten"]}, headers=_bearer()
        )
        assert started.status_code == 202, started.text
        assert started.json()["sources"] == ["sehenswuerdigkeiten"]
        deadline = time.monotonic() + 60
        while not http.get("/harvest/runs").json()["runs"]:
            assert time.monotonic() < deadline, "the harvest did not finish"
            time.sleep(0.2)
        assert http.get("/health").json()["items"] == 60
        # in detail with the token, by bearer or as a browser's Basic password
        detailed = http.get("/harvest/runs", headers=_bearer()).json()
        assert detailed["detail"] is True
        (poi,) = detailed["runs"][0]["sources"]
        assert poi["problems"][0]["where"] == "feature 61 (id poi-broken-1)"
        basic = base64.b64encode(f"team:{TOKEN}".encode()).decode()
        as_browser = http.get("/harvest/runs", headers={"Authorization": f"Basic {basic}"})
        assert as_browser.json()["detail"] is True


def test_one_harvest_at_a_time(admin: LiveServer) -> None:
    reports = admin.settings.reports_dir()
    with harvest_lock(reports):
        busy = httpx.post(f"{admin.url}/harvest/runs", json={}, headers=_bearer())
        assert busy.status_code == 409 and busy.json()["code"] == "HarvestRunning"
        cli = subprocess.run(
            [CATALOGUE, "harvest", "--config", str(DEMO_CONFIG), "--quiet"],
            capture_output=True,
            text=True,
            env={"CATALOGUE_DEMO_DIR": str(reports.parent), "PATH": "/usr/bin:/bin"},
            timeout=60,
        )
        assert cli.returncode == 1 and "another harvest" in cli.stderr


def test_the_token_never_shows(admin: LiveServer, capfd: pytest.CaptureFixture[str]) -> None:
    answer = httpx.post(f"{admin.url}/harvest/runs", json={}, headers=_bearer("wrong"))
    assert TOKEN not in answer.text
    assert TOKEN not in repr(admin.settings) and TOKEN not in admin.settings.model_dump_json()
    assert TOKEN not in "".join(capfd.readouterr())
