"""What the user is told to do, per stage, and what is never suggested."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rapport.domain.engine import replay
from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, SuggestionKind, in_step
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


def their_edited_post(text: str, hours: float, *, post_id: str, edit_of: str):
    """Their post as X serves it after an edit: a new id, the first version's id in its history."""
    p = post(
        text, when=at(hours), post_id=post_id, edit_history=(edit_of, post_id), urls=("https://e.com/a",)
    )
    return evidence(K.TARGET_POST, at(hours), ev_id=p.id, the_post=p)


def test_a_post_read_before_and_after_its_edit_is_suggested_once_in_its_newest_version():
    # Given their useful post (1), read with the likes it drew, then edited by its author (2)
    first = their_post(
        "How we halved Lambda cold starts", 1, post_id="1", urls=("https://e.com/a",), like_count=50
    )
    edited = their_edited_post(
        "How we halved Lambda cold starts, with numbers", 1.2, post_id="2", edit_of="1"
    )
    history = [added(), first, edited]
    # When suggestions are made, and made again the next day
    made = suggestions_for(history)
    again = suggestions_for(history, now_hours=54, previous=made)
    # Then one retweet is suggested in all, of the newest version
    assert [(s.kind, s.post_id, s.post_text) for s in made] == [
        (SuggestionKind.RETWEET, "2", "How we halved Lambda cold starts, with numbers")
    ]
    assert again == []


def test_an_edited_post_is_not_suggested_again_once_suggested_or_retweeted_in_its_first_version():
    first = their_post("How we halved Lambda cold starts", 1, post_id="1", urls=("https://e.com/a",))
    edited = their_edited_post(
        "How we halved Lambda cold starts, with numbers", 1.2, post_id="2", edit_of="1"
    )
    history = [added(), first, edited]
    # Given the first version was suggested already / Then its edit is not suggested again
    assert suggestions_for(history, previous=[suggestion(post_id="1", created_at=at(1.1))]) == []
    # Given we retweeted the first version / Then its edit is not suggested either
    retweeted = evidence(K.OUR_RETWEET, at(1.5), refers_to="1")
    assert [s for s in suggestions_for([*history, retweeted]) if s.kind is SuggestionKind.RETWEET] == []


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


def in_the_circle(*posts):
    return [added(), evidence(K.FOLLOW, at(1)), evidence(K.REPLY_TO_QUESTION, at(2)), *posts]


def circle_suggestion(history, **kw):
    made = [s for s in suggestions_for(history, **kw) if s.kind is SuggestionKind.ENGAGE_CIRCLE]
    assert len(made) <= 1
    return made[0] if made else None


def reply_to(name: str, user_id: str, their_post_id: str, hours: float):
    """The target replying to a post of someone else: X names the addressee as the first mention."""
    return their_post(
        f"@{name} good point",
        hours,
        in_reply_to_user_id=user_id,
        replied_to_id=their_post_id,
        mention_ids=(user_id,),
        mention_usernames=(name,),
    )


def test_in_the_circle_stage_two_or_three_people_they_talk_with_are_suggested():
    history = in_the_circle(
        their_post("Chat with @friend_y and @ana_builds", 3, mention_usernames=("friend_y", ME)),
        their_post("Pairing with @friend_z and @friend_y", 4, mention_usernames=("friend_z", "friend_y")),
        their_post("Thanks @friend_w", 5, mention_usernames=("friend_w",)),
    )
    circle = circle_suggestion(history)
    assert circle is not None
    assert circle.users[0] == "friend_y"
    assert set(circle.users) == {"friend_y", "friend_z", "friend_w"}
    assert circle.post_id is None
    assert [m.username for m in circle.circle] == list(circle.users)


def test_whom_the_target_replies_to_ranks_first_with_the_reason_in_words():
    # Given the target replied to @dev_kim three times, and named @friend_y in two posts
    history = in_the_circle(
        reply_to("dev_kim", "501", "9001", 3),
        reply_to("dev_kim", "501", "9002", 10),
        reply_to("dev_kim", "501", "9003", 20),
        their_post("Pairing with @friend_y", 4, mention_usernames=("friend_y",), mention_ids=("502",)),
        their_post("More with @friend_y", 5, mention_usernames=("friend_y",), mention_ids=("502",)),
    )
    # When suggestions are made
    circle = circle_suggestion(history)
    # Then @dev_kim comes first, with why them
    assert circle is not None
    first, second = circle.circle
    assert first.username == "dev_kim"
    assert first.user_id == "501"
    assert first.reason == "@person_x replied to them 3 times in 2 days"
    assert second.username == "friend_y"
    assert second.reason == "@person_x named them in 2 posts in 2 days"


