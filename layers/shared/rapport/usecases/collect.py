"""Collect: read what happened on X since the last run and store it as evidence, once.

Each signal comes from its cheapest correct source (docs/costs.md has the figures):

- our own posts and our mentions: owned reads ($0.001 a post), from a cursor each. A target's reply to
  us (a thanks, an answer to our question) arrives here, so targets' timelines leave replies out;
- targets' new posts ($0.005 a post), without retweets, and without replies until step 3, when their
  replies to others name the circle we will engage. A target is first read from their timeline, back
  only as far as a post can still be suggested; after that, unless the policy turns ``batched_search``
  off, the targets before step 3 are read together by recent search (``from:a OR from:b ...``, one
  request for some twenty targets instead of one each), from the time each was last read. Protected
  targets (search never finds their posts), targets at step 3 and targets search has not reached for
  almost 7 days (its reach) are read from their timelines; so is a searched target search has shown
  nothing of for ``freshness_days``, which tells whether they turned protected. Unresponsive, paused
  and snoozed targets are not read at all (what they send us comes through our mentions) until they
  come back, and a target going to rest is read only up to that moment, in the run that sees it;
- follow-backs from whichever costs less for this account, computed each run from the figures: our
  owned followers list read down to the first follower already known, or a ``connection_status``
  lookup of the targets (100 a call). New targets are checked from our whole followers list when it is
  short enough to cost less than their lookup. Targets that follow us and are not yet at the circle
  are looked up every ``freshness_days`` to see unfollows, and in the run that reads their answer.

Order matters: our own posts are read first, so that a target's reply to a question we asked in the
same window is recognised as such. Every cursor moves only after what it covers is stored, so a crash
or a rate limit at any point loses nothing: the next run reads the same window again and the
idempotent writes ignore what is already there. A 429 stops that endpoint for the rest of the run and
its reset time is kept, so the next run neither waits nor knocks before the reset.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rapport.domain.classify import Family, Me, classify
from rapport.domain.engine import replay
from rapport.domain.model import Interaction, InteractionKind, Post, Stage, Target
from rapport.domain.money import OWNED_PRICE, USD, Spend, read_price
from rapport.domain.policy import Policy
from rapport.domain.x import (
    SEARCH_DAYS,
    Timeline,
    XNotAuthorized,
    XRateLimited,
    XUnavailable,
    candidate_filter,
    is_candidate,
    search_batches,
)
from rapport.usecases.ports import DaySpend, Stores, XSource

SOURCE_MY_POSTS = "me:posts"
SOURCE_MENTIONS = "me:mentions"
TIMELINES = "users/:id/tweets"
# /2/users/:id/tweets allows 900 user-context requests per 15 minutes; a run keeps some for a retry.
TIMELINE_READS_PER_RUN = 850
SEARCH = "tweets/search/recent"
# Recent search allows 60 requests per 15 minutes on self-serve access; a run keeps some for a retry.
SEARCHES_PER_RUN = 50
# Search finds a post a moment after it is posted: the next search starts this much before the run.
SEARCH_LAG = timedelta(minutes=1)
# Search reaches 7 days back; a target last searched longer ago than this is read from their timeline.
SEARCH_REACH = timedelta(days=SEARCH_DAYS) - timedelta(hours=6)
# A target X refuses to show us (protected, and we do not follow them) is tried again this often.
REFUSED_RETRY = timedelta(days=7)
# Our own posts a target's quote is recognised for: quotes come within days, and a quote of an older
# post of ours would be a response to something the method no longer follows.
OURS_KEPT = timedelta(days=14)
BUDGET_WARNING = 0.8  # share of the monthly budget from which the lowest-value reads wait

# What reading a target's timeline is worth now: questions to answer and posts to retweet first.
READ_VALUE: dict[Stage, int] = {
    Stage.ANSWER: 3,
    Stage.RETWEET: 2,
    Stage.ASK: 2,
    Stage.CIRCLE: 1,
    Stage.UNRESPONSIVE: 0,  # their response shows up in our mentions anyway
    Stage.PAUSED: 0,
}
CIRCLE_STAGES = (Stage.ASK, Stage.CIRCLE)  # their replies to others name their circle
# Targets whose own posts cannot produce a suggestion: only what they send us matters, and that comes
# through our mentions (owned). Their timelines rest until they respond again.
RESTING_STAGES = (Stage.UNRESPONSIVE, Stage.PAUSED)
# An unfollow changes the method only before their answer (step 3 falls back); at the circle it does not.
UNFOLLOW_MATTERS = frozenset(Stage) - {Stage.CIRCLE}


def target_source(target_id: str) -> str:
    return f"target:{target_id}"


@dataclass(slots=True)
class CollectReport:
    at: datetime
    stored: int = 0
    targets_with_news: set[str] = field(default_factory=set)
    deferred: list[str] = field(default_factory=list)  # sources left for the next run, and why
    deferred_for_budget: int = 0
    follow_backs_by: str = ""  # "followers" or "lookup": the cheaper source this run
    timelines_read: int = 0
    searches: int = 0  # recent searches that read targets' new posts
    spend: Spend = field(default_factory=Spend)

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "stored": self.stored,
            "targets_with_news": sorted(self.targets_with_news),
            "deferred": self.deferred,
            "deferred_for_budget": self.deferred_for_budget,
            "follow_backs_by": self.follow_backs_by,
            "timelines_read": self.timelines_read,
            "searches": self.searches,
            "x_api": {
                "requests": self.spend.requests,
                "posts": self.spend.posts,
                "users": self.spend.users,
                "followers": self.spend.followers,
                "cost_usd": self.spend.cost.dollars,
            },
        }


@dataclass(slots=True)
class _Run:
    stores: Stores
    x: XSource
    at: datetime
    me: Me
    targets: dict[str, Target]
    policy: Policy
    report: CollectReport
    cursors: dict[str, str]
    limited: dict[str, str]  # endpoint -> reset time (ISO) of a 429 not yet reset
    state: dict[str, Any]  # the collector's stored state, read once per run
    moved: dict[str, str] = field(default_factory=dict)  # cursors to store: their posts are stored
    retweeted: set[str] = field(default_factory=set)  # targets we retweeted since the last run
    answered: set[str] = field(default_factory=set)  # targets who answered our question since then
    refused: set[str] = field(default_factory=set)  # sources whose posts X would not show us this run
    _known: dict[tuple[str, Family], set[str]] = field(default_factory=dict)
    ours: dict[str, str] = field(init=False)  # our recent original posts: id -> when

    def __post_init__(self) -> None:
        self.ours = dict(self.state.get("ours") or {})  # this run adds what it reads of ours

    def known(self, target_id: str, family: Family) -> set[str]:
        if family == "our_posts":
            return set(self.ours)
        key = (target_id, family)
        if key not in self._known:
            interactions = self.stores.evidence.interactions(target_id)
            if family == "our_questions":
                ids = {i.id for i in interactions if i.kind is InteractionKind.OUR_QUESTION}
            else:
                ids = {i.id for i in interactions if i.kind is InteractionKind.TARGET_POST and i.is_question}
            self._known[key] = ids
        return self._known[key]

    def store(self, posts: list[Post]) -> None:
        for post in posts:  # oldest first, so a question is known before its answer
            if post.author_id == self.me.id and post.retweeted_id is None:
                self.ours[post.id] = post.created_at.isoformat()  # a target may quote it later
            for interaction in classify(post, self.me, self.targets, self.known):
                self._remember(interaction)
                if self.stores.evidence.add_interaction(interaction):
                    self.report.stored += 1
                    self.report.targets_with_news.add(interaction.target_id)
                    if interaction.kind is InteractionKind.OUR_RETWEET:
                        self.retweeted.add(interaction.target_id)
                    elif interaction.kind is InteractionKind.REPLY_TO_QUESTION:
                        self.answered.add(interaction.target_id)

    def _remember(self, interaction: Interaction) -> None:
        if interaction.kind is InteractionKind.OUR_QUESTION:
            self._known.setdefault((interaction.target_id, "our_questions"), set()).add(interaction.id)
        elif interaction.kind is InteractionKind.TARGET_POST and interaction.is_question:
            self._known.setdefault((interaction.target_id, "their_questions"), set()).add(interaction.id)

    def blocked(self, endpoint: str) -> str | None:
        reset = self.limited.get(endpoint)
        if reset is None:
            return None
        if datetime.fromisoformat(reset) <= self.at:
            del self.limited[endpoint]
            return None
        return reset

    def read(self, source: str, endpoint: str, fetch: _Fetch) -> bool:
        """Read one source from its cursor and store what it says. False when it must wait."""
        reset = self.blocked(endpoint)
        if reset is not None:
            self.report.deferred.append(f"{source}: rate limited on {endpoint} until {reset}")
            return False
        since = self.cursors.get(source)
        try:
            timeline = fetch(since, self.at - timedelta(days=self.policy.first_read_days))
        except XRateLimited as exc:
            reset_at = exc.reset_at or self.at + timedelta(minutes=15)
            self.limited[endpoint] = reset_at.isoformat()
            self.report.deferred.append(f"{source}: {exc}")
            return False
        except XUnavailable as exc:
            self.report.deferred.append(f"{source}: {exc}")
            return False
        except XNotAuthorized as exc:
            self.refused.add(source)
            self.report.deferred.append(f"{source}: {exc}")
            return False
        self.store(timeline.posts)
        if timeline.newest_id is not None:
            self.moved[source] = timeline.newest_id  # written with the others once the run has read
            self.cursors[source] = timeline.newest_id
        elif not timeline.complete:
            self.report.deferred.append(f"{source}: more than one run's pages; continues next run")
        return True


_Fetch = Callable[[str | None, datetime], Timeline]


# Kinds re-read run after run (the same targets looked up, the head of our followers list): X bills
# them once a UTC day, so the day remembers them. Posts are read once anyway, from cursors.
BILLED_DAILY = ("users", "followers")


def collect(stores: Stores, x: XSource, at: datetime) -> CollectReport:
    """Read our posts, our mentions, each target's new posts and follow-backs; store the evidence."""
    report = CollectReport(at=at)
    policy, stored_me = stores.settings.policy_and_me()
    me_record = me_on_x(stores, x, stored_me)
    me = Me(me_record["id"], me_record["username"])
    targets = {t.id: t for t in stores.targets.list_targets()}
    state = stores.collector.collect_states()
    limited = dict(state.get("rate_limits") or {})
    run = _Run(stores, x, at, me, targets, policy, report, stores.collector.cursors(), limited, state)
    day = at.astimezone(UTC).date()
    month = stores.spend.days(day.replace(day=1), day)  # one read: the budget and today's billed users
    budget_used = _budget_used(month, policy)
    # Users looked up by earlier runs today cost nothing more.
    x.usage.billed_before(set(month[day].billed) if day in month else set())

    run.read(
        SOURCE_MY_POSTS,
        TIMELINES,
        lambda since, start: x.posts_of(me.id, since, start, owned=True),
    )
    run.read(
        SOURCE_MENTIONS,
        "users/:id/mentions",
        lambda since, start: x.mentions(me.id, since, start),
    )
    _timelines(run, budget_used)
    _keep(run, "ours", {pid: when for pid, when in run.ours.items() if _recent(when, at, OURS_KEPT)})
    # Cursors move only now, after everything they cover is stored; a crash before this point only
    # makes the next run read the same window again (the writes above are idempotent).
    stores.collector.set_cursors(run.moved, at)
    _follow_backs(run, budget_used)

    if run.limited != (state.get("rate_limits") or {}):
        stores.collector.set_collect_state("rate_limits", run.limited, at)
    u = x.usage
    report.spend = u.spend(report.deferred_for_budget)
    # Keyed by the run (its scheduled time): a retry re-reads what X bills once a day, so it adds nothing.
    stores.spend.add_spend(day, report.spend, x.usage.billed_now(BILLED_DAILY), run=at.isoformat())
    stores.spend.add_run(at, report.as_dict())
    return report


