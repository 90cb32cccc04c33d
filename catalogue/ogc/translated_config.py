"""pygeoapi's translated configuration, cached per configuration instead of per process.

pygeoapi renders every HTML page with ``l10n.translate_struct(config, locale, True)``, which
keeps the first configuration it translated for a locale in a module-level cache and returns it
for every later configuration. Once the index changes and the API is rebuilt, or when a second
app runs in the same process, pages would show the earlier configuration: its collections, its
server URL (and load their styles from there). :func:`install` replaces the function with one
that keeps a translation per configuration object.
"""

from __future__ import annotations

import threading
from typing import Any

from pygeoapi import l10n

_KEPT = 16  # configurations (one per index generation and app) times locales
_cache: dict[tuple[int, str], tuple[Any, Any]] = {}
_lock = threading.Lock()
_original = l10n.translate_struct


def translate_struct(struct: Any, locale_: Any, is_config: bool = False) -> Any:
    if not is_config or not struct or not locale_:
        return _original(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    with _lock:
        held = _cache.get(key)
        if held is not None and held[0] is struct:
            return held[1]
        l10n._cfg_cache.pop(locale_, None)  # make pygeoapi translate this configuration
        result = _original(struct, locale_, True)
        l10n._cfg_cache.pop(locale_, None)
        if len(_cache) >= _KEPT:
            _cache.clear()
        _cache[key] = (struct, result)  # the struct is held so that its id is not reused
        return result


def install() -> None:
    """Make pygeoapi use :func:`translate_struct` (once per process)."""
    l10n.translate_struct = translate_struct
