"""Decisions on what is learnt of the person and the family: report, contact, status, reprisals."""

from __future__ import annotations

from contracts.case_events import (
    ContactLost,
    ContactLostData,
    ContactRestored,
    ContactRestoredData,
    FamilyCheckedIn,
    FamilyCheckedInData,
    InformationReceived,
    InformationReceivedData,
    LastContact,
    PublicActionTaken,
    PublicActionTakenData,
    ReportReceived,
    ReportReceivedData,
    StatusChanged,
    StatusChangedData,
    ThreatReported,
    ThreatReportedData,
)
from contracts.partial_dates import DAY, INSTANT, precision
from contracts.sharing_events import (
    ConsentChanged,
    ConsentChangedData,
    ExportRestrictionsSet,
    ExportRestrictionsSetData,
    ShareDestination,
)
from services.intake.commands import (
    ChangeConsent,
    RecordContactLost,
    RecordContactRestored,
    RecordFamilyCheckIn,
    RecordInformation,
    RecordPublicAction,
    RecordStatusChange,
    ReportCase,
    ReportThreat,
    RestrictExport,
)
from services.intake.decisions import (
    CaseState,
    Context,
    InvalidCommand,
    RuleViolated,
    not_in_future,
)

# A public action takes the case before these audiences: the family must have agreed to it.
PUBLIC_AUDIENCE = {
    "un_submission": ShareDestination.UN_BODIES,
    "media": ShareDestination.MEDIA,
    "social_media": ShareDestination.MEDIA,
    "protest": ShareDestination.MEDIA,
    "petition": ShareDestination.MEDIA,
}


def open_case(command: ReportCase, ctx: Context) -> ReportReceived:
    reported_at = not_in_future(command.reported_at or ctx.today(), "reported_at", ctx.now)
    if command.subject.date_of_birth is not None:
        not_in_future(command.subject.date_of_birth, "subject.date_of_birth", ctx.now)
    return ctx.event(
        ReportReceived,
        None,
        reported_at,
        ReportReceivedData(
            subject=command.subject,
            reporter=command.reporter,
            summary=command.summary,
            consent=command.consent,
            team=ctx.team,
        ),
    )


def record_contact_lost(case: CaseState, command: RecordContactLost, ctx: Context) -> ContactLost:
    not_in_future(command.last_contact_at, "last_contact_at", ctx.now)
    return ctx.event(
        ContactLost,
        case,
        command.last_contact_at,
        ContactLostData(
            last_contact=LastContact(
                at=command.last_contact_at, channel=command.channel,
                place=command.last_contact_place,
            ),
            circumstances=command.circumstances,
        ),
    )


def record_contact_restored(
    case: CaseState, command: RecordContactRestored, ctx: Context
) -> ContactRestored:
    not_in_future(command.restored_at, "restored_at", ctx.now)
    return ctx.event(
        ContactRestored,
        case,
        command.restored_at,
        ContactRestoredData(
            restored_at=command.restored_at,
            channel=command.channel,
            circumstances=command.circumstances,
        ),
    )


def record_family_check_in(
    case: CaseState, command: RecordFamilyCheckIn, ctx: Context
) -> FamilyCheckedIn:
    # Notify counts the family's silence in days from the last check-in; from "2025-02" it
    # could only guess the day, and a guess late in the month would hide a silence.
    if precision(command.checked_in_at) not in (DAY, INSTANT):
        raise InvalidCommand(
            ("body", "checked_in_at"), "checked_in_at must give at least the day (YYYY-MM-DD)"
        )
    not_in_future(command.checked_in_at, "checked_in_at", ctx.now)
    return ctx.event(
        FamilyCheckedIn,
        case,
        command.checked_in_at,
        FamilyCheckedInData(
            checked_in_at=command.checked_in_at, channel=command.channel, note=command.note
        ),
    )


def record_information(
    case: CaseState, command: RecordInformation, ctx: Context
) -> InformationReceived:
    not_in_future(command.received_at, "received_at", ctx.now)
    return ctx.event(
        InformationReceived,
        case,
        command.received_at,
        InformationReceivedData(
            received_at=command.received_at,
            source=command.source,
            reliability=command.reliability,
            content=command.content,
        ),
    )


def record_status_change(
    case: CaseState, command: RecordStatusChange, ctx: Context
) -> StatusChanged:
    not_in_future(command.effective_at, "effective_at", ctx.now)
    return ctx.event(
        StatusChanged,
        case,
        command.effective_at,
        StatusChangedData(
            status=command.status, effective_at=command.effective_at, source=command.source
        ),
    )


def report_threat(case: CaseState, command: ReportThreat, ctx: Context) -> ThreatReported:
    not_in_future(command.happened_at, "happened_at", ctx.now)
    return ctx.event(
        ThreatReported,
        case,
        command.happened_at,
        ThreatReportedData(
            target=command.target,
            kind=command.kind,
            happened_at=command.happened_at,
            description=command.description,
        ),
    )


def record_public_action(
    case: CaseState, command: RecordPublicAction, ctx: Context
) -> PublicActionTaken:
    not_in_future(command.taken_at, "taken_at", ctx.now)
    audience = PUBLIC_AUDIENCE.get(command.kind.value)
    if audience is not None and case.consent is not None and not audience.consented(case.consent):
        raise RuleViolated("consent_missing", f"the family has not agreed to share the case with "
                                              f"{audience.value.replace('_', ' ')} "
                                              f"(consent.share_with_{audience.value})")
    return ctx.event(
        PublicActionTaken,
        case,
        command.taken_at,
        PublicActionTakenData(
            kind=command.kind,
            taken_at=command.taken_at,
            description=command.description,
            reference=command.reference,
        ),
    )


def change_consent(case: CaseState, command: ChangeConsent, ctx: Context) -> ConsentChanged:
    return ctx.event(ConsentChanged, case, ctx.today(), ConsentChangedData(consent=command.consent))


def restrict_export(
    case: CaseState, command: RestrictExport, ctx: Context
) -> ExportRestrictionsSet:
    return ctx.event(ExportRestrictionsSet, case, ctx.today(), ExportRestrictionsSetData(
        never_export=command.never_export, reason=command.reason))
