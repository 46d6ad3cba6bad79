#!/usr/bin/env bash
# Prints the path of a Python 3.13 (the Lambda runtime's) on this machine, or nothing.
#
# The layers compile their code with it, so that cold starts read bytecode instead of compiling the
# layers (docs/coldstart.md, "Bytecode"). `make sam-build` runs it; a plain `sam build` only looks
# for python3.13 on PATH. In order: BYTECODE_PYTHON as given, python3.13 on PATH, the one uv knows
# (uv python install 3.13 puts one there), then pyenv's versions, whose shim on PATH answers only
# when 3.13 is the active version. Each candidate must run and say it is 3.13.
set -uo pipefail

is_313() {
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1
}

found() {
  "$1" -c 'import sys; print(sys.executable)'
  exit 0
}

if [ -n "${BYTECODE_PYTHON:-}" ]; then
  # Named by the person: used as it is, and the layer Makefiles refuse it if it is not a 3.13.
  echo "$BYTECODE_PYTHON"
  exit 0
fi
candidate=$(command -v python3.13 2>/dev/null) && is_313 "$candidate" && found "$candidate"
uv=${UV:-uv}
if command -v "$uv" >/dev/null 2>&1; then
  candidate=$("$uv" python find --no-project '3.13' 2>/dev/null) && is_313 "$candidate" && found "$candidate"
fi
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13; do
  is_313 "$candidate" && found "$candidate"
done
exit 0
