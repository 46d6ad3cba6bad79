# Tools environment for the AWS SAM CLI. It lives in its own venv because aws-sam-cli pins its own
# boto3/botocore, aws-sam-translator and (through it) pydantic, which would fight the project's versions.
# Included from the top-level Makefile: `include infra/tools.mk`.

SAM_CLI_VERSION ?= 1.170.0
TOOLS_VENV ?= .venv-tools
SAM_BIN := $(TOOLS_VENV)/bin/sam
SAM_TEMPLATE ?= template.yaml

# `sam validate --lint` runs cfn-lint locally and never calls AWS. The region and dummy credentials only
# keep botocore's session setup from failing offline or picking up a developer's real profile.
SAM_OFFLINE_ENV := AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	SAM_CLI_TELEMETRY=0

# Depends on this file so that bumping SAM_CLI_VERSION reinstalls.
$(SAM_BIN): infra/tools.mk
	python3 -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	@touch $@

.PHONY: tools validate-template
tools: $(SAM_BIN)

validate-template: $(SAM_BIN)
	$(SAM_OFFLINE_ENV) $(SAM_BIN) validate --lint --template $(SAM_TEMPLATE)
