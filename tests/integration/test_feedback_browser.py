"""Answering from a local digest in a browser: `rapport local` serves the feedback endpoint on loopback.

A person opens the digest, follows an answer link, sees the confirmation page, presses its button, and
the next digest shows the effect. Chromium does it all (its DevTools pipe: tests/integration/browser.py);
the endpoint's pages carry no script of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from rapport_local.cli import main
from rapport_local.stack_client import StackClient
from tests.integration.browser import Browser
from tests.integration.cli import rapport
from tests.integration.local_stack import RunningStack

pytestmark = pytest.mark.integration


@dataclass(frozen=True, slots=True)
class Digest:
    body: dict[str, Any]  # `rapport --local digest preview --json`
    html: Path

    def links(self, action: str) -> str:
        (suggestion,) = [s for s in self.body["suggestions"] if s["target"] == "person_x"][:1]
        return str(suggestion["feedback"][action])


def preview(capsys: pytest.CaptureFixture[str], html: Path) -> Digest:
    code, out, _ = rapport(capsys, "--local", "digest", "preview", "--json")
    assert code == 0
    body = json.loads(out)
    html.write_text(body["html"], encoding="utf-8")
    return Digest(body, html)


def answers(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, _ = rapport(capsys, "--local", "targets", "show", "person_x", "--json")
    assert code == 0
    return [a["answer"] for a in json.loads(out)["feedback"]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def first_digest(local_stack: RunningStack) -> Digest:
    """person_x added, and a day on the clock: the morning's digest has a suggestion for them."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(local_stack.directory)
    try:
        assert main(["--local", "admin", '{"action": "add_target", "username": "person_x"}']) == 0
        assert main(["--local", "run", "--hours", "24"]) == 0
        body = StackClient.local().request("GET", "/_local/digest/preview").body
    finally:
        monkeypatch.undo()
    html = local_stack.directory / "digest.html"
    html.write_text(body["html"], encoding="utf-8")
    return Digest(body, html)


@pytest.fixture
def digest(first_digest: Digest, in_stack_dir: RunningStack) -> Digest:
    return first_digest


def follow(browser: Browser, digest: Digest, action: str) -> str:
    """Open the digest, follow the answer link as rendered, and return the confirmation page's text."""
    browser.open_file(digest.html)
    url = digest.links(action)
    assert url in browser.links(), f"the digest shows no {action} link"
    browser.open(url)
    return browser.text()


