"""Two text detectors the relationship engine relies on.

``is_question``: the author asks their network something (information, recommendations, help).
``is_thanks``: the post thanks *us* (the caller guarantees it mentions us or replies to one of our posts).

Both are small, explainable rule sets: pure stdlib, regexes compiled once at import (which
``rapport.domain.classify`` defers to the first post it classifies). They run in a
Lambda on every post read, so they must be fast and predictable. The rules were developed on the
tweet-acts dev set (questions/requests) and on ``infra/rapport_local/data/target_posts.csv``. The
question detector also weighs the rules' findings and the post's words with a small logistic
regression whose weights ship as ``question_model.json`` (read once, on first use). See
``rapport_local.detect_eval`` for the cross-validated precision/recall against the rules alone and a
keyword baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.domain.detectors.questions import is_question
from rapport.domain.detectors.thanks import is_thanks

__all__ = ["Detection", "detect"]


@dataclass(frozen=True, slots=True)
class Detection:
    """Both verdicts for one post."""

    question: bool
    thanks: bool


def detect(text: str, me_username: str | None = None) -> Detection:
    return Detection(question=is_question(text), thanks=is_thanks(text, me_username))
