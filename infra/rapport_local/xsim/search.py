"""Recent search's query language (``GET /2/tweets/search/recent``): parsed as X parses it, then matched.

Supported, as X's docs describe them: keywords, ``"exact phrases"``, ``#hashtag``, ``@mention``,
``from:``, ``to:``, ``retweets_of:``, ``conversation_id:``, ``is:reply``, ``is:retweet``, ``is:quote``,
``has:links``, ``has:mentions``, ``has:hashtags``, ``has:media``, ``has:images``, ``lang:``; ``-`` negates
a clause or a group, a space is AND, ``OR`` is evaluated after AND (``a OR b c`` is ``a OR (b c)``),
parentheses group. Any other ``name:value`` operator is refused, as X refuses it. ``is:``, ``has:`` and
``lang:`` cannot stand alone: a query needs at least one positive clause of another kind. Keywords and
phrases match words, as X splits a post into words at punctuation: one of punctuation alone (``?``,
``"?"``) matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapport_local.xsim.records import SimPost

MAX_QUERY_LENGTH = 512  # self-serve recent search (README)
STANDALONE = frozenset({"from", "to", "retweets_of", "conversation_id"})
FLAGS: dict[str, frozenset[str]] = {
    "is": frozenset({"reply", "retweet", "quote"}),
    "has": frozenset({"links", "mentions", "hashtags", "media", "images"}),
}
_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<phrase>-?"[^"]*")|(?P<word>[^\s()"]+))')
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query X would refuse; the message is X's, with the 1-based position of the fault."""


@dataclass(frozen=True, slots=True)
class Clause:
    kind: str  # "keyword", "phrase", "hashtag", "mention", or an operator name ("from", "is", ...)
    value: str
    negated: bool = False

    @property
    def standalone(self) -> bool:
        return self.kind in STANDALONE or self.kind in ("keyword", "phrase", "hashtag", "mention")


@dataclass(frozen=True, slots=True)
class Group:
    any_of: bool  # True: OR of the parts, False: AND
    parts: tuple[Node, ...]
    negated: bool = False


Node = Clause | Group


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "open", "close", "or", "clause"
    text: str
    position: int  # 1-based, as X reports it


class Matcher:
    """How a parsed query sees a post: the world's lookups it needs (user ids by handle, a post's author)."""

    def __init__(self, user_id: Callable[[str], str | None], author_of: Callable[[str], str | None]) -> None:
        self.user_id = user_id
        self.author_of = author_of

    def matches(self, node: Node, post: SimPost) -> bool:
        if isinstance(node, Clause):
            found = self._clause(node, post)
        elif node.any_of:
            found = any(self.matches(part, post) for part in node.parts)
        else:
            found = all(self.matches(part, post) for part in node.parts)
        return found != node.negated

    def _clause(self, clause: Clause, post: SimPost) -> bool:
        value = clause.value.lower()
        kind = clause.kind
        if kind in ("keyword", "phrase") and not _words(value):
            return False  # X splits a post into words at punctuation: "?" alone is never among them
        if kind == "keyword":
            return _runs_of(_words(value), _words(post.text))
        if kind in ("phrase", "hashtag"):
            return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", post.text.lower()) is not None
        if kind == "mention":
            return any(m.username.lower() == value.lstrip("@") for m in post.mentions)
        if kind == "from":
            return post.author_id == self._user(value)
        if kind == "to":
            return post.in_reply_to_user_id is not None and post.in_reply_to_user_id == self._user(value)
        if kind == "retweets_of":
            return post.retweet_of is not None and self.author_of(post.retweet_of) == self._user(value)
        if kind == "conversation_id":
            return post.conversation_id == value
        if kind == "lang":
            return post.lang == value
        return self._flag(kind, value, post)

    def _flag(self, kind: str, value: str, post: SimPost) -> bool:
        flags = {
            ("is", "reply"): post.is_reply,
            ("is", "retweet"): post.retweet_of is not None,
            ("is", "quote"): post.quote_of is not None,
            ("has", "links"): bool(post.links),
            ("has", "mentions"): bool(post.mentions),
            ("has", "hashtags"): re.search(r"(?<!\w)#\w", post.text) is not None,
        }
        return flags.get((kind, value), False)  # has:media / has:images: the simulator has no media

    def _user(self, handle_or_id: str) -> str | None:
        return _user_id(handle_or_id, self.user_id)


def _user_id(handle_or_id: str, user_id: Callable[[str], str | None]) -> str | None:
    """An operator's user: X takes an id or a handle."""
    return handle_or_id if handle_or_id.isdigit() else user_id(handle_or_id)


