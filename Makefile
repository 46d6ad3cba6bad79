# Rapport: the two commands of the quick start are `make demo` and `make test`.
# Each creates the project environment (.venv) when it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SOURCES := layers/shared/rapport infra/rapport_local functions tests

.PHONY: demo test lint typecheck unit install clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/rapport demo $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(OUT),--out $(OUT))

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy $(SOURCES)

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit -q

# pytest's exit code 5 (no test collected) is not a failure of the code under test.
test: lint typecheck validate-template
	$(BIN)/pytest --cov --cov-report=term:skip-covered -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

clean:
	rm -rf $(VENV) .venv-tools .aws-sam .mypy_cache .pytest_cache .ruff_cache out

include infra/tools.mk
