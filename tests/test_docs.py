"""Every configuration key and source option is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from catalogue.harvest.registry import harvester_types
from catalogue.settings import (
    CatalogueSettings,
    HarvestSettings,
    IndexSettings,
    PortalSettings,
    ServerSettings,
    SourceSettings,
)

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


@pytest.mark.parametrize(
    "model",
    [IndexSettings, ServerSettings, CatalogueSettings, HarvestSettings, SourceSettings]
    + [PortalSettings],
)
def test_every_setting_is_documented(model: type[BaseModel]) -> None:
    missing = [name for name in names(model) if f"`{name}`" not in README]
    assert not missing, f"{model.__name__}: undocumented keys {missing}"


def test_every_source_type_and_option_is_documented() -> None:
    for type_name, cls in harvester_types().items():
        assert f"`{type_name}`" in README, f"source type {type_name} is not in the README"
        missing = [name for name in names(cls.Options) if f"`{name}`" not in README]
        assert not missing, f"{type_name}: undocumented options {missing}"
