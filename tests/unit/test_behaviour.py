"""Scenario behaviours in the simulated world: unscripted posts, reactions, and the simulated me.

The world is plain Python in memory; nothing here opens a socket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rapport.domain.detectors.questions import is_question
from rapport.domain.detectors.thanks import is_thanks
from rapport_local.scenario import Scenario, parse_scenario
from rapport_local.simulated_me import SimulatedMe
from rapport_local.xsim.behaviour import plan_posts
from rapport_local.xsim.world import World

START = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def scenario(
    behaviour: dict[str, Any] | None = None, *, seed: int = 1, days: int = 30, **extra: Any
) -> Scenario:
    """Ana (me), person_x (the target, behaving as given) and friend_y, their friend."""
    return parse_scenario(
        {
            "start": START.isoformat(),
            "days": days,
            "seed": seed,
            "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
            "users": [
                {"id": "200", "username": "person_x", "name": "Person X"},
                {"id": "300", "username": "friend_y", "name": "Friend Y"},
            ],
            "targets": ["person_x"],
            "behaviours": {"person_x": behaviour or {}},
            **extra,
        }
    )


def theirs(world: World, username: str = "person_x") -> list[Any]:
    user = world.user_named(username)
    assert user is not None
    world.set_now(START + timedelta(days=60))  # see everything that was planned or scheduled
    return world.timeline(user.id)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- posts nobody scripted --------------------------------------------------------------------------


def test_a_posting_rate_gives_about_that_many_posts_and_the_asked_shares():
    # Given person_x posts twice a day, a quarter questions and half links, talking with friend_y
    world_scenario = scenario(
        {"posts_per_day": 2, "questions": 0.25, "links": 0.5, "talks_with": ["friend_y"]}, days=30
    )
    # When the month is planned
    planned = plan_posts(world_scenario)
    # Then there are about 60 posts, with about the asked shares of questions and links
    assert 45 <= len(planned) <= 75
    questions = [p for p in planned if p.is_question]
    links = [p for p in planned if "https://" in p.text]
    assert 0.12 <= len(questions) / len(planned) <= 0.38
    assert 0.35 <= len(links) / len(planned) <= 0.65
    # ...the detectors Rapport uses agree on which are questions
    assert all(is_question(p.text) for p in questions)
    assert not any(is_question(p.text) for p in planned if not p.is_question)
    # ...and some address friend_y, which is how Rapport learns their circle
    assert any("@friend_y" in p.text for p in planned)
    assert all(START <= p.at < START + timedelta(days=30) for p in planned)


def test_the_same_seed_plans_the_same_month_and_another_seed_another():
    behaviour = {"posts_per_day": 1.5, "questions": 0.3, "links": 0.3}
    assert plan_posts(scenario(behaviour, seed=4)) == plan_posts(scenario(behaviour, seed=4))
    assert plan_posts(scenario(behaviour, seed=4)) != plan_posts(scenario(behaviour, seed=5))


def test_planned_posts_appear_only_when_the_clock_reaches_them():
    world = World(scenario({"posts_per_day": 3}, days=2))
    user = world.user_named("person_x")
    assert user is not None
    world.set_now(START)
    assert world.timeline(user.id) == []
    world.set_now(START + timedelta(days=2))
    assert len(world.timeline(user.id)) >= 1


# -- reactions to what we do ----------------------------------------------------------------------


def test_thanks_comes_after_the_nth_retweet_of_their_posts():
    # Given person_x thanks after two of our retweets, always, one to two hours later
    world = World(scenario({"thanks": {"after": 2, "probability": 1, "hours": [1, 2]}}, days=5))
    first = world.add_post("person_x", "Notes on queues https://example.com/1", at=START + hours(1))
    second = world.add_post("person_x", "Notes on caching https://example.com/2", at=START + hours(2))
    # When we retweet the first post / Then nothing comes back
    world.add_retweet("ana_builds", first.id, at=START + hours(3))
    assert not [p for p in theirs(world) if "@ana_builds" in p.text]
    # When we retweet the second
    ours = world.add_retweet("ana_builds", second.id, at=START + hours(4))
    # Then they thank us, once, between one and two hours later, in words Rapport reads as thanks
    thanks = [p for p in theirs(world) if "@ana_builds" in p.text]
    assert len(thanks) == 1
    assert ours.at + hours(1) <= thanks[0].at <= ours.at + hours(2)
    assert is_thanks(thanks[0].text, "ana_builds")


def test_someone_whose_probability_is_zero_never_reacts():
    never = {"probability": 0}
    world = World(scenario({"thanks": never, "follows_back": never, "replies_to_questions": never}, days=5))
    posts = [
        world.add_post("person_x", f"Notes {n} https://example.com/{n}", at=START + hours(n))
        for n in range(5)
    ]
    question = world.add_post("person_x", "How do you test queues?", at=START + hours(6))
    for post in posts:
        world.add_retweet("ana_builds", post.id, at=post.at + hours(1))
    world.add_post(
        "ana_builds", "@person_x this covers it https://e.com/a", reply_to=question.id, at=START + hours(7)
    )
    world.add_post("ana_builds", "@person_x how do you size batches?", at=START + hours(8))
    assert [p for p in theirs(world) if "@ana_builds" in p.text] == []
    assert not world.follows("200", "100")


def test_they_follow_back_after_we_answer_their_question():
    # Given person_x follows back after one answer, always, two to three hours later
    world = World(scenario({"follows_back": {"probability": 1, "hours": [2, 3]}}, days=5))
    question = world.add_post("person_x", "Anyone know a good way to trace init time?", at=START + hours(1))
    # When we reply to their question with a link
    world.add_post(
        "ana_builds", "@person_x this helped me: https://e.com/t", reply_to=question.id, at=START + hours(2)
    )
    # Then they follow us from two to three hours later
    assert not world.follows("200", "100", at=START + hours(3.9))
    assert world.follows("200", "100", at=START + hours(5))


def test_they_reply_to_a_question_we_ask_them():
    # Given person_x answers our questions, always
    world = World(scenario({"replies_to_questions": {"probability": 1, "hours": [1, 3]}}, days=5))
    post = world.add_post("person_x", "Shipping the migration today.", at=START + hours(1))
    # When we ask them something on their post
    ours = world.add_post(
        "ana_builds", "@person_x what would you do differently?", reply_to=post.id, at=START + hours(2)
    )
    # Then they reply to our question, to us
    replies = [p for p in theirs(world) if p.reply_to == ours.id]
    assert len(replies) == 1
    assert replies[0].in_reply_to_user_id == "100"


# -- the simulated me ----------------------------------------------------------------------------


def digest(*suggestions: dict[str, Any], day: str = "2026-04-02") -> dict[str, Any]:
    return {"local_date": day, "suggestions": list(suggestions)}


def test_the_simulated_me_takes_each_kind_of_suggestion_on_x():
    # Given a digest with one suggestion of each kind, and a me who takes them all
    world_scenario = scenario({}, days=5, me_acts={"probability": 1, "hours": [1, 2]})
    world = World(world_scenario)
    post = world.add_post("person_x", "Notes https://example.com/n", at=START + hours(1))
    question = world.add_post("person_x", "How do you test queues?", at=START + hours(2))
    friend = world.add_post("friend_y", "Our tracing setup https://example.com/f", at=START + hours(3))
    me = SimulatedMe(world_scenario, world)
    received = START + hours(24)
    world.set_now(received)
    # When the simulated me reads it
    acts = me.act_on(
        digest(
            {"kind": "retweet", "target": "person_x", "post_id": post.id},
            {"kind": "answer", "target": "person_x", "post_id": question.id},
            {"kind": "ask", "target": "person_x", "post_id": post.id},
            {"kind": "engage_circle", "target": "person_x", "users": ["friend_y"]},
        ),
        received,
    )
    # Then each became a post of ours, an hour or two after the digest arrived
    assert [a.kind for a in acts] == ["retweet", "answer", "ask", "engage_circle"]
    assert all(received + hours(1) <= a.at <= received + hours(2) for a in acts)
    ours = {p.id: p for p in theirs(world, "ana_builds")}
    assert ours[acts[0].post_id].retweet_of == post.id
    assert ours[acts[1].post_id].reply_to == question.id
    assert "?" in ours[acts[2].post_id].text
    assert ours[acts[3].post_id].retweet_of == friend.id


def test_the_simulated_me_meets_a_circle_member_at_the_post_the_digest_gives():
    # Given friend_y's older post that person_x replied to, and a newer one of theirs
    world_scenario = scenario({}, days=5, me_acts={"probability": 1, "hours": [1, 2]})
    world = World(world_scenario)
    answered = world.add_post("friend_y", "Layers got messy", at=START + hours(1))
    world.add_post("friend_y", "Something else https://example.com/f", at=START + hours(3))
    me = SimulatedMe(world_scenario, world)
    received = START + hours(24)
    world.set_now(received)
    member = {"username": "friend_y", "post_id": answered.id, "post_author": "friend_y"}
    # When the digest's circle step gives that conversation for friend_y
    (act,) = me.act_on(
        digest({"kind": "engage_circle", "target": "person_x", "users": ["friend_y"], "circle": [member]}),
        received,
    )
    # Then the simulated me retweets that post, not friend_y's newest
    ours = {p.id: p for p in theirs(world, "ana_builds")}
    assert ours[act.post_id].retweet_of == answered.id


def test_the_simulated_me_skips_what_the_dice_say_and_does_so_reproducibly():
    def run() -> list[str]:
        world_scenario = scenario({}, days=5, me_acts={"probability": 0.5})
        world = World(world_scenario)
        posts = [world.add_post("person_x", f"Notes {n}", at=START + hours(n)) for n in range(1, 11)]
        me = SimulatedMe(world_scenario, world)
        got = me.act_on(
            digest(*({"kind": "retweet", "target": "person_x", "post_id": p.id} for p in posts)),
            START + hours(24),
        )
        return [a.summary for a in got]

    taken = run()
    assert 0 < len(taken) < 10
    assert run() == taken
