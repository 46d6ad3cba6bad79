"""`rapport status`: where a stack stands, as a report (a dict, printed as JSON or as rich tables).

On a deployed stack each part comes from the AWS service that knows it, read with the person's
credentials: the schedules (EventBridge Scheduler), each function's runs over the last day (one
CloudWatch GetMetricData call for all of them: cheaper than reading four log groups), the dead-letter
queue's depth, the alarms in ALARM, the X secret (described, never read), the SES identities, and
the admin API's GET /status (X spend against the budget, targets by stage). A part the credentials
may not read is reported as unavailable rather than failing the whole report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from rapport_local.aws import SECRET, SENDER
from rapport_local.deployed import DeployedStack
from rapport_local.stack_client import NoStack, StackClient, local_endpoints

RUNS_OVER = timedelta(days=1)
DLQ_OUTPUT = "DeadLetterQueueUrl"
NOT_IN_SES = "not in SES"  # an identity state: SES has no such address yet


def deployed_status(stack: DeployedStack, now: datetime) -> dict[str, Any]:
    """The report of a deployed stack at ``now``."""
    functions = {_short(lid): name for lid, name in stack.physical_ids("AWS::Lambda::Function").items()}

    def identities() -> list[dict[str, Any]]:
        sesv2 = stack.client("sesv2")
        return [identity_state(sesv2, identity) for identity in stack.ses_identities]

    return {
        "stack": {"name": stack.name, "region": stack.region},
        "schedules": _part(lambda: schedules(stack)),
        "functions": _part(lambda: _runs(stack.client("cloudwatch"), functions, now)),
        "dead_letter_queue": _part(lambda: _queue_depth(stack.client("sqs"), stack.output(DLQ_OUTPUT))),
        "alarms_in_alarm": _part(lambda: _alarms(stack)),
        "x_secret": _part(lambda: secret_state(stack.client("secretsmanager"), stack.output("XSecretArn"))),
        "ses_identities": _part(identities),
        "admin": _admin(stack.stack_client()),
    }


def local_status(directory: Path | None = None) -> dict[str, Any]:
    """What the local stack can answer: its admin /status, the X secret and the sender's identity."""
    local = local_endpoints(directory)  # raises NoStack, with how to start one, when none runs
    return {
        "stack": {"name": "local", "region": local.region, "admin_url": local.admin.url},
        "x_secret": _part(lambda: secret_state(local.aws("secretsmanager"), SECRET)),
        "ses_identities": _part(lambda: [identity_state(local.aws("sesv2"), SENDER)]),
        "admin": _admin(local.admin),
    }


def _part(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (ClientError, BotoCoreError, NoStack) as exc:  # NoStack: the stack lacks that output
        return {"unavailable": str(exc)}


def _short(logical_id: str) -> str:
    """``CollectFunction`` -> ``collect``; SAM names a function's schedule ``CollectFunctionSchedule``."""
    return logical_id.split("Function", 1)[0].lower() or logical_id


def schedules(stack: DeployedStack) -> list[dict[str, Any]]:
    scheduler = stack.client("scheduler")
    found = []
    for logical, name in sorted(stack.physical_ids("AWS::Scheduler::Schedule").items()):
        schedule = scheduler.get_schedule(Name=name)
        found.append(
            {
                "function": _short(logical),
                "name": name,
                "enabled": schedule.get("State") == "ENABLED",
                "expression": schedule.get("ScheduleExpression"),
            }
        )
    return found


def _runs(cloudwatch: Any, functions: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """Each function's invocations and errors per hour over the last day: its last run's hour and outcome."""
    if not functions:
        return []
    queries = [
        {
            "Id": f"{metric.lower()}_{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                },
                "Period": 3600,
                "Stat": "Sum",
            },
        }
        for index, name in enumerate(functions.values())
        for metric in ("Invocations", "Errors")
    ]
    answer = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=now - RUNS_OVER, EndTime=now)
    results = answer["MetricDataResults"]
    series = {r["Id"]: dict(zip(r["Timestamps"], r["Values"], strict=True)) for r in results}
    runs = []
    for index, (function, name) in enumerate(functions.items()):
        invocations = series.get(f"invocations_{index}", {})
        errors = series.get(f"errors_{index}", {})
        ran = [at for at, count in invocations.items() if count > 0]
        last = max(ran, default=None)
        runs.append(
            {
                "function": function,
                "name": name,
                "invocations_last_day": int(sum(invocations.values())),
                "errors_last_day": int(sum(errors.values())),
                "last_run_hour": last.astimezone(UTC).isoformat() if last else None,
                "last_outcome": None if last is None else ("failed" if errors.get(last, 0) > 0 else "ok"),
            }
        )
    return runs


