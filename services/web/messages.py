"""The web app's message catalogue: `python -m services.web.messages` (or `make messages`)
writes `translations/messages.pot` with every text a page can show, and adds the new ones to
each language's `.po` file (keeping what translators wrote).

The texts come from the templates (`_("...")`), from Python marked with `N_("...")`, from the
forms' labels, hints and choices, and from the events' own names: a timeline shows each
event's type and data fields through `label()`, so those are messages too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services.web.forms import FORMS, choice_label
from services.web.today import SECTIONS, SET_ASIDE

HERE = Path(__file__).parent
SCHEMAS = HERE.parent.parent / "contracts" / "schemas"
POT = HERE / "translations" / "messages.pot"
KEYWORDS = {"_": None, "N_": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
# Words the services answer with that pages show through label(): states, roles, streams.
SERVICE_WORDS = (
    "awaiting_report", "open", "closed", "lost", "restored", "awaiting", "paused", "overdue",
    "answered", "withdrawn", "snoozed", "acknowledged", "all", "case", "alert", "year", "month",
    "day", "instant", "caseworker", "supervisor", "auditor", "admin", "timeline",
    "verification", "export", "case_list", "reminder", "escalation", "family_silent",
    "reprisal_reported", "share_with_un_bodies", "share_with_media", "share_with_partner_ngos",
)


def messages() -> Iterator[tuple[str, str]]:
    """(message, where it comes from), every one a page may show."""
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            HERE, METHODS, keywords=KEYWORDS, comment_tags=()):
        if isinstance(message, str) and message:
            yield message, filename
    for form in FORMS.values():
        yield form.title, f"forms:{form.slug}"
        for field in form.fields:
            for text in (field.label, field.hint, field.group):
                if text:
                    yield text, f"forms:{form.slug}"
            for choice in field.choices:
                yield choice_label(choice), f"forms:{form.slug}"
    for _key, title, _kinds in SECTIONS:
        yield title, "today"
    yield SET_ASIDE, "today"
    for word in SERVICE_WORDS:
        yield choice_label(word), "services"
    for path in sorted(SCHEMAS.glob("*.json")):
        yield choice_label(path.name.split(".")[0]), f"schemas:{path.name}"
        for word in _data_words(json.loads(path.read_text())):
            yield choice_label(word), f"schemas:{path.name}"


def enum_values(schemas: Path = SCHEMAS) -> frozenset[str]:
    """The coded values events carry (statuses, kinds, channels...): a timeline shows them
    translated, and only them (a free text that happens to match a word is left as typed)."""
    values: set[str] = set()
    for path in schemas.glob("*.json"):
        values |= set(_data_words(json.loads(path.read_text()), keys=False))
    return frozenset(values)


def _data_words(schema: dict, *, keys: bool = True) -> Iterator[str]:
    """The field names and enum values of an event's data (its $defs), not its envelope."""
    def walk(node):
        if isinstance(node, dict):
            if keys:
                yield from node.get("properties", {}).keys()
            yield from (v for v in node.get("enum", ()) if isinstance(v, str))
            for child in node.values():
                yield from walk(child)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child)

    yield from walk(schema.get("$defs", {}))


def template() -> Catalog:
    catalog = Catalog(project="casetracker-web", fuzzy=False)
    for message, where in sorted(set(messages())):
        existing = catalog.get(message)
        if existing is None:
            catalog.add(message, locations=[(where, None)])
        else:
            existing.locations.append((where, None))
    return catalog


def write(catalog: Catalog, path: Path, *, header: bool = False) -> None:
    """The template without a header (it would only carry today's date); a language's file
    with its own (its Language and Plural-Forms)."""
    with path.open("wb") as file:
        write_po(file, catalog, width=100, omit_header=not header, sort_output=True,
                 ignore_obsolete=True)


def main() -> None:
    pot = template()
    write(pot, POT)
    for path in sorted(POT.parent.glob("*.po")):
        with path.open("rb") as file:
            translated = read_po(file, locale=path.stem)
        translated.update(pot, no_fuzzy_matching=True, update_header_comment=False,
                          update_creation_date=False)
        write(translated, path, header=True)
        missing = [m.id for m in translated if m.id and not m.string]
        print(f"{path.name}: {len(missing)} of {len(pot)} messages untranslated")
    print(f"{POT}: {len(pot)} messages")


if __name__ == "__main__":
    main()
