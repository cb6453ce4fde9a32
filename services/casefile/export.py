"""A case as it may leave the NGO, for one audience. Pure: the rules of what goes out.

Only to an audience the family agreed to (the case's consent); without the parts a caseworker
marked never to be exported (ExportField); never the reporter's contact details, which only
the NGO needs. Institutions, dates and outcomes of inquiries go out: they are the case.
"""

from __future__ import annotations

from datetime import datetime

from contracts.sharing_events import ExportField, ShareDestination
from contracts.values import Consent
from services.casefile.projections import instant
from services.casefile.public import CaseDetail, CaseExport

_SUBJECT = {
    "name": ExportField.SUBJECT_NAME,
    "other_names": ExportField.SUBJECT_OTHER_NAMES,
    "date_of_birth": ExportField.SUBJECT_DATE_OF_BIRTH,
    "identity_documents": ExportField.SUBJECT_IDENTITY_DOCUMENTS,
    "last_known_place": ExportField.SUBJECT_LAST_KNOWN_PLACE,
}
_INQUIRY = ("recipient_name", "recipient_kind", "recipient_country", "channel", "sent_at",
            "state", "answered_at", "classification", "follow_ups")


class NotConsented(Exception):
    """The family has not agreed to share the case with this audience."""


def consented(detail: CaseDetail, destination: ShareDestination) -> bool:
    return destination.consented(Consent(**detail.consent))


def export_case(detail: CaseDetail, destination: ShareDestination, now: datetime) -> CaseExport:
    """The export of a case the reader may read, already decrypted for them."""
    if not consented(detail, destination):
        raise NotConsented(destination)
    never = {ExportField(f) for f in detail.never_export}
    withheld = sorted(f.value for f in never)
    subject = {key: value for key, value in (detail.subject or {}).items()
               if _SUBJECT.get(key) not in never}
    reporter = None
    if detail.reporter and ExportField.REPORTER not in never:
        reporter = {"name": detail.reporter.get("name"),
                    "relationship": detail.reporter.get("relationship")}
    lost = ExportField.CONTACT_LOST not in never
    return CaseExport(
        case_id=detail.case_id, destination=destination.value, exported_at=instant(now),
        subject=subject, status=detail.status, subject_status=detail.subject_status,
        reporter=reporter,
        summary=detail.summary if ExportField.SUMMARY not in never else None,
        last_contact_at=detail.last_contact_at if lost else None,
        contact_state=detail.contact_state if lost else None,
        inquiries=[{key: getattr(i, key) for key in _INQUIRY} for i in detail.inquiries],
        latest_information=(detail.latest_information.model_dump(mode="json")
                            if detail.latest_information and ExportField.INFORMATION not in never
                            else None),
        threats=([t.model_dump(mode="json") for t in detail.threats]
                 if ExportField.THREATS not in never else None),
        withheld=withheld,
    )
