"""The digest's answers (done, skip, snooze, drop, pause) and the signed tokens their links carry.

Pure: no I/O and no clock. A token is an HMAC-SHA256, under the stack's feedback key, over the
action, the subject it acts on (a suggestion, or the digest itself) and an expiry. Whoever holds a
link may use it until it expires; nothing else is trusted, so a token that was altered, expired or
presented for another action is refused before anything is read or written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from rapport.domain.model import Interaction, InteractionKind, Suggestion, suggestion_ref

LINK_LIFETIME = timedelta(days=14)
DIGEST_SUBJECT = "digest"  # the subject of the pause link: the digest itself, not one target
_VERSION = "v1"


class FeedbackAction(StrEnum):
    """What one link of the digest says; the value is also the link's path."""

    DONE = "done"
    SKIP = "skip"
    SNOOZE_1W = "snooze-1w"
    SNOOZE_2W = "snooze-2w"
    SNOOZE_4W = "snooze-4w"
    DROP = "drop"
    PAUSE = "pause"

    @property
    def snooze_weeks(self) -> int | None:
        return _SNOOZE_WEEKS.get(self)

    @property
    def on_target(self) -> bool:
        return self is not FeedbackAction.PAUSE


_SNOOZE_WEEKS = {FeedbackAction.SNOOZE_1W: 1, FeedbackAction.SNOOZE_2W: 2, FeedbackAction.SNOOZE_4W: 4}

# The evidence each answer about a target is stored as.
ANSWER_KINDS: dict[FeedbackAction, InteractionKind] = {
    FeedbackAction.DONE: InteractionKind.DONE,
    FeedbackAction.SKIP: InteractionKind.SKIPPED,
    FeedbackAction.SNOOZE_1W: InteractionKind.SNOOZED,
    FeedbackAction.SNOOZE_2W: InteractionKind.SNOOZED,
    FeedbackAction.SNOOZE_4W: InteractionKind.SNOOZED,
    FeedbackAction.DROP: InteractionKind.DROPPED,
}
FEEDBACK_KINDS = frozenset(ANSWER_KINDS.values())


class BadToken(ValueError):
    """A token that is malformed, altered, expired or meant for another action."""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a valid token allows: one action on one subject, until its expiry."""

    action: FeedbackAction
    subject: str  # a suggestion ref ("target id|key"), or DIGEST_SUBJECT
    expires: datetime

    @property
    def target_id(self) -> str:
        return self.subject.split("|", 1)[0]

    @property
    def suggestion_key(self) -> str:
        return self.subject.split("|", 1)[1] if "|" in self.subject else ""

    @property
    def answer_id(self) -> str:
        """The id the answer is stored under: one per action and subject, so a link acts once."""
        return f"feedback:{self.action.value}:{self.suggestion_key}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadToken("malformed token") from exc


def _mac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def sign(key: bytes, action: FeedbackAction, subject: str, expires: datetime) -> str:
    """A URL-safe token for ``action`` on ``subject`` until ``expires``."""
    message = f"{_VERSION}.{action.value}.{_b64(subject.encode('utf-8'))}.{int(expires.timestamp())}"
    return f"{message}.{_b64(_mac(key, message))}"


def _parts(token: str) -> list[str]:
    """A token's five fields: version, action, subject (base64url), expiry, MAC."""
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        raise BadToken("malformed token")
    return parts


def unverified_subject(token: str) -> str:
    """The subject a token names, its MAC unchecked: to read what a sent email carried (the crash
    sweep), never to act on it (``verify``)."""
    try:
        return _unb64(_parts(token)[2]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadToken("malformed token") from exc


def verify(key: bytes, token: str, action: str, now: datetime) -> Claim:
    """The claim of a token presented for ``action`` at ``now``, or ``BadToken``.

    The MAC is compared in constant time before anything in the token is believed.
    """
    parts = _parts(token)
    message, presented = ".".join(parts[:4]), _unb64(parts[4])
    if not hmac.compare_digest(_mac(key, message), presented):
        raise BadToken("the token's signature does not match")
    if parts[1] != action:
        raise BadToken("the token is for another action")
    try:
        signed_action = FeedbackAction(parts[1])
        subject = _unb64(parts[2]).decode("utf-8")
        expires = datetime.fromtimestamp(int(parts[3]), tz=UTC)
    except (ValueError, OverflowError) as exc:
        raise BadToken("malformed token") from exc
    if now >= expires:
        raise BadToken("the link has expired")
    return Claim(signed_action, subject, expires)


@dataclass(frozen=True, slots=True)
class FeedbackLinks:
    """Builds the digest's signed links under one base URL (the feedback function's URL)."""

    base_url: str
    key: bytes
    lifetime: timedelta = LINK_LIFETIME

    def url(self, action: FeedbackAction, subject: str, at: datetime) -> str:
        token = sign(self.key, action, subject, at + self.lifetime)
        return f"{self.base_url.rstrip('/')}/{action.value}?t={quote(token, safe='')}"

    def for_suggestion(self, s: Suggestion, at: datetime) -> dict[str, str]:
        """Each answer to one suggestion, by action."""
        ref = suggestion_ref(s)
        return {a.value: self.url(a, ref, at) for a in FeedbackAction if a.on_target}

    def pause(self, at: datetime) -> str:
        """Pauses the digest: the footer link, and the List-Unsubscribe header's one-click URL."""
        return self.url(FeedbackAction.PAUSE, DIGEST_SUBJECT, at)


def snoozed_until(interactions: Iterable[Interaction], now: datetime) -> datetime | None:
    """The end of the snooze in force at ``now`` (the latest one given), None when not snoozed."""
    given = [i for i in interactions if i.kind is InteractionKind.SNOOZED and i.until and i.at <= now]
    if not given:
        return None
    until = max(given, key=lambda i: i.at).until
    return until if until is not None and until > now else None


def skipped(interactions: Iterable[Interaction]) -> set[str]:
    """Keys of the suggestions the user skipped."""
    return {i.refers_to for i in interactions if i.kind is InteractionKind.SKIPPED and i.refers_to}