def _recent(when: str, at: datetime, within: timedelta) -> bool:
    return at - datetime.fromisoformat(when) <= within


def me_on_x(stores: Stores, x: XSource, stored: dict[str, str] | None) -> dict[str, str]:
    """Who "me" is on X: as stored, else asked of X once and stored for every later run."""
    if stored is not None:
        return stored
    user = x.me()
    stores.settings.put_me(user.id, user.username)
    return {"id": user.id, "username": user.username}


def _budget_used(month: dict[date, DaySpend], policy: Policy) -> float:
    """The share of this month's X budget already spent (inf with a zero budget)."""
    spent = sum((d.spend for d in month.values()), Spend()).cost
    return spent.share_of(USD.of(policy.x_monthly_budget_usd))


def search_narrowed(policy: Policy) -> str:
    """The clause that narrows the batched search to candidate posts, if the policy asks for it."""
    return candidate_filter() if policy.search_candidates_only else ""


def _searchable(run: _Run, target: Target) -> bool:
    protected = target.protected or target.id in (run.state.get("protected") or [])
    return run.policy.batched_search and target.stage not in CIRCLE_STAGES and not protected


def check_every(policy: Policy) -> timedelta:
    """How often a searched target is read from their timeline instead, to see whether search still
    finds their posts (it stops when they turn protected): within a post's freshness, so a question
    they post after turning protected is still found while it can be suggested."""
    return timedelta(days=policy.freshness_days)


