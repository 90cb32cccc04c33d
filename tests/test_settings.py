"""Configuration files: interpolation, validation that names file and key, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalogue.errors import ConfigError
from catalogue.harvest.registry import validate_sources
from catalogue.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_variables_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
index: {backend: sqlite, path: "${DATA_DIR:-data}/index.sqlite"}
server: {port: "${PORT:-8080}"}
sources:
  - {name: a, type: geojson, url: files/a.geojson}
  - {name: b, type: csv, url: "https://example.org/${FILE}"}
""",
    )
    settings = load_settings(path, {"FILE": "b.csv"})
    assert settings.index.path == tmp_path / "data" / "index.sqlite"
    assert settings.server.port == 8080
    assert settings.sources[0].url == str(tmp_path / "files" / "a.geojson")
    assert settings.sources[1].url == "https://example.org/b.csv"
    assert load_settings(path, {"FILE": "x", "PORT": "9000"}).server.port == 9000


def test_a_missing_variable_names_the_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - {name: a, type: csv, url: '${SECRET_URL}'}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert str(path) in err.value.user_message
    assert "sources[0].url" in err.value.user_message
    assert "SECRET_URL" in err.value.user_message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("server: {port: 0}", "server.port"),
        ("indx: {}", "indx"),
        ("sources:\n  - {name: 'a b', type: csv, url: x}", "sources[0].name"),
        ("sources:\n  - {type: csv, url: x}", "sources[0].name"),
        ("sources:\n  - {name: a, type: csv, url: x, kind: music}", "sources[0].kind"),
        ("sources:\n  - {name: a, type: csv, url: x}\n  - {name: a, type: csv, url: y}", "sources"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert f"{path}: {key}" in err.value.user_message


def test_source_types_and_their_options_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
sources:
  - {name: a, type: shapefile, url: x}
  - {name: b, type: csv, url: x, lat_colum: y}
  - {name: c, type: geojson, url: x, crs: "EPSG:999999"}
""",
    )
    with pytest.raises(ConfigError) as err:
        validate_sources(load_settings(path, {}))
    message = err.value.user_message
    assert "sources[0].type: unknown source type 'shapefile'" in message
    assert "sources[1].lat_colum: unknown key for source type 'csv'" in message
    assert "sources[2].crs" in message


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "sources: [unclosed"), {})
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.yml", {})


def test_the_shipped_configurations_are_valid() -> None:
    for path in (ROOT / "config" / "catalogue.yml", ROOT / "catalogue" / "demo" / "demo.yml"):
        validate_sources(load_settings(path, {}))


def test_public_url_follows_the_port_unless_set(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "server: {port: 5001}"), {})
    assert settings.with_port(6000).server.base_url() == "http://127.0.0.1:6000"
    fixed = load_settings(write(tmp_path, "server: {url: 'https://data.example.org/'}"), {})
    assert fixed.with_port(6000).server.base_url() == "https://data.example.org"
