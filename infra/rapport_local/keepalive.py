"""Keep-alive for the local servers (moto, the X simulator, `rapport local`'s Function URL).

werkzeug's development server closes every connection after one answer (it sends ``Connection:
close`` whatever the protocol version), because ``http.server`` cannot find the next request line
when an application leaves part of a body unread. So every AWS or X call of a local run paid a new
TCP connection and a new server thread. Here each request's body is bounded by its Content-Length
and drained after the answer, which is what makes reusing the connection safe; a request whose end
cannot be known (chunked) still closes it.
"""

from __future__ import annotations

import io
from typing import IO, Any, cast

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer is written in pieces (status and headers, then the body): with Nagle's algorithm on
    # a kept connection, the body would wait for the client's delayed ACK, some 40 ms per request.
    disable_nagle_algorithm = True
    _body: LimitedStream | None = None

    def run_wsgi(self) -> None:
        self._body = self._bounded_body()
        if self._body is None:
            super().run_wsgi()
            self.close_connection = True
            return
        # After each answer werkzeug discards whatever the client sent next, expecting a closed
        # connection: here that is the next request. It reads through ``self.rfile``, which the
        # application does not use (its body is the bounded ``wsgi.input``), so it finds nothing.
        connection_stream, self.rfile = self.rfile, _NOTHING_MORE
        try:
            super().run_wsgi()
        finally:
            self.rfile = connection_stream
        self._body.exhaust()  # what the application left unread, so the next request line is found

    def _bounded_body(self) -> LimitedStream | None:
        if self.headers.get("Transfer-Encoding"):
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return LimitedStream(cast(IO[bytes], self.rfile), max(length, 0))

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if self._body is not None:
            environ["wsgi.input"] = self._body
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self._body is not None:
            return  # werkzeug's unconditional close: this request's end is known, so keep it open
        super().send_header(keyword, value)


class _NothingMore(io.BufferedIOBase):
    def read(self, size: int | None = -1, /) -> bytes:
        return b""


_NOTHING_MORE = _NothingMore()