def _first_check(run: _Run, target_id: str) -> str:
    """When a target joining search counts as last checked: up to half a period earlier, spread by their
    id, so the checks of many targets who joined together do not all fall on one run (the first comes
    half a period to a period after they join)."""
    half = int(check_every(run.policy).total_seconds() // 120)
    return (run.at - timedelta(minutes=zlib.crc32(target_id.encode()) % max(1, half))).isoformat()


def _snoozed(run: _Run) -> set[str]:
    """Targets the user snoozed from the digest (the feedback link notes it in the collector's state)."""
    until = run.state.get("snoozed") or {}
    return {tid for tid, end in until.items() if datetime.fromisoformat(end) > run.at}


def rest_in_this_run(run: _Run) -> dict[str, datetime]:
    """Targets gone to rest since the last run, and from when: those our posts just read may have made
    unresponsive (the engine's own rule on the evidence stored so far, as evaluate will apply it), and
    those you paused since (their stage says so; their rest began with the pause)."""
    known = set(run.state.get("resting") or [])
    paused = {t.id for t in run.targets.values() if t.stage in RESTING_STAGES and t.id not in known}
    gone: dict[str, datetime] = {}
    for target_id in sorted(retweeted_to_rest(run) | paused):
        progress = replay(run.stores.evidence.interactions(target_id), run.policy, until=run.at)
        if progress.stage in RESTING_STAGES and progress.since is not None:
            gone[target_id] = progress.since
    return gone


def retweeted_to_rest(run: _Run) -> set[str]:
    """Targets a retweet of ours read this run may have made unresponsive: only a new retweet does it,
    at the retweet step (``rapport bench --levers`` turns this off)."""
    return {t for t in run.retweeted if t in run.targets and run.targets[t].stage is Stage.RETWEET}


def _timelines(run: _Run, budget_used: float) -> None:
    """Targets' new posts, in a rotation that a rate limit or a large target list resumes next run."""
    wanted: list[Target] = []
    resting = set(run.state.get("resting") or [])
    now_resting = {t.id for t in run.targets.values() if t.stage in RESTING_STAGES} | _snoozed(run)
    # Gone to rest since the last run: read up to that moment only (their posts mattered until then).
    gone = rest_in_this_run(run)
    # Targets the last run could not reach: one who has gone to rest since is read once more, from
    # its cursor, so what they posted while their posts still mattered is not lost.
    behind = set(run.state.get("behind") or [])
    refused: dict[str, str] = dict(run.state.get("refused") or {})  # target -> when X refused (ISO)
    for target in sorted(run.targets.values(), key=lambda t: t.id):
        if target.id in now_resting and target.id not in behind and target.id not in gone:
            continue
        if target.id in refused and run.at - datetime.fromisoformat(refused[target.id]) < REFUSED_RETRY:
            continue  # X refused their posts: no knocking every run, a try a week
        value = READ_VALUE[target.stage]
        if budget_used >= 1 or (budget_used >= BUDGET_WARNING and value <= 1):
            run.report.deferred_for_budget += 1
            run.report.deferred.append(f"{target_source(target.id)}: deferred to stay within the X budget")
            continue
        wanted.append(target)
    marks: dict[str, str] = dict(run.state.get("searched") or {})  # target -> searched from (ISO)
    # Searched target -> when last seen public: their timeline read, or a post of theirs search found.
    checked: dict[str, str] = dict(run.state.get("checked") or {})
    by_search, left_search = _split_for_search(run, wanted, marks, resting - behind, gone)
    checks = _checks_due(run, by_search, checked)
    by_search = {tid: since for tid, since in by_search.items() if tid not in checks}
    protected = set(run.state.get("protected") or [])
    only = search_narrowed(run.policy)
    _search(run, by_search, marks, checked)
    wanted = [t for t in wanted if t.id not in by_search]
    after = str(run.state.get("rotation") or "")
    order = [t for t in wanted if t.id > after] + [t for t in wanted if t.id <= after]
    last_read: str | None = None
    read: set[str] = set()
    for index, target in enumerate(order):
        if index >= TIMELINE_READS_PER_RUN - 1:  # one request went to our own posts
            rest = len(order) - index
            run.report.deferred.append(f"{rest} target timelines: beyond one run's share; next run")
            break
        exclude = ["retweets"] if target.stage in CIRCLE_STAGES else ["retweets", "replies"]
        source = target_source(target.id)

        # Responded again: the old cursor would bring back stale posts.
        back = target.id in resting and target.id not in behind

        def fetch(
            since: str | None,
            _start: datetime,
            tid: str = target.id,
            ex: list[str] = exclude,
            back: bool = back,
        ) -> Timeline:
            # A first read (or a comeback) goes back only as far as a post can still be acted on:
            # older posts of theirs would be paid for at $0.005 and never suggested.
            start = run.at - timedelta(days=min(run.policy.first_read_days, run.policy.freshness_days))
            end = gone.get(tid)
            if tid in checks:  # from the newest post search brought: what it missed, and what is new
                start = datetime.fromisoformat(checked.get(tid) or marks[tid])
            elif tid in left_search and not back:  # their cursor stopped when search took over
                start, since = left_search[tid], None
            elif back:
                since = None
            if end is not None and since is None and end <= start:
                return Timeline([], None)  # at rest since before this read would start: nothing to read
            timeline = run.x.posts_of(tid, since, start, owned=False, exclude=ex, end_time=end)
            missed = [p for p in timeline.posts if p.created_at < checks.get(tid, p.created_at)]
            # With the search narrowed to candidates, a post it leaves out is not a post it missed.
            if any(not only or is_candidate(p) for p in missed):
                protected.add(tid)  # posts search should have found: it no longer sees theirs
            return timeline

        if not run.read(source, TIMELINES, fetch):
            if source in run.refused:  # protected, and we may not see their posts
                refused[target.id] = run.at.isoformat()
                protected.add(target.id)
                marks.pop(target.id, None)
                continue
            if run.blocked(TIMELINES):
                rest = len(order) - index - 1
                if rest:
                    run.report.deferred.append(f"{rest} more target timelines: rate limited; next run")
                break
            continue
        run.report.timelines_read += 1
        last_read = target.id
        read.add(target.id)
        refused.pop(target.id, None)
        if target.id not in now_resting and target.id not in gone:
            resting.discard(target.id)
        if _searchable(run, target) and target.id not in gone and target.id not in protected:
            marks[target.id] = (run.at - SEARCH_LAG).isoformat()  # read up to now: search takes over
            checked[target.id] = run.at.isoformat() if target.id in checks else _first_check(run, target.id)
        else:
            marks.pop(target.id, None)
    _keep_resting(run, resting | now_resting | set(gone))
    _keep(run, "searched", {tid: mark for tid, mark in marks.items() if tid in run.targets})
    _keep(run, "checked", {tid: at for tid, at in checked.items() if tid in marks})
    _keep(run, "refused", {tid: at for tid, at in refused.items() if tid in run.targets})
    _keep(run, "protected", sorted(protected & set(run.targets)))
    unreached = {t.id for t in order} - read
    if unreached != behind:
        run.stores.collector.set_collect_state("behind", sorted(unreached), run.at)
    reached_all = run.report.timelines_read == len(order)
    if not reached_all and last_read is not None:
        run.stores.collector.set_collect_state("rotation", last_read, run.at)  # the next run starts after it


def _split_for_search(
    run: _Run,
    wanted: list[Target],
    marks: dict[str, str],
    coming_back: set[str],
    gone: dict[str, datetime],
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Who is read by search (from when), and who searched before goes back to their timeline (from
    when). A target joins the search only after a timeline read, so their history is never searched."""
    by_search: dict[str, datetime] = {}
    left: dict[str, datetime] = {}
    oldest = run.at - timedelta(days=run.policy.first_read_days)
    for target in wanted:
        mark = marks.get(target.id)
        if mark is None or target.id in coming_back:
            continue
        since = datetime.fromisoformat(mark)
        if _searchable(run, target) and run.at - since < SEARCH_REACH and target.id not in gone:
            by_search[target.id] = since
        else:
            left[target.id] = max(since, oldest)
    return by_search, left


def _checks_due(run: _Run, by_search: dict[str, datetime], checked: dict[str, str]) -> dict[str, datetime]:
    """Searched targets due a read from their timeline (``check_every``), with their search point. A
    searched target without a date yet (searched before these checks existed) gets one now."""
    for tid in by_search:
        checked.setdefault(tid, _first_check(run, tid))
    due = run.at - check_every(run.policy)
    return {tid: since for tid, since in by_search.items() if datetime.fromisoformat(checked[tid]) <= due}


def _keep(run: _Run, key: str, value: Any) -> None:
    """Store a piece of the collector's state when this run changed it."""
    if value != (run.state.get(key) or type(value)()):
        run.stores.collector.set_collect_state(key, value, run.at)


def _search(
    run: _Run, by_search: dict[str, datetime], marks: dict[str, str], checked: dict[str, str]
) -> None:
    """Targets' new posts, some twenty targets a request; those searched from the same time together.
    A target's mark moves only when their search was read to its end; the others wait, oldest first."""
    groups: dict[datetime, list[str]] = {}
    for tid, since in sorted(by_search.items()):
        groups.setdefault(since, []).append(tid)
    first = run.x.usage.requests
    only = search_narrowed(run.policy)
    batches = [
        (since, batch) for since in sorted(groups) for batch in search_batches(groups[since], only=only)
    ]
    for index, (since, batch) in enumerate(batches):
        reset = run.blocked(SEARCH)
        if reset is not None or run.x.usage.requests - first >= SEARCHES_PER_RUN:
            waiting = sum(len(b) for _since, b in batches[index:])
            why = f"rate limited until {reset}" if reset else "beyond one run's searches"
            run.report.deferred.append(f"new posts of {waiting} targets: {why}; next run")
            return
        try:
            found = run.x.search_posts(batch, since, only=only)
        except XRateLimited as exc:
            run.limited[SEARCH] = (exc.reset_at or run.at + timedelta(minutes=15)).isoformat()
            waiting = sum(len(b) for _since, b in batches[index:])
            run.report.deferred.append(f"new posts of {waiting} targets: {exc}; next run")
            return
        except XUnavailable as exc:
            run.report.deferred.append(f"new posts of {len(batch)} targets: {exc}")
            continue
        run.store(found.posts)
        run.report.searches += 1
        if found.complete:
            marks.update(dict.fromkeys(batch, (run.at - SEARCH_LAG).isoformat()))
            _newest_of_each(run, found.posts, checked)
        else:
            run.report.deferred.append(f"new posts of {len(batch)} targets: more than one run's pages")


def _newest_of_each(run: _Run, posts: list[Post], checked: dict[str, str]) -> None:
    """Each author's cursor moves to the newest post search brought (posts are oldest first), so a
    timeline read from it (``check_every``) returns only what search did not; and search finding a post
    of theirs shows they were public then, so their check waits (busy targets are never checked)."""
    for post in posts:
        run.moved[target_source(post.author_id)] = run.cursors[target_source(post.author_id)] = post.id
        seen = checked.get(post.author_id)
        if seen is None or datetime.fromisoformat(seen) < post.created_at:
            checked[post.author_id] = post.created_at.isoformat()


def _keep_resting(run: _Run, resting: set[str]) -> None:
    """Remember who rests (still a target): a comeback starts from now, not from an old cursor."""
    resting &= set(run.targets)
    if resting != set(run.state.get("resting") or []):
        run.stores.collector.set_collect_state("resting", sorted(resting), run.at)


def _follow_backs(run: _Run, budget_used: float) -> None:
    """Who started or stopped following us, from the cheaper source for this account."""
    if not run.targets:
        return
    state: dict[str, Any] = dict(run.state.get("followers") or {})
    checked = set(run.state.get("follow_checks") or [])
    head: set[str] | None = set(state["head"]) if "head" in state else None
    expected_new = float(state.get("new_per_read", 0.0))
    following = _unfollows_due(run)

    unchecked = {t for t in run.targets if t not in checked}
    if unchecked and budget_used < 1 and _whole_list(run, unchecked, state):
        checked |= unchecked  # the whole list said who of them follows us: no lookup needed
        run.stores.collector.set_collect_state("follow_checks", sorted(checked), run.at)
        run.state["followers"] = state
        head = set(state["head"])
    waiting = {t.id for t in run.targets.values() if not t.follows_us and t.id in checked}

    # The figures: our followers list bills each follower it returns at the owned price; a lookup
    # bills each target looked up at the user price. Both once per resource per UTC day.
    by_followers = (expected_new + 1) * OWNED_PRICE.dollars
    by_lookup = (read_price("users", owned=False) * len(waiting)).dollars
    use_followers = (head is not None and by_followers <= by_lookup) or budget_used >= 1
    run.report.follow_backs_by = "followers" if use_followers else "lookup"
    lookup = {t for t in run.targets if t not in checked} | following
    if use_followers:
        complete = _read_followers(run, head, expected_new)
        if not complete:
            lookup |= waiting  # the known head was not reached: ask about everyone left
    else:
        lookup |= waiting
    if head is None and not use_followers:
        _read_followers(run, head, 0.0)  # remember the head: the next runs can compare

    if budget_used >= 1 and lookup:
        run.report.deferred_for_budget += len(lookup)
        run.report.deferred.append(f"follow lookups of {len(lookup)} targets: deferred for the X budget")
        return
    if lookup and _lookup(run, sorted(lookup)):
        if not lookup <= checked:
            run.stores.collector.set_collect_state("follow_checks", sorted(checked | lookup), run.at)
        _keep(run, "unfollow_checks", _unfollows_checked(run, lookup))


def unfollow_every(policy: Policy) -> timedelta:
    """How often a target who follows us, before the circle, is looked up to see an unfollow: within a
    post's freshness, as what they are suggested changes with it (``rapport bench --levers``)."""
    return timedelta(days=policy.freshness_days)


def _unfollows_due(run: _Run) -> set[str]:
    """Targets that follow us whose unfollow would change the method, due a lookup: every
    ``unfollow_every``, and in the run that reads their answer to our question (step 3 is decided)."""
    last: dict[str, str] = run.state.get("unfollow_checks") or {}
    every = unfollow_every(run.policy)
    return {
        t.id
        for t in run.targets.values()
        if t.follows_us
        and t.stage in UNFOLLOW_MATTERS
        and (t.id in run.answered or t.id not in last or run.at - datetime.fromisoformat(last[t.id]) >= every)
    }


def _unfollows_checked(run: _Run, looked_up: set[str]) -> dict[str, str]:
    """When each target that follows us was last looked up (only those an unfollow matters for)."""
    last: dict[str, str] = dict(run.state.get("unfollow_checks") or {})
    last.update(dict.fromkeys(looked_up, run.at.isoformat()))
    return {
        tid: at
        for tid, at in last.items()
        if tid in run.targets and run.targets[tid].follows_us and run.targets[tid].stage in UNFOLLOW_MATTERS
    }


def _whole_list(run: _Run, unchecked: set[str], state: dict[str, Any]) -> bool:
    """Who of the targets never checked follows us, from our whole followers list, when that list
    costs no more than looking them up: at most ten followers ($0.001) per target ($0.010), so one
    page, and only if the last size we saw fits. True when the list was read to its end."""
    budget = 10 * len(unchecked)
    if int(state.get("total", 0)) > budget or run.blocked("users/:id/followers") is not None:
        return False
    try:
        read = run.x.new_followers(run.me.id, set(), page_size=min(1000, budget), max_pages=1)
    except (XRateLimited, XUnavailable) as exc:
        run.report.deferred.append(f"followers: {exc}")
        return False
    # A figure for the next choice: the size, or more than this budget when the list went on.
    state["total"] = len(read.ids) if read.complete else budget + 1
    if not read.complete:
        run.stores.collector.set_collect_state("followers", state, run.at)
        return False
    for user_id in reversed(read.ids):
        target = run.targets.get(user_id)
        if target is not None and user_id in unchecked and not target.follows_us:
            _follow_change(run, target, follows=True)
    state["head"] = read.head
    run.stores.collector.set_collect_state("followers", state, run.at)
    return True


def _read_followers(run: _Run, head: set[str] | None, expected_new: float) -> bool:
    endpoint = "users/:id/followers"
    reset = run.blocked(endpoint)
    if reset is not None:
        run.report.deferred.append(f"followers: rate limited until {reset}")
        return False
    try:
        read = run.x.new_followers(run.me.id, head, page_size=math.ceil(expected_new * 1.5) + 1)
    except XRateLimited as exc:
        run.limited[endpoint] = (exc.reset_at or run.at + timedelta(minutes=15)).isoformat()
        run.report.deferred.append(f"followers: {exc}")
        return False
    except XUnavailable as exc:
        run.report.deferred.append(f"followers: {exc}")
        return False
    if head is not None:  # on the first read every follower looks new: the targets' lookup tells
        for user_id in reversed(read.ids):
            target = run.targets.get(user_id)
            if target is not None and not target.follows_us:
                _follow_change(run, target, follows=True)
    # A moving average of new followers per read: the figure the next run's choice rests on.
    new_per_read = (expected_new + len(read.ids)) / 2 if head is not None else 0.0
    kept = read.head if read.head or head is None else sorted(head)
    followers = {**(run.state.get("followers") or {}), "head": kept, "new_per_read": new_per_read}
    if followers != run.state.get("followers"):
        run.stores.collector.set_collect_state("followers", followers, run.at)
    return read.complete


def _lookup(run: _Run, ids: list[str]) -> bool:
    """One ``connection_status`` lookup per 100 targets tells who follows us now."""
    try:
        users = run.x.users_by_id(ids)
    except (XRateLimited, XUnavailable) as exc:
        run.report.deferred.append(f"follow-backs: {exc}")
        return False
    for user in users:
        target = run.targets.get(user.id)
        if target is None or user.follows_me is None or user.follows_me == target.follows_us:
            continue
        _follow_change(run, target, follows=user.follows_me)
    return True


def _follow_change(run: _Run, target: Target, *, follows: bool) -> None:
    kind = InteractionKind.FOLLOW if follows else InteractionKind.UNFOLLOW
    stamp = run.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    change = Interaction(id=f"{kind.value}:{stamp}", target_id=target.id, kind=kind, at=run.at)
    if run.stores.evidence.record_follow_change(change, follows):
        run.report.stored += 1
        run.report.targets_with_news.add(target.id)
    run.targets[target.id] = _with_follows(target, follows)


def _with_follows(target: Target, follows: bool) -> Target:
    return replace(target, follows_us=follows)
