"""The weekly look-back, chosen from what the digest already read: pure, time passed in.

Once a week, on the day the person chose (``Policy.weekly_lookback``), a short email says what the
week brought: stage changes, thanks, replies and follow-backs received, X spend, and where each
target stood at the end of each of the last weeks, so progress shows at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from rapport.domain.contact import IN_TOUCH
from rapport.domain.model import Interaction, InteractionKind, Stage, Target, Transition
from rapport.domain.money import USD
from rapport.domain.policy import Policy
from rapport.email.view import LookbackView, Received, SpendSummary, TargetWeeks

WEEK = timedelta(days=7)
WEEKS_CHARTED = 6

# What came back from a target, in words, by the kind of evidence it left.
RECEIVED: dict[InteractionKind, str] = {
    InteractionKind.THANKS: "thanked you",
    InteractionKind.MENTION: "mentioned or replied to you",
    InteractionKind.REPLY_TO_QUESTION: "answered your question",
    InteractionKind.FOLLOW: "followed you back",
}


def week_ends(local_day: date, weeks: int = WEEKS_CHARTED) -> tuple[date, ...]:
    """The last local day of each charted week, oldest first; the last one is ``local_day``."""
    return tuple(local_day - WEEK * k for k in reversed(range(weeks)))


def _end_of(day: date, policy: Policy, at: datetime) -> datetime:
    """The instant a charted week ends: the end of its last local day, or now for the current one."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.zone)
    return min(end, at)


def stage_at(transitions: Sequence[Transition], instant: datetime) -> Stage | None:
    """Where a target stood at ``instant``: the last stage it entered by then (None: not yet a target)."""
    entered = [t for t in transitions if t.at <= instant]
    return max(entered, key=lambda t: t.at).to_stage if entered else None


def build_lookback(
    *,
    local_day: date,
    at: datetime,
    policy: Policy,
    me_username: str,
    targets: Sequence[Target],
    interactions: Mapping[str, Sequence[Interaction]],
    transitions: Mapping[str, Sequence[Transition]],
    spend_week: USD,
    spend: SpendSummary | None,
) -> LookbackView:
    """The look-back of the week ending at ``at`` (the digest hour of ``local_day``)."""
    since = at - WEEK
    changes = sorted(
        ((t.username, tr) for t in targets for tr in transitions.get(t.id, ()) if since < tr.at <= at),
        key=lambda pair: pair[1].at,
    )
    received = sorted(
        (
            Received(t.username, RECEIVED[i.kind], i.at, i.post.id if i.post else None)
            for t in targets
            for i in interactions.get(t.id, ())
            if i.kind in RECEIVED and since < i.at <= at
        ),
        key=lambda r: (r.at, r.username.lower()),
    )
    ends = week_ends(local_day)
    instants = [_end_of(day, policy, at) for day in ends]
    progress = tuple(
        TargetWeeks(
            t.username,
            tuple(stage_at(transitions.get(t.id, ()), end) for end in instants),
            tuple(
                sum(1 for i in interactions.get(t.id, ()) if i.kind in IN_TOUCH and end - WEEK < i.at <= end)
                for end in instants
            ),
        )
        for t in targets
    )
    return LookbackView(
        local_date=local_day,
        first_day=local_day - timedelta(days=6),
        me_username=me_username,
        transitions=tuple(changes),
        received=tuple(received),
        week_ends=ends,
        progress=progress,
        spend_week=spend_week,
        spend=spend,
    )
