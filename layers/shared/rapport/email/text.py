"""The digest's plain-text part: the same content as the HTML part, readable in any mail client."""

from __future__ import annotations

from rapport.domain.model import Stage, suggestion_ref
from rapport.email.links import handle, intent_links, member_links
from rapport.email.view import DigestView
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
    clean,
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

__all__ = ["render_text"]


def _spend_lines(view: DigestView) -> list[str]:
    return spend_lines(view.spend) if view.spend is not None else []


def _quoted(text: str, prefix: str) -> list[str]:
    return [f"{prefix}{line}".rstrip() for line in clean(text).split("\n")]


def _text_strip(stage: Stage) -> str:
    if stage in OFF_LADDER:
        return f"[{STAGE_NAMES[stage].upper()}]"
    current = LADDER.index(stage)
    cells = []
    for i, step in enumerate(LADDER):
        name = step.value
        cells.append(f"✓ {name}" if i < current else f"[{name.upper()}]" if i == current else name)
    return " > ".join(cells)


def render_text(view: DigestView, subject: str) -> str:
    out: list[str] = [subject, f"for @{handle(clean(view.me_username))}", ""]
    if not view.suggestions:
        return _render_text_empty(view, out)
    out += ["TODAY'S ACTIONS", "==============="]
    for number, s in enumerate(view.suggestions, start=1):
        target = handle(clean(s.target_username))
        out.append(f"{number}. @{target} · {step_label(s, view.stage_of(s.target_username))}")
        out += _quoted(f"Why now: {s.reason}", "   ")
        if s.post_text:
            author = handle(clean(s.post_author_username or s.target_username))
            age = post_age(view, s)
            out.append(f"   @{author} wrote ({age}):" if age else f"   @{author} wrote:")
            out += _quoted(s.post_text, "   > ")
        if s.draft:
            out.append(f"   {DRAFT_LABEL}")
            out += _quoted(s.draft, "   | ")
        for n, m in enumerate(s.circle, start=1):
            out.append(f"   {n}) @{handle(clean(m.username))}: {clean(member_why(m, s.target_username))}")
            if m.post_text:
                out += _quoted(m.post_text, "      > ")
            out += [f"      {clean(label)}: {url}" for label, url in member_links(m)]
        for label, url in [] if s.circle else intent_links(s):
            out.append(f"   {clean(label)}: {url}")
        answers = view.feedback.get(suggestion_ref(s), {})
        if answers:
            out.append(f"   {FEEDBACK_INTRO}")
            out += [f"   - {FEEDBACK_LABELS[a]}: {url}" for a, url in answers.items() if a in FEEDBACK_LABELS]
        out.append("")

    out += ["WHAT CHANGED", "============"]
    if not view.transitions:
        out.append(NO_CHANGES)
    for username, t in view.transitions:
        line = f"- @{handle(clean(username))}: {transition_summary(t)} — {t.reason}"
        out += _quoted(line, "")
    out.append("")

    out += ["WHERE EACH TARGET STANDS", "========================"]
    if not view.targets:
        out.append(NO_TARGETS)
    for status in view.targets:
        pause = snoozed(status)
        out.append(
            f"@{handle(clean(status.username))}  {_text_strip(status.stage)}  "
            f"{since(status, view.local_date)}" + (f"  ({pause})" if pause else "")
        )
    if view.targets:
        out.append("Targets per stage: " + ", ".join(f"{STAGE_NAMES[st]} {n}" for st, n in funnel(view)))
    out.append("")

    if view.losing_touch:
        out += ["LOSING TOUCH", "============"]
        out += [f"- {clean(losing_touch_line(lt))}" for lt in view.losing_touch]
        out.append("")

    spend = _spend_lines(view)
    if spend:
        out += [*spend, ""]
    out.append(HANDS_OFF)
    out += _footer(view)
    return "\n".join(out) + "\n"


def _footer(view: DigestView) -> list[str]:
    lines = [MANAGE_TARGETS]
    if view.pause_url:
        lines.append(f"{PAUSE_LABEL}: {view.pause_url}")
    return lines


def _render_text_empty(view: DigestView, out: list[str]) -> str:
    """The empty day: one line, plus news that should not wait (stage changes, losing touch), spend."""
    out += [EMPTY_DAY, ""]
    for username, t in view.transitions:
        out += _quoted(f"- @{handle(clean(username))}: {transition_summary(t)} — {t.reason}", "")
    if view.transitions:
        out.append("")
    if view.losing_touch:
        out += ["Losing touch:", *(f"- {clean(losing_touch_line(lt))}" for lt in view.losing_touch), ""]
    spend = _spend_lines(view)
    if spend:
        out += [*spend, ""]
    out += _footer(view)
    return "\n".join(out) + "\n"
