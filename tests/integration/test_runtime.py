"""The runtime's outside-world clients against the moto server."""

from __future__ import annotations

import json
import uuid

import pytest

from rapport.repository import Repository
from rapport.runtime import EnvSettings, Services
from rapport_local.aws import FAKE_X_CREDENTIALS, LocalAws, local_aws

pytestmark = pytest.mark.integration


def test_credentials_are_read_from_the_aws_the_services_were_built_for(aws: LocalAws, repo: Repository):
    # Given a process that already read X credentials from another AWS, since gone
    with local_aws() as gone:
        Services(EnvSettings.from_env(gone.lambda_env("http://127.0.0.1:9")), repo).reader()
    # ...and a secret that only this AWS has
    name = f"rapport/x-{uuid.uuid4().hex[:8]}"
    aws.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(FAKE_X_CREDENTIALS))
    env = aws.lambda_env("http://127.0.0.1:9") | {"RAPPORT_X_SECRET_ID": name}

    # When services built for this AWS read the credentials
    reader = Services(EnvSettings.from_env(env), repo).reader()

    # Then they come from this AWS, not from a client still bound to the one that is gone
    assert reader is not None
