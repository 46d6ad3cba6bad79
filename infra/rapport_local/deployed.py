"""The deployed stack `rapport` acts on: named by ``samconfig.toml`` or flags, read with the person's
own AWS credentials (a boto3 session), and reached through its admin Function URL.

Flags win over ``samconfig.toml``; in it, ``[default.deploy.parameters]`` wins over
``[default.global.parameters]``, as SAM reads them. Anything missing on the way to the stack raises
``NoStack`` naming what is missing, which the command reports with exit code 2.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from rapport_local.stack_client import NoStack, StackClient

SAMCONFIG = Path("samconfig.toml")
ADMIN_URL_OUTPUT = "AdminFunctionUrl"
_KEYS = ("stack_name", "region", "profile")
_DEPLOY_FIRST = "deploy it with `sam deploy --guided`"


@dataclass(frozen=True, slots=True)
class StackAddress:
    """Where the stack is: its name, and the region and profile to reach it with (None: boto3's own)."""

    stack_name: str
    region: str | None = None
    profile: str | None = None


def samconfig_defaults(text: str) -> dict[str, str]:
    """``stack_name``, ``region`` and ``profile`` of samconfig's default environment."""
    environment = tomllib.loads(text).get("default", {})
    found: dict[str, str] = {}
    for command in ("global", "deploy"):  # the later one wins
        parameters = environment.get(command, {}).get("parameters", {})
        found.update({key: str(parameters[key]) for key in _KEYS if parameters.get(key)})
    return found


def read_samconfig(path: Path = SAMCONFIG) -> dict[str, str]:
    """The defaults of ``path``; none when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return samconfig_defaults(text)
    except tomllib.TOMLDecodeError as exc:
        raise NoStack(f"{path} is not valid TOML: {exc}") from exc


def stack_address(
    samconfig: Mapping[str, str],
    *,
    stack_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> StackAddress:
    """The flags given, else samconfig's values."""
    name = stack_name or samconfig.get("stack_name")
    if not name:
        raise NoStack(f"no stack name: give --stack-name, or {_DEPLOY_FIRST} (it writes {SAMCONFIG})")
    return StackAddress(name, region or samconfig.get("region"), profile or samconfig.get("profile"))


@dataclass(frozen=True, slots=True)
class DeployedStack:
    name: str
    session: boto3.Session
    outputs: Mapping[str, str]
    parameters: Mapping[str, str]
    resources: tuple[tuple[str, str, str], ...]  # (logical id, resource type, physical id)

    @property
    def region(self) -> str:
        return str(self.session.region_name)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            where = f"stack {self.name!r} in {self.region}"
            raise NoStack(f"{where} has no output {key}: {_DEPLOY_FIRST}") from None

    @property
    def ses_identities(self) -> tuple[str, ...]:
        """The sender's and recipient's addresses (the stack's parameters), each once."""
        keys = ("SenderEmail", "RecipientEmail")
        return tuple(dict.fromkeys(self.parameters[k] for k in keys if self.parameters.get(k)))

    def physical_ids(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of the stack's resources of that type (an alarm's name, ...)."""
        return {logical: physical for logical, kind, physical in self.resources if kind == resource_type}

    def stack_client(self) -> StackClient:
        credentials = self.session.get_credentials()
        if credentials is None:  # open_deployed checked; the session may have lost them since
            raise NoStack("no AWS credentials found")
        return StackClient(
            self.output(ADMIN_URL_OUTPUT),
            credentials,
            self.region,
            timeout=60.0,
            unreachable=f"check the network, and that stack {self.name!r} is deployed as its outputs say",
        )


def open_deployed(address: StackAddress) -> DeployedStack:
    """Read the stack's outputs, parameters and resources with the person's credentials."""
    session = _session(address)
    name, region = address.stack_name, session.region_name
    cloudformation = session.client("cloudformation")
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=name)
        resources = tuple(
            (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
            for page in pages
            for r in page["StackResourceSummaries"]
        )
    except ClientError as exc:
        if "does not exist" in str(exc):
            where = f"no stack named {name!r} in {region}"
            raise NoStack(f"{where}: give --stack-name and --region, or {_DEPLOY_FIRST}") from exc
        raise NoStack(f"could not read stack {name!r} in {region}: {exc}") from exc
    except BotoCoreError as exc:
        raise NoStack(f"could not reach AWS CloudFormation in {region}: {exc}") from exc
    return DeployedStack(
        name,
        session,
        {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        resources,
    )


def _session(address: StackAddress) -> boto3.Session:
    profile = f"profile {address.profile!r}" if address.profile else "the default profile"
    try:
        session = boto3.Session(profile_name=address.profile, region_name=address.region)
        credentials = session.get_credentials()
    except ProfileNotFound as exc:
        named = f"no AWS profile named {address.profile!r}"
        raise NoStack(f"{named}: give --profile, or fix {SAMCONFIG}") from exc
    except BotoCoreError as exc:
        raise NoStack(f"the AWS credentials of {profile} cannot be loaded: {exc}") from exc
    if credentials is None:
        raise NoStack(
            f"no AWS credentials found for {profile}: configure them (`aws configure` or `aws sso login`), "
            "or give --profile"
        )
    if not session.region_name:
        fixes = f"give --region, set region in {SAMCONFIG}, or configure one for {profile}"
        raise NoStack(f"no AWS region: {fixes}")
    return session
