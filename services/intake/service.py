"""The service layer: commands become committed events, many per database commit.

A caseworker's 2xx means the event is committed in intake's store together with its outbox
entry; the relay (services.intake.relay) then puts it on the log. Commands arriving together
are decided one after another against the same up-to-date case state and committed as one
transaction (group commit), so one disk sync serves many commands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session

from contracts.access import Principal, may_erase_subject, may_open_case, may_record_on_case
from contracts.events import EventEnvelope, SubjectErased
from contracts.keystore import KeyStore
from services.intake import decisions, store

log = structlog.get_logger()

Decide = Callable[[decisions.CaseState | None, decisions.Context], EventEnvelope]


class StaleVersion(Exception):
    """The command was based on an older version of the case than the current one."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"expected version {expected}, the case is at version {current}")
        self.expected = expected
        self.current = current


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used for a different request."""


class StoreUnavailable(RuntimeError):
    """The store could not commit; nothing was recorded."""


class NotPermitted(PermissionError):
    """The person may not do this (HTTP 403); says what, not why not."""


@dataclass(frozen=True)
class Submission:
    """One command as the service layer sees it: where it goes, how to decide, who asks."""

    case_id: UUID | None  # None opens a new case
    decide: Decide
    principal: Principal
    correlation_id: UUID
    expected_version: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    erasure: bool = False  # erases the subject: an admin's, with the password entered again


@dataclass(frozen=True)
class Outcome:
    event: EventEnvelope
    replayed: bool = False  # an earlier request with the same Idempotency-Key recorded it


class Intake:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        keys: KeyStore | None = None,
        on_commit: Callable[[], None] = lambda: None,
        new_id: Callable[[], UUID] = uuid4,
        max_batch: int = 200,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._keys = keys
        self._on_commit = on_commit
        self._new_id = new_id
        self._max_batch = max_batch
        self._queue: list[tuple[Submission, asyncio.Future[Outcome]]] = []
        self._arrived = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def record(self, submission: Submission) -> Outcome:
        """Decide and commit one command; returns once the event is durably stored."""
        if self._writer is None:
            raise RuntimeError("Intake.start() has not been called")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((submission, future))
        self._arrived.set()
        return await future

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="intake-writer")

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write_forever(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._queue:
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                try:
                    # Shielded: a cancelled writer still finishes the commit it started.
                    results = await asyncio.shield(asyncio.to_thread(self._commit_batch, batch))
                except Exception as exc:
                    log.error("batch_failed", error=type(exc).__name__)  # no text: it may quote values
                    results = [StoreUnavailable("the store could not commit")] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # the client gave up; its event, if any, is still committed
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                self._on_commit()

    def _commit_batch(self, batch: list[tuple[Submission, asyncio.Future]]) -> list[Outcome | Exception]:
        """Runs in a worker thread. Retries the whole batch if another writer raced it."""
        for attempt in range(1, 4):
            try:
                with store.writing(self._engine) as session:
                    results = self._decide_batch(session, [s for s, _ in batch])
                    if self._keys is not None:  # the keys before the events encrypted with them
                        self._keys.store_made()
                    session.commit()
                self._log(results)
                self._erase_keys(results)
                return results
            except (store.StreamConflict, IntegrityError):
                log.info("write_conflict_retrying", attempt=attempt, batch=len(batch))
            except OperationalError as exc:
                log.error("store_unavailable", error=type(exc).__name__)
                return [StoreUnavailable("the store could not commit") for _ in batch]
            finally:
                if self._keys is not None:
                    self._keys.forget_made()  # of a batch that was not committed
        if len(batch) > 1:  # isolate the command that keeps conflicting
            return [r for item in batch for r in self._commit_batch([item])]
        return [StoreUnavailable("the case is being written concurrently; retry")]

    def _decide_batch(self, session: Session, submissions: list[Submission]) -> list[Outcome | Exception]:
        batch = store.Batch(
            session,
            case_ids={s.case_id for s in submissions if s.case_id is not None},
            keys={s.idempotency_key for s in submissions if s.idempotency_key is not None},
        )
        results: list[Outcome | Exception] = []
        for submission in submissions:
            try:
                results.append(self._decide_one(batch, submission))
            except (store.StreamConflict, SQLAlchemyError):
                raise  # the batch rolls back and is retried or failed as a whole
            except Exception as refusal:  # raised before anything of this command was staged
                results.append(refusal)
        batch.write()
        return results

    def _decide_one(self, batch: store.Batch, submission: Submission) -> Outcome:
        if submission.idempotency_key is not None:
            earlier = batch.key_use(submission.idempotency_key)
            if earlier is not None:
                if earlier.fingerprint != submission.fingerprint:
                    raise IdempotencyKeyReused(submission.idempotency_key)
                return Outcome(batch.event(earlier.event_id), replayed=True)
        case, principal, now = None, submission.principal, self._clock()
        if submission.case_id is None:
            if not may_open_case(principal):
                raise NotPermitted("only caseworkers and supervisors of a team open cases")
        elif submission.erasure:
            if not may_erase_subject(principal):
                raise NotPermitted("only an admin erases a subject")
            if not principal.authenticated_recently(now):
                raise NotPermitted("enter your password again first "
                                   "(POST /sessions/reauthentication)")
            case = batch.case(submission.case_id)
            if case is None:
                raise decisions.CaseNotFound(submission.case_id)
        else:
            case = batch.case(submission.case_id)
            # Another team's case answers as if it did not exist: its existence is need-to-know.
            if case is None or not may_record_on_case(principal, case.scope):
                raise decisions.CaseNotFound(submission.case_id)
            if submission.expected_version not in (None, case.version):
                raise StaleVersion(submission.expected_version, case.version)
        ctx = decisions.Context(
            now=now, actor=principal.account, team=principal.team,
            correlation_id=submission.correlation_id, new_id=self._new_id,
            encryption=self._encryption,
        )
        event = submission.decide(case, ctx)
        batch.append(decisions.evolve(case, event), event)
        if submission.idempotency_key is not None:
            batch.remember(submission.idempotency_key, submission.fingerprint, event.event_id)
        return Outcome(event)

    def _encryption(self, case_id: UUID) -> Callable[[str], str]:
        if self._keys is None:
            raise RuntimeError("intake has no key store: personal data cannot be encrypted")
        return self._keys.cipher_for_writing(case_id).encrypt

    def _erase_keys(self, results: list[Outcome | Exception]) -> None:
        """Destroy the keys of the subjects just erased. Only once the erasure is committed
        (with its pending_erasure row): a key is never gone without the record of who erased
        it and why. Should this fail, `erase_pending_keys` (at every start) finishes the job."""
        erased = [r.event.case_id for r in results
                  if isinstance(r, Outcome) and isinstance(r.event, SubjectErased)
                  and not r.replayed]
        if erased and self._keys is not None:
            try:
                self._destroy(erased)
                for case_id in erased:
                    log.info("subject_key_destroyed", case_id=str(case_id))
            except Exception as exc:
                log.error("subject_key_not_yet_destroyed", error=type(exc).__name__,
                          cases=len(erased))

    def erase_pending_keys(self) -> int:
        """Destroy any key whose subject was erased but which may still be in the key store
        (intake stopped, or the key store failed, right after the erasure); how many."""
        pending = store.pending_erasures(self._engine)
        if pending and self._keys is not None:
            self._destroy(pending)
            log.warning("pending_erasures_completed", cases=len(pending))
        return len(pending)

    def _destroy(self, case_ids: list[UUID]) -> None:
        self._keys.erase(case_ids)
        store.erasures_done(self._engine, case_ids)

    @staticmethod
    def _log(results: list[Outcome | Exception]) -> None:
        for result in results:
            if isinstance(result, Outcome) and not result.replayed:
                event = result.event
                log.info("event_recorded", case_id=str(event.case_id), event_id=str(event.event_id),
                         type=event.type, sequence=event.sequence,
                         correlation_id=str(event.correlation_id))
            elif isinstance(result, Exception):
                log.info("command_refused", reason=type(result).__name__)
