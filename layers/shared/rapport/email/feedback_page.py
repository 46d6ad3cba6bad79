"""The feedback endpoint's pages: tiny, escaped HTML, no script and nothing loaded from elsewhere.

The headers forbid everything the page does not need (scripts, styles from elsewhere, frames,
forms posting anywhere but back here), keep the link's token out of any Referer, and keep the page
out of search engines.
"""

from __future__ import annotations

import base64
import hashlib
import html

__all__ = ["PAGE_HEADERS", "render_page"]

_STYLE = (
    "body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:32rem;"
    "margin:3rem auto;padding:0 1rem;color:#18181b;line-height:1.5}"
    "button{font-size:1rem;padding:.7rem 1.2rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff}"
    "small{color:#52525b}"
)
# The one style block is allowed by its hash: no inline style or script of anyone else's runs.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

PAGE_HEADERS: dict[str, str] = {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def render_page(title: str, message: str, *, button: str | None = None, post_to: str | None = None) -> str:
    """One page: a title, a sentence, and, to confirm, one button that POSTs back to ``post_to``."""
    form = ""
    if button is not None and post_to is not None:
        form = (
            f'<form method="post" action="{html.escape(post_to, quote=True)}">'
            f'<button type="submit">{html.escape(button)}</button></form>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{form}"
        "<p><small>Rapport</small></p></body></html>"
    )
