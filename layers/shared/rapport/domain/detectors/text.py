"""Text cleaning and the regexes both detectors share: links, retweet prefixes, mentions, spaces."""

from __future__ import annotations

import html
import re

__all__ = [
    "HASHTAG_RE",
    "LEADING_MENTIONS_RE",
    "MENTION_RE",
    "RT_PREFIX_RE",
    "SPACES_RE",
    "URL_RE",
    "clean",
    "wordset",
]


def wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


URL_RE = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
# Truncated links at the end of retweets ("https://t.co/ab\u2026", "http://t.co/3", "https:").
_TRUNCATED_URL_RE = re.compile(r"\bhttps?:?/{0,2}\S*$", re.IGNORECASE)
RT_PREFIX_RE = re.compile(r"^\s*RT\s+@\w+\s*:?\s*", re.IGNORECASE)
# "So sad. RT @bob: ..." quotes another post inline.
_INLINE_RT_RE = re.compile(r"\bRT\s*\"?@\w+\s*:?", re.IGNORECASE)
LEADING_MENTIONS_RE = re.compile(r"^(?:\s*\.?@\w+[,:]?)+\s*")
# Hashtags and mentions before the first word ("#GifHistory Where is this from?") are labels.
_LEADING_TAGS_RE = re.compile(r"^(?:\s*[#@]\w+[,:]?)+\s+(?=\S)")
MENTION_RE = re.compile(r"@(\w{1,30})")
HASHTAG_RE = re.compile(r"#(\w+)")
SPACES_RE = re.compile(r"\s+")


def clean(text: str) -> tuple[str, bool, bool]:
    """Return (body, has_url, is_reply): the text without RT prefix, links and leading mentions."""
    text = html.unescape(text).replace("\\u2026", "\u2026")
    text = RT_PREFIX_RE.sub("", text)
    text = _INLINE_RT_RE.sub(" ", text)
    has_url = bool(URL_RE.search(text))
    text = URL_RE.sub(" ", text)
    text = _TRUNCATED_URL_RE.sub(" ", text)
    tags = _LEADING_TAGS_RE.match(text)
    # Addressed to someone when it opens with a mention (after optional hashtags: "#tag @bob what ...").
    is_reply = tags is not None and "@" in tags.group(0)
    text = LEADING_MENTIONS_RE.sub("", text)
    text = _LEADING_TAGS_RE.sub("", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return SPACES_RE.sub(" ", text).strip(), has_url, is_reply
