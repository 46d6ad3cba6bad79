"""Drafts: the words a reply-type suggestion pre-fills, about what the post is about.

Pure rules and templates, no external service. A draft names the subject of the post (a topic the
person or the target cares about, else the most telling phrase of the post), takes one of a few
forms chosen by the post id (so the same post always gets the same draft, and a run of posts gets
varied ones), and fits X's 280 weighted characters. An answer draft points to the person's own
resource that best fits the question. Rapport never sends a draft: it only pre-fills a Web Intent.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapport.domain.policy import Resource

__all__ = [
    "MAX_WEIGHTED_CHARS",
    "ResourceFit",
    "answer_draft",
    "ask_draft",
    "best_resource",
    "circle_reply_draft",
    "reply_draft",
    "subject_of",
    "x_length",
]

MAX_WEIGHTED_CHARS = 280  # X's limit, in weighted characters
URL_WEIGHT = 23  # X counts every link as a t.co link, whatever its length
MAX_SUBJECT_WORDS = 3
MAX_SUBJECT_CHARS = 40

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_WORD = re.compile(r"#?[^\W_][\w'\u2019+.-]*")
# What splits a post into runs of words that could name its subject.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"\u201c\u201d\u00ab\u00bb|/\u2026\u2014\u2013]+|\s-\s")

# Words that never name a subject: function words, fillers, and the verbs of asking and thinking.
_STOPWORD_TEXT = """
    a about above actually advice after again against all almost also am an and any anybody anyone
    anything are aren't around as ask asking at awesome bad be because been before being below best
    better between both but by can can't could couldn't did didn't do does doesn't doing don't down
    during each easy either else even ever every everyone favorite favourite few for from get gets
    getting go going good got great had hard has hasn't have haven't having he her here hers him his
    how i i'd i'll i'm i've if in into is isn't it it's its just know knows let let's like lot lots
    made make makes many may me might mine more most much must my need needs new no nobody not now
    of off often on once one only or other our ours out over own people please pretty quick quite
    rather really recommend recommendations right same say see seems she should so some someone
    something still such sure take talk tell than thank thanks that that's the their theirs them
    then there these they they're thing things think this those though through to today too try
    trying up us use used using very want wants was way ways we we're well were what what's when
    where which while who why will with without won't worst would wouldn't yes yet you you'd you're
    your yours
"""
# Verbs that often sit inside a phrase of content words ("when init code differs"), but only those
# that are rarely the name of a subject themselves ("build" or "test" stay), ordinals and times.
_VERB_TEXT = """
    differ differs differed split splits shipped wrote written writes learned learnt taught found
    stuck tried first last next
    day days week weeks month months year years tonight tomorrow yesterday morning
    moved halved doubled cut cuts decided decide decides helped helps works worked
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split()) | frozenset(_VERB_TEXT.split())


def x_length(text: str) -> int:
    """Length as X counts it: a link is 23, most Latin text 1 per character, the rest (CJK, emoji) 2."""
    normal = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(normal):
        total += _weighted(normal[position : match.start()]) + URL_WEIGHT
        position = match.end()
    return total + _weighted(normal[position:])


def _weighted(text: str) -> int:
    # The ranges X weighs 1 (twitter-text's default configuration); everything else weighs 2.
    return sum(
        1
        if (
            ord(c) <= 0x10FF
            or 0x2000 <= ord(c) <= 0x200D
            or 0x2010 <= ord(c) <= 0x201F
            or 0x2032 <= ord(c) <= 0x2037
        )
        else 2
        for c in text
    )


# --- the subject of a post --------------------------------------------------------------------------


def _plain(text: str) -> str:
    return _MENTION.sub(" ", _URL.sub(" ", text)).replace("\u2019", "'")


def _words(text: str) -> list[str]:
    return [w.strip(".'\u2019-") for w in _WORD.findall(text)]


def _key(word: str) -> str:
    """A word as compared: lower case, no '#', no plural 's'."""
    w = word.lstrip("#").lower()
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


_SENTENCE = re.compile(r"[.!?\n]+(?:\s|$)")


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    opens_sentence: bool  # a capital there says nothing


def _runs(text: str) -> list[list[_Word]]:
    """Runs of consecutive content words, split at punctuation and at words that name nothing."""
    runs: list[list[_Word]] = []
    for sentence in _SENTENCE.split(_plain(text)):
        first = True
        for chunk in _BREAK.split(sentence):
            run: list[_Word] = []
            for word in _words(chunk):
                opens, first = first, False
                if not word or _names_nothing(word):
                    if run:
                        runs.append(run)
                    run = []
                else:
                    run.append(_Word(word, opens))
            if run:
                runs.append(run)
    return runs


