"""The method's vocabulary as plain, immutable data.

Everything here is pure Python: no I/O, no clock. The stores (the use cases' ports), the X
client and the engine (``engine``) all speak in these types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Stage(StrEnum):
    """Where a target stands in the method."""

    RETWEET = "retweet"  # step 1: retweet their useful posts until they thank us
    ANSWER = "answer"  # step 2: answer questions they ask their network
    ASK = "ask"  # step 3: they follow us; ask them something they know
    CIRCLE = "circle"  # they answered: engage two or three people of their circle
    UNRESPONSIVE = "unresponsive"  # many retweets, never an acknowledgement
    PAUSED = "paused"  # set by the user only


class InteractionKind(StrEnum):
    """What one post (or one follow change) that matters means for a target's relationship."""

    TARGET_POST = "target_post"  # a post of theirs to their network (candidate to retweet/answer/ask)
    THANKS = "thanks"  # they thanked us (mention or reply to one of our posts, with gratitude)
    MENTION = "mention"  # they mentioned us or replied to one of our posts (not a thanks)
    REPLY_TO_QUESTION = "reply_to_question"  # they replied to a post of ours that asked them something
    OUR_RETWEET = "our_retweet"  # we retweeted one of their posts
    OUR_ANSWER = "our_answer"  # we replied to a question of theirs
    OUR_QUESTION = "our_question"  # we asked them a question (reply or mention)
    OUR_REPLY = "our_reply"  # any other reply/mention of ours to them
    FOLLOW = "follow"  # they followed us
    UNFOLLOW = "unfollow"  # they stopped following us
    PAUSE = "pause"  # the user paused this target
    RESUME = "resume"  # the user resumed this target
    ADDED = "added"  # the user added this target
    # The user's answers from the digest's links (rapport.domain.feedback):
    DONE = "done"  # they did a suggestion, even if X does not show it yet
    SKIPPED = "skipped"  # not this suggestion: it never comes back
    SNOOZED = "snoozed"  # nothing for this target until ``until``
    DROPPED = "dropped"  # not this person: the target leaves the method until resumed


class SuggestionKind(StrEnum):
    RETWEET = "retweet"
    ANSWER = "answer"
    ASK = "ask"
    ENGAGE_CIRCLE = "engage_circle"
    REPLY = "reply"


# What each stage's rules suggest (rapport.domain.suggestions). A reply is always welcome while the
# method runs: they spoke first. A suggestion still waiting when its target moves to a stage that no
# longer calls for its kind (a retweet once they follow back, anything but a reply once they are
# unresponsive) is out of step: the digest retires it instead of sending it.
STAGE_SUGGESTIONS: dict[Stage, frozenset[SuggestionKind]] = {
    Stage.RETWEET: frozenset({SuggestionKind.REPLY, SuggestionKind.RETWEET}),
    Stage.ANSWER: frozenset({SuggestionKind.REPLY, SuggestionKind.RETWEET, SuggestionKind.ANSWER}),
    Stage.ASK: frozenset({SuggestionKind.REPLY, SuggestionKind.ANSWER, SuggestionKind.ASK}),
    Stage.CIRCLE: frozenset({SuggestionKind.REPLY, SuggestionKind.ANSWER, SuggestionKind.ENGAGE_CIRCLE}),
    Stage.UNRESPONSIVE: frozenset({SuggestionKind.REPLY}),
    Stage.PAUSED: frozenset(),
}


def in_step(kind: SuggestionKind, stage: Stage) -> bool:
    """Whether a target at ``stage`` is still to be offered a suggestion of ``kind``."""
    return kind in STAGE_SUGGESTIONS[stage]


@dataclass(frozen=True, slots=True)
class Post:
    """A post as Rapport keeps it: only the fields the method needs."""

    id: str
    author_id: str
    text: str
    created_at: datetime
    in_reply_to_user_id: str | None = None
    replied_to_id: str | None = None  # the post this one replies to
    retweeted_id: str | None = None  # the post this one retweets
    quoted_id: str | None = None
    mention_ids: tuple[str, ...] = ()
    mention_usernames: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()  # where the links in the text lead (X's expanded_url)
    short_urls: tuple[str, ...] = ()  # the same links as written in the text (t.co), in the same order
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    # The ids of an edited post's versions, oldest first, this one last (X gives each edit a new id
    # and serves the latest): empty for a post never edited.
    edit_history: tuple[str, ...] = ()

    @property
    def first_id(self) -> str:
        """The id the post had when it was first posted: the same for all its versions."""
        return self.edit_history[0] if self.edit_history else self.id

    @property
    def is_original(self) -> bool:
        """Neither a reply nor a retweet: a post to their whole network."""
        return self.replied_to_id is None and self.retweeted_id is None and self.in_reply_to_user_id is None

    @property
    def engagement(self) -> int:
        return self.like_count + 2 * self.retweet_count + self.reply_count + self.quote_count

    @property
    def readable_text(self) -> str:
        """The text with each t.co link replaced by where it leads, so a reader sees the destination."""
        text = self.text
        for short, full in zip(self.short_urls, self.urls, strict=False):
            if short and full:
                text = text.replace(short, full)
        return text


