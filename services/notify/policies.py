"""Deadline policies: the NGO's own response windows per kind of recipient, as versioned data.

Embassies and ministries have no duty to answer, so the NGO decides how long to wait before
an inquiry counts as unanswered. Policies live in a TOML file (services/notify/
deadline_policies.toml by default, DEADLINE_POLICIES_FILE otherwise), each with an `id` and a
`version`: a changed policy gets a new version, and notify recomputes the open deadlines it
governs, recording each change as deadline_recalculated.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from contracts.alert_events import DayKind
from contracts.values import Channel, RecipientKind
from services.notify.calendars import is_known

BUNDLED = Path(__file__).with_name("deadline_policies.toml")

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
CalendarCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]


class PolicyFileError(ValueError):
    """The policy file cannot be used; the message names the file, the policy and the field."""


class Policy(BaseModel):
    """One response window. Unset match fields match anything; the most specific policy wins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")]
    version: int = Field(ge=1)
    description: str = ""
    recipient_kind: RecipientKind | None = None
    country: Country | None = None
    channel: Channel | None = None
    window: int = Field(ge=1, le=3650, description="Days the institution is given to answer.")
    days: DayKind = DayKind.CALENDAR
    calendar: CalendarCode | None = Field(
        default=None, description="Whose holidays business days skip: a country, or a country "
                                  "and subdivision (CH-GE for UN bodies in Geneva); the "
                                  "recipient's country if unset.")
    remind_before: int | None = Field(default=None, ge=1, le=365,
                                      description="Days before the deadline to remind.")
    escalate_after: int | None = Field(default=None, ge=1, le=3650,
                                       description="Days after the deadline to escalate.")

    @property
    def label(self) -> str:
        return f"{self.id}-v{self.version}"

    @property
    def specificity(self) -> int:
        """Kind outweighs country, which outweighs channel, so ties cannot happen."""
        return (4 * (self.recipient_kind is not None) + 2 * (self.country is not None)
                + (self.channel is not None))

    def matches(self, kind: str, country: str, channel: str) -> bool:
        return ((self.recipient_kind is None or self.recipient_kind == kind)
                and (self.country is None or self.country == country)
                and (self.channel is None or self.channel == channel))

    def digest(self) -> str:
        """What the policy says, so a change without a new version can be caught."""
        content = self.model_dump(mode="json", exclude={"description"})
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PolicyBook:
    policies: tuple[Policy, ...]

    def select(self, kind: str, country: str, channel: str) -> Policy:
        """The most specific policy matching the inquiry; the book always has a catch-all."""
        matching = [p for p in self.policies if p.matches(kind, country, channel)]
        return max(matching, key=lambda p: p.specificity)

    def digests(self) -> dict[str, str]:
        return {p.label: p.digest() for p in self.policies}


def load_policies(path: Path | None = None) -> PolicyBook:
    path = path or BUNDLED
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path}: not valid TOML ({exc})") from None
    return parse_policies(document, source=str(path))


def parse_policies(document: dict, *, source: str = "policies") -> PolicyBook:
    entries = document.get("policy")
    if not isinstance(entries, list) or not entries:
        raise PolicyFileError(f"{source}: no [[policy]] entries")
    policies = []
    for number, entry in enumerate(entries, start=1):
        name = entry.get("id", f"#{number}") if isinstance(entry, dict) else f"#{number}"
        try:
            policies.append(Policy.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'policy'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise PolicyFileError(f"{source}: policy {name}: {problems}") from None
    _check_book(policies, source)
    return PolicyBook(tuple(policies))


def _check_book(policies: list[Policy], source: str) -> None:
    ids = [p.id for p in policies]
    if duplicate := next((i for i in ids if ids.count(i) > 1), None):
        raise PolicyFileError(f"{source}: policy {duplicate} is defined twice")
    scopes: dict[tuple, str] = {}
    for policy in policies:
        scope = (policy.recipient_kind, policy.country, policy.channel)
        if scope in scopes:
            raise PolicyFileError(
                f"{source}: policies {scopes[scope]} and {policy.id} apply to the same inquiries")
        scopes[scope] = policy.id
    for policy in policies:
        if policy.calendar is not None and not is_known(policy.calendar):
            raise PolicyFileError(
                f"{source}: policy {policy.id}: calendar {policy.calendar} is not known to the "
                "holidays package")
    if (None, None, None) not in scopes:
        raise PolicyFileError(
            f"{source}: no catch-all policy (one without recipient_kind, country or channel), "
            "so some inquiries would have no deadline")
