"""The SAM template as CloudFormation will run it: what gets deployed, wired and allowed.

The template is expanded offline by the AWS SAM translator (the library `sam deploy` uses) and the
assertions are made on the resulting CloudFormation, so they hold for what AWS actually creates.
aws-sam-translator pins its own pydantic, so it is not installed in the project venv: when it cannot
be imported here the expansion runs under the tools venv (`make .venv-tools/bin/sam`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from rapport_local.coldstart import lambda_env

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
FUNCTIONS = ("collect", "evaluate", "digest", "admin", "feedback")
ENV_VARS = {
    "RAPPORT_TABLE_NAME",
    "RAPPORT_EVENT_BUS_NAME",
    "RAPPORT_X_SECRET_ID",
    "RAPPORT_SENDER",
    "RAPPORT_RECIPIENT",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
}

# Run by a Python that has aws-sam-translator. Local CodeUri/ContentUri paths become S3 URIs (as
# `sam validate` does), keeping the path as the key so a test can tell which directory went where.
# The managed-policy loader never calls IAM: SAM resolves AWS managed policy names from its bundled map.
_EXPAND = """
import copy, json, sys
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class OfflinePolicyLoader(ManagedPolicyLoader):
    def __init__(self):
        super().__init__(iam_client=None)

    def load(self):
        return {}

with open(sys.argv[1], encoding="utf-8") as f:
    sam = yaml_parse(f.read())
packaged = copy.deepcopy(sam)
for resource in packaged.get("Resources", {}).values():
    props = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri"):
        if isinstance(props.get(key), str):
            props[key] = "s3://offline-artifacts/" + props[key].strip("/")
cfn = transform(packaged, {}, OfflinePolicyLoader())
json.dump({"sam": sam, "cfn": cfn}, sys.stdout)
"""


class Templates(NamedTuple):
    sam: dict[str, Any]  # template.yaml as written
    cfn: dict[str, Any]  # after the SAM transform


def _python_with_samtranslator() -> str:
    if importlib.util.find_spec("samtranslator") is not None:
        return sys.executable
    if TOOLS_PYTHON.exists():
        return str(TOOLS_PYTHON)
    pytest.fail(
        "aws-sam-translator is not importable and .venv-tools is missing: run `make .venv-tools/bin/sam`"
    )


def _offline_env() -> dict[str, str]:
    """No real profile or credentials can leak in; the region only fills ${AWS::Region}-style defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


