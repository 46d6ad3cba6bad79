"""Small JSON documents: the collector's cursors and state, the user's settings and "me"."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rapport.adapters.dynamodb.table import ValueItem, get_value, put_value
from rapport.domain.policy import Policy, PolicyDefaults

CURSOR = "CURSOR"
COLLECT = "COLLECT"
SETTINGS = "SETTINGS"


class DynamoCollectorStateStore:
    def cursors(self) -> dict[str, str]:
        return {i.sk: str(json.loads(i.value)) for i in ValueItem.query(CURSOR)}

    def set_cursors(self, cursors: dict[str, str], at: datetime) -> None:
        with ValueItem.batch_write() as batch:  # 25 per DynamoDB batch
            for source, since_id in sorted(cursors.items()):
                batch.save(
                    ValueItem(CURSOR, source, value=json.dumps(since_id, sort_keys=True), updated_at=at)
                )

    def collect_states(self) -> dict[str, Any]:
        return {i.sk: json.loads(i.value) for i in ValueItem.query(COLLECT)}

    def set_collect_state(self, name: str, value: Any, at: datetime) -> None:
        put_value(COLLECT, name, value, at)


class DynamoSettingsStore:
    def __init__(self, defaults: PolicyDefaults) -> None:
        self.defaults = defaults  # the stack's answers stand in for settings never saved

    def policy(self) -> Policy:
        return self.defaults.policy(get_value(SETTINGS, "POLICY"))

    def put_policy(self, policy: Policy, at: datetime | None = None) -> None:
        put_value(SETTINGS, "POLICY", policy.model_dump(mode="json"), at)

    def me(self) -> dict[str, str] | None:
        value = get_value(SETTINGS, "ME")
        return dict(value) if value else None

    def put_me(self, user_id: str, username: str) -> None:
        put_value(SETTINGS, "ME", {"id": user_id, "username": username})

    def policy_and_me(self) -> tuple[Policy, dict[str, str] | None]:
        found = {i.sk: json.loads(i.value) for i in ValueItem.query(SETTINGS)}
        policy = self.defaults.policy(found.get("POLICY"))
        return policy, dict(found["ME"]) if found.get("ME") else None
