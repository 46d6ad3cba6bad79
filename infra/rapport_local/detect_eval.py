"""Run and measure the text detectors of ``rapport.domain.detectors`` against a keyword baseline.

Two jobs, wired into the CLI by ``rapport detect``:

* ``write_detections``: label every ``text`` of a CSV with the two detectors (``--file CSV``).
* ``evaluate`` + ``format_report``: precision, recall and F1 of both detectors and of the keyword
  baseline (question = "?" in the text, thanks = "thank" in the lowercased text) on

  - the tweet-acts dev set, ``<shared_dir>/datasets/tweet-acts/dev.csv`` (BSD-2, never copied into the
    repo): question positives are the QUE and REQ labels; it has no gratitude label;
  - our own labelled set of target-style posts, ``data/target_posts.csv`` (both detectors; every
    thanks row is written as a target replying to or mentioning ``@ana_builds``).
"""

from __future__ import annotations

import csv
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rapport.domain.detectors import questions
from rapport.domain.detectors.learned import Example, LogisticModel, TrainingParams, fit
from rapport.domain.detectors.questions import (
    is_question,
    is_question_by_rules,
    question_detector,
    question_features,
)
from rapport.domain.detectors.thanks import is_thanks

LABELLED_SET = Path(__file__).resolve().parent / "data" / "target_posts.csv"
LABELLED_ME = "ana_builds"  # the account the thanks rows of the labelled set address
TWEET_ACTS_DEV = Path("datasets") / "tweet-acts" / "dev.csv"
# Real replies and mentions of the dev set, labelled for gratitude (row numbers, not the texts).
REAL_THANKS_SET = Path(__file__).resolve().parent / "data" / "tweet_acts_thanks.csv"
QUESTION_LABELS = frozenset({"QUE", "REQ"})
FOLDS = 5
FOLD_SEED = 13  # which tweet lands in which fold; fixed so that the figures can be reproduced

Predict = Callable[[str], bool]


def baseline_question(text: str) -> bool:
    return "?" in text


def baseline_thanks(text: str) -> bool:
    return "thank" in text.lower()


def detect_rows(rows: Iterable[str], me_username: str | None) -> list[tuple[str, int, int]]:
    """(text, question 0/1, thanks 0/1) for each text."""
    return [(text, int(is_question(text)), int(is_thanks(text, me_username))) for text in rows]


def _read_csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    # utf-8-sig: spreadsheets often save CSVs with a byte-order mark before the first header.
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        missing = [c for c in required if c not in columns]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} "
                f"(found: {', '.join(repr(c) for c in columns) or 'no header'})"
            )
        return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def write_detections(in_path: Path, out: TextIO, me_username: str | None = None) -> int:
    """Read a CSV with a ``text`` column and write ``text,question,thanks`` (0/1) to ``out``.

    Returns the number of rows written (header excluded). Raises ``ValueError`` naming the file when
    it has no ``text`` column.
    """
    texts = [row["text"] for row in _read_csv(in_path, ["text"])]
    detections = detect_rows(texts, me_username)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "question", "thanks"])
    writer.writerows(detections)
    return len(detections)


