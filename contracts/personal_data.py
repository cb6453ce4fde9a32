"""Personal data inside events: encrypted field by field, with a data key of the case's own.

Names, contact details, identity numbers, places and free text are personal: a field holding
them is declared `personal(SomeText)`. A command carries such a field in plain text; intake
encrypts it before the event is sealed into its hash chain, so the log, every store and every
backup hold only `enc:1:<base64url(nonce | AES-256-GCM ciphertext)>`. The key is the case's
(contracts.keystore): destroying it erases every personal field of the case at once
(crypto-shredding), while the events, their hashes and the rest of the history stay intact
and verifiable.

Events recorded before encryption existed hold plain text; they are read as recorded.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, core_schema

ENCRYPTED_PREFIX = "enc:1:"
"""What every encrypted field starts with: the scheme, version 1 (AES-256-GCM, 96-bit nonce)."""

ERASED = "[erased]"
"""What a field shows once its case's key was destroyed (subject erased)."""

UNREADABLE = "[unreadable]"
"""What a field shows when its key is not at hand (a log restored without its key store) or
the ciphertext does not authenticate: never the ciphertext, never a guess."""

_NONCE_BYTES = 12
_ENCRYPTED = re.compile(r"^enc:1:[A-Za-z0-9_-]{38,}$")  # nonce and tag: 28 bytes at least


class PersonalData:
    """Marks a text type as personal data (see `personal`)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        plain = handler(source)

        def validate(value: Any, next_: core_schema.ValidatorFunctionWrapHandler,
                     info: core_schema.ValidationInfo) -> Any:
            # Read back from a store or the log, an encrypted field is taken as it is: its
            # plain text was checked before it was encrypted, and is longer once encrypted.
            if (isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)
                    and (info.context or {}).get("as_recorded")):
                if not _ENCRYPTED.match(value):
                    raise ValueError("not a well-formed encrypted value")
                return value
            return next_(value)

        return core_schema.with_info_wrap_validator_function(validate, plain)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler):
        plain = handler(schema)
        return {
            "anyOf": [plain, {"type": "string", "pattern": _ENCRYPTED.pattern}],
            "x-personal-data": True,
            "description": "Personal data: plain text in a command; in an event, encrypted with "
                           "the case's key ('enc:1:...'), or plain text if recorded before "
                           "encryption existed.",
        }


_MARK = PersonalData()


def personal(text_type: Any) -> Any:
    """The text type, as personal data: encrypted inside events."""
    return Annotated[text_type, _MARK]


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)


class UndecryptableField(ValueError):
    """The ciphertext does not authenticate under the key: altered, or another case's."""


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts and decrypts one case's personal fields with the case's data key.

    The case id is authenticated with every field, so a value copied into another case's
    event does not decrypt there even if someone held both keys.
    """

    case_id: UUID
    key: bytes
    # Random, as it must be; a benchmark's fictional log may draw them from its seed instead.
    nonces: Callable[[int], bytes] = field(default=os.urandom, repr=False, compare=False)

    def encrypt(self, plain: str) -> str:
        nonce = self.nonces(_NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, plain.encode("utf-8"), self._associated())
        return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def decrypt(self, value: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value[len(ENCRYPTED_PREFIX):] + "==")
            nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            return AESGCM(self.key).decrypt(nonce, sealed, self._associated()).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
            raise UndecryptableField("the field does not decrypt with this case's key") from None

    def _associated(self) -> bytes:
        return b"casetracker personal field v1:" + self.case_id.bytes


M = TypeVar("M")


def encrypt_personal_data(value: M, encrypt: Callable[[str], str]) -> M:
    """A copy of `value` (a model, or a list of them) with every personal field encrypted."""
    if isinstance(value, BaseModel):
        marked = personal_fields(type(value))
        changes: dict[str, Any] = {}
        for name in type(value).model_fields:
            current = getattr(value, name)
            if name in marked and isinstance(current, str):
                changes[name] = encrypt(current)
            elif isinstance(current, BaseModel | list | tuple):
                changed = encrypt_personal_data(current, encrypt)
                if changed is not current:
                    changes[name] = changed
        return value.model_copy(update=changes) if changes else value
    if isinstance(value, list | tuple):
        items = [encrypt_personal_data(item, encrypt) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return type(value)(items)
    return value


def unencrypted_personal_fields(value: object, path: str = "") -> list[str]:
    """Where a model still holds personal data in plain text (what a producer must never
    write): dotted paths, empty when everything personal is encrypted."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        marked = personal_fields(type(value))
        for name in type(value).model_fields:
            current, where = getattr(value, name), f"{path}{name}"
            if name in marked and isinstance(current, str) and not is_encrypted(current):
                found.append(where)
            else:
                found += unencrypted_personal_fields(current, where + ".")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += unencrypted_personal_fields(item, f"{path}{index}.")
    return found


@cache
def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the model's fields declared personal (optional ones included)."""
    return frozenset(
        name for name, info in model.model_fields.items()
        if _MARK in info.metadata or _mentions_mark(info.annotation)
    )


def _mentions_mark(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return _MARK in annotation.__metadata__ or _mentions_mark(get_args(annotation)[0])
    if get_origin(annotation) in (Union, type(int | None)):
        return any(_mentions_mark(arg) for arg in get_args(annotation))
    return False


Reveal = Callable[[str], str]
"""Turns one encrypted field into what a reader sees: the plain text, ERASED or UNREADABLE."""


def reveal(tree: Any, show: Reveal) -> Any:
    """A JSON-like tree (dicts, lists, strings...) with every encrypted string replaced by
    what `show` makes of it; everything else as it was."""
    if isinstance(tree, str):
        return show(tree) if tree.startswith(ENCRYPTED_PREFIX) else tree
    if isinstance(tree, dict):
        return {key: reveal(item, show) for key, item in tree.items()}
    if isinstance(tree, list):
        return [reveal(item, show) for item in tree]
    return tree


def shown_with(cipher: FieldCipher | None, *, erased: bool = False) -> Reveal:
    """How one case's fields are shown: with its cipher, as erased, or as unreadable."""
    def show(value: str) -> str:
        if erased:
            return ERASED
        if cipher is None:
            return UNREADABLE
        try:
            return cipher.decrypt(value)
        except UndecryptableField:
            return UNREADABLE

    return show
