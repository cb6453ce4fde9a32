"""Backups an NGO can trust: `python -m deploy.backup export|restore|verify|export-keys|
restore-keys|new-key`.

The log and the key store are backed up apart, each into an encrypted, integrity-checked
archive (deploy.backup.archive) under a backup key of its own (BACKUP_KEY_FILE or
BACKUP_KEY, or --key-file), never the master key. The cluster is KAFKA_BOOTSTRAP_SERVERS with
the services' KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_*; the key store is
KEYSTORE_DATABASE_URL. Exits 0 on success, 2 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts.kafka_security import KafkaSecurityError, kafka_security
from contracts.keystore import write_new_master_key
from deploy.backup.archive import BackupError
from deploy.backup.erasures import erasures_on_log
from deploy.backup.key_store_backup import (
    export_key_store,
    read_key_store_archive,
    restore_key_store,
)
from deploy.backup.log_export import export_log, partition_counts
from deploy.backup.log_items import LogSummary
from deploy.backup.log_restore import check_log_archive, restore_log
from deploy.backup.settings import BackupSettings, backup_key


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=True, soft_wrap=True)  # whole lines in a log, whatever its width
    try:
        settings = BackupSettings()
    except ValidationError as exc:  # e.g. KAFKA_SECURITY_PROTOCOL=TLS
        names = ", ".join(str(error["loc"][0]).upper() for error in exc.errors())
        console.print(f"[red]backup failed:[/red] {names} cannot be used: "
                      f"{exc.errors()[0]['msg']}", highlight=False)
        return 2
    try:
        return args.run(args, settings, console)
    except (BackupError, KafkaSecurityError) as exc:
        console.print(f"[red]backup failed:[/red] {exc}", highlight=False)
        return 2
    except KafkaConnectionError as exc:
        console.print(f"[red]backup failed:[/red] cannot reach the cluster at "
                      f"KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers} ({exc}); "
                      "check it and KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*",
                      highlight=False)
        return 2
    except (KafkaError, RuntimeError, OSError) as exc:  # e.g. the cluster does not answer
        console.print(f"[red]backup failed:[/red] {type(exc).__name__}: {exc}", highlight=False)
        return 2


def _export(args, settings: BackupSettings, console: Console) -> int:
    key = backup_key(settings, args.key_file)
    options = _kafka_options(settings)
    with _progress(console, "exporting the log") as bar:
        task = bar.add_task("export", total=None)
        summary = asyncio.run(export_log(
            settings.kafka_bootstrap_servers, args.out, key, topics=args.topic or None,
            request_timeout_ms=settings.kafka_request_timeout_ms,
            on_progress=lambda p: bar.update(task, completed=p.read, total=p.total,
                                             refresh=True),
            **options))
    _print_summary(summary, console)
    console.print(f"[green]log exported[/green] to {args.out}", highlight=False)
    return 0


def _restore(args, settings: BackupSettings, console: Console) -> int:
    key = backup_key(settings, args.key_file)
    options = _kafka_options(settings)
    with _progress(console, "restoring the log") as bar:
        task = bar.add_task("restore", total=None)
        result = asyncio.run(restore_log(
            settings.kafka_bootstrap_servers, args.file, key, append=args.append,
            request_timeout_ms=settings.kafka_request_timeout_ms,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total,
                                                       refresh=True),
            **options))
    _print_summary(result.summary, console)
    kept = "at the offsets they had" if result.offsets_kept else "at other offsets than they had"
    console.print(f"[green]{result.written} messages restored[/green] {kept} to "
                  f"{settings.kafka_bootstrap_servers}; now rebuild casefile "
                  "(python -m services.casefile.rebuild) and start notify on an empty database",
                  highlight=False)
    return 0


def _verify(args, settings: BackupSettings, console: Console) -> int:
    key = backup_key(settings, args.key_file)
    if args.keys:
        rows = read_key_store_archive(args.file, key)
        console.print(f"[green]key-store backup intact[/green]: {len(rows)} keys")
        return 0
    _print_summary(check_log_archive(args.file, key), console)
    console.print("[green]log backup intact[/green]")
    return 0


def _export_keys(args, settings: BackupSettings, console: Console) -> int:
    count = export_key_store(settings.keystore_database_url, args.out,
                             backup_key(settings, args.key_file))
    console.print(f"[green]{count} case keys exported[/green] to {args.out} (still wrapped by "
                  "the master key, which is not in it)", highlight=False)
    return 0


def _restore_keys(args, settings: BackupSettings, console: Console) -> int:
    key = backup_key(settings, args.key_file)
    read_key_store_archive(args.file, key)  # a damaged archive is refused before the log is read
    erased = asyncio.run(_erasures(settings))
    count, destroyed = restore_key_store(settings.keystore_database_url, args.file, key,
                                         erased=erased)
    console.print(f"[green]{count} case keys restored[/green]; {destroyed} of them destroyed "
                  f"again, their subjects erased on the log after the backup was taken "
                  f"({len(erased)} erasures on {settings.case_events_topic})", highlight=False)
    return 0


async def _erasures(settings: BackupSettings) -> set:
    options = _kafka_options(settings)
    try:
        await partition_counts(settings.kafka_bootstrap_servers, [settings.case_events_topic],
                               request_timeout_ms=settings.kafka_request_timeout_ms, **options)
    except BackupError as exc:
        raise BackupError(f"{exc}: restore the log first, so that every subject it says was "
                          "erased stays erased") from None
    return await erasures_on_log(settings.kafka_bootstrap_servers, settings.case_events_topic,
                                 request_timeout_ms=settings.kafka_request_timeout_ms, **options)


def _new_key(args, settings: BackupSettings, console: Console) -> int:
    try:
        write_new_master_key(args.file)  # 32 random bytes, base64, 0600, never overwritten
    except FileExistsError:
        raise BackupError(f"{args.file} exists; a key is never overwritten") from None
    console.print(f"backup key written to {args.file}; keep a copy away from the backups and "
                  "from the master key", highlight=False)
    return 0


def _kafka_options(settings: BackupSettings) -> dict:
    return kafka_security(settings, settings.kafka_bootstrap_servers).client_options()


def _progress(console: Console, what: str) -> Progress:
    """Refreshed as progress comes in; no thread of rich's own."""
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("messages"),
                    TimeElapsedColumn(), console=console, auto_refresh=False)


