"""Digest: once a day, at the user's local hour, email the pending suggestions.

Exactly once per local day: the day is claimed with its content before sending (a conditional
write), and marked sent after SES accepts the message. A second trigger of the same day finds
the claim and sends nothing; a retry after a crash re-sends the same content it claimed. The only
window for a repeat is a crash between SES accepting the message and the "sent" mark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rapport.digest_render import DigestView, TargetStatus, build_mime, render_digest
from rapport.domain import Suggestion, Transition
from rapport.repository import Repository, suggestion_ref

# Sends a raw MIME message; returns the provider's message id.
SendRaw = Callable[[bytes], str]

KIND_ORDER = {"reply": 0, "ask": 1, "answer": 2, "engage_circle": 3, "retweet": 4}


@dataclass(frozen=True, slots=True)
class DigestReport:
    local_date: str | None
    sent: bool
    reason: str
    suggestions: tuple[Suggestion, ...] = ()
    subject: str = ""
    message_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "local_date": self.local_date,
            "sent": self.sent,
            "reason": self.reason,
            "subject": self.subject,
            "message_id": self.message_id,
            "suggestions": [
                {
                    "kind": s.kind.value,
                    "target": s.target_username,
                    "post_id": s.post_id,
                    "users": list(s.users),
                }
                for s in self.suggestions
            ],
        }


def rank(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Conversations first (they spoke to us), then the method's later steps, retweets last."""
    return sorted(suggestions, key=lambda s: (KIND_ORDER[s.kind.value], -s.score, s.created_at, s.key))


def send_digest(
    repo: Repository, send_raw: SendRaw, sender: str, recipient: str, at: datetime, *, force: bool = False
) -> DigestReport:
    """Send the day's digest if the local digest hour has come and it was not sent yet."""
    policy = repo.policy()
    local = at.astimezone(policy.zone)
    if local.hour != policy.digest_hour and not force:
        return DigestReport(None, False, f"not the digest hour ({local:%H:%M} local)")
    day = local.date().isoformat()
    record = repo.digest(day)
    if record is not None and record.status == "sent":
        return DigestReport(day, False, "already sent today")
    if record is None:
        chosen = rank(repo.pending_suggestions(until=at))
        refs = [suggestion_ref(s) for s in chosen]
        if not repo.claim_digest(day, refs, at):
            return DigestReport(day, False, "another run is sending today's digest")
    else:
        refs = list(record.suggestion_refs)  # a retry: send exactly what was claimed
    suggestions = tuple(repo.suggestions_by_ref(refs))

    view = build_view(repo, day, suggestions, at)
    rendered = render_digest(view)
    message_id = send_raw(build_mime(rendered, sender, recipient, sent_at=at))
    repo.complete_digest(day, rendered.subject, message_id, at)
    repo.mark_sent(refs, day)
    return DigestReport(day, True, "sent", suggestions, rendered.subject, message_id)


def build_view(repo: Repository, day: str, suggestions: tuple[Suggestion, ...], at: datetime) -> DigestView:
    previous = repo.last_sent_digest(before=day)
    changed_since = previous.sent_at if previous and previous.sent_at else datetime.min.replace(tzinfo=UTC)
    me = repo.me() or {"username": ""}
    targets: list[TargetStatus] = []
    transitions: list[tuple[str, Transition]] = []
    for target in sorted(repo.list_targets(), key=lambda t: t.username.lower()):
        history = repo.transitions(target.id)
        since = history[-1].at if history else (target.added_at or at)
        targets.append(TargetStatus(target.username, target.stage, since))
        transitions.extend((target.username, t) for t in history if changed_since < t.at <= at)
    transitions.sort(key=lambda pair: pair[1].at)
    yesterday = (at.astimezone(UTC) - timedelta(days=1)).date()
    return DigestView(
        local_date=datetime.fromisoformat(day).date(),
        me_username=me["username"],
        suggestions=suggestions,
        transitions=tuple(transitions),
        targets=tuple(targets),
        x_spend_usd=repo.spend(yesterday).cost_usd,
    )
