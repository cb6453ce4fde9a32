"""What an alert tells an advocate, and how it reads in an email and in a webhook.

An alert may be read on a seized phone or in a hijacked mailbox, so it carries only what it
takes to open the case in the app: which alert, of what kind, on which case (by id), when it
fell due, a reason in notify's own words, and a link. Never a name, never text from the case.
Everything here is pure: the same message renders to the same bytes.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from contracts.alert_events import AlertKind

# Fixed for ever: delivery ids derived from it are what receivers dedupe on across restarts.
DELIVERY_NAMESPACE = UUID("64bb2e3a-d478-4ce2-8538-b698e0d1f578")
WEBHOOK_SCHEMA_VERSION = 1

KIND_LABELS: dict[AlertKind, str] = {
    AlertKind.REMINDER: "Inquiry due soon",
    AlertKind.OVERDUE: "Inquiry overdue",
    AlertKind.ESCALATION: "Inquiry overdue, escalated",
    AlertKind.FAMILY_SILENT: "No word from the family",
    AlertKind.REPRISAL_REPORTED: "Reprisal reported",
}

# A reason or account id with a line break could forge lines (a fake link) in the body.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_REASON_CHARS = 300  # contracts' ShortText


@dataclass(frozen=True)
class AlertMessage:
    """One alert for one advocate; `reason` is already free of personal data."""

    alert_id: UUID
    kind: str
    case_id: UUID
    inquiry_id: UUID | None
    due_at: datetime
    raised_at: datetime
    reason: str
    recipient: str  # the advocate's account id, never an address
    link: str | None = None  # the case page, built by the caller (see case_link)

    def __post_init__(self) -> None:
        AlertKind(self.kind)  # ValueError on a kind no renderer knows
        for name in ("due_at", "raised_at"):
            if getattr(self, name).utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if not self.recipient or _CONTROL.search(self.recipient):
            raise ValueError("recipient must be a non-empty account id on one line")
        if len(self.reason) > MAX_REASON_CHARS or _CONTROL.search(self.reason):
            raise ValueError(f"reason must be one line of at most {MAX_REASON_CHARS} characters")
        if self.link is not None and not re.fullmatch(r"https?://[^\s<>\"']+", self.link):
            raise ValueError("link must be an http(s) URL without spaces or quotes")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None = None


def delivery_id(alert_id: UUID, recipient: str) -> UUID:
    """The same for every attempt to bring one alert to one advocate, across restarts."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"alert:{alert_id}:recipient:{recipient}")


def case_reference(case_id: UUID) -> str:
    """A short handle for subjects: enough to tell cases apart in an inbox, nothing more."""
    return case_id.hex[:8]


def case_link(public_base_url: str, case_id: UUID) -> str:
    return f"{public_base_url.rstrip('/')}/cases/{case_id}"


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def email_subject(message: AlertMessage) -> str:
    label = KIND_LABELS[AlertKind(message.kind)]
    return f"[Casetracker] {label}: case {case_reference(message.case_id)}"


def render_email(message: AlertMessage) -> RenderedEmail:
    """Subject, plain text and a simple HTML part holding the same lines."""
    label = KIND_LABELS[AlertKind(message.kind)]
    facts = [("Case", case_reference(message.case_id))]
    if message.inquiry_id is not None:
        facts.append(("Inquiry", message.inquiry_id.hex[:8]))
    facts += [("Due", utc_text(message.due_at)), ("Raised", utc_text(message.raised_at))]
    closing = ("The details are in the case tracker only: sign in to see them. "
               "Please do not reply to this message.")
    text_lines = [f"{label}: {message.reason}", ""]
    text_lines += [f"{name}: {value}" for name, value in facts]
    if message.link:
        text_lines += ["", f"Open the case: {message.link}"]
    text_lines += ["", closing, "", f"Alert {message.alert_id}"]
    html_rows = "".join(f"<tr><th align=\"left\">{name}</th><td>{html.escape(value)}</td></tr>"
                        for name, value in facts)
    html_link = (f"<p><a href=\"{html.escape(message.link, quote=True)}\">Open the case</a></p>"
                 if message.link else "")
    html_body = (f"<!DOCTYPE html><html><body><p><strong>{html.escape(label)}</strong>: "
                 f"{html.escape(message.reason)}</p><table>{html_rows}</table>{html_link}"
                 f"<p>{html.escape(closing)}</p><p><small>Alert {message.alert_id}</small></p>"
                 "</body></html>")
    return RenderedEmail(email_subject(message), "\n".join(text_lines) + "\n", html_body)


def webhook_payload(message: AlertMessage) -> dict[str, object]:
    """The webhook's fields, in a fixed order (dicts keep insertion order)."""
    return {
        "schema_version": WEBHOOK_SCHEMA_VERSION,
        "delivery_id": str(delivery_id(message.alert_id, message.recipient)),
        "alert_id": str(message.alert_id),
        "kind": AlertKind(message.kind).value,
        "case_id": str(message.case_id),
        "inquiry_id": str(message.inquiry_id) if message.inquiry_id else None,
        "due_at": utc_iso(message.due_at),
        "raised_at": utc_iso(message.raised_at),
        "reason": message.reason,
        "recipient": message.recipient,
        "link": message.link,
    }


def webhook_body(message: AlertMessage) -> bytes:
    """The exact bytes that are signed and sent: compact, UTF-8, the same on every attempt."""
    return json.dumps(webhook_payload(message), separators=(",", ":"),
                      ensure_ascii=False).encode()
