"""One digest item per local day: claimed with a conditional write, completed once sent.

Completing a day marks its suggestions sent in the same transaction: SES has no idempotency key, so
the one write after it accepted the email is the whole window in which a crash repeats the email.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from rapport.adapters.dynamodb.suggestions import (
    SENT_IF,
    DynamoSuggestionStore,
    sent_actions,
    suggestion_item,
)
from rapport.adapters.dynamodb.table import DigestItem, is_conditional_failure, save_once, transaction
from rapport.domain.model import LOOKBACK_SUFFIX, DigestRecord

DIGEST = "DIGEST"
TRANSACTION_ITEMS = 100  # DynamoDB's limit on the items of one TransactWriteItems


class DynamoDigestStore:
    def digest(self, local_date: str) -> DigestRecord | None:
        try:
            return _digest_record(DigestItem.get(DIGEST, local_date))
        except DoesNotExist:
            return None

    def claim_digest(self, local_date: str, refs: Iterable[str], at: datetime) -> bool:
        return save_once(
            DigestItem(DIGEST, local_date, status="sending", claimed_at=at, suggestion_refs=list(refs))
        )

    def complete_digest(
        self, local_date: str, subject: str, message_id: str, at: datetime, *, refs: Iterable[str] = ()
    ) -> None:
        record = DigestItem(DIGEST, local_date)
        done: list[Action] = [
            DigestItem.status.set("sent"),
            DigestItem.subject.set(subject),
            DigestItem.message_id.set(message_id),
            DigestItem.sent_at.set(at),
        ]
        refs = list(dict.fromkeys(refs))  # a transaction may touch an item only once
        # A claim holds at most Policy.daily_actions (50) refs, so they and the record fit in one
        # transaction; more would be marked first, one by one, and the last ones go with the record.
        room = TRANSACTION_ITEMS - 1
        ahead, together = refs[:-room], refs[-room:]
        suggestions = DynamoSuggestionStore()
        suggestions.mark_sent(ahead, local_date)
        if not together:  # a look-back, or an empty digest: the record alone
            record.update(actions=done)
            return
        try:
            self._complete_with(record, done, together, local_date)
        except TransactWriteError as exc:
            if not is_conditional_failure(exc):
                raise
            # A suggestion removed since the claim (its target removed) cancelled the transaction
            # whole: the marks one by one skip what is gone, so the day is still recorded sent.
            suggestions.mark_sent(together, local_date)
            record.update(actions=done)

    def _complete_with(
        self, record: DigestItem, done: list[Action], refs: list[str], local_date: str
    ) -> None:
        """The day's record sent and each suggestion of ``refs`` marked sent, in one transaction."""
        with transaction() as tx:
            tx.update(record, actions=done)  # first: the crash sweep names a transaction by its first item
            for ref in refs:
                tx.update(suggestion_item(ref), actions=sent_actions(local_date), condition=SENT_IF)

    def note_quiet_day(self, local_date: str, at: datetime) -> None:
        save_once(DigestItem(DIGEST, local_date, status="quiet", claimed_at=at, suggestion_refs=[]))

    def latest_digest(self) -> DigestRecord | None:
        for i in DigestItem.query(DIGEST, scan_index_forward=False, limit=1):
            return _digest_record(i)
        return None

    def last_sent_digest(self, before: str) -> DigestRecord | None:
        for i in DigestItem.query(DIGEST, DigestItem.sk < before, scan_index_forward=False):
            if i.status == "sent" and not i.sk.endswith(LOOKBACK_SUFFIX):  # a look-back is not a digest
                return _digest_record(i)
        return None


def _digest_record(i: DigestItem) -> DigestRecord:
    return DigestRecord(i.sk, i.status, i.claimed_at, i.sent_at, tuple(i.suggestion_refs or ()), i.message_id)
