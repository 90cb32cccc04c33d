"""``catalogue validate`` as a user runs it: a real process over a real index, the official
shape files given by path."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import POINTS, run, write_config
from test_dcat_validation import DCAT_AP, DCAT_AP_DE


def shapes(files: list[Path]) -> str:
    return ",".join(str(p) for p in files)


def test_validate_reports_violations_by_shape_and_dataset(tmp_path: Path) -> None:
    (tmp_path / "p.geojson").write_text(POINTS)
    config = write_config(
        tmp_path,
        "  - {name: punkte, type: geojson, url: p.geojson, language: [de], licence: 'Nur intern'}\n"
        "  - {name: ohne, type: geojson, url: p.geojson, themes: [Umweltschutz]}\n",
    )
    assert run("harvest", "--config", str(config), "--quiet").returncode == 0
    result = run(
        "validate",
        "--config",
        str(config),
        "--shapes",
        shapes(DCAT_AP),
        "--shapes",
        shapes(DCAT_AP_DE),
    )
    # the source without a licence breaks DCAT-AP.de (a distribution needs dct:license)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    ap = next(line for line in lines if line.startswith("semic-dcat-ap-3.0.1_dcat-ap-SHACL.ttl"))
    de = next(line for line in lines if line.startswith("dcat-ap-de-3.0_dcat-ap-SHACL-DE.ttl"))
    assert ": 0 violations" in ap and ": 2 violations" in de
    assert "[Violation]" in result.stdout and "/dcat/dataset/ohne" in result.stdout
    assert "#items-json license: DE: dcat:Distribution: MUSS eine dcterms:license haben." in (
        result.stdout
    )
    # values no vocabulary knows are listed, not guessed
    assert "theme: 'Umweltschutz'" in result.stdout and "licence: 'Nur intern'" in result.stdout

    as_json = run("validate", "--config", str(config), "--shapes", shapes(DCAT_AP_DE), "--json")
    body = json.loads(as_json.stdout)
    (report,) = body["reports"]
    assert report["violations"] == 2
    assert {
        f["dataset"].rsplit("/", 1)[-1] for f in report["findings"] if f["severity"] == "Violation"
    } == {"ohne"}
    assert any(f["messages"].get("de") for f in report["findings"])


def test_validate_the_demo_passes(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {"CATALOGUE_DEMO_DIR": str(tmp_path)}
    config = str(root / "catalogue" / "demo" / "demo.yml")
    assert run("harvest", "--config", config, "--quiet", env=env).returncode == 0
    result = run(
        "validate",
        "--config",
        config,
        "--shapes",
        shapes(DCAT_AP),
        "--shapes",
        shapes(DCAT_AP_DE),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": 0 violations") == 2


def test_validate_names_a_missing_shapes_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  []\n")
    result = run("validate", "--config", str(config), "--shapes", str(tmp_path / "fehlt.ttl"))
    assert result.returncode == 2 and "no such file" in result.stderr
