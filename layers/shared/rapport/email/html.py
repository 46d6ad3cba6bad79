"""The digest's HTML part: layout tables and inline styles, so it draws the same in every mail client.

Everything that comes from X (post text, usernames, reasons, drafts) is untrusted: it is escaped once,
at the point where it enters the HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date

from rapport.domain.model import CircleMember, Stage, Suggestion, SuggestionKind, suggestion_ref
from rapport.email.links import handle, intent_links, member_links
from rapport.email.view import DigestView, SpendSummary, TargetStatus
from rapport.email.wording import (
    DRAFT_LABEL,
    EMPTY_DAY,
    FEEDBACK_INTRO,
    FEEDBACK_LABELS,
    HANDS_OFF,
    LADDER,
    MANAGE_TARGETS,
    NO_CHANGES,
    NO_TARGETS,
    OFF_LADDER,
    PAUSE_LABEL,
    STAGE_NAMES,
    budget_share,
    clean,
    count_actions,
    funnel,
    losing_touch_line,
    member_why,
    post_age,
    since,
    snoozed,
    spend_lines,
    step_label,
    transition_summary,
)

__all__ = ["render_html"]

# (background, text) for each step's badge: explicit pairs so forced dark modes keep contrast.
_STEP_COLOURS: dict[SuggestionKind, tuple[str, str]] = {
    SuggestionKind.RETWEET: ("#dcfce7", "#14532d"),
    SuggestionKind.ANSWER: ("#dbeafe", "#1e3a8a"),
    SuggestionKind.ASK: ("#ede9fe", "#4c1d95"),
    SuggestionKind.ENGAGE_CIRCLE: ("#ccfbf1", "#134e4a"),
    SuggestionKind.REPLY: ("#fef3c7", "#78350f"),
}

_FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
_PAGE_BG, _PAGE_FG = "#f4f4f5", "#18181b"
_CARD_BG, _CARD_FG = "#ffffff", "#18181b"
_MUTED = "#52525b"
_WRAP = "word-break:break-word;overflow-wrap:anywhere;"


def _e(text: str) -> str:
    """Escape untrusted text for HTML content and quoted attribute values."""
    return html.escape(clean(text), quote=True)


def _e_lines(text: str) -> str:
    return "<br>".join(_e(line) for line in clean(text).split("\n"))


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
    target = handle(s.target_username)
    parts = [
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;border-left:4px solid {fg};background-color:{_CARD_BG};'
        f'color:{_CARD_FG};">',
        f'<tr><td style="padding:10px 12px;background-color:{_CARD_BG};color:{_CARD_FG};{_FONT}{_WRAP}">',
        f'<div style="font-size:16px;font-weight:700;color:{_CARD_FG};">{number}. @{_e(target)} '
        f"{_badge(step_label(s, view.stage_of(s.target_username)), (bg, fg))}</div>",
        f'<div style="margin-top:6px;font-size:14px;color:{_MUTED};">'
        f"<strong>Why now:</strong> {_e_lines(s.reason)}</div>",
    ]
    if s.post_text:
        author = handle(s.post_author_username or s.target_username)
        age = post_age(view, s)
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
            f'<div style="margin-top:8px;font-size:12px;color:{_MUTED};">{_e(DRAFT_LABEL)}</div>'
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
            f'<tr><td dir="auto" style="padding:8px 10px;background-color:#eff6ff;color:#1e3a8a;'
            f'font-size:14px;{_WRAP}">{_e_lines(s.draft)}</td></tr></table>'
        )
    if s.circle:
        parts += [_html_member(n, m, s.target_username) for n, m in enumerate(s.circle, start=1)]
    links = [] if s.circle else intent_links(s)
    if links:
        buttons = "".join(_button(label, url, primary=not label.startswith("Open")) for label, url in links)
        parts.append(f'<div style="margin-top:10px;">{buttons}</div>')
    answers = view.feedback.get(suggestion_ref(s), {})
    if answers:
        parts.append(_html_answers(answers))
    parts.append("</td></tr></table>")
    return _row("\n".join(parts))


def _quiet_link(label: str, url: str) -> str:
    return (
        f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer" '
        f'style="color:{_MUTED};text-decoration:underline;">{_e(label)}</a>'
    )


def _html_answers(answers: Mapping[str, str]) -> str:
    """The answers to a suggestion: small grey links, quiet beside the main button."""
    links = " · ".join(
        _quiet_link(FEEDBACK_LABELS[a], url) for a, url in answers.items() if a in FEEDBACK_LABELS
    )
    return f'<div style="margin-top:4px;font-size:12px;color:{_MUTED};">{_e(FEEDBACK_INTRO)} {links}</div>'


def _html_member(number: int, m: CircleMember, target: str) -> str:
    """One person of the circle: who, why them, the post to meet them at, and its buttons."""
    name = handle(m.username)
    parts = [
        f'<div style="margin-top:12px;padding-top:8px;border-top:1px solid #e4e4e7;font-size:15px;'
        f'font-weight:700;color:{_CARD_FG};">{number}. @{_e(name)}</div>',
        f'<div style="margin-top:2px;font-size:14px;color:{_MUTED};">{_e_lines(member_why(m, target))}</div>',
    ]
    if m.post_text:
        parts.append(
            f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
            f'<tr><td dir="auto" style="padding:6px 10px;border-left:3px solid #a1a1aa;'
            f'background-color:#f4f4f5;color:#27272a;font-size:13px;{_WRAP}">{_e_lines(m.post_text)}</td></tr>'
            f"</table>"
        )
    buttons = "".join(
        _button(label, url, primary=not label.startswith(("Open", "Follow")))
        for label, url in member_links(m)
    )
    parts.append(f'<div style="margin-top:8px;">{buttons}</div>')
    return "".join(parts)


def _strip_cell(text: str, bg: str, fg: str) -> str:
    return (
        f'<td bgcolor="{bg}" style="padding:3px 6px;background-color:{bg};color:{fg};font-size:11px;'
        f'font-weight:600;border-radius:3px;white-space:nowrap;{_FONT}">{_e(text)}</td>'
    )


def _html_strip(stage: Stage) -> str:
    """The method as four cells: done ones filled, the current one outlined in bold, later ones grey."""
    cells: list[str] = []
    off = OFF_LADDER.get(stage)
    current = -1 if off else LADDER.index(stage)
    for i, step in enumerate(LADDER):
        if off:
            # Off the ladder: every step muted, so the badge is what the eye catches.
            cells.append(_strip_cell(STAGE_NAMES[step], "#f4f4f5", "#a1a1aa"))
        elif i < current:
            cells.append(_strip_cell(f"✓ {STAGE_NAMES[step]}", "#16a34a", "#ffffff"))
        elif i == current:
            cells.append(_strip_cell(f"● {STAGE_NAMES[step]}", "#1d4ed8", "#ffffff"))
        else:
            cells.append(_strip_cell(STAGE_NAMES[step], "#e4e4e7", "#52525b"))
    if off:
        cells.append(_strip_cell(STAGE_NAMES[stage], *off))
    return (
        '<table role="presentation" cellpadding="0" cellspacing="2" border="0" '
        f'style="border-collapse:separate;border-spacing:2px;"><tr>{"".join(cells)}</tr></table>'
    )


def _html_target(status: TargetStatus, today: date) -> str:
    pause = snoozed(status)
    return _row(
        f'<div style="font-size:14px;"><strong>@{_e(handle(status.username))}</strong> '
        f'<span style="color:{_MUTED};font-size:12px;">{_e(since(status, today))}</span>'
        + (
            f' <span style="color:{_MUTED};font-size:12px;font-weight:700;">{_e(pause)}</span>'
            if pause
            else ""
        )
        + "</div>"
        f"{_html_strip(status.stage)}",
        padding="0 20px 10px 20px",
    )


def _preheader(view: DigestView) -> str:
    """Hidden preview text that inbox lists show next to the subject."""
    if not view.suggestions:
        summary = EMPTY_DAY
    else:
        people = list(dict.fromkeys(f"@{handle(s.target_username)}" for s in view.suggestions))
        who = ", ".join(people[:3])
        more = "…" if len(people) > 3 else ""
        summary = f"{count_actions(len(view.suggestions))} today: {who}{more}"
    return hidden_preheader(summary)


def hidden_preheader(summary: str) -> str:
    """Preview text that inbox lists show next to the subject, hidden in the message itself."""
    return (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;'
        f'line-height:1px;color:{_PAGE_BG};">{_e(summary)}</div>'
    )


def render_html(view: DigestView, subject: str) -> str:
    rows: list[str] = [
        _row(
            f'<div style="font-size:20px;font-weight:700;color:{_CARD_FG};">Rapport</div>'
            f'<div style="font-size:13px;color:{_MUTED};">{_e(view.local_date.isoformat())} · '
            f"for @{_e(handle(view.me_username))}</div>",
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
        rows.append(_row(f'<p style="margin:0;font-size:14px;color:{_MUTED};">{_e(NO_CHANGES)}</p>'))

    rows.append(_section_title("Where each target stands"))
    if view.targets:
        rows.append(_html_funnel(view))
        rows += [_html_target(status, view.local_date) for status in view.targets]
    else:
        rows.append(_row(f'<p style="margin:0;font-size:14px;color:{_MUTED};">{_e(NO_TARGETS)}</p>'))

    if view.losing_touch:
        rows += _html_losing_touch(view)

    rows += _html_footer(view)
    return _document(subject, _preheader(view), rows)


def _html_losing_touch(view: DigestView) -> list[str]:
    items = "".join(
        f'<li style="margin:0 0 6px 0;">{_e(losing_touch_line(lt))}</li>' for lt in view.losing_touch
    )
    return [
        _section_title("Losing touch"),
        _row(f'<ul style="margin:0;padding-left:18px;font-size:14px;">{items}</ul>'),
    ]


def _html_footer(view: DigestView) -> list[str]:
    rows: list[str] = []
    if view.spend is not None:
        rows.append(_html_spend(view.spend))
    footer = [f"<div>{_e(HANDS_OFF)}</div>", f'<div style="margin-top:6px;">{_e(MANAGE_TARGETS)}</div>']
    if view.pause_url:
        footer.append(f'<div style="margin-top:6px;">{_quiet_link(PAUSE_LABEL, view.pause_url)}</div>')
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
        f"{_e(STAGE_NAMES[stage])} · {n}</td>"
        f'<td width="66%" style="padding:2px 0;">{_bar(100 * n / total, _FUNNEL_COLOURS[stage])}</td>'
        f"</tr>"
        for stage, n in funnel(view)
    )
    return _row(
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;table-layout:fixed;">{rows}</table>',
        padding="0 20px 14px 20px",
    )


def _html_spend(s: SpendSummary) -> str:
    share = budget_share(s)
    fill = "#16a34a" if share < 80 else "#d97706" if share < 100 else "#dc2626"
    warning = 'style="margin-top:6px;padding:6px 8px;background-color:#fef3c7;color:#78350f;font-weight:600;"'
    lines = "".join(
        f"<div {warning}>{_e(line)}</div>" if line == s.budget_warning else f"<div>{_e(line)}</div>"
        for line in spend_lines(s)
    )
    return _row(
        f'<div style="font-size:12px;color:{_MUTED};border-top:1px solid #e4e4e7;padding-top:12px;">'
        f'{lines}<div style="margin-top:6px;">{_bar(share, fill)}</div></div>',
        padding="12px 20px 0 20px",
    )


def _render_html_empty(view: DigestView, subject: str, rows: list[str]) -> str:
    """The empty day: one line, plus news that should not wait (stage changes, losing touch), spend."""
    rows.append(_row(f'<p style="margin:0;font-size:16px;">{_e(EMPTY_DAY)}</p>'))
    if view.transitions:
        rows.append(_html_transitions(view))
    if view.losing_touch:
        rows += _html_losing_touch(view)
    rows += _html_footer(view)
    return _document(subject, _preheader(view), rows)


def _html_transitions(view: DigestView) -> str:
    items = "".join(
        f'<li style="margin:0 0 6px 0;"><strong>@{_e(handle(username))}</strong>: '
        f"{_e(transition_summary(t))} — "
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


# The weekly look-back (``lookback``) is drawn with the same pieces.
FUNNEL_COLOURS = _FUNNEL_COLOURS
MUTED = _MUTED
document = _document
escape = _e
escape_lines = _e_lines
row = _row
section_title = _section_title
