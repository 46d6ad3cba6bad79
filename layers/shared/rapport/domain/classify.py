"""What a post read from X means for the relationship with each target: pure rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from rapport.domain.model import Interaction, InteractionKind, Post, Target


@dataclass(frozen=True, slots=True)
class Me:
    id: str
    username: str


# Looks up, for one target, the ids of stored posts of one family: our questions to them, their
# questions to their network, or our own recent posts (whoever they concern: the target is ignored).
# Called only when a post needs it, so most posts cost no read.
Family = Literal["our_questions", "their_questions", "our_posts"]
KnownPosts = Callable[[str, Family], set[str]]


# The detectors compile some sixty patterns when first imported, a fifth of collect's cold start in
# instructions; they load with the first post a run classifies, so an hour with nothing new never
# pays for them (docs/coldstart.md).
def is_question(text: str) -> bool:
    from rapport.domain.detectors.questions import is_question as detected

    return detected(text)


def is_thanks(text: str, me_username: str) -> bool:
    from rapport.domain.detectors.thanks import is_thanks as detected

    return detected(text, me_username)


def classify(post: Post, me: Me, targets: Mapping[str, Target], known: KnownPosts) -> list[Interaction]:
    """The interactions one post gives, one per target it concerns (usually zero or one)."""
    if post.author_id == me.id:
        return _ours(post, me, targets, known)
    target = targets.get(post.author_id)
    if target is None or post.retweeted_id is not None:
        return []  # others' posts, and targets' own retweets, say nothing about us
    return [_theirs(post, me, target, known)]


def _theirs(post: Post, me: Me, target: Target, known: KnownPosts) -> Interaction:
    speaks_to_us = post.in_reply_to_user_id == me.id or me.id in post.mention_ids
    speaks_to_us = speaks_to_us or me.username.lower() in (m.lower() for m in post.mention_usernames)
    # Quoting a post of ours answers us as a mention does, though X does not count it as one.
    quotes_us = post.quoted_id is not None and post.quoted_id in known(target.id, "our_posts")
    if not (speaks_to_us or quotes_us):
        return _interaction(
            post, target, InteractionKind.TARGET_POST, is_question=post.is_original and is_question(post.text)
        )
    if (
        post.in_reply_to_user_id == me.id
        and post.replied_to_id
        and post.replied_to_id in known(target.id, "our_questions")
    ):
        return _interaction(post, target, InteractionKind.REPLY_TO_QUESTION, refers_to=post.replied_to_id)
    kind = InteractionKind.THANKS if is_thanks(post.text, me.username) else InteractionKind.MENTION
    return _interaction(
        post, target, kind, refers_to=post.replied_to_id or (post.quoted_id if quotes_us else None)
    )


def _ours(post: Post, me: Me, targets: Mapping[str, Target], known: KnownPosts) -> list[Interaction]:
    if post.retweeted_id is not None:
        # X writes a retweet as "RT @author: ..."; its first mention is the original's author.
        author = next((t for t in targets.values() if t.id in post.mention_ids[:1]), None)
        if author is None:
            by_name = {t.username.lower(): t for t in targets.values()}
            first = post.mention_usernames[:1]
            author = by_name.get(first[0].lower()) if first else None
        if author is None:
            return []
        return [_interaction(post, author, InteractionKind.OUR_RETWEET, refers_to=post.retweeted_id)]

    replied = targets.get(post.in_reply_to_user_id or "")
    mentioned = [t for t in targets.values() if t.id in post.mention_ids and t is not replied]
    asks = "?" in post.text or is_question(post.text)
    found: list[Interaction] = []
    if replied is not None:
        if post.replied_to_id and post.replied_to_id in known(replied.id, "their_questions"):
            kind = InteractionKind.OUR_ANSWER
        else:
            kind = InteractionKind.OUR_QUESTION if asks else InteractionKind.OUR_REPLY
        found.append(_interaction(post, replied, kind, refers_to=post.replied_to_id))
    for target in mentioned:
        kind = InteractionKind.OUR_QUESTION if asks else InteractionKind.OUR_REPLY
        found.append(_interaction(post, target, kind))
    return found


def _interaction(
    post: Post,
    target: Target,
    kind: InteractionKind,
    *,
    is_question: bool = False,
    refers_to: str | None = None,
) -> Interaction:
    return Interaction(
        id=post.id,
        target_id=target.id,
        kind=kind,
        at=post.created_at,
        post=post,
        is_question=is_question,
        refers_to=refers_to,
    )
