"""The runtime's outside-world clients against the moto server."""

from __future__ import annotations

import json
import uuid

import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from rapport.runtime.services import Services
from rapport.runtime.settings import StackSettings
from rapport.usecases.ports import Stores
from rapport_local.aws import FAKE_X_CREDENTIALS, LocalAws, local_aws

pytestmark = pytest.mark.integration


def test_credentials_are_read_from_the_aws_the_services_were_built_for(aws: LocalAws, stores: Stores):
    # Given a process whose first read of X credentials went to another AWS, since gone
    # (Powertools' shared provider is reset, so "first" does not depend on the order tests run in)
    parameters.clear_caches()
    DEFAULT_PROVIDERS.clear()
    with local_aws() as gone:
        Services(StackSettings.from_env(gone.lambda_env("http://127.0.0.1:9")), stores).reader()
    # ...and credentials that only this test stores, in this AWS
    name = f"rapport/x-{uuid.uuid4().hex[:8]}"
    secret = {**FAKE_X_CREDENTIALS, "consumer_key": name}
    aws.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(secret))
    env = aws.lambda_env("http://127.0.0.1:9") | {"RAPPORT_X_SECRET_ID": name}

    # When services built for this AWS read the credentials
    reader = Services(StackSettings.from_env(env), stores).reader()

    # Then they are this AWS's, not read through a client still bound to the one that is gone
    assert reader.client.consumer_key == name
