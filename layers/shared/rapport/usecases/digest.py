"""Digest: once a day, at the user's local hour, email the day's best few suggestions.

Choosing (pure, below ``select``): the attention budget (``Policy.daily_actions``) goes to what
moves a relationship most, one action per target, and a target who was in yesterday's digest (or
whom we wrote to on X yesterday or today, local time) rests today unless they spoke to us first.
Unchosen suggestions stay pending while still fresh and are retired ("expired") once their post is
too old to act on, or once the user did the thing unprompted.

Sending, exactly once per local day: the day is claimed with its content before sending (a
conditional write), and marked sent after SES accepts the message. A second trigger of the same day
finds the claim and sends nothing; a retry after a crash re-sends the same content it claimed. A
claim that a crash left unsent, older than the function's time-out, is taken over by the next hourly
run and sent then, whatever the hour. After SES accepted it, the day and its suggestions are marked
sent in one write, tried again in place when it merely fails, so the only window for a repeat is the
process dying between SES accepting the message and that write.

A day with nothing chosen sends nothing unless ``send_empty_digest``. Once a week, on
``Policy.weekly_lookback``, the same run sends the weekly look-back (``usecases.lookback``), claimed
the same way under ``<date>#weekly``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from rapport.domain.contact import OUR_REACTIONS, last_contact, topic_hits
from rapport.domain.feedback import FeedbackLinks, skipped, snoozed_until
from rapport.domain.forecast import forecast_targets
from rapport.domain.model import (
    DigestRecord,
    Interaction,
    Stage,
    Suggestion,
    SuggestionKind,
    Target,
    Transition,
    every_version,
    in_step,
    lookback_key,
    one_version_each,
    suggestion_ref,
)
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy
from rapport.usecases.ports import DaySpend, NotFoundError, Stores

# The email (view model, HTML, MIME) is imported by the functions that build it: 23 of the digest's
# 24 hourly runs stop at "not the digest hour" and need not load it at cold start.
if TYPE_CHECKING:
    from rapport.email.render import RenderedDigest
    from rapport.email.view import DigestView, LosingTouch, SpendSummary

# Sends a raw MIME message; returns the provider's message id.
SendRaw = Callable[[bytes], str]
# Runs the sending while no other run of the digest can (the runtime's lease); returns what it returns.
Alone = Callable[[Callable[[], "DigestReport"]], "DigestReport"]
# Waits that many seconds between tries of a write that must not be left to Lambda's retry.
Pause = Callable[[float], None]
MARK_TRIES = 4  # the first try and three more, 0.2 s, 0.4 s and 0.8 s apart
MARK_BACKOFF = 0.2

# What moves a relationship most, first. An answer counts as "on our topics" when its question
# mentions one of the policy's topics; off-topic questions come after the step-3 question.
TIER_REPLY, TIER_ANSWER_ON_TOPIC, TIER_ASK, TIER_ANSWER, TIER_CIRCLE, TIER_RETWEET = range(6)

# Kinds that never wait for a resting target: they wrote to us first (a reply), or the action
# reaches their circle rather than their notifications.
NEVER_REST = frozenset({SuggestionKind.REPLY, SuggestionKind.ENGAGE_CIRCLE})
# How long a suggestion without a dated post (the step-3 question, the circle) may wait unchosen.
ASK_SHELF_LIFE = timedelta(days=14)
CIRCLE_SHELF_LIFE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DigestReport:
    local_date: str | None
    sent: bool
    reason: str
    suggestions: tuple[Suggestion, ...] = ()
    subject: str = ""
    message_id: str | None = None
    # The answer links the email carried: suggestion ref -> {action: url}; and its pause link.
    feedback: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    unsubscribe: str | None = None
    lookback: DigestReport | None = None  # the weekly look-back, on its day of the week

    def as_dict(self) -> dict[str, object]:
        weekly = {"lookback": self.lookback.as_dict()} if self.lookback is not None else {}
        return weekly | {
            "local_date": self.local_date,
            "sent": self.sent,
            "reason": self.reason,
            "subject": self.subject,
            "message_id": self.message_id,
            "suggestions": [
                {**suggestion_as_dict(s), "feedback": dict(self.feedback.get(suggestion_ref(s), {}))}
                for s in self.suggestions
            ],
            "unsubscribe": self.unsubscribe,
        }


def suggestion_as_dict(s: Suggestion) -> dict[str, object]:
    """One suggestion as the email shows it: why, the draft it pre-fills, its links by name, and for
    the circle each member with why them, the post to meet them at and its links."""
    from rapport.email.links import named_links

    shown: dict[str, object] = {
        "kind": s.kind.value,
        "target": s.target_username,
        "post_id": s.post_id,
        "users": list(s.users),
        "why": s.reason,
        "draft": s.draft,
        "links": named_links(s),
    }
    if s.circle:
        shown["circle"] = _circle_summary(s)
    return shown


def _circle_summary(s: Suggestion) -> list[dict[str, object]]:
    """Each circle member as the email shows them: who, why, the post, and its links by name."""
    from rapport.email.links import circle_links

    return [
        {
            "username": m.username,
            "user_id": m.user_id,
            "reason": m.reason,
            "post_id": m.post_id,
            "post_author": m.post_author_username,
            "draft": m.draft,
            "links": circle_links(m),
        }
        for m in s.circle
    ]


# --- choosing (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    chosen: tuple[Suggestion, ...]  # today's actions, best first
    waiting: tuple[Suggestion, ...] = ()  # still fresh: stay pending for a later day
    expired: tuple[Suggestion, ...] = ()  # too old to act on: retired unsent
    resting: frozenset[str] = field(default_factory=frozenset)  # target ids held back by spacing


def tier(s: Suggestion, topics: Iterable[str]) -> int:
    if s.kind is SuggestionKind.REPLY:
        return TIER_REPLY
    if s.kind is SuggestionKind.ANSWER:
        return TIER_ANSWER_ON_TOPIC if topic_hits(s.post_text or "", topics) else TIER_ANSWER
    if s.kind is SuggestionKind.ASK:
        return TIER_ASK
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:
        return TIER_CIRCLE
    return TIER_RETWEET


def rank(
    suggestions: Iterable[Suggestion],
    topics: Iterable[str] = (),
    posted_at: Mapping[str, datetime] | None = None,
) -> list[Suggestion]:
    """Best first: by tier, then the rule's own score, then the freshest post, then the oldest wait."""
    topics = tuple(topics)
    posted = posted_at or {}
    floor = datetime.min.replace(tzinfo=UTC)

    def key(s: Suggestion) -> tuple[int, float, float, datetime, str]:
        post_time = posted.get(s.post_id or "", floor)
        return (
            tier(s, topics),
            -s.score,
            -post_time.timestamp() if s.post_id in posted else 0.0,
            s.created_at,
            s.key,
        )

    return sorted(suggestions, key=key)