@dataclass(frozen=True, slots=True)
class Interaction:
    """One piece of evidence about a target, stored once per post id (or follow change)."""

    id: str  # post id, or a synthetic id for follow changes and user actions
    target_id: str
    kind: InteractionKind
    at: datetime
    post: Post | None = None
    is_question: bool = False  # for TARGET_POST: a question asked to their network
    refers_to: str | None = None  # the post of the other side this one is about
    until: datetime | None = None  # for SNOOZED: when the target may be suggested again


def one_version_each(interactions: Iterable[Interaction], *, latest: bool) -> list[Interaction]:
    """The interactions with an edited post's versions counted once.

    X gives every edit of a post (within 30 minutes of posting) a new id and serves the latest, so a
    post read before and after an edit is stored twice: a thanks would count twice, a post be
    suggested twice. ``latest`` keeps its newest version (what to show and act on), otherwise its
    first (when it happened, as the stage history has it); other interactions are kept as they are.
    """
    given = list(interactions)
    kept: dict[str, tuple[int, Interaction]] = {}  # first id -> (version number, its interaction)
    for i in given:
        if i.post is not None:
            version = len(i.post.edit_history) or 1
            held = kept.get(i.post.first_id)
            if held is None or (version > held[0]) == latest:
                kept[i.post.first_id] = (version, i)
    return [i for i in given if i.post is None or kept[i.post.first_id][1] is i]


def every_version(post_ids: Iterable[str], interactions: Iterable[Interaction]) -> set[str]:
    """``post_ids`` and the ids of their other versions that ``interactions`` know of: a retweet of,
    or a suggestion for, one version of an edited post is one of the post."""
    found = set(post_ids)
    for i in interactions:
        chain = i.post.edit_history if i.post is not None else ()
        if found.intersection(chain):
            found.update(chain)
    return found


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a target's stage, with why and the posts that prove it."""

    at: datetime
    from_stage: Stage | None
    to_stage: Stage
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CircleMember:
    """One person of a target's circle to engage: why them, and where to meet them."""

    username: str
    reason: str  # why them, in words: how often the target talks with them
    user_id: str | None = None
    post_id: str | None = None  # a post to reply to or retweet, in a conversation the target is in
    post_author_username: str | None = None  # whose post that is: theirs, or the target's naming them
    post_text: str | None = None  # known only when the post is the target's own
    draft: str | None = None  # what the reply at that post is pre-filled with (never sent by Rapport)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One action the user may take by hand (through an X Web Intent)."""

    kind: SuggestionKind
    target_id: str
    target_username: str
    created_at: datetime
    reason: str
    post_id: str | None = None
    post_text: str | None = None
    post_author_username: str | None = None
    users: tuple[str, ...] = ()  # usernames, for engage_circle
    circle: tuple[CircleMember, ...] = ()  # for engage_circle: the same people, ranked, with why and where
    draft: str | None = None  # an editable starting point for answer/ask/reply
    score: float = 0.0

    @property
    def key(self) -> str:
        """Stable identity: the same suggestion is never made twice for a target."""
        subject = self.post_id if self.post_id is not None else "+".join(sorted(self.users))
        return f"{self.kind.value}#{subject}"


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    username: str
    name: str = ""
    added_at: datetime | None = None
    stage: Stage = Stage.RETWEET
    topics: tuple[str, ...] = field(default_factory=tuple)
    follows_us: bool = False  # as last seen by collect; the evidence is the FOLLOW/UNFOLLOW interaction
    note: str = ""  # the user's own words about them; the method never reads it
    protected: bool = False  # as X said when they were added: search never finds their posts


def suggestion_ref(s: Suggestion) -> str:
    """How a digest names a suggestion: its target and its key."""
    return f"{s.target_id}|{s.key}"


LOOKBACK_SUFFIX = "#weekly"


def lookback_key(local_date: str) -> str:
    """How the digest store names a day's weekly look-back, beside that day's digest."""
    return local_date + LOOKBACK_SUFFIX


@dataclass(frozen=True, slots=True)
class DigestRecord:
    """One day's digest: claimed with its content ("sending"), then "sent" once the mail left."""

    local_date: str
    status: str
    claimed_at: datetime
    sent_at: datetime | None
    suggestion_refs: tuple[str, ...]
    message_id: str | None
