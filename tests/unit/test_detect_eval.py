"""Running the detectors over a CSV, and measuring them against the keyword baseline."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from rapport_local.detect_eval import (
    LABELLED_SET,
    REAL_THANKS_SET,
    cross_validate,
    detect_rows,
    evaluate,
    evaluate_labelled,
    evaluate_thanks_replies,
    evaluate_tweet_acts,
    fold_indices,
    format_report,
    summarise_folds,
    time_per_post,
    write_detections,
)


def _shared_dir() -> Path | None:
    """The repository's sibling ``shared/`` folder, else ``$RAPPORT_SHARED_DIR``."""
    candidates = [Path(__file__).resolve().parents[2].parent / "shared"]
    if os.environ.get("RAPPORT_SHARED_DIR"):
        candidates.append(Path(os.environ["RAPPORT_SHARED_DIR"]))
    return next((c for c in candidates if (c / "datasets" / "tweet-acts" / "dev.csv").is_file()), None)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- detect_rows / write_detections --------------------------------------------------------------


def test_given_texts_when_detect_rows_then_each_gets_0_or_1_flags():
    rows = detect_rows(["Anyone know a good host?", "@ana_builds thanks!", "Shipped v2"], "ana_builds")
    assert rows == [("Anyone know a good host?", 1, 0), ("@ana_builds thanks!", 0, 1), ("Shipped v2", 0, 0)]


def test_given_a_csv_with_a_text_column_when_written_then_the_output_is_text_question_thanks(tmp_path):
    # Given a CSV with extra columns, commas and quotes in the text
    src = _write_csv(
        tmp_path / "posts.csv",
        ["id", "text"],
        [
            ["1", "Any recommendations for a Postgres host, anyone?"],
            ["2", '@ana_builds "thanks", truly'],
            ["3", ""],
        ],
    )
    out = io.StringIO()
    # When
    count = write_detections(src, out, me_username="ana_builds")
    # Then: the header, one row per input row, the text round-trips and flags are 0/1
    assert count == 3
    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    assert parsed == [
        ["text", "question", "thanks"],
        ["Any recommendations for a Postgres host, anyone?", "1", "0"],
        ['@ana_builds "thanks", truly', "0", "1"],
        ["", "0", "0"],
    ]


def test_given_a_csv_with_a_byte_order_mark_when_written_then_the_text_column_is_found(tmp_path):
    src = tmp_path / "bom.csv"
    src.write_text("\ufefftext\nWhat's your favourite editor?\n", encoding="utf-8")
    out = io.StringIO()
    assert write_detections(src, out) == 1
    assert out.getvalue().splitlines()[1].endswith(",1,0")


def test_given_a_csv_without_a_text_column_when_written_then_a_value_error_names_the_file(tmp_path):
    src = _write_csv(tmp_path / "no_text.csv", ["body"], [["hello?"]])
    with pytest.raises(ValueError, match=r"no_text\.csv.*'text'"):
        write_detections(src, io.StringIO())