def expired(s: Suggestion, policy: Policy, now: datetime, posted_at: Mapping[str, datetime]) -> bool:
    """Too old to act on: the post is past the freshness window, or the suggestion waited too long."""
    if s.kind is SuggestionKind.ASK:
        return now - s.created_at > ASK_SHELF_LIFE
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:
        return now - s.created_at > CIRCLE_SHELF_LIFE
    post_time = posted_at.get(s.post_id or "")
    if post_time is None:  # the post was never stored with a date: judge by the suggestion's own age
        post_time = s.created_at
    return now - post_time > timedelta(days=policy.freshness_days)


def select(
    pending: Sequence[Suggestion],
    *,
    policy: Policy,
    now: datetime,
    posted_at: Mapping[str, datetime],
    last_contact: Mapping[str, datetime],
    stages: Mapping[str, Stage] | None = None,
    done: Set[str] = frozenset(),
    snoozed: Set[str] = frozenset(),
    skipped: Set[str] = frozenset(),
) -> Selection:
    """Spend the attention budget: at most ``daily_actions``, one per target, resting targets skipped.

    ``last_contact`` maps a target id to the last time it was in a sent digest or we wrote to it;
    ``stages`` (target id -> stage, every target) drops suggestions their target's stage no longer
    calls for (all of a paused target's, a retweet once they follow back: ``in_step``), and those of
    someone no longer a target (a removal under way as the digest reads, or cut short);
    ``done`` (post ids we already retweeted, answered or replied to) drops what the user did unprompted;
    ``snoozed`` (target ids) and ``skipped`` (suggestion refs) drop what the user answered from a digest.
    """
    yesterday = _local_day(now, policy) - timedelta(days=1)

    def out_of_step(s: Suggestion) -> bool:
        if stages is None:
            return False
        stage = stages.get(s.target_id)
        return stage is None or not in_step(s.kind, stage)

    def retired(s: Suggestion) -> bool:
        return (
            expired(s, policy, now, posted_at)
            or out_of_step(s)
            or s.target_id in snoozed
            or suggestion_ref(s) in skipped
            or (s.post_id is not None and s.post_id in done)
        )

    live = [s for s in pending if not retired(s)]
    gone = [s for s in pending if retired(s)]
    chosen: list[Suggestion] = []
    waiting: list[Suggestion] = []
    served: set[str] = set()
    resting: set[str] = set()
    for s in rank(live, policy.topics, posted_at):
        last = last_contact.get(s.target_id)
        rests = last is not None and s.kind not in NEVER_REST and _local_day(last, policy) >= yesterday
        if rests:
            resting.add(s.target_id)
        if rests or s.target_id in served or len(chosen) >= policy.daily_actions:
            waiting.append(s)
            continue
        chosen.append(s)
        served.add(s.target_id)
    return Selection(tuple(chosen), tuple(waiting), tuple(gone), frozenset(resting))


