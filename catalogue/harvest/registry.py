"""Source types, found through the ``catalogue.harvesters`` entry-point group (the built-in
types are registered there too, in this project's own pyproject)."""

from __future__ import annotations

from importlib.metadata import entry_points

import httpx
from pydantic import ValidationError

from catalogue.errors import ConfigError
from catalogue.harvest.contract import Harvester
from catalogue.settings import Settings, SourceSettings

GROUP = "catalogue.harvesters"


def harvester_types() -> dict[str, type[Harvester]]:
    """Every installed source type by name."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def harvester_class(type_name: str) -> type[Harvester]:
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if type_name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"unknown source type {type_name!r} (known: {known})")
    return found[type_name].load()  # type: ignore[no-any-return]


def create_harvester(source: SourceSettings, client: httpx.Client) -> Harvester:
    return harvester_class(source.type)(source, client)


def validate_sources(settings: Settings) -> None:
    """Check every source's type and type-specific keys; errors name the file and the key."""
    where = str(settings.config_path or "<configuration>")
    errors = []
    for position, source in enumerate(settings.sources):
        try:
            cls = harvester_class(source.type)
        except ConfigError as exc:
            errors.append(f"{where}: sources[{position}].type: {exc.user_message}")
            continue
        try:
            cls.Options.model_validate(source.options)
        except ValidationError as exc:
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"])
                msg = error["msg"]
                if error["type"] == "extra_forbidden":
                    msg = f"unknown key for source type {source.type!r}"
                errors.append(f"{where}: sources[{position}].{key}: {msg}")
    if errors:
        raise ConfigError("\n".join(errors))
