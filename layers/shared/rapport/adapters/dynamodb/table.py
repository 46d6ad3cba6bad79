"""The one table: its key schema, its item models, and what every store shares.

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
  run leases .................. pk=LEASE        sk=<function>    (holder, expires_at: one run at a time)
  targets to evaluate ......... pk=EVALUATE     sk=<target id>   (mark, evidence_at: new evidence since
                                                                  the target's last evaluation)

Every write that could be repeated by a retry is conditional or keyed by a natural id, so a
repeated run writes nothing new. A lease is taken with a conditional put (no item, an expired one,
or our own) and given back with a delete conditional on its holder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
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
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from rapport.domain.model import Stage

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


class _Gsi1(GlobalSecondaryIndex["Item"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Shared key attributes; every entity is a different sort-key family in one table."""

    class Meta:
        table_name = "rapport"
        region: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class TargetItem(Item):
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
    note = UnicodeAttribute(default="")
    protected = BooleanAttribute(default=False)


class InteractionItem(Item):
    interaction_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    is_question = BooleanAttribute(default=False)
    refers_to = UnicodeAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)  # a snooze's end
    post = UnicodeAttribute(null=True)  # the Post as JSON


class TransitionItem(Item):
    at = UTCDateTimeAttribute()
    from_stage = UnicodeAttribute(null=True)
    to_stage = UnicodeAttribute()
    reason = UnicodeAttribute()
    evidence = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]


class SuggestionItem(Item):
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
    circle = UnicodeAttribute(null=True)  # engage_circle: its members as a JSON list (why, where)
    draft = UnicodeAttribute(null=True)
    score = NumberAttribute(default=0)
    digest_date = UnicodeAttribute(null=True)
    expired_on = UnicodeAttribute(null=True)  # local date it was retired unsent (too old to act on)


class ValueItem(Item):
    """Small JSON documents: cursors, collector state, runs, the policy, "me"."""

    value = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class DigestItem(Item):
    status = UnicodeAttribute()  # "sending" until SES accepted it, then "sent"
    claimed_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    suggestion_refs = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    subject = UnicodeAttribute(default="")
    message_id = UnicodeAttribute(null=True)


class UsageItem(Item):
    requests = NumberAttribute(default=0)
    posts = NumberAttribute(default=0)
    users = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    followers = NumberAttribute(null=True)
    deferred_for_budget = NumberAttribute(null=True)  # reads collect left undone to stay in budget
    # "kind:id" of the users read this day: X bills them once a day, however many runs read them.
    billed = UnicodeSetAttribute(null=True)
    runs = UnicodeSetAttribute(null=True)  # the runs already added: a retried run adds nothing


class MarkItem(Item):
    """A target with evidence not evaluated yet: written with the evidence, deleted by its evaluation."""

    mark = NumberAttribute(default=0)  # grows with each new piece of evidence
    evidence_at = UTCDateTimeAttribute(null=True)  # the latest evidence's time


class LeaseItem(Item):
    holder = UnicodeAttribute()
    # Epoch seconds: the table's TTL attribute, so a lease nobody released also ages out of the table.
    expires_at = NumberAttribute()
    admitted = NumberAttribute(null=True)  # a throttle window's count (LeaseStore.admit)


def bind(table_name: str, region: str | None) -> None:
    """Point the item models at a table.

    PynamoDB keeps the table name and its connection on the model class, so one table per process is
    the rule. It also caches a connection per model, bound to the endpoint of its first use: dropping
    them lets stores made later talk to the AWS of their creation (a process may start several local
    ones).
    """
    Item.Meta.table_name = table_name
    Item.Meta.region = region
    models: list[type[Item]] = [Item, *Item.__subclasses__()]  # the base model reads whole partitions
    for model in models:
        model._connection = None
    # One connection for them all (the index's model knows the whole key schema): each model's own
    # would make its own botocore session and client at its first call, loading the same service
    # and endpoint files again, some ten times in a run's first invocation.
    shared = TargetItem._get_connection()
    for model in models:
        model._connection = shared


def transaction() -> TransactWrite:
    """A transaction on the item models' one connection (``bind``): a connection of its own would make
    another botocore client and load the service's models again."""
    return TransactWrite(connection=TargetItem._get_connection().connection)


def create_table(table_name: str, region: str | None) -> None:
    """Create the table (local emulator and tests; on AWS the stack owns it)."""
    conn = Connection(region=region)
    if table_name in conn.list_tables().get("TableNames", []):
        return
    client = conn.client
    client.create_table(TableName=table_name, **TABLE_SCHEMA)
    client.get_waiter("table_exists").wait(TableName=table_name)


def target_pk(target_id: str) -> str:
    return f"TARGET#{target_id}"


def iso(at: datetime) -> str:
    """A sortable instant: sort keys by time compare as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def save_once(item: Item) -> bool:
    """Put an item only if its key is new. False when it was already there (a repeated run)."""
    try:
        item.save(condition=Item.sk.does_not_exist())
    except PutError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def update_if(item: Item, actions: Sequence[Action], condition: Condition) -> bool:
    """Update an item only if ``condition`` holds. False when it did not (the write was refused)."""
    try:
        item.update(actions=list(actions), condition=condition)
    except UpdateError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def delete_if(item: Item, condition: Condition) -> None:
    """Delete an item only if ``condition`` holds; when it no longer does, someone else's change wins."""
    try:
        item.delete(condition=condition)
    except DeleteError as exc:
        if not is_conditional_failure(exc):
            raise


def is_conditional_failure(exc: Exception) -> bool:
    """A write refused by its condition: alone, or one item's of a transaction (which cancels it whole)."""
    if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or ()
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def query_partition(pk: str) -> Iterator[dict[str, Any]]:
    """Every item of one partition, raw, whatever its model: one query (paged) for many kinds."""
    connection = Item._get_connection()
    start: dict[str, Any] | None = None
    while True:
        page = connection.query(pk, exclusive_start_key=start)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def get_value(pk: str, sk: str) -> Any | None:
    try:
        return json.loads(ValueItem.get(pk, sk).value)
    except DoesNotExist:
        return None


def put_value(pk: str, sk: str, value: Any, at: datetime | None = None) -> None:
    ValueItem(pk, sk, value=json.dumps(value, sort_keys=True), updated_at=at).save()
