"""Serve tweepy's requests from an ``XSimApp`` in the same process, without a socket (for the bench).

The real ``tweepy.Client`` and ``requests.Session`` still build, sign and parse every request; only the
loopback TCP hop is left out, which dominates the time of a month of reads for 1,000 targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import IncompleteRead, ProtocolError
from werkzeug.test import EnvironBuilder, run_wsgi_app

from rapport.adapters.x_transport import X_API_PREFIX
from rapport_local.xsim.server import XSimApp


class InProcessAdapter(BaseAdapter):
    """A ``requests`` transport adapter that hands each request to a WSGI app and returns its answer."""

    def __init__(self, app: XSimApp) -> None:
        super().__init__()
        self.app = app

    def send(  # noqa: PLR0917 - the signature of requests' BaseAdapter.send
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        environ = EnvironBuilder(
            path=request.path_url.split("?", 1)[0],
            query_string=request.path_url.split("?", 1)[1] if "?" in request.path_url else None,
            method=request.method or "GET",
            headers=list(request.headers.items()),
            data=body or None,
        ).get_environ()
        chunks, status, headers = run_wsgi_app(self.app, environ)
        content = b"".join(chunks)
        promised = headers.get("Content-Length", type=int)
        if promised is not None and len(content) < promised:
            # A body cut short of its Content-Length (an injected truncated page): raise what requests
            # raises when urllib3 meets the early end of a socket, so callers see one failure either way.
            cut = IncompleteRead(len(content), promised - len(content))
            raise requests.exceptions.ChunkedEncodingError(ProtocolError(f"Connection broken: {cut!r}", cut))
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(dict(headers.items()))
        response.raw = BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def mount_in_process(session: requests.Session, app: XSimApp) -> None:
    """Make ``session`` (a ``tweepy.Client``'s) send X API requests straight to ``app``."""
    session.mount(X_API_PREFIX, InProcessAdapter(app))
