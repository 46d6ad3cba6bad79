"""Drafts: what a reply-type suggestion pre-fills, about the post, and short enough for X."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.domain.drafts import (
    ANSWER_WITH_LINK,
    ASK,
    MAX_WEIGHTED_CHARS,
    answer_draft,
    ask_draft,
    best_resource,
    circle_reply_draft,
    reply_draft,
    subject_of,
    x_length,
)
from rapport.domain.policy import Resource

COLD_STARTS = Resource(
    url="https://example.com/cold-starts",
    title="Measuring Lambda cold starts",
    topics=("lambda", "cold start"),
)
TYPING = Resource(
    url="https://example.com/typing", title="A practical guide to Python typing", topics=("python",)
)
LIBRARY = (COLD_STARTS, TYPING)


# --- x_length -----------------------------------------------------------------------------------------


def test_x_counts_every_link_as_23_whatever_its_length():
    long_link = "https://example.com/" + "a" * 200
    assert x_length(f"see {long_link}") == len("see ") + 23
    assert x_length("see http://x.co") == len("see ") + 23


def test_x_counts_emoji_and_cjk_twice_and_accented_latin_once():
    assert x_length("héllo") == 5
    assert x_length("🎉") == 2
    assert x_length("日本") == 4
    assert x_length("“quoted” — ok") == 13  # typographic punctuation weighs 1 on X


# --- subject_of ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topics", "subject"),
    [
        # the ask of issue 13: the draft must name Python typing, not "this"
        ("Pairing with @friend_z and @friend_y on Python typing", (), "Python typing"),
        ("Anyone know a good way to test Lambda cold starts locally?", (), "Lambda cold starts"),
        ("Just shipped v2 of our #serverless toolkit https://t.co/abc", (), "serverless toolkit"),
        ("What's your favourite way to structure a monorepo?", (), "monorepo"),
        ("What\u2019s the best way to learn Rust?", (), "Rust"),
        # a topic word anchors the phrase: the verb before it and the adverb after it go
        ("Has anyone found a clean way to version lambda configs?", ("lambda",), "lambda configs"),
        ("What's your go-to way to test lambda locally?", ("lambda",), "lambda"),
        ("@ana_builds good question! We split when init code differs a lot.", (), "init code"),
    ],
)
def test_the_subject_is_the_phrase_that_names_what_the_post_is_about(text, topics, subject):
    assert subject_of(text, topics) == subject


def test_a_topic_of_the_person_wins_over_a_more_striking_phrase():
    # Given a post naming a product (a name) and, elsewhere, one of our topics
    text = "Loving the new Graviton chips. Also rethinking our observability stack"
    # When the topics include observability / Then that is the subject, in the post's words
    assert subject_of(text) == "Graviton chips"
    assert subject_of(text, ["observability"]) == "observability stack"


def test_a_post_with_nothing_to_name_has_no_subject():
    assert subject_of("thanks so much!") is None
    assert subject_of("@someone https://t.co/xyz") is None


def test_a_subject_is_at_most_three_words_and_forty_characters():
    subject = subject_of("Kubernetes Helm Terraform Ansible Pulumi Crossplane comparison")
    assert subject is not None
    assert len(subject.split()) <= 3
    assert len(subject) <= 40


# --- best_resource ------------------------------------------------------------------------------------


def test_the_resource_whose_topics_the_question_names_is_picked():
    fit = best_resource("Anyone know a good way to test Lambda cold starts locally?", LIBRARY)
    assert fit is not None
    assert fit.resource is COLD_STARTS


def test_title_words_count_when_no_topic_is_named():
    # Given a question sharing two words with a title, naming none of its topics
    practical = Resource(url="https://example.com/guide", title="Practical guide to code review", topics=())
    fit = best_resource("Is there a practical review checklist you like?", (practical,))
    assert fit is not None
    assert fit.points == 2


def test_no_resource_fits_a_question_on_something_else():
    assert best_resource("How do you structure a monorepo?", LIBRARY) is None
    assert best_resource("Any tips on Lambda?", ()) is None


def test_a_tie_goes_to_the_resource_listed_first():
    # Given two resources that fit a question equally
    first = Resource(url="https://example.com/1", title="One", topics=("python",))
    second = Resource(url="https://example.com/2", title="Two", topics=("python",))
    # When one asks about Python / Then the earlier one in the library is offered
    for library in ((first, second), (second, first)):
        fit = best_resource("Which Python profiler do you use?", library)
        assert fit is not None
        assert fit.resource is library[0]


# --- the drafts ---------------------------------------------------------------------------------------


def test_an_answer_with_a_fitting_resource_carries_its_title_and_url_and_the_subject():
    fit = best_resource("Anyone know a good way to test Lambda cold starts locally?", LIBRARY)
    draft = answer_draft("42", "Lambda cold starts", fit)
    assert COLD_STARTS.url in draft
    assert COLD_STARTS.title in draft
    assert "Lambda cold starts" in draft.replace(COLD_STARTS.title, "")
    assert not draft.rstrip().endswith(":")


def test_an_answer_without_a_resource_never_ends_on_a_dangling_colon():
    for post_id in map(str, range(30)):
        for subject in ("monorepo", None):
            draft = answer_draft(post_id, subject, None)
            assert not draft.rstrip().endswith(":")
            assert "http" not in draft
            if subject:
                assert subject in draft


def test_the_form_is_chosen_by_the_post_id_the_same_every_time_and_varied_across_posts():
    drafts = {ask_draft(str(post_id), "Python typing") for post_id in range(40)}
    assert len(drafts) == len(ASK)  # every form is used
    assert ask_draft("1234", "Python typing") == ask_draft("1234", "Python typing")
    fit = best_resource("Which Python typing checker?", LIBRARY)
    assert len({answer_draft(str(i), "Python typing", fit) for i in range(40)}) == len(ANSWER_WITH_LINK)


def test_an_ask_is_a_question_about_the_subject():
    # A question mark is how Rapport recognises, once posted, that we asked them (step 3)
    for post_id in map(str, range(20)):
        draft = ask_draft(post_id, "Python typing")
        assert "Python typing" in draft
        assert draft.endswith("?")
        assert ask_draft(post_id, None).endswith("?")


def test_a_reply_thanks_them_for_an_answer_or_a_mention_and_names_the_subject():
    answer = reply_draft("7", "cold starts", to_our_question=True)
    mention = reply_draft("7", "cold starts", to_our_question=False)
    assert "cold starts" in answer
    assert "cold starts" in mention
    assert answer != mention
    assert "?" not in answer + mention  # a reply must not pass for our step-3 question


def test_a_reply_in_the_circle_names_the_subject_and_asks_nothing():
    for post_id in map(str, range(10)):
        draft = circle_reply_draft(post_id, "EventBridge Pipes")
        assert "EventBridge Pipes" in draft
        assert "?" not in draft
        assert circle_reply_draft(post_id, None)


def test_a_draft_that_would_not_fit_on_x_falls_back_to_a_shorter_one():
    # Given a resource whose title and subject are as long as allowed, in double-weight characters
    wide = Resource(url="https://example.com/" + "x" * 400, title="漢" * 100, topics=("lambda",))
    fit = best_resource("lambda?", (wide,))
    # When the draft is made / Then it still fits X and keeps the link
    draft = answer_draft("1", "漢" * 40, fit)
    assert x_length(draft) <= MAX_WEIGHTED_CHARS
    assert wide.url in draft


@given(
    text=st.text(min_size=0, max_size=280),
    post_id=st.text(alphabet="0123456789", min_size=1, max_size=19),
)
def test_every_draft_fits_on_x_whatever_the_post(text, post_id):
    subject = subject_of(text, ["python"])
    fit = best_resource(text, LIBRARY)
    for draft in (
        answer_draft(post_id, subject, fit),
        answer_draft(post_id, subject, None),
        ask_draft(post_id, subject),
        reply_draft(post_id, subject, to_our_question=True),
        reply_draft(post_id, subject, to_our_question=False),
        circle_reply_draft(post_id, subject),
    ):
        assert 0 < x_length(draft) <= MAX_WEIGHTED_CHARS