def parse_search(query: str) -> Node:
    """The query as a tree, or ``QueryError`` with X's message for what it refuses."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"There were errors processing your request: Query length {len(query)} exceeds the maximum "
            f"of {MAX_QUERY_LENGTH} characters"
        )
    tokens = _tokens(query)
    parser = _Parser(tokens)
    node = parser.any_of()
    if parser.index < len(tokens):  # a ")" with no "(" before it
        raise _error("Unexpected ')'", tokens[parser.index].position)
    if not _has_positive_standalone(node, negated=False):
        raise _error(
            "Rules must contain at least one positive, non-stand-alone operator: is:, has: and lang: "
            "need a keyword, a phrase, #, @, from:, to:, retweets_of: or conversation_id: beside them",
            1,
        )
    return node


def authors_of(node: Node, user_id: Callable[[str], str | None]) -> set[str] | None:
    """The only authors a match can have (a ``from:`` that every match needs), None if any author can.

    Lets the server read a few timelines instead of every post of the last seven days.
    """
    if node.negated:
        return None
    if isinstance(node, Clause):
        if node.kind != "from":
            return None
        found = _user_id(node.value, user_id)
        return {found} if found else set()
    restricted = [authors_of(part, user_id) for part in node.parts]
    if node.any_of:
        if any(r is None for r in restricted):
            return None
        return set().union(*(r for r in restricted if r is not None))
    narrowing = [r for r in restricted if r is not None]
    return set.intersection(*narrowing) if narrowing else None


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def any_of(self) -> Node:
        parts = [self.all_of()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.index += 1
            if self.peek() is None or self.peek().kind in ("or", "close"):  # type: ignore[union-attr]
                raise _error("Ambiguous use of or", token.position)
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else Group(True, tuple(parts))

    def all_of(self) -> Node:
        parts: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in ("or", "close"):
            parts.append(self.unary())
        if not parts:
            token = self.peek()
            raise _error("Empty clause", token.position if token else len(self.tokens) + 1)
        return parts[0] if len(parts) == 1 else Group(False, tuple(parts))

    def unary(self) -> Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "open" or token.text == "-(":
            inner = self.any_of()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise _error("Missing ')'", token.position)
            self.index += 1
            if token.text != "-(":
                return inner
            if isinstance(inner, Group):
                return Group(inner.any_of, inner.parts, negated=not inner.negated)
            return Clause(inner.kind, inner.value, not inner.negated)
        return _clause(token)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _runs_of(wanted: list[str], words: list[str]) -> bool:
    """``wanted`` appears in ``words`` as a run of consecutive words (a keyword like "don't" is two)."""
    size = len(wanted)
    return size > 0 and any(words[i : i + size] == wanted for i in range(len(words) - size + 1))


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while at < len(query):
        found = _TOKEN.match(query, at)
        if found is None or found.end() == at:
            if query[at:].strip():
                raise _error(f"Unexpected character '{query[at]}'", at + 1)
            break
        kind = found.lastgroup or "word"
        text = found.group(kind)
        position = found.start(kind) + 1
        at = found.end()
        if kind == "word" and text == "-" and at < len(query) and query[at] == "(":
            tokens.append(_Token("open", "-(", position))
            at += 1
        elif kind == "word" and text == "OR":
            tokens.append(_Token("or", text, position))
        elif kind in ("open", "close"):
            tokens.append(_Token(kind, text, position))
        else:
            tokens.append(_Token("clause", text, position))
    if not tokens:
        raise _error("Empty query", 1)
    return tokens


def _clause(token: _Token) -> Clause:
    if token.kind == "close":
        raise _error("Unexpected ')'", token.position)
    text, negated = token.text, False
    if text.startswith("-") and len(text) > 1:
        text, negated = text[1:], True
    if text.startswith('"'):
        phrase = text.strip('"')
        if not phrase.strip():
            raise _error("Empty phrase", token.position)
        return Clause("phrase", phrase, negated)
    if text.startswith("#") and len(text) > 1:
        return Clause("hashtag", text, negated)
    if text.startswith("@") and len(text) > 1:
        return Clause("mention", text[1:], negated)
    name, colon, value = text.partition(":")
    if colon and re.fullmatch(r"[a-z_]+", name):
        if name in FLAGS:
            if value not in FLAGS[name]:
                raise _invalid_operator(text, token.position)
            return Clause(name, value, negated)
        if name in STANDALONE or name == "lang":
            if not value:
                raise _invalid_operator(text, token.position)
            return Clause(name, value, negated)
        raise _invalid_operator(f"{name}:", token.position)
    return Clause("keyword", text, negated)


def _has_positive_standalone(node: Node, *, negated: bool) -> bool:
    negated = negated != node.negated
    if isinstance(node, Clause):
        return node.standalone and not negated
    return any(_has_positive_standalone(part, negated=negated) for part in node.parts)


def _invalid_operator(operator: str, position: int) -> QueryError:
    return _error(
        f"Reference to invalid operator '{operator}'. Operator is not available in current product or "
        "product packaging. Please refer to complete available operator list at "
        "https://developer.x.com/en/docs/twitter-api/tweets/search/integrate/build-a-query",
        position,
    )


def _error(what: str, position: int) -> QueryError:
    return QueryError(f"There were errors processing your request: {what} (at position {position})")
