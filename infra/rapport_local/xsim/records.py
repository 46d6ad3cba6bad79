"""What the simulated world is made of: its users, their posts and who follows whom, as frozen records.

They have a module of their own so that the world and the behaviours acting in it can both use them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rapport_local.scenario import PostMetrics, UserMetrics
from rapport_local.xsim.entities import Link, Mention


@dataclass(frozen=True, slots=True)
class SimUser:
    id: str
    username: str
    name: str
    created_at: datetime
    protected: bool = False
    suspended: bool = False
    description: str = ""
    metrics: UserMetrics = field(default_factory=UserMetrics)


@dataclass(frozen=True, slots=True)
class SimPost:
    id: str
    seq: int
    at: datetime
    author_id: str
    text: str
    mentions: tuple[Mention, ...] = ()
    links: tuple[Link, ...] = ()
    reply_to: str | None = None
    quote_of: str | None = None
    retweet_of: str | None = None
    in_reply_to_user_id: str | None = None
    conversation_id: str = ""
    metrics: PostMetrics = field(default_factory=PostMetrics)
    lang: str = "und"  # the BCP47 tag X detects; "und" when it cannot tell
    edit_history: tuple[str, ...] = ()  # an edited post's version ids, oldest first, this one last

    @property
    def key(self) -> tuple[datetime, int]:
        """Position in the world's time order (newest = largest)."""
        return (self.at, self.seq)

    @property
    def is_reply(self) -> bool:
        return self.reply_to is not None


@dataclass(frozen=True, slots=True)
class Follower:
    user: SimUser
    since: datetime
    seq: int

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.since, self.seq)