def test_given_an_empty_file_when_written_then_a_value_error_names_the_file(tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.csv"):
        write_detections(src, io.StringIO())


# --- the labelled set ------------------------------------------------------------------------------


def test_the_labelled_set_is_large_and_well_formed():
    with LABELLED_SET.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 150
    assert {tuple(r.keys()) for r in rows} == {("text", "question", "thanks")}
    assert {r["question"] for r in rows} == {"0", "1"}
    assert {r["thanks"] for r in rows} == {"0", "1"}
    assert len({r["text"] for r in rows}) == len(rows)  # no duplicates


def test_given_the_labelled_set_when_evaluated_then_both_detectors_beat_the_keyword_baseline():
    # Given our labelled target-style posts / When measured
    figures = evaluate_labelled()
    # Then (thresholds a little below the measured 0.99/1.00): precision AND recall are high, and
    # clearly above the "?" / "thank" keyword baseline
    for task in ("question", "thanks"):
        rules, baseline = figures[task]["detector"], figures[task]["baseline"]
        assert rules["precision"] >= 0.95, (task, rules)
        assert rules["recall"] >= 0.95, (task, rules)
        assert rules["precision"] > baseline["precision"] + 0.2, (task, rules, baseline)
        assert rules["recall"] > baseline["recall"] + 0.2, (task, rules, baseline)


def test_given_a_labelled_csv_with_a_bad_flag_when_evaluated_then_the_file_and_line_are_named(tmp_path):
    src = _write_csv(
        tmp_path / "bad.csv", ["text", "question", "thanks"], [["ok", "0", "0"], ["x", "yes", "0"]]
    )
    with pytest.raises(ValueError, match=r"bad\.csv:3: column 'question'"):
        evaluate_labelled(src)


# --- the tweet-acts dev set --------------------------------------------------------------------------


def test_given_a_tweet_acts_file_when_evaluated_then_que_and_req_are_the_positives(tmp_path):
    src = _write_csv(
        tmp_path / "dev.csv",
        ["text", "label"],
        [
            ["Anyone know a good book on Rust?", "QUE"],
            ["Please help us find our lost dog", "REQ"],
            ["Isn't it amazing?", "EXP"],
            ["Shipped it.", "STM"],
        ],
    )
    q = evaluate_tweet_acts(src)["question"]
    assert q["positives"] == 2
    assert (q["detector"]["tp"], q["detector"]["fp"], q["detector"]["fn"]) == (2, 0, 0)
    assert (q["baseline"]["tp"], q["baseline"]["fp"], q["baseline"]["fn"]) == (1, 1, 1)


def test_given_no_shared_dir_when_evaluated_then_the_dev_set_is_reported_as_skipped(tmp_path):
    figures = evaluate(tmp_path)
    assert "not found" in figures["tweet_acts_dev"]["skipped"]
    report = format_report(figures)
    assert "skipped" in report
    assert "target_posts" in report
    assert "thanks" in report


def test_given_the_tweet_acts_dev_set_when_evaluated_then_the_question_detector_beats_the_baseline():
    shared = _shared_dir()
    if shared is None:
        pytest.skip("tweet-acts dev.csv not found (../shared beside the repo, or $RAPPORT_SHARED_DIR)")
    # Given the BSD-2 tweet-acts dev set (QUE+REQ positives; many "?" tweets are not questions)
    figures = evaluate(shared)
    dev = figures["tweet_acts_dev"]["question"]
    baseline = dev["baseline"]
    # Then: the rules alone measured P=0.786 R=0.762 F1=0.774 vs baseline P=0.660 R=0.663 F1=0.661;
    # the detector's weights were fitted on these rows, so it must do at least as well as the rules
    # here (its honest figure is the cross-validated one of `rapport detect --evaluate`)
    rules = dev["rules"]
    assert dev["detector"]["f1"] >= rules["f1"]
    assert figures["tweet_acts_dev"]["rows"] > 6000
    assert rules["precision"] >= 0.76
    assert rules["recall"] >= 0.74
    assert rules["f1"] >= 0.75
    assert rules["precision"] > baseline["precision"] + 0.08
    assert rules["recall"] > baseline["recall"] + 0.06
    assert "tweet-acts dev" in format_report(figures)


def test_given_the_real_replies_labelled_for_thanks_when_evaluated_then_the_detector_beats_the_baseline():
    shared = _shared_dir()
    if shared is None:
        pytest.skip("tweet-acts dev.csv not found (../shared beside the repo, or $RAPPORT_SHARED_DIR)")
    # Given 128 real replies and mentions of the dev set labelled by hand (45 thank the account)
    figures = evaluate_thanks_replies(shared / "datasets" / "tweet-acts" / "dev.csv")
    thanks = figures["thanks"]
    # Then: measured P=0.804 R=1.000 F1=0.891 vs baseline P=0.717 R=0.956 F1=0.819
    assert figures["rows"] == 128
    assert thanks["positives"] == 45
    assert thanks["detector"]["recall"] >= 0.95
    assert thanks["detector"]["precision"] >= 0.78
    assert thanks["detector"]["f1"] > thanks["baseline"]["f1"] + 0.05


def test_given_labels_by_row_when_the_thanks_replies_are_evaluated_then_each_names_its_own_account(tmp_path):
    # Given three tweets and labels that point at them by row, each with the account it addresses
    dev = _write_csv(
        tmp_path / "dev.csv",
        ["text", "label"],
        [["@bob thanks for the link!", "EXP"], ["@bob thanks @carol!", "EXP"], ["@bob shipped", "STM"]],
    )
    labels = _write_csv(
        tmp_path / "thanks.csv",
        ["row", "me", "thanks"],
        [["0", "bob", "1"], ["1", "bob", "0"], ["2", "bob", "0"]],
    )
    # When
    thanks = evaluate_thanks_replies(dev, labels)["thanks"]
    # Then thanks to @carol is not thanks to @bob, which the keyword baseline cannot tell
    assert (thanks["detector"]["tp"], thanks["detector"]["fp"]) == (1, 0)
    assert (thanks["baseline"]["tp"], thanks["baseline"]["fp"]) == (1, 1)


def test_the_real_thanks_labels_point_at_rows_and_hold_no_text():
    with REAL_THANKS_SET.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["row", "me", "thanks"]
    assert len({r["row"] for r in rows}) == len(rows) == 128
    assert all(r["row"].isdigit() and r["thanks"] in ("0", "1") for r in rows)


# --- cross-validation and speed -------------------------------------------------------------------------


def test_given_a_size_and_k_when_folded_then_the_folds_are_disjoint_cover_everything_and_are_seeded():
    folds = fold_indices(103, 5)
    assert len(folds) == 5
    assert sorted(i for fold in folds for i in fold) == list(range(103))
    assert {len(f) for f in folds} <= {20, 21}
    assert fold_indices(103, 5) == folds
    assert fold_indices(103, 5, seed=1) != folds


def test_given_a_small_labelled_set_when_cross_validated_then_every_post_is_scored_once():
    # Given posts where "dentist" asks and "shipped" announces, repeated so every fold can learn them
    texts = [f"anyone know a dentist in town {i}" for i in range(20)] + [f"shipped it {i}" for i in range(20)]
    truths = [True] * 20 + [False] * 20
    # When cross-validated over 4 folds
    per_fold = cross_validate(texts, truths, k=4)
    # Then each method has one score per fold, each post counted once, and the learned detector finds
    # what the other folds taught it
    for method in ("detector", "rules", "baseline"):
        assert len(per_fold[method]) == 4
        assert sum(s.tp + s.fp + s.fn + s.tn for s in per_fold[method]) == 40
    assert sum(s.tp for s in per_fold["detector"]) == 20
    assert sum(s.fp for s in per_fold["detector"]) == 0
    summary = summarise_folds(per_fold["detector"])
    assert summary["f1"] == {"mean": 1.0, "sd": 0.0}
    assert len(summary["f1_per_fold"]) == 4


def test_given_cross_validated_and_timed_figures_when_formatted_then_mean_sd_and_time_per_post_are_shown():
    cv_scores = {"precision": {"mean": 0.8, "sd": 0.03}, "recall": {"mean": 0.82, "sd": 0.04}}
    summary = {**cv_scores, "f1": {"mean": 0.81, "sd": 0.02}, "f1_per_fold": [0.79, 0.83]}
    figures = {
        "tweet_acts_cv": {
            "rows": 10,
            "folds": 2,
            "seed": 13,
            "question": {"detector": summary, "rules": summary},
        },
        "speed": {"posts": 10, "rules_ms": 0.12, "detector_ms": 0.34, "model_kb": 268.9},
    }
    report = format_report(figures)
    assert "2-fold cross-validation" in report
    assert "0.810 +-0.020" in report
    assert "0.790 0.830" in report
    assert "detector (rules + weights) 0.340 ms" in report


def test_given_the_shipped_detector_when_timed_on_the_labelled_posts_then_it_is_fast_enough_for_every_post():
    with LABELLED_SET.open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    from rapport.domain.detectors.questions import is_question

    # Then well under the few milliseconds a Lambda can spend per post read (measured about 0.3 ms)
    assert time_per_post(is_question, texts, repeats=1) < 5.0
