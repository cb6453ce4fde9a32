"""Every event a caseworker records through the web app, as a form: its fields, where intake
takes it, and how a submitted form becomes intake's request body.

The forms shape what was typed; intake alone validates it (its 422 names the field, and the
page shows the message beside that field), so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from contracts.case_events import (
    PublicActionKind,
    Reliability,
    SubjectStatus,
    ThreatKind,
    ThreatTarget,
)
from contracts.casework_events import CaseOutcome
from contracts.inquiry_events import ResponseClassification
from contracts.values import (
    Channel,
    ContactChannel,
    IdentityDocumentKind,
    NameKind,
    RecipientKind,
)
from services.web.i18n import N_

Kind = Literal["text", "textarea", "partial_date", "date", "datetime", "select", "checkbox",
               "number", "list"]
PARTIAL_DATE_HINT = "A year, a month or a day: 2017, 2017-05 or 2017-05-14"
OTHER_NAME_ROWS = 3  # the report form offers this many rows for names in other scripts


@dataclass(frozen=True)
class Field:
    name: str  # the body's path, dotted: "subject.other_names.0.value"
    label: str  # English; the msgid of its translation
    kind: Kind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    hint: str | None = None
    group: str | None = None  # a fieldset's legend

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass(frozen=True)
class EventForm:
    slug: str  # in the page's URL
    title: str
    path: str  # intake's, with {case_id} and {inquiry_id}
    fields: tuple[Field, ...]
    scope: Literal["new", "case", "inquiry"] = "case"
    fixed: Mapping[str, Any] = field(default_factory=dict)  # sent whatever was typed

    def intake_path(self, case_id: str | None = None, inquiry_id: str | None = None) -> str:
        return self.path.format(case_id=case_id, inquiry_id=inquiry_id)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def choice_label(value: str) -> str:
    """The English label of an enum value ('in_camp' -> 'in camp'): the msgid translated."""
    return value.replace("_", " ")


def _other_names() -> tuple[Field, ...]:
    rows = []
    for i in range(OTHER_NAME_ROWS):
        rows += [Field(f"subject.other_names.{i}.value", "Name", group="Other names"),
                 Field(f"subject.other_names.{i}.kind", "Script or kind", "select",
                       choices=_choices(NameKind), group="Other names")]
    return tuple(rows)


REPORT = EventForm("report", "New case from a report", "/cases", scope="new", fields=(
    Field("subject.name", "Name, as the family gives it", required=True, group="Subject"),
    *_other_names(),
    Field("subject.date_of_birth", "Date of birth", "partial_date", hint=PARTIAL_DATE_HINT,
          group="Birth, citizenship and documents"),
    Field("subject.citizenships", "Citizenships", "list",
          hint="Two-letter country codes, separated by commas: CN, KZ", group="Birth, citizenship and documents"),
    Field("subject.identity_documents.0.kind", "Identity document", "select",
          choices=_choices(IdentityDocumentKind), group="Birth, citizenship and documents"),
    Field("subject.identity_documents.0.number", "Document number", group="Birth, citizenship and documents"),
    Field("subject.identity_documents.0.issuing_country", "Issuing country",
          hint="Two-letter code", group="Birth, citizenship and documents"),
    Field("subject.last_known_place", "Last known place", group="Birth, citizenship and documents"),
    Field("reporter.name", "Reporter's name", required=True, group="Reporter"),
    Field("reporter.relationship", "Relationship to the subject", required=True,
          group="Reporter"),
    Field("reporter.contact.phone", "Phone", group="Reporter"),
    Field("reporter.contact.email", "E-mail", group="Reporter"),
    Field("reporter.contact.messenger", "Messenger and handle", group="Reporter"),
    Field("summary", "What happened", "textarea", required=True),
    Field("reported_at", "Reported on", "partial_date", hint="Today if left empty"),
    Field("consent.share_with_un_bodies", "The family agrees to share with UN bodies",
          "checkbox", group="Consent"),
    Field("consent.share_with_media", "The family agrees to share with the media", "checkbox",
          group="Consent"),
    Field("consent.share_with_partner_ngos", "The family agrees to share with partner NGOs",
          "checkbox", group="Consent"),
))

CASE_FORMS = (
    EventForm("contact-lost", "Contact lost", "/cases/{case_id}/contact-lost", fields=(
        Field("last_contact_at", "Last heard from", "partial_date", required=True,
              hint=PARTIAL_DATE_HINT),
        Field("channel", "How", "select", choices=_choices(ContactChannel)),
        Field("last_contact_place", "Where"),
        Field("circumstances", "Circumstances", "textarea", required=True),
    )),
    EventForm("contact-restored", "Contact restored", "/cases/{case_id}/contact-restored",
              fields=(
        Field("restored_at", "In touch again on", "partial_date", required=True,
              hint=PARTIAL_DATE_HINT),
        Field("channel", "How", "select", choices=_choices(ContactChannel)),
        Field("circumstances", "Circumstances", "textarea", required=True),
    )),
    EventForm("family-check-in", "Heard from the family", "/cases/{case_id}/family-check-ins",
              fields=(
        Field("checked_in_at", "When", "partial_date", required=True,
              hint="A day (2025-02-28) or an exact moment"),
        Field("channel", "How", "select", choices=_choices(ContactChannel)),
        Field("note", "Note", "textarea"),
    )),
    EventForm("information", "Information received", "/cases/{case_id}/information", fields=(
        Field("received_at", "Received", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("source", "Source", required=True),
        Field("reliability", "Reliability", "select", required=True,
              choices=_choices(Reliability)),
        Field("content", "What was said", "textarea", required=True),
    )),
    EventForm("status", "Status change", "/cases/{case_id}/status", fields=(
        Field("status", "New status", "select", required=True, choices=_choices(SubjectStatus)),
        Field("effective_at", "Since", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("source", "Source", required=True),
    )),
    EventForm("inquiry", "Inquiry sent", "/cases/{case_id}/inquiries", fields=(
        Field("recipient.name", "Institution", required=True, group="Recipient"),
        Field("recipient.kind", "Kind of institution", "select", required=True,
              choices=_choices(RecipientKind), group="Recipient"),
        Field("recipient.country", "Country", required=True, hint="Two-letter code: CN",
              group="Recipient"),
        Field("channel", "Sent by", "select", required=True, choices=_choices(Channel)),
        Field("sent_at", "Sent on", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("reference", "Reference"),
        Field("due_at", "Answer due (UTC)", "datetime",
              hint="Leave empty to let the deadline policy set it"),
    )),
    EventForm("threat", "Threat or reprisal", "/cases/{case_id}/threats", fields=(
        Field("target", "Against", "select", required=True, choices=_choices(ThreatTarget)),
        Field("kind", "What", "select", required=True, choices=_choices(ThreatKind)),
        Field("happened_at", "When", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("description", "Description", "textarea", required=True),
    )),
    EventForm("public-action", "Public action", "/cases/{case_id}/public-actions", fields=(
        Field("kind", "Kind", "select", required=True, choices=_choices(PublicActionKind)),
        Field("taken_at", "When", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("reference", "Reference"),
        Field("description", "Description", "textarea", required=True),
    )),
    EventForm("note", "Note", "/cases/{case_id}/notes", fields=(
        Field("text", "Note", "textarea", required=True),
    )),
    EventForm("evidence", "Evidence (metadata only)", "/cases/{case_id}/evidence", fields=(
        Field("file_name", "File name", required=True),
        Field("media_type", "Media type", required=True, hint="e.g. application/pdf"),
        Field("size_bytes", "Size in bytes", "number", required=True),
        Field("sha256", "SHA-256 of the file", required=True,
              hint="64 hexadecimal characters; the file itself is never stored here"),
        Field("description", "Description", "textarea"),
    )),
    EventForm("consent", "Consent", "/cases/{case_id}/consent", fields=(
        Field("consent.share_with_un_bodies", "The family agrees to share with UN bodies",
              "checkbox"),
        Field("consent.share_with_media", "The family agrees to share with the media",
              "checkbox"),
        Field("consent.share_with_partner_ngos", "The family agrees to share with partner NGOs",
              "checkbox"),
    )),
    EventForm("assignment", "Assign", "/cases/{case_id}/assignment", fields=(
        Field("assignee", "Caseworker's account", required=True),
    )),
    EventForm("closure", "Close the case", "/cases/{case_id}/closure", fields=(
        Field("outcome", "Outcome", "select", required=True, choices=_choices(CaseOutcome)),
        Field("note", "Note", "textarea"),
    )),
    EventForm("reopening", "Reopen the case", "/cases/{case_id}/reopening", fields=(
        Field("reason", "Why", "textarea", required=True),
    )),
)

INQUIRY_FORMS = (
    EventForm("follow-up", "Follow-up sent",
              "/cases/{case_id}/inquiries/{inquiry_id}/follow-ups", scope="inquiry", fields=(
        Field("channel", "Sent by", "select", required=True, choices=_choices(Channel)),
        Field("sent_at", "Sent on", "partial_date", required=True, hint=PARTIAL_DATE_HINT),
        Field("reference", "Reference"),
    )),
    EventForm("response", "Response received",
              "/cases/{case_id}/inquiries/{inquiry_id}/responses", scope="inquiry", fields=(
        Field("received_at", "Received on", "partial_date", required=True,
              hint=PARTIAL_DATE_HINT),
        Field("classification", "Kind of answer", "select",
              choices=_choices(ResponseClassification)),
        Field("summary", "What it says", "textarea", required=True),
    )),
    EventForm("deadline-extension", "Extend the deadline",
              "/cases/{case_id}/inquiries/{inquiry_id}/deadline-extension", scope="inquiry",
              fields=(
        Field("due_at", "New deadline (UTC)", "datetime", required=True),
        Field("reason", "Why", "textarea"),
    )),
    EventForm("pause", "Pause the deadline", "/cases/{case_id}/inquiries/{inquiry_id}/pause",
              scope="inquiry", fields=(
        Field("paused_on", "First day not counted", "date", hint="Today if left empty"),
        Field("reason", "Why", "textarea"),
    )),
    EventForm("resumption", "Resume the deadline",
              "/cases/{case_id}/inquiries/{inquiry_id}/resumption", scope="inquiry", fields=(
        Field("resumed_on", "First day counted again", "date", hint="Today if left empty"),
    )),
    EventForm("withdrawal", "Withdraw the inquiry",
              "/cases/{case_id}/inquiries/{inquiry_id}/withdrawal", scope="inquiry", fields=(
        Field("withdrawn_at", "Withdrawn on", "partial_date", hint="Today if left empty"),
        Field("reason", "Why", "textarea"),
    )),
)

FORMS = {form.slug: form for form in (REPORT, *CASE_FORMS, *INQUIRY_FORMS)}


def request_body(form: EventForm, submitted: Mapping[str, str]) -> dict[str, Any]:
    """What was typed, as intake's JSON body: empty fields left out (intake's defaults apply),
    rows of a list kept only when something was typed in them, checkboxes as booleans."""
    body: dict[str, Any] = dict(form.fixed)
    for f in form.fields:
        raw = submitted.get(f.name, "")
        if f.kind == "checkbox":
            value: Any = raw in ("on", "true", "1")
        else:
            raw = raw.strip()
            if not raw:
                continue
            value = _typed(f.kind, raw)
        _put(body, f.name.split("."), value)
    return _lists(_drop_partial_rows(body, form))


def _typed(kind: Kind, raw: str) -> Any:
    if kind == "number":
        try:
            return int(raw)
        except ValueError:
            return raw  # intake names the field and says it wants a whole number
    if kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if kind == "datetime" and len(raw) in (16, 19):  # a browser's datetime-local, read as UTC
        return raw + ("Z" if len(raw) == 19 else ":00Z")
    return raw


def _put(body: dict[str, Any], path: list[str], value: Any) -> None:
    node = body
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _drop_partial_rows(body: dict[str, Any], form: EventForm) -> dict[str, Any]:
    """A row of 'other names' with only its script chosen (a select always sends something
    once touched) is no name: rows count when a text in them was typed."""
    texts = {f.name for f in form.fields if f.kind != "select"}

    def typed(row: Mapping[str, Any], prefix: str) -> bool:
        return any(f"{prefix}.{key}" in texts for key in row)

    def walk(node: Any, prefix: str) -> Any:
        if not isinstance(node, dict):
            return node
        out = {}
        for key, child in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if key.isdigit() and isinstance(child, dict) and not typed(child, path):
                continue
            out[key] = walk(child, path)
        return out

    return walk(body, "")


def _lists(node: Any) -> Any:
    """{"0": a, "1": b} -> [a, b]: rows of a repeated part of the body."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(child) for key, child in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return {key: child for key, child in converted.items() if child != {}}


