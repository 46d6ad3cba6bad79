"""An edited post: X gives the edit a new id and serves only the newest version from then on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from rapport.domain.model import InteractionKind, SuggestionKind
from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from rapport_local.xsim.world import World
from tests.integration.worlds import one_post_world, post_event, served_posts, stack_on

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FIRST = "How we halved Lambda cold starts https://example.com/cold-starts"
EDITED = "How we halved Lambda cold starts, with every figure https://example.com/cold-starts"
WORLD = one_post_world(START, FIRST)  # posted at 09:00, read by the 09:00 collect
# Edited twenty minutes later: from then on X serves it as post 1002.
WORLD["events"].append(
    {
        "at": (START + timedelta(minutes=80)).isoformat(),
        "edit": {"id": "1002", "post": "1001", "text": EDITED},
    }
)


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START) as local:
        yield local


def test_x_serves_the_newest_version_with_its_history_and_the_first_by_its_id(stack: LocalStack):
    # Given the post and its edit are published
    stack.xsim.set_now(START + timedelta(hours=2))
    # Then the timeline holds the newest version only, naming the versions it replaces
    (newest,) = served_posts(stack, "/2/users/200/tweets")
    assert (newest["id"], newest["edit_history_tweet_ids"]) == ("1002", ["1001", "1002"])
    assert newest["text"].startswith("How we halved Lambda cold starts, with every figure")
    # And its edit window is still the first version's, one edit used
    (controls,) = served_posts(stack, "/2/tweets", ids="1002", **{"tweet.fields": "edit_controls"})
    assert controls["edit_controls"] == {
        "edits_remaining": 4,
        "is_edit_eligible": True,
        "editable_until": "2026-03-02T09:30:00.000Z",
    }
    # And the first version is still there by its id
    (first,) = served_posts(stack, "/2/tweets", ids="1001")
    assert (first["id"], first["edit_history_tweet_ids"]) == ("1001", ["1001"])


def test_a_post_read_before_and_after_its_edit_is_one_post_and_one_suggestion(stack: LocalStack):
    # Given the 09:00 collect read person_x's post, and the 10:00 collect its edit (a new id)
    stack.tick(START + timedelta(hours=1), digest=False)
    stack.tick(START + timedelta(hours=2), digest=False)
    posts = [
        i for i in stack.deps.stores.evidence.interactions("200") if i.kind is InteractionKind.TARGET_POST
    ]
    assert sorted(i.id for i in posts) == ["1001", "1002"]  # evidence is stored as X served it
    # When a day of hours runs, with the morning's digest
    stack.run(START + timedelta(hours=2), hours=22)
    # Then it was suggested once, and never again under its new id
    history = stack.deps.stores.evidence.history("200")
    retweets = [s.post_id for s in history.suggestions if s.kind is SuggestionKind.RETWEET]
    assert retweets == ["1001"]


def test_an_edited_reply_is_one_reply_among_its_parent_s():
    # Given our reply to person_x's post, edited ten minutes later
    world = one_post_world(START, FIRST)
    world["events"] += [
        post_event(
            START + timedelta(minutes=70), "5001", "ana_builds", "@person_x Great numbers", reply_to="1001"
        ),
        {
            "at": (START + timedelta(minutes=80)).isoformat(),
            "edit": {"id": "5002", "post": "5001", "text": "@person_x Great"},
        },
    ]
    x = World(parse_scenario(world))
    x.set_now(START + timedelta(hours=2))
    # Then the post counts one reply, the newest version of ours
    parent = x.post("1001")
    assert parent is not None and x.post_metrics(parent)["reply_count"] == 1
