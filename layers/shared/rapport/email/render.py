"""Turn one day's digest into an email's subject, HTML part and plain-text part.

Pure and stdlib-only so it runs in the Lambda layer without a template engine. The view it reads is in
``view``, the words both parts share in ``wording``, the links in ``links``; ``mime`` wraps the result
into the message SES sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.email.html import render_html
from rapport.email.text import render_text
from rapport.email.view import DigestView
from rapport.email.wording import count_actions

__all__ = ["RenderedDigest", "render_digest"]


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


def _subject(view: DigestView) -> str:
    day = view.local_date.isoformat()
    if not view.suggestions:
        return f"Rapport · {day} · nothing to do today"
    return f"Rapport · {day} · {count_actions(len(view.suggestions))}"


def render_digest(view: DigestView) -> RenderedDigest:
    """Render the digest as a subject, an HTML body and an equivalent plain-text body."""
    subject = _subject(view)
    return RenderedDigest(subject=subject, html=render_html(view, subject), text=render_text(view, subject))
