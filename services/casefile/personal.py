"""Personal data, shown to the people allowed to read a case, and only to them.

casefile stores every personal field as it is on the log, encrypted with its case's key; it
decrypts only while answering someone the access rules let read the case (the routes check
that first). An erased subject's fields show as erased, fields whose key is not at hand
(a log restored without its key store) as unreadable: never as ciphertext, never as a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel

from contracts.keystore import KeyErased, KeyStore, KeyUnavailable
from contracts.personal_data import (
    Reveal,
    UndecryptableField,
    is_encrypted,
    reveal,
    shown_with,
)

M = TypeVar("M", bound=BaseModel)


def shown(keys: KeyStore, case_id: UUID, *, erased: bool = False) -> Reveal:
    """How the case's encrypted fields read; its key is looked up at the first one only."""
    if erased:
        return shown_with(None, erased=True)
    opened: list[Reveal] = []

    def show(value: str) -> str:
        if not opened:
            opened.append(_with_key_of(keys, case_id))
        return opened[0](value)

    return show


def _with_key_of(keys: KeyStore, case_id: UUID) -> Reveal:
    try:
        return shown_with(keys.cipher(case_id))
    except KeyErased:
        return shown_with(None, erased=True)
    except KeyUnavailable:
        return shown_with(None)


def readable(model: M, show: Reveal) -> M:
    """The model with every encrypted field decrypted (or marked erased or unreadable)."""
    return type(model).model_validate(reveal(model.model_dump(mode="json"), show))


def readable_each(models: list[M], keys: KeyStore, case_of, erased_of=lambda _: False) -> list[M]:
    """A list of models of several cases: each decrypted with its own case's key."""
    shows: dict[UUID, Reveal] = {}
    result = []
    for model in models:
        case_id = case_of(model)
        if case_id not in shows:
            shows[case_id] = shown(keys, case_id, erased=erased_of(model))
        result.append(readable(model, shows[case_id]))
    return result


def plain_texts(keys: KeyStore, case_id: UUID, values: Iterable[str]) -> list[str]:
    """The values in plain text, to compare, never to show: for an erased subject none at all
    (not even text recorded before encryption), and none that cannot be decrypted. Only for a
    case the reader may read."""
    try:
        cipher = keys.cipher(case_id)
    except KeyErased:
        return []
    except KeyUnavailable:
        cipher = None  # recorded before encryption, or a log restored without its keys
    plain = []
    for value in values:
        if not is_encrypted(value):
            plain.append(value)
        elif cipher is not None:
            try:
                plain.append(cipher.decrypt(value))
            except UndecryptableField:
                pass
    return plain
