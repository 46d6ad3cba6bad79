"""Integration tests talk HTTP to a real moto server (and the X API simulator) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport.usecases.ports import Stores
from rapport_local.aws import REGION, LocalAws, local_aws, provision

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def aws_server() -> Iterator[LocalAws]:
    with local_aws() as emulator:
        yield emulator


@pytest.fixture
def aws(aws_server: LocalAws) -> LocalAws:
    # moto's state is per process: a test using in-process moto (the bench) may have reset it.
    return aws_server if aws_server.provisioned() else provision(aws_server.endpoint)


@pytest.fixture
def table_name(aws: LocalAws) -> str:
    """A fresh, empty table for each test."""
    name = f"rapport-test-{uuid.uuid4().hex[:8]}"
    create_table(name, REGION)
    return name


@pytest.fixture
def stores(table_name: str) -> Stores:
    return dynamodb_stores(table_name, REGION)
