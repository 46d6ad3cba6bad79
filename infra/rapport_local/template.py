"""What template.yaml says the functions receive: the schedules' Input and the evaluate rule's pattern.

The local stack sends exactly these payloads, read from the template itself, so a change to a
schedule's Input or to the rule shows up in the demo and the tests instead of drifting from a copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# EventBridge Scheduler replaces this placeholder of a schedule's Input with the scheduled instant.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class _CloudFormationLoader(yaml.SafeLoader):
    """safe_load, tolerant of CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    # The long form CloudFormation itself would read: {"Ref": ...} or {"Fn::GetAtt": ...}.
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def read_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


@dataclass(frozen=True, slots=True)
class StackEvents:
    """The deliveries template.yaml wires to the functions, by function (functions/<name>/)."""

    schedule_inputs: dict[str, str]  # function -> its schedule's Input, as written
    collected_patterns: dict[str, dict[str, Any]]  # function -> its EventBridge rule's pattern

    def scheduled(self, function: str, at: datetime) -> dict[str, Any]:
        """The payload the function's schedule delivers for the instant ``at``."""
        if function not in self.schedule_inputs:
            raise ValueError(f"template.yaml gives {function} no schedule")
        instant = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload: dict[str, Any] = json.loads(self.schedule_inputs[function].replace(SCHEDULED_TIME, instant))
        return payload

    def rule_pattern(self, function: str) -> dict[str, Any]:
        if function not in self.collected_patterns:
            raise ValueError(f"template.yaml gives {function} no EventBridge rule")
        return self.collected_patterns[function]


@cache
def _functions(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The template (read once) and each function's properties, by its folder name (CodeUri)."""
    template = read_template(path)
    functions: dict[str, dict[str, Any]] = {}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.get("Properties") or {}
            functions[Path(str(properties.get("CodeUri", ""))).name] = properties
    return template, functions


@cache
def stack_events(path: Path = TEMPLATE) -> StackEvents:
    inputs: dict[str, str] = {}
    patterns: dict[str, dict[str, Any]] = {}
    for function, properties in _functions(path)[1].items():
        for event in (properties.get("Events") or {}).values():
            given = event.get("Properties") or {}
            if event.get("Type") == "ScheduleV2":
                inputs[function] = str(given["Input"])
            elif event.get("Type") == "EventBridgeRule":
                patterns[function] = dict(given["Pattern"])
    return StackEvents(inputs, patterns)


def _resolve(template: dict[str, Any], value: Any) -> Any:
    """A value as CloudFormation reads it: a Mappings lookup (!FindInMap) is resolved, else as written."""
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        mapping, top, second = value["Fn::FindInMap"]
        return template["Mappings"][mapping][top][second]
    return value


@cache
def timeout_seconds(function: str, path: Path = TEMPLATE) -> int:
    """The function's Timeout (its own, else the Globals'): how long a run may last, and its lease."""
    template, functions = _functions(path)
    if function not in functions:
        raise ValueError(f"template.yaml has no function {function}")
    given = functions[function].get("Timeout", template["Globals"]["Function"]["Timeout"])
    return int(_resolve(template, given))