def _local_day(at: datetime, policy: Policy) -> date:
    return at.astimezone(policy.zone).date()


def losing_touch(
    targets: Iterable[Target],
    interactions: Mapping[str, Sequence[Interaction]],
    policy: Policy,
    now: datetime,
) -> list[LosingTouch]:
    """Targets on the method's ladder with no exchange either way for longer than the cadence."""
    from rapport.email.view import LosingTouch

    found: list[LosingTouch] = []
    for t in targets:
        if t.stage in (Stage.PAUSED, Stage.UNRESPONSIVE):
            continue
        last = last_contact(interactions.get(t.id, ()), now)
        reference = last or t.added_at
        if reference is None:
            continue
        quiet = now - reference
        if quiet > timedelta(days=policy.cadence_days):
            found.append(LosingTouch(t.username, quiet.days, last))
    return sorted(found, key=lambda lt: (-lt.days, lt.username.lower()))


def digest_due(at: datetime, policy: Policy) -> tuple[date, bool]:
    """The local date ``at`` falls on, and whether ``at`` is within that day's digest hour.

    The digest hour is resolved as a wall-clock time in the user's zone (its first occurrence when
    the clocks go back); when the clocks go forward over it, the instant after the gap is used, so
    every local day has exactly one one-hour window whatever daylight saving does.
    """
    local_day = at.astimezone(policy.zone).date()
    due = _digest_instant(local_day, policy)
    return local_day, due <= at.astimezone(UTC) < due + timedelta(hours=1)


def _digest_instant(local_day: date, policy: Policy) -> datetime:
    wall = datetime.combine(local_day, time(policy.digest_hour), tzinfo=policy.zone)  # fold=0
    return wall.astimezone(UTC)


# --- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _World:
    """What the digest reads about every target, once per run."""

    targets: list[Target]
    interactions: dict[str, list[Interaction]]
    transitions: dict[str, list[Transition]]
    previous: DigestRecord | None  # the last digest sent before this one's day
    me_username: str
    posted_at: dict[str, datetime]  # post id -> when it was posted, for every post the digest knows

    def snoozed(self, now: datetime) -> dict[str, datetime]:
        """Target id -> the end of its snooze, for the targets snoozed at ``now``."""
        found = {t: snoozed_until(items, now) for t, items in self.interactions.items()}
        return {t: until for t, until in found.items() if until is not None}

    def skipped(self) -> set[str]:
        """Refs of the suggestions the user skipped from a digest."""
        return {f"{t}|{key}" for t, items in self.interactions.items() for key in skipped(items)}

    def acted_on(self) -> set[str]:
        """Posts of theirs we already retweeted, answered or replied to, in any of their versions."""
        done: set[str] = set()
        for items in self.interactions.values():
            reacted = {i.refers_to for i in items if i.kind in OUR_REACTIONS and i.refers_to}
            done |= every_version(reacted, items)
        return done

    def our_last_contact(self, now: datetime) -> dict[str, datetime]:
        last: dict[str, datetime] = {}
        for target_id, items in self.interactions.items():
            times = [i.at for i in items if i.kind in OUR_REACTIONS and i.at <= now]
            if times:
                last[target_id] = max(times)
        return last


