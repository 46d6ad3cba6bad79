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

from rapport_local.scenario import Reaction, Scenario
from rapport_local.xsim.behaviour import delay, first_original, seeded
from rapport_local.xsim.world import SimPost, World

ANSWER = "@{target} this write-up answers it well, with numbers: https://example.com/guides/{n}"
ASK = "@{target} what would you do differently with {topic} if you started again today?"
REPLY = "@{target} that makes sense, thank you. Trying it this week."
CIRCLE_MENTION = "@{user} enjoyed your last thread, thanks for writing it up"


@dataclass(frozen=True, slots=True)
class Act:
    """What the simulated me did with one suggestion."""

    at: datetime
    kind: str  # the suggestion's kind
    target: str
    post_id: str  # what me published (a retweet, a reply, a mention)
    summary: str

    def as_dict(self) -> dict[str, str]:
        return {
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": self.kind,
            "target": self.target,
            "post_id": self.post_id,
            "summary": self.summary,
        }


class SimulatedMe:
    def __init__(self, scenario: Scenario, world: World, acts: Reaction) -> None:
        self.scenario = scenario
        self.world = world
        self.acts = acts
        self.me = scenario.me.username

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
        kind, target = str(suggestion["kind"]), str(suggestion["target"])
        post_id = suggestion.get("post_id")
        if kind == "retweet" and post_id:
            return self._retweet(kind, target, str(post_id), at)
        if kind == "answer" and post_id:
            text = ANSWER.format(target=target, n=serial)
            return self._post(
                kind, target, text, at, reply_to=str(post_id), summary="answered their question"
            )
        if kind == "ask":
            behaviour = self.scenario.behaviours.get(target)
            topic = behaviour.topics[0] if behaviour else "this"
            text = ASK.format(target=target, topic=topic)
            reply_to = str(post_id) if post_id else None
            return self._post(kind, target, text, at, reply_to=reply_to, summary="asked them a question")
        if kind == "reply" and post_id:
            text = REPLY.format(target=target)
            return self._post(kind, target, text, at, reply_to=str(post_id), summary="replied")
        if kind == "engage_circle":
            return self._engage_circle(target, [str(u) for u in suggestion.get("users", [])], at)
        return None

    def _retweet(self, kind: str, target: str, post_id: str, at: datetime) -> Act | None:
        try:
            post = self.world.add_retweet(self.me, post_id, at=at)
        except ValueError:
            return None  # already retweeted, or gone: a person would simply skip it
        return Act(at, kind, target, post.id, f"retweeted {post_id}")

    def _post(
        self, kind: str, target: str, text: str, at: datetime, *, reply_to: str | None, summary: str
    ) -> Act:
        post: SimPost = self.world.add_post(self.me, text, at=at, reply_to=reply_to)
        return Act(at, kind, target, post.id, summary + (f" ({reply_to})" if reply_to else ""))

    def _engage_circle(self, target: str, users: list[str], at: datetime) -> Act | None:
        for username in users[:1]:  # one person of their circle a day is plenty
            user = self.world.user_named(username)
            if user is None:
                continue
            latest = first_original(self.world.timeline(user.id))
            if latest is not None:
                act = self._retweet("engage_circle", target, latest.id, at)
                if act is not None:
                    return Act(at, act.kind, target, act.post_id, f"retweeted @{username}'s {latest.id}")
            text = CIRCLE_MENTION.format(user=username)
            return self._post(
                "engage_circle", target, text, at, reply_to=None, summary=f"mentioned @{username}"
            )
        return None
