"""The simulator over HTTP: a werkzeug WSGI app (X endpoints + ``/_sim`` control API) and a loopback server.

::

    with XSimServer(load_scenario(path)) as sim:
        client = tweepy.Client("", "k", "s", "t", "u")  # dummy OAuth 1.0a keys: user context
        mount_base_url(client.session, sim.url)
        sim.set_now(datetime(2026, 3, 3, 7, tzinfo=UTC))
        client.get_users_mentions(sim.world.me.id, user_auth=True)
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from rapport_local.keepalive import KeepAliveHandler
from rapport_local.scenario import Scenario
from rapport_local.xsim.api import JSON, ApiResponse, XApi
from rapport_local.xsim.billing import Ledger
from rapport_local.xsim.faults import Faults
from rapport_local.xsim.ratelimit import RateLimiter
from rapport_local.xsim.world import World

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, kept when recording (the contract tests check them all)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    content_type: str
    headers: dict[str, str]
    body: Any
    endpoint: str | None  # the X route template, None for /_sim and unknown paths


class XSimApp:
    """WSGI application: the X API v2 read endpoints plus the ``/_sim`` control API."""

    def __init__(self, scenario: Scenario, *, record: bool = False) -> None:
        self.world = World(scenario)
        self.ledger = Ledger()
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.api = XApi(self.world, self.ledger, self.limiter, self.faults)
        self.record = record
        self.exchanges: list[Exchange] = []
        self._log_lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        query = tuple((k, v) for k, values in request.args.lists() for v in values)
        if request.path.startswith("/_sim/"):
            answer = self.control(request)
        else:
            answer = self.api.handle(request.method, request.path, query, dict(request.headers))
        if self.record:
            with self._log_lock:
                self.exchanges.append(
                    Exchange(
                        request.method,
                        request.path,
                        query,
                        answer.status,
                        answer.content_type,
                        dict(answer.headers),
                        answer.body,
                        answer.endpoint,
                    )
                )
        if answer.delay_seconds:
            time.sleep(answer.delay_seconds)  # outside the world's lock: other requests go on
        response = Response(
            json.dumps(answer.body, ensure_ascii=False),
            status=answer.status,
            headers=answer.headers,
            content_type=answer.content_type,
        )
        if answer.truncated:
            # The headers of the whole answer (its Content-Length included), then half of its bytes.
            payload = response.get_data()
            start_response(response.status, response.get_wsgi_headers(environ).to_wsgi_list())
            return _cut(payload[: len(payload) // 2], environ.get("werkzeug.socket"))
        return response(environ, start_response)

    # -- control API ----------------------------------------------------------------------------

    def control(self, request: Request) -> ApiResponse:
        route = (request.method, request.path)
        try:
            body = request.get_json(silent=True) if request.method == "POST" else None
            if route == ("GET", "/_sim/clock"):
                return _ok({"now": _iso(self.world.now)})
            if route == ("POST", "/_sim/clock"):
                if isinstance(body, dict) and "advance_seconds" in body:
                    step = body["advance_seconds"]
                    if not isinstance(step, int | float) or isinstance(step, bool) or step < 0:
                        raise ValueError("advance_seconds: expected a number of seconds >= 0")
                    self.world.set_now(self.world.now + timedelta(seconds=step))
                else:
                    self.world.set_now(_parse_time(_field(body, "now")))
                return _ok({"now": _iso(self.world.now)})
            if route == ("GET", "/_sim/usage"):
                return _ok(self.ledger.usage())
            if route == ("POST", "/_sim/reset_usage"):
                self.ledger.reset()
                return _ok(self.ledger.usage())
            if route == ("POST", "/_sim/reset_rate_limits"):
                self.limiter.reset()
                return _ok({"reset": True})
            if route == ("GET", "/_sim/faults"):
                return _ok({"faults": self.faults.pending()})
            if route == ("POST", "/_sim/faults"):
                count = _field(body, "count", 1)
                status = _field(body, "status")
                endpoint = _field(body, "endpoint")
                if (
                    not isinstance(count, int)
                    or not isinstance(status, int | str)
                    or not isinstance(endpoint, str)
                ):
                    raise ValueError('expected {endpoint: str, status: int or "truncated", count: int}')
                self.faults.add(endpoint, status, count)
                return _ok({"faults": self.faults.pending()})
            if route == ("DELETE", "/_sim/faults"):
                self.faults.clear()
                return _ok({"faults": []})
            if request.method == "POST" and request.path in _ACTS:
                return _ok(self.act(request.path, body))
        except ValueError as exc:
            return ApiResponse(400, {"error": str(exc)})
        return ApiResponse(404, {"error": f"no control endpoint {request.method} {request.path}"})

    def act(self, path: str, body: Any) -> dict[str, Any]:
        """Someone acts on X (you, clicking a Web Intent; anyone else): reactions follow as scripted."""
        at = _parse_time(_field(body, "at")) if isinstance(body, dict) and "at" in body else None
        by = _text(_field(body, "by"), "by")
        if path == "/_sim/posts":
            reply_to, quote_of = _field(body, "reply_to", None), _field(body, "quote_of", None)
            post = self.world.add_post(
                by,
                _text(_field(body, "text"), "text"),
                at=at,
                reply_to=None if reply_to is None else _text(reply_to, "reply_to"),
                quote_of=None if quote_of is None else _text(quote_of, "quote_of"),
            )
            return {"id": post.id, "at": _iso(post.at)}
        if path == "/_sim/retweets":
            post = self.world.add_retweet(by, _text(_field(body, "post"), "post"), at=at)
            return {"id": post.id, "at": _iso(post.at)}
        user = _text(_field(body, "user"), "user")
        changed = (self.world.follow if path == "/_sim/follows" else self.world.unfollow)(by, user, at=at)
        return {"changed": changed}


_ACTS = frozenset({"/_sim/posts", "/_sim/retweets", "/_sim/follows", "/_sim/unfollows"})


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string")
    return value


class _QuietHandler(KeepAliveHandler):
    """Keeps a client's connection, as X itself does."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The demo prints its own story; one log line per X call would drown it."""