def _queue_depth(sqs: Any, url: str) -> dict[str, Any]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return {"url": url, "messages": int(attributes["Attributes"]["ApproximateNumberOfMessages"])}


def _alarms(stack: DeployedStack) -> list[dict[str, Any]]:
    names = sorted(stack.physical_ids("AWS::CloudWatch::Alarm").values())
    if not names:
        return []
    answer = stack.client("cloudwatch").describe_alarms(AlarmNames=names[:100])
    alarms = answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])
    return [
        {"name": a["AlarmName"], "reason": a.get("StateReason", "")}
        for a in alarms
        if a.get("StateValue") == "ALARM"
    ]


def secret_state(secretsmanager: Any, secret_id: str) -> dict[str, Any]:
    """Whether the secret holds a value, from its versions' stages: the value itself is never read."""
    described = secretsmanager.describe_secret(SecretId=secret_id)
    stages = described.get("VersionIdsToStages", {}).values()
    return {"id": secret_id, "set": any("AWSCURRENT" in s for s in stages)}


def identity_state(sesv2: Any, identity: str) -> dict[str, Any]:
    try:
        found = sesv2.get_email_identity(EmailIdentity=identity)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
        return {"identity": identity, "verified": False, "state": NOT_IN_SES}
    verified = bool(found.get("VerifiedForSendingStatus"))
    return {"identity": identity, "verified": verified, "state": found.get("VerificationStatus", "")}


def _admin(client: StackClient) -> dict[str, Any]:
    reply = client.request("GET", "/status")
    if reply.ok and isinstance(reply.body, dict):
        return reply.body
    return {"refused": reply.status, "answer": reply.body}


def admin_refused(report: dict[str, Any]) -> bool:
    return "refused" in report.get("admin", {})


# --- the readable report ------------------------------------------------------------------------


def print_status(report: dict[str, Any], console: Console) -> None:
    stack = report["stack"]
    console.print(f"[bold]Rapport stack {stack['name']}[/] ({stack['region']})")
    if "schedules" in report:
        _print_rows(
            console,
            "Schedules",
            report["schedules"],
            ("function", "enabled", "expression"),
        )
    if "functions" in report:
        _print_rows(
            console,
            "Runs over the last day",
            report["functions"],
            ("function", "invocations_last_day", "errors_last_day", "last_run_hour", "last_outcome"),
        )
    if "dead_letter_queue" in report:
        queue = report["dead_letter_queue"]
        console.print(f"Dead-letter queue: {_unavailable(queue) or _count(queue['messages'], 'message')}")
    if "alarms_in_alarm" in report:
        alarms = report["alarms_in_alarm"]
        if isinstance(alarms, dict):
            console.print(f"Alarms: {_unavailable(alarms)}")
        else:
            console.print("Alarms in ALARM: " + (", ".join(a["name"] for a in alarms) or "none"))
    secret = report["x_secret"]
    console.print(f"X secret: {_unavailable(secret) or ('set' if secret['set'] else 'NOT SET')}")
    _print_rows(console, "SES identities", report["ses_identities"], ("identity", "verified", "state"))
    _print_admin(report["admin"], console)


def _print_admin(admin: dict[str, Any], console: Console) -> None:
    if "refused" in admin:
        console.print(f"[red]The admin API answered {admin['refused']}:[/] {admin['answer']}")
        return
    spend = admin["x_spend"]
    share = f" ({spend['share']:.0%})" if spend.get("share") is not None else ""
    console.print(f"X spend {spend['month']}: ${spend['spent_usd']} of ${spend['budget_usd']}{share}")
    if spend.get("budget_warning"):
        console.print(f"[yellow]{spend['budget_warning']}[/]")
    stages = ", ".join(f"{stage} {count}" for stage, count in admin["targets_by_stage"].items() if count)
    console.print(f"Targets: {admin['targets']}" + (f" ({stages})" if stages else ""))


def _print_rows(console: Console, title: str, rows: Any, columns: tuple[str, ...]) -> None:
    if isinstance(rows, dict):
        console.print(f"{title}: {_unavailable(rows)}")
        return
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*("-" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def _unavailable(part: dict[str, Any]) -> str:
    return f"unavailable ({part['unavailable']})" if "unavailable" in part else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
