"""The digest's words, shared by its plain-text and HTML parts: labels, stage names, ages, spend."""

from __future__ import annotations

import re
from datetime import date

from rapport.domain.model import CircleMember, Stage, Suggestion, SuggestionKind, Transition
from rapport.domain.money import ZERO
from rapport.email.links import handle
from rapport.email.view import DigestView, LosingTouch, SpendSummary, TargetStatus

__all__ = [
    "DRAFT_LABEL",
    "EMPTY_DAY",
    "FEEDBACK_INTRO",
    "FEEDBACK_LABELS",
    "HANDS_OFF",
    "LADDER",
    "MANAGE_TARGETS",
    "NO_CHANGES",
    "NO_TARGETS",
    "OFF_LADDER",
    "PAUSE_LABEL",
    "STAGE_NAMES",
    "STEP_LABELS",
    "budget_share",
    "clean",
    "count_actions",
    "funnel",
    "losing_touch_line",
    "member_why",
    "post_age",
    "since",
    "snoozed",
    "spend_lines",
    "step_label",
    "transition_summary",
]

STEP_LABELS: dict[SuggestionKind, str] = {
    SuggestionKind.RETWEET: "Step 1 · Retweet",
    SuggestionKind.ANSWER: "Step 2 · Answer their question",
    SuggestionKind.ASK: "Step 3 · Ask them",
    SuggestionKind.ENGAGE_CIRCLE: "Their circle",
    SuggestionKind.REPLY: "They spoke to you",
}

# The stage in which each numbered step is the method's current step.
_STEP_STAGES: dict[SuggestionKind, Stage] = {
    SuggestionKind.RETWEET: Stage.RETWEET,
    SuggestionKind.ANSWER: Stage.ANSWER,
    SuggestionKind.ASK: Stage.ASK,
}


def step_label(s: Suggestion, stage: Stage | None) -> str:
    """The badge of a suggestion: what to do (its kind), numbered as a step only when that step is
    where the target stands. A question asked by a target already in their circle is still worth
    answering, but it is not "Step 2" for them any more."""
    label = STEP_LABELS[s.kind]
    step_stage = _STEP_STAGES.get(s.kind)
    if step_stage is None or stage is None or stage is step_stage:
        return label
    return label.split(" · ", 1)[1]


STAGE_NAMES: dict[Stage, str] = {
    Stage.RETWEET: "Retweet",
    Stage.ANSWER: "Answer",
    Stage.ASK: "Ask",
    Stage.CIRCLE: "Circle",
    Stage.UNRESPONSIVE: "Unresponsive",
    Stage.PAUSED: "Paused",
}

# The method's ladder; UNRESPONSIVE and PAUSED sit outside it.
LADDER: tuple[Stage, ...] = (Stage.RETWEET, Stage.ANSWER, Stage.ASK, Stage.CIRCLE)

# (background, text) of the badge a target off the ladder wears.
OFF_LADDER: dict[Stage, tuple[str, str]] = {
    Stage.UNRESPONSIVE: ("#fee2e2", "#7f1d1d"),
    Stage.PAUSED: ("#e2e8f0", "#1e293b"),
}

EMPTY_DAY = "Nothing worth doing today. Rapport will look again tomorrow."
NO_CHANGES = "No stage changes since the last digest."
NO_TARGETS = "No targets yet."
HANDS_OFF = "Rapport never posts, likes or follows for you: every link opens X and you decide."
DRAFT_LABEL = "Draft (edit it before posting):"

# The answers beside each suggestion, in the person's words, by action (rapport.domain.feedback).
FEEDBACK_INTRO = "Tell Rapport:"
FEEDBACK_LABELS: dict[str, str] = {
    "done": "I did it",
    "skip": "Not this one",
    "snooze-1w": "Not now: 1 week",
    "snooze-2w": "2 weeks",
    "snooze-4w": "4 weeks",
    "drop": "Not for me",
}
PAUSE_LABEL = "Pause these emails"
MANAGE_TARGETS = (
    'Manage your targets with the rapport command: "rapport targets" lists them; show, pause, resume '
    'and remove act on one (see "The rapport command" in the README).'
)

# C0 controls (but tab and newline) and DEL are invalid in HTML and garble plain text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def count_actions(n: int) -> str:
    return f"{n} action" if n == 1 else f"{n} actions"


def spend_lines(s: SpendSummary) -> list[str]:
    share = f" ({budget_share(s):.0f}% used)" if s.monthly_budget > ZERO else ""
    lines = [
        f"X API spend yesterday: {s.yesterday.text()}",
        f"This month so far: {s.month_to_date.text()} of your {s.monthly_budget.text()} budget{share}",
    ]
    if s.deferred_month > 0:
        lines.append(
            f"Reads held back to stay within the budget: {s.deferred_yesterday} yesterday, "
            f"{s.deferred_month} this month (news may arrive late)"
        )
    if s.budget_warning:
        lines.append(s.budget_warning)
    return lines


def budget_share(s: SpendSummary) -> float:
    if s.monthly_budget <= ZERO:
        return 0.0
    return max(0.0, 100.0 * s.month_to_date.share_of(s.monthly_budget))


def post_age(view: DigestView, s: Suggestion) -> str | None:
    """How old the quoted post is, in the words a person would use."""
    posted = view.posted_at.get(s.post_id or "")
    if posted is None or view.generated_at is None:
        return None
    minutes = max(0, int((view.generated_at - posted).total_seconds() // 60))
    if minutes < 60:
        return f"posted {minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"posted {hours} hour{'' if hours == 1 else 's'} ago"
    return f"posted {hours // 24} days ago"


def funnel(view: DigestView) -> list[tuple[Stage, int]]:
    """Targets per stage, the ladder first, then those off it (only when there are some)."""
    counts = dict.fromkeys((*LADDER, *OFF_LADDER), 0)
    for status in view.targets:
        counts[status.stage] += 1
    return [(stage, n) for stage, n in counts.items() if stage in LADDER or n]


def losing_touch_line(lt: LosingTouch) -> str:
    if lt.last is None:
        return f"@{handle(lt.username)}: no exchange yet, {lt.days} days since you added them"
    return f"@{handle(lt.username)}: {lt.days} days since your last exchange ({lt.last.date().isoformat()})"


def member_why(m: CircleMember, target_username: str) -> str:
    """Why this person, and where the digest suggests meeting them (where the target will see it)."""
    name, author = handle(m.username), handle(m.post_author_username or m.username)
    target = handle(target_username)
    if m.post_id is None:
        return m.reason
    if author.lower() == name.lower():
        return f"{m.reason}. Their post @{target} replied to: reply or retweet it, @{target} sees it there."
    return f"{m.reason}. Reply to @{target}'s post that names them: both see it."


def transition_summary(t: Transition) -> str:
    if t.from_stage is None:
        return f"started at {STAGE_NAMES[t.to_stage]}"
    return f"{STAGE_NAMES[t.from_stage]} → {STAGE_NAMES[t.to_stage]}"


def snoozed(status: TargetStatus) -> str:
    """ "snoozed until ..." for a target snoozed from a digest, else nothing."""
    if status.snoozed_until is None:
        return ""
    return f"snoozed until {status.snoozed_until.date().isoformat()}"


def since(status: TargetStatus, today: date) -> str:
    days = (today - status.since.date()).days
    if days <= 0:
        return f"since {status.since.date().isoformat()} (today)"
    return f"since {status.since.date().isoformat()} ({days} day{'' if days == 1 else 's'})"