def _world(stores: Stores, day: date, me: dict[str, str] | None) -> _World:
    # One read per target (its whole partition), not one per kind of record.
    histories = []
    for listed in stores.targets.list_targets():
        try:
            histories.append(stores.evidence.history(listed.id))
        except NotFoundError:
            continue  # removed while the digest was reading
    histories.sort(key=lambda h: h.target.username.lower())
    # Every version's date, for the suggestions made for any of them; the rest of the digest (the
    # look-back's counts, last contact) sees an edited post once, in its newest version.
    posted_at = {
        i.post.id: i.post.created_at for h in histories for i in h.interactions if i.post is not None
    }
    interactions = {h.target.id: one_version_each(h.interactions, latest=True) for h in histories}
    return _World(
        targets=[h.target for h in histories],
        interactions=interactions,
        transitions={h.target.id: h.transitions for h in histories},
        previous=stores.digests.last_sent_digest(before=day.isoformat()),
        me_username=(me or {}).get("username", ""),
        posted_at=posted_at,
    )


def _last_contact(world: _World, at: datetime) -> dict[str, datetime]:
    """When each target last appeared in a sent digest, or last heard from us on X."""
    last = world.our_last_contact(at)
    previous = world.previous
    if previous is not None and previous.sent_at is not None:
        for ref in previous.suggestion_refs:
            target_id, key = ref.split("|", 1)
            if key.startswith(f"{SuggestionKind.ENGAGE_CIRCLE.value}#"):
                continue  # that reached their circle, not them
            if target_id not in last or last[target_id] < previous.sent_at:
                last[target_id] = previous.sent_at
    return last


def choose(stores: Stores, world: _World, policy: Policy, at: datetime) -> Selection:
    return select(
        stores.suggestions.pending_suggestions(until=at),
        policy=policy,
        now=at,
        posted_at=world.posted_at,
        last_contact=_last_contact(world, at),
        stages={t.id: t.stage for t in world.targets},
        done=world.acted_on(),
        snoozed=frozenset(world.snoozed(at)),
        skipped=frozenset(world.skipped()),
    )


def _directly(work: Callable[[], DigestReport]) -> DigestReport:
    return work()


def _no_pause(seconds: float) -> None:
    return None


def _persist(write: Callable[[], None], pause: Pause) -> None:
    """Do ``write``, trying again with a growing pause when it fails; the last failure is raised."""
    for attempt in range(MARK_TRIES):
        try:
            write()
            return
        except Exception:
            if attempt == MARK_TRIES - 1:
                raise
            pause(MARK_BACKOFF * 2**attempt)


@dataclass(frozen=True, slots=True)
class Outbox:
    """Where a digest goes: through ``send_raw`` (SES), from the sender to the one recipient."""

    send_raw: SendRaw
    sender: str
    recipient: str
    # The signed answer links, or how to get them when a digest is actually sent (reading the key is
    # a Secrets Manager call the 23 hourly ticks that send nothing need not make); None: no links.
    links: FeedbackLinks | Callable[[], FeedbackLinks | None] | None = None

    def prepare(self, view: DigestView, at: datetime) -> DigestView:
        """The view as this outbox sends it: with its answer links, signed at ``at``."""
        return with_feedback(view, self._links(), at)

    def unsubscribe_url(self, at: datetime) -> str | None:
        """The link that pauses the digest (RFC 8058), for an email without suggestions."""
        links = self._links()
        return links.pause(at) if links is not None else None

    def _links(self) -> FeedbackLinks | None:
        return self.links() if callable(self.links) else self.links

    def send(self, view: DigestView, at: datetime, subject_prefix: str = "") -> tuple[RenderedDigest, str]:
        """Render the (prepared) view, send it, and return what was sent with the provider's message id."""
        from rapport.email.render import render_digest

        rendered = render_digest(view)
        if subject_prefix:
            rendered = replace(rendered, subject=subject_prefix + rendered.subject)
        return rendered, self.deliver(rendered, at, unsubscribe=view.pause_url)

    def deliver(self, rendered: RenderedDigest, at: datetime, *, unsubscribe: str | None = None) -> str:
        """Send an email already rendered; return the provider's message id."""
        from rapport.email.mime import build_mime

        return self.send_raw(
            build_mime(rendered, self.sender, self.recipient, sent_at=at, unsubscribe=unsubscribe)
        )