@dataclass(frozen=True, slots=True)
class Scores:
    """Confusion counts of one binary predictor on one dataset."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def score(texts: list[str], truths: list[bool], predict: Predict) -> Scores:
    tp = fp = fn = tn = 0
    for text, truth in zip(texts, truths, strict=True):
        predicted = predict(text)
        if predicted and truth:
            tp += 1
        elif predicted:
            fp += 1
        elif truth:
            fn += 1
        else:
            tn += 1
    return Scores(tp, fp, fn, tn)


def _compare(
    texts: list[str], truths: list[bool], detector: Predict, baseline: Predict, rules: Predict | None = None
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "positives": sum(truths),
        "detector": score(texts, truths, detector).as_dict(),
        "baseline": score(texts, truths, baseline).as_dict(),
    }
    if rules is not None:
        figures["rules"] = score(texts, truths, rules).as_dict()
    return figures


def _flag(path: Path, line: int, column: str, value: str) -> bool:
    if value.strip() not in ("0", "1"):
        raise ValueError(f"{path}:{line}: column {column!r} must be 0 or 1, got {value!r}")
    return value.strip() == "1"


def evaluate_tweet_acts(path: Path) -> dict[str, Any]:
    """Question detector vs baseline on a tweet-acts CSV (columns ``text,label``)."""
    texts, truths = _tweet_acts_questions(path)
    return {
        "path": str(path),
        "rows": len(texts),
        "question": _compare(texts, truths, is_question, baseline_question, is_question_by_rules),
    }


def evaluate_labelled(path: Path = LABELLED_SET, me_username: str = LABELLED_ME) -> dict[str, Any]:
    """Both detectors vs baseline on a labelled CSV (columns ``text,question,thanks``)."""
    rows = _read_csv(path, ["text", "question", "thanks"])
    texts = [row["text"] for row in rows]
    # Line numbers for error messages: the header is line 1 (texts are single-line in our set).
    questions = [_flag(path, i, "question", row["question"]) for i, row in enumerate(rows, start=2)]
    thanks = [_flag(path, i, "thanks", row["thanks"]) for i, row in enumerate(rows, start=2)]
    return {
        "path": str(path),
        "rows": len(rows),
        "question": _compare(texts, questions, is_question, baseline_question, is_question_by_rules),
        "thanks": _compare(texts, thanks, lambda t: is_thanks(t, me_username), baseline_thanks),
    }


def evaluate_thanks_replies(dev_path: Path, labels_path: Path = REAL_THANKS_SET) -> dict[str, Any]:
    """Thanks detector vs baseline on real tweets of the tweet-acts dev set labelled by hand.

    ``labels_path`` holds ``row,me,thanks``: the 0-based row of ``dev_path`` (the text stays in the
    data set), the account the tweet replies to or mentions first (taken as "us"), and 1 when the
    tweet thanks that account for something given or done.
    """
    texts = [row["text"] for row in _read_csv(dev_path, ["text", "label"])]
    labels = _read_csv(labels_path, ["row", "me", "thanks"])
    picked = [(texts[int(r["row"])], r["me"]) for r in labels]
    truths = [_flag(labels_path, i, "thanks", r["thanks"]) for i, r in enumerate(labels, start=2)]
    by_text = dict(picked)
    return {
        "path": str(labels_path),
        "rows": len(picked),
        "thanks": _compare(
            [t for t, _ in picked], truths, lambda t: is_thanks(t, by_text[t]), baseline_thanks
        ),
    }


def evaluate(
    shared_dir: Path, labelled_path: Path = LABELLED_SET, folds: int = 0, fold_seed: int = FOLD_SEED
) -> dict[str, Any]:
    """Figures per data set: ``{"tweet_acts_dev": {...}, "tweet_acts_thanks": {...}, "target_posts": {...}}``.

    ``shared_dir`` is the folder holding ``datasets/`` (``../shared`` from the repo root in CI). When
    the tweet-acts file is absent its entry says so under ``"skipped"`` instead of failing, so that the
    labelled set can still be measured; the report shows the missing path. With ``folds`` (>= 2) the
    question detector is also cross-validated on the dev set (``"tweet_acts_cv"``) and timed
    (``"speed"``); that takes a minute or two, as it trains once per fold.

    On ``tweet_acts_dev`` and ``target_posts`` the shipped weights were fitted on those very rows:
    only the cross-validated figures say how the detector does on posts it was not tuned on.
    """
    dev_path = Path(shared_dir) / TWEET_ACTS_DEV
    if not dev_path.is_file():
        skipped = {"path": str(dev_path), "skipped": f"not found: {dev_path}"}
        return {"tweet_acts_dev": skipped, "target_posts": evaluate_labelled(labelled_path)}
    figures: dict[str, Any] = {
        "tweet_acts_dev": evaluate_tweet_acts(dev_path),
        "tweet_acts_thanks": evaluate_thanks_replies(dev_path),
        "target_posts": evaluate_labelled(labelled_path),
    }
    if folds >= 2:
        figures["tweet_acts_cv"] = cross_validate_tweet_acts(dev_path, folds, labelled_path, fold_seed)
        figures["speed"] = measure_speed(_tweet_acts_questions(dev_path)[0])
    return figures


# --- the learned part of the question detector: training and cross-validation -------------------

MODEL_PATH = Path(questions.__file__).with_name(questions.MODEL_FILE)
PARAMS = TrainingParams()


def _tweet_acts_questions(path: Path) -> tuple[list[str], list[bool]]:
    rows = _read_csv(path, ["text", "label"])
    return [row["text"] for row in rows], [row["label"].strip().upper() in QUESTION_LABELS for row in rows]


def _labelled_questions(path: Path) -> tuple[list[str], list[bool]]:
    rows = _read_csv(path, ["text", "question"])
    return [row["text"] for row in rows], [
        _flag(path, i, "question", row["question"]) for i, row in enumerate(rows, start=2)
    ]


def _examples(texts: Sequence[str], truths: Sequence[bool]) -> list[Example]:
    return [Example(question_features(t), y) for t, y in zip(texts, truths, strict=True)]


def train_question_model(
    shared_dir: Path, labelled_path: Path = LABELLED_SET, params: TrainingParams = PARAMS
) -> LogisticModel:
    """The shipped weights: fitted on the whole tweet-acts dev set and our labelled target posts."""
    dev_path = Path(shared_dir) / TWEET_ACTS_DEV
    if not dev_path.is_file():
        raise FileNotFoundError(f"tweet-acts dev set not found: {dev_path}")
    dev_texts, dev_truths = _tweet_acts_questions(dev_path)
    own_texts, own_truths = _labelled_questions(labelled_path)
    about = {
        "what": "is_question: weights of the rule signals and words (rapport.domain.detectors.questions)",
        "trained_by": "rapport detect --train",
        "trained_on": {"tweet-acts dev (QUE+REQ)": len(dev_texts), labelled_path.name: len(own_texts)},
        "params": {
            "epochs": params.epochs,
            "rate": params.rate,
            "l2": params.l2,
            "min_count": params.min_count,
            "seed": params.seed,
            "prune_below": params.prune_below,
        },
    }
    return fit(_examples(dev_texts, dev_truths) + _examples(own_texts, own_truths), params, about)


def write_question_model(model: LogisticModel, path: Path = MODEL_PATH) -> int:
    """Write the model as JSON; returns its size in bytes."""
    text = model.to_json()
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def fold_indices(n: int, k: int, seed: int = FOLD_SEED) -> list[list[int]]:
    """``k`` disjoint folds covering ``range(n)``, after a seeded shuffle."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[f::k]) for f in range(k)]


