"""`rapport local`: the local stack, served on loopback until interrupted.

One HTTP server plays the admin function's Function URL (AWS_IAM auth: every request must be SigV4
signed with the credentials the stack issued) and forwards any method and path to the real admin
handler as a payload 2.0 event. Under ``/feedback/`` it plays the feedback function's public URL (no
AWS auth: the digest's signed links are the only credential), so a local digest's links work in a
browser. Under ``/_local/`` the same server, signed the same way, drives the
stack: ``POST /_local/run`` plays hours on the simulated clock, ``GET /_local/digest/preview`` shows
the digest the person would get now. Its endpoints go to ``.rapport/local.json`` while it serves.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from rapport.domain.model import suggestion_ref
from rapport.email.render import render_digest
from rapport.email.view import DigestView
from rapport.runtime.observability import logger
from rapport.usecases.digest import preview_digest
from rapport_local.aws import REGION, TABLE
from rapport_local.function_url import (
    Answer,
    Forbidden,
    LocalCredentials,
    Received,
    forbidden,
    function_url_event,
    http_answer,
    verify_signature,
)
from rapport_local.keepalive import KeepAliveHandler
from rapport_local.scenario import Scenario
from rapport_local.stack import LocalStack, Tick, open_stack
from rapport_local.stack_client import LOCAL_FILE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MAX_HOURS = 24 * 62  # one request plays at most two months
FEEDBACK_PATH = "/feedback/"


class _Discard(io.StringIO):
    """Where the handlers' EMF metric lines go: nobody reads them here."""

    def write(self, text: str) -> int:
        return len(text)


class LocalFunctionUrl:
    """WSGI app: the admin function's Function URL, and the ``/_local`` control endpoint."""

    def __init__(self, stack: LocalStack, credentials: LocalCredentials, region: str = REGION) -> None:
        self.stack = stack
        self.credentials = credentials
        self.region = region
        self._lock = threading.Lock()  # the stack runs one handler at a time, as the harness expects

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = self.answer(Request(environ))
        status = f"{answer.status} {_REASONS.get(answer.status, 'Status')}"
        headers = {**answer.headers, "content-length": str(len(answer.body))}
        start_response(status, list(headers.items()))
        return [answer.body]

    def answer(self, request: Request) -> Answer:
        raw_uri = request.environ.get("RAW_URI") or request.full_path
        raw_path, _, raw_query = raw_uri.partition("?")
        received = Received(
            request.method,
            f"http://{request.host}{raw_uri}",
            dict(request.headers.items()),
            request.get_data(),
        )
        public = raw_path.startswith(FEEDBACK_PATH)
        if not public:
            try:
                verify_signature(received, self.credentials, self.region, datetime.now(UTC))
            except Forbidden as refused:
                return forbidden(str(refused))
        try:
            with self._lock:
                if public:
                    return self.feedback(received, raw_path, raw_query)
                if raw_path.startswith("/_local/"):
                    return self.control(request.method, raw_path, received.body)
                event = function_url_event(received, raw_path, raw_query, datetime.now(UTC))
                return http_answer(self.stack.invoke("admin", event))
        except Exception:  # a crashed handler is a 502, as Lambda answers it
            traceback.print_exc(file=sys.stderr)
            return _json(502, {"message": "Internal Server Error"})

    def feedback(self, received: Received, raw_path: str, raw_query: str) -> Answer:
        """The feedback function's URL: AuthType NONE, so the request goes to the handler unsigned."""
        event = function_url_event(received, raw_path, raw_query, datetime.now(UTC))
        event["requestContext"].pop("authorizer", None)  # no AWS auth: no IAM caller
        return http_answer(self.stack.invoke("feedback", event))

    def control(self, method: str, path: str, body: bytes) -> Answer:
        if (method, path) == ("POST", "/_local/run"):
            try:
                hours = _hours(json.loads(body or b"{}"))
            except ValueError as exc:
                return _json(400, {"error": str(exc)})
            return _json(200, self.run(hours))
        if (method, path) == ("GET", "/_local/digest/preview"):
            return _json(200, self.preview())
        known = "POST /_local/run or GET /_local/digest/preview"
        return _json(404, {"error": f"no {method} {path} here: use {known}"})

    def run(self, hours: int) -> dict[str, Any]:
        """``hours`` scheduled hours after the simulated clock's now: collect, evaluate, digest."""
        start = self.stack.xsim.now
        ticks = self.stack.run(start, hours)
        return {
            "from": start.isoformat(),
            "now": self.stack.xsim.now.isoformat(),
            "hours": hours,
            "transitions": [t | {"at": tick.at.isoformat()} for tick in ticks for t in tick.transitions],
            "digests": [_sent(tick) for tick in ticks if tick.sent],
        }

    def preview(self) -> dict[str, Any]:
        """The digest the person would get now, on the simulated clock; nothing is written."""
        now = self.stack.xsim.now
        view = preview_digest(self.stack.deps.stores, now, self.stack.deps.feedback_links())
        rendered = render_digest(view)
        return {
            "at": now.isoformat(),
            "local_date": view.local_date.isoformat(),
            "subject": rendered.subject,
            "suggestions": digest_suggestions(view),
            "unsubscribe": view.pause_url,
            "text": rendered.text,
            "html": rendered.html,
        }


