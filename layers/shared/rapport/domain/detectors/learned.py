"""A small logistic regression over named binary features, trained and applied in pure Python.

The question detector weighs its rule signals and the words of a post with it. Training is here
(not only in the local tooling) so that the model and its training are one reviewed piece of code;
it is deterministic for a given seed. Applying a model is one dictionary look-up per feature.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Example", "LogisticModel", "TrainingParams", "fit"]

# Scores beyond this are certain enough; clamping keeps math.exp in range.
_MAX_SCORE = 30.0
# Three decimals are far finer than the weights' own noise and keep the shipped file small.
_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled post: its feature names and whether it is a positive."""

    features: frozenset[str]
    positive: bool


@dataclass(frozen=True, slots=True)
class TrainingParams:
    """How ``fit`` trains: AdaGrad steps over shuffled examples with an L2 penalty.

    Features seen in fewer than ``min_count`` training examples get no weight (they would only
    memorise single posts), and weights smaller than ``prune_below`` are dropped from the model.
    """

    epochs: int = 10
    rate: float = 0.2
    l2: float = 0.01
    min_count: int = 2
    threshold: float = 0.3
    seed: int = 7
    prune_below: float = 0.15


def _sigmoid(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-_MAX_SCORE, min(_MAX_SCORE, score))))


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """Weights per feature name; a post is positive when its probability reaches ``threshold``."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    about: Mapping[str, Any] = field(default_factory=dict)

    def probability(self, features: Iterable[str]) -> float:
        weights = self.weights
        # fsum is exact, so the verdict does not depend on the order a set yields its features in.
        return _sigmoid(self.bias + math.fsum(weights.get(f, 0.0) for f in features))

    def decide(self, features: Iterable[str]) -> bool:
        return self.probability(features) >= self.threshold

    def to_json(self) -> str:
        body = {
            "about": dict(self.about),
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": dict(sorted(self.weights.items())),
        }
        # One weight a line: a retrained model reads as a diff, and the file stays compact.
        return json.dumps(body, ensure_ascii=False, indent=0, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LogisticModel:
        body = json.loads(text)
        return cls(
            weights={str(k): float(v) for k, v in body["weights"].items()},
            bias=float(body["bias"]),
            threshold=float(body["threshold"]),
            about=dict(body.get("about", {})),
        )


def fit(
    examples: Sequence[Example],
    params: TrainingParams = TrainingParams(),
    about: Mapping[str, Any] | None = None,
) -> LogisticModel:
    """Train on ``examples``; the same examples and params give the same model."""
    counts = Counter(f for ex in examples for f in ex.features)
    names = sorted(f for f, n in counts.items() if n >= params.min_count)
    index = {name: i for i, name in enumerate(names)}
    # The bias is one more always-present feature, last in the weight vector.
    bias_at = len(names)
    # Sorted indices: a set's order varies between runs, and so would the float sums.
    rows = [
        ([*sorted(index[f] for f in ex.features if f in index), bias_at], float(ex.positive))
        for ex in examples
    ]
    weights = [0.0] * (len(names) + 1)
    squares = [1e-8] * (len(names) + 1)
    rng = random.Random(params.seed)
    for _ in range(params.epochs):
        rng.shuffle(rows)
        for active, truth in rows:
            error = _sigmoid(sum(weights[i] for i in active)) - truth
            for i in active:
                step = error + params.l2 * weights[i]
                squares[i] += step * step
                weights[i] -= params.rate * step / math.sqrt(squares[i])
    # Rounded here, not only when written, so that the model measured is the model shipped.
    kept = {
        name: round(weights[i], _DECIMALS)
        for name, i in index.items()
        if abs(weights[i]) >= params.prune_below
    }
    return LogisticModel(kept, round(weights[bias_at], _DECIMALS), params.threshold, dict(about or {}))
