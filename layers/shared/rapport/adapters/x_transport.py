"""Send tweepy's requests to another X API base URL (the local simulator) without patching tweepy.

``tweepy.Client`` hard-codes ``https://api.twitter.com`` and sends through ``client.session``, a plain
``requests.Session``; a transport adapter mounted on that prefix rewrites each URL just before it is sent.
OAuth 1.0a signatures were computed on the original URL, which is what a real X would check too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

X_API_PREFIX = "https://api.twitter.com"
_X_API_HOST = "api.twitter.com"


class BaseUrlAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that sends requests for api.twitter.com to ``base_url`` (same path and query)."""

    def __init__(self, base_url: str, timeout: float | None = None, **kwargs: Any) -> None:
        parts = urlsplit(base_url)
        self._timeout = timeout  # tweepy sends without one; a Lambda must not hang on a silent X
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._path_prefix = parts.path.rstrip("/")
        self._loopback = _is_loopback(parts.hostname or "")
        super().__init__(**kwargs)

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.hostname != _X_API_HOST:
            return url  # the prefix match is textual: leave look-alike hosts alone
        return urlunsplit(
            (self._scheme, self._netloc, self._path_prefix + parts.path, parts.query, parts.fragment)
        )

    def send(  # noqa: PLR0917 - the signature of requests' HTTPAdapter.send
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if request.url:
            request.url = self.rewrite(request.url)
        if timeout is None:
            timeout = self._timeout
        if self._loopback:
            # The session chose proxies for api.twitter.com; a loopback server must be reached directly.
            proxies = {}
        return super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )


def mount_base_url(session: requests.Session, base_url: str, timeout: float | None = None) -> None:
    """Make ``session`` (e.g. ``tweepy.Client.session``) send X API requests to ``base_url``.

    ``base_url`` is like ``http://127.0.0.1:8123``; path and query of each request are kept.
    ``timeout`` (seconds) applies to requests sent without one, which is every request tweepy sends.
    """
    session.mount(X_API_PREFIX, BaseUrlAdapter(base_url, timeout=timeout))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
