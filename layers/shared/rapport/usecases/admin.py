"""Admin: the user's commands on targets and settings, validated, then applied."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from rapport.domain.contact import last_contact
from rapport.domain.feedback import FEEDBACK_KINDS, snoozed_until
from rapport.domain.forecast import BudgetForecast, forecast_targets
from rapport.domain.model import Interaction, InteractionKind, Stage, Target, in_step
from rapport.domain.money import USD
from rapport.domain.policy import Policy, plain_text
from rapport.domain.x import XUser
from rapport.usecases.ports import NotFoundError, Stores, TargetHistory, XSource

# Matched whole (fullmatch): `$` would also match before a final newline, and send "name\n" to X.
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# A pasted profile link: https://x.com/name, https://twitter.com/name/ (www. and mobile. too).
PROFILE_URL = re.compile(
    r"(?:https?://)?(?:www\.|mobile\.)?(?:x|twitter)\.com/(?P<name>[^/?#]*)/?(?:[?#].*)?", re.IGNORECASE
)
USERNAME_RULE = "an X username is 1-15 letters, digits or underscores (name, @name or https://x.com/name)"
# Every field has a limit, so no request can make an item DynamoDB refuses (400 KB) or a slow run.
USERNAME_INPUT_MAX = 200  # characters of what is given: a profile link with its query string
NOTE_MAX = 1000
TOPIC_MAX = 50  # characters of one topic
TOPICS_MAX = 20  # topics of one target
IMPORT_ROWS_MAX = 500  # targets of one import (each is a few writes; the admin function has 60 s)
IMPORT_CSV_MAX = 600_000  # characters of an imported CSV: 500 full rows
# `at` backdates (or, by a clock's drift, postdates) a command, for scripts; not further than this.
AT_PAST = timedelta(days=30)
AT_FUTURE = timedelta(days=1)
AT_MAX = 40  # characters of an ISO 8601 time with fractions and an offset
AT_RULE = "a time is ISO 8601 text such as 2026-03-02T09:00:00Z"
POST_URL = "https://x.com/{username}/status/{post_id}"
FOLLOWING_LIMIT = 5000  # people read from your following list at most (five pages, $5.00 at most)


class AdminError(ValueError):
    """A command that cannot be carried out; the message says why, for the user, ``field`` what."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownTarget(AdminError):
    """The command names someone who is not a target."""


def normalize_username(value: str) -> str:
    """``name``, ``@name`` or a profile URL on x.com or twitter.com, as the bare username."""
    text = value.strip()
    if (url := PROFILE_URL.fullmatch(text)) is not None:
        text = url.group("name")
    text = text.removeprefix("@")
    if not USERNAME.fullmatch(text):
        raise ValueError(USERNAME_RULE)
    return text


def iso_time(value: object) -> object:
    """``at`` as ISO 8601 text (or a datetime from Python), never a number read as seconds since 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > AT_MAX:
        raise ValueError(AT_RULE)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(AT_RULE) from None


Username = Annotated[
    str, StringConstraints(max_length=USERNAME_INPUT_MAX), AfterValidator(normalize_username)
]
Topic = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=TOPIC_MAX),
    AfterValidator(plain_text),
]
Topics = Annotated[tuple[Topic, ...], Field(max_length=TOPICS_MAX)]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX), AfterValidator(plain_text)
]
At = Annotated[datetime, BeforeValidator(iso_time)]


class NewTarget(BaseModel):
    """Someone to add: the body of an add, and one row of an import."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    username: Username = Field(description="name, @name or https://x.com/name")
    topics: Topics = Field(default=(), description="what they post about that you know")
    note: Note = Field(default="", description="your own words about them")


class TargetChanges(BaseModel):
    """What an edit may change; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    topics: Topics | None = Field(default=None, description="replaces the topics")
    note: Note | None = Field(default=None, description="replaces the note")

    @model_validator(mode="after")
    def _changes_something(self) -> TargetChanges:
        if self.topics is None and self.note is None:
            raise ValueError("give topics, note or both")
        return self


class _Command(BaseModel):
    # Built at first use, not at import: a request uses one command (parse_command).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    at: At | None = Field(
        default=None, description="when it happens (ISO 8601, up to 30 days ago or 1 day ahead); default now"
    )


class _TargetCommand(_Command):
    username: Username


class AddTarget(_TargetCommand):
    action: Literal["add_target"]
    topics: Topics = ()
    note: Note = ""


class EditTarget(_TargetCommand, TargetChanges):
    action: Literal["edit_target"]


class PauseTarget(_TargetCommand):
    action: Literal["pause_target"]


class ResumeTarget(_TargetCommand):
    action: Literal["resume_target"]


class RemoveTarget(_TargetCommand):
    action: Literal["remove_target"]


class ShowTarget(_TargetCommand):
    action: Literal["show_target"]


class ListTargets(_Command):
    action: Literal["list_targets"]


class ListFollowing(_Command):
    """The people you follow on X, to pick targets from: an owned read, $0.001 a user."""

    action: Literal["list_following"]
    limit: int = Field(default=1000, ge=1, le=FOLLOWING_LIMIT, description="read at most this many")


class GetSettings(_Command):
    action: Literal["get_settings"]


class UpdateSettings(_Command):
    action: Literal["update_settings"]
    settings: dict[str, Any]


class ImportTargets(_Command):
    """Many targets at once: every row is checked before any is added."""

    action: Literal["import_targets"]
    rows: tuple[dict[str, Any], ...] | None = Field(
        default=None, max_length=IMPORT_ROWS_MAX, description="username, topics, note"
    )
    csv: str | None = Field(
        default=None, max_length=IMPORT_CSV_MAX, description="a username column; topics (;-separated), note"
    )
    skip_invalid: bool = Field(default=False, description="add the good rows even when some are bad")
    dry_run: bool = Field(default=False, description="say what would happen; change nothing")

    @model_validator(mode="after")
    def _one_input(self) -> ImportTargets:
        if (self.rows is None) == (self.csv is None):
            raise ValueError("give either rows or csv")
        return self


class ExportTargets(_Command):
    action: Literal["export_targets"]
    format: Literal["csv", "json"] = "json"


class Status(_Command):
    action: Literal["status"]


class Help(_Command):
    """The actions and their fields."""

    action: Literal["help"]


Command = Annotated[
    AddTarget
    | EditTarget
    | PauseTarget
    | ResumeTarget
    | RemoveTarget
    | ShowTarget
    | ListTargets
    | ListFollowing
    | GetSettings
    | UpdateSettings
    | ImportTargets
    | ExportTargets
    | Status
    | Help,
    Field(discriminator="action"),
]
# The action names, which pydantic puts first in a command's error locations.
COMMANDS: dict[str, type[_Command]] = {
    get_args(m.model_fields["action"].annotation)[0]: m for m in get_args(get_args(Command)[0])
}
ACTIONS = frozenset(COMMANDS)


@cache
def _any_command() -> TypeAdapter[Command]:
    return TypeAdapter(Command)


def actions() -> dict[str, dict[str, list[str]]]:
    """Each action with its required and optional fields: what ``{"action": "help"}`` answers."""
    listed = {}
    for name, model in sorted(COMMANDS.items()):
        fields = {f: info for f, info in model.model_fields.items() if f != "action"}
        listed[name] = {
            "required": [f for f, info in fields.items() if info.is_required()],
            "optional": [f for f, info in fields.items() if not info.is_required()],
        }
    return listed


def parse_command(payload: object) -> Command:
    """The command ``payload`` asks for, checked by its action's model alone when the action is known.

    Each model is built when it is first used (defer_build), so a cold start that answers one request
    builds one validator, not fourteen; the union, for a payload without a known action, names them.
    """
    action = payload.get("action") if isinstance(payload, dict) else None
    if isinstance(action, str) and action in COMMANDS:
        return cast("Command", COMMANDS[action].model_validate(payload))
    return _any_command().validate_python(payload)


def target_view(target: Target) -> dict[str, Any]:
    return {
        "id": target.id,
        "username": target.username,
        "name": target.name,
        "stage": target.stage.value,
        "topics": list(target.topics),
        "follows_you": target.follows_us,
        "added_at": target.added_at.isoformat() if target.added_at else None,
        "note": target.note,
    }


def list_targets(stores: Stores, at: datetime) -> list[dict[str, Any]]:
    """Every target with where it stands: one read of its history each."""
    listed = []
    for target in stores.targets.list_targets():
        try:
            history = stores.evidence.history(target.id)
        except NotFoundError:
            continue  # removed while being listed
        listed.append(listed_view(history, at))
    return listed


def listed_view(history: TargetHistory, at: datetime) -> dict[str, Any]:
    """A target as the list shows it: since when at its stage, the last exchange, what comes next."""
    target = history.target
    into_stage = [t.at for t in history.transitions if t.to_stage == target.stage]
    since = into_stage[-1] if into_stage else target.added_at
    touched = last_contact(history.interactions, at)
    snoozed = snoozed_until(history.interactions, at)
    return target_view(target) | {
        "since": since.isoformat() if since else None,
        "last_contact": touched.isoformat() if touched else None,
        "snoozed_until": snoozed.isoformat() if snoozed else None,
        "next_suggestion": _next_suggestion(history),
    }


def feedback_view(interactions: Iterable[Interaction]) -> list[dict[str, Any]]:
    """The user's answers from the digest's links (done, skipped, snoozed, dropped), oldest first."""
    answers = sorted((i for i in interactions if i.kind in FEEDBACK_KINDS), key=lambda i: (i.at, i.id))
    return [
        {
            "at": i.at.isoformat(),
            "answer": i.kind.value,
            "about": i.refers_to,
            "until": i.until.isoformat() if i.until else None,
        }
        for i in answers
    ]


def _next_suggestion(history: TargetHistory) -> dict[str, Any] | None:
    """The oldest suggestion still waiting for a digest, which the digest offers first; one the
    target's stage no longer calls for is not offered (the digest retires it)."""
    stage = history.target.stage
    waiting = [s for s in history.suggestions if s.key in history.pending and in_step(s.kind, stage)]
    if not waiting:
        return None
    first = min(waiting, key=lambda s: (s.created_at, s.key))
    return {"kind": first.kind.value, "reason": first.reason, "created_at": first.created_at.isoformat()}


