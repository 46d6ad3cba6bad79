"""`rapport detect --filter-report`: what the batched search's candidate filter keeps and drops."""

from __future__ import annotations

import csv
from pathlib import Path

from rapport.domain.x import candidate_filter
from rapport_local.cli import main
from rapport_local.filter_report import filter_report, format_filter_report, keeps, read_tweets

# Six originals and two tweets search never returns (a retweet, a reply).
FIXTURE = [
    ["Notes on tracing https://t.co/abc123", "STM"],  # a link: kept
    ["Which queue do you use for retries?", "QUE"],  # a wh-word: kept
    ["Anyone tried DynamoDB streams at scale?", "QUE"],  # asks the audience: kept
    ["Is Lambda worth it for a tiny team?", "QUE"],  # a question without a cue word: dropped
    ["Shipping the new release today", "STM"],  # nothing to suggest: dropped
    ["Coffee first.", "EXP"],
    ["RT @someone: What a launch https://t.co/xyz", "EXP"],
    ["@mia are you coming tonight?", "QUE"],
]


def _dev_csv(folder: Path) -> Path:
    path = folder / "datasets" / "tweet-acts" / "dev.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(FIXTURE)
    return path


def test_given_the_filter_then_links_and_asking_words_are_kept_and_a_question_mark_alone_is_not():
    kept = keeps(candidate_filter())
    assert kept("Notes on tracing https://t.co/abc123")
    assert kept("What's the best way to cache sessions?")  # X splits "what's" at the apostrophe
    assert kept("ANYONE up for a review")  # keywords match whatever the case
    assert not kept("Is Lambda worth it for a tiny team?")  # "?" is punctuation: X cannot search it
    assert not kept("Shipping the new release today")


def test_given_tweets_when_reported_then_kept_posts_and_dropped_questions_are_counted_per_set(tmp_path):
    # Given a small tweet-acts file
    path = _dev_csv(tmp_path)
    # When the filter report runs on it
    report = filter_report(path)
    # Then, with Rapport's filter, the originals keep 3 of 6 posts and drop 1 of 3 labelled questions
    rapport = next(r for r in report["rows"] if r["posts"] == "originals" and "Rapport" in r["variant"])
    assert (rapport["size"], rapport["kept"]["n"]) == (6, 3)
    assert (rapport["missed_labelled"]["n"], rapport["missed_labelled"]["of"]) == (1, 3)
    detected = [t for t in read_tweets(path) if t.original and t.detected_question]
    assert rapport["missed_detected"]["of"] == len(detected)
    # And a filter with more words keeps as much or more, in fewer authors per query
    originals = [r for r in report["rows"] if r["posts"] == "originals"]
    assert [r["kept"]["n"] for r in originals] == sorted(r["kept"]["n"] for r in originals)
    per_query = [r["authors_per_query"] for r in originals]
    assert per_query == sorted(per_query, reverse=True)
    assert rapport["authors_per_query"] < report["authors_per_query_unfiltered"]
    # And every tweet is the second set, retweet and reply included
    assert {r["size"] for r in report["rows"] if r["posts"] == "every tweet"} == {8}


def test_the_cli_prints_the_report_as_a_table_and_names_a_missing_data_set(tmp_path, capsys):
    _dev_csv(tmp_path)
    assert main(["detect", "--filter-report", "--shared", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| originals (6) | has:links + wh-words + asking words (Rapport's) |" in out
    assert format_filter_report(filter_report(tmp_path / "datasets" / "tweet-acts" / "dev.csv")) == out
    assert main(["detect", "--filter-report", "--shared", str(tmp_path / "elsewhere")]) == 2
    assert "dev.csv" in capsys.readouterr().err
