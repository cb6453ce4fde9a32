"""The backup archive reads back exactly what was written, and nothing else: any change, cut
or addition, another key or another kind of backup is refused, naming what is wrong."""

from __future__ import annotations

import base64
import os

import pytest

from deploy.backup.archive import (
    PART_BYTES,
    ArchiveDamaged,
    ArchiveKind,
    ArchiveWriter,
    BackupError,
    BackupKey,
    WrongBackupKey,
    read_archive,
)
from deploy.backup.erasures import erased_case
from deploy.backup.key_store_backup import read_key_store_archive
from deploy.backup.log_items import (
    LogMessage,
    LogSummary,
    check_log,
    end_item,
    header_item,
    message_item,
    messages_of,
)
from deploy.backup.settings import BackupSettings, backup_key

KEY = BackupKey(os.urandom(32))
MESSAGES = [
    LogMessage("case-events", 0, 0, 1_700_000_000_000, b"case-1", b'{"type": "report"}',
               (("correlation_id", b"c-1"), ("event-type", b"report_received"))),
    LogMessage("case-events", 0, 1, 1_700_000_000_001, b"case-1", None, (("empty", None),)),
    LogMessage("case-events", 2, 5, 1_600_000_000_000, None, b"", ()),
    LogMessage("case-events", 2, 6, 1_600_000_000_001, "кейс-2".encode(), b"\xff\x00binary",
               (("trace", b"\x80\x81"),)),
]


def write(path, items, kind=ArchiveKind.LOG, key=KEY):
    with ArchiveWriter(path, key, kind) as archive:
        for item in items:
            archive.write(item)
    return path


def log_items(messages=MESSAGES) -> list[dict]:
    summary = LogSummary(topics={"case-events": 3, "alert-events": 3}, created_at="2025-03-01")
    for message in messages:
        summary.count(message)
    return [header_item(summary.topics, summary.created_at),
            *map(message_item, messages), end_item(summary)]


def test_a_log_reads_back_message_for_message_with_keys_headers_and_timestamps(tmp_path):
    path = write(tmp_path / "log.backup", log_items())

    summary = check_log(read_archive(path, KEY, ArchiveKind.LOG))
    messages = list(messages_of(read_archive(path, KEY, ArchiveKind.LOG)))

    assert messages == MESSAGES
    assert summary.messages == 4
    assert summary.partitions == {("case-events", 0): (2, 2), ("case-events", 2): (2, 7)}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert b"report_received" not in path.read_bytes() and b"case-1" not in path.read_bytes()


