"""Every store on one DynamoDB table."""

from __future__ import annotations

from rapport.adapters.dynamodb.digests import DynamoDigestStore
from rapport.adapters.dynamodb.leases import DynamoLeaseStore
from rapport.adapters.dynamodb.spend import DynamoSpendStore
from rapport.adapters.dynamodb.suggestions import DynamoSuggestionStore
from rapport.adapters.dynamodb.table import bind
from rapport.adapters.dynamodb.targets import DynamoEvidenceStore, DynamoTargetStore
from rapport.adapters.dynamodb.values import DynamoCollectorStateStore, DynamoSettingsStore
from rapport.domain.policy import PolicyDefaults
from rapport.usecases.ports import Stores


def dynamodb_stores(
    table_name: str, region: str | None = None, policy_defaults: PolicyDefaults | None = None
) -> Stores:
    """The stores on ``table_name``, talking to the AWS (or local endpoint) of this moment.

    ``policy_defaults`` are the stack's answers for settings never saved (the method's own without).
    """
    bind(table_name, region)
    return Stores(
        targets=DynamoTargetStore(),
        evidence=DynamoEvidenceStore(),
        suggestions=DynamoSuggestionStore(),
        digests=DynamoDigestStore(),
        spend=DynamoSpendStore(),
        collector=DynamoCollectorStateStore(),
        settings=DynamoSettingsStore(policy_defaults or PolicyDefaults()),
        leases=DynamoLeaseStore(),
    )
