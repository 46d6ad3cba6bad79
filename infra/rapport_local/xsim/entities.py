"""Post text as X serves it: links wrapped in t.co, mention and URL entities with their offsets.

X counts Tweet text in Unicode code points of the NFC-normalised text ("Counting characters" in X's
docs), and entity ``start``/``end`` are zero-based code-point offsets, start inclusive, end exclusive
(``EntityIndicesInclusiveExclusive`` in the OpenAPI description). A Python ``str`` indexes code points, so
offsets here are plain ``str`` indices of the NFC text: an emoji outside the BMP counts 1 (not 2 as in
UTF-16), a flag or ZWJ sequence counts one per code point.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# A URL runs to the next whitespace; trailing sentence punctuation is not part of it (as on X).
_URL = r"https?://[^\s<>\"]+"
# A mention is @ and 1-15 handle characters, not preceded by a handle character (e-mail addresses).
_MENTION = r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])"
_TOKEN = re.compile(f"(?P<url>{_URL})|(?P<mention>{_MENTION})")
_TRAILING = ".,;:!?'\"…"
_TCO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DISPLAY_MAX = 26  # X shortens long display_url values with an ellipsis
RETWEET_CUT = 140  # a retweet's text is cut to about 140 characters, "…" included (README)
# A post longer than this (X Premium allows 25,000) is served with ``text`` cut short; the whole post
# is under ``note_tweet``, for a client that asks for it ("note_tweet" in the OpenAPI description:
# "The full-content of the Tweet, including text beyond 280 characters").
LONG_POST = 280
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPED = re.compile("[&<>]")
# Scripts X tags by themselves; text in Latin letters is tagged English (the simulator does not guess
# between Latin-script languages), text with no letters at all "und" (X's tag for undetermined).
_SCRIPTS = (
    ("ja", re.compile("[\u3040-\u30ff]")),
    ("ko", re.compile("[\uac00-\ud7af]")),
    ("zh", re.compile("[\u4e00-\u9fff]")),
    ("ru", re.compile("[\u0400-\u04ff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("el", re.compile("[\u0370-\u03ff]")),
    ("he", re.compile("[\u0590-\u05ff]")),
)


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    username: str  # as written in the text
    user_id: str


@dataclass(frozen=True, slots=True)
class Link:
    start: int
    end: int
    url: str  # the t.co link that appears in the text
    expanded_url: str
    display_url: str


@dataclass(frozen=True, slots=True)
class ServedText:
    text: str
    mentions: tuple[Mention, ...]
    links: tuple[Link, ...]


def serve_text(source: str, salt: str, resolve: Callable[[str], str | None]) -> ServedText:
    """Turn a scenario text into X's text and entities.

    ``resolve`` maps a handle (any case) to a known user id, or None: only known users become mention
    entities. ``salt`` (the post id) makes the t.co links deterministic and distinct per post.
    """
    source = unicodedata.normalize("NFC", source)
    out: list[str] = []
    length = 0  # code points written so far
    cursor = 0
    mentions: list[Mention] = []
    links: list[Link] = []
    for match in _TOKEN.finditer(source):
        raw = match.group(0)
        if match.group("url"):
            url = _trim_url(raw)
            begin, finish = match.start(), match.start() + len(url)
        else:
            begin, finish = match.start(), match.end()
        chunk = source[cursor:begin]
        out.append(chunk)
        length += len(chunk)
        if match.group("url"):
            tco = _tco(salt, len(links), url)
            links.append(Link(length, length + len(tco), tco, url, _display(url)))
            out.append(tco)
            length += len(tco)
        else:
            handle = raw[1:]
            user_id = resolve(handle)
            if user_id is not None:
                mentions.append(Mention(length, length + len(raw), handle, user_id))
            out.append(raw)
            length += len(raw)
        cursor = finish
    out.append(source[cursor:])
    return ServedText("".join(out), tuple(mentions), tuple(links))


def retweet_text(author_username: str, author_id: str, original: ServedText) -> ServedText:
    """``RT @author: text``, as X shows a retweet, cut to about 140 characters with ``…``.

    The original's entities are shifted; those the cut reaches are left out, as their text is gone (the
    whole original is under ``referenced_tweets``).
    """
    prefix = f"RT @{author_username}: "
    shift = len(prefix)
    text = prefix + original.text
    kept = len(text)
    if kept > RETWEET_CUT:
        kept = RETWEET_CUT - 1
        text = text[:kept] + "…"
    head = Mention(3, 4 + len(author_username), author_username, author_id)
    mentions = (
        head,
        *(
            Mention(m.start + shift, m.end + shift, m.username, m.user_id)
            for m in original.mentions
            if m.end + shift <= kept
        ),
    )
    links = tuple(
        Link(k.start + shift, k.end + shift, k.url, k.expanded_url, k.display_url)
        for k in original.links
        if k.end + shift <= kept
    )
    return ServedText(text, mentions, links)


def long_post_head(served: ServedText) -> ServedText:
    """The ``text`` X serves for a post over ``LONG_POST`` characters: cut at the last space within
    them, with no ellipsis (as reported of X in xdevplatform/samples#202), keeping the entities the
    cut leaves whole. The whole post is served under ``note_tweet``."""
    if len(served.text) <= LONG_POST:
        return served
    space = served.text.rfind(" ", 0, LONG_POST + 1)
    kept = space if space > 0 else LONG_POST
    return ServedText(
        served.text[:kept],
        tuple(m for m in served.mentions if m.end <= kept),
        tuple(k for k in served.links if k.end <= kept),
    )


def escape_text(text: str) -> str:
    """Post text as X's API serves it: ``&``, ``<`` and ``>`` HTML-escaped, nothing else.

    Entity offsets still count code points of the text before escaping (the text a person wrote).
    """
    return _ESCAPED.sub(lambda found: _ESCAPES[found.group(0)], text)


def guess_lang(served: ServedText) -> str:
    """The BCP47 tag X puts on a post: by script, ``en`` for Latin letters, ``und`` with no words."""
    words = served.text
    spans = [(m.start, m.end) for m in served.mentions] + [(k.start, k.end) for k in served.links]
    for start, end in sorted(spans, reverse=True):
        words = words[:start] + words[end:]
    for tag, script in _SCRIPTS:
        if script.search(words):
            return tag
    return "en" if re.search("[A-Za-z]", words) else "und"


def _trim_url(url: str) -> str:
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _tco(salt: str, index: int, url: str) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{salt}:{index}:{url}".encode()).digest()[:8], "big")
    code = []
    for _ in range(10):
        digest, rest = divmod(digest, len(_TCO_ALPHABET))
        code.append(_TCO_ALPHABET[rest])
    return "https://t.co/" + "".join(code)


def _display(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url)
    return shown if len(shown) <= _DISPLAY_MAX else shown[: _DISPLAY_MAX - 1] + "…"
