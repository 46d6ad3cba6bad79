"""The embedded default: the whole pipeline on loopback, driven by a simulated clock.

A moto server stands in for AWS and the project's X API simulator for X. The real handlers run
with real event payloads: collect every simulated hour (then evaluate, with the event collect
emitted, as the EventBridge rule delivered it), and digest every hour (it sends at the user's
local digest hour). Nothing here reaches the Internet and no credentials are needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

from rapport.runtime.observability import logger
from rapport_local.scenario import Scenario, load_scenario
from rapport_local.simulated_me import Act, SimulatedMe
from rapport_local.stack import Tick, open_stack

Echo = Callable[[str], None]


def default_scenario() -> Path:
    return Path(str(resources.files("rapport_local") / "scenarios" / "default.yaml"))


def _z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class _Demo:
    """What the demo tells and keeps after each simulated hour."""

    scenario: Scenario
    out: Path
    echo: Echo
    me: SimulatedMe | None = None  # acts on each digest when the scenario gives me_acts
    digests: list[dict[str, Any]] = field(default_factory=list)
    lookbacks: list[dict[str, Any]] = field(default_factory=list)  # the weekly look-backs sent
    acts: list[Act] = field(default_factory=list)

    def after_tick(self, tick: Tick) -> None:
        for t in tick.transitions:
            self.echo(f"    {_z(tick.at)}  @{t['target']}: {t['from']} -> {t['to']} ({t['reason']})")
        lookback = (tick.digest or {}).get("lookback")
        if lookback is not None and lookback["sent"]:
            self.lookbacks.append(lookback)
            self.echo(f"    {_z(tick.at)}  weekly look-back {lookback['local_date'].split('#')[0]}")
        if tick.digest is None or not tick.sent:
            return
        digest = tick.digest
        self.digests.append(digest)
        self.echo(
            f"    {_z(tick.at)}  digest {digest['local_date']}: {len(digest['suggestions'])} suggestion(s)"
        )
        if self.me is not None:
            for act in self.me.act_on(digest, tick.at):
                self.acts.append(act)
                self.echo(f"    {_z(act.at)}  you, for @{act.target} ({act.kind}): {act.summary}")


def run_demo(
    scenario_path: Path | None = None, out: Path = Path("out"), echo: Echo = print, log_level: str = "WARNING"
) -> dict[str, Any]:
    """Run a scenario end to end; write digests and summary.json under ``out``; return the summary."""
    scenario = load_scenario(scenario_path or default_scenario())
    out.mkdir(parents=True, exist_ok=True)
    (out / "digests").mkdir(exist_ok=True)
    logger.setLevel(log_level)  # the handlers' structured logs: warnings and errors only, by default
    echo(
        f"Rapport demo: {scenario.days} simulated days from {_z(scenario.start)}, "
        f"me = @{scenario.me.username}"
    )
    demo = _Demo(scenario, out, echo)
    # What the handlers print (EMF metrics) goes to out/metrics.jsonl.
    with (
        (out / "metrics.jsonl").open("w", encoding="utf-8") as metrics,
        open_stack(scenario, output=metrics) as stack,
    ):
        if scenario.me_acts is not None:
            demo.me = SimulatedMe(scenario, stack.xsim.world)
        stack.after_tick.append(demo.after_tick)
        for added in stack.setup(scenario, at=scenario.start):
            echo(f"  added target @{added['target']['username']} (id {added['target']['id']})")

        for day in range(scenario.days):
            echo(f"  day {day + 1:>2}  {(scenario.start + timedelta(days=day)).date()}")
            stack.run(scenario.start + timedelta(days=day), hours=24)

        targets = {t["username"]: t for t in stack.admin(action="list_targets")["targets"]}
        stories = {u: stack.admin(action="show_target", username=u) for u in sorted(targets)}
        emails = stack.aws.sent_emails()
        usage = stack.xsim.usage()
        # Most hourly collects find nothing new: those never load the detectors (docs/coldstart.md).
        collects = [i.result for i in stack.by_function("collect")]

    summary = _summary(demo, stories, emails, usage, collects)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _print_story(echo, summary, out)
    return summary


def _summary(
    demo: _Demo,
    stories: dict[str, dict[str, Any]],
    emails: list[EmailMessage],
    usage: dict[str, Any],
    collects: list[dict[str, Any]],
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
    lookbacks = []
    for weekly in demo.lookbacks:
        day = weekly["local_date"].split("#")[0]
        message = by_subject.get(weekly["subject"])
        if message is None:
            raise RuntimeError(f"SES has no message for the look-back of {day}")
        html = _write_parts(demo.out, f"{day}-lookback", message)
        lookbacks.append({"date": day, "html": html, "text": f"digests/{day}-lookback.txt"})
    return {
        "targets": targets,
        "digests": digests,
        "lookbacks": lookbacks,
        "your_actions": [act.as_dict() for act in demo.acts],
        "x_api": {
            "requests": usage["requests"],
            "cost_usd": round(float(usage["cost_usd"]), 6),
            "collect_runs": len(collects),
            "collect_runs_reading_posts": sum(1 for r in collects if r.get("x_api", {}).get("posts")),
        },
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
        f"Digests: {len(summary['digests'])} emailed, {total} suggestions in all, and "
        f"{len(summary['lookbacks'])} weekly look-backs; written to {out / 'digests'}"
    )
    if summary["your_actions"]:
        echo(f"You (simulated) took {len(summary['your_actions'])} of them.")
    x = summary["x_api"]
    echo(
        f"X API: {x['requests']} requests, ${x['cost_usd']:.4f} at list price; "
        f"{x['collect_runs_reading_posts']} of {x['collect_runs']} hourly collects read new posts"
    )
    echo(f"Summary: {out / 'summary.json'}")
