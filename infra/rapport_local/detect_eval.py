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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rapport.domain.detectors.questions import is_question
from rapport.domain.detectors.thanks import is_thanks

LABELLED_SET = Path(__file__).resolve().parent / "data" / "target_posts.csv"
LABELLED_ME = "ana_builds"  # the account the thanks rows of the labelled set address
TWEET_ACTS_DEV = Path("datasets") / "tweet-acts" / "dev.csv"
QUESTION_LABELS = frozenset({"QUE", "REQ"})

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


def _compare(texts: list[str], truths: list[bool], detector: Predict, baseline: Predict) -> dict[str, Any]:
    return {
        "positives": sum(truths),
        "detector": score(texts, truths, detector).as_dict(),
        "baseline": score(texts, truths, baseline).as_dict(),
    }


def _flag(path: Path, line: int, column: str, value: str) -> bool:
    if value.strip() not in ("0", "1"):
        raise ValueError(f"{path}:{line}: column {column!r} must be 0 or 1, got {value!r}")
    return value.strip() == "1"


def evaluate_tweet_acts(path: Path) -> dict[str, Any]:
    """Question detector vs baseline on a tweet-acts CSV (columns ``text,label``)."""
    rows = _read_csv(path, ["text", "label"])
    texts = [row["text"] for row in rows]
    truths = [row["label"].strip().upper() in QUESTION_LABELS for row in rows]
    return {
        "path": str(path),
        "rows": len(rows),
        "question": _compare(texts, truths, is_question, baseline_question),
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
        "question": _compare(texts, questions, is_question, baseline_question),
        "thanks": _compare(texts, thanks, lambda t: is_thanks(t, me_username), baseline_thanks),
    }


def evaluate(shared_dir: Path, labelled_path: Path = LABELLED_SET) -> dict[str, Any]:
    """Figures for both datasets: ``{"tweet_acts_dev": {...}, "target_posts": {...}}``.

    ``shared_dir`` is the folder holding ``datasets/`` (``../shared`` from the repo root in CI). When
    the tweet-acts file is absent its entry says so under ``"skipped"`` instead of failing, so that the
    labelled set can still be measured; the report shows the missing path.
    """
    dev_path = Path(shared_dir) / TWEET_ACTS_DEV
    dev: dict[str, Any]
    if dev_path.is_file():
        dev = evaluate_tweet_acts(dev_path)
    else:
        dev = {"path": str(dev_path), "skipped": f"not found: {dev_path}"}
    return {"tweet_acts_dev": dev, "target_posts": evaluate_labelled(labelled_path)}


_TITLES = {"tweet_acts_dev": "tweet-acts dev", "target_posts": "target_posts"}
_METHODS = (("detector", "rules"), ("baseline", "baseline"))


def _row(dataset: str, rows: str, task: str, method: str, s: dict[str, Any]) -> str:
    figures = f"{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>7.3f}"
    counts = f"{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}"
    return f"{dataset:<16}{rows:>6}  {task:<9}{method:<10}{figures}{counts}"


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
        title = _TITLES.get(key, key)
        if "skipped" in data:
            lines += [f"{title:<16}{'-':>6}  skipped ({data['skipped']})", ""]
            continue
        first = True
        for task in ("question", "thanks"):
            for method, label in _METHODS if task in data else ():
                dataset, rows = (title, str(data["rows"])) if first else ("", "")
                lines.append(
                    _row(dataset, rows, task if method == "detector" else "", label, data[task][method])
                )
                first = False
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
