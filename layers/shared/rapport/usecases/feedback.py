"""Feedback: the digest's signed links (done, skip, snooze, drop, pause), heard by the method.

Mail scanners open every link of a message before the person does, so a GET only reads and shows
what pressing the button would do; the POST the button sends acts. The one exception is RFC 8058's
one-click unsubscribe, a POST by the mail client itself, which pauses the digest like the pause link.

A token is checked before anything is read or written. Each answer about a target is stored once, as
evidence keyed by the token's subject and action (a conditional write): the same link used twice, or
by two concurrent clicks, acts once and both get the answer of the one that was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from rapport.domain.feedback import ANSWER_KINDS, BadToken, Claim, FeedbackAction, verify
from rapport.domain.model import Interaction, SuggestionKind, Target
from rapport.usecases.ports import NotFoundError, Stores

THROTTLE_NAME = "feedback"
THROTTLE_WINDOW = timedelta(minutes=1)


class Outcome(StrEnum):
    CONFIRM = "confirm"  # a GET: what the button would do
    DONE = "done"  # a POST that acted (or had acted before: the same answer)
    REFUSED = "refused"  # a bad token (403)
    GONE = "gone"  # the target is no longer in Rapport (404)
    BUSY = "busy"  # throttled (429)


_STATUS = {
    Outcome.CONFIRM: 200,
    Outcome.DONE: 200,
    Outcome.REFUSED: 403,
    Outcome.GONE: 404,
    Outcome.BUSY: 429,
}


@dataclass(frozen=True, slots=True)
class FeedbackReply:
    """What the endpoint answers: the page's title and message, and for a GET the button."""

    outcome: Outcome
    title: str
    message: str
    button: str | None = None  # the label of the one POST button (CONFIRM only)
    repeated: bool = False  # DONE: the link had been used before; nothing new was written

    @property
    def status(self) -> int:
        return _STATUS[self.outcome]


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    method: str  # GET, HEAD or POST
    action: str  # the link's path: what the person means to say
    token: str


REFUSED = FeedbackReply(
    Outcome.REFUSED,
    "This link does not work",
    "It may have expired (links last two weeks) or been changed. Nothing was done. "
    "The next digest brings fresh links.",
)
BUSY = FeedbackReply(Outcome.BUSY, "Too many requests", "Nothing was done. Please try again in a minute.")


def answer_feedback(
    stores: Stores, key: bytes, request: FeedbackRequest, now: datetime, *, per_minute: int
) -> FeedbackReply:
    """Check the token, then show (GET) or act (POST). A bad token reads and writes nothing."""
    try:
        claim = verify(key, request.token, request.action, now)
    except BadToken:
        return REFUSED
    if request.method in ("GET", "HEAD"):
        return _confirm(stores, claim)
    window = now.replace(second=0, microsecond=0)
    if not stores.leases.admit(THROTTLE_NAME, window, THROTTLE_WINDOW, per_minute):
        return BUSY
    if claim.action is FeedbackAction.PAUSE:
        return _pause(stores, now)
    try:
        target = stores.targets.get_target(claim.target_id)
    except NotFoundError:
        return _gone()
    return _on_target(stores, claim, target, now)


def _gone() -> FeedbackReply:
    return FeedbackReply(
        Outcome.GONE, "Not in Rapport any more", "This person was removed from your targets."
    )


_QUESTIONS = {
    FeedbackAction.DONE: (
        "You did this one?",
        "Rapport counts it as being in touch with @{u}.",
        "Yes, I did it",
    ),
    FeedbackAction.SKIP: ("Skip this suggestion?", "Rapport will not suggest it again.", "Skip it"),
    FeedbackAction.SNOOZE_1W: ("Snooze @{u} for a week?", "No suggestions for @{u} for 7 days.", "Snooze"),
    FeedbackAction.SNOOZE_2W: (
        "Snooze @{u} for two weeks?",
        "No suggestions for @{u} for 14 days.",
        "Snooze",
    ),
    FeedbackAction.SNOOZE_4W: (
        "Snooze @{u} for four weeks?",
        "No suggestions for @{u} for 28 days.",
        "Snooze",
    ),
    FeedbackAction.DROP: (
        "Drop @{u}?",
        "@{u} leaves the method: no more suggestions. `rapport targets resume {u}` brings them back.",
        "Drop @{u}",
    ),
    FeedbackAction.PAUSE: (
        "Pause the digest?",
        "No more digest emails until you resume them: `rapport settings set digest_paused=false`.",
        "Pause the digest",
    ),
}


