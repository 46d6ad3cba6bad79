"""docs/admin-openapi.json is what the admin routes generate: regenerate it with `make admin-openapi`."""

from __future__ import annotations

import json
from typing import Any

from rapport_local.admin_openapi import DOCUMENT, generated


def test_the_committed_openapi_document_is_the_one_the_code_generates():
    assert DOCUMENT.read_text(encoding="utf-8") == generated(), "run `make admin-openapi` and commit it"


def test_the_document_describes_every_route_with_the_error_shape_the_api_answers():
    document = json.loads(generated())
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) >= {
        "GET /targets",
        "POST /targets",
        "GET /targets/{username}",
        "PATCH /targets/{username}",
        "DELETE /targets/{username}",
        "POST /targets/{username}/pause",
        "POST /targets/{username}/resume",
        "POST /targets/import",
        "GET /targets/export",
        "GET /settings",
        "PATCH /settings",
        "GET /status",
    }
    error = {"$ref": "#/components/schemas/Errors"}
    for operation in operations.values():
        assert "422" not in operation["responses"]  # refused requests are answered 400, as documented
        assert operation["responses"]["400"]["content"]["application/json"]["schema"] == error
    assert set(operations["POST /targets/import"]["requestBody"]["content"]) == {
        "text/csv",
        "application/json",
    }


def _unbounded(schema: dict[str, Any], schemas: dict[str, Any], where: str) -> list[str]:
    """The fields under ``schema`` with no stated limit: text without maxLength, lists without maxItems,
    numbers without both bounds."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _unbounded(schemas[name], schemas, where)
    found = [m for option in schema.get("anyOf", ()) for m in _unbounded(option, schemas, where)]
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema and "const" not in schema:
        found.append(where)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(where)
        found += _unbounded(schema.get("items", {}), schemas, f"{where}[]")
    if kind in ("integer", "number") and not {"minimum", "maximum"} <= set(schema):
        found.append(where)
    for name, field in schema.get("properties", {}).items():
        found += _unbounded(field, schemas, f"{where}.{name}")
    return found


def test_every_field_a_request_can_carry_has_a_stated_limit():
    document = json.loads(generated())
    schemas = document["components"]["schemas"]
    unbounded = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                unbounded += _unbounded(parameter["schema"], schemas, f"{where} {parameter['name']}")
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                unbounded += _unbounded(content["schema"], schemas, f"{where} {media_type}")
    assert unbounded == []
