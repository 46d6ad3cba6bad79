"""admin: a small REST API on its IAM-authenticated Function URL, and direct invokes of commands.

Over the URL, each route builds one command of rapport.usecases.admin and shapes its result; the
request is validated first (Powertools' event handler with pydantic), so a rejected request changes
nothing. Every error is ``{"error": [{"field": ..., "message": ...}, ...]}`` with a 4xx status, or
503 when X or AWS cannot be reached. Invoked directly, the event is the command itself
(``{"action": ...}``), as scripts send it, answered ``{"ok": ..., ...}`` with the same errors.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import asdict
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from rapport.domain.policy import Policy
from rapport.domain.x import XRateLimited, XUnavailable
from rapport.runtime.observability import logger, tracer
from rapport.runtime.services import Services, services
from rapport.runtime.settings import AdminSettings, SendsEmailSettings
from rapport.usecases.admin import (
    ACTIONS,
    FOLLOWING_LIMIT,
    IMPORT_CSV_MAX,
    IMPORT_ROWS_MAX,
    USERNAME_INPUT_MAX,
    AdminError,
    NewTarget,
    TargetChanges,
    UnknownTarget,
    parse_command,
    run_command,
)
from rapport.usecases.ports import NotFoundError

API_TITLE = "Rapport admin API"
API_VERSION = "1.0.0"
app = LambdaFunctionUrlResolver(enable_validation=True)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: Any, context: LambdaContext, deps: Services | None = None) -> dict[str, Any]:
    deps = deps or services(AdminSettings)
    if not isinstance(event, dict):  # a direct invoke of a list, a string or a number
        return _refusal([_body_problem("a command is a JSON object with an action")])
    if not _from_function_url(event):  # invoked directly: the event is the command
        return _command(event, deps)
    # A Function URL request (payload 2.0). Its body is read here once: base64 decoded and, when it
    # is JSON, checked for depth, so the routes below (and pydantic) only ever see a sane body.
    try:
        event = _with_readable_body(event)
    except BadBody as exc:
        return _over_http(HTTPStatus.BAD_REQUEST, {"error": [_body_problem(str(exc))]})
    if event.get("rawPath", "/") != "/":  # a resource; POST / with a command is the older form
        app.context["services"] = deps  # cleared when the request is answered
        return app.resolve(event, context)
    try:
        payload = _read_json(event.get("body") or "{}")
    except BadBody as exc:
        return _over_http(HTTPStatus.BAD_REQUEST, {"ok": False, "error": [_body_problem(str(exc))]})
    result = _command(payload, deps)
    return _over_http(HTTPStatus(result.pop("status", HTTPStatus.OK)), result)


def _from_function_url(event: dict[str, Any]) -> bool:
    """A request as a Function URL delivers it (payload 2.0); anything else is a command, refused
    as one when it is not (so a hand-made event of another shape never reaches the resolver)."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    return (
        isinstance(context, dict)
        and isinstance(context.get("stage"), str)
        and isinstance(http, dict)
        and all(isinstance(http.get(part), str) for part in ("method", "path"))
        and isinstance(event.get("rawPath"), str)
        and all(isinstance(event.get(part) or {}, dict) for part in ("headers", "queryStringParameters"))
    )


# --- bodies: what arrives is read once, with limits ---------------------------------------------

MAX_DEPTH = 8  # nesting of a JSON body: an import row is 3 deep, a setting 2
X_DOWN = "X is unavailable, try again later"
AWS_DOWN = "AWS is unavailable, try again later"
X_REFUSED_KEYS = "X refused the stack's credentials: check them with `rapport setup`"


class BadBody(ValueError):
    """A body that cannot be read as the request says it is."""