def with_feedback(view: DigestView, links: FeedbackLinks | None, at: datetime) -> DigestView:
    """The view with each suggestion's answer links and the pause link, signed at ``at``."""
    if links is None:
        return view
    feedback = {suggestion_ref(s): links.for_suggestion(s, at) for s in view.suggestions}
    return replace(view, feedback=feedback, pause_url=links.pause(at))


def send_digest(
    stores: Stores,
    outbox: Outbox,
    at: datetime,
    *,
    force: bool = False,
    alone: Alone = _directly,
    stale_after: timedelta = timedelta(minutes=15),
    pause: Pause = _no_pause,
) -> DigestReport:
    """Send the day's digest if the local digest hour has come and it was not sent yet.

    ``alone`` runs the sending so that no other run of the digest overlaps it (the function's lease);
    it is taken only at the digest hour or to take over a stranded claim, so the other hourly ticks
    cost two reads. A claim still unsent ``stale_after`` (the function's time-out) after it was made
    was left by a run that died: it is sent now. ``pause`` waits between tries of the "sent" mark.
    """
    policy, me = stores.settings.policy_and_me()
    local_day, due = digest_due(at, policy)
    if not due and not force:
        late = _unfinished_day(stores.digests.latest_digest(), at, policy, stale_after)
        if late is None:
            local = at.astimezone(policy.zone)
            return DigestReport(None, False, f"not the digest hour ({local:%H:%M} local)")
        local_day = late
    return alone(
        lambda: _send_day(stores, outbox, at, policy=policy, me=me, local_day=local_day, pause=pause)
    )


# How long after its hour a digest that no run decided is still made up: as long as Lambda would
# still retry the hour's event (its maximum event age). Later, e.g. a stack deployed in the evening,
# the day is left alone and the next morning's digest comes at its hour.
MAKE_UP_WINDOW = timedelta(hours=6)


def _unfinished_day(
    latest: DigestRecord | None, at: datetime, policy: Policy, stale_after: timedelta
) -> date | None:
    """A day whose digest hour passed without finishing, read from the newest digest record.

    Either its claim was stranded by a run that died (still "sending" after the time-out), or no run
    of the digest hour got as far as deciding (its event dropped, or killed before the claim): today
    then has no record at all, since a sent, a claimed and a quiet day are each recorded.
    """
    # A look-back's key is its day's, suffixed: the day's run sends what is left of both.
    latest_day = date.fromisoformat(latest.local_date.split("#", 1)[0]) if latest is not None else None
    if latest is not None and latest.status == "sending" and latest.claimed_at <= at - stale_after:
        return latest_day
    today = at.astimezone(policy.zone).date()
    due = _digest_instant(today, policy)
    missed = due <= at.astimezone(UTC) < due + MAKE_UP_WINDOW
    if missed and (latest_day is None or latest_day < today):
        return today
    return None


def _send_day(
    stores: Stores,
    outbox: Outbox,
    at: datetime,
    *,
    policy: Policy,
    me: dict[str, str] | None,
    local_day: date,
    pause: Pause,
) -> DigestReport:
    """The day's digest, then, on the look-back's day of the week, the weekly look-back."""

    @cache
    def world() -> _World:  # read when first needed, and once for both emails
        return _world(stores, local_day, me)

    daily = _send(stores, outbox, at, policy=policy, world=world, local_day=local_day, pause=pause)
    if not policy.lookback_on(local_day):
        return daily
    lookback = _send_lookback(
        stores, outbox, at, policy=policy, world=world, local_day=local_day, pause=pause
    )
    return replace(daily, lookback=lookback)


