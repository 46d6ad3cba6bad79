"""The embedded default: the whole pipeline on loopback, driven by a simulated clock.

A moto server stands in for AWS and the project's X API simulator for X. The real handlers run
with real event payloads: collect every simulated hour (then evaluate, with the event collect
emitted, as the EventBridge rule delivered it), and digest every hour (it sends at the user's
local digest hour). Nothing here reaches the Internet and no credentials are needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

from functions.admin import handler as admin_handler
from functions.collect import handler as collect_handler
from functions.digest import handler as digest_handler
from functions.evaluate import handler as evaluate_handler
from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.runtime.observability import logger
from rapport.runtime.services import Services
from rapport.runtime.settings import StackSettings
from rapport_local.aws import REGION, TABLE, local_aws
from rapport_local.scenario import Scenario, load_scenario
from rapport_local.simulated_me import Act, SimulatedMe
from rapport_local.xsim import XSimServer

Echo = Callable[[str], None]


def default_scenario() -> Path:
    return Path(str(resources.files("rapport_local") / "scenarios" / "default.yaml"))


@dataclass(frozen=True, slots=True)
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"


def scheduled_event(at: datetime, schedule: str) -> dict[str, Any]:
    """The payload template.yaml's EventBridge Scheduler schedules send."""
    return {"id": str(uuid.uuid4()), "source": "rapport.schedule", "schedule": schedule, "time": _z(at)}