def cross_validate(
    texts: Sequence[str],
    truths: Sequence[bool],
    extra: Sequence[Example] = (),
    k: int = FOLDS,
    *,
    params: TrainingParams = PARAMS,
    seed: int = FOLD_SEED,
) -> dict[str, list[Scores]]:
    """Scores per fold of the rules, the baseline and the detector whose weights were fitted on the
    other folds (plus ``extra`` examples from elsewhere), never on the fold it is scored on."""
    features = [question_features(t) for t in texts]
    per_fold: dict[str, list[Scores]] = {"detector": [], "rules": [], "baseline": []}
    for held_out in fold_indices(len(texts), k, seed):
        held = set(held_out)
        train = [Example(features[i], truths[i]) for i in range(len(texts)) if i not in held]
        detector = question_detector(fit([*train, *extra], params))
        fold_texts = [texts[i] for i in held_out]
        fold_truths = [truths[i] for i in held_out]
        per_fold["detector"].append(score(fold_texts, fold_truths, detector))
        per_fold["rules"].append(score(fold_texts, fold_truths, is_question_by_rules))
        per_fold["baseline"].append(score(fold_texts, fold_truths, baseline_question))
    return per_fold


def _mean_sd(values: list[float]) -> dict[str, float]:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 4), "sd": round(sd, 4)}


def summarise_folds(per_fold: list[Scores]) -> dict[str, Any]:
    return {
        "precision": _mean_sd([s.precision for s in per_fold]),
        "recall": _mean_sd([s.recall for s in per_fold]),
        "f1": _mean_sd([s.f1 for s in per_fold]),
        "f1_per_fold": [round(s.f1, 4) for s in per_fold],
    }