def _send(
    stores: Stores,
    outbox: Outbox,
    at: datetime,
    *,
    policy: Policy,
    world: Callable[[], _World],
    local_day: date,
    pause: Pause = _no_pause,
) -> DigestReport:
    day = local_day.isoformat()
    record = stores.digests.digest(day)
    if record is not None and record.status == "sent":
        return DigestReport(day, False, "already sent today")
    if record is not None and record.status == "quiet":
        return DigestReport(day, False, "nothing worth doing today (already decided)")
    if policy.digest_paused and record is None:  # a day claimed before the pause is still sent
        stores.digests.note_quiet_day(day, at)
        return DigestReport(day, False, "the digest is paused (settings: digest_paused)")
    if record is None:
        selection = choose(stores, world(), policy, at)
        if not selection.chosen and (not policy.send_empty_digest or policy.lookback_on(local_day)):
            stores.suggestions.expire_suggestions([suggestion_ref(s) for s in selection.expired], day)
            stores.digests.note_quiet_day(day, at)  # decided: the later hourly runs need not choose again
            why = "the look-back goes instead" if policy.lookback_on(local_day) else "empty digests are off"
            return DigestReport(day, False, f"nothing worth doing today ({why})")
        refs = [suggestion_ref(s) for s in selection.chosen]
        if not stores.digests.claim_digest(day, refs, at):
            return DigestReport(day, False, "another run is sending today's digest")
        stores.suggestions.expire_suggestions([suggestion_ref(s) for s in selection.expired], day)
    else:
        refs = list(record.suggestion_refs)  # a retry: send exactly what was claimed
    suggestions = tuple(stores.suggestions.suggestions_by_ref(refs))
    view = outbox.prepare(build_view(stores, day, suggestions, at, policy=policy, world=world()), at)
    rendered, message_id = outbox.send(view, at)
    # SES has it: a failure from here on must not reach Lambda's retry, which would send it again. The
    # day and its suggestions are marked sent in one write, so a crash can repeat the email only
    # between SES accepting it and that write.
    _persist(lambda: stores.digests.complete_digest(day, rendered.subject, message_id, at, refs=refs), pause)
    return DigestReport(
        day, True, "sent", suggestions, rendered.subject, message_id, view.feedback, view.pause_url
    )


def _send_lookback(
    stores: Stores,
    outbox: Outbox,
    at: datetime,
    *,
    policy: Policy,
    world: Callable[[], _World],
    local_day: date,
    pause: Pause,
) -> DigestReport:
    """The weekly look-back, exactly once: claimed under its own key beside the day's digest."""
    key = lookback_key(local_day.isoformat())
    record = stores.digests.digest(key)
    if record is not None and record.status == "sent":
        return DigestReport(key, False, "this week's look-back was already sent")
    if record is None and not stores.digests.claim_digest(key, [], at):
        return DigestReport(key, False, "another run is sending this week's look-back")
    rendered = render_lookback_of(stores, at, policy=policy, world=world(), local_day=local_day)
    message_id = outbox.deliver(rendered, at, unsubscribe=outbox.unsubscribe_url(at))
    _persist(lambda: stores.digests.complete_digest(key, rendered.subject, message_id, at), pause)
    return DigestReport(key, True, "look-back sent", subject=rendered.subject, message_id=message_id)


def render_lookback_of(
    stores: Stores, at: datetime, *, policy: Policy, world: _World, local_day: date
) -> RenderedDigest:
    """The look-back of the week ending at ``at``, rendered; nothing is written."""
    from rapport.email.lookback import render_lookback
    from rapport.usecases.lookback import build_lookback

    today = at.astimezone(UTC).date()
    first_day = today - timedelta(days=6)
    # One read for both the week's figure and the summary's month and yesterday.
    days = stores.spend.days(min(first_day, _summary_start(today)), today)
    view = build_lookback(
        local_day=local_day,
        at=at,
        policy=policy,
        me_username=world.me_username,
        targets=world.targets,
        interactions=world.interactions,
        transitions=world.transitions,
        spend_week=sum((d.spend for day, d in days.items() if day >= first_day), Spend()).cost,
        spend=_spend_with_forecast(stores, policy, at, world, days),
    )
    return render_lookback(view)