def _with_readable_body(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body as text (base64 decoded) and, when it is JSON, readable and shallow."""
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise BadBody("the body is not text")
    if body and event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError as exc:  # not base64, not ASCII, or not UTF-8 once decoded
            raise BadBody(f"the body is not base64-encoded UTF-8 text: {exc}") from exc
        event = {**event, "body": body, "isBase64Encoded": False}
    if body and _is_json(event):
        _read_json(body)
    return event


def _is_json(event: dict[str, Any]) -> bool:
    # No content type is read as JSON too, as Powertools' validation reads it.
    headers = event.get("headers") or {}
    content_type = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    return not content_type.strip() or "json" in content_type.lower()


def _read_json(text: str) -> Any:
    """JSON text as Python values, refusing NaN, Infinity and nesting deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise BadBody(f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, NaN, an integer of more than 4,300 digits
        raise BadBody(f"the body is not JSON: {getattr(exc, 'msg', exc)}") from None
    if _deeper_than(value, MAX_DEPTH):
        raise BadBody(f"the body is nested more than {MAX_DEPTH} levels deep")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative, so a deep value cannot exhaust the stack while it is measured.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _body_problem(message: str) -> dict[str, str]:
    return {"field": "body", "message": message}


def _over_http(status: HTTPStatus, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": int(status),
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


# --- direct invokes: {"action": ...} ------------------------------------------------------------


def _command(payload: Any, deps: Services) -> dict[str, Any]:
    """A command invoked directly, or POSTed to the root: ``{"ok": true, ...}``, or ``{"ok": false,
    "status": 4xx or 503, "error": [{"field", "message"}, ...]}``."""
    action = payload.get("action") if isinstance(payload, dict) else None
    known = action if action in ACTIONS else None  # only known names reach the log
    if _deeper_than(payload, MAX_DEPTH):
        return _refusal([_body_problem(f"the command is nested more than {MAX_DEPTH} levels deep")])
    try:
        command = parse_command(payload)
        result = run_command(command, deps.stores, deps.reader, deps.clock())
    except ValidationError as exc:
        return _refusal([_problem(e) for e in exc.errors()], known)
    except (AdminError, NotFoundError) as exc:
        problems, status = _admin_problems(exc)
        return _refusal(problems, known, status)
    except Exception as exc:
        if (down := _unavailable(exc)) is None:
            raise
        logger.warning("admin: a service is unavailable", extra={"action": known, "error": repr(exc)})
        return _refusal([down], known, HTTPStatus.SERVICE_UNAVAILABLE)
    logger.info("admin", extra={"ok": True, "action": known})
    return {"ok": True, **result}


def _refusal(
    problems: list[dict[str, Any]], action: str | None = None, status: HTTPStatus = HTTPStatus.BAD_REQUEST
) -> dict[str, Any]:
    logger.info("admin", extra={"ok": False, "action": action, "status": int(status)})
    return {"ok": False, "status": int(status), "error": problems}


def _admin_problems(exc: AdminError | NotFoundError) -> tuple[list[dict[str, Any]], HTTPStatus]:
    if problems := getattr(exc, "problems", None):
        return [asdict(p) for p in problems], HTTPStatus.BAD_REQUEST
    if isinstance(exc, NotFoundError):
        return [{"field": "username", "message": str(exc)}], HTTPStatus.NOT_FOUND
    status = HTTPStatus.NOT_FOUND if isinstance(exc, UnknownTarget) else HTTPStatus.BAD_REQUEST
    return [{"field": exc.field or "request", "message": str(exc)}], status


def _unavailable(exc: BaseException) -> dict[str, str] | None:
    """The problem to answer (503) when X or AWS could not be reached, else None (a defect: 500)."""
    if isinstance(exc, XRateLimited | XUnavailable):
        return {"field": "x", "message": X_DOWN}
    if _is_refused_credentials(exc):
        return {"field": "x", "message": X_REFUSED_KEYS}
    if isinstance(exc, BotoCoreError | ClientError) or _is_pynamodb_error(exc):
        return {"field": "aws", "message": AWS_DOWN}
    return None


def _is_refused_credentials(exc: BaseException) -> bool:
    # X answering 401 or 403: the stack's keys are wrong or lack a permission, not the request.
    tweepy = sys.modules.get("tweepy")
    return tweepy is not None and isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden)


def _is_pynamodb_error(exc: BaseException) -> bool:
    # Every PynamoDB error wraps a failed AWS call; its module is loaded by then, not at cold start.
    errors = sys.modules.get("pynamodb.exceptions")
    return errors is not None and isinstance(exc, errors.PynamoDBException)


# --- the REST API ------------------------------------------------------------------------------

TargetName = Annotated[
    str, Path(max_length=USERNAME_INPUT_MAX, description="name or @name of a target (any case)")
]


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
        rows = _read_json(text)
    except BadBody as exc:
        raise AdminError(f"the body is neither CSV (text/csv) nor JSON: {exc}", field="body") from exc
    if not isinstance(rows, list):
        raise AdminError("a JSON import is a list of rows", field="body")
    return _run("import_targets", rows=rows, **options)


@app.get("/targets/<username>", summary="A target and its stage history", tags=["targets"])
def show_target(username: TargetName) -> dict[str, Any]:
    return _run("show_target", username=username)


@app.patch("/targets/<username>", summary="Change a target's topics or note", tags=["targets"])
def edit_target(username: TargetName, changes: Annotated[TargetChanges, Body()]) -> dict[str, Any]:
    return _run("edit_target", username=username, **changes.model_dump(exclude_none=True))


@app.post("/targets/<username>/pause", summary="Pause a target: no suggestions", tags=["targets"])
def pause_target(username: TargetName) -> dict[str, Any]:
    return _run("pause_target", username=username)


@app.post(
    "/targets/<username>/resume",
    summary="Resume a target at the stage its evidence supports",
    tags=["targets"],
)
def resume_target(username: TargetName) -> dict[str, Any]:
    return _run("resume_target", username=username)


@app.delete("/targets/<username>", summary="Forget a target and all its history", tags=["targets"])
def remove_target(username: TargetName) -> dict[str, Any]:
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
    # The digest's use case is loaded by this route alone: the other requests never build a digest.
    from rapport.usecases.digest import Outbox, send_test_digest

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


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def _unsupported_body(exc: RequestUnsupportedContentType) -> Response[Any]:
    message = "send the body as application/json (an import may also be text/csv)"
    return _errors([{"field": "content-type", "message": message}], HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


@app.exception_handler([AdminError, NotFoundError])  # type: ignore[untyped-decorator]
def _refused(exc: AdminError | NotFoundError) -> Response[Any]:
    problems, status = _admin_problems(exc)
    return _errors(problems, status)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _service_down(exc: Exception) -> Response[Any]:
    if (down := _unavailable(exc)) is None:
        raise exc  # a defect: Lambda records the error, the URL answers 500
    logger.warning("admin: a service is unavailable", extra={"error": repr(exc)})
    return _errors([down], HTTPStatus.SERVICE_UNAVAILABLE)


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
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        where, message = ["action"], UNKNOWN_ACTION
    field = ".".join(where)
    # A key without a name ("" or blanks) names nothing a person could find: the body holds it.
    return {"field": field if field.strip(". ") else "body", "message": message}


UNKNOWN_ACTION = (
    f'the action is one of {", ".join(sorted(ACTIONS))} ({{"action": "help"}} lists their fields)'
)


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
            "schema": {
                "type": "string",
                "maxLength": IMPORT_CSV_MAX,
                "description": f"username column; topics (;-separated), note; at most {IMPORT_ROWS_MAX} rows",
            }
        },
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": IMPORT_ROWS_MAX,
                "items": {"$ref": "#/components/schemas/NewTarget"},
            }
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
            if "requestBody" in operation:
                responses["415"] = {
                    **refused,
                    "description": "a body that is not JSON (or CSV for an import)",
                }
            responses["503"] = {**refused, "description": "X or AWS is unavailable: try again later"}
    document["paths"]["/targets/import"]["post"]["requestBody"] = _IMPORT_BODY
    document["paths"]["/settings"]["patch"]["requestBody"]["content"][content_types.APPLICATION_JSON] = {
        "schema": {"$ref": "#/components/schemas/SettingsChanges"}
    }
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["Errors"] = _ERRORS_SCHEMA
    schemas.setdefault("NewTarget", _hoisted(_new_target_schema(), schemas))
    schemas["SettingsChanges"] = _hoisted(_settings_schema(), schemas)
    return document


def _hoisted(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the models it nests moved to the components, where its references point."""
    for name, nested in schema.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    return schema


def _settings_schema() -> dict[str, Any]:
    """The settings a PATCH may change: any of the policy's fields, with its limits; no other."""
    schema: dict[str, Any] = Policy.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("required", None)
    schema["title"] = "SettingsChanges"
    schema["description"] = "Some settings to change; the others are kept. Validated as a whole."
    return schema


def _new_target_schema() -> dict[str, Any]:
    schema: dict[str, Any] = NewTarget.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema
