"""Admin: the user's commands on targets and settings, validated, then applied."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from rapport.domain.model import Interaction, InteractionKind, Stage, Target
from rapport.domain.policy import Policy
from rapport.usecases.ports import Stores, XSource

USERNAME = re.compile(r"^@?[A-Za-z0-9_]{1,15}$")


class AdminError(ValueError):
    """A command that cannot be carried out; the message says why, for the user."""


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: datetime | None = Field(default=None, description="when it happens; defaults to now")


class _TargetCommand(_Command):
    username: str

    @field_validator("username")
    @classmethod
    def _valid_username(cls, value: str) -> str:
        if not USERNAME.match(value):
            raise ValueError("an X username is 1-15 letters, digits or underscores, with or without @")
        return value.lstrip("@")


class AddTarget(_TargetCommand):
    action: Literal["add_target"]
    topics: tuple[str, ...] = ()


class EditTarget(_TargetCommand):
    action: Literal["edit_target"]
    topics: tuple[str, ...]


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


class GetSettings(_Command):
    action: Literal["get_settings"]


class UpdateSettings(_Command):
    action: Literal["update_settings"]
    settings: dict[str, Any]


Command = Annotated[
    AddTarget
    | EditTarget
    | PauseTarget
    | ResumeTarget
    | RemoveTarget
    | ShowTarget
    | ListTargets
    | GetSettings
    | UpdateSettings,
    Field(discriminator="action"),
]
COMMAND: TypeAdapter[Command] = TypeAdapter(Command)


def parse_command(payload: object) -> Command:
    return COMMAND.validate_python(payload)


def target_view(target: Target) -> dict[str, Any]:
    return {
        "id": target.id,
        "username": target.username,
        "name": target.name,
        "stage": target.stage.value,
        "topics": list(target.topics),
        "follows_you": target.follows_us,
        "added_at": target.added_at.isoformat() if target.added_at else None,
    }


def run_command(
    command: Command, stores: Stores, reader: Callable[[], XSource], now: datetime
) -> dict[str, Any]:
    """Carry out one command. ``reader`` is called only when X must be asked (adding a target)."""
    at = command.at or now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    match command:
        case ListTargets():
            return {"targets": [target_view(t) for t in stores.targets.list_targets()]}
        case GetSettings():
            return {"settings": stores.settings.policy().model_dump(mode="json")}
        case UpdateSettings(settings=changes):
            merged = stores.settings.policy().model_dump() | changes
            policy = Policy.model_validate(merged)
            stores.settings.put_policy(policy, at)
            return {"settings": policy.model_dump(mode="json")}
        case AddTarget(username=username, topics=topics):
            return _add_target(stores, reader, username, topics, at)
        case _TargetCommand(username=username):
            target = stores.targets.find_target(username)
            if target is None:
                raise AdminError(f"@{username} is not a target; add it first")
            return _on_target(command, stores, target, at)
    raise AdminError(f"unknown command {command!r}")  # pragma: no cover - the union is exhaustive


def _add_target(
    stores: Stores, reader: Callable[[], XSource], username: str, topics: tuple[str, ...], at: datetime
) -> dict[str, Any]:
    existing = stores.targets.find_target(username)
    if existing is not None:
        return {"target": target_view(existing), "created": False}
    found = reader().users_by_username([username])  # the id is looked up once, here
    if not found:
        raise AdminError(f"@{username} does not exist on X (or is suspended)")
    user = found[0]
    target = Target(
        id=user.id,
        username=user.username,
        name=user.name,
        added_at=at,
        topics=tuple(t.lower() for t in topics),
        follows_us=False,  # a follow already in place shows up as evidence at the next collect
    )
    stores.targets.put_target(target)
    stores.evidence.add_interaction(Interaction(f"added:{_stamp(at)}", user.id, InteractionKind.ADDED, at))
    stage = _reevaluate(stores, target, at)
    return {"target": target_view(_with_stage(target, stage)), "created": True}


def _on_target(command: Command, stores: Stores, target: Target, at: datetime) -> dict[str, Any]:
    match command:
        case ShowTarget():
            history = stores.evidence.transitions(target.id)
            return {
                "target": target_view(target),
                "transitions": [
                    {
                        "at": t.at.isoformat(),
                        "from": t.from_stage,
                        "to": t.to_stage,
                        "reason": t.reason,
                        "evidence": list(t.evidence),
                    }
                    for t in history
                ],
            }
        case EditTarget(topics=topics):
            stores.targets.set_topics(target.id, [t.lower() for t in topics])
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
