"""The two text detectors: "the target asks their network something" and "the target thanks us"."""

from __future__ import annotations

import pytest

from rapport.domain.detectors import Detection, detect
from rapport.domain.detectors.questions import is_question, is_question_by_rules
from rapport.domain.detectors.thanks import is_thanks

ME = "ana_builds"


# --- is_question -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Anyone know a good way to trace Lambda init time?",
        "What's your favourite Postgres host for side projects?",
        "Should I put the API behind CloudFront or use the regional endpoint?",
        "Hey folks, how do you keep a changelog from drifting out of date?",
        "Trying to pick between SQS and EventBridge for fan-out. Thoughts?",
        "Quick question for the infra folks: do you pin base images by digest?",
        "@mia_writes do you have the link to that essay on docs?",
        "RT @bob: Anyone know a good dentist in Lisbon?",
        "Any idea why my build fails? https://example.com/gist",
    ],
)
def test_given_a_question_to_the_network_when_detected_then_it_is_a_question(text):
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Looking for recommendations for a Postgres host",
        "Looking for a good book on distributed systems",
        "Any recommendations for a lightweight feature flag library",
        "Can someone point me to a decent guide on DynamoDB single-table design",
        "Does anyone have a template for a lightweight design doc",
        "I'd love to hear how you structure your weekly review",
        "Need some help with a weird CORS error",
        "Recommend me a sci-fi novel with competent engineers in it",
    ],
)
def test_given_a_request_without_a_question_mark_when_detected_then_it_is_a_question(text):
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Who else is tired of Mondays?!",
        "Isn't it amazing?",
        "Why do I even bother?",
        "Am I the only one who reads changelogs for fun?",
        "What could possibly go wrong with deploying on a Friday?",
        "Are you kidding me? The build passed on the first try",
        "Guess what? We shipped.",
        "Coffee? Yes. More coffee? Also yes.",
        "She's brilliant at this, isn't she?",
        "How on earth is it already December?!",
    ],
)
def test_given_a_rhetorical_question_when_detected_then_it_is_not_a_question(text):
    assert not is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Why does nobody talk about how bad YAML is?",
        "Why is no one talking about the cost of NAT gateways?",
        "Why is it so hard to write a good changelog?",
        "Who thought this was a good idea? https://example.com/screenshot",
        "When will people learn to pin their dependencies?",
        "How is this still a thing in 2026?",
    ],
)
def test_given_a_complaint_phrased_as_a_question_when_detected_then_the_weights_cannot_make_it_one(text):
    # Given a complaint dressed as a question (the learned weights alone could score its words high)
    # When detected / Then it stays out: the author is not asking their network anything
    assert not is_question(text)
    assert not is_question_by_rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Why does nobody reply to my PR? Any maintainers of httpx around here who could take a look?",
        "@mia_writes it's a prequel, right?",
    ],
)
def test_given_a_real_ask_beside_a_complaint_or_a_tag_put_to_someone_when_detected_then_it_is_a_question(
    text,
):
    # Given a post that asks something besides its rhetorical part, or confirms a fact with the person
    # replied to / When detected / Then it is a question (the rhetorical veto covers only pure cases)
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Is AI overhyped? https://example.com/ai-hype",
        "Why Do Startups Fail At Pricing? https://example.com/pricing",
        "What Comes After Kubernetes - The New Stack https://example.com/k8s",
        "Are we measuring developer productivity wrong? https://example.com/dp via @techmag",
        "How to Reduce Cold Starts in AWS Lambda https://example.com/cold",
        "Ever wondered why your Lambda is slow? Here's the answer https://example.com/why",
    ],
)
def test_given_a_shared_link_whose_title_is_a_question_when_detected_then_it_is_not_a_question(text):
    assert not is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        '"Is the cloud too expensive?" asks the new report https://example.com/cost',
        "What sane person could live in this world and not be crazy? ~ Some Author #quote",
        "Just shipped v2.0 of the CLI, changelog here https://example.com/changelog",
        "We're hiring! Looking for a senior platform engineer https://example.com/jobs",
        "Join us Thursday for the Python meetup, pizza provided",
        "As with many (most? all?) engineers, I started with BASIC",
        "",
        "   ",
    ],
)
def test_given_quotes_statements_and_announcements_when_detected_then_they_are_not_questions(text):
    assert not is_question(text)


