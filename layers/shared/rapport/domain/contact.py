"""Being in touch with a target: which exchanges count, and when the last one was. Pure.

Its own small module because the digest, the look-back and the admin need these few names at every
run, while the suggestion rules they once came with (rapport.domain.suggestions, with the drafts and
the engine) are needed only where suggestions are made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rapport.domain.model import Interaction, InteractionKind

OUR_REACTIONS = frozenset(
    {
        InteractionKind.OUR_RETWEET,
        InteractionKind.OUR_ANSWER,
        InteractionKind.OUR_QUESTION,
        InteractionKind.OUR_REPLY,
        # "Done" from the digest: the user did it, even before X shows it; it counts as contact.
        InteractionKind.DONE,
    }
)
# Any exchange between us and them counts as being in touch; their posts to everyone do not.
IN_TOUCH = OUR_REACTIONS | {
    InteractionKind.THANKS,
    InteractionKind.MENTION,
    InteractionKind.REPLY_TO_QUESTION,
    InteractionKind.FOLLOW,
}


def last_contact(interactions: Iterable[Interaction], now: datetime) -> datetime | None:
    """The latest exchange either way (ours or theirs) up to ``now``; None if there was none."""
    return max((i.at for i in interactions if i.kind in IN_TOUCH and i.at <= now), default=None)


def topic_hits(text: str, topics: Iterable[str]) -> int:
    """How many of ``topics`` (lower case) the text mentions."""
    lowered = text.lower()
    return sum(1 for t in topics if t in lowered)
