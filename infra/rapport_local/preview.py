"""`rapport digest preview`: the digest of one day, rendered from the data, never sent.

Two sources of data:
- the embedded default (no ``--table``): the scenario is played on the local stack (moto + the X
  simulator) hour by hour up to that day's digest hour, with every earlier digest sent as usual,
  so spacing and carry-over are what they would have been; then that day's digest is chosen and
  rendered instead of sent.
- a real table (``--table NAME``): read through the usual AWS configuration (region, credentials,
  ``AWS_ENDPOINT_URL``); nothing is written to it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.domain.policy import Policy
from rapport.email.render import RenderedDigest, render_digest
from rapport.runtime.observability import logger
from rapport.usecases.digest import preview_digest
from rapport_local.demo import default_scenario
from rapport_local.scenario import load_scenario
from rapport_local.stack import open_stack

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Preview:
    local_date: date
    rendered: RenderedDigest
    html_path: Path
    text_path: Path


def digest_instant(day: date, policy: Policy) -> datetime:
    """The UTC instant of ``day``'s digest hour in the user's zone (as the digest itself resolves it)."""
    return datetime.combine(day, time(policy.digest_hour), tzinfo=policy.zone).astimezone(UTC)


def preview(
    day: date | None,
    out: Path | None,
    *,
    scenario_path: Path | None = None,
    table: str | None = None,
    echo: Echo = print,
) -> Preview:
    if table:
        stores = dynamodb_stores(table)
        policy = stores.settings.policy()
        local_day = day or datetime.now(UTC).astimezone(policy.zone).date()
        rendered = render_digest(preview_digest(stores, digest_instant(local_day, policy)))
    else:
        local_day, rendered = _from_scenario(day, scenario_path, echo)
    html_path = out or Path("out") / f"digest-preview-{local_day.isoformat()}.html"
    text_path = html_path.with_suffix(".txt")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(rendered.html, encoding="utf-8")
    text_path.write_text(rendered.text, encoding="utf-8")
    return Preview(local_day, rendered, html_path, text_path)


def _from_scenario(day: date | None, scenario_path: Path | None, echo: Echo) -> tuple[date, RenderedDigest]:
    scenario = load_scenario(scenario_path or default_scenario())
    policy = Policy.model_validate(scenario.settings)
    first = scenario.start.astimezone(policy.zone).date()
    if digest_instant(first, policy) <= scenario.start:  # that day's digest hour came before the start
        first += timedelta(days=1)
    last = (scenario.start + timedelta(days=scenario.days)).astimezone(policy.zone).date()
    local_day = day or last
    due = digest_instant(local_day, policy)
    if not (scenario.start < due <= scenario.start + timedelta(days=scenario.days)):
        raise ValueError(f"--date must be between {first} and {last}, the days the scenario covers")
    echo(f"Playing scenario {scenario.name!r} on the local stack up to {due:%Y-%m-%d %H:%M} UTC ...")
    logger.setLevel("ERROR")
    with open_stack(scenario, output=io.StringIO()) as stack:
        stack.setup(scenario, at=scenario.start)
        now = scenario.start
        while now < due:
            now += timedelta(hours=1)
            # Earlier days' digests go out as usual, so spacing is what it would be; that day's is shown.
            stack.tick(now, digest=now < due)
        rendered = render_digest(preview_digest(stack.deps.stores, due))
    return local_day, rendered