def _z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class _Demo:
    scenario: Scenario
    out: Path
    deps: Services
    echo: Echo
    me: SimulatedMe | None = None  # acts on each digest when the scenario gives me_acts
    digests: list[dict[str, Any]] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)

    def invoke(
        self, handler: Callable[..., dict[str, Any]], event: dict[str, Any], name: str
    ) -> dict[str, Any]:
        """Invoke a handler as Lambda would; what it prints (EMF metrics) goes to out/metrics.jsonl."""
        with (self.out / "metrics.jsonl").open("a", encoding="utf-8") as sink, redirect_stdout(sink):
            return handler(event, LambdaContext(f"rapport-{name}"), deps=self.deps)

    def admin(self, command: dict[str, Any]) -> dict[str, Any]:
        result = self.invoke(admin_handler.lambda_handler, command, "admin")
        if not result.get("ok"):
            raise RuntimeError(f"admin {command['action']} failed: {result.get('error')}")
        return result

    def hour(self, now: datetime, aws_events: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        collected = self.invoke(collect_handler.lambda_handler, scheduled_event(now, "collect"), "collect")
        for envelope in aws_events():
            result = self.invoke(evaluate_handler.lambda_handler, envelope, "evaluate")
            for t in result["transitions"]:
                self.echo(f"    {_z(now)}  @{t['target']}: {t['from']} -> {t['to']} ({t['reason']})")
        digest = self.invoke(digest_handler.lambda_handler, scheduled_event(now, "digest"), "digest")
        if digest["sent"]:
            self.digests.append(digest)
            self.echo(
                f"    {_z(now)}  digest {digest['local_date']}: {len(digest['suggestions'])} suggestion(s)"
            )
            if self.me is not None:
                for act in self.me.act_on(digest, now):
                    self.acts.append(act)
                    self.echo(f"    {_z(act.at)}  you, for @{act.target} ({act.kind}): {act.summary}")
        return collected


def run_demo(
    scenario_path: Path | None = None, out: Path = Path("out"), echo: Echo = print, log_level: str = "WARNING"
) -> dict[str, Any]:
    """Run a scenario end to end; write digests and summary.json under ``out``; return the summary."""
    scenario = load_scenario(scenario_path or default_scenario())
    out.mkdir(parents=True, exist_ok=True)
    (out / "digests").mkdir(exist_ok=True)
    (out / "metrics.jsonl").unlink(missing_ok=True)
    logger.setLevel(log_level)  # the handlers' structured logs: warnings and errors only, by default
    echo(
        f"Rapport demo: {scenario.days} simulated days from {_z(scenario.start)}, "
        f"me = @{scenario.me.username}"
    )
    with local_aws() as aws, XSimServer(scenario) as xsim:
        xsim.set_now(scenario.start)
        settings = StackSettings.from_env(aws.lambda_env(xsim.url))
        demo = _Demo(scenario, out, Services(settings, dynamodb_stores(TABLE, REGION)), echo)
        if scenario.me_acts is not None:
            demo.me = SimulatedMe(scenario, xsim.world)
        start = _z(scenario.start)
        demo.admin({"action": "update_settings", "settings": scenario.settings, "at": start})
        for username in scenario.targets:
            added = demo.admin({"action": "add_target", "username": username, "at": start})
            echo(f"  added target @{added['target']['username']} (id {added['target']['id']})")

        for day in range(scenario.days):
            echo(f"  day {day + 1:>2}  {(scenario.start + timedelta(days=day)).date()}")
            for hour in range(1, 25):
                now = scenario.start + timedelta(days=day, hours=hour)
                xsim.set_now(now)
                demo.hour(now, aws.collected_events)

        targets = {t["username"]: t for t in demo.admin({"action": "list_targets"})["targets"]}
        stories = {u: demo.admin({"action": "show_target", "username": u}) for u in sorted(targets)}
        emails = aws.sent_emails()
        usage = xsim.usage()

    summary = _summary(demo, stories, emails, usage)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _print_story(echo, summary, out)
    return summary


def _summary(
    demo: _Demo, stories: dict[str, dict[str, Any]], emails: list[EmailMessage], usage: dict[str, Any]
) -> dict[str, Any]:
    targets = {
        name: {
            "stage": story["target"]["stage"],
            "transitions": [
                {
                    "at": t["at"],
                    "from": t["from"],
                    "to": t["to"],
                    "reason": t["reason"],
                    "evidence": t["evidence"],
                }
                for t in story["transitions"]
            ],
        }
        for name, story in stories.items()
    }
    by_subject = {str(m["Subject"]): m for m in emails}
    digests = []
    for d in demo.digests:
        day = d["local_date"]
        message = by_subject.get(d["subject"])
        if message is None:
            raise RuntimeError(f"SES has no message for the digest of {day}")
        digests.append(
            {
                "date": day,
                "html": _write_parts(demo.out, day, message),
                "text": f"digests/{day}.txt",
                "suggestions": d["suggestions"],
            }
        )
    return {
        "targets": targets,
        "digests": digests,
        "your_actions": [act.as_dict() for act in demo.acts],
        "x_api": {"requests": usage["requests"], "cost_usd": round(float(usage["cost_usd"]), 6)},
    }


def _write_parts(out: Path, day: str, message: EmailMessage) -> str:
    """Write the digest as SES received it: the whole message, and its HTML and text parts."""
    folder = out / "digests"
    (folder / f"{day}.eml").write_bytes(message.as_bytes())
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert isinstance(html, EmailMessage)
    assert isinstance(text, EmailMessage)
    (folder / f"{day}.html").write_text(html.get_content(), encoding="utf-8")
    (folder / f"{day}.txt").write_text(text.get_content(), encoding="utf-8")
    return f"digests/{day}.html"


def _print_story(echo: Echo, summary: dict[str, Any], out: Path) -> None:
    echo("")
    echo("What happened, target by target:")
    for name, target in summary["targets"].items():
        echo(f"  @{name}: now {target['stage']}")
        for t in target["transitions"]:
            came_from = t["from"] or "(new)"
            echo(f"    {t['at'][:16]}  {came_from:>12} -> {t['to']:<12} {t['reason']}")
    total = sum(len(d["suggestions"]) for d in summary["digests"])
    echo(
        f"Digests: {len(summary['digests'])} emailed, {total} suggestions in all; "
        f"written to {out / 'digests'}"
    )
    if summary["your_actions"]:
        echo(f"You (simulated) took {len(summary['your_actions'])} of them.")
    x = summary["x_api"]
    echo(f"X API: {x['requests']} requests, ${x['cost_usd']:.4f} at list price")
    echo(f"Summary: {out / 'summary.json'}")