def test_each_member_comes_with_a_post_of_theirs_in_a_conversation_the_target_is_in():
    # Given the target replied to two posts of @dev_kim, and only named @friend_y
    history = in_the_circle(
        reply_to("dev_kim", "501", "9001", 3),
        reply_to("dev_kim", "501", "9002", 10),
        their_post("Pairing with @friend_y", 4, post_id="p4", mention_usernames=("friend_y",)),
    )
    circle = circle_suggestion(history)
    assert circle is not None
    kim, friend = circle.circle
    # Then @dev_kim's post is the newest one the target answered: the target sees our reply there
    assert (kim.post_id, kim.post_author_username, kim.post_text) == ("9002", "dev_kim", None)
    # And @friend_y is met in the target's own post that names them
    assert (friend.post_id, friend.post_author_username) == ("p4", "person_x")
    assert friend.post_text == "Pairing with @friend_y"


def test_the_post_that_names_a_member_is_quoted_with_its_links_expanded_not_as_t_co():
    # Given the target named @friend_y in a post whose link X wrapped in t.co
    history = in_the_circle(
        reply_to("dev_kim", "501", "9001", 3),
        their_post(
            "Pairing with @friend_y https://t.co/XyZ789",
            4,
            post_id="p4",
            mention_usernames=("friend_y",),
            urls=("https://example.com/pairing",),
            short_urls=("https://t.co/XyZ789",),
        ),
    )
    circle = circle_suggestion(history)
    assert circle is not None
    friend = next(m for m in circle.circle if m.username == "friend_y")
    # Then the digest quotes it with where the link leads
    assert friend.post_text == "Pairing with @friend_y https://example.com/pairing"


def test_never_more_than_three_members_and_never_us_nor_the_target():
    history = in_the_circle(
        *(reply_to(f"friend_{n}", str(600 + n), str(9100 + n), 3 + n) for n in range(5)),
        reply_to(ME, "100", "9200", 9),
        reply_to("person_x", "200", "9201", 9),
    )
    circle = circle_suggestion(history)
    assert circle is not None
    assert len(circle.circle) == 3
    assert not {"ana_builds", "person_x"} & {m.username for m in circle.circle}
    two = circle_suggestion(history, policy=Policy(circle_size=2))
    assert two is not None
    assert len(two.circle) == 2


def test_conversations_older_than_four_weeks_do_not_make_the_circle():
    # Given two replies to @old_friend on day 0, and @friend_y, @friend_z named on days 25 and 26
    history = in_the_circle(
        reply_to("old_friend", "601", "9001", 3),
        reply_to("old_friend", "601", "9002", 4),
        their_post("With @friend_y", 25 * 24, mention_usernames=("friend_y",)),
        their_post("With @friend_z", 26 * 24, mention_usernames=("friend_z",)),
    )
    # When the circle is drawn on day 27, then on day 30
    within = circle_suggestion(history, now_hours=27 * 24)
    after = circle_suggestion(history, now_hours=30 * 24)
    # Then @old_friend is in it only while the conversation is under four weeks old
    assert within is not None and within.users[0] == "old_friend"
    assert after is not None and set(after.users) == {"friend_y", "friend_z"}


def test_when_they_speak_to_us_we_are_told_to_reply_until_we_do():
    mention = post("@ana_builds what do you think?", when=at(2), post_id="m1")
    history = [added(), evidence(K.MENTION, at(2), ev_id="m1", the_post=mention)]
    made = suggestions_for(history)
    assert made[0].kind is SuggestionKind.REPLY
    assert made[0].post_id == "m1"
    replied = [*history, evidence(K.OUR_REPLY, at(3), refers_to="m1")]
    assert SuggestionKind.REPLY not in {s.kind for s in suggestions_for(replied)}


def test_a_quote_of_our_post_is_answered_as_what_it_is():
    quote = post("This is how to measure cold starts", when=at(2), post_id="q1", quoted_id="5001")
    history = [added(), evidence(K.MENTION, at(2), ev_id="q1", the_post=quote, refers_to="5001")]
    (made,) = suggestions_for(history)
    assert (made.kind, made.post_id) == (SuggestionKind.REPLY, "q1")
    assert "quoted your post" in made.reason


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


# -- whatever the history, only what the stage calls for ------------------------------------------

STAGE_EVIDENCE = [K.OUR_RETWEET, K.THANKS, K.FOLLOW, K.UNFOLLOW, K.REPLY_TO_QUESTION, K.PAUSE, K.RESUME]


@given(st.lists(st.tuples(st.sampled_from(STAGE_EVIDENCE), st.integers(0, 24)), max_size=12))
def test_every_suggestion_made_is_one_its_targets_stage_calls_for(raw):
    # Given any mix of evidence that moves the stage, beside fresh posts worth each kind of step:
    # a useful post, a question to their network, and a mention of us
    history = [
        added(),
        *(evidence(kind, at(hours), ev_id=f"e{i:02d}") for i, (kind, hours) in enumerate(raw)),
        their_post("How we run Lambda with Python https://example.com/a", 25, post_id="p1"),
        their_post("Any tips for testing Python Lambda handlers?", 26, question=True, post_id="q1"),
        evidence(
            K.MENTION, at(27), ev_id="m1", the_post=post("@ana_builds thoughts?", when=at(27), post_id="m1")
        ),
    ]
    stage = replay(history, POLICY).stage

    # Then every suggestion is of a kind the stage it reached calls for
    assert all(in_step(s.kind, stage) for s in suggestions_for(history))
