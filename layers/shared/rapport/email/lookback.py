"""The weekly look-back email: subject, HTML part and plain-text part, drawn like the digest.

The chart of each target's progress is a table of coloured cells (one per week, coloured by the
stage at the week's end, with the week's exchanges written in it): no image, so it draws in every
mail client, and forced dark modes invert each cell's background and text together.
"""

from __future__ import annotations

from datetime import date

from rapport.domain.model import Stage
from rapport.email.html import (
    FUNNEL_COLOURS,
    MUTED,
    document,
    escape,
    escape_lines,
    hidden_preheader,
    row,
    section_title,
)
from rapport.email.links import handle
from rapport.email.render import RenderedDigest
from rapport.email.view import LookbackView, Received
from rapport.email.wording import HANDS_OFF, STAGE_NAMES, clean, spend_lines, transition_summary

__all__ = ["lookback_subject", "render_lookback"]

NOTHING_RECEIVED = "No thanks, replies or follow-backs this week."
NO_CHANGES_THIS_WEEK = "No stage changes this week."
# Two letters per stage, for the plain-text chart.
_SHORT: dict[Stage, str] = {
    Stage.RETWEET: "Rt",
    Stage.ANSWER: "An",
    Stage.ASK: "As",
    Stage.CIRCLE: "Ci",
    Stage.UNRESPONSIVE: "Un",
    Stage.PAUSED: "Pa",
}


def lookback_subject(view: LookbackView) -> str:
    return f"Rapport · week to {view.local_date.isoformat()} · look back"


def _week_label(day: date) -> str:
    return day.strftime("%m-%d")


def _received_line(r: Received) -> str:
    return f"@{handle(r.username)} {r.what} ({r.at.date().isoformat()})"


def _summary(view: LookbackView) -> str:
    moved = len(view.transitions)
    got = len(view.received)
    return (
        f"{view.first_day.isoformat()} to {view.local_date.isoformat()}: "
        f"{moved} stage change{'' if moved == 1 else 's'}, {got} thing{'' if got == 1 else 's'} received, "
        f"{view.spend_week.text()} spent on X"
    )


# --- HTML -------------------------------------------------------------------------------------------


def _cell(stage: Stage | None, exchanges: int) -> str:
    if stage is None:
        return (
            '<td align="center" bgcolor="#ffffff" style="padding:4px 0;background-color:#ffffff;'
            'color:#a1a1aa;font-size:11px;">&middot;</td>'
        )
    bg = FUNNEL_COLOURS[stage]
    shown = str(exchanges) if exchanges else "&nbsp;"
    return (
        f'<td align="center" bgcolor="{bg}" title="{escape(STAGE_NAMES[stage])}" '
        f'style="padding:4px 0;background-color:{bg};color:#ffffff;font-size:11px;font-weight:700;">'
        f"{shown}</td>"
    )


def _chart(view: LookbackView) -> str:
    head = "".join(
        f'<td align="center" style="padding:2px 0;font-size:10px;color:{MUTED};">{_week_label(d)}</td>'
        for d in view.week_ends
    )
    rows = "".join(
        f'<tr><td style="padding:2px 8px 2px 0;font-size:12px;white-space:nowrap;">'
        f"@{escape(handle(t.username))}</td>"
        + "".join(_cell(stage, n) for stage, n in zip(t.stages, t.exchanges, strict=True))
        + "</tr>"
        for t in view.progress
    )
    legend = " ".join(
        f'<span style="display:inline-block;margin:4px 8px 0 0;font-size:11px;color:{MUTED};">'
        f'<span style="display:inline-block;width:10px;height:10px;background-color:{FUNNEL_COLOURS[s]};'
        f'color:{FUNNEL_COLOURS[s]};">&nbsp;</span> {escape(STAGE_NAMES[s])}</span>'
        for s in Stage
    )
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="2" border="0" '
        'style="border-collapse:separate;border-spacing:2px;table-layout:fixed;">'
        f'<tr><td width="34%"></td>{head}</tr>{rows}</table>'
        f'<div style="font-size:11px;color:{MUTED};margin-top:4px;">Colour: the stage at the end of '
        f"each week; number: exchanges either way that week.</div><div>{legend}</div>"
    )