class XSimServer:
    """The simulator on a loopback port, served from a background thread of this process."""

    def __init__(
        self, scenario: Scenario, host: str = "127.0.0.1", port: int = 0, *, record: bool = False
    ) -> None:
        self.app = XSimApp(scenario, record=record)
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def world(self) -> World:
        return self.app.world

    @property
    def exchanges(self) -> list[Exchange]:
        return self.app.exchanges

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> XSimServer:
        if self._server is not None:
            return self
        self._server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler
        )
        # A short poll interval: stop() waits for the serving loop to notice the shutdown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="xsim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> XSimServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- in-process control (same as the /_sim API) ----------------------------------------------

    @property
    def now(self) -> datetime:
        return self.world.now

    def set_now(self, now: datetime) -> None:
        self.world.set_now(now)

    def advance(self, step: timedelta) -> None:
        self.world.set_now(self.world.now + step)

    def usage(self) -> dict[str, Any]:
        return self.app.ledger.usage()

    def reset_usage(self) -> None:
        self.app.ledger.reset()

    def reset_rate_limits(self) -> None:
        self.app.limiter.reset()

    def inject_fault(self, endpoint: str, status: int | str, count: int = 1) -> None:
        """The next ``count`` requests to ``endpoint`` (e.g. "/2/users/:id/mentions", or "*") fail.

        ``status``: 429, 500, 502, 503, 504; ``faults.TIMEOUT`` (0); ``faults.TRUNCATED`` ("truncated").
        """
        self.app.faults.add(endpoint, status, count)


def _cut(head: bytes, connection: socket.socket | None) -> Iterator[bytes]:
    """Send ``head`` and end the body there, short of the Content-Length already sent.

    werkzeug closes every connection after its answer, so ending the iterable is enough on the wire; the
    explicit shutdown keeps the cut a cut (EOF, not a wait for more bytes) whatever its keep-alive policy.
    Without a socket (``inprocess.py``) the short body is the whole signal.
    """
    yield head
    if connection is not None:  # werkzeug has written and flushed ``head`` before asking for more
        with contextlib.suppress(OSError):  # the client already went away: the cut happened anyway
            connection.shutdown(socket.SHUT_WR)


def _ok(body: dict[str, Any]) -> ApiResponse:
    return ApiResponse(200, body, JSON)


def _field(body: Any, name: str, default: Any = ...) -> Any:
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object body")
    if name not in body:
        if default is ...:
            raise ValueError(f"missing {name!r}")
        return default
    return body[name]


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time like 2026-03-02T08:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("the time needs a zone, e.g. 2026-03-02T08:00:00Z")
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
