"""Measure what the deployed stack would do per month: invocations, durations, requests, log bytes.

Runs the real handlers (the same code the Lambda functions run) against the local moto server and the
X API simulator, for a generated world of N targets, hour by hour: one scheduled collect, an evaluate
per event it emitted, one digest tick. It counts every AWS API call the handlers make (by service and
operation), every byte they print (their CloudWatch Logs ingestion: structured logs and EMF metrics),
the X simulator's bill, and each invocation's wall time. docs/operations.md turns the figures into a
monthly cost.

    .venv/bin/python -m rapport_local.measure_stack --targets 10 100 1000 --hours 8 > runs.jsonl
    .venv/bin/python -m rapport_local.measure_stack --table runs.jsonl

Durations are measured on this machine over loopback; `network_allowance_ms` adds a fixed latency per
AWS and X request (see LATENCY_MS) so the figure stands for a Lambda function calling real endpoints.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import statistics
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from rapport.runtime.observability import logger
from rapport_local.scenario import parse_scenario
from rapport_local.stack import Invocation, open_stack

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
# Round-trip allowances added per request to stand for Lambda's distance to real endpoints (loopback
# costs ~nothing): DynamoDB and the other AWS APIs in-region, the X API over the internet.
LATENCY_MS = {"aws": 8.0, "x": 150.0}
POSTS_PER_TARGET_PER_DAY = 3


def generated_world(targets: int, hours: int) -> dict[str, Any]:
    """N targets, each posting a few times a day at staggered minutes; ours thank us now and then."""
    users = [{"id": str(1000 + i), "username": f"target_{i}", "name": f"Target {i}"} for i in range(targets)]
    events: list[dict[str, Any]] = []
    post_id = 10_000_000
    every = timedelta(hours=24 / POSTS_PER_TARGET_PER_DAY)
    for i, user in enumerate(users):
        first = START - timedelta(hours=20) + timedelta(minutes=(i * 7) % 600)
        at = first
        while at < START + timedelta(hours=hours):
            post_id += 1
            text = f"Notes on serverless, part {post_id} https://example.com/{post_id}"
            events.append({"at": _z(at), "post": {"id": str(post_id), "by": user["username"], "text": text}})
            at += every
    events.sort(key=lambda e: e["at"])
    return {
        "start": _z(START - timedelta(days=1)),
        "days": 2 + hours // 24,
        "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
        "users": users,
        "targets": [u["username"] for u in users],
        "settings": {"timezone": "UTC", "digest_hour": 7},
        "events": events,
    }


def _z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def measure(targets: int, hours: int) -> dict[str, Any]:
    scenario = parse_scenario(generated_world(targets, hours))
    runs: dict[str, list[dict[str, Any]]] = {"admin": [], "collect": [], "evaluate": [], "digest": []}
    handler_ops: Counter[str] = Counter()  # the handlers' own calls, not the harness's
    logger.setLevel("INFO")  # the stack's default LogLevel, so log bytes are what CloudWatch would get
    logs = io.StringIO()
    # The logger's handler holds the stream it was given: its bytes are read off this buffer per run.
    log_handler = cast(logging.StreamHandler[Any], logger.registered_handler)
    saved_stream = log_handler.setStream(logs)

    try:
        with open_stack(scenario, output=io.StringIO()) as stack:
            sim = stack.xsim
            sim.set_now(START)
            seen = {"log": 0, "x": sim.usage()["requests"], "usd": sim.usage()["cost_usd"]}

            def record(run: Invocation) -> None:
                usage = sim.usage()
                log_bytes = len(logs.getvalue().encode()) - seen["log"]
                x_calls, x_usd = usage["requests"] - seen["x"], usage["cost_usd"] - seen["usd"]
                seen.update(log=seen["log"] + log_bytes, x=usage["requests"], usd=usage["cost_usd"])
                handler_ops.update(run.aws_calls)
                aws_calls = run.aws_calls.total()
                runs[run.function].append(
                    {
                        "ms": run.ms,
                        "aws_calls": aws_calls,
                        "x_calls": x_calls,
                        "x_usd": round(x_usd, 4),
                        "allowance_ms": aws_calls * LATENCY_MS["aws"] + x_calls * LATENCY_MS["x"],
                        "log_bytes": log_bytes + len(run.printed.encode()),
                    }
                )

            stack.after_invoke.append(record)
            stack.admin(action="update_settings", settings=scenario.settings)
            for i, username in enumerate(scenario.targets):
                if i % 500 == 0:
                    sim.reset_rate_limits()  # adding 1,000 targets at once is not the hourly load measured
                stack.admin(action="add_target", username=username)
            handler_ops.clear()
            sim.reset_usage()
            seen.update(x=sim.usage()["requests"], usd=sim.usage()["cost_usd"])

            collect_reports = [tick.collect for tick in stack.run(START, hours)]
            usage = sim.usage()
    finally:
        log_handler.setStream(saved_stream)

    def summary(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "invocations": len(rows),
            "mean_ms": round(statistics.fmean(r["ms"] for r in rows), 1) if rows else 0.0,
            "max_ms": round(max((r["ms"] for r in rows), default=0.0), 1),
            "mean_allowance_ms": round(statistics.fmean(r["allowance_ms"] for r in rows), 1) if rows else 0.0,
            "mean_aws_calls": round(statistics.fmean(r["aws_calls"] for r in rows), 1) if rows else 0.0,
            "mean_x_calls": round(statistics.fmean(r["x_calls"] for r in rows), 1) if rows else 0.0,
            "mean_x_usd": round(statistics.fmean(r["x_usd"] for r in rows), 4) if rows else 0.0,
            "mean_log_bytes": round(statistics.fmean(r["log_bytes"] for r in rows)) if rows else 0,
        }

    return {
        "targets": targets,
        "hours": hours,
        "first_collect": runs["collect"][0] if runs["collect"] else None,
        "steady": {
            "collect": summary("collect", runs["collect"][1:]),
            "evaluate": summary("evaluate", runs["evaluate"]),
            "digest": summary("digest", runs["digest"]),
        },
        "admin_add_target": summary("admin", runs["admin"][1:]),
        "aws_calls_by_operation": dict(sorted(handler_ops.items())),
        "x": {"requests": usage["requests"], "cost_usd": usage["cost_usd"], "resources": usage["resources"]},
        "deferred_sources": sum(len(r.get("deferred", [])) for r in collect_reports),
    }


# us-east-1 list prices used by `--table` (USD): Lambda arm64 per GB-second and per request, DynamoDB on
# demand per read and write request unit, CloudWatch Logs ingestion per GB, EventBridge custom-bus event,
# SES email, Secrets Manager secret-month and API call.
PRICE = {
    "gb_s": 0.0000133334,
    "request": 0.20 / 1e6,
    "rru": 0.125 / 1e6,
    "wru": 0.625 / 1e6,
    "log_gb": 0.50,
    "event": 1.00 / 1e6,
    "email": 0.10 / 1000,
    "secret": 0.40,
    "secret_call": 0.05 / 1e4,
    "x_user": 0.010,
}
MEMORY_GB = 0.25  # template.yaml's MemorySize: 256
PLATFORM_LOG_BYTES = 300  # Lambda's own START/END/REPORT lines per invocation
RUNS_PER_MONTH = 720  # CollectRateMinutes=60 and the hourly digest tick, over 30 days
QUERY_UNITS = 4  # read units counted per Query: a target's history spans a few 4 KB pages


def monthly_cost(r: dict[str, Any]) -> dict[str, float]:
    """A month of hourly runs at the measured means (first collect excluded: it is once per target)."""
    steady, hours = r["steady"], r["hours"]
    per_run = {"collect": hours - 1, "evaluate": hours, "digest": hours}
    invocations = {k: steady[k]["invocations"] * RUNS_PER_MONTH / per_run[k] for k in per_run}
    seconds = {k: (steady[k]["mean_ms"] + steady[k]["mean_allowance_ms"]) / 1000 for k in per_run}
    gb_s = sum(invocations[k] * seconds[k] * MEMORY_GB for k in per_run)
    lambda_usd = gb_s * PRICE["gb_s"] + sum(invocations.values()) * PRICE["request"]
    ops, scale = r["aws_calls_by_operation"], RUNS_PER_MONTH / hours
    reads = (ops.get("dynamodb:GetItem", 0) + QUERY_UNITS * ops.get("dynamodb:Query", 0)) * scale
    writes = sum(ops.get(f"dynamodb:{op}", 0) for op in ("PutItem", "UpdateItem", "DeleteItem")) * scale
    writes += 2 * ops.get("dynamodb:TransactWriteItems", 0) * scale
    log_bytes = sum(invocations[k] * (steady[k]["mean_log_bytes"] + PLATFORM_LOG_BYTES) for k in per_run)
    other = (
        ops.get("events:PutEvents", 0) * scale * PRICE["event"]
        + 30 * PRICE["email"]
        + PRICE["secret"]
        + invocations["collect"] * PRICE["secret_call"]
    )
    dynamodb_usd = reads * PRICE["rru"] + writes * PRICE["wru"]
    x_usd = RUNS_PER_MONTH * steady["collect"]["mean_x_usd"] + 30 * r["targets"] * PRICE["x_user"]
    if r["deferred_sources"]:
        x_usd = float("nan")  # the budget held reads back: the run measured the cap, not the pace
    return {
        "invocations": sum(invocations.values()),
        "gb_s": gb_s,
        "lambda": lambda_usd,
        "dynamodb_requests": reads + writes,
        "dynamodb": dynamodb_usd,
        "logs_gb": log_bytes / 1e9,
        "logs": log_bytes / 1e9 * PRICE["log_gb"],
        "other": other,
        "aws": lambda_usd + dynamodb_usd + log_bytes / 1e9 * PRICE["log_gb"] + other,
        "x": x_usd,
    }


def cost_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| targets | invocations | GB-s | Lambda | DynamoDB req | DynamoDB | logs GB | logs | other "
        "| AWS | X API |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        c = monthly_cost(r)
        lines.append(
            f"| {r['targets']:,} | {c['invocations']:,.0f} | {c['gb_s']:,.0f} | ${c['lambda']:.2f} "
            f"| {c['dynamodb_requests']:,.0f} | ${c['dynamodb']:.2f} | {c['logs_gb']:.3f} | ${c['logs']:.3f} "
            f"| ${c['other']:.2f} | ${c['aws']:.2f} | "
            + ("held to the budget |" if math.isnan(c["x"]) else f"${c['x']:,.2f} |")
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--targets", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--hours", type=int, default=8, help="simulated hours after the first read")
    parser.add_argument("--table", nargs="+", metavar="JSONL", help="print the monthly cost of saved runs")
    args = parser.parse_args(argv)
    if args.table:
        lines = [ln for name in args.table for ln in Path(name).read_text(encoding="utf-8").splitlines()]
        print("\n".join(cost_table([json.loads(ln) for ln in lines if ln.strip()])))  # noqa: T201
        return
    if len(args.targets) == 1:
        print(json.dumps(measure(args.targets[0], args.hours)), flush=True)  # noqa: T201 - the output
        return
    # One process per size: PynamoDB binds its models to the first local endpoint of a process.
    for n in args.targets:
        command = [sys.executable, "-m", "rapport_local.measure_stack", "--targets", str(n)]
        subprocess.run([*command, "--hours", str(args.hours)], check=True)  # noqa: S603 - our own module


if __name__ == "__main__":
    main()
