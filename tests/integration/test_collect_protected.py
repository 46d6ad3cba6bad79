"""A target who turns protected after being added, on the X simulator through the real X client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import pytest

from rapport.domain.model import Interaction, InteractionKind, SuggestionKind
from rapport_local.bench import ME, START, RapportCollector, World, memory_stores, play, served
from rapport_local.scenario import Event, FollowEvent, PostEvent, Scenario, ScenarioUser
from rapport_local.xsim.api import ApiResponse
from rapport_local.xsim.server import XSimApp

pytestmark = pytest.mark.integration
FOLLOWED = ScenarioUser(id="10000", username="kept_close", name="Kept Close")  # we follow them
STRANGER = ScenarioUser(id="10001", username="stranger", name="Stranger")  # we do not
DAY = timedelta(days=1)


def a_week_with_two_targets_turning_protected() -> tuple[XSimApp, RapportCollector]:
    """Both post a link before the first run (read from their timelines, then searched), turn protected
    on the second day and ask a question an hour later."""
    events: list[Event] = [FollowEvent(START - 10 * DAY, ME.username, FOLLOWED.username)]
    for n, user in enumerate((FOLLOWED, STRANGER)):
        events += [
            PostEvent(START - DAY, f"90{n}1", user.username, f"Notes https://example.com/{user.username}"),
            PostEvent(START + DAY + timedelta(hours=1), f"90{n}2", user.username, "How do you test queues?"),
        ]
    scenario = Scenario(
        start=START,
        days=6,
        me=ME,
        users=(FOLLOWED, STRANGER),
        targets=(FOLLOWED.username, STRANGER.username),
        settings={},
        events=tuple(sorted(events, key=lambda e: e.at)),
    )
    shared = XSimApp(scenario)
    for user in (FOLLOWED, STRANGER):
        shared.world.protect(user.username, START + DAY)
    rapport = RapportCollector(served(shared), World(scenario), memory_stores())
    for user in (FOLLOWED, STRANGER):  # both thanked us once already: their questions are worth answering
        thanks = Interaction(f"thanks:{user.id}", user.id, InteractionKind.THANKS, START - DAY / 2)
        rapport.stores.evidence.add_interaction(thanks)
    return shared, rapport


def test_a_question_posted_after_turning_protected_is_suggested_while_we_may_see_it():
    # Given a target we follow who turns protected (search stops returning their posts), then asks
    shared, rapport = a_week_with_two_targets_turning_protected()
    # When Rapport collects every six hours for the week
    play(shared, [rapport], every_hours=6)
    # Then their question is read from their timeline and suggested, though search never returned it
    answers = [
        s
        for s in rapport.stores.suggestions.pending_suggestions(START + 7 * DAY)
        if s.kind is SuggestionKind.ANSWER
    ]
    assert [s.post_id for s in answers] == ["9002"]
    # And both are read from their timelines from then on, not searched
    state = rapport.stores.collector.collect_states()
    assert state["protected"] == [FOLLOWED.id, STRANGER.id]


def test_a_target_we_may_not_read_any_more_is_set_aside_without_an_error_loop():
    # Given a target we do not follow who turns protected: X refuses their timeline to us
    shared, rapport = a_week_with_two_targets_turning_protected()
    asked: list[str] = []
    handle = rapport.app.api.handle

    def recording(
        method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> ApiResponse:
        asked.append(path)
        return handle(method, path, query, headers)

    rapport.app.api.handle = recording  # type: ignore[method-assign]
    # When Rapport collects every six hours for the week
    play(shared, [rapport], every_hours=6)
    # Then collect noticed the refusal and set them aside: their timeline was asked for their first
    # read and once when it was refused (again only a week later); their question was never seen
    assert list(rapport.stores.collector.collect_states()["refused"]) == [STRANGER.id]
    assert asked.count(f"/2/users/{STRANGER.id}/tweets") == 2
    assert not [s for s in rapport.stores.evidence.interactions(STRANGER.id) if s.id == "9012"]
