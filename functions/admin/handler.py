"""admin: a small REST API on its IAM-authenticated Function URL, and direct invokes of commands.

Over the URL, each route builds one command of rapport.usecases.admin and shapes its result; the
request is validated first (Powertools' event handler with pydantic), so a rejected request changes
nothing. Every error is ``{"error": [{"field": ..., "message": ...}, ...]}`` with a 4xx status.
Invoked directly, the event is the command itself (``{"action": ...}``), as scripts send it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from rapport.runtime.observability import logger, tracer
from rapport.runtime.services import Services, services
from rapport.runtime.settings import AdminSettings, SendsEmailSettings, describe_errors
from rapport.usecases.admin import (
    ACTIONS,
    FOLLOWING_LIMIT,
    AdminError,
    NewTarget,
    TargetChanges,
    UnknownTarget,
    parse_command,
    run_command,
)
from rapport.usecases.digest import Outbox, send_test_digest
from rapport.usecases.ports import NotFoundError

API_TITLE = "Rapport admin API"
API_VERSION = "1.0.0"
app = LambdaFunctionUrlResolver(enable_validation=True)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(AdminSettings)
    # A Function URL request (payload 2.0) to a resource; POST / with a command is the older form.
    if event.get("rawPath", "/") != "/":
        app.context["services"] = deps  # cleared when the request is answered
        return app.resolve(event, context)
    return _command(event, deps)


def _command(event: dict[str, Any], deps: Services) -> dict[str, Any]:
    """A command invoked directly, or POSTed as a body by an older client: ``{"ok": ..., ...}``."""
    over_http = "requestContext" in event
    try:
        payload = json.loads(event.get("body") or "{}") if over_http else event
        command = parse_command(payload)
        result: dict[str, Any] = {
            "ok": True,
            **run_command(command, deps.stores, deps.reader, deps.clock()),
        }
        status = 200
    except (ValidationError, json.JSONDecodeError, AdminError, NotFoundError) as exc:
        result, status = {"ok": False, "error": _describe(exc)}, 400
        if problems := getattr(exc, "problems", None):
            result["problems"] = [asdict(p) for p in problems]
    logger.info("admin", extra={"ok": result["ok"], "action": event.get("action")})
    if over_http:
        return {
            "statusCode": status,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(result),
        }
    return result


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe_errors(exc, whole="command")
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not JSON: {exc.msg}"
    return str(exc)


# --- the REST API ------------------------------------------------------------------------------


def _run(action: str, **fields: Any) -> dict[str, Any]:
    deps: Services = app.context["services"]
    command = parse_command({"action": action, **fields})
    return run_command(command, deps.stores, deps.reader, deps.clock())


@app.get("/targets", summary="Every target, by username", tags=["targets"])
def list_targets() -> dict[str, Any]:
    return _run("list_targets")


@app.post(
    "/targets",
    summary="Add a target (looked up on X); adding one already there changes nothing",
    tags=["targets"],
    responses={201: {"description": "added"}, 200: {"description": "already a target, unchanged"}},
)
def add_target(target: Annotated[NewTarget, Body()]) -> Response[dict[str, Any]]:
    result = _run("add_target", **target.model_dump())
    return _json(result, HTTPStatus.CREATED if result["created"] else HTTPStatus.OK)


@app.get("/targets/export", summary="Every target as an import reads it back", tags=["import and export"])
def export_targets(
    format: Annotated[Literal["csv", "json"], Query(description="csv or json")] = "json",
) -> Response[Any]:
    result = _run("export_targets", format=format)
    if format == "csv":
        return Response(HTTPStatus.OK, "text/csv; charset=utf-8", result["content"])
    return _json(result["targets"])


@app.post(
    "/targets/import",
    summary="Add many targets: CSV text (text/csv) or a JSON list of {username, topics, note}",
    description=(
        "Every row is checked first, X lookups of unknown users included (100 a request). If any "
        "row is bad, all bad rows are reported (row, field, value, message) and nothing is added, "
        "unless skip_invalid. People already targets are left as they are."
    ),
    tags=["import and export"],
)
def import_targets(
    skip_invalid: Annotated[bool, Query(description="add the good rows even if some are bad")] = False,
    dry_run: Annotated[bool, Query(description="say what would happen, change nothing")] = False,
) -> dict[str, Any]:
    event = app.current_event
    text = event.decoded_body or ""
    options = {"skip_invalid": skip_invalid, "dry_run": dry_run}
    if "csv" in (event.headers.get("content-type") or ""):
        return _run("import_targets", csv=text, **options)
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdminError(f"the body is neither CSV (text/csv) nor JSON: {exc.msg}", field="body") from exc
    if not isinstance(rows, list):
        raise AdminError("a JSON import is a list of rows", field="body")
    return _run("import_targets", rows=rows, **options)


@app.get("/targets/<username>", summary="A target and its stage history", tags=["targets"])
def show_target(username: str) -> dict[str, Any]:
    return _run("show_target", username=username)


@app.patch("/targets/<username>", summary="Change a target's topics or note", tags=["targets"])
def edit_target(username: str, changes: Annotated[TargetChanges, Body()]) -> dict[str, Any]:
    return _run("edit_target", username=username, **changes.model_dump(exclude_none=True))


@app.post("/targets/<username>/pause", summary="Pause a target: no suggestions", tags=["targets"])
def pause_target(username: str) -> dict[str, Any]:
    return _run("pause_target", username=username)


@app.post(
    "/targets/<username>/resume",
    summary="Resume a target at the stage its evidence supports",
    tags=["targets"],
)
def resume_target(username: str) -> dict[str, Any]:
    return _run("resume_target", username=username)


@app.delete("/targets/<username>", summary="Forget a target and all its history", tags=["targets"])
def remove_target(username: str) -> dict[str, Any]:
    return _run("remove_target", username=username)


@app.get(
    "/following",
    summary="The people you follow on X, to pick targets from (an owned read: $0.001 a user)",
    description="Most recent follow first, each marked if already a target; counted in the X spend.",
    tags=["import and export"],
)
def list_following(
    limit: Annotated[int, Query(ge=1, le=FOLLOWING_LIMIT, description="read at most this many")] = 1000,
) -> dict[str, Any]:
    return _run("list_following", limit=limit)


@app.get("/settings", summary="The settings (the method's thresholds, time zone, budget)", tags=["settings"])
def get_settings() -> dict[str, Any]:
    return _run("get_settings")


@app.patch("/settings", summary="Change some settings; the rest are kept", tags=["settings"])
def update_settings(changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return _run("update_settings", settings=changes)


@app.post(
    "/digest/test",
    summary="Email the digest as it would be now, its subject marked [test]",
    description=(
        "Checks the email path end to end. The day is not claimed and no suggestion is marked sent, "
        "so the day's real digest still goes out at the digest hour."
    ),
    tags=["digest"],
)
def test_digest() -> dict[str, Any]:
    deps: Services = app.context["services"]
    settings = deps.settings_of(SendsEmailSettings)
    try:
        outbox = Outbox(deps.send_raw, settings.sender, settings.recipient, deps.feedback_links)
        report = send_test_digest(deps.stores, outbox, deps.clock())
    except ClientError as exc:  # SES refused: the sender (or, in the sandbox, recipient) is unverified
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        raise AdminError(f"SES refused the test digest: {message}", field="email") from exc
    return report.as_dict()


@app.get("/status", summary="X spend this month against the budget, and targets by stage", tags=["status"])
def status() -> dict[str, Any]:
    return _run("status")


# --- errors: {"error": [{"field", "message", ...}]} with a 4xx status --------------------------


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    return _errors([_problem(e) for e in exc.errors()], HTTPStatus.BAD_REQUEST)


@app.exception_handler(ValidationError)  # type: ignore[untyped-decorator]
def _invalid_command(exc: ValidationError) -> Response[Any]:
    return _errors([_problem(e) for e in exc.errors()], HTTPStatus.BAD_REQUEST)


@app.exception_handler(AdminError)  # type: ignore[untyped-decorator]
def _refused(exc: AdminError) -> Response[Any]:
    if problems := getattr(exc, "problems", None):
        return _errors([asdict(p) for p in problems], HTTPStatus.BAD_REQUEST)
    status = HTTPStatus.NOT_FOUND if isinstance(exc, UnknownTarget) else HTTPStatus.BAD_REQUEST
    return _errors([{"field": exc.field or "request", "message": str(exc)}], status)


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]
def _missing(exc: NotFoundError) -> Response[Any]:
    return _errors([{"field": "username", "message": str(exc)}], HTTPStatus.NOT_FOUND)


@app.not_found
def _no_route(exc: RouteNotFound) -> Response[Any]:
    event = app.current_event
    message = f"no route {event.http_method} {event.path}"
    return _errors([{"field": "path", "message": message}], HTTPStatus.NOT_FOUND)


_NOT_FIELDS = frozenset({"body", "query", "path"}) | ACTIONS


def _problem(error: Any) -> dict[str, str]:
    # Powertools puts where the value came from first ("body", "query", "path"); a command, its action.
    where = [str(part) for part in error.get("loc", ()) if part not in _NOT_FIELDS]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return {"field": ".".join(where) or "body", "message": message}


def _errors(problems: list[dict[str, Any]], status: HTTPStatus) -> Response[Any]:
    return _json({"error": problems}, status)


def _json(body: Any, status: HTTPStatus = HTTPStatus.OK) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, body)


# The parts of the document Powertools cannot infer: our error shape replaces its 422 (requests it
# rejects are answered 400 above), and the import's body is read raw (CSV or a JSON list).
_ERRORS_REF = {"$ref": "#/components/schemas/Errors"}
_ERRORS_SCHEMA = {
    "title": "Errors",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "the field, e.g. username or timezone"},
                    "message": {"type": "string", "description": "the problem, in words"},
                    "row": {"type": "integer", "description": "imports: the CSV line (header is 1) or row"},
                    "value": {"description": "imports: the value refused"},
                },
            },
        }
    },
}
_IMPORT_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string", "description": "username column; topics (;-separated), note"}
        },
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/NewTarget"}}
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, generated from the routes above (docs/admin-openapi.json)."""
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            description=(
                "Targets, import and export, settings and status, on the admin function's URL. "
                "Requests are signed with SigV4 (the URL's auth type is AWS_IAM). Every error is "
                '{"error": [{"field", "message"}]} with a 4xx status.'
            ),
        )
    )
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            responses.pop("422", None)
            refused = {"description": "refused: each problem names its field", "content": {}}
            refused["content"] = {content_types.APPLICATION_JSON: {"schema": _ERRORS_REF}}
            responses["400"] = refused
            if "{username}" in path:
                responses["404"] = {**refused, "description": "not a target"}
    document["paths"]["/targets/import"]["post"]["requestBody"] = _IMPORT_BODY
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["Errors"] = _ERRORS_SCHEMA
    schemas.setdefault("NewTarget", _new_target_schema())
    return document


def _new_target_schema() -> dict[str, Any]:
    schema: dict[str, Any] = NewTarget.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema
