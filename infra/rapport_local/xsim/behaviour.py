"""Scenario behaviours: the posts nobody scripted, and people reacting to what the simulated me does.

Every draw comes from a generator seeded with the scenario's seed and what the draw is about (a user and
a day, one of our posts), so a run is reproducible and one reaction never shifts another.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rapport_local.scenario import Behaviour, Reaction, Scenario
from rapport_local.xsim.records import SimPost, SimUser

QUESTIONS = (
    "How do you handle retries in {topic}?",
    "What's your go-to way to test {topic} locally?",
    "Any recommendations for learning {topic} properly?",
    "Which tools do you use to debug {topic} in production?",
    "Has anyone found a clean way to version {topic} configs?",
)
LINK_POSTS = (
    "Wrote up how we cut our {topic} bill in half: https://example.com/{user}/{n}",
    "Notes from a year of running {topic} in production https://example.com/{user}/{n}",
    "A checklist for reviewing {topic} changes: https://example.com/{user}/{n}",
)
PLAIN_POSTS = (
    "Shipping the {topic} migration today.",
    "Spent the morning deep in {topic} logs.",
    "Small {topic} win: the deploy went green first time.",
)
THANKS = (
    "@{me} thanks for sharing!",
    "@{me} thank you for the retweet, glad it was useful",
    "@{me} thanks so much for spreading the word!",
)
ANSWERS_TO_US = (
    "@{me} good question! We keep it boring: small steps and contract tests. https://example.com/{user}/a{n}",
    "@{me} we tried a few ways; what stuck was measuring first. Wrote about it: https://example.com/{user}/a{n}",
)


def seeded(seed: int, *about: str) -> random.Random:
    """A generator for one draw: string seeds hash the same in every process (unlike ``hash()``)."""
    return random.Random(":".join((str(seed), *about)))


def poisson(rng: random.Random, rate: float) -> int:
    """How many things happen in a period with ``rate`` expected (Knuth's method; rates are small)."""
    limit, k, p = math.exp(-rate), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def delay(rng: random.Random, reaction: Reaction) -> timedelta:
    low, high = reaction.hours
    return timedelta(seconds=round(rng.uniform(low, high) * 3600))


@dataclass(frozen=True, slots=True)
class PlannedPost:
    at: datetime
    by: str
    text: str
    is_question: bool


def plan_posts(scenario: Scenario) -> list[PlannedPost]:
    """Each behaving user's own posts over the scenario: a seeded daily count, questions, links, mentions."""
    planned: list[PlannedPost] = []
    for username, behaviour in sorted(scenario.behaviours.items()):
        for day in range(scenario.days):
            rng = seeded(scenario.seed, "posts", username, str(day))
            for n in range(poisson(rng, behaviour.posts_per_day)):
                at = scenario.start + timedelta(days=day, seconds=rng.randrange(86_400))
                planned.append(_planned(rng, behaviour, username, at, serial=day * 100 + n))
    return sorted(planned, key=lambda p: (p.at, p.by))


def _planned(
    rng: random.Random, behaviour: Behaviour, username: str, at: datetime, serial: int
) -> PlannedPost:
    topic = rng.choice(behaviour.topics)
    roll = rng.random()
    if roll < behaviour.questions:
        return PlannedPost(at, username, rng.choice(QUESTIONS).format(topic=topic), is_question=True)
    templates = LINK_POSTS if roll < behaviour.questions + behaviour.links else PLAIN_POSTS
    text = rng.choice(templates).format(topic=topic, user=username, n=serial)
    if behaviour.talks_with and rng.random() < 0.25:
        text = f"{text} h/t @{rng.choice(behaviour.talks_with)}"
    return PlannedPost(at, username, text, is_question=False)


class WorldForReactions(Protocol):
    """The part of the world that reactions look at and act in (the world itself, which owns them)."""

    def user(self, user_id: str) -> SimUser | None: ...

    def user_named(self, username: str) -> SimUser | None: ...

    def any_post(self, post_id: str) -> SimPost | None: ...

    def follows(self, follower_id: str, followee_id: str, *, at: datetime | None = None) -> bool: ...

    def add_post(
        self, by: str, text: str, *, at: datetime | None = None, reply_to: str | None = None
    ) -> SimPost: ...

    def follow(self, by: str, user: str, *, at: datetime | None = None) -> bool: ...


class Reactions:
    """What behaving users do after our acts; the world calls ``after_ours`` for each post of ours."""

    def __init__(self, scenario: Scenario, world: WorldForReactions) -> None:
        self.scenario = scenario
        self.world = world
        self.me = scenario.me.username
        self.unthanked: dict[str, int] = defaultdict(int)  # our retweets since their last thanks
        self.answered: dict[str, int] = defaultdict(int)  # our answers to their questions
        self.followed_back: set[str] = set()

    def populate(self) -> None:
        for planned in plan_posts(self.scenario):
            self.world.add_post(planned.by, planned.text, at=planned.at)

    def after_ours(self, post: SimPost) -> None:
        if post.retweet_of is not None:
            self._retweeted(post, post.retweet_of)
            return
        parent = self.world.any_post(post.reply_to) if post.reply_to else None
        if parent is not None and parent.author_id != post.author_id:
            if self._is_question(parent):
                self._answered(post, self._username(parent.author_id))
            elif _asks(post.text):
                self._asked(post, self._username(parent.author_id))
            return
        if _asks(post.text):
            for mention in post.mentions:
                self._asked(post, self._username(mention.user_id))

    # -- the reactions ----------------------------------------------------------------------------

    def _retweeted(self, ours: SimPost, original_id: str) -> None:
        original = self.world.any_post(original_id)
        if original is None:
            return
        author = self._username(original.author_id)
        rule = self._rule(author, "thanks")
        if rule is None:
            return
        self.unthanked[author] += 1
        if self.unthanked[author] < rule.after:
            return
        rng = seeded(self.scenario.seed, "thanks", ours.id)
        if rng.random() < rule.probability:
            self.unthanked[author] = 0
            text = rng.choice(THANKS).format(me=self.me)
            self.world.add_post(author, text, at=ours.at + delay(rng, rule))

    def _answered(self, ours: SimPost, author: str) -> None:
        rule = self._rule(author, "follows_back")
        if rule is None or author in self.followed_back:
            return
        self.answered[author] += 1
        if self.answered[author] < rule.after:
            return
        them = self.world.user_named(author)
        if them is None or self.world.follows(them.id, ours.author_id, at=ours.at):
            return
        rng = seeded(self.scenario.seed, "follows_back", ours.id)
        if rng.random() < rule.probability:
            self.followed_back.add(author)
            self.world.follow(author, self.me, at=ours.at + delay(rng, rule))

    def _asked(self, ours: SimPost, author: str) -> None:
        rule = self._rule(author, "replies_to_questions")
        if rule is None:
            return
        rng = seeded(self.scenario.seed, "replies_to_questions", ours.id, author)
        if rng.random() < rule.probability:
            text = rng.choice(ANSWERS_TO_US).format(me=self.me, user=author, n=ours.id[-6:])
            self.world.add_post(author, text, reply_to=ours.id, at=ours.at + delay(rng, rule))

    # -- helpers ----------------------------------------------------------------------------------

    def _rule(self, username: str, name: str) -> Reaction | None:
        behaviour = self.scenario.behaviours.get(username)
        return None if behaviour is None else getattr(behaviour, name)

    def _username(self, user_id: str) -> str:
        user = self.world.user(user_id)
        return user.username if user is not None else ""

    def _is_question(self, post: SimPost) -> bool:
        return post.retweet_of is None and _asks(post.text)  # every planned question has its "?"


def _asks(text: str) -> bool:
    return "?" in text


def first_original(posts: Sequence[SimPost]) -> SimPost | None:
    """The newest post that is neither a retweet nor a reply: what one retweets to engage someone."""
    return next((p for p in posts if p.retweet_of is None and p.reply_to is None), None)
