"""Headless Chromium driven over its DevTools pipe: open a page, read it, press a button as a person would.

Chromium reads DevTools commands on file descriptor 3 and writes answers and events on 4, each a JSON
message ending in a NUL byte (``--remote-debugging-pipe``), so no websocket library is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

WAIT = 30.0  # seconds for a page to load on a busy machine
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make chromium` installs Debian's package")
        pytest.skip("chromium is not installed (`make chromium` installs it)")
    return found


class Browser:
    """One headless Chromium with one tab."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="rapport-cdp-")
        to_chromium_r, self._to_chromium = os.pipe()
        self._from_chromium, from_chromium_w = os.pipe()

        def on_fds_3_and_4() -> None:  # in the child, before exec: DevTools' fixed descriptors
            os.dup2(to_chromium_r, 3)
            os.dup2(from_chromium_w, 4)

        self._process = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=on_fds_3_and_4,  # noqa: PLW1509 - the test process starts no threads of its own
            start_new_session=True,  # its own process group: close() ends its helper processes too
        )
        os.close(to_chromium_r)
        os.close(from_chromium_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable")

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=10)
        os.close(self._to_chromium)
        os.close(self._from_chromium)
        self._remove_profile()

    def _remove_profile(self) -> None:
        # A helper that outlived the browser by a moment can still be writing its files there: removing
        # the folder then fails with "Directory not empty" (seen in phase 2 on a busy machine). Again.
        for _ in range(20):
            try:
                self._profile.cleanup()
            except OSError:
                time.sleep(0.1)
            else:
                return
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the protocol ------------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        os.write(self._to_chromium, json.dumps(message).encode() + b"\0")

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chromium, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def _call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._send(message)
        deadline = time.monotonic() + WAIT
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self._call(method, params, self._session)

    def _wait_for_load(self) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            while self._events:
                if self._events.pop(0).get("method") == "Page.loadEventFired":
                    return
            self._events.append(self._receive(deadline))

    # -- what a test does --------------------------------------------------------------------------
    def open(self, url: str) -> None:
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self._wait_for_load()

    def open_file(self, path: Path) -> None:
        self.open(path.as_uri())

    def evaluate(self, expression: str) -> Any:
        """Read the page (DevTools' own evaluation: the page's policy forbids its scripts, not ours)."""
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get(
            "value"
        )

    def text(self) -> str:
        return str(self.evaluate("document.body.innerText"))

    def links(self) -> list[str]:
        return list(self.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.href)"))

    def press_the_button(self) -> None:
        """A real mouse click in the middle of the page's one button, then the page it leads to."""
        box = self.evaluate(
            "(() => { const b = document.querySelectorAll('button'); if (b.length !== 1) return null;"
            " const r = b[0].getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        assert box is not None, "the page has not exactly one button"
        self._events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )
        self._wait_for_load()
