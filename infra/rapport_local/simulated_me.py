"""The simulated me: reads each morning's digest and takes some of its suggestions, as a person would.

Rapport only suggests; here the person's clicks on the X Web Intents become posts in the simulated
world, published a little after the digest arrives. Each suggestion is taken with the scenario's
``me_acts.probability``, drawn from a generator seeded by the digest's date and the suggestion's place,
so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport.domain.model import SuggestionKind
from rapport_local.scenario import Reaction, Scenario
from rapport_local.xsim.behaviour import delay, first_original, seeded
from rapport_local.xsim.world import World

ANSWER = "@{target} this write-up answers it well, with numbers: https://example.com/guides/{n}"
ASK = "@{target} what would you do differently with {topic} if you started again today?"
REPLY = "@{target} that makes sense, thank you. Trying it this week."
CIRCLE_MENTION = "@{user} enjoyed your last thread, thanks for writing it up"


@dataclass(frozen=True, slots=True)
class Act:
    """What the simulated me did with one suggestion."""

    at: datetime
    kind: SuggestionKind
    target: str
    post_id: str  # what me published (a retweet, a reply, a mention)
    summary: str

    def as_dict(self) -> dict[str, str]:
        return {
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": self.kind.value,
            "target": self.target,
            "post_id": self.post_id,
            "summary": self.summary,
        }


class SimulatedMe:
    def __init__(self, scenario: Scenario, world: World) -> None:
        if scenario.me_acts is None:
            raise ValueError("the scenario gives no me_acts: the simulated you does not act")
        self.scenario = scenario
        self.world = world
        self.acts: Reaction = scenario.me_acts
        self.me = world.me.username

    def act_on(self, digest: Mapping[str, Any], received: datetime) -> list[Act]:
        """Take each of the digest's suggestions with the configured probability; return what was done."""
        done: list[Act] = []
        for index, suggestion in enumerate(digest.get("suggestions", [])):
            rng = seeded(self.scenario.seed, "me", str(digest.get("local_date")), str(index))
            if rng.random() >= self.acts.probability:
                continue
            at = received + delay(rng, self.acts)
            act = self._take(suggestion, at, serial=f"{index}{rng.randrange(10_000)}")
            if act is not None:
                done.append(act)
        return done

    def _take(self, suggestion: Mapping[str, Any], at: datetime, serial: str) -> Act | None:
        kind, target = SuggestionKind(suggestion["kind"]), str(suggestion["target"])
        post_id = str(suggestion["post_id"]) if suggestion.get("post_id") else None
        if kind is SuggestionKind.ENGAGE_CIRCLE:
            first = (suggestion.get("circle") or [{}])[0]
            if first.get("post_id") and first.get("post_author") == first.get("username"):
                # The post of theirs the target replied to: retweeting it is seen in that conversation.
                summary = f"retweeted @{first['username']}'s {first['post_id']}"
                act = self._retweet(kind, target, str(first["post_id"]), at, summary=summary)
                if act is not None:
                    return act
            return self._engage_circle(target, [str(u) for u in suggestion.get("users", [])], at)
        if kind is SuggestionKind.ASK:
            behaviour = self.scenario.behaviours.get(target)
            text = ASK.format(target=target, topic=behaviour.topics[0] if behaviour else "this")
            return self._post(kind, target, text, at, reply_to=post_id, summary="asked them a question")
        if post_id is None:
            return None
        if kind is SuggestionKind.RETWEET:
            return self._retweet(kind, target, post_id, at, summary=f"retweeted {post_id}")
        if kind is SuggestionKind.ANSWER:
            text = ANSWER.format(target=target, n=serial)
            return self._post(kind, target, text, at, reply_to=post_id, summary="answered their question")
        text = REPLY.format(target=target)
        return self._post(kind, target, text, at, reply_to=post_id, summary="replied")

    def _retweet(
        self, kind: SuggestionKind, target: str, post_id: str, at: datetime, *, summary: str
    ) -> Act | None:
        try:
            post = self.world.add_retweet(self.me, post_id, at=at)
        except ValueError:
            return None  # already retweeted, or gone: a person would simply skip it
        return Act(at, kind, target, post.id, summary)

    def _post(
        self,
        kind: SuggestionKind,
        target: str,
        text: str,
        at: datetime,
        *,
        reply_to: str | None,
        summary: str,
    ) -> Act:
        post = self.world.add_post(self.me, text, at=at, reply_to=reply_to)
        return Act(at, kind, target, post.id, summary + (f" ({reply_to})" if reply_to else ""))

    def _engage_circle(self, target: str, users: list[str], at: datetime) -> Act | None:
        """One person of their circle a day is plenty: retweet their newest post, or mention them."""
        user = self.world.user_named(users[0]) if users else None
        if user is None:
            return None
        kind = SuggestionKind.ENGAGE_CIRCLE
        latest = first_original(self.world.timeline(user.id))
        if latest is not None:
            summary = f"retweeted @{user.username}'s {latest.id}"
            if (act := self._retweet(kind, target, latest.id, at, summary=summary)) is not None:
                return act
        text = CIRCLE_MENTION.format(user=user.username)
        return self._post(kind, target, text, at, reply_to=None, summary=f"mentioned @{user.username}")
