"""Verify the hash chains: `python -m services.casefile.verify [--case ID] [--store]`.

By default it reads the log itself from offset 0, trusting nothing casefile wrote; `--store`
checks the copies casefile keeps instead (what its views are built from). For every stream
of every case (intake's case events, notify's alerts) it reports the first event whose hash
or prev_hash does not match, or a gap in the sequence. Exits 1 if anything is broken or
unreadable, 0 if everything verified.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from contracts.chain import Link
from contracts.events import decode_event
from contracts.kafka_security import kafka_security
from services.casefile import store, views
from services.casefile.chain_audit import ChainBreak, StreamAudit, audit_links
from services.casefile.config import Settings
from services.casefile.log_reader import read_log
from services.casefile.projections import ALERT_STREAM, CASE_STREAM


@dataclass
class LogAudit:
    audits: list[StreamAudit] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # topic[partition]@offset

    @property
    def broken(self) -> list[ChainBreak]:
        return [a.broken for a in self.audits if a.broken is not None]

    @property
    def intact(self) -> bool:
        return not self.broken and not self.unreadable


async def audit_log(settings: Settings, *, case_id: UUID | None = None) -> LogAudit:
    streams = {settings.case_events_topic: CASE_STREAM, settings.alert_events_topic: ALERT_STREAM}
    links: dict[tuple[UUID, str], list[Link]] = defaultdict(list)
    result = LogAudit()
    kafka = kafka_security(settings, settings.kafka_bootstrap_servers)
    async for records in read_log(settings.kafka_bootstrap_servers, list(streams),
                                  request_timeout_ms=settings.kafka_request_timeout_ms,
                                  **kafka.client_options()):
        for record in records:
            try:
                event = decode_event(record.value or b"")
            except (ValidationError, UnicodeDecodeError):
                result.unreadable.append(f"{record.topic}[{record.partition}]@{record.offset}")
                continue
            if case_id is None or event.case_id == case_id:
                links[(event.case_id, streams[record.topic])].append(Link.of(event))
    result.audits = [audit_links(c, s, stream) for (c, s), stream in sorted(links.items(), key=str)]
    return result


def audit_store(settings: Settings, *, case_id: UUID | None = None) -> LogAudit:
    engine = store.make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            if case_id is not None:
                return LogAudit(audits=views.verify_case(session, case_id))
            return LogAudit(audits=list(views.stream_audits(session)))
    finally:
        engine.dispose()


def report(audit: LogAudit, console: Console) -> None:
    cases = {a.case_id for a in audit.audits}
    events = sum(a.events for a in audit.audits)
    console.print(f"{len(cases)} cases, {len(audit.audits)} streams, {events} events checked")
    if audit.broken:
        table = Table("case", "stream", "sequence", "event", "problem", title="broken chains")
        for b in audit.broken:
            table.add_row(str(b.case_id), b.stream, str(b.sequence), str(b.event_id or "-"),
                          b.reason)
        console.print(table)
    for where in audit.unreadable:
        console.print(f"[red]unreadable message[/red] at {where}")
    if audit.intact:
        console.print("[green]every chain verified[/green]")
    else:
        console.print(f"[red]{len(audit.broken)} broken, {len(audit.unreadable)} unreadable[/red]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=UUID, help="only this case")
    parser.add_argument("--store", action="store_true",
                        help="check casefile's stored copies (DATABASE_URL), not the log")
    parser.add_argument("--database-url", help="with --store: the database (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    console = Console()
    try:
        if args.store:
            audit = audit_store(settings, case_id=args.case)
        else:
            audit = asyncio.run(audit_log(settings, case_id=args.case))
    except RuntimeError as exc:
        console.print(f"[red]verification failed:[/red] {exc}")
        return 2
    report(audit, console)
    return 0 if audit.intact else 1


if __name__ == "__main__":
    sys.exit(main())
