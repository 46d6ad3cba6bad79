"""`rapport local` as a person uses it: started in a terminal, then driven by `rapport --local ...`.

The stack runs as a subprocess in a temporary directory; the commands run through the CLI, which
signs each request to the local Function URL (CLI -> signed HTTP -> admin handler -> moto, X simulator).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from rapport_local.stack_client import StackClient
from tests.integration.cli import rapport
from tests.integration.local_stack import RunningStack, start_local, wait_ready

pytestmark = pytest.mark.integration


def targets(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, _ = rapport(capsys, "--local", "admin", '{"action": "list_targets"}')
    assert code == 0
    return [t["username"] for t in json.loads(out)["targets"]]


def test_the_stack_tells_where_it_serves(local_stack: RunningStack) -> None:
    endpoints = local_stack.endpoints

    assert endpoints["admin_url"].startswith("http://127.0.0.1:")
    assert endpoints["aws_endpoint"].startswith("http://127.0.0.1:")
    assert endpoints["x_api_url"].startswith("http://127.0.0.1:")
    assert (endpoints["region"], endpoints["table"]) == ("eu-west-1", "rapport-local")
    assert set(endpoints["credentials"]) == {"access_key_id", "secret_access_key"}
    # the file holds a secret key: its owner alone reads it
    assert (local_stack.directory / ".rapport" / "local.json").stat().st_mode & 0o077 == 0


def test_a_signed_request_reaches_the_admin_function(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the person adds a user of the simulated X as a target through the signed admin URL
    code, out, _ = rapport(capsys, "--local", "admin", '{"action": "add_target", "username": "@person_x"}')

    # Then the admin function looked them up on X and stored them, and lists them back
    assert code == 0
    assert json.loads(out)["target"]["name"] == "Person X"
    assert "person_x" in targets(capsys)


def test_a_refused_command_exits_1_with_the_reason(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = rapport(capsys, "--local", "admin", '{"action": "add_target", "username": "nobody_here"}')

    assert code == 1
    assert "does not exist on X" in json.loads(out)["error"][0]["message"]


def test_a_wrong_signature_gets_403_and_changes_nothing(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the targets as they are, and a client signing with the right key id but a wrong secret
    before = targets(capsys)
    real = StackClient.local()
    forger = StackClient(real.url, Credentials(real.credentials.access_key, "guessed"), real.region)

    # When it tries to add a target and to play the clock forward
    added = forger.request("POST", "/", {"action": "add_target", "username": "quiet_q"})
    played = forger.request("POST", "/_local/run", {"hours": 24})

    # Then both are refused with a JSON reason, and nothing changed
    assert (added.status, played.status) == (403, 403)
    assert "signature" in added.body["message"]
    assert targets(capsys) == before
    assert "quiet_q" not in before


def test_a_few_hours_on_the_clock_make_a_digest_to_preview(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given person_x is a target
    rapport(capsys, "--local", "admin", '{"action": "add_target", "username": "person_x"}')

    # When a day passes on the simulated clock (the digest hour included)
    code, out, _ = rapport(capsys, "--local", "run", "--hours", "24")

    # Then collect, evaluate and digest ran, and the morning's digest went out
    assert code == 0
    assert "digest sent for" in out

    # And the preview shows the digest the person gets now, with a suggestion for person_x
    html = tmp_path / "digest.html"
    code, out, _ = rapport(capsys, "--local", "digest", "preview", "--html", str(html))
    assert code == 0
    assert "TODAY'S ACTIONS" in out
    assert "@person_x" in out
    assert "https://x.com/intent/retweet?tweet_id=" in out
    assert "@person_x" in html.read_text()


def test_without_a_local_stack_the_commands_say_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a directory where no local stack runs
    monkeypatch.chdir(tmp_path)

    commands = (["run", "--hours", "1"], ["digest", "preview"], ["admin", "{}"])
    for argv in commands:
        code, _, err = rapport(capsys, "--local", *argv)
        assert code == 2
        assert "rapport local" in err

    # and the stack-only commands, given without --local, say so
    code, _, err = rapport(capsys, "run", "--hours", "1")
    assert code == 2
    assert "add --local" in err


def test_a_stale_local_file_with_nothing_answering_exits_2(
    local_stack: RunningStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the endpoints of a stack that is gone (a port nothing listens on)
    gone = local_stack.endpoints | {"admin_url": "http://127.0.0.1:9/"}
    (tmp_path / ".rapport").mkdir()
    (tmp_path / ".rapport" / "local.json").write_text(json.dumps(gone))
    monkeypatch.chdir(tmp_path)

    code, _, err = rapport(capsys, "--local", "run", "--hours", "1")

    assert code == 2
    assert "nothing answers" in err
    assert "rapport local" in err


def test_sigterm_stops_the_stack_and_removes_its_file(tmp_path: Path) -> None:
    # Given a running local stack
    process = start_local(tmp_path)
    wait_ready(process)
    assert (tmp_path / ".rapport" / "local.json").exists()

    # When it is terminated
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)

    # Then it stops cleanly and no longer claims to serve
    assert process.returncode == 0
    assert "stopped" in out
    assert not (tmp_path / ".rapport" / "local.json").exists()
