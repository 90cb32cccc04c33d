"""Configuration: one YAML file with ``index``, ``server``, ``catalogue``, ``harvest`` and
``sources``. ``${VAR}`` and ``${VAR:-default}`` are replaced from the environment. Relative paths
are resolved against the file's folder. Errors name the file and the key."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
)

from catalogue.errors import ConfigError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexSettings(BaseModel):
    """``index:`` — the backend and its own keys (``path`` for SQLite)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    backend: str = "sqlite"
    path: Path | None = None
    query_timeout: float = Field(10.0, gt=0)
    """Seconds one search may take before it is stopped and answered with an error."""


class ServerSettings(_Strict):
    """``server:`` — where the web app listens and the public URL links are built from."""

    host: str = "127.0.0.1"
    port: int = Field(5000, ge=1, le=65535)
    url: str | None = None
    """Public base URL; defaults to ``http://{host}:{port}``."""
    default_limit: int = Field(10, ge=1)
    max_limit: int = Field(10_000, ge=1)
    languages: tuple[str, ...] = ("en-US", "de-DE")
    cors: bool = True
    workers: int | None = Field(None, ge=1, le=64)
    """Server processes; None: one per CPU core, at most four."""
    max_body_bytes: int = Field(1_048_576, ge=1024)
    """Request bodies above this are refused with 413."""
    rate_limit: int = Field(0, ge=0)
    """Searches a client may send per minute (0: no limit); more are answered 429."""
    rate_burst: int = Field(30, ge=1)
    trust_forwarded_for: bool = False
    """Take the client address from X-Forwarded-For (only behind a proxy that sets it)."""
    search_on_loop: float = Field(0.01, ge=0, le=1)
    """Seconds a search of the items of a collection may run on a server process's event loop
    before it is stopped and run again in a thread (for an index in a local file); 0: every
    search runs in a thread."""
    admin_token: SecretStr | None = None
    """Bearer token for harvests over HTTP and detailed run reports (give it as ``${VAR}``);
    None or empty: those stay closed."""

    @field_validator("admin_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_serializer("admin_token", when_used="json")
    def _token_for_workers(self, value: SecretStr | None, info: Any) -> str | None:
        # written out in full only when asked (handing settings to worker processes)
        if value is None:
            return None
        reveal = isinstance(info.context, dict) and info.context.get("reveal_secrets")
        return value.get_secret_value() if reveal else str(value)

    def worker_count(self) -> int:
        return self.workers or max(1, min(os.cpu_count() or 1, 4))

    def base_url(self) -> str:
        return (self.url or f"http://{self.host}:{self.port}").rstrip("/")


class AgentSettings(_Strict):
    name: str
    url: str | None = None
    email: str | None = None
    identifier: str | None = None


class ContactSettings(_Strict):
    name: str | None = None
    email: str | None = None
    url: str | None = None
    phone: str | None = None


class CatalogueSettings(_Strict):
    """``catalogue:`` — metadata about the catalogue itself."""

    title: str = "Open Urban Catalogue"
    description: str = "The open data of a city: geodata, sensors and cultural collections."
    keywords: tuple[str, ...] = ("open data", "geodata")
    publisher: AgentSettings | None = None
    contact: ContactSettings | None = None
    licence: str | None = None
    homepage: str | None = None


class HarvestSettings(_Strict):
    """``harvest:`` — how runs behave."""

    reports_dir: Path | None = None
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(3, ge=0, le=10)
    """How often a request is retried after 429, 5xx or a connection error."""
    backoff: float = Field(1.0, ge=0)
    """Seconds before the first retry, doubled for each further one (Retry-After wins)."""
    user_agent: str = "open-urban-catalogue/0.1 (+harvester)"
    max_response_bytes: int = Field(256 * 1024 * 1024, ge=1024)
    """A response body a harvester reads whole may be at most this large (files read as a
    stream are not limited)."""
    file_roots: tuple[Path, ...] = ()
    """Folders local file sources may be read from; besides them, always the configuration's
    own folder and the system's temporary folder."""
    second_process_bytes: int | None = Field(32 * 1024 * 1024, ge=0)
    """A local GeoJSON or CSV file at least this large is read and prepared in a second
    process while this one writes the index (with two cores or more); null: never."""
    reading_processes: int | None = Field(None, ge=1, le=16)
    """How many processes share the reading of such a file (GeoJSON), each parsing and
    preparing its turn of the batches; null: one per core, up to 4."""


class PortalSettings(_Strict):
    """``portal:`` — the HTML pages at ``/``."""

    tile_url: str | None = None
    """Base map tiles (``https://tiles.example.org/{z}/{x}/{y}.png``); none: outlines only."""
    tile_attribution: str = ""
    assets_dir: Path | None = None
    """Where ``npm ci`` put the browser libraries (default: ``catalogue/portal/node_modules``)."""
    page_size: int = Field(20, ge=1, le=100)
    districts: str | None = None
    """The source whose polygons are the city's districts; records are assigned to them."""
    district_name: str = "name"
    """The property of a district polygon that holds its name."""


class SourceSettings(BaseModel):
    """One entry of ``sources:``. Keys beyond these belong to the source type and are checked
    by its harvester's options model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    type: str
    url: str
    enabled: bool = True
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    kind: str = "geodata"
    licence: str | None = None
    access_rights: str | None = None
    language: tuple[str, ...] = ()
    publisher: AgentSettings | None = None
    contact: ContactSettings | None = None
    landing_page: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        if not _SOURCE_NAME.match(value):
            raise ValueError("use letters, digits, '_', '.' and '-' only")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in ("geodata", "sensor", "culture"):
            raise ValueError("must be one of geodata, sensor, culture")
        return value

    @property
    def options(self) -> dict[str, Any]:
        """The type-specific keys."""
        return dict(self.model_extra or {})


class DCATSettings(_Strict):
    """``dcat:`` — the DCAT-AP linked data the catalogue publishes under ``/dcat``."""

    profiles: tuple[str, ...] = ("dcat-ap-3", "dcat-ap-de-3", "geodcat-ap")
    """Profiles applied in order, each on top of the ones before."""
    vocab_dir: Path | None = None
    """The folder of SKOS vocabularies; defaults to the vocab folder shipped with the catalogue."""
    political_geocoding_uri: str | None = None
    """The city's DCAT-AP.de political geocoding URI, e.g. a municipalityKey URI."""
    political_geocoding_level: str | None = None
    """Its level: a URI of http://dcat-ap.de/def/politicalGeocoding/Level."""
    contributor_id: str | None = None
    """The DCAT-AP.de contributor id (a URI of http://dcat-ap.de/def/contributors)."""
    page_size: int = Field(100, ge=1)
    max_page_size: int = Field(1000, ge=1)
    languages: tuple[str, ...] = ("de",)
    """The languages of the catalogue's own metadata (dct:language of the dcat:Catalog)."""


class Settings(_Strict):
    """The whole configuration."""

    index: IndexSettings = Field(default_factory=IndexSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    harvest: HarvestSettings = Field(default_factory=HarvestSettings)
    sources: tuple[SourceSettings, ...] = ()
    config_path: Path | None = None
    dcat: DCATSettings = Field(default_factory=DCATSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return value

    def file_roots(self) -> list[Path]:
        """The folders a local file source may lie in (resolved, symlinks followed)."""
        roots = [Path(tempfile.gettempdir()), *self.harvest.file_roots]
        if self.config_path is not None:
            roots.append(self.config_path.parent)
        return [root.expanduser().resolve() for root in roots]

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in the configuration (known: {known})")

    def reports_dir(self) -> Path:
        if self.harvest.reports_dir is not None:
            return self.harvest.reports_dir
        if self.index.path is not None:
            return self.index.path.parent / "reports"
        return Path("reports").resolve()

    def with_port(self, port: int) -> Settings:
        """The same settings served on another port (the public URL follows unless set)."""
        return self.model_copy(update={"server": self.server.model_copy(update={"port": port})})


def load_settings(path: str | Path, environ: dict[str, str] | None = None) -> Settings:
    """Read, interpolate and validate a configuration file."""
    path = Path(path).expanduser().resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return settings_from_dict(raw or {}, path, environ)


def settings_from_dict(
    raw: dict[str, Any], path: Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Validate a configuration given as a mapping; ``path`` anchors relative paths."""
    where = str(path) if path else "<configuration>"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the top level must be a mapping")
    env = os.environ if environ is None else environ
    data = _interpolate(raw, env, where, ())
    base = path.parent if path else Path.cwd()
    try:
        settings = Settings.model_validate({**data, "config_path": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None
    return _resolve_paths(settings, base)


def _interpolate(value: Any, env: Any, where: str, key: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, where, (*key, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, where, (*key, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            return str(env[name])
        if default is not None:
            return default
        raise ConfigError(
            f"{where}: {_key_path(key)}: environment variable {name} is not set "
            f"(give a default with ${{{name}:-value}})"
        )

    return _VAR.sub(replace, value)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    index = settings.index
    if index.path is not None and not index.path.expanduser().is_absolute():
        index = index.model_copy(update={"path": (base / index.path).resolve()})
    elif index.path is not None:
        index = index.model_copy(update={"path": index.path.expanduser()})
    harvest = settings.harvest
    if harvest.reports_dir is not None and not harvest.reports_dir.is_absolute():
        harvest = harvest.model_copy(update={"reports_dir": (base / harvest.reports_dir).resolve()})
    if harvest.file_roots:
        roots = tuple((base / root.expanduser()).resolve() for root in harvest.file_roots)
        harvest = harvest.model_copy(update={"file_roots": roots})
    sources = tuple(
        s
        if "://" in s.url or Path(s.url).expanduser().is_absolute()
        else s.model_copy(update={"url": str((base / s.url).resolve())})
        for s in settings.sources
    )
    return settings.model_copy(update={"index": index, "harvest": harvest, "sources": sources})


def _describe(exc: ValidationError, where: str) -> str:
    lines = []
    for error in exc.errors():
        lines.append(f"{where}: {_key_path(error['loc'])}: {error['msg']}")
    return "\n".join(lines)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