def _names_nothing(word: str) -> bool:
    lower = word.lstrip("#").lower()
    # Adverbs ("locally", "really") qualify a phrase but never name its subject.
    return lower in _STOPWORDS or lower == "rt" or (len(lower) > 5 and lower.endswith("lly"))


def _telling(word: _Word) -> int:
    """How much a word says about a subject: a hashtag, a name or an acronym, a number in a word."""
    bare = word.text.lstrip("#")
    score = 0
    if word.text.startswith("#"):
        score += 3
    if (bare[:1].isupper() and not word.opens_sentence) or (len(bare) > 1 and bare.isupper()):
        score += 2
    if any(c.isdigit() for c in bare) and any(c.isalpha() for c in bare):
        score += 1
    return score


def subject_of(text: str, topics: Iterable[str] = ()) -> str | None:
    """The topic or phrase a post is about, in the post's own words; None when nothing names it.

    A phrase holding one of ``topics`` (the person's or the target's) wins; else the phrase with the
    most telling words (hashtags, names, acronyms), then the longest, then the latest (what a
    question asks about tends to come last: "how do you structure a monorepo?"). A phrase
    is at most three words, its last words kept: in English the head of a noun phrase comes last.
    """
    topic_keys = [tuple(_key(w) for w in t.split()) for t in topics if t.strip()]
    best: tuple[tuple[int, int, int, int], list[_Word]] | None = None
    for position, run in enumerate(_runs(text)):
        for window in _windows(run):
            keys = [_key(w.text) for w in window]
            on_topic = sum(1 for t in topic_keys if _contains(keys, t))
            telling = sum(_telling(w) for w in window)
            if not on_topic and not telling and len(window) == 1 and len(window[0].text) < 4:
                continue  # a short common word alone names nothing
            score = (on_topic, telling, len(window), position)
            if best is None or score > best[0]:
                best = (score, window)
    if best is None:
        return None
    phrase = " ".join(w.text.lstrip("#") for w in _from_first_name(best[1], topic_keys))
    return phrase if len(phrase) <= MAX_SUBJECT_CHARS else phrase[:MAX_SUBJECT_CHARS].rsplit(" ", 1)[0]


def _from_first_name(window: list[_Word], topic_keys: Sequence[tuple[str, ...]]) -> list[_Word]:
    """The phrase from its first telling word or topic word: "learn Rust" names Rust, "test Lambda
    cold starts" names Lambda cold starts, "version lambda configs" (topic lambda) lambda configs."""
    topic_words = {k for t in topic_keys for k in t}

    def anchor(word: _Word) -> bool:
        return _telling(word) > 0 or _key(word.text) in topic_words

    while len(window) > 1 and not anchor(window[0]) and any(anchor(w) for w in window[1:]):
        window = window[1:]
    return window


def _windows(run: list[_Word]) -> list[list[_Word]]:
    """The run itself when short, else its three-word windows, the last first (phrase heads come last)."""
    if len(run) <= MAX_SUBJECT_WORDS:
        return [run]
    size = MAX_SUBJECT_WORDS
    return [run[i : i + size] for i in range(len(run) - size, -1, -1)]


