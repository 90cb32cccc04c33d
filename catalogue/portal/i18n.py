"""Languages of the portal: German and English, chosen by a visible switch (a cookie) or the
browser's ``Accept-Language``; templates translated from Babel ``.po`` catalogues.

The ``.po`` files are the source of truth in git; they are compiled in memory when the portal
starts (no binary ``.mo`` files are kept), so a changed translation needs only a restart.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def load_translations(language: str, folder: Path = TRANSLATIONS_DIR) -> Translations:
    """Compile ``<folder>/<language>/LC_MESSAGES/messages.po`` in memory."""
    po_path = folder / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an ``Accept-Language`` header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The switch wins; then the first supported language the browser asks for."""
    if cookie in LANGUAGES:
        return cookie
    for tag in parse_accept_language(accept_language):
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


class Formatter:
    """Dates and numbers in the reader's locale."""

    def __init__(self, language: str) -> None:
        self.locale = Locale.parse(language)

    def number(self, value: float | int | None) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and not value.is_integer():
            return numbers.format_decimal(value, format="#,##0.##", locale=self.locale)
        return numbers.format_decimal(value, locale=self.locale)

    def date(self, value: str | None) -> str:
        """An ISO date or date-time as a date in words (the text itself when not ISO)."""
        parsed = _parse(value)
        if parsed is None:
            return value or ""
        return dates.format_date(parsed, format="medium", locale=self.locale)

    def datetime(self, value: str | None) -> str:
        parsed = _parse(value)
        if parsed is None:
            return value or ""
        if not isinstance(parsed, datetime):
            return dates.format_date(parsed, format="medium", locale=self.locale)
        return dates.format_datetime(
            parsed, format="medium", tzinfo=dates.get_timezone("Europe/Berlin"), locale=self.locale
        )


def _parse(value: str | None) -> date | datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
