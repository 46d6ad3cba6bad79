"""The links of a digest: X Web Intents that prepare an action, and plain profile and post URLs.

Every URL parameter is percent-encoded here, where the URL is built.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from rapport.domain.model import CircleMember, Suggestion, SuggestionKind

__all__ = ["circle_links", "handle", "intent_links", "member_links"]

_INTENT = "https://twitter.com/intent"
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


def _follow_url(username: str) -> str:
    return f"{_INTENT}/follow?{_query({'screen_name': handle(username)})}"


def circle_links(m: CircleMember) -> dict[str, str]:
    """One circle member's links by name: reply (and retweet, when the post is theirs) at the post
    where the target talks with them, open that post, then follow them."""
    name = handle(m.username)
    links: dict[str, str] = {}
    if m.post_id is not None:
        author = handle(m.post_author_username or name)
        links["reply"] = f"{_INTENT}/tweet?{_query({'in_reply_to': m.post_id})}"
        if author.lower() == name.lower():
            links["retweet"] = f"{_INTENT}/retweet?{_query({'tweet_id': m.post_id})}"
        links["open"] = _post_url(author, m.post_id)
    else:
        links["open"] = _profile_url(name)
    links["follow"] = _follow_url(name)
    return links


def member_links(m: CircleMember) -> list[tuple[str, str]]:
    """``circle_links`` as the buttons of the digest: what to do first, the follow last."""
    name = handle(m.username)
    author = handle(m.post_author_username or name)
    theirs = author.lower() == name.lower()
    labels = {
        "reply": f"Reply to @{name}" if theirs else f"Reply where @{author} named @{name}",
        "retweet": f"Retweet @{name}",
        "open": "Open post" if m.post_id is not None else f"Open @{name}'s profile",
        "follow": f"Follow @{name}",
    }
    return [(labels[kind], url) for kind, url in circle_links(m).items()]


def intent_links(s: Suggestion) -> list[tuple[str, str]]:
    """The (label, url) pairs that let the user act on one suggestion by hand.

    Rapport never acts itself: every link opens X with the action prepared, and the user confirms.
    """
    if s.kind is SuggestionKind.ENGAGE_CIRCLE and s.circle:
        return [link for m in s.circle for link in member_links(m)]
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:  # made before members carried a post: names only
        links: list[tuple[str, str]] = []
        for user in s.users:
            name = handle(user)
            links.append((f"Open @{name}'s profile", _profile_url(name)))
            links.append((f"Follow @{name}", _follow_url(name)))
        return links

    target = handle(s.target_username)
    draft = s.draft if s.draft is not None and s.draft.strip() else None
    if s.post_id is None:
        # Nothing to retweet or reply to: a fresh mention is the only way to write to them.
        links = []
        if s.kind in _WRITING_KINDS:
            text = f"@{target} {draft}" if draft else f"@{target} "
            links.append((f"Write to @{target}", f"{_INTENT}/tweet?{_query({'text': text})}"))
        links.append((f"Open @{target}'s profile", _profile_url(target)))
        return links

    author = s.post_author_username or target
    open_post = ("Open post", _post_url(author, s.post_id))
    if s.kind is SuggestionKind.RETWEET:
        return [
            ("Retweet", f"{_INTENT}/retweet?{_query({'tweet_id': s.post_id})}"),
            open_post,
            (f"Follow @{target}", _follow_url(target)),
        ]
    params = {"in_reply_to": s.post_id}
    if draft:
        params["text"] = draft
    return [("Reply", f"{_INTENT}/tweet?{_query(params)}"), open_post]
