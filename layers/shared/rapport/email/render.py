"""Turn one day's digest into an email: subject, HTML part, plain-text part and the raw MIME bytes.

Pure and stdlib-only so it runs in the Lambda layer without a template engine. Everything that comes
from X (post text, usernames, reasons, drafts) is untrusted: it is escaped once, at the point where it
enters the HTML, and every URL parameter is percent-encoded where the URL is built.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from urllib.parse import quote, urlencode

from rapport.domain.model import Stage, Suggestion, SuggestionKind, Transition
from rapport.domain.money import USD, ZERO

__all__ = [
    "DigestView",
    "LosingTouch",
    "RenderedDigest",
    "SpendSummary",
    "TargetStatus",
    "build_mime",
    "intent_links",
    "render_digest",
]


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One line of the overview: where a target stands and since when."""

    username: str
    stage: Stage
    since: datetime  # when it entered that stage


@dataclass(frozen=True, slots=True)
class LosingTouch:
    """A target with no exchange either way for longer than the cadence."""

    username: str
    days: int  # days without an exchange
    last: datetime | None  # the last exchange, None when there never was one


@dataclass(frozen=True, slots=True)
class SpendSummary:
    """X API spend: yesterday (UTC), this month so far, and the monthly budget."""

    yesterday: USD
    month_to_date: USD
    monthly_budget: USD
    deferred_yesterday: int = 0  # reads collect held back yesterday to stay within the budget
    deferred_month: int = 0


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything one digest shows, already chosen and ordered by the engine."""

    local_date: date  # the recipient's local date
    me_username: str
    suggestions: tuple[Suggestion, ...]
    transitions: tuple[tuple[str, Transition], ...]  # (username, transition) since the last digest
    targets: tuple[TargetStatus, ...]
    generated_at: datetime | None = None  # the instant ages are measured from
    posted_at: Mapping[str, datetime] = field(default_factory=dict)  # post id -> when it was posted
    losing_touch: tuple[LosingTouch, ...] = ()
    spend: SpendSummary | None = None


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


# --- Web Intents -------------------------------------------------------------------------------------

_INTENT = "https://twitter.com/intent"
_SITE = "https://x.com"

# Kinds whose action is writing a reply to (or a mention of) the target.
_WRITING_KINDS = frozenset({SuggestionKind.ANSWER, SuggestionKind.ASK, SuggestionKind.REPLY})


def _handle(username: str) -> str:
    """A username without the '@' people (and some APIs) put in front of it."""
    return username.strip().lstrip("@")


def _query(params: dict[str, str]) -> str:
    # quote (not quote_plus) so spaces become %20 and '/', '&', '#' in drafts are always encoded.
    return urlencode(params, quote_via=quote, safe="")


def _profile_url(username: str) -> str:
    return f"{_SITE}/{quote(_handle(username), safe='')}"


def _post_url(username: str, post_id: str) -> str:
    return f"{_SITE}/{quote(_handle(username), safe='')}/status/{quote(post_id, safe='')}"


def _follow_url(username: str) -> str:
    return f"{_INTENT}/follow?{_query({'screen_name': _handle(username)})}"


def intent_links(s: Suggestion) -> list[tuple[str, str]]:
    """The (label, url) pairs that let the user act on one suggestion by hand.

    Rapport never acts itself: every link opens X with the action prepared, and the user confirms.
    """
    if s.kind is SuggestionKind.ENGAGE_CIRCLE:
        links: list[tuple[str, str]] = []
        for user in s.users:
            name = _handle(user)
            links.append((f"Open @{name}'s profile", _profile_url(name)))
            links.append((f"Follow @{name}", _follow_url(name)))
        return links

    target = _handle(s.target_username)
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


# --- Vocabulary ----------------------------------------------------------------------------------------

_STEP_LABELS: dict[SuggestionKind, str] = {
    SuggestionKind.RETWEET: "Step 1 · Retweet",
    SuggestionKind.ANSWER: "Step 2 · Answer their question",
    SuggestionKind.ASK: "Step 3 · Ask them",
    SuggestionKind.ENGAGE_CIRCLE: "Their circle",
    SuggestionKind.REPLY: "They spoke to you",
}

# (background, text) for each step's badge: explicit pairs so forced dark modes keep contrast.
_STEP_COLOURS: dict[SuggestionKind, tuple[str, str]] = {
    SuggestionKind.RETWEET: ("#dcfce7", "#14532d"),
    SuggestionKind.ANSWER: ("#dbeafe", "#1e3a8a"),
    SuggestionKind.ASK: ("#ede9fe", "#4c1d95"),
    SuggestionKind.ENGAGE_CIRCLE: ("#ccfbf1", "#134e4a"),
    SuggestionKind.REPLY: ("#fef3c7", "#78350f"),
}

_STAGE_NAMES: dict[Stage, str] = {
    Stage.RETWEET: "Retweet",
    Stage.ANSWER: "Answer",
    Stage.ASK: "Ask",
    Stage.CIRCLE: "Circle",
    Stage.UNRESPONSIVE: "Unresponsive",
    Stage.PAUSED: "Paused",
}

# The method's ladder; UNRESPONSIVE and PAUSED sit outside it.
_LADDER: tuple[Stage, ...] = (Stage.RETWEET, Stage.ANSWER, Stage.ASK, Stage.CIRCLE)

_OFF_LADDER: dict[Stage, tuple[str, str]] = {
    Stage.UNRESPONSIVE: ("#fee2e2", "#7f1d1d"),
    Stage.PAUSED: ("#e2e8f0", "#1e293b"),
}

_EMPTY_DAY = "Nothing worth doing today. Rapport will look again tomorrow."
_NO_CHANGES = "No stage changes since the last digest."
_NO_TARGETS = "No targets yet."
_HANDS_OFF = "Rapport never posts, likes or follows for you: every link opens X and you decide."
_DRAFT_LABEL = "Draft (edit it before posting):"

# C0 controls (but tab and newline) and DEL are invalid in HTML and garble plain text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _count(n: int) -> str:
    return f"{n} action" if n == 1 else f"{n} actions"


def _subject(view: DigestView) -> str:
    day = view.local_date.isoformat()
    if not view.suggestions:
        return f"Rapport · {day} · nothing to do today"
    return f"Rapport · {day} · {_count(len(view.suggestions))}"


def _spend_lines(view: DigestView) -> list[str]:
    return _spend_lines_of(view.spend) if view.spend is not None else []


def _spend_lines_of(s: SpendSummary) -> list[str]:
    share = f" ({_budget_share(s):.0f}% used)" if s.monthly_budget > ZERO else ""
    lines = [
        f"X API spend yesterday: {s.yesterday.text()}",
        f"This month so far: {s.month_to_date.text()} of your {s.monthly_budget.text()} budget{share}",
    ]
    if s.deferred_month > 0:
        lines.append(
            f"Reads held back to stay within the budget: {s.deferred_yesterday} yesterday, "
            f"{s.deferred_month} this month (news may arrive late)"
        )
    return lines


def _budget_share(s: SpendSummary) -> float:
    if s.monthly_budget <= ZERO:
        return 0.0
    return max(0.0, 100.0 * s.month_to_date.share_of(s.monthly_budget))


def _age(view: DigestView, s: Suggestion) -> str | None:
    """How old the quoted post is, in the words a person would use."""
    posted = view.posted_at.get(s.post_id or "")
    if posted is None or view.generated_at is None:
        return None
    minutes = max(0, int((view.generated_at - posted).total_seconds() // 60))
    if minutes < 60:
        return f"posted {minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"posted {hours} hour{'' if hours == 1 else 's'} ago"
    return f"posted {hours // 24} days ago"


def _funnel(view: DigestView) -> list[tuple[Stage, int]]:
    """Targets per stage, the ladder first, then those off it (only when there are some)."""
    counts = dict.fromkeys((*_LADDER, *_OFF_LADDER), 0)
    for status in view.targets:
        counts[status.stage] += 1
    return [(stage, n) for stage, n in counts.items() if stage in _LADDER or n]


def _losing_touch_line(lt: LosingTouch) -> str:
    if lt.last is None:
        return f"@{_handle(lt.username)}: no exchange yet, {lt.days} days since you added them"
    return f"@{_handle(lt.username)}: {lt.days} days since your last exchange ({lt.last.date().isoformat()})"


def _transition_summary(t: Transition) -> str:
    if t.from_stage is None:
        return f"started at {_STAGE_NAMES[t.to_stage]}"
    return f"{_STAGE_NAMES[t.from_stage]} → {_STAGE_NAMES[t.to_stage]}"


def _since(status: TargetStatus, today: date) -> str:
    days = (today - status.since.date()).days
    if days <= 0:
        return f"since {status.since.date().isoformat()} (today)"
    return f"since {status.since.date().isoformat()} ({days} day{'' if days == 1 else 's'})"


# --- Plain text ------------------------------------------------------------------------------------------


def _quoted(text: str, prefix: str) -> list[str]:
    return [f"{prefix}{line}".rstrip() for line in _clean(text).split("\n")]


def _text_strip(stage: Stage) -> str:
    if stage in _OFF_LADDER:
        return f"[{_STAGE_NAMES[stage].upper()}]"
    current = _LADDER.index(stage)
    cells = []
    for i, step in enumerate(_LADDER):
        name = step.value
        cells.append(f"✓ {name}" if i < current else f"[{name.upper()}]" if i == current else name)
    return " > ".join(cells)


def _render_text(view: DigestView, subject: str) -> str:
    out: list[str] = [subject, f"for @{_handle(_clean(view.me_username))}", ""]
    if not view.suggestions:
        return _render_text_empty(view, out)
    out += ["TODAY'S ACTIONS", "==============="]
    for number, s in enumerate(view.suggestions, start=1):
        target = _handle(_clean(s.target_username))
        out.append(f"{number}. @{target} · {_STEP_LABELS[s.kind]}")
        out += _quoted(f"Why now: {s.reason}", "   ")
        if s.post_text:
            author = _handle(_clean(s.post_author_username or s.target_username))
            age = _age(view, s)
            out.append(f"   @{author} wrote ({age}):" if age else f"   @{author} wrote:")
            out += _quoted(s.post_text, "   > ")
        if s.draft:
            out.append(f"   {_DRAFT_LABEL}")
            out += _quoted(s.draft, "   | ")
        for label, url in intent_links(s):
            out.append(f"   {_clean(label)}: {url}")
        out.append("")

    out += ["WHAT CHANGED", "============"]
    if not view.transitions:
        out.append(_NO_CHANGES)
    for username, t in view.transitions:
        line = f"- @{_handle(_clean(username))}: {_transition_summary(t)} — {t.reason}"
        out += _quoted(line, "")
    out.append("")

    out += ["WHERE EACH TARGET STANDS", "========================"]
    if not view.targets:
        out.append(_NO_TARGETS)
    for status in view.targets:
        out.append(
            f"@{_handle(_clean(status.username))}  {_text_strip(status.stage)}  "
            f"{_since(status, view.local_date)}"
        )
    if view.targets:
        out.append("Targets per stage: " + ", ".join(f"{_STAGE_NAMES[st]} {n}" for st, n in _funnel(view)))
    out.append("")

    if view.losing_touch:
        out += ["LOSING TOUCH", "============"]
        out += [f"- {_clean(_losing_touch_line(lt))}" for lt in view.losing_touch]
        out.append("")

    spend = _spend_lines(view)
    if spend:
        out += [*spend, ""]
    out.append(_HANDS_OFF)
    return "\n".join(out) + "\n"


def _render_text_empty(view: DigestView, out: list[str]) -> str:
    """The empty day: one line, plus news that should not wait (stage changes, losing touch), spend."""
    out += [_EMPTY_DAY, ""]
    for username, t in view.transitions:
        out += _quoted(f"- @{_handle(_clean(username))}: {_transition_summary(t)} — {t.reason}", "")
    if view.transitions:
        out.append("")
    if view.losing_touch:
        out += ["Losing touch:", *(f"- {_clean(_losing_touch_line(lt))}" for lt in view.losing_touch), ""]
    spend = _spend_lines(view)
    if spend:
        out += [*spend, ""]
    return "\n".join(out) + "\n"


# --- HTML ------------------------------------------------------------------------------------------------

_FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
_PAGE_BG, _PAGE_FG = "#f4f4f5", "#18181b"
_CARD_BG, _CARD_FG = "#ffffff", "#18181b"
_MUTED = "#52525b"
_WRAP = "word-break:break-word;overflow-wrap:anywhere;"


def _e(text: str) -> str:
    """Escape untrusted text for HTML content and quoted attribute values."""
    return html.escape(_clean(text), quote=True)


def _e_lines(text: str) -> str:
    return "<br>".join(_e(line) for line in _clean(text).split("\n"))


def _button(label: str, url: str, primary: bool) -> str:
    bg, fg = ("#1d4ed8", "#ffffff") if primary else ("#e4e4e7", "#18181b")
    return (
        f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer" '
        f'style="display:inline-block;margin:0 6px 6px 0;padding:10px 14px;background-color:{bg};'
        f'color:{fg};text-decoration:none;border-radius:6px;font-size:14px;font-weight:600;{_FONT}">'
        f"{_e(label)}</a>"
    )


def _section_title(title: str) -> str:
    return (
        f'<tr><td style="padding:20px 20px 8px 20px;background-color:{_CARD_BG};color:{_CARD_FG};{_FONT}'
        f'font-size:13px;font-weight:700;letter-spacing:0.06em;text-transform:uppercase;">{_e(title)}</td></tr>'
    )


def _row(inner: str, padding: str = "0 20px 12px 20px") -> str:
    return (
        f'<tr><td style="padding:{padding};background-color:{_CARD_BG};color:{_CARD_FG};{_FONT}'
        f'font-size:15px;line-height:1.45;{_WRAP}">{inner}</td></tr>'
    )


def _badge(text: str, colours: tuple[str, str]) -> str:
    bg, fg = colours
    return (
        f'<span style="display:inline-block;padding:2px 8px;border-radius:10px;background-color:{bg};'
        f'color:{fg};font-size:12px;font-weight:700;">{_e(text)}</span>'
    )


def _html_suggestion(number: int, s: Suggestion, view: DigestView) -> str:
    bg, fg = _STEP_COLOURS[s.kind]
    target = _handle(s.target_username)
    parts = [
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;border-left:4px solid {fg};background-color:{_CARD_BG};'
        f'color:{_CARD_FG};">',
        f'<tr><td style="padding:10px 12px;background-color:{_CARD_BG};color:{_CARD_FG};{_FONT}{_WRAP}">',
        f'<div style="font-size:16px;font-weight:700;color:{_CARD_FG};">{number}. @{_e(target)} '
        f"{_badge(_STEP_LABELS[s.kind], (bg, fg))}</div>",
        f'<div style="margin-top:6px;font-size:14px;color:{_MUTED};">'
        f"<strong>Why now:</strong> {_e_lines(s.reason)}</div>",
    ]
    if s.post_text:
        author = _handle(s.post_author_username or s.target_username)
        age = _age(view, s)
        wrote = f"@{author} wrote ({age}):" if age else f"@{author} wrote:"
        parts.append(
            f'<div style="margin-top:8px;font-size:12px;color:{_MUTED};">{_e(wrote)}</div>'
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
            f'<tr><td dir="auto" style="padding:8px 10px;border-left:3px solid #a1a1aa;'
            f'background-color:#f4f4f5;color:#27272a;font-size:14px;{_WRAP}">{_e_lines(s.post_text)}</td></tr>'
            f"</table>"
        )
    if s.draft:
        parts.append(
            f'<div style="margin-top:8px;font-size:12px;color:{_MUTED};">{_e(_DRAFT_LABEL)}</div>'
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
            f'<tr><td dir="auto" style="padding:8px 10px;background-color:#eff6ff;color:#1e3a8a;'
            f'font-size:14px;{_WRAP}">{_e_lines(s.draft)}</td></tr></table>'
        )
    links = intent_links(s)
    if links:
        buttons = "".join(_button(label, url, primary=not label.startswith("Open")) for label, url in links)
        parts.append(f'<div style="margin-top:10px;">{buttons}</div>')
    parts.append("</td></tr></table>")
    return _row("\n".join(parts))


def _strip_cell(text: str, bg: str, fg: str) -> str:
    return (
        f'<td bgcolor="{bg}" style="padding:3px 6px;background-color:{bg};color:{fg};font-size:11px;'
        f'font-weight:600;border-radius:3px;white-space:nowrap;{_FONT}">{_e(text)}</td>'
    )


def _html_strip(stage: Stage) -> str:
    """The method as four cells: done ones filled, the current one outlined in bold, later ones grey."""
    cells: list[str] = []
    off = _OFF_LADDER.get(stage)
    current = -1 if off else _LADDER.index(stage)
    for i, step in enumerate(_LADDER):
        if off:
            # Off the ladder: every step muted, so the badge is what the eye catches.
            cells.append(_strip_cell(_STAGE_NAMES[step], "#f4f4f5", "#a1a1aa"))
        elif i < current:
            cells.append(_strip_cell(f"✓ {_STAGE_NAMES[step]}", "#16a34a", "#ffffff"))
        elif i == current:
            cells.append(_strip_cell(f"● {_STAGE_NAMES[step]}", "#1d4ed8", "#ffffff"))
        else:
            cells.append(_strip_cell(_STAGE_NAMES[step], "#e4e4e7", "#52525b"))
    if off:
        cells.append(_strip_cell(_STAGE_NAMES[stage], *off))
    return (
        '<table role="presentation" cellpadding="0" cellspacing="2" border="0" '
        f'style="border-collapse:separate;border-spacing:2px;"><tr>{"".join(cells)}</tr></table>'
    )


def _html_target(status: TargetStatus, today: date) -> str:
    return _row(
        f'<div style="font-size:14px;"><strong>@{_e(_handle(status.username))}</strong> '
        f'<span style="color:{_MUTED};font-size:12px;">{_e(_since(status, today))}</span></div>'
        f"{_html_strip(status.stage)}",
        padding="0 20px 10px 20px",
    )


def _preheader(view: DigestView) -> str:
    """Hidden preview text that inbox lists show next to the subject."""
    if not view.suggestions:
        summary = _EMPTY_DAY
    else:
        people = list(dict.fromkeys(f"@{_handle(s.target_username)}" for s in view.suggestions))
        who = ", ".join(people[:3])
        more = "…" if len(people) > 3 else ""
        summary = f"{_count(len(view.suggestions))} today: {who}{more}"
    return (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;'
        f'line-height:1px;color:{_PAGE_BG};">{_e(summary)}</div>'
    )


def _render_html(view: DigestView, subject: str) -> str:
    rows: list[str] = [
        _row(
            f'<div style="font-size:20px;font-weight:700;color:{_CARD_FG};">Rapport</div>'
            f'<div style="font-size:13px;color:{_MUTED};">{_e(view.local_date.isoformat())} · '
            f"for @{_e(_handle(view.me_username))}</div>",
            padding="20px 20px 4px 20px",
        ),
        _section_title("Today's actions"),
    ]
    if view.suggestions:
        rows += [_html_suggestion(n, s, view) for n, s in enumerate(view.suggestions, start=1)]
    else:
        return _render_html_empty(view, subject, rows)

    rows.append(_section_title("What changed"))
    if view.transitions:
        rows.append(_html_transitions(view))
    else:
        rows.append(_row(f'<p style="margin:0;font-size:14px;color:{_MUTED};">{_e(_NO_CHANGES)}</p>'))

    rows.append(_section_title("Where each target stands"))
    if view.targets:
        rows.append(_html_funnel(view))
        rows += [_html_target(status, view.local_date) for status in view.targets]
    else:
        rows.append(_row(f'<p style="margin:0;font-size:14px;color:{_MUTED};">{_e(_NO_TARGETS)}</p>'))

    if view.losing_touch:
        rows += _html_losing_touch(view)

    rows += _html_footer(view)
    return _document(subject, _preheader(view), rows)


def _html_losing_touch(view: DigestView) -> list[str]:
    items = "".join(
        f'<li style="margin:0 0 6px 0;">{_e(_losing_touch_line(lt))}</li>' for lt in view.losing_touch
    )
    return [
        _section_title("Losing touch"),
        _row(f'<ul style="margin:0;padding-left:18px;font-size:14px;">{items}</ul>'),
    ]


def _html_footer(view: DigestView) -> list[str]:
    rows: list[str] = []
    if view.spend is not None:
        rows.append(_html_spend(view.spend))
    footer = [f"<div>{_e(_HANDS_OFF)}</div>"]
    rows.append(
        _row(
            f'<div style="font-size:12px;color:{_MUTED};border-top:1px solid #e4e4e7;padding-top:12px;">'
            f"{''.join(footer)}</div>",
            padding="12px 20px 20px 20px",
        )
    )
    return rows


def _bar(percent: float, fill: str) -> str:
    """A horizontal bar as a two-cell table: it draws in every mail client, no image needed."""
    width = max(0, min(100, round(percent)))
    cells = []
    if width > 0:
        cells.append(
            f'<td width="{width}%" bgcolor="{fill}" style="height:10px;line-height:10px;font-size:1px;'
            f'background-color:{fill};color:{fill};">&nbsp;</td>'
        )
    if width < 100:
        cells.append(
            f'<td width="{100 - width}%" bgcolor="#e4e4e7" style="height:10px;line-height:10px;font-size:1px;'
            f'background-color:#e4e4e7;color:#e4e4e7;">&nbsp;</td>'
        )
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;table-layout:fixed;"><tr>{"".join(cells)}</tr></table>'
    )


_FUNNEL_COLOURS: dict[Stage, str] = {
    Stage.RETWEET: "#16a34a",
    Stage.ANSWER: "#2563eb",
    Stage.ASK: "#7c3aed",
    Stage.CIRCLE: "#0d9488",
    Stage.UNRESPONSIVE: "#dc2626",
    Stage.PAUSED: "#64748b",
}


def _html_funnel(view: DigestView) -> str:
    """Targets per stage as bars, widest first at the top of the method."""
    total = max(1, len(view.targets))
    rows = "".join(
        f"<tr>"
        f'<td width="34%" style="padding:2px 8px 2px 0;font-size:12px;color:{_CARD_FG};white-space:nowrap;">'
        f"{_e(_STAGE_NAMES[stage])} · {n}</td>"
        f'<td width="66%" style="padding:2px 0;">{_bar(100 * n / total, _FUNNEL_COLOURS[stage])}</td>'
        f"</tr>"
        for stage, n in _funnel(view)
    )
    return _row(
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;table-layout:fixed;">{rows}</table>',
        padding="0 20px 14px 20px",
    )


def _html_spend(s: SpendSummary) -> str:
    share = _budget_share(s)
    fill = "#16a34a" if share < 80 else "#d97706" if share < 100 else "#dc2626"
    lines = "".join(f"<div>{_e(line)}</div>" for line in _spend_lines_of(s))
    return _row(
        f'<div style="font-size:12px;color:{_MUTED};border-top:1px solid #e4e4e7;padding-top:12px;">'
        f'{lines}<div style="margin-top:6px;">{_bar(share, fill)}</div></div>',
        padding="12px 20px 0 20px",
    )


def _render_html_empty(view: DigestView, subject: str, rows: list[str]) -> str:
    """The empty day: one line, plus news that should not wait (stage changes, losing touch), spend."""
    rows.append(_row(f'<p style="margin:0;font-size:16px;">{_e(_EMPTY_DAY)}</p>'))
    if view.transitions:
        rows.append(_html_transitions(view))
    if view.losing_touch:
        rows += _html_losing_touch(view)
    rows += _html_footer(view)
    return _document(subject, _preheader(view), rows)


def _html_transitions(view: DigestView) -> str:
    items = "".join(
        f'<li style="margin:0 0 6px 0;"><strong>@{_e(_handle(username))}</strong>: '
        f"{_e(_transition_summary(t))} — "
        f'<span style="color:{_MUTED};">{_e_lines(t.reason)}</span></li>'
        for username, t in view.transitions
    )
    return _row(f'<ul style="margin:0;padding-left:18px;font-size:14px;">{items}</ul>')


def _document(subject: str, preheader: str, rows: Iterable[str]) -> str:
    # "light" colour scheme plus explicit background/text pairs everywhere: clients that honour the
    # meta keep our colours; clients that force dark mode invert both together, so contrast survives.
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en" dir="ltr">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light">',
            '<meta name="supported-color-schemes" content="light">',
            f"<title>{_e(subject)}</title>",
            "</head>",
            f'<body style="margin:0;padding:0;background-color:{_PAGE_BG};color:{_PAGE_FG};">',
            preheader,
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'bgcolor="{_PAGE_BG}" style="background-color:{_PAGE_BG};color:{_PAGE_FG};">',
            '<tr><td align="center" style="padding:16px 8px;">',
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'bgcolor="{_CARD_BG}" style="max-width:600px;width:100%;background-color:{_CARD_BG};'
            f'color:{_CARD_FG};border-radius:8px;">',
            *rows,
            "</table>",
            "</td></tr>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )


# --- Public API --------------------------------------------------------------------------------------------


def render_digest(view: DigestView) -> RenderedDigest:
    """Render the digest as a subject, an HTML body and an equivalent plain-text body."""
    subject = _subject(view)
    return RenderedDigest(subject=subject, html=_render_html(view, subject), text=_render_text(view, subject))


def build_mime(
    rendered: RenderedDigest,
    sender: str,
    recipient: str,
    message_id_domain: str = "rapport.local",
    *,
    sent_at: datetime | None = None,
) -> bytes:
    """A multipart/alternative message (text, then HTML; UTF-8) ready for SESv2 ``Content.Raw``.

    ``sent_at`` (timezone-aware) fixes the Date header, for tests; it defaults to now.
    """
    msg = EmailMessage(policy=SMTP)  # CRLF line endings, as SMTP (and SES raw messages) expect
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(sent_at if sent_at is not None else datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring="digest", domain=message_id_domain)
    # RFC 3834: an automated message, so vacation responders stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable always: the email's default picks 8bit for short lines, which is not 7-bit safe
    # for every relay on the way (nor for readers that re-encode the message as ASCII).
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()