def cross_validate_tweet_acts(
    path: Path, k: int = FOLDS, labelled_path: Path = LABELLED_SET, seed: int = FOLD_SEED
) -> dict[str, Any]:
    texts, truths = _tweet_acts_questions(path)
    own_texts, own_truths = _labelled_questions(labelled_path)
    per_fold = cross_validate(texts, truths, _examples(own_texts, own_truths), k, seed=seed)
    return {
        "path": str(path),
        "rows": len(texts),
        "folds": k,
        "seed": seed,
        "question": {method: summarise_folds(scores) for method, scores in per_fold.items()},
    }


def time_per_post(predict: Predict, texts: Sequence[str], repeats: int = 3) -> float:
    """CPU milliseconds per post: the best of ``repeats`` passes over ``texts``.

    CPU time of this process, not wall time, so that other work on a shared machine does not count.
    One post is run first: the cold start reads the model file once, which is not a per-post cost.
    """
    predict(texts[0])
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for text in texts:
            predict(text)
        best = min(best, time.process_time() - start)
    return round(1000 * best / len(texts), 4)


def measure_speed(texts: Sequence[str]) -> dict[str, Any]:
    return {
        "posts": len(texts),
        "rules_ms": time_per_post(is_question_by_rules, texts),
        "detector_ms": time_per_post(is_question, texts),
        "model_kb": round(MODEL_PATH.stat().st_size / 1024, 1),
    }


_TITLES = {
    "tweet_acts_dev": "tweet-acts dev",
    "tweet_acts_thanks": "tweet-acts thx",
    "target_posts": "target_posts",
}
_METHODS = (("detector", "detector"), ("rules", "rules"), ("baseline", "baseline"))


def _row(dataset: str, rows: str, task: str, method: str, s: dict[str, Any]) -> str:
    figures = f"{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>7.3f}"
    counts = f"{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}"
    return f"{dataset:<16}{rows:>6}  {task:<9}{method:<10}{figures}{counts}"


def _cross_validated_lines(cv: dict[str, Any]) -> list[str]:
    lines = [
        f"Question detector, {cv['folds']}-fold cross-validation (seed {cv['seed']}) on "
        f"tweet-acts dev ({cv['rows']} rows; "
        "weights fitted on the other folds + target_posts), mean +- sd over folds:",
        "",
        f"{'method':<10}{'precision':>16}{'recall':>16}{'F1':>16}   F1 per fold",
    ]
    for method, data in cv["question"].items():
        cells = "".join(
            f"{data[m]['mean']:>9.3f} +-{data[m]['sd']:.3f}" for m in ("precision", "recall", "f1")
        )
        per_fold = " ".join(f"{f:.3f}" for f in data["f1_per_fold"])
        lines.append(f"{method:<10}{cells}   {per_fold}")
    return [*lines, ""]


def _speed_lines(speed: dict[str, Any]) -> list[str]:
    return [
        f"CPU time per post, {speed['posts']} posts (best of 3 passes): rules {speed['rules_ms']:.3f} ms, "
        f"detector (rules + weights) {speed['detector_ms']:.3f} ms; model file {speed['model_kb']} KB",
        "",
    ]


def format_report(figures: dict[str, Any]) -> str:
    """A plain-text table of the figures returned by ``evaluate``."""
    header = (
        f"{'dataset':<16}{'rows':>6}  {'task':<9}{'method':<10}"
        f"{'precision':>10}{'recall':>8}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}"
    )
    lines = [
        "Detectors vs keyword baseline (question: '?' in text; thanks: 'thank' in lowercased text)",
        "",
        header,
        "-" * len(header),
    ]
    for key, data in figures.items():
        if key not in _TITLES:
            continue
        title = _TITLES[key]
        if "skipped" in data:
            lines += [f"{title:<16}{'-':>6}  skipped ({data['skipped']})", ""]
            continue
        first = True
        for task in ("question", "thanks"):
            for method, label in _METHODS if task in data else ():
                if method not in data[task]:
                    continue
                dataset, rows = (title, str(data["rows"])) if first else ("", "")
                lines.append(
                    _row(dataset, rows, task if method == "detector" else "", label, data[task][method])
                )
                first = False
        lines.append("")
    if "tweet_acts_cv" in figures:
        lines += _cross_validated_lines(figures["tweet_acts_cv"])
    if "speed" in figures:
        lines += _speed_lines(figures["speed"])
    return "\n".join(lines).rstrip() + "\n"
