"""Languages: one gettext catalogue per language, `translations/LANG.po`, read as it is.

English is the source language (the msgids). A translator adds a language by copying
`messages.pot` to `kk.po`, say, and filling in its msgstr lines: no code changes, no build
step. A message left untranslated (or marked fuzzy) shows in English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

SOURCE_LANGUAGE = "en"
LANGUAGE_COOKIE = "ct_lang"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself, for the menu
    messages: dict[str, str]

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message


def load_languages(directory: Path) -> dict[str, Language]:
    languages = {SOURCE_LANGUAGE: Language(SOURCE_LANGUAGE, "English", {})}
    for path in sorted(directory.glob("*.po")):
        with path.open("rb") as file:
            catalog = read_po(file, locale=None)
        messages = {m.id: m.string for m in catalog
                    if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
        languages[path.stem] = Language(path.stem, _native_name(path.stem), messages)
    return languages


def _native_name(code: str) -> str:
    try:
        return Locale.parse(code).get_display_name(code).capitalize()
    except (UnknownLocaleError, ValueError):
        return code


def choose(available: dict[str, Language], *, chosen: str | None, accept_language: str,
           default: str) -> Language:
    """The language a person picked (cookie), else the first their browser asks for that we
    have, else the default."""
    if chosen in available:
        return available[chosen]
    for code in _preferences(accept_language):
        for candidate in (code, code.split("-")[0]):
            if candidate in available:
                return available[candidate]
    return available.get(default) or available[SOURCE_LANGUAGE]


def _preferences(header: str) -> list[str]:
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code and code != "*" and quality > 0:
            ranked.append((-quality, position, code.lower()))
    return [code for _, _, code in sorted(ranked)]


Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks a text for the catalogue where it is defined; it is translated where shown."""
    return message