@pytest.fixture(scope="module")
def templates() -> Templates:
    result = subprocess.run(
        [_python_with_samtranslator(), "-I", "-c", _EXPAND, str(TEMPLATE)],
        capture_output=True,
        text=True,
        env=_offline_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"SAM transform failed:\n{result.stderr}"
    out = json.loads(result.stdout)
    return Templates(sam=out["sam"], cfn=out["cfn"])


# ------------------------------------------------------------------ helpers over the CloudFormation


def resources_of(cfn: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == type_}


def function(cfn: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = cfn["Resources"][f"{name.capitalize()}Function"]["Properties"]
    return props


def role_statements(cfn: dict[str, Any], name: str) -> list[dict[str, Any]]:
    role = cfn["Resources"][f"{name.capitalize()}FunctionRole"]["Properties"]
    return [st for policy in role.get("Policies", []) for st in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def granted_actions(cfn: dict[str, Any], name: str) -> set[str]:
    return {a for st in role_statements(cfn, name) for a in actions(st)}


def statements_with_prefix(cfn: dict[str, Any], name: str, prefix: str) -> list[dict[str, Any]]:
    return [st for st in role_statements(cfn, name) if any(a.startswith(prefix) for a in actions(st))]


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether an intrinsic (Ref, GetAtt, Sub, If, ...) mentions a logical id anywhere inside it."""
    if isinstance(value, str):
        return f"${{{logical_id}}}" in value
    if isinstance(value, list):
        return any(refers_to(v, logical_id) for v in value)
    if isinstance(value, dict):
        get_att = value.get("Fn::GetAtt")
        if value.get("Ref") == logical_id or (isinstance(get_att, list) and get_att[0] == logical_id):
            return True
        return any(refers_to(v, logical_id) for v in value.values())
    return False


def layer_by_source(cfn: dict[str, Any]) -> dict[str, str]:
    """Source directory -> logical id of the LayerVersion built from it."""
    return {
        r["Properties"]["Content"]["S3Key"]: name
        for name, r in resources_of(cfn, "AWS::Lambda::LayerVersion").items()
    }


def is_hourly(expression: str) -> bool:
    if expression == "rate(1 hour)":
        return True
    # cron(minutes hours day-of-month month day-of-week year): a fixed minute of every hour, every day
    match = re.fullmatch(r"cron\((\d+) \* \* \* \? \*\)", expression)
    return match is not None


# ------------------------------------------------------------------ functions


def test_five_python313_arm64_functions_each_run_their_own_handler(templates: Templates) -> None:
    # Given the expanded template
    functions = resources_of(templates.cfn, "AWS::Lambda::Function")

    # Then there is exactly one Lambda per handler directory, on the runtime and architecture we build for
    assert sorted(functions) == sorted(f"{n.capitalize()}Function" for n in FUNCTIONS)
    for name in FUNCTIONS:
        props = function(templates.cfn, name)
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.lambda_handler"
        assert props["Code"]["S3Key"] == f"functions/{name}"
        assert props["TracingConfig"] == {"Mode": {"Ref": "XRayTracing"}}


def test_every_function_loads_the_shared_and_dependencies_layers(templates: Templates) -> None:
    # Given the layers built from the two layer directories
    layers = layer_by_source(templates.cfn)
    assert set(layers) == {"layers/shared", "layers/dependencies"}

    # Then every function has both
    for name in FUNCTIONS:
        attached = function(templates.cfn, name)["Layers"]
        assert len(attached) == 2
        for logical_id in layers.values():
            assert any(refers_to(layer, logical_id) for layer in attached), (name, logical_id)


def test_layers_are_built_by_their_own_makefile_for_python313_on_arm64(templates: Templates) -> None:
    # Given the layers as written (build metadata is consumed by `sam build`, not CloudFormation)
    for logical_id in ("SharedLayer", "DependenciesLayer"):
        layer = templates.sam["Resources"][logical_id]
        makefile = ROOT / layer["Properties"]["ContentUri"] / "Makefile"

        # Then sam build runs the layer's own make target (no python3.13 or container needed) ...
        assert layer["Metadata"]["BuildMethod"] == "makefile"
        assert f"build-{logical_id}:" in makefile.read_text(encoding="utf-8")
        # ... for the functions' runtime and architecture
        assert layer["Metadata"]["BuildArchitecture"] == "arm64"
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_the_dependencies_makefile_fetches_lambda_wheels_and_leaves_out_the_runtimes_boto() -> None:
    makefile = (ROOT / "layers/dependencies/Makefile").read_text(encoding="utf-8")

    assert "LAMBDA_PYTHON_VERSION ?= 3.13" in makefile
    assert "manylinux2014_aarch64" in makefile
    assert "--only-binary=:all:" in makefile
    assert "PROVIDED_BY_RUNTIME := boto3 botocore s3transfer" in makefile


def test_every_function_gets_the_settings_it_validates_at_cold_start(templates: Templates) -> None:
    for name in FUNCTIONS:
        # Given a function's environment
        variables = function(templates.cfn, name)["Environment"]["Variables"]

        # Then all settings are there, pointing at this stack's own resources
        assert set(variables) >= ENV_VARS, name
        assert variables["RAPPORT_TABLE_NAME"] == {"Ref": "Table"}
        assert variables["RAPPORT_EVENT_BUS_NAME"] == {"Ref": "EventBus"}
        assert variables["RAPPORT_SENDER"] == {"Ref": "SenderEmail"}
        assert variables["RAPPORT_RECIPIENT"] == {"Ref": "RecipientEmail"}
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Rapport"
        assert variables["RAPPORT_X_SECRET_ID"] == {
            "Fn::If": ["CreateXSecret", {"Ref": "XSecret"}, {"Ref": "XSecretArn"}]
        }


def test_no_function_looks_for_pydantic_plugins_at_cold_start(templates: Templates) -> None:
    # Rapport has none: the search reads every installed package's entry points (docs/coldstart.md)
    for name in FUNCTIONS:
        assert (
            function(templates.cfn, name)["Environment"]["Variables"]["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
        )


def test_cold_starts_are_measured_with_every_variable_all_functions_get(templates: Templates) -> None:
    # Given the variables every function is given
    given = [set(function(templates.cfn, name)["Environment"]["Variables"]) for name in FUNCTIONS]

    # Then `rapport coldstart` sets each of them in the processes it measures
    assert set.intersection(*given) <= set(lambda_env())


# ------------------------------------------------------------------ state


def test_table_matches_the_single_table_design_of_the_stores(templates: Templates) -> None:
    # Given the schema the DynamoDB stores create locally
    from rapport.adapters.dynamodb.table import TABLE_SCHEMA

    # When looking at the deployed table
    table = templates.cfn["Resources"]["Table"]["Properties"]

    # Then keys, index and billing are the same, so code and infrastructure cannot drift apart
    assert table["KeySchema"] == TABLE_SCHEMA["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        TABLE_SCHEMA["AttributeDefinitions"], key=str
    )
    assert table["GlobalSecondaryIndexes"] == TABLE_SCHEMA["GlobalSecondaryIndexes"]
    assert table["BillingMode"] == TABLE_SCHEMA["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]


def test_table_expires_items_by_ttl_and_survives_stack_deletion(templates: Templates) -> None:
    table = templates.cfn["Resources"]["Table"]

    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_an_empty_secret_is_created_only_when_none_is_given(templates: Templates) -> None:
    # Given the XSecretArn parameter, empty by default
    assert templates.cfn["Parameters"]["XSecretArn"]["Default"] == ""
    assert templates.cfn["Conditions"]["CreateXSecret"] == {"Fn::Equals": [{"Ref": "XSecretArn"}, ""]}

    # Then the stack's own secret exists only under that condition, and carries no value
    secret = templates.cfn["Resources"]["XSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Condition"] == "CreateXSecret"
    assert "SecretString" not in secret["Properties"]
    assert "GenerateSecretString" not in secret["Properties"]


def test_the_sender_is_an_ses_identity(templates: Templates) -> None:
    identity = templates.cfn["Resources"]["SenderIdentity"]

    assert identity["Type"] == "AWS::SES::EmailIdentity"
    assert identity["Properties"]["EmailIdentity"] == {"Ref": "SenderEmail"}


# ------------------------------------------------------------------ events


def test_collect_and_digest_run_on_eventbridge_scheduler(templates: Templates) -> None:
    # Given the EventBridge Scheduler schedules
    schedules = resources_of(templates.cfn, "AWS::Scheduler::Schedule")

    # Then there is one per scheduled function, hourly, each targeting its function
    targets = {}
    for schedule in schedules.values():
        props = schedule["Properties"]
        for name in FUNCTIONS:
            if props["Target"]["Arn"] == {"Fn::GetAtt": [f"{name.capitalize()}Function", "Arn"]}:
                targets[name] = props
    assert sorted(targets) == ["collect", "digest"]
    assert len(schedules) == 2
    assert targets["collect"]["ScheduleExpression"] == {"Fn::Sub": "rate(${CollectRateMinutes} minutes)"}
    assert templates.cfn["Parameters"]["CollectRateMinutes"]["Default"] == 60
    assert is_hourly(targets["digest"]["ScheduleExpression"])
    # And the digest ticks on the user's local hours (zones with :30 offsets included)
    assert targets["digest"]["ScheduleExpressionTimezone"] == {"Ref": "TimeZone"}

    # And no fixed schedule name, so two environments in one account do not collide
    assert all("Name" not in props for props in targets.values())


def test_collected_interactions_on_the_custom_bus_trigger_evaluate(templates: Templates) -> None:
    # Given the rules on the account
    rules = resources_of(templates.cfn, "AWS::Events::Rule")

    # Then exactly one exists: on the stack's own bus, matching collect's event, targeting evaluate
    assert len(rules) == 1
    rule_id, rule = next(iter(rules.items()))
    props = rule["Properties"]
    assert props["EventBusName"] == {"Ref": "EventBus"}
    assert props["EventPattern"] == {
        "source": ["rapport.collect"],
        "detail-type": ["InteractionsCollected"],
    }
    assert [t["Arn"] for t in props["Targets"]] == [{"Fn::GetAtt": ["EvaluateFunction", "Arn"]}]

    # And EventBridge is allowed to invoke evaluate, from that rule only
    permissions = [
        p["Properties"]
        for p in resources_of(templates.cfn, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert len(permissions) == 1
    assert refers_to(permissions[0]["FunctionName"], "EvaluateFunction")
    assert refers_to(permissions[0]["SourceArn"], rule_id)


def test_the_event_bus_is_a_custom_bus_of_this_stack(templates: Templates) -> None:
    bus = templates.cfn["Resources"]["EventBus"]

    assert bus["Type"] == "AWS::Events::EventBus"
    assert bus["Properties"]["Name"] != "default"


# ------------------------------------------------------------------ permissions


def test_no_function_is_granted_a_wildcard_action(templates: Templates) -> None:
    for name in FUNCTIONS:
        for action in granted_actions(templates.cfn, name):
            assert "*" not in action, (name, action)


def test_every_function_reaches_the_table_and_only_the_table(templates: Templates) -> None:
    for name in FUNCTIONS:
        # Given the function's DynamoDB permissions
        statements = statements_with_prefix(templates.cfn, name, "dynamodb:")

        # Then they exist and name this stack's table (and its indexes) only
        assert statements, name
        for statement in statements:
            assert all(refers_to(r, "Table") for r in resources(statement)), name


def test_only_collect_may_put_events_and_only_on_the_rapport_bus(templates: Templates) -> None:
    for name in FUNCTIONS:
        statements = statements_with_prefix(templates.cfn, name, "events:")
        if name == "collect":
            assert [actions(st) for st in statements] == [["events:PutEvents"]]
            assert all(refers_to(r, "EventBus") for st in statements for r in resources(st))
        else:
            assert statements == [], name


def test_only_collect_and_admin_may_read_the_x_secret(templates: Templates) -> None:
    for name in FUNCTIONS:
        statements = statements_with_prefix(templates.cfn, name, "secretsmanager:")
        reading_x = [st for st in statements if any(refers_to(r, "XSecret") for r in resources(st))]
        if name in {"collect", "admin"}:
            assert [actions(st) for st in reading_x] == [["secretsmanager:GetSecretValue"]], name
            for resource in resources(reading_x[0]):
                assert refers_to(resource, "XSecret"), resource
                assert refers_to(resource, "XSecretArn"), resource
        else:
            assert reading_x == [], name


def test_the_feedback_key_is_generated_by_the_stack_and_read_only_where_links_are_signed_or_checked(
    templates: Templates,
) -> None:
    # Given the key's secret: Secrets Manager generates it, so no value is in the template
    key = templates.cfn["Resources"]["FeedbackKey"]["Properties"]
    assert key["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in key

    for name in FUNCTIONS:
        statements = statements_with_prefix(templates.cfn, name, "secretsmanager:")
        reading_key = [st for st in statements if any(refers_to(r, "FeedbackKey") for r in resources(st))]
        variables = function(templates.cfn, name)["Environment"]["Variables"]
        if name in {"digest", "admin", "feedback"}:
            # Then the functions that sign (digest, admin's test digest) or check (feedback) links read
            # it, by its name in their environment, never its value
            assert [actions(st) for st in reading_key] == [["secretsmanager:GetSecretValue"]], name
            assert variables["RAPPORT_FEEDBACK_SECRET_ID"] == {"Ref": "FeedbackKey"}, name
        else:
            assert reading_key == [], name
            assert "RAPPORT_FEEDBACK_SECRET_ID" not in variables, name
    # And the digest's links point at the feedback function's own URL
    for name in ("digest", "admin"):
        variables = function(templates.cfn, name)["Environment"]["Variables"]
        assert variables["RAPPORT_FEEDBACK_URL"] == {"Fn::GetAtt": ["FeedbackFunctionUrl", "FunctionUrl"]}


@pytest.mark.parametrize("function", ["digest", "admin"])
def test_only_digest_and_admin_may_send_mail_as_the_sender_to_the_recipient(
    templates: Templates, function: str
) -> None:
    # Given the SES permissions of every function
    ses = {name: statements_with_prefix(templates.cfn, name, "ses:") for name in FUNCTIONS}

    # Then only digest (the digest) and admin (the test digest) have any, and they are the two send
    # actions on named identities, never "*"
    assert {name for name, statements in ses.items() if statements} == {"digest", "admin"}
    (statement,) = ses[function]
    assert sorted(actions(statement)) == ["ses:SendEmail", "ses:SendRawEmail"]
    identity_arns = resources(statement)
    assert "*" not in identity_arns
    assert all(
        isinstance(arn, dict) and ":identity/${" in arn["Fn::Sub"] and "*" not in arn["Fn::Sub"]
        for arn in identity_arns
    )
    assert refers_to(identity_arns, "SenderEmail")


def test_admin_url_requires_iam_signed_requests_and_only_feedback_is_public(templates: Templates) -> None:
    # Given the function URLs
    urls = {
        next(
            f
            for f in FUNCTIONS
            if refers_to(u["Properties"]["TargetFunctionArn"], f"{f.capitalize()}Function")
        ): u
        for u in resources_of(templates.cfn, "AWS::Lambda::Url").values()
    }

    # Then admin's is never public, and feedback's (the digest's signed links) is the one without AWS auth
    assert set(urls) == {"admin", "feedback"}
    assert urls["admin"]["Properties"]["AuthType"] == "AWS_IAM"
    assert urls["feedback"]["Properties"]["AuthType"] == "NONE"
    public = [
        p["Properties"]
        for p in resources_of(templates.cfn, "AWS::Lambda::Permission").values()
        if p["Properties"].get("FunctionUrlAuthType") == "NONE" or p["Properties"]["Principal"] == "*"
    ]
    assert public
    assert all(refers_to(p["FunctionName"], "FeedbackFunction") for p in public)


# ------------------------------------------------------------------ outputs and packaging


def test_outputs_name_what_the_user_needs_after_deploy(templates: Templates) -> None:
    outputs = templates.cfn["Outputs"]

    assert outputs["TableName"]["Value"] == {"Ref": "Table"}
    assert outputs["EventBusName"]["Value"] == {"Ref": "EventBus"}
    assert outputs["AdminFunctionUrl"]["Value"] == {"Fn::GetAtt": ["AdminFunctionUrl", "FunctionUrl"]}
    assert refers_to(outputs["XSecretArn"]["Value"], "XSecret")
    for name in FUNCTIONS:
        stem = f"{name.capitalize()}Function"
        assert outputs[f"{stem}Name"]["Value"] == {"Ref": stem}
        assert outputs[f"{stem}Arn"]["Value"] == {"Fn::GetAtt": [stem, "Arn"]}


def test_dependencies_layer_mirrors_the_runtime_dependencies_without_boto() -> None:
    # Given the layer's requirements and the project's declared dependencies
    lines = (ROOT / "layers/dependencies/requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[\[<>=~!; ]", req, maxsplit=1)[0].lower() for req in requirements}

    # Then every layer requirement is declared identically for the project (tests run what ships) ...
    assert [req for req in requirements if req not in declared] == []
    # ... the layer has what the functions import, with the X-Ray extra for Tracer ...
    assert names == {"aws-lambda-powertools", "pynamodb", "tweepy", "pydantic", "tzdata"}
    assert any(req.startswith("aws-lambda-powertools[tracer]") for req in requirements)
    # ... and nothing the Lambda runtime already provides
    assert names.isdisjoint({"boto3", "botocore"})


# ------------------------------------------------------------------ guided deploy: parameters


def test_the_guided_deploy_asks_a_few_constrained_questions_with_sane_defaults(templates: Templates) -> None:
    params = templates.cfn["Parameters"]

    # Given the parameters `sam deploy --guided` prompts for
    # Then the two addresses must be given (no default) and look like addresses
    for name in ("SenderEmail", "RecipientEmail"):
        assert "Default" not in params[name], name
        assert re.fullmatch(params[name]["AllowedPattern"], "ana@example.com"), name
        assert not re.fullmatch(params[name]["AllowedPattern"], "not an address"), name
    # And everything else has a default within its constraints
    assert params["TimeZone"]["Default"] == "UTC"
    assert re.fullmatch(params["TimeZone"]["AllowedPattern"], "America/Argentina/Buenos_Aires")
    assert not re.fullmatch(params["TimeZone"]["AllowedPattern"], "Mars Olympus")
    assert (
        params["DigestHour"]["MinValue"],
        params["DigestHour"]["Default"],
        params["DigestHour"]["MaxValue"],
    ) == (
        0,
        7,
        23,
    )
    assert params["CollectRateMinutes"]["Default"] in params["CollectRateMinutes"]["AllowedValues"]
    assert min(params["CollectRateMinutes"]["AllowedValues"]) >= 15
    assert params["XMonthlyBudgetUSD"]["MinValue"] == 0
    assert params["LogRetentionDays"]["Default"] in params["LogRetentionDays"]["AllowedValues"]
    assert re.fullmatch(params["EnvironmentName"]["AllowedPattern"], params["EnvironmentName"]["Default"])


def test_deploy_time_answers_reach_the_functions_as_defaults_of_the_stored_settings(
    templates: Templates,
) -> None:
    from rapport.runtime.settings import FunctionSettings

    aliases = {name: f.alias for name, f in FunctionSettings.model_fields.items()}
    expected = {
        aliases["default_timezone"]: {"Ref": "TimeZone"},
        aliases["default_digest_hour"]: {"Ref": "DigestHour"},
        aliases["default_x_monthly_budget_usd"]: {"Ref": "XMonthlyBudgetUSD"},
    }
    for name in FUNCTIONS:
        variables = function(templates.cfn, name)["Environment"]["Variables"]
        assert {k: variables[k] for k in expected} == expected, name


def test_samconfig_builds_and_deploys_this_template_with_the_iam_capability() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))

    deploy = config["default"]["deploy"]["parameters"]
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    assert config["default"]["build"]["parameters"]["cached"] is True


# ------------------------------------------------------------------ reliability


def test_scheduled_and_event_deliveries_are_retried_then_parked_in_the_dead_letter_queue(
    templates: Templates,
) -> None:
    # Given every EventBridge Scheduler schedule and every rule target
    targets = [
        s["Properties"]["Target"] for s in resources_of(templates.cfn, "AWS::Scheduler::Schedule").values()
    ]
    targets += [
        t
        for r in resources_of(templates.cfn, "AWS::Events::Rule").values()
        for t in r["Properties"]["Targets"]
    ]

    # Then each retries a bounded number of times within the hour, then lands in the DLQ
    assert len(targets) == 3
    for target in targets:
        assert 0 < target["RetryPolicy"]["MaximumRetryAttempts"] <= 5
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}


def test_the_rule_may_write_to_the_dead_letter_queue_and_nothing_else_may(templates: Templates) -> None:
    (policy,) = resources_of(templates.cfn, "AWS::SQS::QueuePolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]

    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    rule_arn = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert rule_arn == {"Fn::GetAtt": [next(iter(resources_of(templates.cfn, "AWS::Events::Rule"))), "Arn"]}


def test_asynchronous_failures_go_to_the_dead_letter_queue_after_two_retries(templates: Templates) -> None:
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in resources_of(templates.cfn, "AWS::Lambda::EventInvokeConfig").values()
    }

    # Then the three functions invoked asynchronously each have an on-failure destination
    assert sorted(configs) == ["CollectFunction", "DigestFunction", "EvaluateFunction"]
    for name, config in configs.items():
        assert config["MaximumRetryAttempts"] == 2, name
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
        }
        # And the function's role may send there, and only there
        sqs = statements_with_prefix(templates.cfn, name.removesuffix("Function").lower(), "sqs:")
        assert [(actions(st), st["Resource"]) for st in sqs] == [
            (["sqs:SendMessage"], {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
        ]


def test_no_function_reserves_concurrency_so_a_new_account_can_deploy(templates: Templates) -> None:
    # A new account's concurrency quota is 10 and Lambda keeps 100 unreserved: reserving any fails
    for name in FUNCTIONS:
        assert "ReservedConcurrentExecutions" not in function(templates.cfn, name), name


def test_background_runs_hold_their_lease_as_long_as_they_may_run(templates: Templates) -> None:
    mappings = templates.cfn["Mappings"]
    for name in ("collect", "evaluate", "digest"):
        props = function(templates.cfn, name)
        # Then the lease's ttl is the function's Timeout, read from one figure
        given = props["Environment"]["Variables"]["RAPPORT_TIMEOUT_SECONDS"]
        assert given == props["Timeout"] == {"Fn::FindInMap": ["Runs", "Background", "TimeoutSeconds"]}, name
    # And that figure is the five minutes collect needs to page X for many targets
    assert mappings["Runs"]["Background"]["TimeoutSeconds"] == 300


def test_the_table_is_recoverable_encrypted_and_protected_from_deletion(templates: Templates) -> None:
    table = templates.cfn["Resources"]["Table"]["Properties"]

    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionProtectionEnabled"] is True


def test_the_dead_letter_queue_is_encrypted_and_keeps_messages_two_weeks(templates: Templates) -> None:
    queue = templates.cfn["Resources"]["DeadLetterQueue"]["Properties"]

    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


# ------------------------------------------------------------------ secrets


def test_the_x_credentials_never_appear_in_the_environment_or_outputs(templates: Templates) -> None:
    dumped = json.dumps(templates.cfn)

    # No dynamic reference resolves the secret's value into a property, anywhere
    assert "resolve:secretsmanager" not in dumped
    # The functions get the secret's ARN (a name), and the output is that ARN too
    for name in FUNCTIONS:
        variables = function(templates.cfn, name)["Environment"]["Variables"]
        secret_like = [k for k in variables if re.search(r"KEY|TOKEN|PASSWORD|CREDENTIAL", k)]
        assert secret_like == [], name
    assert templates.cfn["Outputs"]["XSecretArn"]["Value"] == {
        "Fn::If": ["CreateXSecret", {"Ref": "XSecret"}, {"Ref": "XSecretArn"}]
    }
    assert templates.cfn["Resources"]["XSecret"]["DeletionPolicy"] == "Retain"


# ------------------------------------------------------------------ observability


def test_each_function_logs_to_its_own_group_with_the_chosen_retention(templates: Templates) -> None:
    groups = resources_of(templates.cfn, "AWS::Logs::LogGroup")

    assert len(groups) == len(FUNCTIONS)
    for name in FUNCTIONS:
        log_group_id = function(templates.cfn, name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[log_group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_powertools_metrics_are_namespaced_per_environment(templates: Templates) -> None:
    for name in FUNCTIONS:
        variables = function(templates.cfn, name)["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == {"Fn::Sub": "rapport-${EnvironmentName}"}
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


def test_xray_tracing_is_off_unless_the_stack_turns_it_on(templates: Templates) -> None:
    # Given the guided deploy's tracing question
    parameter = templates.sam["Parameters"]["XRayTracing"]
    assert parameter["Default"] == "PassThrough"
    assert set(parameter["AllowedValues"]) == {"Active", "PassThrough"}

    # Then every function traces, and its Tracer runs, exactly when the answer is Active
    condition = templates.cfn["Conditions"]["TracingActive"]
    assert condition == {"Fn::Equals": [{"Ref": "XRayTracing"}, "Active"]}
    for name in FUNCTIONS:
        props = function(templates.cfn, name)
        assert props["TracingConfig"] == {"Mode": {"Ref": "XRayTracing"}}
        variables = props["Environment"]["Variables"]
        assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingActive", "false", "true"]}


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, Any]]:
    props = alarm["Properties"]
    if "MetricName" in props:
        return [(props["Namespace"], props["MetricName"], props["Dimensions"][0]["Value"])]
    return [
        (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"], d["Value"])
        for q in props["Metrics"]
        if "MetricStat" in q
        for d in q["MetricStat"]["Metric"]["Dimensions"]
    ]


def test_alarms_watch_errors_throttles_dead_letters_and_the_x_budget(templates: Templates) -> None:
    alarms = resources_of(templates.cfn, "AWS::CloudWatch::Alarm")
    watched = [m for alarm in alarms.values() for m in _alarm_metrics(alarm)]

    # Then every function's errors and throttles, the DLQ depth and X spend are watched
    for name in FUNCTIONS:
        stem = {"Ref": f"{name.capitalize()}Function"}
        assert ("AWS/Lambda", "Errors", stem) in watched, name
        assert ("AWS/Lambda", "Throttles", stem) in watched, name
    queue = {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue) in watched
    assert ("Rapport", "XSpendMicroUSD", {"Fn::Sub": "rapport-${EnvironmentName}"}) in watched

    # And the budget alarm compares the month's pace in dollars with the budget parameter
    budget = alarms["XBudgetAlarm"]["Properties"]
    assert budget["Threshold"] == {"Ref": "XMonthlyBudgetUSD"}
    assert [q["Expression"] for q in budget["Metrics"] if "Expression" in q] == ["spend * 30 / 1000000"]

    # And every alarm notifies the stack's topic, when it fires and when it clears
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name


def test_the_alarm_topic_is_an_output_and_an_email_can_subscribe(templates: Templates) -> None:
    assert templates.cfn["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    subscription = templates.cfn["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "SubscribeAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


def test_checkov_skips_are_each_justified(templates: Templates) -> None:
    skips = [
        (name, skip)
        for name, resource in templates.sam["Resources"].items()
        for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
    ]

    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
        assert len(skip["comment"]) > 40, (name, skip["id"])


# ------------------------------------------------------------------ cfn-lint


def _cfn_lint_matches(path: Path, levels: frozenset[str] = frozenset({"Error"})) -> list[str]:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    executable = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert executable, "cfn-lint is not installed in this environment"
    result = subprocess.run(
        [executable, "--format", "json", "--", str(path)],
        capture_output=True,
        text=True,
        env=_offline_env(),
        timeout=300,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (exit {result.returncode}):\n{result.stderr}"
    matches: list[dict[str, Any]] = json.loads(result.stdout)
    return [
        f"{m['Rule']['Id']} {'/'.join(map(str, m['Location']['Path']))}: {m['Message']}"
        for m in matches
        if m["Level"] in levels
    ]


def test_cfn_lint_finds_no_error_or_warning_in_the_template() -> None:
    # The template as written is held to what `sam validate --lint` asked (cfn-lint's errors and
    # warnings): this is the one place it is linted (docs/decisions.md, 97).
    assert _cfn_lint_matches(TEMPLATE, frozenset({"Error", "Warning"})) == []


def test_cfn_lint_finds_no_error_in_the_expanded_template(templates: Templates, tmp_path: Path) -> None:
    # cfn-lint checks SAM resources only shallowly; the expanded template is plain CloudFormation
    # that it validates property by property (runtimes, enums, required fields).
    expanded = tmp_path / "expanded.json"
    expanded.write_text(json.dumps(templates.cfn), encoding="utf-8")

    assert _cfn_lint_matches(expanded) == []