def digest_suggestions(view: DigestView) -> list[dict[str, Any]]:
    """Each suggestion of a digest with its answer links by action, as summary.json lists them."""
    return [
        {
            "kind": s.kind.value,
            "target": s.target_username,
            "post_id": s.post_id,
            "users": list(s.users),
            "why": s.reason,
            "feedback": dict(view.feedback.get(suggestion_ref(s), {})),
        }
        for s in view.suggestions
    ]


def _hours(body: Any) -> int:
    hours = body.get("hours") if isinstance(body, dict) else None
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
        raise ValueError(f'the body must be {{"hours": N}} with N a whole number from 1 to {MAX_HOURS}')
    return hours


def _sent(tick: Tick) -> dict[str, Any]:
    digest = tick.digest or {}
    return {
        "at": tick.at.isoformat(),
        "local_date": digest.get("local_date"),
        "subject": digest.get("subject"),
        "suggestions": len(digest.get("suggestions") or []),
    }


def _json(status: int, body: dict[str, Any]) -> Answer:
    return Answer(status, {"content-type": "application/json"}, json.dumps(body).encode())


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    502: "Bad Gateway",
}


class _QuietHandler(KeepAliveHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The terminal shows what the stack does, not one line per request."""


LOCAL_INVOCATIONS_KEPT = 100


def serve_local(scenario: Scenario, port: int = 0, *, out: TextIO = sys.stdout) -> None:
    """Serve the local stack until Ctrl-C or SIGTERM; ``.rapport/local.json`` exists meanwhile."""
    logger.setLevel("ERROR")  # the handlers' JSON logs would bury the few lines printed here
    credentials = LocalCredentials.issue()
    # The stack's record of invocations is never read here: a small one, however long it serves.
    with open_stack(scenario, output=_Discard(), keep=LOCAL_INVOCATIONS_KEPT) as stack:
        # The scenario's settings (topics, zone, digest hour); the targets are the person's to add.
        stack.setup(replace(scenario, targets=()), at=scenario.start)
        server = make_server(
            "127.0.0.1",
            port,
            LocalFunctionUrl(stack, credentials),
            threaded=True,
            request_handler=_QuietHandler,
        )
        admin_url = f"http://127.0.0.1:{server.server_port}/"
        feedback_url = f"http://127.0.0.1:{server.server_port}{FEEDBACK_PATH.rstrip('/')}"
        stack.serve_feedback_at(feedback_url)
        endpoints = {
            "admin_url": admin_url,
            "feedback_url": feedback_url,
            "aws_endpoint": stack.aws.endpoint,
            "x_api_url": stack.xsim.url,
            "region": REGION,
            "table": TABLE,
            "credentials": {
                "access_key_id": credentials.access_key_id,
                "secret_access_key": credentials.secret_access_key,
            },
            "pid": os.getpid(),
        }
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            _write_private(LOCAL_FILE, json.dumps(endpoints, indent=2) + "\n")
            people = ", ".join(f"@{u.username}" for u in scenario.users)
            print(f"ready: admin URL {admin_url} (endpoints in {LOCAL_FILE})", file=out, flush=True)
            print(f"simulated clock at {stack.xsim.now.isoformat()}; on the simulated X: {people}", file=out)
            print("Ctrl-C stops it", file=out, flush=True)
            server.serve_forever(poll_interval=0.1)  # returns on KeyboardInterrupt (werkzeug's)
        except KeyboardInterrupt:
            pass  # interrupted before serving
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.server_close()
            LOCAL_FILE.unlink(missing_ok=True)
        print("stopped", file=out, flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _write_private(path: Path, text: str) -> None:
    """The file holds the stack's secret key: only its owner reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
