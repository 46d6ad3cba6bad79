"""The one data-access layer: a single DynamoDB table through PynamoDB.

Access patterns (see docs/data-model.md):
  target profile .............. pk=TARGET#<id>  sk=PROFILE          (gsi1: TARGETS / <username>)
  interactions of a target .... pk=TARGET#<id>  sk=I#<post id>      (written once, by post id)
  stage history of a target ... pk=TARGET#<id>  sk=T#<iso time>#<stage>
  suggestions of a target ..... pk=TARGET#<id>  sk=S#<kind>#<subject> (gsi1: PENDING / <time> while unsent)
  read cursors ................ pk=CURSOR       sk=<source>
  settings and "me" ........... pk=SETTINGS     sk=POLICY | ME
  digests ..................... pk=DIGEST       sk=<local date>
  X API spend ................. pk=USAGE        sk=<UTC date>    (reads deferred for the budget too)
  collect runs ................ pk=RUN          sk=<iso time>    (what each run read and what it cost)
  collector state ............. pk=COLLECT      sk=<name>        (followers head, rotation, checks)

Every write that could be repeated by a retry is conditional or keyed by a natural id, so a
repeated run writes nothing new.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from rapport.domain.model import (
    Interaction,
    InteractionKind,
    Post,
    Stage,
    Suggestion,
    SuggestionKind,
    Target,
    Transition,
)
from rapport.domain.policy import Policy, PolicyDefaults

PENDING = "PENDING"
TARGETS = "TARGETS"

# The table's key schema, used to create it locally; template.yaml declares the same for AWS.
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "gsi1",
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


class NotFoundError(LookupError):
    """A target, digest or setting that the caller named does not exist."""


class _Gsi1(GlobalSecondaryIndex["_Item"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _Item(Model):
    """Shared key attributes; every entity is a different sort-key family in one table."""

    class Meta:
        table_name = "rapport"
        region: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class TargetItem(_Item):
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute()
    username = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    added_at = UTCDateTimeAttribute()
    stage = UnicodeAttribute(default=Stage.RETWEET.value)
    stage_since = UTCDateTimeAttribute(null=True)
    topics = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    follows_us = BooleanAttribute(default=False)


class InteractionItem(_Item):
    interaction_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    is_question = BooleanAttribute(default=False)
    refers_to = UnicodeAttribute(null=True)
    post = UnicodeAttribute(null=True)  # the Post as JSON


class TransitionItem(_Item):
    at = UTCDateTimeAttribute()
    from_stage = UnicodeAttribute(null=True)
    to_stage = UnicodeAttribute()
    reason = UnicodeAttribute()
    evidence = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]


class SuggestionItem(_Item):
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    target_id = UnicodeAttribute()
    target_username = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute()
    post_id = UnicodeAttribute(null=True)
    post_text = UnicodeAttribute(null=True)
    post_author_username = UnicodeAttribute(null=True)
    users = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    draft = UnicodeAttribute(null=True)
    score = NumberAttribute(default=0)
    digest_date = UnicodeAttribute(null=True)
    expired_on = UnicodeAttribute(null=True)  # local date it was retired unsent (too old to act on)


class ValueItem(_Item):
    """Small JSON documents: cursors, the policy, "me"."""

    value = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class DigestItem(_Item):
    status = UnicodeAttribute()  # "sending" until SES accepted it, then "sent"
    claimed_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    suggestion_refs = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    subject = UnicodeAttribute(default="")
    message_id = UnicodeAttribute(null=True)


class UsageItem(_Item):
    requests = NumberAttribute(default=0)
    posts = NumberAttribute(default=0)
    users = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    followers = NumberAttribute(null=True)
    deferred_for_budget = NumberAttribute(null=True)  # reads collect left undone to stay in budget
    # "kind:id" of the users read this day: X bills them once a day, however many runs read them.
    billed = UnicodeSetAttribute(null=True)


def _target_pk(target_id: str) -> str:
    return f"TARGET#{target_id}"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def post_to_json(post: Post) -> str:
    data = asdict(post)
    data["created_at"] = _iso(post.created_at)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def post_from_json(raw: str) -> Post:
    data = json.loads(raw)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    for name in ("mention_ids", "mention_usernames", "urls"):
        data[name] = tuple(data.get(name, ()))
    return Post(**data)


@dataclass(frozen=True, slots=True)
class DigestRecord:
    local_date: str
    status: str
    claimed_at: datetime
    sent_at: datetime | None
    suggestion_refs: tuple[str, ...]
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Spend:
    requests: int = 0
    posts: int = 0
    users: int = 0
    cost_usd: float = 0.0
    followers: int = 0  # users read from our own followers list
    deferred_for_budget: int = 0  # reads left undone because the month's spend neared the budget


class Repository:
    """Everything Rapport stores, in the method's words."""

    def __init__(
        self, table_name: str, region: str | None = None, policy_defaults: PolicyDefaults | None = None
    ) -> None:
        # The stack's answers stand in for settings never saved; the method's own without a stack.
        self.policy_defaults = PolicyDefaults() if policy_defaults is None else policy_defaults
        # PynamoDB keeps connection details on the model class; one table per process is the rule.
        _Item.Meta.table_name = table_name
        _Item.Meta.region = region
        self.table_name = table_name
        # PynamoDB caches a connection per model, bound to the endpoint of its first use; a
        # Repository talks to the AWS of its creation (a process may start several local ones).
        for model in _Item.__subclasses__():
            model._connection = None
        self._transactions: Connection | None = None

    def _transaction_connection(self) -> Connection:
        """The models' own connection: a new one per transaction would load botocore's models again."""
        if self._transactions is None:
            self._transactions = InteractionItem._get_connection().connection
        return self._transactions

    # -- table -----------------------------------------------------------------------------------
    def create_table(self) -> None:
        """Create the table (local emulator and tests; on AWS the stack owns it)."""
        conn = Connection(region=_Item.Meta.region)
        if self.table_name in conn.list_tables().get("TableNames", []):
            return
        client = conn.client
        client.create_table(TableName=self.table_name, **TABLE_SCHEMA)
        client.get_waiter("table_exists").wait(TableName=self.table_name)

    # -- targets ---------------------------------------------------------------------------------
    def put_target(self, target: Target) -> None:
        TargetItem(
            _target_pk(target.id),
            "PROFILE",
            gsi1pk=TARGETS,
            gsi1sk=target.username.lower(),
            target_id=target.id,
            username=target.username,
            name=target.name,
            added_at=target.added_at,
            stage=target.stage.value,
            topics=list(target.topics),
            follows_us=target.follows_us,
        ).save()

    def get_target(self, target_id: str) -> Target:
        try:
            return _target(TargetItem.get(_target_pk(target_id), "PROFILE"))
        except DoesNotExist as exc:
            raise NotFoundError(f"no target with id {target_id}") from exc

    def find_target(self, username: str) -> Target | None:
        key = username.lstrip("@").lower()
        for item in TargetItem.gsi1.query(TARGETS, TargetItem.gsi1sk == key):
            if isinstance(item, TargetItem):
                return _target(item)
        return None

    def list_targets(self) -> list[Target]:
        return [_target(i) for i in TargetItem.gsi1.query(TARGETS) if isinstance(i, TargetItem)]

    def set_stage(self, target_id: str, stage: Stage, since: datetime | None) -> None:
        item = TargetItem(_target_pk(target_id), "PROFILE")
        since_action = TargetItem.stage_since.set(since) if since else TargetItem.stage_since.remove()
        item.update(actions=[TargetItem.stage.set(stage.value), since_action])

    def set_topics(self, target_id: str, topics: Iterable[str]) -> None:
        item = TargetItem(_target_pk(target_id), "PROFILE")
        item.update(actions=[TargetItem.topics.set(list(topics))])

    def remove_target(self, target_id: str) -> int:
        """Forget a target and everything learned about it. Returns the items deleted."""
        deleted = 0
        with _Item.batch_write() as batch:
            for item in _Item.query(_target_pk(target_id)):
                batch.delete(item)
                deleted += 1
        return deleted

    # -- interactions ----------------------------------------------------------------------------
    def add_interaction(self, interaction: Interaction) -> bool:
        """Store one piece of evidence once. Returns False when it was already stored."""
        return _save_once(_interaction_item(interaction))

    def record_follow_change(self, interaction: Interaction, follows_us: bool) -> bool:
        """Store a follow or unfollow and the target's follow flag together, or neither.

        Returns False when this change was already recorded (a retried run).
        """
        item = _interaction_item(interaction)
        profile = TargetItem(_target_pk(interaction.target_id), "PROFILE")
        try:
            with TransactWrite(connection=self._transaction_connection()) as tx:
                tx.save(item, condition=InteractionItem.sk.does_not_exist())
                tx.update(profile, actions=[TargetItem.follows_us.set(follows_us)])
        except TransactWriteError as exc:
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
                return False
            raise
        return True

    def interactions(self, target_id: str) -> list[Interaction]:
        items = InteractionItem.query(_target_pk(target_id), InteractionItem.sk.startswith("I#"))
        return [_interaction(target_id, i) for i in items]

    # -- stage history ---------------------------------------------------------------------------
    def add_transitions(self, target_id: str, transitions: Iterable[Transition]) -> int:
        """Append transitions not stored yet (keyed by time and stage). Returns how many were new."""
        new = 0
        for t in transitions:
            item = TransitionItem(
                _target_pk(target_id),
                f"T#{_iso(t.at)}#{t.to_stage.value}",
                at=t.at,
                from_stage=t.from_stage.value if t.from_stage else None,
                to_stage=t.to_stage.value,
                reason=t.reason,
                evidence=list(t.evidence),
            )
            new += _save_once(item)
        return new

    def transitions(self, target_id: str) -> list[Transition]:
        items = TransitionItem.query(_target_pk(target_id), TransitionItem.sk.startswith("T#"))
        return [
            Transition(
                at=i.at,
                from_stage=Stage(i.from_stage) if i.from_stage else None,
                to_stage=Stage(i.to_stage),
                reason=i.reason,
                evidence=tuple(i.evidence or ()),
            )
            for i in items
        ]

    # -- suggestions -----------------------------------------------------------------------------
    def add_suggestion(self, s: Suggestion) -> bool:
        """Store a suggestion once per target and key; it waits in the pending index for a digest."""
        item = SuggestionItem(
            _target_pk(s.target_id),
            f"S#{s.key}",
            gsi1pk=PENDING,
            gsi1sk=f"{_iso(s.created_at)}#{s.target_id}#{s.key}",
            kind=s.kind.value,
            target_id=s.target_id,
            target_username=s.target_username,
            created_at=s.created_at,
            reason=s.reason,
            post_id=s.post_id,
            post_text=s.post_text,
            post_author_username=s.post_author_username,
            users=list(s.users),
            draft=s.draft,
            score=s.score,
        )
        return _save_once(item)

    def suggestions(self, target_id: str) -> list[Suggestion]:
        items = SuggestionItem.query(_target_pk(target_id), SuggestionItem.sk.startswith("S#"))
        return [_suggestion(i) for i in items]

    def pending_suggestions(self, until: datetime) -> list[Suggestion]:
        """Suggestions made up to ``until`` and not yet in a digest, oldest first."""
        items = SuggestionItem.gsi1.query(PENDING, SuggestionItem.gsi1sk <= _iso(until) + "~")
        return [_suggestion(i) for i in items if isinstance(i, SuggestionItem)]

    def suggestions_by_ref(self, refs: Iterable[str]) -> list[Suggestion]:
        keys = [tuple(ref.split("|", 1)) for ref in refs]
        found = {
            f"{i.target_id}|{i.sk[2:]}": _suggestion(i)
            for i in SuggestionItem.batch_get([(_target_pk(t), f"S#{k}") for t, k in keys])
        }
        return [found[ref] for ref in refs if ref in found]

    def mark_sent(self, refs: Iterable[str], local_date: str) -> None:
        """Take suggestions out of the pending index: they belong to that day's digest now."""
        self._unpend(refs, SuggestionItem.digest_date.set(local_date), SuggestionItem.sk.exists())

    def expire_suggestions(self, refs: Iterable[str], local_date: str) -> None:
        """Retire suggestions too old to act on: out of the pending index, never in a digest."""
        condition = SuggestionItem.sk.exists() & SuggestionItem.digest_date.does_not_exist()
        self._unpend(refs, SuggestionItem.expired_on.set(local_date), condition)

    def _unpend(self, refs: Iterable[str], outcome: Action, condition: Condition) -> None:
        """Record what became of each suggestion and drop it from the sparse pending index."""
        for ref in refs:
            target_id, key = ref.split("|", 1)
            item = SuggestionItem(_target_pk(target_id), f"S#{key}")
            try:
                item.update(
                    actions=[outcome, SuggestionItem.gsi1pk.remove(), SuggestionItem.gsi1sk.remove()],
                    condition=condition,
                )
            except Exception as exc:  # removed since, or already settled: nothing to change
                if not _is_conditional_failure(exc):
                    raise

    def _get_value(self, pk: str, sk: str) -> Any | None:
        try:
            return json.loads(ValueItem.get(pk, sk).value)
        except DoesNotExist:
            return None

    def _put_value(self, pk: str, sk: str, value: Any, at: datetime | None = None) -> None:
        ValueItem(pk, sk, value=json.dumps(value, sort_keys=True), updated_at=at).save()

    def policy(self) -> Policy:
        value = self._get_value("SETTINGS", "POLICY")
        return self.policy_defaults.policy(value)

    def put_policy(self, policy: Policy, at: datetime | None = None) -> None:
        self._put_value("SETTINGS", "POLICY", policy.model_dump(mode="json"), at)

    def me(self) -> dict[str, str] | None:
        value = self._get_value("SETTINGS", "ME")
        return dict(value) if value else None

    def put_me(self, user_id: str, username: str) -> None:
        self._put_value("SETTINGS", "ME", {"id": user_id, "username": username})

    # -- digests ---------------------------------------------------------------------------------
    def digest(self, local_date: str) -> DigestRecord | None:
        try:
            i = DigestItem.get("DIGEST", local_date)
        except DoesNotExist:
            return None
        return _digest_record(i)

    def claim_digest(self, local_date: str, refs: Iterable[str], at: datetime) -> bool:
        """Reserve the day's digest with its content. False when someone else already holds it."""
        return _save_once(
            DigestItem("DIGEST", local_date, status="sending", claimed_at=at, suggestion_refs=list(refs))
        )

    def complete_digest(self, local_date: str, subject: str, message_id: str, at: datetime) -> None:
        DigestItem("DIGEST", local_date).update(
            actions=[
                DigestItem.status.set("sent"),
                DigestItem.subject.set(subject),
                DigestItem.message_id.set(message_id),
                DigestItem.sent_at.set(at),
            ]
        )

    def last_sent_digest(self, before: str) -> DigestRecord | None:
        for i in DigestItem.query("DIGEST", DigestItem.sk < before, scan_index_forward=False):
            if i.status == "sent":
                return _digest_record(i)
        return None

    # -- X API spend -----------------------------------------------------------------------------
    def add_spend(self, day: date, spend: Spend, billed: Iterable[str] = ()) -> None:
        """Add a run's reads to its UTC day, and remember which users that day has paid for."""
        actions: list[Action] = [
            UsageItem.requests.add(spend.requests),
            UsageItem.posts.add(spend.posts),
            UsageItem.users.add(spend.users),
            UsageItem.cost_usd.add(round(spend.cost_usd, 6)),
            UsageItem.followers.add(spend.followers),
            UsageItem.deferred_for_budget.add(spend.deferred_for_budget),
        ]
        keys = set(billed)
        if keys:  # DynamoDB refuses an empty set
            actions.append(UsageItem.billed.add(keys))
        UsageItem("USAGE", day.isoformat()).update(actions=actions)

    def billed_on(self, day: date) -> set[str]:
        """The users X has already billed that UTC day ("kind:id")."""
        try:
            return set(UsageItem.get("USAGE", day.isoformat()).billed or ())
        except DoesNotExist:
            return set()

    def spend(self, day: date) -> Spend:
        """X API spend of one UTC day; ``deferred_for_budget`` > 0 means collect held reads back."""
        try:
            i = UsageItem.get("USAGE", day.isoformat())
        except DoesNotExist:
            return Spend()
        return _spend(i)

    def spend_between(self, first: date, last: date) -> Spend:
        total = Spend()
        for i in UsageItem.query("USAGE", UsageItem.sk.between(first.isoformat(), last.isoformat())):
            one = _spend(i)
            total = Spend(
                total.requests + one.requests,
                total.posts + one.posts,
                total.users + one.users,
                total.cost_usd + one.cost_usd,
                total.followers + one.followers,
                total.deferred_for_budget + one.deferred_for_budget,
            )
        return total

    # -- collect runs and collector state --------------------------------------------------------
    def add_run(self, at: datetime, record: dict[str, Any]) -> None:
        """What one collect run read and what it cost; a retried run overwrites its own record."""
        self._put_value("RUN", _iso(at), record, at)

    def runs(self, first: datetime, last: datetime) -> list[dict[str, Any]]:
        items = ValueItem.query("RUN", ValueItem.sk.between(_iso(first), _iso(last)))
        return [dict(json.loads(i.value)) for i in items]

    def collect_states(self) -> dict[str, Any]:
        """All of the collector's state in one query (a run reads it once)."""
        return {i.sk: json.loads(i.value) for i in ValueItem.query("COLLECT")}

    def set_collect_state(self, name: str, value: Any, at: datetime) -> None:
        self._put_value("COLLECT", name, value, at)

    def set_cursors(self, cursors: dict[str, str], at: datetime) -> None:
        """Move many cursors at once (25 per DynamoDB batch), once what they cover is stored."""
        with ValueItem.batch_write() as batch:
            for source, since_id in sorted(cursors.items()):
                batch.save(
                    ValueItem("CURSOR", source, value=json.dumps(since_id, sort_keys=True), updated_at=at)
                )

    def cursors(self) -> dict[str, str]:
        """Every read cursor in one query (a run with 1,000 targets must not read them one by one)."""
        return {i.sk: str(json.loads(i.value)) for i in ValueItem.query("CURSOR")}