def _list(lines: list[str], empty: str) -> str:
    if not lines:
        return f'<p style="margin:0;font-size:14px;color:{MUTED};">{escape(empty)}</p>'
    items = "".join(f'<li style="margin:0 0 6px 0;">{escape_lines(line)}</li>' for line in lines)
    return f'<ul style="margin:0;padding-left:18px;font-size:14px;">{items}</ul>'


def _changes(view: LookbackView) -> list[str]:
    return [
        f"@{handle(name)}: {transition_summary(t)} ({t.at.date().isoformat()}) — {t.reason}"
        for name, t in view.transitions
    ]


def render_lookback_html(view: LookbackView, subject: str) -> str:
    rows = [
        row(
            f'<div style="font-size:20px;font-weight:700;">Rapport · your week</div>'
            f'<div style="font-size:13px;color:{MUTED};">{escape(_summary(view))} · '
            f"for @{escape(handle(view.me_username))}</div>",
            padding="20px 20px 4px 20px",
        ),
        section_title("Progress over the weeks"),
        row(_chart(view)),
        section_title("Stage changes"),
        row(_list(_changes(view), NO_CHANGES_THIS_WEEK)),
        section_title("Thanks, replies and follow-backs"),
        row(_list([_received_line(r) for r in view.received], NOTHING_RECEIVED)),
        section_title("X API spend"),
        row(_list(_spend(view), "")),
        row(f'<div style="font-size:12px;color:{MUTED};">{escape(HANDS_OFF)}</div>', padding="8px 20px 20px"),
    ]
    return document(subject, hidden_preheader(_summary(view)), rows)


def _spend(view: LookbackView) -> list[str]:
    lines = [f"This week: {view.spend_week.text()}"]
    if view.spend is not None:
        lines += spend_lines(view.spend)[1:]  # the month and the budget; "yesterday" is the daily's
    return lines


# --- text -------------------------------------------------------------------------------------------


def render_lookback_text(view: LookbackView, subject: str) -> str:
    out = [subject, f"for @{handle(clean(view.me_username))}", _summary(view), ""]
    out += ["PROGRESS OVER THE WEEKS", "======================="]
    out.append("Stage at the end of each week, and exchanges either way that week:")
    width = max([len(handle(t.username)) + 1 for t in view.progress] + [8])
    out.append(" " * width + "  " + "  ".join(f"{_week_label(d):<5}" for d in view.week_ends))
    for t in view.progress:
        cells = [
            "-    " if stage is None else f"{_SHORT[stage]} {n:<2}"
            for stage, n in zip(t.stages, t.exchanges, strict=True)
        ]
        out.append(f"@{handle(clean(t.username))}".ljust(width) + "  " + "  ".join(cells))
    out.append("  ".join(f"{short} {STAGE_NAMES[s]}" for s, short in _SHORT.items()))
    out += ["", "STAGE CHANGES", "============="]
    out += [f"- {clean(line)}" for line in _changes(view)] or [NO_CHANGES_THIS_WEEK]
    out += ["", "THANKS, REPLIES AND FOLLOW-BACKS", "================================"]
    out += [f"- {clean(_received_line(r))}" for r in view.received] or [NOTHING_RECEIVED]
    out += ["", "X API SPEND", "===========", *_spend(view), "", HANDS_OFF]
    return "\n".join(out) + "\n"


def render_lookback(view: LookbackView) -> RenderedDigest:
    subject = lookback_subject(view)
    return RenderedDigest(subject, render_lookback_html(view, subject), render_lookback_text(view, subject))