# --- is_thanks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@ana_builds thanks for sharing!",
        "ty @ana_builds",
        "@ana_builds cheers for the RT",
        "@ana_builds appreciate it!",
        "@ana_builds much obliged",
        "@ana_builds thx",
        "@ana_builds 🙏",
        "@ana_builds grateful for the retweet",
        "@ana_builds tysm!!",
        "@ana_builds merci beaucoup",
        "@ana_builds I can't thank you enough",
        "Thanks to you @ana_builds the repo got 200 stars",
        "Big thanks to @ana_builds for amplifying the launch",
        "@ana_builds @marco_dev thank you both!",
        "@ana_builds thanks @marco_dev and @ana_builds, what a team",
        "@ana_builds h/t for the link",
    ],
)
def test_given_gratitude_to_us_when_detected_then_it_is_a_thanks(text):
    assert is_thanks(text, ME)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks to @bob_ships for the great talk today! cc @ana_builds",
        "@ana_builds Thanks @bob_ships!",
        "@ana_builds @sam_infra thanks Sam, exactly what I needed",
        "@bob thanks! cc @ana_builds",
        "@ana_builds h/t @rust_jen who found this first",
        "@ana_builds grateful to my team for pulling this off",
        "@ana_builds thanks to the rain our hike got cancelled",
    ],
)
def test_given_gratitude_to_someone_else_when_detected_then_it_is_not_a_thanks_to_us(text):
    assert not is_thanks(text, ME)


@pytest.mark.parametrize(
    "text",
    [
        "@ana_builds no thanks, I'll stick with cron",
        "@ana_builds thanks for nothing",
        "@ana_builds thanks but no thanks",
        "@ana_builds thanks but I'll pass",
        "@ana_builds happy thanksgiving!",
        "@ana_builds anyone have the slides? thanks in advance",
        "@ana_builds did you thank them?",
        "@ana_builds should I thank them?",
        "@ana_builds thanks a lot for breaking my build 🙄",
        "@ana_builds thank god the outage is over",
        "@ana_builds you're welcome!",
        "@ana_builds I appreciate the irony",
        "@ana_builds praying for everyone affected 🙏",
        "@ana_builds cheers to the weekend",
        "@ana_builds what stack do you use?",
    ],
)
def test_given_negated_sarcastic_or_non_gratitude_forms_when_detected_then_it_is_not_a_thanks(text):
    assert not is_thanks(text, ME)


def test_given_a_bare_thanks_in_a_reply_when_me_is_written_with_at_or_capitals_then_it_still_matches():
    # Given our handle as the caller may pass it / When checked / Then the spelling does not matter
    assert is_thanks("Thanks @Ana_Builds!", "@ana_builds")
    assert not is_thanks("Thanks @bob!", "ANA_BUILDS")


def test_given_no_me_username_when_the_thanks_names_a_handle_then_it_is_taken_as_a_thanks():
    # Given no identity to compare with / When a handle is thanked / Then we cannot rule it out
    assert is_thanks("thanks @bob for the RT", None)
    assert not is_thanks("no thanks @bob", None)


def test_given_a_post_when_detect_is_called_then_both_verdicts_are_returned():
    assert detect("@ana_builds thanks! do you know if it works on ARM?", ME) == Detection(True, True)


# --- speed and robustness ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "?" * 5000,
        "thanks " * 2000,
        "@a " * 3000 + "thanks",
        "'" + "a " * 5000,
        "why do you " * 500 + "?",
    ],
)
def test_given_a_pathological_post_when_detected_then_it_returns_quickly(text):
    # Given an adversarial input / When both detectors run / Then they stay linear (no catastrophic
    # backtracking): generous bound so that slow CI machines do not flake.
    import time

    start = time.perf_counter()
    is_question(text)
    is_thanks(text, ME)
    assert time.perf_counter() - start < 1.0
