"""Every store contract runs twice: on the in-memory fakes and on DynamoDB (a moto server on loopback)."""

from __future__ import annotations

import uuid

import pytest

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport.usecases.ports import Stores
from rapport_local.aws import REGION, LocalAws, provision
from tests.fakes import memory_stores


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def stores(request: pytest.FixtureRequest) -> Stores:
    """Fresh, empty stores for each test."""
    if request.param == "memory":
        return memory_stores()
    server: LocalAws = request.getfixturevalue("aws_server")
    if not server.provisioned():  # moto's state is per process: another test may have reset it
        provision(server.endpoint)
    table = f"rapport-test-{uuid.uuid4().hex[:8]}"
    create_table(table, REGION)
    return dynamodb_stores(table, REGION)
