"""The local AWS answers as moto does, with its per-request rework done once (rapport_local.aws)."""

from __future__ import annotations

import pytest

from rapport_local.aws import LocalAws

pytestmark = pytest.mark.integration


def test_an_item_with_a_binary_attribute_comes_back_as_it_was_stored(aws: LocalAws, table_name: str):
    dynamodb = aws.client("dynamodb")
    key = {"pk": {"S": "BLOB"}, "sk": {"S": "1"}}
    # Given an item holding bytes that are not text (JSON cannot carry them as they are)
    dynamodb.put_item(TableName=table_name, Item=key | {"data": {"B": b"\x00\xff rapport"}})

    # When it is read back, alone and by a query of its partition
    got = dynamodb.get_item(TableName=table_name, Key=key)["Item"]
    (queried,) = dynamodb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "BLOB"}},
    )["Items"]

    # Then both carry the same bytes
    assert got["data"]["B"] == queried["data"]["B"] == b"\x00\xff rapport"


def test_a_transaction_that_fails_a_condition_leaves_every_item_it_named_as_it_was(
    aws: LocalAws, table_name: str
):
    dynamodb = aws.client("dynamodb")
    kept = {"pk": {"S": "T"}, "sk": {"S": "kept"}}
    counter = {"pk": {"S": "T"}, "sk": {"S": "counter"}}
    dynamodb.put_item(TableName=table_name, Item=kept | {"n": {"N": "1"}})
    dynamodb.put_item(TableName=table_name, Item=counter | {"n": {"N": "1"}})
    fresh = {"pk": {"S": "T"}, "sk": {"S": "fresh"}}

    # When a transaction adds one to the counter, writes a new item, and then finds its condition false
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": counter,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": table_name, "Item": fresh | {"n": {"N": "9"}}}},
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": kept | {"n": {"N": "2"}},
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                },
            ]
        )

    # Then nothing it named changed: the counter is not counted, the new item is not there
    items = dynamodb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "T"}},
    )["Items"]
    assert sorted((i["sk"]["S"], i["n"]["N"]) for i in items) == [("counter", "1"), ("kept", "1")]
    # And the table still answers a description (moto's own serializer)
    assert dynamodb.describe_table(TableName=table_name)["Table"]["TableName"] == table_name