def test_an_archive_of_many_parts_reads_back_whole(tmp_path):
    big = [{"n": i, "pad": "x" * 1000} for i in range(3 * PART_BYTES // 1000)]
    path = write(tmp_path / "big.backup", big)

    assert list(read_archive(path, KEY, ArchiveKind.LOG)) == big


def changed_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda d: changed_byte(d, len(d) // 2), "does not authenticate"),
    (lambda d: changed_byte(d, 15), "another backup key"),  # the key id, in the header
    (lambda d: changed_byte(d, 50), "part 0 does not authenticate"),  # the salt, in the header
    (lambda d: d[:-1], "truncated"),
    (lambda d: d[:58], "truncated: it ends before its last part"),
    (lambda d: d + b"more", "data after its last part"),
    (lambda d: b"NOTABACK" + d[8:], "not a casetracker backup"),
    (lambda d: b"", "not a casetracker backup"),
], ids=["a byte changed", "key id changed", "salt changed", "last byte cut", "parts cut",
        "bytes added", "not a backup", "empty"])
def test_any_damage_is_refused_naming_what_is_wrong(tmp_path, damage, reason):
    whole = write(tmp_path / "log.backup", log_items()).read_bytes()
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(damage(whole))

    with pytest.raises(BackupError, match=reason):
        list(read_archive(damaged, KEY, ArchiveKind.LOG))


def test_a_dropped_or_reordered_part_is_refused(tmp_path):
    big = [{"n": i, "pad": os.urandom(600).hex()} for i in range(2 * PART_BYTES // 1200 + 10)]
    data = write(tmp_path / "big.backup", big).read_bytes()
    header, parts = data[:58], []
    rest = data[58:]
    while rest:
        size = int.from_bytes(rest[:4], "big")
        parts.append(rest[:4 + size])
        rest = rest[4 + size:]
    assert len(parts) == 3
    dropped, swapped = tmp_path / "dropped", tmp_path / "swapped"
    dropped.write_bytes(header + parts[0] + parts[2])
    swapped.write_bytes(header + parts[1] + parts[0] + parts[2])

    with pytest.raises(ArchiveDamaged, match="part 1 does not authenticate"):
        list(read_archive(dropped, KEY, ArchiveKind.LOG))
    with pytest.raises(ArchiveDamaged, match="part 0 does not authenticate"):
        list(read_archive(swapped, KEY, ArchiveKind.LOG))


def test_another_key_or_another_kind_of_backup_is_refused(tmp_path):
    path = write(tmp_path / "keys.backup", [{"key_store": {}}], ArchiveKind.KEY_STORE)

    with pytest.raises(WrongBackupKey, match="another backup key"):
        list(read_archive(path, BackupKey(os.urandom(32)), ArchiveKind.KEY_STORE))
    with pytest.raises(BackupError, match="is a key-store backup, not a log backup"):
        list(read_archive(path, KEY, ArchiveKind.LOG))


def test_an_export_that_fails_half_way_leaves_no_archive_and_none_is_overwritten(tmp_path):
    path = tmp_path / "log.backup"
    with pytest.raises(ConnectionError), ArchiveWriter(path, KEY, ArchiveKind.LOG) as archive:
        archive.write({"log": {}})
        raise ConnectionError("the cluster went away")
    assert list(tmp_path.iterdir()) == []

    write(path, log_items())
    with pytest.raises(BackupError, match="exists; a backup is never overwritten"):
        write(path, log_items())


@pytest.mark.parametrize(("items", "reason"), [
    (lambda items: items[:-1], "has no end"),
    (lambda items: items[1:], "does not begin with a log backup's header"),
    (lambda items: [items[0], items[2], items[1], *items[3:]], "out of order"),
    (lambda items: items[:2] + items[3:], "end does not count the messages"),
    (lambda items: [*items, items[1]], "items after its end"),
    (lambda items: [items[0], {"m": ["alert-events", 7, 0, 0, "a2V5", None, []]}, items[-1]],
     "partition its header does not list"),
    (lambda items: [items[0], {"m": ["case-events", 0, 0, 0, None, None, []]}, items[-1]],
     "neither key nor value"),
    (lambda items: [items[0], {"m": ["case-events", 0]}, items[-1]], "wrong shape"),
    (lambda items: [items[0], {"m": ["case-events", 0, 0, 0, {"hex": "00"}, None, []]},
                    items[-1]], "wrong shape"),
], ids=["no end", "no header", "out of order", "miscounted", "after the end", "no partition",
        "empty message", "wrong shape", "unknown encoding"])
def test_a_log_that_is_not_whole_is_refused(items, reason):
    with pytest.raises(ArchiveDamaged, match=reason):
        check_log(items(log_items()))


def test_the_backup_key_comes_from_a_file_or_the_environment_and_is_never_the_master_key(
    tmp_path
):
    key_text = base64.b64encode(KEY.key).decode()
    (tmp_path / "backup.key").write_text(key_text + "\n")
    (tmp_path / "master.key").write_text(key_text + "\n")
    (tmp_path / "short.key").write_text(base64.b64encode(b"short").decode())
    no_master = {"master_key_file": tmp_path / "absent.key"}

    from_file = backup_key(BackupSettings(backup_key_file=tmp_path / "backup.key", **no_master))
    from_env = backup_key(BackupSettings(backup_key=key_text, **no_master))
    assert from_file == from_env == KEY
    with pytest.raises(BackupError, match="holds the master key"):
        backup_key(BackupSettings(master_key_file=tmp_path / "master.key"),
                   tmp_path / "backup.key")
    with pytest.raises(BackupError, match="must hold 32 random bytes"):
        backup_key(BackupSettings(**no_master), tmp_path / "short.key")
    with pytest.raises(BackupError, match="cannot be read"):
        backup_key(BackupSettings(**no_master), tmp_path / "absent.key")
    with pytest.raises(BackupError, match="no backup key: set BACKUP_KEY_FILE"):
        backup_key(BackupSettings(**no_master))


def test_an_erasure_on_the_log_is_recognised_and_nothing_else_is():
    case_id = "0b7e6c1e-63a4-4f7e-9d3e-2f1c5a9b8d70"

    assert str(erased_case(
        f'{{"type": "subject_erased", "case_id": "{case_id}"}}'.encode())) == case_id
    assert erased_case(f'{{"type": "note_added", "case_id": "{case_id}"}}'.encode()) is None
    assert erased_case(b'{"type": "subject_erased", "case_id": "not-a-case"}') is None
    assert erased_case(b'{"type": "subject_erased"}') is None
    assert erased_case(b"not json") is None and erased_case(None) is None
    assert erased_case(b"[1, 2]") is None


KEY_ROW = {"case_id": "0b7e6c1e-63a4-4f7e-9d3e-2f1c5a9b8d70", "wrapped_key": "AAEC",
           "master_key_id": "0123456789abcdef", "created_at": "2025-03-01T09:00:00+00:00",
           "erased_at": None}


@pytest.mark.parametrize(("items", "reason"), [
    ([{"key_store": {}}, {"key": KEY_ROW}], "has no end"),
    ([{"key_store": {}}, {"key": KEY_ROW}, {"end": {"keys": 2}}], "does not count the keys"),
    ([{"key": KEY_ROW}, {"end": {"keys": 1}}], "does not begin with a key-store backup"),
    ([{"key_store": {}}, {"key": {**KEY_ROW, "case_id": "no"}}, {"end": {"keys": 1}}],
     "a key of the wrong shape"),
    ([{"key_store": {}}, {"key": {**KEY_ROW, "wrapped_key": "not base64!"}},
      {"end": {"keys": 1}}], "a key of the wrong shape"),
    ([{"key_store": {}}, {"end": {"keys": 0}}, {"key": KEY_ROW}], "items after its end"),
], ids=["no end", "miscounted", "no header", "bad case id", "bad key", "after the end"])
def test_a_key_store_backup_that_is_not_whole_is_refused(tmp_path, items, reason):
    path = write(tmp_path / "keys.backup", items, ArchiveKind.KEY_STORE)

    with pytest.raises(ArchiveDamaged, match=reason):
        read_key_store_archive(path, KEY)


def test_a_key_store_backup_reads_back_its_keys_and_tombstones(tmp_path):
    tombstone = {**KEY_ROW, "case_id": "5d1c2b7a-0000-4000-8000-000000000001",
                 "wrapped_key": None, "erased_at": "2025-03-02T10:00:00+00:00"}
    items = [{"key_store": {}}, {"key": KEY_ROW}, {"key": tombstone}, {"end": {"keys": 2}}]
    path = write(tmp_path / "keys.backup", items, ArchiveKind.KEY_STORE)

    live, erased = read_key_store_archive(path, KEY)

    assert live["wrapped_key"] == b"\x00\x01\x02" and live["erased_at"] is None
    assert erased["wrapped_key"] is None
    assert erased["erased_at"].isoformat() == "2025-03-02T10:00:00+00:00"