def run_command(
    command: Command, stores: Stores, reader: Callable[[], XSource], now: datetime
) -> dict[str, Any]:
    """Carry out one command. ``reader`` is called only when X must be asked (adding a target)."""
    at = checked_time(command.at, now)
    match command:
        case Help():
            return {"actions": actions()}
        case ListTargets():
            return {"targets": list_targets(stores, at)}
        case ListFollowing(limit=limit):
            from rapport.usecases.importing import following

            return following(stores, reader, limit, at)
        case GetSettings():
            return {"settings": stores.settings.policy().model_dump(mode="json")}
        case UpdateSettings(settings=changes):
            merged = stores.settings.policy().model_dump() | changes
            policy = Policy.model_validate(merged)
            stores.settings.put_policy(policy, at)
            return {"settings": policy.model_dump(mode="json")}
        case AddTarget(username=username, topics=topics, note=note):
            return _add_target(stores, reader, NewTarget(username=username, topics=topics, note=note), at)
        case ImportTargets():
            from rapport.usecases.importing import import_targets

            def add(user: XUser, new: NewTarget) -> Target:
                return _add_found(stores, user, new, at)

            return import_targets(command, stores, reader, add)
        case ExportTargets(format=form):
            from rapport.usecases.importing import export_targets

            return export_targets(stores.targets.list_targets(), form)
        case Status():
            return status(stores, at)
        case _TargetCommand(username=username):
            target = stores.targets.find_target(username)
            if target is None:
                raise UnknownTarget(f"@{username} is not a target; add it first", field="username")
            return _on_target(command, stores, target, at)
    raise AdminError(f"unknown command {command!r}")  # pragma: no cover - the union is exhaustive


def checked_time(at: datetime | None, now: datetime) -> datetime:
    """When a command happens: now, or its ``at`` (as UTC when it names no offset) within a window
    around now, so no date near the calendar's ends reaches the stores or the engine."""
    if at is None:
        return now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if not now - AT_PAST <= at <= now + AT_FUTURE:
        window = f"{AT_PAST.days} days before and {AT_FUTURE.days} day after now ({now.isoformat()})"
        raise AdminError(f"at must be within {window}", field="at")
    return at


def _add_target(
    stores: Stores, reader: Callable[[], XSource], new: NewTarget, at: datetime
) -> dict[str, Any]:
    existing = stores.targets.find_target(new.username)
    if existing is not None:
        return {"target": target_view(existing), "created": False}
    found = reader().users_by_username([new.username])  # the id is looked up once, here
    if not found:
        raise AdminError(f"@{new.username} does not exist on X (or is suspended)", field="username")
    return {"target": target_view(_add_found(stores, found[0], new, at)), "created": True}