def _print_summary(summary: LogSummary, console: Console) -> None:
    table = Table("topic", "partitions", "messages")
    for topic, partitions in sorted(summary.topics.items()):
        count = sum(n for (t, _), (n, _) in summary.partitions.items() if t == topic)
        table.add_row(topic, str(partitions), str(count))
    console.print(table)
    console.print(f"{summary.messages} messages in {len(summary.topics)} topics, exported "
                  f"{summary.created_at}", highlight=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.backup",
                                     description=__doc__.split("\n\n")[1].replace("\n", " "))
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run, help: str, *, key: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        if key:
            sub.add_argument("--key-file", type=Path,
                             help="the backup key (default: BACKUP_KEY_FILE, or BACKUP_KEY)")
        return sub

    export = command("export", _export, "export the whole log into an encrypted archive")
    export.add_argument("--out", type=Path, required=True, help="the archive to write")
    export.add_argument("--topic", action="append",
                        help="only this topic (repeatable; default: every topic but __*)")
    restore = command("restore", _restore,
                      "check a log archive whole, then write it into a cluster's empty topics")
    restore.add_argument("file", type=Path)
    restore.add_argument("--append", action="store_true",
                         help="add to topics that already hold messages (default: refuse)")
    verify = command("verify", _verify, "check that an archive is whole and opens with the key")
    verify.add_argument("file", type=Path)
    verify.add_argument("--keys", action="store_true", help="it is a key-store backup")
    keys_out = command("export-keys", _export_keys,
                       "export the key store (KEYSTORE_DATABASE_URL) into an encrypted archive, "
                       "after the log's: every case on that log then has its key in it")
    keys_out.add_argument("--out", type=Path, required=True, help="the archive to write")
    keys_in = command("restore-keys", _restore_keys,
                      "restore a key-store archive into an empty key store, after the log: "
                      "the keys of subjects the log says were erased are destroyed again")
    keys_in.add_argument("file", type=Path)
    new_key = command("new-key", _new_key, "write a new random backup key (0600)", key=False)
    new_key.add_argument("file", type=Path)
    return parser


if __name__ == "__main__":
    sys.exit(main())