def test_the_preview_lists_each_suggestions_answer_links_and_the_unsubscribe_link(
    digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the person asks for the day's digest as JSON
    body = preview(capsys, digest.html.with_name("preview.html")).body
    local = json.loads((Path.cwd() / ".rapport" / "local.json").read_text())

    # Then each suggestion lists its answer links by action, and the digest its unsubscribe link
    assert body["suggestions"], "the first morning's digest should have something for person_x"
    for suggestion in body["suggestions"]:
        assert set(suggestion["feedback"]) == {"done", "skip", "snooze-1w", "snooze-2w", "snooze-4w", "drop"}
        for action, url in suggestion["feedback"].items():
            assert url.startswith(f"{local['feedback_url']}/{action}?t="), url
    assert body["unsubscribe"].startswith(f"{local['feedback_url']}/pause?t=")


def test_opening_every_link_only_shows_a_page_a_scanner_changes_nothing(
    browser: Browser, digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    # When each answer link is opened (as a mail scanner or a curious tap would), and fetched again plainly
    titles = {action: follow(browser, digest, action).splitlines()[0] for action in ("done", "skip", "drop")}
    plain = requests.get(digest.links("snooze-2w"), timeout=10)

    # Then each shows what its button would do, with the strict headers, and nothing was answered
    assert titles == {"done": "You did this one?", "skip": "Skip this suggestion?", "drop": "Drop @person_x?"}
    assert plain.status_code == 200
    assert plain.headers["referrer-policy"] == "no-referrer"
    assert plain.headers["x-robots-tag"].startswith("noindex")
    assert "default-src 'none'" in plain.headers["content-security-policy"]
    assert answers(capsys) == []


def test_a_tampered_or_swapped_link_gets_the_403_page_and_changes_nothing(
    browser: Browser, digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    skip = digest.links("skip")
    swapped = skip.replace("/skip?", "/drop?")
    tampered = skip[:-4] + ("AAAA" if not skip.endswith("AAAA") else "BBBB")

    for url in (swapped, tampered):
        browser.open(url)
        assert browser.text().startswith("This link does not work")
        assert requests.post(url, timeout=10).status_code == 403
    assert answers(capsys) == []


def test_done_is_heard_once_and_counts_as_contact(
    browser: Browser, digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    follow(browser, digest, "done")
    browser.press_the_button()
    assert browser.text().startswith("Noted: you did it")

    # And the same link pressed again acts once, with the same answer
    browser.open(digest.links("done"))
    browser.press_the_button()
    assert browser.text().startswith("Noted: you did it")
    assert answers(capsys) == ["done"]
    code, out, _ = rapport(capsys, "--local", "targets", "--json")
    assert code == 0
    (person,) = [t for t in json.loads(out)["targets"] if t["username"] == "person_x"]
    assert person["last_contact"] is not None


def test_concurrent_presses_of_one_link_store_one_answer(
    digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    skip = digest.links("skip")
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(lambda _: requests.post(skip, timeout=30), range(4)))

    assert [p.status_code for p in pages] == [200] * 4
    assert len({p.text for p in pages}) == 1
    assert answers(capsys).count("skipped") == 1


def test_a_snooze_shows_in_the_next_digests_overview(
    browser: Browser, digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    assert follow(browser, digest, "snooze-2w").startswith("Snooze @person_x for two weeks?")
    browser.press_the_button()
    assert browser.text().startswith("@person_x is snoozed")

    after = preview(capsys, digest.html.with_name("after-snooze.html"))

    assert "snoozed until" in after.body["text"]


def test_a_drop_takes_the_target_out_of_the_method_and_resume_brings_it_back(
    browser: Browser, digest: Digest, capsys: pytest.CaptureFixture[str]
) -> None:
    follow(browser, digest, "drop")
    browser.press_the_button()
    assert browser.text().startswith("@person_x is dropped")

    after = preview(capsys, digest.html.with_name("after-drop.html"))
    assert "dropped by you" in after.body["text"]
    assert "@person_x  [PAUSED]" in after.body["text"]

    code, _, _ = rapport(capsys, "--local", "targets", "resume", "person_x")
    assert code == 0
    code, out, _ = rapport(capsys, "--local", "targets", "show", "person_x", "--json")
    assert json.loads(out)["target"]["stage"] != "paused"


def test_one_click_unsubscribe_pauses_the_digest(digest: Digest, capsys: pytest.CaptureFixture[str]) -> None:
    # When the mail client posts RFC 8058's one-click unsubscribe to the List-Unsubscribe URL
    done = requests.post(
        digest.body["unsubscribe"],
        data="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert done.status_code == 200

    # Then the next day passes without a digest
    code, out, _ = rapport(capsys, "--local", "run", "--hours", "24")
    assert code == 0
    assert "digest sent" not in out


def test_a_flood_is_turned_away_past_the_limit_a_minute(digest: Digest) -> None:
    # Given a valid link posted far more often than a person could
    url = digest.links("snooze-1w")
    token = parse_qs(urlsplit(url).query)["t"][0]
    statuses = [requests.post(url, timeout=10).status_code for _ in range(40)]

    # Then past the limit the endpoint answers 429 (nothing read or written), and the token never leaks
    assert 429 in statuses
    assert set(statuses) <= {200, 429}
    assert token not in (Path.cwd() / ".rapport" / "local.json").read_text()
