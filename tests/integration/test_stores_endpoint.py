"""Stores talk to the AWS of their creation, even when a process has talked to another one before."""

from __future__ import annotations

import pytest

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport_local.aws import REGION, local_aws
from tests.factories import target

pytestmark = pytest.mark.integration


def test_stores_made_after_a_second_local_aws_starts_read_whole_partitions_from_it():
    # The same table name on both, as the local stack uses: PynamoDB caches a connection per model.
    # Given stores that read a target's whole partition from a first local AWS, which then goes away
    with local_aws():
        create_table("rapport-local", REGION)
        first = dynamodb_stores("rapport-local", REGION)
        first.targets.put_target(target())
        assert first.evidence.history("200").target.username == "person_x"
    # When a second local AWS starts and new stores are made on it
    with local_aws():
        create_table("rapport-local", REGION)
        second = dynamodb_stores("rapport-local", REGION)
        second.targets.put_target(target("other_y"))
        # Then the partition read reaches the second one (not the endpoint the first read used)
        assert second.evidence.history("200").target.username == "other_y"