def _contains(keys: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(tuple(keys[i : i + n]) == phrase for i in range(len(keys) - n + 1))


# --- the person's resource that fits a question -------------------------------------------------------

TOPIC_POINTS = 3  # a resource's topic named in the question
TITLE_WORD_POINTS = 1  # a word of its title in the question
FITS_FROM = 2  # fewer points: nothing in the library fits; better no link than a wrong one


@dataclass(frozen=True, slots=True)
class ResourceFit:
    resource: Resource
    points: int


def best_resource(question: str, library: Sequence[Resource]) -> ResourceFit | None:
    """The resource that best fits the question, or None when none fits well enough.

    Points: 3 for each of its topics the question names, 1 for each word of its title the question
    uses. Ties go to the resource listed first, so the person orders their library by preference.
    """
    keys = [_key(w) for w in _words(_plain(question))]
    content = {k for k in keys if k not in _STOPWORDS}
    best: ResourceFit | None = None
    for resource in library:
        topic_points = sum(
            TOPIC_POINTS for t in resource.topics if _contains(keys, tuple(_key(w) for w in t.split()))
        )
        title_words = {_key(w) for w in _words(resource.title)} - _STOPWORDS
        points = topic_points + TITLE_WORD_POINTS * len(title_words & content)
        if points >= FITS_FROM and (best is None or points > best.points):
            best = ResourceFit(resource, points)
    return best


# --- the drafts ---------------------------------------------------------------------------------------


def _pick(post_id: str, forms: Sequence[str]) -> int:
    """A form chosen by the post id: stable across runs and machines (not Python's salted hash)."""
    return zlib.crc32(post_id.encode("utf-8")) % len(forms)


def _fill(post_id: str, forms: Sequence[str], fallback: str, **values: str) -> str:
    """The chosen form filled in; the next forms, then ``fallback``, when it would not fit on X."""
    start = _pick(post_id, forms)
    for offset in range(len(forms)):
        text = forms[(start + offset) % len(forms)].format(**values)
        if x_length(text) <= MAX_WEIGHTED_CHARS:
            return text
    return fallback


def _fill_about(post_id: str, forms: Sequence[str], plain: Sequence[str], subject: str | None) -> str:
    """A form naming ``subject``, else a ``plain`` form; the first plain one if none fit."""
    if subject:
        return _fill(post_id, forms, plain[0], subject=subject)
    return _fill(post_id, plain, plain[0])


ANSWER_WITH_LINK = (
    "This helped me with {subject}: {title} {url}",
    "For {subject}, this is the best write-up I know: {title} {url}",
    "{title} covers {subject} well: {url}",
)
ANSWER_WITH_LINK_NO_SUBJECT = (
    "This helped me with exactly that: {title} {url}",
    "This might help: {title} {url}",
    "The best write-up I know on this: {title} {url}",
)
ANSWER_IN_OWN_WORDS = (
    "Ran into {subject} myself. Happy to share what worked for me.",
    "Good question on {subject}. Glad to compare notes on what worked for me.",
    "I've been through {subject} too, and happy to share what I learned.",
)
ANSWER_IN_OWN_WORDS_NO_SUBJECT = (
    "Ran into this myself. Happy to share what worked for me.",
    "Good question. Glad to compare notes on what worked for me.",
)
# Asks end in a question mark: that is how Rapport recognises, once posted, that we asked them.
ASK = (
    "Curious: how do you approach {subject} in practice?",
    "What's the one thing you'd tell someone getting started with {subject}?",
    "What's the hardest part of {subject} that nobody talks about?",
    "How did your view on {subject} change over time?",
)
ASK_NO_SUBJECT = (
    "Curious: how would you approach this in practice?",
    "What's the one thing you'd tell someone getting started with this?",
)
REPLY_TO_MENTION = (
    "Thanks for the mention! Always glad to talk {subject}.",
    "Thanks for bringing me into this, {subject} is close to my heart.",
    "Thanks for thinking of me on {subject}.",
)
REPLY_TO_MENTION_NO_SUBJECT = (
    "Thanks for the mention!",
    "Thanks for bringing me into this.",
)
REPLY_TO_ANSWER = (
    "Thank you, that's really useful on {subject}.",
    "Really appreciate the answer on {subject}, thanks!",
    "That helps a lot with {subject}. Thank you for taking the time.",
)
REPLY_TO_ANSWER_NO_SUBJECT = (
    "Thank you, that's really useful.",
    "Really appreciate the answer, thanks!",
)
# A reply to someone of a target's circle, in a conversation the target may see.
CIRCLE_REPLY = (
    "Great point on {subject}, thanks for sharing.",
    "This matches what I've seen with {subject}.",
    "Useful take on {subject}, saving this one.",
)
CIRCLE_REPLY_NO_SUBJECT = (
    "Great point, thanks for sharing.",
    "This matches what I've seen too.",
)


def answer_draft(post_id: str, subject: str | None, fit: ResourceFit | None) -> str:
    """A reply to their question: the fitting resource when there is one, else an offer in own words."""
    if fit is not None:
        values = {"title": fit.resource.title, "url": fit.resource.url}
        fallback = f"This might help: {fit.resource.url}"
        if subject:
            return _fill(post_id, ANSWER_WITH_LINK, fallback, subject=subject, **values)
        return _fill(post_id, ANSWER_WITH_LINK_NO_SUBJECT, fallback, **values)
    return _fill_about(post_id, ANSWER_IN_OWN_WORDS, ANSWER_IN_OWN_WORDS_NO_SUBJECT, subject)


def ask_draft(post_id: str, subject: str | None) -> str:
    """The step-3 question, on what their post is about."""
    return _fill_about(post_id, ASK, ASK_NO_SUBJECT, subject)


def reply_draft(post_id: str, subject: str | None, *, to_our_question: bool) -> str:
    """A reply to someone who spoke to us first: a thanks for an answer, or for a mention."""
    if to_our_question:
        return _fill_about(post_id, REPLY_TO_ANSWER, REPLY_TO_ANSWER_NO_SUBJECT, subject)
    return _fill_about(post_id, REPLY_TO_MENTION, REPLY_TO_MENTION_NO_SUBJECT, subject)


def circle_reply_draft(post_id: str, subject: str | None) -> str:
    """A reply to a post of someone in a target's circle: a short, genuine acknowledgement."""
    return _fill_about(post_id, CIRCLE_REPLY, CIRCLE_REPLY_NO_SUBJECT, subject)
