"""What the user is told to do, per stage, and what is never suggested."""

from __future__ import annotations

from rapport.domain.engine import replay
from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, SuggestionKind
from rapport.domain.policy import Policy, Resource
from rapport.domain.suggestions import Context, suggest
from tests.factories import ME, added, at, evidence, post, suggestion, target

POLICY = Policy(topics=("lambda", "python"))


def their_post(text: str, hours: float, *, question: bool = False, post_id: str | None = None, **kw):
    p = post(text, when=at(hours), post_id=post_id, **kw)
    return evidence(K.TARGET_POST, at(hours), ev_id=p.id, the_post=p, is_question=question)


def suggestions_for(history, *, now_hours: float = 30, previous=(), policy: Policy = POLICY):
    ctx = Context(
        target=target(),
        me_username=ME,
        progress=replay(history, policy),
        interactions=history,
        previous=list(previous),
        policy=policy,
        now=at(now_hours),
    )
    return suggest(ctx)


def test_step_1_suggests_their_most_useful_recent_post_to_retweet():
    # Given two fresh posts, one with a link on our topics
    history = [
        added(),
        their_post("Morning everyone", 1, post_id="1"),
        their_post("How we halved Lambda cold starts", 2, post_id="2", urls=("https://example.com/a",)),
    ]
    # When suggestions are made / Then the useful post is the one to retweet
    made = suggestions_for(history)
    assert [(s.kind, s.post_id) for s in made] == [(SuggestionKind.RETWEET, "2")]
    assert "link" in made[0].reason


def test_replies_retweets_and_stale_posts_are_never_suggested_for_a_retweet():
    history = [
        added(),
        their_post("@someone I agree", 1, post_id="1", in_reply_to_user_id="9", replied_to_id="77"),
        their_post("Old but gold https://example.com/old", -100, post_id="2"),
    ]
    assert suggestions_for(history) == []


def test_retweets_are_capped_per_week_counting_what_we_already_did():
    # Given we retweeted them twice this week already
    history = [
        added(),
        their_post("Post A https://example.com/a", 1, post_id="1"),
        their_post("Post B https://example.com/b", 2, post_id="2"),
        their_post("Post C https://example.com/c", 3, post_id="3"),
        evidence(K.OUR_RETWEET, at(4), refers_to="1"),
        evidence(K.OUR_RETWEET, at(5), refers_to="2"),
    ]
    # Then no third retweet is suggested until a week has passed
    assert suggestions_for(history, now_hours=6) == []
    assert suggestions_for(history, now_hours=6, policy=Policy(retweet_suggestions_per_week=3))


def test_a_suggestion_is_never_made_twice():
    history = [added(), their_post("Post A https://example.com/a", 1, post_id="1")]
    first = suggestions_for(history)
    assert first
    assert suggestions_for(history, previous=first) == []


def test_step_2_suggests_answering_a_question_they_asked_their_network():
    history = [
        added(),
        evidence(K.THANKS, at(1)),
        their_post("Anyone know a good way to trace Lambda init time?", 2, question=True, post_id="q1"),
    ]
    made = {s.kind: s for s in suggestions_for(history)}
    answer = made[SuggestionKind.ANSWER]
    assert answer.post_id == "q1"
    assert answer.draft
    assert "Lambda init time" in answer.draft  # what the question is about, in its own words
    assert "on a topic you know" in answer.reason


def test_questions_are_not_suggested_before_they_thanked_us_nor_once_answered():
    question = their_post("Anyone know a good Python profiler?", 2, question=True, post_id="q1")
    assert all(s.kind is not SuggestionKind.ANSWER for s in suggestions_for([added(), question]))
    answered = [added(), evidence(K.THANKS, at(1)), question, evidence(K.OUR_ANSWER, at(3), refers_to="q1")]
    assert all(s.kind is not SuggestionKind.ANSWER for s in suggestions_for(answered))


def test_step_3_suggests_asking_them_once_they_follow_us():
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        their_post("Packaging Python for Lambda layers https://example.com/c", 2, post_id="p1"),
    ]
    made = {s.kind: s for s in suggestions_for(history)}
    assert made[SuggestionKind.ASK].post_id == "p1"
    # once we asked, the ask suggestion stops
    asked = [*history, evidence(K.OUR_QUESTION, at(3), refers_to="p1")]
    assert SuggestionKind.ASK not in {s.kind for s in suggestions_for(asked)}


def test_in_the_circle_stage_two_or_three_people_they_talk_with_are_suggested():
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        evidence(K.REPLY_TO_QUESTION, at(2)),
        their_post("Chat with @friend_y and @ana_builds", 3, mention_usernames=("friend_y", ME)),
        their_post("Pairing with @friend_z and @friend_y", 4, mention_usernames=("friend_z", "friend_y")),
        their_post("Thanks @friend_w", 5, mention_usernames=("friend_w",)),
    ]
    circle = [s for s in suggestions_for(history) if s.kind is SuggestionKind.ENGAGE_CIRCLE]
    assert len(circle) == 1
    assert circle[0].users[0] == "friend_y"
    assert set(circle[0].users) == {"friend_y", "friend_z", "friend_w"}
    assert circle[0].post_id is None


