"""What to suggest for a target today: pure, from its progress and evidence.

Each rule follows the method and its warning never to overdo it: retweets are capped per week,
nothing is suggested twice, stale posts are left alone, and a paused target gets nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rapport.domain.contact import OUR_REACTIONS, topic_hits
from rapport.domain.drafts import (
    answer_draft,
    ask_draft,
    best_resource,
    circle_reply_draft,
    reply_draft,
    subject_of,
)
from rapport.domain.engine import Progress
from rapport.domain.feedback import skipped, snoozed_until
from rapport.domain.model import (
    CircleMember,
    Interaction,
    InteractionKind,
    Post,
    Stage,
    Suggestion,
    SuggestionKind,
    Target,
    every_version,
    in_step,
    one_version_each,
)
from rapport.domain.policy import Policy

WEEK = timedelta(days=7)
THEY_SPOKE_TO_US = frozenset({InteractionKind.MENTION, InteractionKind.REPLY_TO_QUESTION})


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the rules look at for one target at one instant."""

    target: Target
    me_username: str
    progress: Progress
    interactions: Sequence[Interaction]
    previous: Sequence[Suggestion]
    policy: Policy
    now: datetime

    def fresh(self, post: Post) -> bool:
        return timedelta(0) <= self.now - post.created_at <= timedelta(days=self.policy.freshness_days)

    def already_suggested(self) -> set[str]:
        """Keys of the suggestions made (or skipped), for every version of an edited post."""
        keys = {s.key for s in self.previous} | skipped(self.interactions)
        return {same for key in keys for same in _every_version_of(key, self.interactions)}

    def skipped_posts(self) -> set[str]:
        """Posts of a suggestion the user skipped: not suggested again in any form."""
        posts = {key.split("#", 1)[1] for key in skipped(self.interactions) if "#" in key}
        return every_version(posts, self.interactions)

    def reacted_to(self) -> set[str]:
        """Posts of theirs we already retweeted, answered or replied to (whichever version we saw)."""
        reacted = {i.refers_to for i in self.interactions if i.kind in OUR_REACTIONS and i.refers_to}
        return every_version(reacted, self.interactions)

    def their_posts(self) -> list[Post]:
        posts = [i.post for i in self.interactions if i.kind is InteractionKind.TARGET_POST and i.post]
        return [p for p in posts if p.created_at <= self.now]

    def questions(self) -> set[str]:
        return {i.id for i in self.interactions if i.kind is InteractionKind.TARGET_POST and i.is_question}

    def subject(self, post: Post) -> str | None:
        """What a post is about, a topic of the person's or of the target's first."""
        return subject_of(post.readable_text, (*self.policy.topics, *self.target.topics))


def suggest(ctx: Context) -> list[Suggestion]:
    """All new suggestions for one target, best first. Never repeats a previous suggestion."""
    if ctx.progress.stage is Stage.PAUSED or not ctx.progress.started:
        return []
    if snoozed_until(ctx.interactions, ctx.now) is not None:
        return []
    # An edited post is read again under a new id: the rules see its newest version, once.
    ctx = replace(ctx, interactions=one_version_each(ctx.interactions, latest=True))
    made: list[Suggestion] = []
    for rule in (_replies, _asks, _answers, _circle, _retweets):
        made.extend(rule(ctx))
    seen = ctx.already_suggested()
    skipped_posts = ctx.skipped_posts()
    unique: dict[str, Suggestion] = {}
    for s in made:
        if s.key not in seen and s.post_id not in skipped_posts:
            unique.setdefault(s.key, s)
    return sorted(unique.values(), key=lambda s: -s.score)


def _every_version_of(key: str, interactions: Sequence[Interaction]) -> set[str]:
    """A suggestion's key (``kind#post``) and the keys it has for the post's other versions."""
    kind, sep, post = key.partition("#")
    if not sep:
        return {key}
    return {f"{kind}#{version}" for version in every_version([post], interactions)}


def _make(ctx: Context, kind: SuggestionKind, reason: str, score: float, **kw: object) -> Suggestion:
    return Suggestion(
        kind=kind,
        target_id=ctx.target.id,
        target_username=ctx.target.username,
        created_at=ctx.now,
        reason=reason,
        score=score,
        **kw,  # type: ignore[arg-type]
    )


def _replies(ctx: Context) -> Iterable[Suggestion]:
    """They spoke to us first: answering them is always welcome (and allowed by X's rules)."""
    if not in_step(SuggestionKind.REPLY, ctx.progress.stage):
        return
    answered = ctx.reacted_to()
    for i in ctx.interactions:
        post = i.post
        if i.kind not in THEY_SPOKE_TO_US or post is None or i.id in answered or not ctx.fresh(post):
            continue
        to_our_question = i.kind is InteractionKind.REPLY_TO_QUESTION
        what = "replied to your question" if to_our_question else "mentioned you"
        if post.quoted_id is not None and i.refers_to == post.quoted_id:
            what = "quoted your post"
        yield _make(
            ctx,
            SuggestionKind.REPLY,
            f"@{ctx.target.username} {what}: they spoke first, so a reply is welcome",
            100.0,
            post_id=post.id,
            post_text=post.readable_text,
            post_author_username=ctx.target.username,
            draft=reply_draft(post.id, ctx.subject(post), to_our_question=to_our_question),
        )