def _confirm(stores: Stores, claim: Claim) -> FeedbackReply:
    """The page a GET shows: reads the target's name at most, writes nothing."""
    username = ""
    if claim.action.on_target:
        try:
            username = stores.targets.get_target(claim.target_id).username
        except NotFoundError:
            return _gone()
    title, message, button = (text.format(u=username) for text in _QUESTIONS[claim.action])
    return FeedbackReply(Outcome.CONFIRM, title, message, button)


def _pause(stores: Stores, now: datetime) -> FeedbackReply:
    policy = stores.settings.policy()
    repeated = policy.digest_paused
    if not repeated:
        stores.settings.put_policy(policy.model_copy(update={"digest_paused": True}), now)
    return FeedbackReply(
        Outcome.DONE,
        "The digest is paused",
        "No more digest emails until you resume them: `rapport settings set digest_paused=false`.",
        repeated=repeated,
    )


def answer_interaction(claim: Claim, now: datetime) -> Interaction:
    """The evidence one answer about a target is stored as, keyed so that it is stored once."""
    kind_name, _, subject = claim.suggestion_key.partition("#")
    post_id = subject if kind_name != SuggestionKind.ENGAGE_CIRCLE.value and subject else None
    action = claim.action
    weeks = action.snooze_weeks
    return Interaction(
        id=claim.answer_id,
        target_id=claim.target_id,
        kind=ANSWER_KINDS[action],
        at=now,
        # done: the post acted on (so it counts as reacted to); skip: the suggestion skipped.
        refers_to=post_id if action is FeedbackAction.DONE else claim.suggestion_key,
        until=now + timedelta(weeks=weeks) if weeks else None,
    )


def _on_target(stores: Stores, claim: Claim, target: Target, now: datetime) -> FeedbackReply:
    wanted = answer_interaction(claim, now)
    stored = wanted
    repeated = not stores.evidence.add_interaction(wanted)
    if repeated:  # the first click's answer, whatever time this one came at
        stored = next((i for i in stores.evidence.interactions(target.id) if i.id == wanted.id), wanted)
    if claim.action is FeedbackAction.DROP:
        _reevaluate(stores, target, now)  # also on a repeat: a crash may have come before it
    if stored.until is not None:  # also on a repeat, for the same reason
        _note_snooze(stores, target.id, stored.until, now)
    return FeedbackReply(Outcome.DONE, *_done_words(claim.action, target.username, stored), repeated=repeated)


def _note_snooze(stores: Stores, target_id: str, until: datetime, now: datetime) -> None:
    """Tell collect, in the state it reads once a run anyway, that this target's posts can wait."""
    snoozed = {
        tid: end
        for tid, end in (stores.collector.collect_states().get("snoozed") or {}).items()
        if datetime.fromisoformat(end) > now
    }
    if snoozed.get(target_id) != until.isoformat():
        snoozed[target_id] = until.isoformat()
        stores.collector.set_collect_state("snoozed", snoozed, now)


def _done_words(action: FeedbackAction, username: str, stored: Interaction) -> tuple[str, str]:
    if action is FeedbackAction.DONE:
        return "Noted: you did it", f"Rapport counts it as being in touch with @{username}."
    if action is FeedbackAction.SKIP:
        return "Skipped", "Rapport will not suggest it again."
    if action is FeedbackAction.DROP:
        return (
            f"@{username} is dropped",
            f"No more suggestions for @{username}. `rapport targets resume {username}` brings them back.",
        )
    until = (stored.until or stored.at).astimezone(UTC).date().isoformat()
    return f"@{username} is snoozed", f"No suggestions for @{username} until {until}."


def _reevaluate(stores: Stores, target: Target, at: datetime) -> None:
    from rapport.usecases.evaluate import EvaluateReport, evaluate_target

    policy, me = stores.settings.policy_and_me()
    history = stores.evidence.history(target.id)
    username = (me or {}).get("username", "")
    evaluate_target(stores, history, policy=policy, me_username=username, at=at, report=EvaluateReport(at=at))
