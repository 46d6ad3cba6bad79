"""`rapport --local setup` end to end: the CLI, X (the simulator), the local AWS and the signed admin URL.

The tests share one local stack and run in order: the first finds no targets yet.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from rapport_local.aws import SECRET, LocalAws
from rapport_local.stack_client import StackClient
from tests.integration.cli import rapport
from tests.integration.local_stack import RunningStack
from tests.integration.test_status_command import _deploy, admin_url

__all__ = ["admin_url"]  # a fixture: the deployed stack's admin URL, answering GET /status

GOOD_KEYS = {
    "consumer_key": "setup-consumer-key",
    "consumer_secret": "setup-consumer-secret",
    "access_token": "100-setup-access-token",
    "access_token_secret": "setup-access-token-secret",
}


def setup_json(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = rapport(capsys, "--local", "setup", "--json", *options)
    return code, (json.loads(out) if out.strip() else {}), err


def keys_file(directory: Path, keys: dict[str, str], name: str = "keys.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(keys), encoding="utf-8")
    return path


def aws(stack: RunningStack, service: str) -> Any:
    endpoints = stack.endpoints
    return boto3.client(
        service,
        region_name=endpoints["region"],
        endpoint_url=endpoints["aws_endpoint"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def stored_keys(stack: RunningStack) -> dict[str, str]:
    stored: dict[str, str] = json.loads(
        aws(stack, "secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    )
    return stored


def emails_sent(stack: RunningStack) -> int:
    """What the local SES counts as sent (moto counts a raw sesv2 message more than once)."""
    return int(aws(stack, "ses").get_send_quota()["SentLast24Hours"])


def test_good_keys_are_checked_with_x_stored_and_a_test_digest_sent(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a fresh local stack and the person's keys in a file
    sent_before = emails_sent(in_stack_dir)

    # When they run setup with the file
    code, report, progress = setup_json(capsys, "--x-keys-file", str(keys_file(tmp_path, GOOD_KEYS)))

    # Then X knew the keys, and they are the stack's secret now
    assert code == 0
    assert report["x_keys"] == {"set": True, "changed": True, "username": "ana_builds"}
    assert stored_keys(in_stack_dir) == GOOD_KEYS
    assert "X knows them as @ana_builds" in progress

    # And the sender's state was shown, a test digest marked [test] reached SES
    assert [i["identity"] for i in report["ses_identities"]] == ["rapport@example.com"]
    assert report["test_digest"]["sent"] is True
    assert report["test_digest"]["subject"].startswith("[test] ")
    assert emails_sent(in_stack_dir) > sent_before

    # And what is missing is the targets, with the command that adds them
    assert report["missing"] == [
        "no targets yet: `rapport targets add NAME` or `rapport targets import FILE`"
    ]
    assert "rapport targets add" in progress


def test_keys_x_refuses_are_not_stored_and_the_command_exits_1(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given stored keys, and X about to refuse the next keys it sees
    before = stored_keys(in_stack_dir)
    wrong = {**GOOD_KEYS, "consumer_secret": "mistyped"}
    fault = {"endpoint": "/2/users/me", "status": 401, "count": 1}
    requests.post(
        f"{in_stack_dir.endpoints['x_api_url']}/_sim/faults", json=fault, timeout=10
    ).raise_for_status()
    sent_before = emails_sent(in_stack_dir)

    # When setup is given the wrong keys
    code, report, err = setup_json(capsys, "--x-keys-file", str(keys_file(tmp_path, wrong)))

    # Then it says X refused them, stores nothing and sends nothing
    assert code == 1
    assert report == {}
    assert "X refused these keys (401)" in err
    assert "nothing was stored" in err
    assert stored_keys(in_stack_dir) == before
    assert emails_sent(in_stack_dir) == sent_before


def test_a_keys_file_without_the_four_keys_is_a_usage_error(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = stored_keys(in_stack_dir)
    partial = {"consumer_key": "k", "access_token": "t"}

    code, _, err = setup_json(capsys, "--x-keys-file", str(keys_file(tmp_path, partial)))

    assert code == 2
    assert "lacks consumer_secret, access_token_secret" in err
    assert stored_keys(in_stack_dir) == before


def test_a_rerun_keeps_the_keys_and_the_test_digest_leaves_the_day_s_digest_to_come(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given stored keys, a target, and the simulated clock before a day's digest hour (07:00 UTC)
    before = stored_keys(in_stack_dir)
    local = StackClient.local()
    assert rapport(capsys, "--local", "targets", "add", "person_x")[0] == 0
    now = datetime.fromisoformat(local.request("POST", "/_local/run", {"hours": 1}).body["now"])
    early = (now + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    hours = int((early - now) / timedelta(hours=1))
    assert local.request("POST", "/_local/run", {"hours": hours}).ok

    # When setup runs again, keeping the keys
    code, report, progress = setup_json(capsys, "--keep-keys")

    # Then the keys are unchanged, a test digest went out, and nothing is missing
    assert code == 0
    assert report["x_keys"] == {"set": True, "changed": False}
    assert "already set; kept" in progress
    assert stored_keys(in_stack_dir) == before
    day = report["test_digest"]["local_date"]
    assert report["test_digest"]["subject"].startswith("[test] ")
    assert report["missing"] == []
    assert "Nothing is missing" in progress

    # And at that day's digest hour the real digest is still sent
    code, out, _ = rapport(capsys, "--local", "run", "--hours", "6")
    assert code == 0
    assert f"digest sent for {day}" in out


def test_setup_without_a_local_stack_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    code, _, err = rapport(capsys, "--local", "setup", "--keep-keys")

    assert code == 2
    assert "rapport local" in err


def test_on_a_deployed_stack_setup_resends_the_verification_mails_and_lists_what_is_missing(
    aws: LocalAws,
    admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a deployed stack: its secret empty, its sender unverified, its recipient unknown to SES
    monkeypatch.chdir(tmp_path)
    name = f"rapport-{uuid.uuid4().hex[:6]}"
    _deploy(aws, name, admin_url)
    sesv2 = aws.client("sesv2")

    # When setup runs without a terminal and without a keys file
    code, out, _ = rapport(capsys, "setup", "--stack-name", name)

    # Then it asks for nothing it cannot, sends both verification mails, and sends no test digest
    assert code == 0
    assert "X keys: not asked without a terminal" in out
    assert f"SES me@{name}.example: NOT verified" in out
    assert f"SES you@{name}.example: NOT verified (state: not in SES)" in out
    assert sesv2.get_email_identity(EmailIdentity=f"you@{name}.example")["IdentityType"] == "EMAIL_ADDRESS"
    assert "Test digest: not sent" in out

    # And it ends with what is still missing: the keys and both verifications (the stack has targets)
    missing = out.split("Still missing:", 1)[1]
    assert "X keys" in missing
    assert f"SES has not verified me@{name}.example" in missing
    assert f"SES has not verified you@{name}.example" in missing
    assert "no targets yet" not in missing
    # And the targets' expected X cost over the budget, with the figure
    assert "a budget that fits your targets: At their posting rates" in " ".join(missing.split())
    assert "about $6.15 a month" in missing
