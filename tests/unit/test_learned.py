"""The small logistic regression behind the question detector, and the weights shipped with it."""

from __future__ import annotations

from importlib.resources import files

from rapport.domain.detectors.learned import Example, LogisticModel, TrainingParams, fit
from rapport.domain.detectors.questions import MODEL_FILE, question_detector, question_features


def _examples() -> list[Example]:
    # "ask" marks a positive, "tell" a negative; "noise" appears on both sides, "once" only one time.
    rows = [({"ask", "noise"}, True)] * 6 + [({"tell", "noise"}, False)] * 6 + [({"ask", "once"}, True)]
    return [Example(frozenset(features), positive) for features, positive in rows]


def test_given_separable_examples_when_fitted_then_the_model_tells_them_apart():
    # Given posts whose label follows one word / When fitted
    model = fit(_examples())
    # Then that word decides, with confidence
    assert model.decide({"ask", "noise"})
    assert not model.decide({"tell", "noise"})
    assert model.probability({"ask"}) > 0.8 > 0.2 > model.probability({"tell"})


def test_given_a_feature_seen_once_when_fitted_then_it_gets_no_weight():
    model = fit(_examples(), TrainingParams(min_count=2, prune_below=0.0))
    assert "once" not in model.weights
    assert {"ask", "tell", "noise"} <= set(model.weights)


def test_given_the_same_examples_and_params_when_fitted_twice_then_the_models_are_identical():
    # Given a seed / When trained twice / Then byte-identical files: the shipped weights are reproducible
    assert fit(_examples()).to_json() == fit(_examples()).to_json()
    assert fit(_examples(), TrainingParams(seed=1)).to_json() != fit(_examples()).to_json()


def test_given_a_model_when_written_and_read_back_then_it_decides_the_same():
    model = fit(_examples(), about={"trained_by": "test"})
    again = LogisticModel.from_json(model.to_json())
    assert again == model
    assert again.about == {"trained_by": "test"}


def test_given_weights_that_call_everything_a_question_when_detecting_then_rhetorical_posts_stay_out():
    # Given weights that score every post far above the threshold
    eager = question_detector(LogisticModel(weights={}, bias=10.0, threshold=0.5))
    # When detected / Then Rapport's own line holds: rhetorical questions and quotations are not asks
    assert eager("Anyone know a good Postgres host?")
    assert not eager("Why does nobody talk about how bad YAML is?")
    assert not eager("What is a man? ~ Some Author #quote")
    assert not eager("")


def test_the_shipped_model_is_small_and_names_the_command_that_trained_it():
    text = files("rapport.domain.detectors").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    model = LogisticModel.from_json(text)
    assert len(text.encode("utf-8")) < 400 * 1024
    assert model.about["trained_by"] == "rapport detect --train"
    # Its weights are for the features the detector extracts (a renamed feature would silently zero out)
    features = question_features("@mia_writes anyone know a good book on Rust?")
    assert {"p:rules", "p:reply", "w:anyone"} <= features
    assert {"p:rules", "w:anyone"} <= set(model.weights)
