"""`rapport setup`: guided, and safe to re-run, on the deployed stack or (``--local``) the local one.

1. The four X keys, typed unseen or read from a JSON file, are checked against X (``GET /2/users/me``,
   OAuth 1.0a as the functions sign it) before they are stored in the stack's secret; keys X refuses
   are never stored. A secret already set is kept unless the person says to replace it.
2. The SES identities (sender, recipient) with their verification state; an unverified one can have
   its verification mail sent again.
3. A test digest through the admin API (``POST /digest/test``): the day's real digest is not used up.
4. What is still missing, as guidance: the command succeeds whatever is left to do.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from rapport.runtime.settings import X_API_URL
from rapport_local.aws import SECRET, SENDER
from rapport_local.deployed import DeployedStack
from rapport_local.stack_client import StackClient, local_endpoints
from rapport_local.status import NOT_IN_SES, identity_state, schedules, secret_state

KEY_NAMES = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
_KEY_LABELS = {
    "consumer_key": "X consumer key (API key)",
    "consumer_secret": "X consumer secret (API key secret)",
    "access_token": "X access token",
    "access_token_secret": "X access token secret",
}


class KeysRefused(Exception):
    """X answered that these keys do not authenticate (or may not read): nothing was stored."""


class SetupProblem(Exception):
    """A usage or connection problem: an unreadable keys file, X or AWS out of reach."""


class Prompter(Protocol):
    @property
    def interactive(self) -> bool: ...

    def secret(self, label: str) -> str: ...

    def confirm(self, question: str, default: bool) -> bool: ...


class Terminal:
    """Asks on the terminal; without one (a script, a pipe) every question takes its default."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty()

    def secret(self, label: str) -> str:
        return getpass.getpass(f"{label}: ").strip()

    def confirm(self, question: str, default: bool) -> bool:
        choices = "[Y/n]" if default else "[y/N]"
        if not self.interactive:
            self.say(f"{question} {choices} {'yes' if default else 'no'} (no terminal: the default)")
            return default
        answer = input(f"{question} {choices} ").strip().lower()
        return default if not answer else answer in {"y", "yes"}


@dataclass(frozen=True, slots=True)
class SetupTarget:
    """The stack ``setup`` acts on, and what it reaches it with."""

    name: str
    secretsmanager: Any
    secret_id: str
    identities: tuple[str, ...]
    sesv2: Any
    x_api_url: str
    admin: StackClient
    # Whether SES holds back mail until an identity is verified: the local one (moto) never does.
    ses_verifies: bool
    resend: Callable[[str, str], None] | None  # sends the verification mail again: (identity, state)
    disabled_schedules: Callable[[], list[str]] | None  # None where no schedule runs (local)


def local_target(directory: Path | None = None) -> SetupTarget:
    """The local stack ``rapport local`` serves in ``directory``: its secret, sender and simulator."""
    local = local_endpoints(directory)  # raises NoStack, with how to start one, when none runs
    return SetupTarget(
        name="local",
        secretsmanager=local.aws("secretsmanager"),
        secret_id=SECRET,
        identities=(SENDER,),  # the local SES sends from the sender alone
        sesv2=local.aws("sesv2"),
        x_api_url=local.x_api_url,
        admin=local.admin,
        ses_verifies=False,
        resend=None,
        disabled_schedules=None,
    )


def deployed_target(stack: DeployedStack) -> SetupTarget:
    """A deployed stack: its secret (output XSecretArn), its parameters' addresses, the real X API."""
    identities = stack.ses_identities
    sesv2, ses = stack.client("sesv2"), stack.client("ses")

    def resend(identity: str, state: str) -> None:
        # A new identity gets its mail when created; SES sends an existing one's again on request.
        if state == NOT_IN_SES:
            sesv2.create_email_identity(EmailIdentity=identity)
        else:
            ses.verify_email_identity(EmailAddress=identity)

    def disabled_schedules() -> list[str]:
        return sorted(s["name"] for s in schedules(stack) if not s["enabled"])

    return SetupTarget(
        name=stack.name,
        secretsmanager=stack.client("secretsmanager"),
        secret_id=stack.output("XSecretArn"),
        identities=tuple(identities),
        sesv2=sesv2,
        x_api_url=X_API_URL,
        admin=stack.stack_client(),
        ses_verifies=True,
        resend=resend,
        disabled_schedules=disabled_schedules,
    )