def _spend(i: UsageItem) -> Spend:
    return Spend(
        int(i.requests),
        int(i.posts),
        int(i.users),
        float(i.cost_usd),
        int(i.followers or 0),
        int(i.deferred_for_budget or 0),
    )


def _save_once(item: _Item) -> bool:
    """Put an item only if its key is new. False when it was already there (a repeated run)."""
    try:
        item.save(condition=_Item.sk.does_not_exist())
    except PutError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True


def _digest_record(i: DigestItem) -> DigestRecord:
    return DigestRecord(i.sk, i.status, i.claimed_at, i.sent_at, tuple(i.suggestion_refs or ()), i.message_id)


def _is_conditional_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _target(i: TargetItem) -> Target:
    return Target(
        id=i.target_id,
        username=i.username,
        name=i.name or "",
        added_at=i.added_at,
        stage=Stage(i.stage),
        topics=tuple(i.topics or ()),
        follows_us=bool(i.follows_us),
    )


def _interaction_item(interaction: Interaction) -> InteractionItem:
    return InteractionItem(
        _target_pk(interaction.target_id),
        f"I#{interaction.id}",
        interaction_id=interaction.id,
        kind=interaction.kind.value,
        at=interaction.at,
        is_question=interaction.is_question,
        refers_to=interaction.refers_to,
        post=post_to_json(interaction.post) if interaction.post else None,
    )


def _interaction(target_id: str, i: InteractionItem) -> Interaction:
    return Interaction(
        id=i.interaction_id,
        target_id=target_id,
        kind=InteractionKind(i.kind),
        at=i.at,
        post=post_from_json(i.post) if i.post else None,
        is_question=bool(i.is_question),
        refers_to=i.refers_to,
    )


def _suggestion(i: SuggestionItem) -> Suggestion:
    return Suggestion(
        kind=SuggestionKind(i.kind),
        target_id=i.target_id,
        target_username=i.target_username,
        created_at=i.created_at,
        reason=i.reason,
        post_id=i.post_id,
        post_text=i.post_text,
        post_author_username=i.post_author_username,
        users=tuple(i.users or ()),
        draft=i.draft,
        score=float(i.score or 0),
    )


def suggestion_ref(s: Suggestion) -> str:
    return f"{s.target_id}|{s.key}"
