"""The digest's signed links: a token acts for one action on one subject until it expires."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from rapport.domain.feedback import (
    DIGEST_SUBJECT,
    LINK_LIFETIME,
    BadToken,
    FeedbackAction,
    FeedbackLinks,
    sign,
    unverified_subject,
    verify,
)
from tests.factories import T0, at, suggestion

KEY = b"k" * 48
REF = "200|retweet#1001"


def test_a_signed_token_gives_back_its_action_subject_and_expiry():
    token = sign(KEY, FeedbackAction.SKIP, REF, at(days=14))

    claim = verify(KEY, token, "skip", at(days=13))

    assert (claim.action, claim.subject, claim.expires) == (FeedbackAction.SKIP, REF, at(days=14))
    assert (claim.target_id, claim.suggestion_key) == ("200", "retweet#1001")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t.replace(t.split(".")[2], "MjAwfHJldHdlZXQjOTk5"), id="another subject"),
        pytest.param(
            lambda t: t.replace(t.split(".")[3], str(int(t.split(".")[3]) + 86400)), id="later expiry"
        ),
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="changed signature"),
        pytest.param(lambda t: t.replace(".skip.", ".done."), id="action rewritten in the token"),
        pytest.param(lambda t: t.rsplit(".", 1)[0], id="signature cut off"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_a_token_changed_in_any_part_is_refused(tamper):
    token = sign(KEY, FeedbackAction.SKIP, REF, at(days=14))

    with pytest.raises(BadToken):
        verify(KEY, tamper(token), "skip", at())


def test_what_a_token_names_can_be_read_without_its_key_but_only_from_a_whole_token():
    # Given a done link's token, as a sent email carries it
    token = sign(KEY, FeedbackAction.DONE, REF, at(days=14))

    # Then the suggestion it names is read without the key (the crash sweep reads emails so)
    assert unverified_subject(token) == REF
    # And a token missing a part, or of another version, is no token at all
    for broken in (token.rsplit(".", 1)[0], "v0" + token[2:], ""):
        with pytest.raises(BadToken):
            unverified_subject(broken)


def test_a_token_presented_for_another_action_is_refused():
    # Given a skip link, its token pasted onto the drop path
    token = sign(KEY, FeedbackAction.SKIP, REF, at(days=14))

    with pytest.raises(BadToken, match="another action"):
        verify(KEY, token, "drop", at())


def test_a_token_is_refused_from_its_expiry_on():
    token = sign(KEY, FeedbackAction.DONE, REF, at(days=14))

    assert verify(KEY, token, "done", at(days=14) - timedelta(seconds=1)).action is FeedbackAction.DONE
    with pytest.raises(BadToken, match="expired"):
        verify(KEY, token, "done", at(days=14))


def test_a_token_signed_with_another_key_is_refused():
    # Given a link signed before the key was rotated
    token = sign(b"old" * 16, FeedbackAction.DONE, REF, at(days=14))

    with pytest.raises(BadToken):
        verify(KEY, token, "done", at())


def test_each_suggestion_gets_a_link_per_answer_and_the_digest_a_pause_link():
    links = FeedbackLinks("https://abc.lambda-url.eu-west-1.on.aws/", KEY)

    answers = links.for_suggestion(suggestion(), T0)

    assert list(answers) == ["done", "skip", "snooze-1w", "snooze-2w", "snooze-4w", "drop"]
    for action, url in answers.items():
        parts = urlsplit(url)
        assert (parts.scheme, parts.path) == ("https", f"/{action}")
        token = unquote(parse_qs(parts.query)["t"][0])
        claim = verify(KEY, token, action, T0)
        assert (claim.subject, claim.expires) == (REF, T0 + LINK_LIFETIME)
    pause = urlsplit(links.pause(T0))
    assert verify(KEY, parse_qs(pause.query)["t"][0], "pause", T0).subject == DIGEST_SUBJECT
