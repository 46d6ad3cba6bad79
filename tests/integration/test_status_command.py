"""`rapport status` on a deployed stack, played by the moto server: a CloudFormation stack with the
outputs and resources status reads, and a SigV4-checking stand-in for the admin Function URL."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from rapport_local.aws import LocalAws
from rapport_local.cli import main
from rapport_local.deployed import StackAddress, open_deployed
from rapport_local.function_url import Forbidden, LocalCredentials, Received, verify_signature
from rapport_local.status import deployed_status

pytestmark = pytest.mark.integration

# `local_stack` and `in_stack_dir` (rapport local in a subprocess) come from the integration conftest.

BUDGET_WARNING = (
    "At their posting rates your targets will cost about $6.15 a month to read, over your $5.00 budget"
)
ADMIN_STATUS = {
    "x_spend": {
        "month": "2026-11",
        "spent_usd": "1.25",
        "budget_usd": "5",
        "share": 0.25,
        "expected_monthly_usd": 6.15,
        "budget_warning": BUDGET_WARNING,
    },
    "targets_by_stage": {"retweeting": 2, "asking": 1},
    "targets": 3,
}


def _admin_url_app(environ: Any, start_response: Any) -> Any:
    """Answers GET /status only to requests signed with the emulator's key, as AWS_IAM auth would."""
    request = Request(environ)
    received = Received(request.method, request.url, dict(request.headers.items()), request.get_data())
    try:
        verify_signature(received, LocalCredentials("local", "local"), "eu-west-1", datetime.now(UTC))
    except Forbidden as refused:
        return Response(json.dumps({"message": str(refused)}), 403)(environ, start_response)
    return Response(json.dumps(ADMIN_STATUS), 200, content_type="application/json")(environ, start_response)


@pytest.fixture(scope="module")
def admin_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _admin_url_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


TEMPLATE: dict[str, dict[str, Any]] = {
    "Parameters": {
        "SenderEmail": {"Type": "String"},
        "RecipientEmail": {"Type": "String"},
        "AdminUrl": {"Type": "String"},
        "SecretArn": {"Type": "String"},
    },
    "Resources": {
        "DeadLetterQueue": {"Type": "AWS::SQS::Queue"},
    },
    "Outputs": {
        "AdminFunctionUrl": {"Value": {"Ref": "AdminUrl"}},
        "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
        "XSecretArn": {"Value": {"Ref": "SecretArn"}},
    },
}


def _deploy(aws: LocalAws, name: str, admin_url: str, template: dict[str, Any] = TEMPLATE) -> str:
    # created empty, as the stack creates it
    secret: str = aws.client("secretsmanager").create_secret(Name=f"{name}/x")["ARN"]
    aws.client("sesv2").create_email_identity(EmailIdentity=f"me@{name}.example")
    parameters = {
        "SenderEmail": f"me@{name}.example",
        "RecipientEmail": f"you@{name}.example",
        "AdminUrl": admin_url,
        "SecretArn": secret,
    }
    aws.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    return secret