# intake's messages are English; the commonest kinds of error get a text of the catalogue,
# every other shows as intake wrote it.
ERROR_TEXTS = {
    "missing": N_("Required: fill this in."),
    "string_too_short": N_("Required: fill this in."),
    "string_too_long": N_("Too long."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Enter a whole number."),
    "greater_than_equal": N_("Too small."),
    "less_than_equal": N_("Too large."),
    "string_pattern_mismatch": N_("Not in the form asked for: see the hint."),
    "list_too_long": N_("Too many."),
}


def errors_by_field(form: EventForm, detail: Any) -> tuple[dict[str, str], list[str]]:
    """intake's 422 detail -> (message per form field, messages about the whole form)."""
    names = [f.name for f in form.fields]  # in the form's order: the first field of a part
    beside: dict[str, str] = {}
    general: list[str] = []
    for error in detail if isinstance(detail, list) else [{"msg": str(detail)}]:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "header")]
        message = ERROR_TEXTS.get(error.get("type", ""), str(error.get("msg", "invalid")))
        target = _nearest(names, loc)
        if target is None:
            general.append(f"{'.'.join(loc)}: {message}" if loc else message)
        else:
            beside.setdefault(target, message)
    return beside, general


def _nearest(names: Iterable[str], loc: list[str]) -> str | None:
    """The form field the error is about: the field itself, or the first field inside the
    part of the body it names (an error about 'subject' goes beside the subject's name)."""
    path = ".".join(loc)
    if not path:
        return None
    names = list(names)
    if path in names:
        return path
    inside = [name for name in names if name.startswith(path + ".")]
    if inside:
        return inside[0]
    for cut in range(len(loc) - 1, 0, -1):
        if (shorter := ".".join(loc[:cut])) in names:
            return shorter
    return None