def _add_found(stores: Stores, user: XUser, new: NewTarget, at: datetime) -> Target:
    """Store a user X confirmed as a new target, with its first evidence and stage."""
    target = Target(
        id=user.id,
        username=user.username,
        name=user.name,
        added_at=at,
        topics=new.topics,
        note=new.note,
        follows_us=False,  # a follow already in place shows up as evidence at the next collect
        protected=user.protected,
    )
    # The profile and its "added" evidence together: a failure in between cannot leave a target that a
    # retry would find already there but without the evidence its stage is worked out from.
    stores.targets.add_target(target, Interaction(f"added:{_stamp(at)}", user.id, InteractionKind.ADDED, at))
    return _with_stage(target, _reevaluate(stores, target, at))


def _on_target(command: Command, stores: Stores, target: Target, at: datetime) -> dict[str, Any]:
    match command:
        case ShowTarget():
            whole = stores.evidence.history(target.id)
            history = whole.transitions
            return {
                "target": target_view(target),
                "feedback": feedback_view(whole.interactions),
                "transitions": [
                    {
                        "at": t.at.isoformat(),
                        "from": t.from_stage,
                        "to": t.to_stage,
                        "reason": t.reason,
                        "evidence": list(t.evidence),
                        "evidence_links": _post_links(target.username, t.evidence),
                    }
                    for t in history
                ],
            }
        case EditTarget(topics=topics, note=note):
            stores.targets.edit_target(target.id, topics, note)  # one write: never half an edit
            return {"target": target_view(stores.targets.get_target(target.id))}
        case RemoveTarget():
            deleted = stores.targets.remove_target(target.id)
            return {"removed": target.username, "items_deleted": deleted}
        case PauseTarget() | ResumeTarget():
            kind = InteractionKind.PAUSE if isinstance(command, PauseTarget) else InteractionKind.RESUME
            stores.evidence.add_interaction(Interaction(f"{kind.value}:{_stamp(at)}", target.id, kind, at))
            stage = _reevaluate(stores, target, at)
            return {"target": target_view(_with_stage(target, stage))}
    raise AdminError(f"unknown command {command!r}")  # pragma: no cover


def _reevaluate(stores: Stores, target: Target, at: datetime) -> Stage:
    # Imported here: only the commands that change a stage need the engine, not every cold start.
    from rapport.usecases.evaluate import EvaluateReport, evaluate_target

    policy, me = stores.settings.policy_and_me()
    report = EvaluateReport(at=at)
    history = stores.evidence.history(target.id)
    username = (me or {}).get("username", "")
    return evaluate_target(stores, history, policy=policy, me_username=username, at=at, report=report)


def _with_stage(target: Target, stage: Stage) -> Target:
    return replace(target, stage=stage)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _post_links(username: str, evidence: tuple[str, ...]) -> list[str]:
    """Links to the posts among the evidence (the rest are events such as "added" or "pause")."""
    return [POST_URL.format(username=username, post_id=e) for e in evidence if e.isdigit()]


def status(stores: Stores, at: datetime) -> dict[str, Any]:
    """Where things stand: X spend this month against the budget, and how many targets per stage."""
    policy = stores.settings.policy()
    day = at.astimezone(UTC).date()
    spent = sum((d.spend.cost for d in stores.spend.days(day.replace(day=1), day).values()), start=USD())
    budget = USD.of(policy.x_monthly_budget_usd)
    stages = {stage.value: 0 for stage in Stage}
    targets = stores.targets.list_targets()
    for target in targets:
        stages[target.stage.value] += 1
    expected = _forecast(stores, targets, policy, at)
    return {
        "x_spend": {
            "month": day.strftime("%Y-%m"),
            "spent_usd": spent.dollars,
            "budget_usd": budget.dollars,
            "share": round(spent.share_of(budget), 4) if budget.micros else None,
            "expected_monthly_usd": expected.expected.dollars,
            "budget_warning": expected.warning(),
        },
        "targets_by_stage": stages,
        "targets": sum(stages.values()),
    }


def _forecast(stores: Stores, targets: list[Target], policy: Policy, at: datetime) -> BudgetForecast:
    """The targets' expected monthly X cost, from the posts of theirs already stored."""
    interactions = {target.id: stores.evidence.interactions(target.id) for target in targets}
    return forecast_targets(targets, interactions, policy, at)