def test_status_reports_each_part_of_a_deployed_stack(aws, admin_url):
    # Given a deployed stack: a failing collect, a message in the dead-letter queue, its alarm firing,
    # the X secret still empty, one schedule disabled
    name = f"rapport-{uuid.uuid4().hex[:6]}"
    _deploy(aws, name, admin_url)
    stack = open_deployed(StackAddress(name))
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=stack.outputs["DeadLetterQueueUrl"], MessageBody="{}")
    alarm, quiet = f"{name}-collect-errors", f"{name}-digest-errors"
    cloudwatch = aws.client("cloudwatch")
    for each in (alarm, quiet):
        cloudwatch.put_metric_alarm(
            AlarmName=each,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=3600,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="collect failed")
    scheduler = aws.client("scheduler")
    for schedule, state in ((f"{name}-collect", "ENABLED"), (f"{name}-digest", "DISABLED")):
        scheduler.create_schedule(
            Name=schedule,
            ScheduleExpression="rate(60 minutes)",
            State=state,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:eu-west-1:123456789012:function:f",
                "RoleArn": "arn:aws:iam::1:role/r",
            },
        )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for metric, value in (("Invocations", 1), ("Errors", 1)):
        aws.client("cloudwatch").put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": f"{name}-collect"}],
                    "Timestamp": now - timedelta(hours=2),
                    "Value": value,
                }
            ],
        )
    # moto's CloudFormation creates no schedules, functions or alarms: they are listed as the stack would
    stack = replace(
        stack,
        resources=(
            *stack.resources,
            ("CollectFunction", "AWS::Lambda::Function", f"{name}-collect"),
            ("CollectFunctionSchedule", "AWS::Scheduler::Schedule", f"{name}-collect"),
            ("DigestFunctionSchedule", "AWS::Scheduler::Schedule", f"{name}-digest"),
            ("CollectErrorsAlarm", "AWS::CloudWatch::Alarm", alarm),
            ("DigestErrorsAlarm", "AWS::CloudWatch::Alarm", quiet),
        ),
    )

    # When its status is read
    report = deployed_status(stack, now)

    # Then each part says what a person needs to act on
    assert [(s["function"], s["enabled"]) for s in report["schedules"]] == [
        ("collect", True),
        ("digest", False),
    ]
    (collect,) = report["functions"]
    assert collect["function"] == "collect"
    assert collect["last_outcome"] == "failed"
    assert collect["errors_last_day"] == 1
    assert report["dead_letter_queue"]["messages"] == 1
    assert [a["name"] for a in report["alarms_in_alarm"]] == [alarm]
    assert report["x_secret"]["set"] is False
    assert {i["identity"]: i["state"] for i in report["ses_identities"]}[
        f"you@{name}.example"
    ] == "not in SES"
    assert report["admin"] == ADMIN_STATUS  # signed with the person's credentials, accepted


def test_status_command_prints_json_for_scripts_and_exits_0(aws, admin_url, tmp_path, monkeypatch, capsys):
    # Given a deployed stack whose X secret now holds the keys
    monkeypatch.chdir(tmp_path)
    name = f"rapport-{uuid.uuid4().hex[:6]}"
    secret = _deploy(aws, name, admin_url)
    aws.client("secretsmanager").put_secret_value(SecretId=secret, SecretString="{}")
    # When `rapport status --json` names it
    code = main(["status", "--json", "--stack-name", name])
    # Then the report is JSON, with the secret set and the admin API's figures
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["stack"]["name"] == name
    assert report["x_secret"]["set"] is True
    assert report["admin"]["targets"] == 3
    # And the readable form shows the same
    assert main(["status", "--stack-name", name]) == 0
    printed = capsys.readouterr().out
    assert "X secret: set" in printed
    assert "X spend 2026-11: $1.25 of $5 (25%)" in printed
    assert BUDGET_WARNING in " ".join(printed.split())  # the console wraps long lines


def test_status_of_a_stack_that_does_not_exist_exits_2_naming_it(aws, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["status", "--stack-name", "no-such-stack"]) == 2
    assert "no stack named 'no-such-stack' in eu-west-1" in capsys.readouterr().err


def test_a_stack_without_the_admin_url_output_exits_2_naming_the_output(
    aws, admin_url, tmp_path, monkeypatch, capsys
):
    # Given a stack deployed from a template without the AdminFunctionUrl output
    monkeypatch.chdir(tmp_path)
    name = f"rapport-{uuid.uuid4().hex[:6]}"
    outputs = {k: v for k, v in TEMPLATE["Outputs"].items() if k != "AdminFunctionUrl"}
    _deploy(aws, name, admin_url, TEMPLATE | {"Outputs": outputs})
    # When its status is asked, Then the missing output is named
    assert main(["status", "--stack-name", name]) == 2
    assert "has no output AdminFunctionUrl" in capsys.readouterr().err


def test_local_status_answers_what_the_local_stack_can(in_stack_dir, capsys):
    # Given a running local stack (its X secret and sender identity made as the stack makes them)
    # with one target
    assert main(["--local", "targets", "add", "person_x"]) == 0
    capsys.readouterr()
    # When `rapport --local status --json` asks it
    code = main(["--local", "status", "--json"])
    # Then the admin API's status comes through the signed URL, with the secret and SES identity
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["stack"]["name"] == "local"
    assert report["x_secret"]["set"] is True
    assert [i["identity"] for i in report["ses_identities"]] == ["rapport@example.com"]
    assert report["admin"]["targets"] == sum(report["admin"]["targets_by_stage"].values())
    assert (report["admin"]["targets"], report["admin"]["targets_by_stage"]["retweet"]) == (1, 1)
