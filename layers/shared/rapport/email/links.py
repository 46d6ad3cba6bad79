"""The links of a digest: X Web Intents that prepare an action, and plain profile and post URLs.

Every URL parameter is percent-encoded here, where the URL is built.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from rapport.domain.model import CircleMember, Suggestion, SuggestionKind

__all__ = ["circle_links", "handle", "intent_links", "member_links", "named_links"]

_INTENT = "https://x.com/intent"
_SITE = "https://x.com"

# Kinds whose action is writing a reply to (or a mention of) the target.
_WRITING_KINDS = frozenset({SuggestionKind.ANSWER, SuggestionKind.ASK, SuggestionKind.REPLY})


def handle(username: str) -> str:
    """A username without the '@' people (and some APIs) put in front of it."""
    return username.strip().lstrip("@")


def _query(params: dict[str, str]) -> str:
    # quote (not quote_plus) so spaces become %20 and '/', '&', '#' in drafts are always encoded.
    return urlencode(params, quote_via=quote, safe="")


def _profile_url(username: str) -> str:
    return f"{_SITE}/{quote(handle(username), safe='')}"


def _post_url(username: str, post_id: str) -> str:
    return f"{_SITE}/{quote(handle(username), safe='')}/status/{quote(post_id, safe='')}"


def _follow_url(username: str, user_id: str | None) -> str:
    # By id when known: a screen name can change, an id cannot.
    params = {"user_id": user_id} if user_id else {"screen_name": handle(username)}
    return f"{_INTENT}/follow?{_query(params)}"


# (name, label, url): the name is how summary.json and the tests refer to a link; the label is
# what the email's button says.
_Link = tuple[str, str, str]


def circle_links(m: CircleMember) -> dict[str, str]:
    """One circle member's links by name: reply (and retweet, when the post is theirs) at the post
    where the target talks with them, open that post, then follow them."""
    name = handle(m.username)
    links: dict[str, str] = {}
    if m.post_id is not None:
        author = handle(m.post_author_username or name)
        reply = {"in_reply_to": m.post_id} | ({"text": m.draft} if m.draft else {})
        links["reply"] = f"{_INTENT}/tweet?{_query(reply)}"
        if author.lower() == name.lower():
            links["retweet"] = f"{_INTENT}/retweet?{_query({'tweet_id': m.post_id})}"
        links["open"] = _post_url(author, m.post_id)
    else:
        links["open"] = _profile_url(name)
    links["follow"] = _follow_url(name, m.user_id)
    return links


def member_links(m: CircleMember) -> list[tuple[str, str]]:
    """``circle_links`` as the buttons of the digest: what to do first, the follow last."""
    return [(label, url) for _, label, url in _member_links(m)]


def _member_links(m: CircleMember) -> list[_Link]:
    name = handle(m.username)
    author = handle(m.post_author_username or name)
    theirs = author.lower() == name.lower()
    labels = {
        "reply": f"Reply to @{name}" if theirs else f"Reply where @{author} named @{name}",
        "retweet": f"Retweet @{name}",
        "open": "Open post" if m.post_id is not None else f"Open @{name}'s profile",
        "follow": f"Follow @{name}",
    }
    return [(kind, labels[kind], url) for kind, url in circle_links(m).items()]


def _links(s: Suggestion) -> list[_Link]:
    if s.kind is SuggestionKind.ENGAGE_CIRCLE and s.circle:
        return [link for m in s.circle for link in _member_links(m)]
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:  # made before members carried a post: names only
        links: list[_Link] = []
        for user in s.users:
            name = handle(user)
            links.append(("open", f"Open @{name}'s profile", _profile_url(name)))
            links.append(("follow", f"Follow @{name}", _follow_url(name, None)))
        return links

    target = handle(s.target_username)
    draft = s.draft if s.draft is not None and s.draft.strip() else None
    if s.post_id is None:
        # Nothing to retweet or reply to: a fresh mention is the only way to write to them.
        links = []
        if s.kind in _WRITING_KINDS:
            text = f"@{target} {draft}" if draft else f"@{target} "
            links.append(("post", f"Write to @{target}", f"{_INTENT}/tweet?{_query({'text': text})}"))
        links.append(("open", f"Open @{target}'s profile", _profile_url(target)))
        return links

    author = s.post_author_username or target
    open_post = ("open", "Open post", _post_url(author, s.post_id))
    if s.kind is SuggestionKind.RETWEET:
        return [
            ("retweet", "Retweet", f"{_INTENT}/retweet?{_query({'tweet_id': s.post_id})}"),
            open_post,
            ("follow", f"Follow @{target}", _follow_url(target, s.target_id)),
        ]
    params = {"in_reply_to": s.post_id}
    if draft:
        params["text"] = draft
    return [("reply", "Reply", f"{_INTENT}/tweet?{_query(params)}"), open_post]


def intent_links(s: Suggestion) -> list[tuple[str, str]]:
    """The (label, url) pairs that let the user act on one suggestion by hand.

    Rapport never acts itself: every link opens X with the action prepared, and the user confirms.
    """
    return [(label, url) for _, label, url in _links(s)]


def named_links(s: Suggestion) -> dict[str, str]:
    """The same links by name (``retweet``, ``reply``, ``post``, ``follow``, ``open``).

    A circle suggestion has links per person instead: see ``circle_links``.
    """
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:
        return {}
    return {name: url for name, _, url in _links(s)}
