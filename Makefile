# Rapport: the two commands of the quick start are `make demo` and `make test`.
# Each creates the project environment (.venv) when it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SOURCES := layers/shared/rapport infra/rapport_local functions tests

.PHONY: demo bench crash-sweep bench-coldstart admin-openapi fuzz test static-checks lint typecheck unit install clean chromium doc-shots

# Packages are installed by uv (from PyPI, into .venv first): on a fresh clone it installs the three
# environments in a fifth of pip's time (docs/operations.md, "Test suite"). pip stays in every venv.
UV_VERSION ?= 0.13.9
UV := $(BIN)/uv
# uv's cache and the venvs may sit on different file systems: copy, without a warning per install.
# --compile-bytecode: as pip does, each package is compiled once at install. uv's default leaves it to
# every process, and where PYTHONDONTWRITEBYTECODE is set (as on CI) every process compiles them again:
# `make test` starts many (workers, subprocesses, the tools) (docs/operations.md, "Test suite").
export UV_LINK_MODE := copy

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(INSTALLED): pyproject.toml | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $@

install: $(INSTALLED)
.DEFAULT_GOAL := install

# Before any rule names $(SAM_BIN) or $(CHECKOV_BIN): make expands a rule's prerequisites as it reads it.
include infra/tools.mk

demo: $(INSTALLED)
	$(BIN)/rapport demo $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(OUT),--out $(OUT))

bench: $(INSTALLED)
	$(BIN)/rapport bench $(if $(TARGETS),--targets $(TARGETS)) $(if $(DAYS),--days $(DAYS))

# Crash the handlers at seeded DynamoDB writes of a scenario and compare with a clean run
# (docs/operations.md, "Crash-point sweep"): POINTS, HOURS, SEED, SCENARIO.
crash-sweep: $(INSTALLED)
	$(BIN)/rapport crash-sweep $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(POINTS),--points $(POINTS)) \
		$(if $(HOURS),--hours $(HOURS)) $(if $(SEED),--seed $(SEED)) $(if $(KEYS),--keys $(KEYS))

# Each handler's whole-process import time against `import boto3` (docs/coldstart.md).
bench-coldstart: $(INSTALLED)
	$(BIN)/rapport coldstart $(if $(RUNS),--runs $(RUNS)) $(if $(TRACING),--tracing) $(if $(TOP),--top $(TOP)) \
		$(if $(PARTS),--instructions --parts) $(if $(BYTECODE),--bytecode)

admin-openapi: $(INSTALLED)  # regenerates docs/admin-openapi.json from the admin routes
	$(BIN)/python -m rapport_local.admin_openapi

# The admin fuzz suite with a bigger budget than `make test` gives it, printing the outcomes
# (docs/operations.md). EXAMPLES is per test (five tests); the handler's own logs are kept quiet.
fuzz: $(INSTALLED)
	RAPPORT_FUZZ_EXAMPLES=$(or $(EXAMPLES),500) RAPPORT_FUZZ_REPORT=1 LOG_LEVEL=ERROR \
	  $(BIN)/pytest tests/unit/test_admin_fuzz.py -q -s -p no:cacheprovider

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(INSTALLED)
	$(BIN)/mypy $(SOURCES)

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit -q

# The phases are in infra/test_phases.sh: the unit tests (no network) in the foreground, the static
# checks and the end-to-end demos beside them, then everything that talks to moto and the X simulator
# on loopback, spread over two workers (each with its own local AWS). pytest's exit code 5 (no test
# collected) is not a failure of the code under test. The template is checked by cfn-lint inside the
# unit phase (tests/unit/test_template.py) and by checkov here; `make sam-build` runs in phase 2
# (tests/integration/test_sam_build.py). docs/operations.md, "Test suite".
test: $(INSTALLED) $(SAM_BIN) $(CHECKOV_BIN) chromium
	@BIN=$(BIN) bash infra/test_phases.sh

# What `make test` runs beside its unit phase (with -k: every check runs, each failure is shown).
static-checks: lint typecheck checkov

# The digest's browser tests render it in Debian's chromium; install it when missing (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests skip without it)"; fi; }

# Refreshes the small screenshots in docs/img/ (a circle day, a weekly look-back) from the browser tests.
doc-shots: $(INSTALLED) chromium
	RAPPORT_DOC_SHOTS=1 $(BIN)/pytest tests/integration/test_digest_browser.py -q -p no:cacheprovider -k screenshots

clean:
	rm -rf $(VENV) .venv-tools .aws-sam .mypy_cache .pytest_cache .ruff_cache out
