"""``rapport detect --filter-report``: what the batched search's candidate filter would drop of real tweets.

The option ``Policy.search_candidates_only`` narrows the batched recent search to candidate posts
(``rapport.domain.x.candidate_filter``: a link, or a word questions are asked with). X then bills only
the posts it returns, but a question asked without any of those words is never read. This measures both
on a tweet-acts CSV (``text,label``): the share of the posts the filter keeps (what is still paid
for), and the share of the questions it drops, those the question detector flags (what Rapport would
have suggested answering) and those the data set labels QUE or REQ. Each post is matched as the X
simulator matches a query (``rapport_local.xsim.search``: X's tokenized keywords and ``has:links``).

Two sets of posts: the originals (neither a retweet, "RT @...", nor a reply, "@name ..."), which are
what the search returns, and every tweet, a larger sample of the same wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapport.domain.detectors.questions import is_question
from rapport.domain.x import CANDIDATE_WORDS, authors_per_query, candidate_filter
from rapport_local.detect_eval import TWEET_ACTS_DEV, _tweet_acts_questions
from rapport_local.xsim.entities import serve_text
from rapport_local.xsim.records import SimPost
from rapport_local.xsim.search import Matcher, parse_search

AUTHOR = "1"
_AT = datetime(2026, 1, 1, tzinfo=UTC)  # any time: the filter does not look at it
_WH_WORDS = 7  # the first words of CANDIDATE_WORDS: what, why, how, who, where, when, which
# Questions opened by an auxiliary ("is it...", "do you..."): not in Rapport's filter, which would then
# keep nearly every post; measured to show what closing the gap would cost.
_AUXILIARIES = (
    "you", "u", "do", "does", "did", "is", "are", "can", "could", "would", "should", "will", "have", "has",
)  # fmt: skip
# Ever wider filters, the last one the one Rapport sends: each row shows what its words cost and save.
VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("has:links", ()),
    ("has:links + wh-words", CANDIDATE_WORDS[:_WH_WORDS]),
    ("has:links + wh-words + asking words (Rapport's)", CANDIDATE_WORDS),
    ("all these + auxiliaries and you", (*CANDIDATE_WORDS, *_AUXILIARIES)),
)


@dataclass(frozen=True, slots=True)
class Tweet:
    text: str
    labelled_question: bool
    detected_question: bool
    original: bool


def read_tweets(path: Path) -> list[Tweet]:
    """The tweets of a tweet-acts CSV, each with its label and the question detector's verdict."""
    texts, labelled = _tweet_acts_questions(path)
    return [
        Tweet(
            text=text,
            labelled_question=question,
            detected_question=is_question(text),
            original=not text.startswith(("RT @", "@")),
        )
        for text, question in zip(texts, labelled, strict=True)
    ]


def keeps(only: str) -> Callable[[str], bool]:
    """Whether recent search narrowed by ``only`` returns a post with this text (its author searched)."""
    query = parse_search(f"from:{AUTHOR} {only}")
    matcher = Matcher(user_id=lambda _handle: None, author_of=lambda _post_id: None)

    def kept(text: str) -> bool:
        served = serve_text(text, salt="0", resolve=lambda _handle: None)  # links become t.co entities
        post = SimPost("0", 0, _AT, AUTHOR, served.text, served.mentions, served.links)
        return matcher.matches(query, post)

    return kept


def _share(part: int, whole: int) -> dict[str, Any]:
    return {"n": part, "of": whole, "share": round(part / whole, 4) if whole else 0.0}


def measure(tweets: Sequence[Tweet], words: Sequence[str]) -> dict[str, Any]:
    """One filter on one set of posts: kept posts, dropped detected and labelled questions."""
    only = candidate_filter(words)
    kept = keeps(only)
    verdicts = [kept(t.text) for t in tweets]
    detected = [v for t, v in zip(tweets, verdicts, strict=True) if t.detected_question]
    labelled = [v for t, v in zip(tweets, verdicts, strict=True) if t.labelled_question]
    return {
        "filter": only,
        "characters": len(only) + 1,  # and the space before it
        "authors_per_query": authors_per_query(only),
        "kept": _share(sum(verdicts), len(tweets)),
        "missed_detected": _share(detected.count(False), len(detected)),
        "missed_labelled": _share(labelled.count(False), len(labelled)),
    }


def filter_report(path: Path) -> dict[str, Any]:
    """Each filter of ``VARIANTS`` on the originals and on every tweet of a tweet-acts CSV."""
    tweets = read_tweets(path)
    sets = {"originals": [t for t in tweets if t.original], "every tweet": tweets}
    return {
        "path": str(path),
        "authors_per_query_unfiltered": authors_per_query(),
        "rows": [
            {"posts": name, "size": len(posts), "variant": label, **measure(posts, words)}
            for name, posts in sets.items()
            for label, words in VARIANTS
        ],
    }


def shared_report(shared_dir: Path) -> dict[str, Any]:
    """The report on the tweet-acts dev set under ``shared_dir`` (``ValueError`` when it is absent)."""
    path = Path(shared_dir) / TWEET_ACTS_DEV
    if not path.is_file():
        raise ValueError(f"not found: {path} (the tweet-acts dev set; --shared names its folder)")
    return filter_report(path)


def _pct(figure: dict[str, Any]) -> str:
    return f"{figure['n']:,} of {figure['of']:,} ({100 * figure['share']:.1f} %)"


def format_filter_report(report: dict[str, Any]) -> str:
    """A Markdown table: per set of posts and filter, its length, authors per query and what it drops."""
    lines = [
        f"Server-side filter of the batched search, on {report['path']}",
        f"Rapport's filter: {candidate_filter()}",
        f"Authors per query (19-digit ids) without a filter: {report['authors_per_query_unfiltered']}",
        "",
        "| posts | filter | characters | authors per query | posts kept (paid for) "
        "| detected questions dropped | labelled questions (QUE+REQ) dropped |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['posts']} ({row['size']:,}) | {row['variant']} | {row['characters']} "
            f"| {row['authors_per_query']} | {_pct(row['kept'])} | {_pct(row['missed_detected'])} "
            f"| {_pct(row['missed_labelled'])} |"
        )
    return "\n".join(lines) + "\n"