def _answers(ctx: Context) -> Iterable[Suggestion]:
    """Step 2: a question they asked their network that we can answer with a useful link."""
    if not in_step(SuggestionKind.ANSWER, ctx.progress.stage):
        return
    answered = ctx.reacted_to()
    questions = ctx.questions()
    for post in ctx.their_posts():
        if post.id not in questions or post.id in answered or not post.is_original or not ctx.fresh(post):
            continue
        hits = topic_hits(post.text, ctx.policy.topics)
        on_topic = " on a topic you know" if hits else ""
        fit = best_resource(post.readable_text, ctx.policy.links)
        if fit is not None:
            with_what = f", with your link “{fit.resource.title}”"
        else:
            with_what = (
                ". No link in your library fits it: answer in your own words, "
                "or add one with `rapport settings links add`"
            )
        yield _make(
            ctx,
            SuggestionKind.ANSWER,
            f"@{ctx.target.username} asked their network a question{on_topic}: answer while it is fresh"
            f"{with_what}",
            80.0 + 5 * hits,
            post_id=post.id,
            post_text=post.readable_text,
            post_author_username=ctx.target.username,
            draft=answer_draft(post.id, ctx.subject(post), fit),
        )


def _asks(ctx: Context) -> Iterable[Suggestion]:
    """Step 3: they follow us; ask them about something they know, on one of their posts."""
    if not in_step(SuggestionKind.ASK, ctx.progress.stage):
        return
    entered = ctx.progress.since or ctx.now
    asked = any(i.kind is InteractionKind.OUR_QUESTION and i.at >= entered for i in ctx.interactions)
    pending_ask = any(s.kind is SuggestionKind.ASK and s.created_at >= entered for s in ctx.previous)
    if asked or pending_ask:
        return
    # A post of theirs we have not reacted to yet, and not a question of theirs (that is step 2's).
    reacted, questions = ctx.reacted_to(), ctx.questions()
    candidates = [
        p
        for p in ctx.their_posts()
        if p.is_original
        and p.id not in reacted
        and p.id not in questions
        and ctx.now - p.created_at <= 2 * WEEK
    ]
    if not candidates:
        return
    topics = ctx.policy.topics
    best = max(candidates, key=lambda p: (topic_hits(p.text, topics), p.created_at, p.engagement))
    yield _make(
        ctx,
        SuggestionKind.ASK,
        f"@{ctx.target.username} follows you now: ask them about what they know",
        90.0,
        post_id=best.id,
        post_text=best.readable_text,
        post_author_username=ctx.target.username,
        draft=ask_draft(best.id, ctx.subject(best)),
    )


# How far back the circle is read: recent enough that the conversations are still going on.
CIRCLE_WINDOW = timedelta(days=28)


@dataclass(slots=True)
class _Talk:
    """How the target talked with one person lately: their replies to them, their posts naming them."""

    username: str
    user_id: str | None = None
    replies: list[Post] = field(default_factory=list)
    mentions: list[Post] = field(default_factory=list)

    @property
    def weight(self) -> int:
        # A reply is a conversation the person started and the target joined: it counts double.
        return 2 * len(self.replies) + len(self.mentions)

    @property
    def latest(self) -> datetime:
        return max(p.created_at for p in (*self.replies, *self.mentions))

    @property
    def earliest(self) -> datetime:
        return min(p.created_at for p in (*self.replies, *self.mentions))


def _names_by_id(posts: Iterable[Post]) -> dict[str, str]:
    """User id -> username, from the mention entities of posts already read (a reply names its addressee)."""
    names: dict[str, str] = {}
    for p in posts:
        if len(p.mention_ids) == len(p.mention_usernames):
            names.update(zip(p.mention_ids, p.mention_usernames, strict=True))
    return names


def _talks(ctx: Context) -> list[_Talk]:
    """The people the target replied to or named lately, most talked-with first (no extra X read)."""
    excluded = {ctx.me_username.lower(), ctx.target.username.lower()}
    posts = [p for p in ctx.their_posts() if ctx.now - p.created_at <= CIRCLE_WINDOW]
    names = _names_by_id(posts)
    talks: dict[str, _Talk] = {}

    def talk(name: str) -> _Talk:
        return talks.setdefault(name.lower(), _Talk(name))

    for p in posts:
        addressee = names.get(p.in_reply_to_user_id or "")
        if addressee is not None and addressee.lower() not in excluded:
            found = talk(addressee)
            found.user_id = p.in_reply_to_user_id
            found.replies.append(p)
        for i, name in enumerate(p.mention_usernames):
            if name.lower() in excluded or (addressee is not None and name.lower() == addressee.lower()):
                continue
            found = talk(name)
            if found.user_id is None and len(p.mention_ids) == len(p.mention_usernames):
                found.user_id = p.mention_ids[i]
            found.mentions.append(p)
    return sorted(talks.values(), key=lambda t: (-t.weight, -t.latest.timestamp(), t.username.lower()))


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _span(since: timedelta) -> str:
    days = max(1, math.ceil(since.total_seconds() / 86400))
    if days < 14:
        return f"{days} day{'' if days == 1 else 's'}"
    return f"{round(days / 7)} weeks"


