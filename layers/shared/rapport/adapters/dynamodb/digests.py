"""One digest item per local day: claimed with a conditional write, completed once sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from rapport.adapters.dynamodb.table import DigestItem, save_once
from rapport.domain.model import LOOKBACK_SUFFIX, DigestRecord

DIGEST = "DIGEST"


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

    def complete_digest(self, local_date: str, subject: str, message_id: str, at: datetime) -> None:
        DigestItem(DIGEST, local_date).update(
            actions=[
                DigestItem.status.set("sent"),
                DigestItem.subject.set(subject),
                DigestItem.message_id.set(message_id),
                DigestItem.sent_at.set(at),
            ]
        )

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
