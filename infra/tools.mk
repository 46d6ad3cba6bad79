# Tools environment for the AWS SAM CLI. It lives in its own venv because aws-sam-cli pins its own
# boto3/botocore, aws-sam-translator and (through it) pydantic, which would fight the project's versions.
# Included from the top-level Makefile: `include infra/tools.mk`.

SAM_CLI_VERSION ?= 1.170.0
TOOLS_VENV ?= .venv-tools
SAM_BIN := $(TOOLS_VENV)/bin/sam
SAM_TEMPLATE ?= template.yaml
SAM_BUILD_DIR ?= .aws-sam/build

# `sam validate --lint` runs cfn-lint locally and never calls AWS. The region and dummy credentials only
# keep botocore's session setup from failing offline or picking up a developer's real profile.
SAM_OFFLINE_ENV := AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	SAM_CLI_TELEMETRY=0

# Depends on this file so that bumping SAM_CLI_VERSION reinstalls.
# Installed by uv with bytecode, as .venv is (the top-level Makefile's $(UV)); --seed keeps pip in the venv, which
# `sam build` runs for the dependencies layer (layers/dependencies/Makefile).
UV ?= .venv/bin/uv
$(SAM_BIN): infra/tools.mk | $(UV)
	$(UV) venv --quiet --seed --allow-existing --python python3 $(TOOLS_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(TOOLS_VENV)/bin/python "aws-sam-cli==$(SAM_CLI_VERSION)"
	@touch $@

# checkov pins its own boto3, cloudformation and networkx versions, which neither the project nor the SAM
# CLI accept: a third venv keeps all three installable.
CHECKOV_VERSION ?= 3.3.30
CHECKOV_VENV ?= $(TOOLS_VENV)/checkov
CHECKOV_BIN := $(CHECKOV_VENV)/bin/checkov
# Offline: no Prisma Cloud guideline download, no check-list or module download.
CHECKOV_OFFLINE_ENV := BC_SKIP_MAPPING=TRUE CHECKOV_SKIP_SCA_PACKAGE_SCAN=TRUE

$(CHECKOV_BIN): infra/tools.mk | $(UV)
	$(UV) venv --quiet --seed --allow-existing --python python3 $(CHECKOV_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python "checkov==$(CHECKOV_VERSION)"
	@touch $@

.PHONY: tools validate-template cfn-lint checkov sam-build template-checks
tools: $(SAM_BIN) $(CHECKOV_BIN)

validate-template: $(SAM_BIN)
	$(SAM_OFFLINE_ENV) $(SAM_BIN) validate --lint --template $(SAM_TEMPLATE)

# The standalone cfn-lint too: `sam validate --lint` pins an older rule set and hides warnings.
cfn-lint: $(SAM_BIN)
	$(SAM_OFFLINE_ENV) $(TOOLS_VENV)/bin/cfn-lint -- $(SAM_TEMPLATE)

# Every skip is justified by a comment in the resource's Metadata; any failed check fails the build.
checkov: $(CHECKOV_BIN)
	$(CHECKOV_OFFLINE_ENV) $(CHECKOV_BIN) --file $(SAM_TEMPLATE) --framework cloudformation \
		--compact --quiet --skip-download

# Builds the layers and functions as `sam deploy` would upload them. Needs PyPI (the dependency layer's
# wheels) but no AWS account, no container engine and no python3.13 (layers/*/Makefile). With a Python
# 3.13 anywhere infra/runtime_python.sh looks (PATH, uv, pyenv), the layers ship its bytecode.
sam-build: $(SAM_BIN)
	@python=$$(UV=$(UV) bash infra/runtime_python.sh); \
	if [ -n "$$python" ]; then echo "the layers are compiled with $$python"; \
	else echo "no Python 3.13 found: the layers ship source, compiled at every cold start;" \
	  "'$(UV) python install 3.13' installs one (then: make sam-build SAM_BUILD_FLAGS=--no-cached)"; fi; \
	$(SAM_OFFLINE_ENV) BYTECODE_PYTHON="$$python" $(SAM_BIN) build --template $(SAM_TEMPLATE) \
	  --build-dir $(SAM_BUILD_DIR) $(SAM_BUILD_FLAGS)

template-checks: validate-template cfn-lint checkov sam-build
