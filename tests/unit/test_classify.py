"""How a post read from X becomes evidence about a target."""

from __future__ import annotations

from rapport.domain.classify import Me, classify
from rapport.domain.model import InteractionKind as K
from tests.factories import ME, ME_ID, post, target

PERSON = target()
TARGETS = {PERSON.id: PERSON}
ME_ = Me(ME_ID, ME)


def known_nothing(target_id, family):
    return set()


def kinds(p, known=known_nothing):
    return [(i.kind, i.target_id, i.refers_to) for i in classify(p, ME_, TARGETS, known)]


def test_a_targets_post_to_their_network_is_kept_and_a_question_is_recognised():
    p = post("Anyone know a good way to trace Lambda init time?")
    (found,) = classify(p, ME_, TARGETS, known_nothing)
    assert found.kind is K.TARGET_POST
    assert found.is_question


def test_a_targets_thanks_to_us_is_a_thanks_and_other_mentions_are_mentions():
    thanks = post("@ana_builds thanks for sharing!", mention_ids=(ME_ID,), mention_usernames=(ME,))
    chat = post("@ana_builds what stack do you use?", mention_ids=(ME_ID,), mention_usernames=(ME,))
    assert kinds(thanks) == [(K.THANKS, "200", None)]
    assert kinds(chat) == [(K.MENTION, "200", None)]


def test_a_reply_to_our_question_is_recognised():
    reply = post("@ana_builds good question!", in_reply_to_user_id=ME_ID, replied_to_id="5003")
    assert kinds(reply, lambda t, f: {"5003"} if f == "our_questions" else set()) == [
        (K.REPLY_TO_QUESTION, "200", "5003")
    ]
    assert kinds(reply)[0][0] is K.MENTION


def test_a_targets_quote_of_our_post_answers_us_as_a_mention_or_a_thanks():
    # Given our recent post 5001, which a target quotes (X: not a mention, no @ in the text)
    ours = lambda t, f: {"5001"} if f == "our_posts" else set()  # noqa: E731
    quote = post("This is the way to measure cold starts", quoted_id="5001")
    grateful = post("Thanks for writing this up, saved me a day", quoted_id="5001")
    theirs = post("Good thread on cold starts", quoted_id="7777")
    # Then the quote is a response to us, about the post it quotes; a quote of another's post is not
    assert kinds(quote, ours) == [(K.MENTION, "200", "5001")]
    assert kinds(grateful, ours) == [(K.THANKS, "200", "5001")]
    assert kinds(theirs, ours) == [(K.TARGET_POST, "200", None)]


def test_our_retweet_of_a_target_is_attributed_to_them():
    rt = post("RT @person_x: How we halved cold starts", by=ME_ID, retweeted_id="1001", mention_ids=("200",))
    assert kinds(rt) == [(K.OUR_RETWEET, "200", "1001")]


def test_our_reply_to_their_question_is_an_answer_and_other_replies_are_questions_or_replies():
    def their_questions(target_id, family):
        return {"1003"} if family == "their_questions" else set()

    answer = post("@person_x this helped me", by=ME_ID, in_reply_to_user_id="200", replied_to_id="1003")
    ask = post(
        "@person_x how do you split layers?", by=ME_ID, in_reply_to_user_id="200", replied_to_id="1012"
    )
    reply = post("@person_x nice one", by=ME_ID, in_reply_to_user_id="200", replied_to_id="1012")
    assert kinds(answer, their_questions)[0][0] is K.OUR_ANSWER
    assert kinds(ask, their_questions)[0][0] is K.OUR_QUESTION
    assert kinds(reply, their_questions)[0][0] is K.OUR_REPLY


def test_posts_of_strangers_and_retweets_by_targets_say_nothing():
    assert kinds(post("hello", by="999")) == []
    assert kinds(post("RT @x: hi", retweeted_id="1")) == []
