"""The web app's texts and their translations stay in step with its code."""

from __future__ import annotations

import io

import pytest
from babel.messages.pofile import read_po, write_po

from services.web.i18n import load_languages
from services.web.messages import POT, template

LANGUAGE_FILES = sorted(POT.parent.glob("*.po"))


def test_the_committed_template_lists_every_text_the_pages_can_show():
    made = io.BytesIO()
    write_po(made, template(), width=100, omit_header=True, sort_output=True)
    assert made.getvalue().decode() == POT.read_text(encoding="utf-8"), (
        "messages.pot is out of step with the code: run `make messages`")


def test_russian_is_there():
    assert "ru" in {path.stem for path in LANGUAGE_FILES}


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_each_language_translates_every_text(path):
    with POT.open("rb") as file:
        wanted = {m.id for m in read_po(file) if m.id}
    with path.open("rb") as file:
        catalog = read_po(file)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert not sorted(wanted - translated), f"{path.name} misses these (run `make messages`)"
    assert catalog.locale is not None and catalog.plural_forms, "its header names the language"


def test_the_translations_load_as_the_app_loads_them():
    languages = load_languages(POT.parent)
    assert languages["ru"].gettext("Today") == "Сегодня"
    assert languages["ru"].gettext("Overdue inquiries") == "Просроченные запросы"
