"""Which deployed stack `rapport` acts on: samconfig.toml's defaults, flags over them, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport_local.cli import main
from rapport_local.deployed import StackAddress, read_samconfig, samconfig_defaults, stack_address
from rapport_local.stack_client import NoStack

REPO = Path(__file__).resolve().parents[2]

GUIDED = """
version = 0.1
[default.global.parameters]
stack_name = "rapport"
region = "us-east-1"

[default.deploy.parameters]
stack_name = "rapport-ana"
region = "eu-west-1"
profile = "ana"
capabilities = "CAPABILITY_IAM"

[staging.deploy.parameters]
stack_name = "rapport-staging"
"""


def test_the_deploy_parameters_win_over_the_global_ones():
    # Given a samconfig.toml written by `sam deploy --guided` over the project's global stack name
    # When its defaults are read
    found = samconfig_defaults(GUIDED)
    # Then the deploy section's values are the ones used, and other environments are ignored
    assert found == {"stack_name": "rapport-ana", "region": "eu-west-1", "profile": "ana"}


def test_the_projects_own_samconfig_names_the_stack_and_leaves_region_and_profile_to_boto3():
    assert read_samconfig(REPO / "samconfig.toml") == {"stack_name": "rapport"}


def test_flags_win_over_samconfig_and_fill_in_only_what_they_name():
    # Given samconfig's defaults
    defaults = samconfig_defaults(GUIDED)
    # When only a stack name and a region are given as flags
    address = stack_address(defaults, stack_name="rapport-test", region="us-west-2")
    # Then those win, and the profile still comes from samconfig
    assert address == StackAddress("rapport-test", "us-west-2", "ana")


def test_without_samconfig_or_flags_the_missing_stack_name_is_named(tmp_path):
    # Given a directory without samconfig.toml
    defaults = read_samconfig(tmp_path / "samconfig.toml")
    assert defaults == {}
    # When no flag names the stack
    with pytest.raises(NoStack, match="--stack-name"):
        stack_address(defaults)


def test_a_broken_samconfig_is_named(tmp_path):
    broken = tmp_path / "samconfig.toml"
    broken.write_text("[default.deploy.parameters\nstack_name = 1\n")
    with pytest.raises(NoStack, match=r"samconfig\.toml is not valid TOML"):
        read_samconfig(broken)


@pytest.fixture
def no_aws_credentials(tmp_path, monkeypatch):
    """No credentials anywhere boto3 looks, and no instance metadata to ask (no network)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    monkeypatch.chdir(tmp_path)


def test_status_without_credentials_exits_2_saying_so(no_aws_credentials, capsys):
    # Given no AWS credentials at all
    # When the status of a named stack is asked (flags after the command, too)
    code = main(["status", "--stack-name", "rapport", "--region", "eu-west-1"])
    # Then it stops before any call, saying what is missing
    assert code == 2
    assert "no AWS credentials found" in capsys.readouterr().err


def test_status_with_an_unknown_profile_exits_2_naming_it(no_aws_credentials, capsys):
    assert main(["--profile", "nobody", "status", "--stack-name", "rapport"]) == 2
    assert "no AWS profile named 'nobody'" in capsys.readouterr().err


def test_status_with_no_stack_name_anywhere_exits_2(no_aws_credentials, capsys):
    assert main(["status"]) == 2
    assert "no stack name" in capsys.readouterr().err


def test_local_status_without_a_local_stack_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--local", "status"]) == 2
    assert "rapport local" in capsys.readouterr().err
