"""The last harvest runs, served as JSON for the data team."""

from __future__ import annotations

import httpx


def test_last_runs_as_json(http: httpx.Client) -> None:
    body = http.get("/harvest/runs").json()
    sources = {s["name"]: s for s in body["runs"][0]["sources"]}
    assert set(sources) == {
        "stadtbezirke",
        "sehenswuerdigkeiten",
        "mobilstationen",
        "luftmessstationen",
    }
    poi = sources["sehenswuerdigkeiten"]
    assert (poi["status"], poi["items"], poi["failed"]) == ("ok", 60, 2)
    assert poi["problems"][0]["where"] == "feature 61 (id poi-broken-1)"
    assert http.get("/harvest/runs", params={"limit": "x"}).status_code == 400