# --- the X keys ---------------------------------------------------------------------------------


def read_keys_file(path: Path) -> dict[str, str]:
    """The four keys from a JSON object; anything else is a SetupProblem naming what is wrong."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SetupProblem(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise SetupProblem(f"{path} is not JSON: {exc.msg}") from exc
    if not isinstance(found, dict):
        raise SetupProblem(f"{path} must hold a JSON object with {', '.join(KEY_NAMES)}")
    return _complete(found, str(path))


def ask_keys(prompter: Prompter) -> dict[str, str]:
    return _complete({name: prompter.secret(_KEY_LABELS[name]) for name in KEY_NAMES}, "the keys given")


def _complete(found: dict[str, Any], source: str) -> dict[str, str]:
    missing = [name for name in KEY_NAMES if not isinstance(found.get(name), str) or not found[name].strip()]
    if missing:
        raise SetupProblem(f"{source} lacks {', '.join(missing)}")
    return {name: str(found[name]).strip() for name in KEY_NAMES}


def check_keys(keys: dict[str, str], x_api_url: str) -> str:
    """The username X says the keys belong to (``GET /2/users/me``). Raises KeysRefused when X refuses
    them, SetupProblem when X cannot be reached."""
    import tweepy

    from rapport.adapters.x_client import XCredentials, make_reader
    from rapport.domain.x import XRateLimited, XUnavailable

    reader = make_reader(XCredentials.model_validate(keys), x_api_url)
    try:
        return reader.me().username
    except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
        status = exc.response.status_code if exc.response is not None else "refused"
        raise KeysRefused(
            f"X refused these keys ({status}): check the four values in your X app's 'Keys and tokens' "
            "(the access token must be generated with Read permission at least); nothing was stored"
        ) from exc
    except (XUnavailable, XRateLimited, tweepy.TweepyException) as exc:
        raise SetupProblem(f"could not check the keys with X at {x_api_url}: {exc}") from exc


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    keys_file: Path | None = None
    keep_keys: bool = False


def run_setup(
    target: SetupTarget, options: Options, prompter: Prompter, say: Callable[[str], None]
) -> dict[str, Any]:
    """The four steps; their report. Raises KeysRefused (exit 1) or SetupProblem (exit 2)."""
    try:
        keys = _keys_step(target, options, prompter, say)
        identities = _ses_step(target, prompter, say)
        test_digest = _test_digest_step(target, identities, say)
        missing = _missing(target, keys, identities, test_digest)
    except (ClientError, BotoCoreError) as exc:
        raise SetupProblem(f"AWS refused or could not be reached: {exc}") from exc
    say("Still missing:" if missing else "Nothing is missing: the next digest hour sends the day's digest.")
    for item in missing:
        say(f"  - {item}")
    return {
        "stack": target.name,
        "x_keys": keys,
        "ses_identities": identities,
        "test_digest": test_digest,
        "missing": missing,
    }


def _keys_step(
    target: SetupTarget, options: Options, prompter: Prompter, say: Callable[[str], None]
) -> dict[str, Any]:
    already = bool(secret_state(target.secretsmanager, target.secret_id)["set"])
    if already and options.keep_keys:
        say("X keys: the stack's secret is already set; kept (--keep-keys)")
        return {"set": True, "changed": False}
    replace = "X keys: the stack's secret is already set. Replace the keys?"
    if already and options.keys_file is None and not prompter.confirm(replace, False):
        say("X keys: kept")
        return {"set": True, "changed": False}
    if options.keys_file is None and not prompter.interactive:
        say("X keys: not asked without a terminal; give them with --x-keys-file FILE")
        return {"set": already, "changed": False}
    keys = read_keys_file(options.keys_file) if options.keys_file else ask_keys(prompter)
    username = check_keys(keys, target.x_api_url)
    target.secretsmanager.put_secret_value(SecretId=target.secret_id, SecretString=json.dumps(keys))
    say(f"X keys: X knows them as @{username}; stored in the stack's secret")
    return {"set": True, "changed": True, "username": username}


def _ses_step(target: SetupTarget, prompter: Prompter, say: Callable[[str], None]) -> list[dict[str, Any]]:
    identities = [identity_state(target.sesv2, identity) for identity in target.identities]
    for identity in identities:
        address, state = identity["identity"], identity["state"]
        shown = "verified" if identity["verified"] else "NOT verified"
        if not target.ses_verifies:
            identity["needed"] = False
            shown += ", which the local SES does not need"
        say(f"SES {address}: {shown} (state: {state or 'none'})")
        if identity["verified"] or target.resend is None:
            continue
        if prompter.confirm(f"Send the verification mail to {address} again?", True):
            target.resend(address, state)
            identity["mail_sent"] = True
            say(f"  sent: open the mail AWS sent to {address} and follow its link")
    return identities


def _test_digest_step(
    target: SetupTarget, identities: list[dict[str, Any]], say: Callable[[str], None]
) -> dict[str, Any]:
    unverified = _unverified(identities)
    if unverified:
        reason = f"SES has not verified {', '.join(unverified)} yet"
        say(f"Test digest: not sent, {reason}")
        return {"sent": False, "reason": reason}
    reply = target.admin.request("POST", "/digest/test")
    if not reply.ok:
        reason = _refusal(reply.body)
        say(f"Test digest: refused ({reply.status}): {reason}")
        return {"sent": False, "reason": reason}
    say(f"Test digest: sent, {reply.body['subject']!r}; the day's digest still goes out at its hour")
    return {"sent": True, **reply.body}


def _unverified(identities: list[dict[str, Any]]) -> list[str]:
    return [i["identity"] for i in identities if not i["verified"] and i.get("needed", True)]


def _refusal(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), list):
        return "; ".join(str(problem.get("message", problem)) for problem in body["error"])
    return str(body)


def _missing(
    target: SetupTarget, keys: dict[str, Any], identities: list[dict[str, Any]], test_digest: dict[str, Any]
) -> list[str]:
    missing: list[str] = []
    if not keys["set"]:
        missing.append("X keys: run `rapport setup` again to store them")
    unverified = _unverified(identities)
    missing.extend(
        f"SES has not verified {identity}: follow the link in the mail AWS sent it "
        "(`rapport setup` sends it again)"
        for identity in unverified
    )
    if not test_digest["sent"] and not unverified:
        missing.append(f"a test digest: {test_digest['reason']}")
    status = target.admin.request("GET", "/status")
    if status.ok and isinstance(status.body, dict) and not status.body.get("targets"):
        missing.append("no targets yet: `rapport targets add NAME` or `rapport targets import FILE`")
    if status.ok and isinstance(status.body, dict) and (warning := _budget_warning(status.body)):
        missing.append(f"a budget that fits your targets: {warning}")
    if target.disabled_schedules is not None and (disabled := target.disabled_schedules()):
        missing.append(
            f"schedules disabled: {', '.join(disabled)} (enable them in the EventBridge Scheduler console, "
            "or `sam deploy` again)"
        )
    return missing


def _budget_warning(status: dict[str, Any]) -> str | None:
    """The status's warning when the targets' expected monthly X cost is over the budget."""
    spend = status.get("x_spend")
    warning = spend.get("budget_warning") if isinstance(spend, dict) else None
    return str(warning) if warning else None
