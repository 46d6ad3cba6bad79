"""The digest as one raw MIME message, ready for SESv2 ``Content.Raw``."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from rapport.email.render import RenderedDigest

__all__ = ["build_mime"]


def build_mime(
    rendered: RenderedDigest,
    sender: str,
    recipient: str,
    message_id_domain: str = "rapport.local",
    *,
    sent_at: datetime | None = None,
    unsubscribe: str | None = None,
) -> bytes:
    """A multipart/alternative message (text, then HTML; UTF-8) ready for SESv2 ``Content.Raw``.

    ``sent_at`` (timezone-aware) fixes the Date header, for tests; it defaults to now.
    ``unsubscribe`` (an https URL that pauses the digest) becomes RFC 8058's one-click unsubscribe.
    """
    msg = EmailMessage(policy=SMTP)  # CRLF line endings, as SMTP (and SES raw messages) expect
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(sent_at if sent_at is not None else datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring="digest", domain=message_id_domain)
    # RFC 3834: an automated message, so vacation responders stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe is not None:
        # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL, without a page.
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable always: the email's default picks 8bit for short lines, which is not 7-bit safe
    # for every relay on the way (nor for readers that re-encode the message as ASCII).
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()
