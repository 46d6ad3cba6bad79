"""docs/admin-openapi.json is what the admin routes generate: regenerate it with `make admin-openapi`."""

from __future__ import annotations

import json

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