def _why(target: str, t: _Talk, now: datetime) -> str:
    said = []
    if t.replies:
        said.append(f"replied to them {_times(len(t.replies))}")
    if t.mentions:
        posts = len(t.mentions)
        said.append(f"named them in {posts} post{'' if posts == 1 else 's'}")
    return f"@{target} {' and '.join(said)} in {_span(now - t.earliest)}"


def _member(ctx: Context, t: _Talk) -> CircleMember:
    """Why them, and the post to meet them at: theirs the target replied to, else the target's naming them."""
    target = ctx.target.username
    replied = [p for p in t.replies if p.replied_to_id]
    if replied:
        newest = max(replied, key=lambda p: p.created_at)
        assert newest.replied_to_id is not None
        return CircleMember(
            username=t.username,
            reason=_why(target, t, ctx.now),
            user_id=t.user_id,
            post_id=newest.replied_to_id,
            post_author_username=t.username,
            # Their post is not read: what the target said under it tells what the conversation is about.
            draft=circle_reply_draft(newest.replied_to_id, ctx.subject(newest)),
        )
    naming = max(t.mentions or t.replies, key=lambda p: p.created_at)
    return CircleMember(
        username=t.username,
        reason=_why(target, t, ctx.now),
        user_id=t.user_id,
        post_id=naming.id,
        post_author_username=target,
        post_text=naming.readable_text,
        draft=circle_reply_draft(naming.id, ctx.subject(naming)),
    )


def circle_members(ctx: Context) -> list[CircleMember]:
    """The two or three people to engage, ranked: whom the target replied to and named most lately."""
    return [_member(ctx, t) for t in _talks(ctx)[: ctx.policy.circle_size]]


def _circle(ctx: Context) -> Iterable[Suggestion]:
    """After step 3: appear in their feed through two or three people of their circle."""
    if not in_step(SuggestionKind.ENGAGE_CIRCLE, ctx.progress.stage):
        return
    if any(s.kind is SuggestionKind.ENGAGE_CIRCLE and ctx.now - s.created_at < WEEK for s in ctx.previous):
        return
    members = circle_members(ctx)
    if len(members) < 2:
        return
    yield _make(
        ctx,
        SuggestionKind.ENGAGE_CIRCLE,
        f"@{ctx.target.username} talks most with these people: join a conversation @{ctx.target.username} "
        "is in, so they see you there, then follow them",
        60.0,
        users=tuple(m.username for m in members),
        circle=tuple(members),
    )


def _retweets(ctx: Context) -> Iterable[Suggestion]:
    """Step 1: retweet a genuinely useful post of theirs, a couple of times a week at most."""
    if not in_step(SuggestionKind.RETWEET, ctx.progress.stage):
        return
    week_ago = ctx.now - WEEK
    recent = {s.key for s in ctx.previous if s.kind is SuggestionKind.RETWEET and s.created_at > week_ago}
    recent |= {
        f"{SuggestionKind.RETWEET.value}#{i.refers_to}"
        for i in ctx.interactions
        if i.kind is InteractionKind.OUR_RETWEET and i.at > week_ago
    }
    if len(recent) >= ctx.policy.retweet_suggestions_per_week:
        return
    reacted, suggested, questions = ctx.reacted_to(), ctx.already_suggested(), ctx.questions()
    candidates = [
        p
        for p in ctx.their_posts()
        if p.is_original
        and p.id not in questions
        and p.id not in reacted
        and f"{SuggestionKind.RETWEET.value}#{p.id}" not in suggested
        and ctx.fresh(p)
    ]
    if not candidates:
        return
    topics = ctx.policy.topics

    def usefulness(p: Post) -> float:
        return 2.0 * bool(p.urls) + topic_hits(p.text, topics) + math.log1p(p.engagement)

    best = max(candidates, key=lambda p: (usefulness(p), p.created_at))
    why = "a useful post with a link" if best.urls else "a useful post"
    yield _make(
        ctx,
        SuggestionKind.RETWEET,
        f"{why} by @{ctx.target.username}: retweet until they thank you",
        20.0 + usefulness(best),
        post_id=best.id,
        post_text=best.readable_text,
        post_author_username=ctx.target.username,
    )