def preview_digest(stores: Stores, at: datetime, links: FeedbackLinks | None = None) -> DigestView:
    """The digest the user would get at ``at``, chosen from the current data; nothing is written.

    With ``links``, the view carries the answer links a sent digest would (signed at ``at``).
    """
    policy, me = stores.settings.policy_and_me()
    local_day = at.astimezone(policy.zone).date()
    world = _world(stores, local_day, me)
    record = stores.digests.digest(local_day.isoformat())
    if record is not None:  # that day's digest exists: show what it holds
        chosen = tuple(stores.suggestions.suggestions_by_ref(record.suggestion_refs))
    else:
        chosen = choose(stores, world, policy, at).chosen
    view = build_view(stores, local_day.isoformat(), chosen, at, policy=policy, world=world)
    return with_feedback(view, links, at)


TEST_SUBJECT_PREFIX = "[test] "


def send_test_digest(stores: Stores, outbox: Outbox, at: datetime) -> DigestReport:
    """Email the digest ``preview_digest`` shows at ``at``, its subject marked as a test.

    Nothing is written: the day is not claimed and no suggestion is marked sent, so the day's real
    digest still goes out at the digest hour with the same choices.
    """
    view = outbox.prepare(preview_digest(stores, at), at)
    rendered, message_id = outbox.send(view, at, subject_prefix=TEST_SUBJECT_PREFIX)
    day = view.local_date.isoformat()
    return DigestReport(
        day, True, "test sent", view.suggestions, rendered.subject, message_id, view.feedback, view.pause_url
    )


def build_view(
    stores: Stores,
    day: str,
    suggestions: tuple[Suggestion, ...],
    at: datetime,
    *,
    policy: Policy,
    world: _World,
) -> DigestView:
    from rapport.email.view import DigestView, TargetStatus

    previous = world.previous
    changed_since = previous.sent_at if previous and previous.sent_at else datetime.min.replace(tzinfo=UTC)
    targets: list[TargetStatus] = []
    transitions: list[tuple[str, Transition]] = []
    snoozed = world.snoozed(at)
    for target in world.targets:
        history = world.transitions[target.id]
        since = history[-1].at if history else (target.added_at or at)
        targets.append(TargetStatus(target.username, target.stage, since, snoozed.get(target.id)))
        transitions.extend((target.username, t) for t in history if changed_since < t.at <= at)
    transitions.sort(key=lambda pair: pair[1].at)
    posted = world.posted_at
    return DigestView(
        local_date=date.fromisoformat(day),
        me_username=world.me_username,
        suggestions=suggestions,
        transitions=tuple(transitions),
        targets=tuple(targets),
        generated_at=at,
        posted_at={s.post_id: posted[s.post_id] for s in suggestions if s.post_id in posted},
        losing_touch=tuple(losing_touch(world.targets, world.interactions, policy, at)),
        spend=_spend_with_forecast(stores, policy, at, world),
    )


def _spend_with_forecast(
    stores: Stores, policy: Policy, at: datetime, world: _World, days: Mapping[date, DaySpend] | None = None
) -> SpendSummary:
    """The spend summary, warning when the targets' posting rates will cost more than the budget."""
    warning = forecast_targets(world.targets, world.interactions, policy, at).warning()
    return replace(spend_summary(stores, policy, at, days), budget_warning=warning)


def _summary_start(today: date) -> date:
    return min(today.replace(day=1), today - timedelta(days=1))


def spend_summary(
    stores: Stores, policy: Policy, at: datetime, days: Mapping[date, DaySpend] | None = None
) -> SpendSummary:
    """X API spend per UTC day, as collect records it: yesterday, this month so far, the budget.

    ``days``: the spend already read, from ``_summary_start`` or earlier to today; else it is read.
    """
    from rapport.email.view import SpendSummary

    today = at.astimezone(UTC).date()
    yesterday = today - timedelta(days=1)
    first = today.replace(day=1)
    if days is None:
        days = stores.spend.days(_summary_start(today), today)  # one read covers both figures
    month = sum((d.spend for day, d in days.items() if day >= first), Spend())
    spent_yesterday = days[yesterday].spend if yesterday in days else Spend()
    return SpendSummary(
        yesterday=spent_yesterday.cost,
        month_to_date=month.cost,
        monthly_budget=USD.of(policy.x_monthly_budget_usd),
        deferred_yesterday=spent_yesterday.deferred_for_budget,
        deferred_month=month.deferred_for_budget,
    )
