"""admin: invoked directly or through its IAM-authenticated URL; edits targets and settings."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from rapport.runtime.observability import logger, tracer
from rapport.runtime.services import Services, services
from rapport.runtime.settings import AdminSettings, describe_errors
from rapport.usecases.admin import AdminError, parse_command, run_command
from rapport.usecases.ports import NotFoundError


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(AdminSettings)
    over_http = "requestContext" in event  # a Function URL request wraps the command in its body
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
