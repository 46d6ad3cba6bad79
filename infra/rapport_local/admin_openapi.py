"""The admin API's OpenAPI document, as the handler's routes generate it (``make admin-openapi``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from functions.admin.handler import openapi_document

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "admin-openapi.json"


def generated() -> str:
    """The document, formatted as committed: sorted keys, two-space indent, a final newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(generated(), encoding="utf-8")
    sys.stderr.write(f"wrote {DOCUMENT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
