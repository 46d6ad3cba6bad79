#!/usr/bin/env bash
# The phases of `make test`, once .venv and .venv-tools are installed (docs/operations.md, "Test suite").
#
# Two cores, kept busy: the unit tests run in the foreground, cheapest first, while the static checks
# and then the end-to-end demos run beside them; then the contract and integration tests on two
# workers. The demos run without coverage (decision 99); what runs beside is printed when it ends.
# pytest's exit code 5 (no test collected) is not a failure of the code under test.
set -uo pipefail

BIN=${BIN:-.venv/bin}
MAKE=${MAKE:-make}
beside=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$beside"' EXIT

pytest_ok() {  # pytest's exit code, with 5 (nothing collected) read as success
  local status=$1
  if [ "$status" -eq 5 ]; then echo "no tests collected"; status=0; fi
  return "$status"
}

show() {  # prints what ran beside, under its title; fails when it failed
  local name=$1 title=$2 status
  wait "$3"; status=$?
  echo "== $title (exit $status) =="
  cat "$beside/$name.log"
  [ "$name" = static ] && return "$status"
  pytest_ok "$status"
}

$MAKE --no-print-directory -k static-checks >"$beside/static.log" 2>&1 &
static=$!
# Its own temporary folder and no cache: it runs while the other pytest runs do.
"$BIN/pytest" tests/e2e -q -p no:cacheprovider --basetemp="$beside/e2e-tmp" >"$beside/e2e.log" 2>&1 &
e2e=$!

echo "== test phase 1/3: unit (no network); beside it: lint, type checks, checkov, then phase 3 =="
"$BIN/pytest" tests/unit --cov --cov-report= -q
pytest_ok $? || exit 1
show static "static checks: ruff, import contracts, mypy, checkov" $static || exit 1

echo "== test phase 2/3: contract, integration (moto server and X simulator on loopback, 2 workers) =="
"$BIN/pytest" tests/contract tests/integration -n 2 --dist loadfile --cov --cov-append \
  --cov-report=term:skip-covered -q
pytest_ok $?
phase2=$?

show e2e "test phase 3/3: e2e, the demos on the local stack (begun beside phase 1, no coverage)" $e2e
phase3=$?
[ $phase2 -eq 0 ] && [ $phase3 -eq 0 ]
