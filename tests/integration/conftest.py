"""Integration tests talk HTTP to a real moto server (and the X API simulator) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport.usecases.ports import Stores
from rapport_local.aws import REGION, LocalAws, provision
from tests.integration.local_stack import RunningStack, running_local_stack

pytestmark = pytest.mark.integration


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


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """`rapport local` on the shipped scenario, in a directory of its own, for a test module."""
    with running_local_stack(tmp_path_factory.mktemp("local-stack")) as stack:
        yield stack


@pytest.fixture
def in_stack_dir(local_stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> RunningStack:
    """The local stack, with the tests running in its directory as the person's commands do."""
    monkeypatch.chdir(local_stack.directory)
    return local_stack
