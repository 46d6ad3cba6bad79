"""Collect: read what happened on X since the last run and store it as evidence, once.

Order matters: our own posts are read first, so that a target's reply to a question we asked in
the same window is recognised as such. Every cursor moves only after what it covers is stored,
so a crash or a rate limit at any point loses nothing: the next run reads the same window again
and the idempotent writes ignore what is already there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rapport.classify import Family, Me, classify
from rapport.domain import Interaction, InteractionKind, Post, Target
from rapport.repository import Repository, Spend
from rapport.xclient import Timeline, XRateLimited, XReader, XUnavailable

SOURCE_MY_POSTS = "me:posts"
SOURCE_MENTIONS = "me:mentions"


def target_source(target_id: str) -> str:
    return f"target:{target_id}"


@dataclass(slots=True)
class CollectReport:
    at: datetime
    stored: int = 0
    targets_with_news: set[str] = field(default_factory=set)
    deferred: list[str] = field(default_factory=list)  # sources left for the next run, and why
    spend: Spend = field(default_factory=Spend)

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "stored": self.stored,
            "targets_with_news": sorted(self.targets_with_news),
            "deferred": self.deferred,
            "x_api": {
                "requests": self.spend.requests,
                "posts": self.spend.posts,
                "users": self.spend.users,
                "cost_usd": round(self.spend.cost_usd, 6),
            },
        }


@dataclass(slots=True)
class _Run:
    repo: Repository
    x: XReader
    at: datetime
    me: Me
    targets: dict[str, Target]
    report: CollectReport
    _known: dict[tuple[str, Family], set[str]] = field(default_factory=dict)

    def known(self, target_id: str, family: Family) -> set[str]:
        key = (target_id, family)
        if key not in self._known:
            interactions = self.repo.interactions(target_id)
            if family == "our_questions":
                ids = {i.id for i in interactions if i.kind is InteractionKind.OUR_QUESTION}
            else:
                ids = {i.id for i in interactions if i.kind is InteractionKind.TARGET_POST and i.is_question}
            self._known[key] = ids
        return self._known[key]

    def store(self, posts: list[Post]) -> None:
        for post in posts:  # oldest first, so a question is known before its answer
            for interaction in classify(post, self.me, self.targets, self.known):
                self._remember(interaction)
                if self.repo.add_interaction(interaction):
                    self.report.stored += 1
                    self.report.targets_with_news.add(interaction.target_id)

    def _remember(self, interaction: Interaction) -> None:
        if interaction.kind is InteractionKind.OUR_QUESTION:
            self._known.setdefault((interaction.target_id, "our_questions"), set()).add(interaction.id)
        elif interaction.kind is InteractionKind.TARGET_POST and interaction.is_question:
            self._known.setdefault((interaction.target_id, "their_questions"), set()).add(interaction.id)

    def read(self, source: str, first_read_days: int, fetch: _Fetch) -> None:
        since = self.repo.cursor(source)
        try:
            timeline = fetch(since, self.at - timedelta(days=first_read_days))
        except (XRateLimited, XUnavailable) as exc:
            self.report.deferred.append(f"{source}: {exc}")
            return
        self.store(timeline.posts)
        if timeline.newest_id is not None:
            self.repo.set_cursor(source, timeline.newest_id, self.at)
        elif not timeline.complete:
            self.report.deferred.append(f"{source}: more than one run's pages; continues next run")


class _Fetch:
    """A read of one source from a cursor, or from a start time on the first read."""

    def __init__(self, x: XReader, kind: str, user_id: str) -> None:
        self.x, self.kind, self.user_id = x, kind, user_id

    def __call__(self, since_id: str | None, start_time: datetime) -> Timeline:
        if self.kind == "mentions":
            return self.x.mentions(self.user_id, since_id, start_time)
        if self.kind == "mine":
            return self.x.posts_of(self.user_id, since_id, start_time, owned=True)
        # Targets' own retweets say nothing about us and cost money: leave them out.
        return self.x.posts_of(self.user_id, since_id, start_time, owned=False, exclude=["retweets"])


def collect(repo: Repository, x: XReader, at: datetime) -> CollectReport:
    """Read our posts, our mentions, each target's new posts and follow-backs; store the evidence."""
    report = CollectReport(at=at)
    me_record = repo.me()
    if me_record is None:
        user = x.me()
        repo.put_me(user.id, user.username)
        me_record = {"id": user.id, "username": user.username}
    me = Me(me_record["id"], me_record["username"])
    targets = {t.id: t for t in repo.list_targets()}
    policy = repo.policy()
    run = _Run(repo, x, at, me, targets, report)

    run.read(SOURCE_MY_POSTS, policy.first_read_days, _Fetch(x, "mine", me.id))
    run.read(SOURCE_MENTIONS, policy.first_read_days, _Fetch(x, "mentions", me.id))
    for target in targets.values():
        run.read(target_source(target.id), policy.first_read_days, _Fetch(x, "target", target.id))
    _follow_backs(run)

    u = x.usage
    report.spend = Spend(u.requests, u.posts, u.users, u.cost_usd)
    repo.add_spend(at.astimezone(UTC).date(), report.spend)
    return report


def _follow_backs(run: _Run) -> None:
    """One connection_status lookup per 100 targets tells who started or stopped following us."""
    if not run.targets:
        return
    try:
        users = run.x.users_by_id(sorted(run.targets))
    except (XRateLimited, XUnavailable) as exc:
        run.report.deferred.append(f"follow-backs: {exc}")
        return
    for user in users:
        target = run.targets.get(user.id)
        if target is None or user.follows_me is None or user.follows_me == target.follows_us:
            continue
        kind = InteractionKind.FOLLOW if user.follows_me else InteractionKind.UNFOLLOW
        stamp = run.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        change = Interaction(id=f"{kind.value}:{stamp}", target_id=target.id, kind=kind, at=run.at)
        if run.repo.record_follow_change(change, user.follows_me):
            run.report.stored += 1
            run.report.targets_with_news.add(target.id)
