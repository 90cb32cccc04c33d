"""``index:`` keys of the search-engine backends (``backend: opensearch | elasticsearch``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalogue.errors import ConfigError

if TYPE_CHECKING:
    from catalogue.settings import IndexSettings


class EngineSettings(BaseModel):
    """Where the engine is and how the catalogue's indices are laid out on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = "http://127.0.0.1:9200"
    """One URL, or several separated by commas (the nodes of a cluster)."""
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    verify_certs: bool = True
    ca_certs: Path | None = None
    prefix: str = Field("catalogue", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Names of the aliases and physical indices start with it."""
    shards: int = Field(1, ge=1, le=1024)
    replicas: int = Field(0, ge=0, le=16)
    timeout: float = Field(30.0, gt=0)
    """Seconds per request (bulk and delete-by-query requests get ten times as long)."""
    batch_size: int = Field(5000, ge=1, le=100_000)
    """Records per ``_bulk`` request (at most)."""
    batch_bytes: int = Field(8_000_000, ge=10_000, le=100_000_000)
    """Bytes of documents per ``_bulk`` request (at most, give or take one document): large
    records make smaller batches. Engines refuse requests above ``http.max_content_length``
    (100 MB by default; less on some hosted services)."""
    query_timeout: float = Field(10.0, gt=0)
    """Seconds one search may take (``index.query_timeout``, shared with the other backends)."""

    def hosts(self) -> list[str]:
        return [u.strip() for u in self.url.split(",") if u.strip()]


def engine_settings(settings: IndexSettings) -> EngineSettings:
    """The engine keys of ``index:`` checked (``path`` belongs to SQLite and is ignored)."""
    raw = {**(settings.model_extra or {}), "query_timeout": settings.query_timeout}
    try:
        return EngineSettings.model_validate(raw)
    except ValidationError as exc:
        lines = [f"index.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
