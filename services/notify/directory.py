"""Who the advocates are and how each wants alerts: the directory, read from a TOML file.

Until accounts exist, the directory is data the NGO keeps (ADVOCATES_FILE): each advocate's
account, whether they supervise, and where their alerts go. Its addresses are personal data
of people at risk themselves, so they are read from the file when needed, never put on the
log or in logs: events name accounts only. An account not in the file still gets every alert
in its in-app inbox.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.alert_events import DeliveryChannel


class DirectoryError(ValueError):
    """The directory file cannot be used; the message names the entry and field."""


class Advocate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str = Field(min_length=1, max_length=100)
    role: Literal["caseworker", "supervisor"] = "caseworker"
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    webhook: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)

    def addresses(self) -> dict[DeliveryChannel, str]:
        found = {DeliveryChannel.EMAIL: self.email, DeliveryChannel.WEBHOOK: self.webhook}
        return {channel: address for channel, address in found.items() if address}


@dataclass(frozen=True)
class Directory:
    advocates: dict[str, Advocate] = field(default_factory=dict)

    def supervisors(self) -> list[str]:
        return sorted(a.account for a in self.advocates.values() if a.role == "supervisor")

    def address(self, account: str, channel: DeliveryChannel) -> str | None:
        advocate = self.advocates.get(account)
        return advocate.addresses().get(channel) if advocate else None

    def channels_of(self, account: str) -> list[DeliveryChannel]:
        advocate = self.advocates.get(account)
        return sorted(advocate.addresses()) if advocate else []


def load_directory(path: Path | None) -> Directory:
    """The directory in the file, or an empty one (inbox only) when no file is configured."""
    if path is None:
        return Directory()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{path}: not valid TOML ({exc})") from None
    advocates: dict[str, Advocate] = {}
    for number, entry in enumerate(document.get("advocate", []), start=1):
        try:
            advocate = Advocate.model_validate(entry)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise DirectoryError(f"{path}: advocate #{number}: invalid {fields}") from None
        if advocate.account in advocates:
            raise DirectoryError(f"{path}: advocate {advocate.account} is listed twice")
        advocates[advocate.account] = advocate
    return Directory(advocates)
