"""A client for the admin function's URL: each request is SigV4-signed by botocore, as AWS_IAM auth
requires. ``StackClient.local()`` reads the running local stack's endpoints from ``.rapport/local.json``;
a deployed stack gives the same client its Function URL and the person's own credentials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL_FILE = Path(".rapport") / "local.json"
HOW_TO_START = "start one with `rapport local` in another terminal, in this directory"


class NoStack(Exception):
    """Nothing to talk to: no local stack described here, or nothing answering at its URL."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any  # the JSON answer, or the text when it is not JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class StackClient:
    url: str  # the admin Function URL
    credentials: Credentials
    region: str
    timeout: float = 3600.0  # playing many simulated hours takes minutes
    unreachable: str = HOW_TO_START  # what to do when nothing answers at the URL

    @classmethod
    def local(cls, directory: Path | None = None) -> StackClient:
        """The client of the local stack whose endpoints ``directory/.rapport/local.json`` holds."""
        return local_endpoints(directory).admin

    def request(self, method: str, path: str = "/", body: Any = None) -> Reply:
        """Send ``body`` as JSON (when given) to ``path`` under the URL, signed; the answer."""
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if body is not None else {}
        return self._send(method, path, data, headers)

    def send_text(self, method: str, path: str, text: str, content_type: str) -> Reply:
        """Send ``text`` (CSV, say) as it is, signed; the answer."""
        return self._send(method, path, text.encode(), {"content-type": f"{content_type}; charset=utf-8"})

    def _send(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> Reply:
        signed = AWSRequest(method=method, url=self.url.rstrip("/") + path, data=data, headers=headers)
        SigV4Auth(self.credentials, "lambda", self.region).add_auth(signed)
        prepared = signed.prepare()
        try:
            answer = requests.request(
                method, prepared.url, headers=dict(prepared.headers), data=data, timeout=self.timeout
            )
        except requests.ConnectionError as exc:
            raise NoStack(f"nothing answers at {self.url}: {self.unreachable}") from exc
        try:
            return Reply(answer.status_code, answer.json())
        except ValueError:
            return Reply(answer.status_code, answer.text)


@dataclass(frozen=True, slots=True)
class LocalEndpoints:
    """What ``rapport local`` wrote in ``.rapport/local.json``: its admin client, its AWS and its X."""

    admin: StackClient
    region: str
    aws_endpoint: str
    x_api_url: str

    def aws(self, service: str) -> Any:
        """A client of the local AWS (moto accepts any key)."""
        import boto3

        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.aws_endpoint,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the emulator accepts any key
        )


def local_endpoints(directory: Path | None = None) -> LocalEndpoints:
    """The running local stack described in ``directory``, or NoStack saying how to start one."""
    path = (directory or Path.cwd()) / LOCAL_FILE
    try:
        endpoints = json.loads(path.read_text(encoding="utf-8"))
        keys = endpoints["credentials"]
        admin = StackClient(
            endpoints["admin_url"],
            Credentials(keys["access_key_id"], keys["secret_access_key"]),
            endpoints["region"],
        )
        return LocalEndpoints(admin, endpoints["region"], endpoints["aws_endpoint"], endpoints["x_api_url"])
    except FileNotFoundError as exc:
        missing = f"no local stack is running here ({LOCAL_FILE} is missing)"
        raise NoStack(f"{missing}: {HOW_TO_START}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise NoStack(f"{path} does not describe a local stack ({exc}): {HOW_TO_START}") from exc