def test_when_they_speak_to_us_we_are_told_to_reply_until_we_do():
    mention = post("@ana_builds what do you think?", when=at(2), post_id="m1")
    history = [added(), evidence(K.MENTION, at(2), ev_id="m1", the_post=mention)]
    made = suggestions_for(history)
    assert made[0].kind is SuggestionKind.REPLY
    assert made[0].post_id == "m1"
    replied = [*history, evidence(K.OUR_REPLY, at(3), refers_to="m1")]
    assert SuggestionKind.REPLY not in {s.kind for s in suggestions_for(replied)}


def test_a_paused_target_gets_no_suggestion():
    history = [added(), their_post("Post https://example.com/a", 1), evidence(K.PAUSE, at(2))]
    assert replay(history, POLICY).stage is Stage.PAUSED
    assert suggestions_for(history) == []


def test_an_unresponsive_target_gets_no_more_retweet_suggestions():
    retweets = [evidence(K.OUR_RETWEET, at(i + 1), refers_to=f"old{i}") for i in range(5)]
    history = [added(), *retweets, their_post("Yet another post https://example.com/z", 10)]
    assert replay(history, POLICY).stage is Stage.UNRESPONSIVE
    assert suggestions_for(history, previous=[suggestion(created_at=at(-200))]) == []


def test_the_step_3_question_is_asked_on_a_post_we_have_not_reacted_to_and_not_on_their_question():
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        their_post("Packaging Python for Lambda layers https://example.com/c", 2, post_id="p1"),
        their_post("Anyone know a good Lambda tracer?", 3, question=True, post_id="q1"),
        their_post("Lambda and Python tips https://example.com/t", 4, post_id="p2"),
        evidence(K.OUR_RETWEET, at(5), refers_to="p2"),
    ]
    (ask,) = [s for s in suggestions_for(history) if s.kind is SuggestionKind.ASK]
    assert ask.post_id == "p1"


# --- drafts and the link library (issue 13) ---------------------------------------------------------

COLD_STARTS = Resource(
    url="https://example.com/cold-starts", title="Measuring Lambda cold starts", topics=("cold start",)
)
MONOREPOS = Resource(
    url="https://example.com/monorepo", title="Monorepos that stay fast", topics=("monorepo",)
)


def _answer_to(question: str, policy: Policy):
    history = [added(), evidence(K.THANKS, at(1)), their_post(question, 2, question=True, post_id="q1")]
    (answer,) = [s for s in suggestions_for(history, policy=policy) if s.kind is SuggestionKind.ANSWER]
    return answer


def test_an_answer_offers_the_resource_of_the_library_that_fits_the_question():
    # Given a library of two resources
    policy = Policy(topics=("lambda",), links=(MONOREPOS, COLD_STARTS))
    # When they ask about cold starts
    answer = _answer_to("Anyone know a good way to test Lambda cold starts locally?", policy)
    # Then the reply is pre-filled with the cold-start resource, and the reason names it
    assert answer.draft is not None
    assert COLD_STARTS.url in answer.draft
    assert MONOREPOS.url not in answer.draft
    assert COLD_STARTS.title in answer.reason


def test_with_no_fitting_resource_the_answer_says_so_and_its_draft_has_no_dangling_colon():
    # Given a library with nothing on the question's subject
    policy = Policy(links=(MONOREPOS,))
    # When they ask about something else
    answer = _answer_to("Anyone know a good way to test Lambda cold starts locally?", policy)
    # Then the reason says no link fits, and the draft is a whole sentence about their subject
    assert "No link in your library fits" in answer.reason
    assert answer.draft is not None
    assert "http" not in answer.draft
    assert not answer.draft.rstrip().endswith(":")
    assert "Lambda cold starts" in answer.draft


def test_the_ask_refers_to_what_their_post_is_about():
    # Given the post of issue 13 that the step-3 question was asked on
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        their_post(
            "Pairing with @friend_z and @friend_y on Python typing",
            2,
            post_id="p1",
            mention_usernames=("friend_z", "friend_y"),
        ),
    ]
    (ask,) = [s for s in suggestions_for(history) if s.kind is SuggestionKind.ASK]
    # Then the draft asks about Python typing, as a question
    assert ask.draft is not None
    assert "Python typing" in ask.draft
    assert ask.draft.endswith("?")


def test_they_spoke_to_you_comes_with_a_draft_about_what_they_said():
    # Given they replied to our question about cold starts (no draft at all before issue 13)
    reply = post("@ana_builds We cut cold starts with SnapStart, worth a try", when=at(2), post_id="r1")
    history = [added(), evidence(K.REPLY_TO_QUESTION, at(2), ev_id="r1", the_post=reply, refers_to="o1")]
    (made,) = [s for s in suggestions_for(history) if s.kind is SuggestionKind.REPLY]
    # Then there is a draft thanking them, naming their subject
    assert made.draft is not None
    assert "SnapStart" in made.draft


def test_a_post_is_quoted_with_its_links_expanded_not_as_t_co():
    # Given a post whose link X wrapped in t.co
    history = [
        added(),
        their_post(
            "How we halved Lambda cold starts https://t.co/AbC123",
            1,
            post_id="p1",
            urls=("https://example.com/cold-starts",),
            short_urls=("https://t.co/AbC123",),
        ),
    ]
    (retweet,) = suggestions_for(history)
    # Then the suggestion quotes it with the link's destination
    assert retweet.post_text == "How we halved Lambda cold starts https://example.com/cold-starts"
