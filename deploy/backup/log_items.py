"""What a log backup holds, item by item, and the check that it is whole.

    {"log": {"topics": {"case-events": 3, ...}, "created_at": "..."}}       first
    {"m": [topic, partition, offset, timestamp_ms, key, value, headers]}    each message
    {"end": {"case-events": {"0": [messages, next_offset], ...}, ...}}      last

Keys, values and header values are their text where they are UTF-8 (the events' JSON, case
ids: smaller, and compressed better than base64), else `{"b64": ...}`; null stays null (a
tombstone's value, a message without a key). Messages of a partition come in offset order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from deploy.backup.archive import ArchiveDamaged


@dataclass(frozen=True)
class LogMessage:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


@dataclass
class LogSummary:
    """The topics (and their number of partitions), and per partition how many messages and
    the offset after the last one."""

    topics: dict[str, int]
    created_at: str = ""
    partitions: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return sum(count for count, _ in self.partitions.values())

    def count(self, message: LogMessage) -> None:
        count, _ = self.partitions.get((message.topic, message.partition), (0, 0))
        self.partitions[message.topic, message.partition] = (count + 1, message.offset + 1)

    def ends(self) -> dict[str, dict[str, list[int]]]:
        ends: dict[str, dict[str, list[int]]] = {topic: {} for topic in self.topics}
        for (topic, partition), (count, next_offset) in sorted(self.partitions.items()):
            ends[topic][str(partition)] = [count, next_offset]
        return ends


def header_item(topics: dict[str, int], created_at: str) -> dict:
    return {"log": {"topics": topics, "created_at": created_at}}


def message_item(message: LogMessage) -> dict:
    return {"m": [message.topic, message.partition, message.offset, message.timestamp_ms,
                  _field(message.key), _field(message.value),
                  [[name, _field(value)] for name, value in message.headers]]}


def end_item(summary: LogSummary) -> dict:
    return {"end": summary.ends()}


def messages_of(items: Iterable[dict]) -> Iterator[LogMessage]:
    """The messages of an archive already checked by `check_log`."""
    for item in items:
        if "m" in item:
            yield _message(item["m"])


def check_log(items: Iterable[dict]) -> LogSummary:
    """Read every item and check that the log is whole: a header first, each message on a
    partition its topic has, offsets rising within each partition, and an end that counts
    exactly the messages read. ArchiveDamaged names the first thing that is not so."""
    items = iter(items)
    first = next(items, None)
    if first is None or not isinstance(first.get("log"), dict):
        raise ArchiveDamaged("the archive does not begin with a log backup's header")
    summary = LogSummary(topics=_topics(first["log"].get("topics")),
                         created_at=str(first["log"].get("created_at", "")))
    for item in items:
        if "m" in item:
            _check_and_count(summary, _message(item["m"]))
        elif "end" in item:
            if item["end"] != summary.ends():
                raise ArchiveDamaged("the archive's end does not count the messages it holds")
            if next(items, None) is not None:
                raise ArchiveDamaged("the archive holds items after its end")
            return summary
        else:
            raise ArchiveDamaged(f"the archive holds an item of no known kind: {sorted(item)}")
    raise ArchiveDamaged("the archive has no end: the export did not finish")


def _check_and_count(summary: LogSummary, message: LogMessage) -> None:
    where = f"{message.topic}[{message.partition}]@{message.offset}"
    partitions = summary.topics.get(message.topic)
    if partitions is None or not 0 <= message.partition < partitions:
        raise ArchiveDamaged(f"message {where} is on a partition its header does not list")
    _, next_offset = summary.partitions.get((message.topic, message.partition), (0, 0))
    if message.offset < next_offset:
        raise ArchiveDamaged(f"message {where} comes after offset {next_offset - 1}: out of order")
    if message.key is None and message.value is None:
        raise ArchiveDamaged(f"message {where} has neither key nor value")
    summary.count(message)


def _topics(value: object) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
            isinstance(name, str) and isinstance(n, int) and n > 0 for name, n in value.items()):
        raise ArchiveDamaged("the archive's header does not list its topics")
    return value


def _message(fields: object) -> LogMessage:
    try:
        topic, partition, offset, timestamp_ms, key, value, headers = fields  # type: ignore[misc]
        message = LogMessage(
            topic=topic, partition=partition, offset=offset, timestamp_ms=timestamp_ms,
            key=_bytes(key), value=_bytes(value),
            headers=tuple((name, _bytes(data)) for name, data in headers))
    except (TypeError, ValueError, KeyError, binascii.Error):
        raise ArchiveDamaged("the archive holds a message of the wrong shape") from None
    if not (isinstance(topic, str) and all(isinstance(n, int) for n in (partition, offset,
                                                                           timestamp_ms))):
        raise ArchiveDamaged("the archive holds a message of the wrong shape")
    return message


def _field(data: bytes | None) -> str | dict | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")  # strict: encoding it again gives back the same bytes
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode()}


def _bytes(field: str | dict | None) -> bytes | None:
    if field is None:
        return None
    if isinstance(field, str):
        return field.encode("utf-8")
    return base64.b64decode(field["b64"], validate=True)
